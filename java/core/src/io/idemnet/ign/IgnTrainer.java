package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.nn.BufferSnapshot;
import io.idemnet.nn.Module;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.util.List;

/**
 * One Idempotent Generative Network training step (Shocher et al.), with the idempotence and
 * tightness terms either as in IGN's original or with Modified Backpropagation (Jensen &amp;
 * Vicary, Section 3.4); the exact formulas are in docs/ign.md. f' is the same module with its
 * parameters detached (no copy of the weights); "noGrad" evaluations of f are f' too.
 */
public final class IgnTrainer implements AutoCloseable {
  /** How the idempotence and tightness terms are computed and backpropagated. */
  public enum Mode {
    /** IGN's losses and their ordinary gradients (tightness through the outer application only). */
    ORIGINAL,
    /**
     * MB (Jensen &amp; Vicary, Section 3.4 and Algorithm 1): idem gradient -(3 f'(y) - 2 f'(f'(y)) - y)/N at
     * y = f(z); tight +(3 f'(w) - 2 f'(f'(w)) - w)/N at w = f(f'(z)); N by {@link MbNormalisation}.
     * idem and tight are evaluated (reported) as mean squared errors, as the paper says.
     */
    MODIFIED
  }

  /** The N that divides the MB gradients. */
  public enum MbNormalisation {
    /** N = the batch rows, Algorithm 1's {@code e.shape[0]}: the paper read literally. */
    ROWS,
    /**
     * N = the element count (rows x channels x pixels): the normalisation of a mean over all
     * elements, as IGN's mean-L1 terms and the reconstruction term have (784x weaker than ROWS on
     * 28x28 grey images).
     */
    ELEMENTS;

    /** rows or elements. */
    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** By {@link #cliName()} (any case). */
    public static MbNormalisation parse(String name) {
      for (MbNormalisation n : values()) if (n.cliName().equalsIgnoreCase(name)) return n;
      throw new IllegalArgumentException("unknown MB normalisation '" + name + "' (rows or elements)");
    }

    /** N for a batch of {@code rows} samples of {@code numel} elements in all. */
    public float divisor(int rows, long numel) {
      return this == ROWS ? rows : numel;
    }
  }

  /**
   * Loss weights: reconstruction, idempotence, tightness, and IGN's smooth clamp of the tightness
   * term (0: none): L_tight is replaced by a L_rec tanh(L_tight / (a L_rec)), so tightness never
   * outweighs a times the reconstruction error (Shocher et al. use a = 1.5 with weights 20, 20, 2.5).
   */
  public record Lambdas(float rec, float idem, float tight, float tightClamp) {
    public Lambdas {
      if (!(rec >= 0 && idem >= 0 && tight >= 0 && tightClamp >= 0) || !Float.isFinite(rec + idem + tight + tightClamp)) {
        throw new IllegalArgumentException("IGN weights must be finite and >= 0, got rec " + rec + ", idem " + idem
            + ", tight " + tight + ", tight clamp " + tightClamp);
      }
    }

    /** The weights of reconstruction, idempotence and tightness. */
    public Lambdas(float rec, float idem, float tight) {
      this(rec, idem, tight, 0f);
    }

    /** The paper's MNIST weights: 20, 0.1, 0.1. */
    public static final Lambdas MNIST = new Lambdas(20f, 0.1f, 0.1f);
    /** The paper's CelebA weights: 20, 0.006, 0.02. */
    public static final Lambdas CELEBA = new Lambdas(20f, 0.006f, 0.02f);
    /** IGN's own weights (Shocher et al.): 20, 20, 2.5 with the tightness clamp a = 1.5. */
    public static final Lambdas IGN = new Lambdas(20f, 20f, 2.5f, 1.5f);

