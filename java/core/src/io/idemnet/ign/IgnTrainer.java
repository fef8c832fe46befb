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
    this.stepStart = new BufferSnapshot(f);
  }

  /** The graph the steps record on. */
  public Graph graph() {
    return graph;
  }

  /**
   * One step on real images x and noise z (same shape); returns the losses before the update.
   * {@code stepIndex} fixes the dropout masks of the step, so equal indices give equal steps. A
   * step whose losses or gradients are NaN or infinite updates nothing (not even the running
   * statistics): it is skipped or refused as the optimizer's
   * {@link io.idemnet.optim.Optimizer#nonFinitePolicy()} says; {@link #lastStepApplied()} tells.
   */
  public Losses step(Tensor x, Tensor z, long stepIndex) {
    if (!x.sameShape(z)) throw new IllegalArgumentException("IGN step: x " + x + " and z " + z + " must have the same shape");
    if (x.rank() == 0 || x.dim(0) == 0) throw new IllegalArgumentException("IGN step: the batch " + x + " is empty");
    lastStepApplied = false;
    stepStart.save();
    try {
      return guardedStep(x, z, stepIndex);
    } finally {
      if (!lastStepApplied) stepStart.restore();
    }
  }

  /** Whether the last {@link #step} updated the network (false when it was skipped as non-finite). */
  public boolean lastStepApplied() {
    return lastStepApplied;
  }

  private Losses guardedStep(Tensor x, Tensor z, long stepIndex) {
    f.train(true);
    f.setRandomCounter(stepIndex << 4); // each step's (at most 8) applications of f get their own masks
    graph.reset();
    optimizer.zeroGrad();
    float numel = x.numel();

    // Reconstruction: lambda_r * mean |f(x) - x|.
    Var fx = f.forward(graph, graph.constant(x));
    float[] gRec = new float[(int) x.numel()];
    double rec = l1AndSign(fx.value().toArray(), x.toArray(), gRec, 1f / numel); // weighted below

    Var y = f.forward(graph, graph.constant(z)); // f_theta(z), recorded
    Tensor c;
    try (Graph.Scope s = graph.noGrad()) {
      c = asCopy(() -> f.forward(graph, graph.constant(z)).value()); // f'(z) (fresh dropout draw; same weights)
    }
    Var w = f.forward(graph, graph.constant(c)); // f_theta(f'(z)): the tightness path through the outer application

    double idem, tight, idemMse, tightMse;
    float[] gY, gW;
    List<Var> outs;
    List<float[]> grads;
    if (mode == Mode.MODIFIED) {
      float[] fy = detachedF(y.value()), ffy = detachedF2(fy, y.value());
      float[] fw = detachedF(w.value()), ffw = detachedF2(fw, w.value());
      float[] yv = y.value().toArray(), wv = w.value().toArray(), cv = c.toArray();
      gY = new float[yv.length];
      gW = new float[wv.length];
      float n = mbNorm.divisor(x.dim(0), x.numel());
      for (int i = 0; i < yv.length; i++) {
        gY[i] = lambdas.idem() * -(3 * fy[i] - 2 * ffy[i] - yv[i]) / n;
        gW[i] = (3 * fw[i] - 2 * ffw[i] - wv[i]) / n; // weighted below
      }
      idem = meanAbs(fy, yv);
      idemMse = meanSquare(fy, yv);
      tight = meanAbs(wv, cv);
      tightMse = meanSquare(wv, cv);
      outs = List.of(fx, y, w);
      grads = List.of(gRec, gY, gW);
    } else {
      // idem: mean |f'(f(z)) - f(z)|, gradient through f' (parameters detached) and directly to f(z).
      Var ffz;
      try (Graph.Scope d = graph.detachParameters()) {
        ffz = asCopy(() -> f.forward(graph, y));
      }
      float[] gFfz = new float[(int) y.value().numel()];
      float[] ffzv = ffz.value().toArray(), yv = y.value().toArray();
      idem = l1AndSign(ffzv, yv, gFfz, lambdas.idem() / numel);
      idemMse = meanSquare(ffzv, yv);
      gY = new float[gFfz.length];
      for (int i = 0; i < gY.length; i++) gY[i] = -gFfz[i];
      // tight: -mean |f(f'(z)) - f'(z)|, through the outer application only (f'(z) is a constant).
      gW = new float[(int) w.value().numel()];
      float[] wv = w.value().toArray(), cv = c.toArray();
      tight = l1AndSign(wv, cv, gW, -1f / numel); // weighted below
      tightMse = meanSquare(wv, cv);
      outs = List.of(fx, ffz, y, w);
      grads = List.of(gRec, gFfz, gY, gW);
    }
    double[] weights = lambdas.effectiveRecAndTight(rec, tight); // the lambdas, or the clamp's weights
    scale(gRec, weights[0]);
    scale(gW, weights[1]);
    Tensor[] seeds = new Tensor[grads.size()];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = graph.workspace().take(outs.get(i).shape());
      seeds[i].copyFrom(grads.get(i));
    }
    graph.backward(outs, List.of(seeds));
    lastStepApplied = optimizer.stepIfFinite(rec + idem + tight + idemMse + tightMse); // NaN or infinite if any term is
    return new Losses(rec, idem, tight, idemMse, tightMse);
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

  /** f'(t): f with no tape (parameters effectively detached), as a host array. */
  private float[] detachedF(Tensor t) {
    try (Graph.Scope s = graph.noGrad()) {
      return asCopy(() -> f.forward(graph, graph.constant(t)).value().toArray());
    }
  }

  private float[] detachedF2(float[] ft, Tensor like) {
    Tensor tmp = graph.workspace().take(like.shape());
    tmp.copyFrom(ft);
    return detachedF(tmp);
  }

  private static void scale(float[] a, double factor) {
    for (int i = 0; i < a.length; i++) a[i] = (float) (a[i] * factor);
  }

  private static double meanAbs(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) sum += Math.abs((double) a[i] - b[i]);
    return sum / Math.max(1, a.length);
  }

  private static double meanSquare(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      sum += d * d;
    }
    return sum / Math.max(1, a.length);
  }

  /** mean |a - b|, and grad[i] = scale * sign(a_i - b_i). */
  private static double l1AndSign(float[] a, float[] b, float[] grad, float scale) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      float d = a[i] - b[i];
      sum += Math.abs(d);
      grad[i] = d > 0 ? scale : d < 0 ? -scale : 0f;
    }
    return sum / Math.max(1, a.length);
  }

  /** Frees the trainer's graph and its copies of the running statistics (not the module). */
  @Override
  public void close() {
    graph.close();
    for (Tensor t : savedBuffers) t.close();
    stepStart.close();
  }
}
