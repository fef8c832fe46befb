package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.nn.Module;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.util.List;

/**
 * One Idempotent Generative Network training step (Shocher et al.), with the idempotence and
 * tightness terms either as in IGN's original or with Modified Backpropagation (Jensen &
 * Vicary, Section 3.4); the exact formulas are in docs/ign.md. f' is the same module with its
 * parameters detached (no copy of the weights); "noGrad" evaluations of f are f' too.
 */
public final class IgnTrainer implements AutoCloseable {
  public enum Mode {
    /** IGN's losses and their ordinary gradients (tightness through the outer application only). */
    ORIGINAL,
    /**
     * MB: idem gradient -(3 f'(y) - 2 f'(f'(y)) - y)/N at y = f(z); tight +(3 f'(w) - 2 f'(f'(w)) - w)/N at
     * w = f(f'(z)). N is the element count (batch x pixels), the normalisation of IGN's mean-L1 terms, so
     * the paper's lambdas keep their balance against the reconstruction term (see docs/ign.md).
     */
    MODIFIED
  }

  /** Loss weights: reconstruction, idempotence, tightness. */
  public record Lambdas(float rec, float idem, float tight) {
    /** The paper's MNIST weights: 20, 0.1, 0.1. */
    public static final Lambdas MNIST = new Lambdas(20f, 0.1f, 0.1f);
    /** The paper's CelebA weights: 20, 0.006, 0.02. */
    public static final Lambdas CELEBA = new Lambdas(20f, 0.006f, 0.02f);
  }

  /**
   * Per-term losses of a step as mean absolute differences, the same in both modes:
   * rec = |f(x) - x|, idem = |f'(f(z)) - f(z)|, tight = |f(f'(z)) - f'(z)|.
   */
  public record Losses(double rec, double idem, double tight) {}

  private final Backend backend;
  private final Module f;
  private final Adam optimizer;
  private final Mode mode;
  private final Lambdas lambdas;
  private final Graph graph;
  private final List<Tensor> buffers;
  private final Tensor[] savedBuffers;

  public IgnTrainer(Backend backend, Module f, Adam optimizer, Mode mode, Lambdas lambdas) {
    this.backend = backend;
    this.f = f;
    this.optimizer = optimizer;
    this.mode = mode;
    this.lambdas = lambdas;
    this.graph = new Graph(backend);
    this.buffers = List.copyOf(f.namedBuffers().values());
    this.savedBuffers = new Tensor[buffers.size()];
    for (int i = 0; i < savedBuffers.length; i++) savedBuffers[i] = backend.zeros(buffers.get(i).shape());
  }

  public Graph graph() {
    return graph;
  }

  /**
   * One step on real images x and noise z (same shape); returns the losses before the update.
   * {@code stepIndex} fixes the dropout masks of the step, so equal indices give equal steps.
   */
  public Losses step(Tensor x, Tensor z, long stepIndex) {
    if (!x.sameShape(z)) throw new IllegalArgumentException("IGN step: x " + x + " and z " + z + " must have the same shape");
    f.train(true);
    f.setRandomCounter(stepIndex << 4); // each step's (at most 8) applications of f get their own masks
    graph.reset();
    optimizer.zeroGrad();
    float numel = x.numel();

    // Reconstruction: lambda_r * mean |f(x) - x|.
    Var fx = f.forward(graph, graph.constant(x));
    float[] gRec = new float[(int) x.numel()];
    double rec = l1AndSign(fx.value().toArray(), x.toArray(), gRec, lambdas.rec() / numel);

    Var y = f.forward(graph, graph.constant(z)); // f_theta(z), recorded
    Tensor c;
    try (Graph.Scope s = graph.noGrad()) {
      c = asCopy(() -> f.forward(graph, graph.constant(z)).value()); // f'(z) (fresh dropout draw; same weights)
    }
    Var w = f.forward(graph, graph.constant(c)); // f_theta(f'(z)): the tightness path through the outer application

    double idem, tight;
    float[] gY, gW;
    List<Var> outs;
    List<float[]> grads;
    if (mode == Mode.MODIFIED) {
      float[] fy = detachedF(y.value()), ffy = detachedF2(fy, y.value());
      float[] fw = detachedF(w.value()), ffw = detachedF2(fw, w.value());
      float[] yv = y.value().toArray(), wv = w.value().toArray(), cv = c.toArray();
      gY = new float[yv.length];
      gW = new float[wv.length];
      idem = 0;
      tight = 0;
      for (int i = 0; i < yv.length; i++) {
        gY[i] = lambdas.idem() * -(3 * fy[i] - 2 * ffy[i] - yv[i]) / numel;
        gW[i] = lambdas.tight() * (3 * fw[i] - 2 * ffw[i] - wv[i]) / numel;
        idem += Math.abs(fy[i] - yv[i]);
        tight += Math.abs(wv[i] - cv[i]);
      }
      idem /= yv.length;
      tight /= wv.length;
      outs = List.of(fx, y, w);
      grads = List.of(gRec, gY, gW);
    } else {
      // idem: mean |f'(f(z)) - f(z)|, gradient through f' (parameters detached) and directly to f(z).
      Var ffz;
      try (Graph.Scope d = graph.detachParameters()) {
        ffz = asCopy(() -> f.forward(graph, y));
      }
      float[] gFfz = new float[(int) y.value().numel()];
      idem = l1AndSign(ffz.value().toArray(), y.value().toArray(), gFfz, lambdas.idem() / numel);
      gY = new float[gFfz.length];
      for (int i = 0; i < gY.length; i++) gY[i] = -gFfz[i];
      // tight: -mean |f(f'(z)) - f'(z)|, through the outer application only (f'(z) is a constant).
      gW = new float[(int) w.value().numel()];
      tight = l1AndSign(w.value().toArray(), c.toArray(), gW, -lambdas.tight() / numel);
      outs = List.of(fx, ffz, y, w);
      grads = List.of(gRec, gFfz, gY, gW);
    }
    Tensor[] seeds = new Tensor[grads.size()];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = graph.workspace().take(outs.get(i).shape());
      seeds[i].copyFrom(grads.get(i));
    }
    graph.backward(outs, List.of(seeds));
    optimizer.step();
    return new Losses(rec, idem, tight);
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
  }
}