    /**
     * The weights on the rec and tight gradients once the clamp is applied at the measured losses:
     * the derivatives of lambda_r L_r - lambda_t a L_r tanh(u), u = L_t / (a L_r), by L_r and by
     * L_t (the tightness term enters the objective with a minus sign, so its weight stays positive):
     * {lambda_r - lambda_t a (tanh u - u sech^2 u), lambda_t sech^2 u}. Without a clamp (or with
     * L_r = 0, where the clamp is 0 whatever L_t) they are {lambda_r, lambda_t}.
     */
    public double[] effectiveRecAndTight(double recLoss, double tightLoss) {
      if (tightClamp == 0f || !(recLoss > 0)) return new double[] {rec, tight};
      double u = tightLoss / (tightClamp * recLoss), t = Math.tanh(u), sech2 = 1 - t * t;
      return new double[] {rec - tight * tightClamp * (t - u * sech2), tight * sech2};
    }
  }

  /**
   * Per-term losses of a step, the same measures in both modes: rec = mean |f(x) - x|; idem =
   * mean |f'(f(z)) - f(z)| and idemMse = mean (f'(f(z)) - f(z))^2; tight = mean |f(f'(z)) - f'(z)|
   * and tightMse = mean (f(f'(z)) - f'(z))^2. The original mode optimises the L1 forms, MB the MSE
   * forms (whose MB gradients replace their analytic ones).
   */
  public record Losses(double rec, double idem, double tight, double idemMse, double tightMse) {}

  private final Backend backend;
  private final Module f;
  private final Adam optimizer;
  private final Mode mode;
  private final Lambdas lambdas;
  private final MbNormalisation mbNorm;
  private final Graph graph;
  private final List<Tensor> buffers;
  private final Tensor[] savedBuffers;
  /** The last step's losses, their sum and the clamp's gradient weights, one-element tensors on the device. */
  private final Tensor recLoss, idemLoss, tightLoss, idemMseLoss, tightMseLoss, lossSum, recWeight, tightWeight;
  /** The running statistics at the start of a step, put back when the step is skipped. */
  private final BufferSnapshot stepStart;
  private boolean lastStepApplied;

  /** MB gradients normalised by the element count ({@link MbNormalisation#ELEMENTS}). */
  public IgnTrainer(Backend backend, Module f, Adam optimizer, Mode mode, Lambdas lambdas) {
    this(backend, f, optimizer, mode, lambdas, MbNormalisation.ELEMENTS);
  }

  /** A trainer of {@code f} with {@code optimizer} and the given MB normalisation; owns the graph it records on. */
  public IgnTrainer(Backend backend, Module f, Adam optimizer, Mode mode, Lambdas lambdas, MbNormalisation mbNorm) {
    this.mbNorm = java.util.Objects.requireNonNull(mbNorm, "MB normalisation");
    this.backend = backend;
    this.f = f;
    this.optimizer = optimizer;
    this.mode = mode;
    this.lambdas = lambdas;
    this.graph = new Graph(backend);
    this.buffers = List.copyOf(f.namedBuffers().values());
    this.savedBuffers = new Tensor[buffers.size()];
    for (int i = 0; i < savedBuffers.length; i++) savedBuffers[i] = backend.zeros(buffers.get(i).shape());
    this.recLoss = backend.zeros(1);
    this.idemLoss = backend.zeros(1);
    this.tightLoss = backend.zeros(1);
    this.idemMseLoss = backend.zeros(1);
    this.tightMseLoss = backend.zeros(1);
    this.lossSum = backend.zeros(1);
    this.recWeight = backend.zeros(1);
    this.tightWeight = backend.zeros(1);
    this.stepStart = new BufferSnapshot(f);
  }

  /** The graph the steps record on. */
  public Graph graph() {
    return graph;
  }

  /**
   * One step on real images x and noise z (same shape); the losses before the update stay on the
   * device ({@link #losses()} reads them). {@code stepIndex} fixes the dropout masks of the step,
   * so equal indices give equal steps. A step whose losses or gradients are NaN or infinite
   * updates nothing (not even the running statistics): it is skipped or refused as the optimizer's
   * {@link io.idemnet.optim.Optimizer#nonFinitePolicy()} says; {@link #lastStepApplied()} tells.
   * Host traffic: the declared writes of the random counter and Adam's scalars, and the one
   * declared read of the finiteness check ({@link io.idemnet.optim.Optimizer#stepIfFinite(Tensor)}).
   */
  public void step(Tensor x, Tensor z, long stepIndex) {
    checkBatch(x, z);
    lastStepApplied = false;
    stepStart.save();
    try {
      writeCounter(stepIndex);
      forwardAndBackward(x, z);
      lastStepApplied = optimizer.stepIfFinite(lossSum); // NaN or infinite if any term is
    } finally {
      if (!lastStepApplied) stepStart.restore();
    }
  }

  /** Whether the last {@link #step} updated the network (false when it was skipped as non-finite). */
  public boolean lastStepApplied() {
    return lastStepApplied;
  }

  /**
   * The host half of an unchecked step: the declared writes of the step's random counter (the
   * dropout masks of step {@code stepIndex}) and of Adam's step scalars. Call it before each
   * replay of a recorded {@link #stepKernels}.
   */
  public void prepare(long stepIndex) {
    writeCounter(stepIndex);
    optimizer.prepareStep();
  }

  private void writeCounter(long stepIndex) {
    if (stepIndex < 0 || stepIndex >= Backend.COUNTER_LIMIT >> 4) {
      throw new IllegalArgumentException("IGN step index must lie in [0, 2^44), got " + stepIndex);
    }
    graph.setRandomCounter(stepIndex << 4); // each step's (at most 8) applications of f get their own masks
  }

  private static void checkBatch(Tensor x, Tensor z) {
    if (!x.sameShape(z)) throw new IllegalArgumentException("IGN step: x " + x + " and z " + z + " must have the same shape");
    if (x.rank() == 0 || x.dim(0) == 0) throw new IllegalArgumentException("IGN step: the batch " + x + " is empty");
  }

  /**
   * The device half of an unchecked step: every kernel of the forward passes, the losses, the
   * gradient seeds, backward and Adam's update, with no data moved between host and device, so it
   * can be {@linkplain Backend#record recorded} once and replayed after each {@link #prepare}. It
   * does not skip non-finite steps (read the losses when logging to notice one).
   */
  public void stepKernels(Tensor x, Tensor z) {
    checkBatch(x, z);
    forwardAndBackward(x, z);
    optimizer.applyStep();
  }

  /** Everything of a step but the update: forward passes, losses, seeds, backward. */
  private void forwardAndBackward(Tensor x, Tensor z) {
    f.train(true);
    f.setRandomCounter(0); // call offsets within the step; the step's counter is on the device
    graph.reset();
    optimizer.zeroGrad();
    float numel = x.numel();
    double mean = 1.0 / x.numel();
    boolean clamped = lambdas.tightClamp() != 0f;
    // Without the clamp the weights are the lambdas and fold into the gradient scales; with it they
    // depend on this step's losses and are computed on the device (tightClampWeights) below.
    float recScale = clamped ? 1f / numel : lambdas.rec() / numel;
    float tightWeight0 = clamped ? 1f : lambdas.tight();

    // Reconstruction: lambda_r * mean |f(x) - x|.
    Var fx = f.forward(graph, graph.constant(x));
    Tensor gRec = graph.workspace().take(x.shape());
    backend.l1Loss(fx.value(), x, recScale, gRec, mean, recLoss);

    Var y = f.forward(graph, graph.constant(z)); // f_theta(z), recorded
    Tensor c;
    try (Graph.Scope s = graph.noGrad()) {
      c = asCopy(() -> f.forward(graph, graph.constant(z)).value()); // f'(z) (fresh dropout draw; same weights)
    }
    Var w = f.forward(graph, graph.constant(c)); // f_theta(f'(z)): the tightness path through the outer application

    List<Var> outs;
    List<Tensor> seeds;
    Tensor gW = graph.workspace().take(w.shape());
    squaredDifference(w.value(), c, mean, tightMseLoss);
    if (mode == Mode.MODIFIED) {
      Tensor fy = detachedF(y.value()), ffy = detachedF(fy);
      Tensor fw = detachedF(w.value()), ffw = detachedF(fw);
      Tensor gY = graph.workspace().take(y.shape());
      float n = mbNorm.divisor(x.dim(0), x.numel());
      // The corrector's loss with a = f'(y), c = y is mean (f'(f(z)) - f(z))^2: idem's MSE form.
      backend.corrector(-lambdas.idem() / n, fy, ffy, y.value(), gY, mean, idemMseLoss);
      backend.corrector(tightWeight0 / n, fw, ffw, w.value(), gW, false); // weighted below when clamped
      backend.l1Loss(fy, y.value(), 0f, null, mean, idemLoss);
      backend.l1Loss(w.value(), c, 0f, null, mean, tightLoss);
      outs = List.of(fx, y, w);
      seeds = List.of(gRec, gY, gW);
    } else {
      // idem: mean |f'(f(z)) - f(z)|, gradient through f' (parameters detached) and directly to f(z).
      Var ffz;
      try (Graph.Scope d = graph.detachParameters()) {
        ffz = asCopy(() -> f.forward(graph, y));
      }
      Tensor gFfz = graph.workspace().take(y.shape()), gY = graph.workspace().take(y.shape());
      backend.l1Loss(ffz.value(), y.value(), lambdas.idem() / numel, gFfz, mean, idemLoss);
      squaredDifference(ffz.value(), y.value(), mean, idemMseLoss);
      backend.scale(gFfz, -1f, gY);
      // tight: -mean |f(f'(z)) - f'(z)|, through the outer application only (f'(z) is a constant).
      backend.l1Loss(w.value(), c, -tightWeight0 / numel, gW, mean, tightLoss); // weighted below when clamped
      outs = List.of(fx, ffz, y, w);
      seeds = List.of(gRec, gFfz, gY, gW);
    }
    if (clamped) {
      backend.tightClampWeights(recLoss, tightLoss, lambdas.rec(), lambdas.tight(), lambdas.tightClamp(), recWeight,
          tightWeight);
      backend.scale(gRec, recWeight, 1f, gRec);
      backend.scale(gW, tightWeight, 1f, gW);
    }
    graph.backward(outs, seeds);
    backend.copy(recLoss, lossSum);
    for (Tensor t : new Tensor[] {idemLoss, tightLoss, idemMseLoss, tightMseLoss}) backend.add(lossSum, t, lossSum);
  }

  /** The last step's losses (five declared reads of one float each). */
  public Losses losses() {
    return new Losses(backend.readScalar(recLoss), backend.readScalar(idemLoss), backend.readScalar(tightLoss),
        backend.readScalar(idemMseLoss), backend.readScalar(tightMseLoss));
  }

  /** out[0] = scale * sum (a - b)^2, through a workspace buffer. */
  private void squaredDifference(Tensor a, Tensor b, double scale, Tensor out) {
    Tensor diff = graph.workspace().take(a.shape());
    backend.sub(a, b, diff);
    backend.sumOfSquares(diff, scale, out);
  }

  /**
   * Runs an application of f' (the copy): its BatchNorm layers normalize with the batch's
   * statistics like f, but the running statistics f keeps (for evaluation) are restored
   * afterwards, as in IGN's code where f' is a separate copy of the model. Without this, the 5
   * applications of f' per MB step on noise-derived inputs dominated the running statistics and
   * evaluation-mode outputs were unrelated to the input (seen in a 14-epoch MNIST run).
   */
  private <T> T asCopy(java.util.function.Supplier<T> application) {
    int i = 0;
    for (Tensor b : buffers) backend.copy(b, savedBuffers[i++]);
    T result = application.get();
    i = 0;
    for (Tensor b : buffers) backend.copy(savedBuffers[i++], b);
    return result;
  }

  /** f'(t): f with no tape (parameters effectively detached), in the graph's workspace. */
  private Tensor detachedF(Tensor t) {
    try (Graph.Scope s = graph.noGrad()) {
      return asCopy(() -> f.forward(graph, graph.constant(t)).value());
    }
  }

  /** Frees the trainer's graph and its copies of the running statistics (not the module). */
  @Override
  public void close() {
    graph.close();
    for (Tensor t : savedBuffers) t.close();
    for (Tensor t : new Tensor[] {recLoss, idemLoss, tightLoss, idemMseLoss, tightMseLoss, lossSum, recWeight,
        tightWeight}) {
      t.close();
    }
    stepStart.close();
  }
}
