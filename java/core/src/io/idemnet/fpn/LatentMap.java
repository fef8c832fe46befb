package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * R(u, q) = act(u W^T + q): the latent map of a fixed point network, with W [n, n] and a
 * 1-Lipschitz activation. T(u) = R(u, q) is a gamma-contraction in u whenever ||W||_2 &lt;= gamma;
 * {@link #enforceContraction} keeps it so by rescaling W after each optimizer step, with
 * ||W||_2 estimated by power iteration (warm-started across calls).
 */
public final class LatentMap implements Latent {
  private final Parameter weight;
  private final Activation activation;
  private final float gamma;
  private float[] powerVector;

  /** A dense latent map on vectors of {@code size}, kept a {@code gamma}-contraction, weights from {@code seed}. */
  public LatentMap(Backend backend, int size, Activation activation, float gamma, long seed) {
    if (!(gamma > 0 && gamma < 1)) throw new IllegalArgumentException("contraction factor gamma must be in (0, 1), got " + gamma);
    if (activation.kind() == Activation.Kind.SIGMOID) {
      // Sigmoid is 1/4-Lipschitz, which is fine, but it is not what the FPN paper uses; keep the set explicit.
      throw new IllegalArgumentException("use ReLU, LeakyReLU (slope <= 1), Tanh or identity for the latent map");
    }
    if (activation.kind() == Activation.Kind.LEAKY_RELU && Math.abs(activation.slope()) > 1) {
      throw new IllegalArgumentException("LeakyReLU with |slope| > 1 is not 1-Lipschitz");
    }
    this.activation = activation;
    this.gamma = gamma;
    float bound = (float) (1.0 / Math.sqrt(size));
    this.weight = Parameter.uniform(backend, bound, seed, size, size);
    this.powerVector = new float[size];
    Random rnd = new Random(seed);
    for (int i = 0; i < size; i++) powerVector[i] = (float) rnd.nextGaussian();
    enforceContraction(30);
  }

  /** The latent size. */
  public int size() {
    return weight.value().dim(0);
  }

  @Override
  public float gamma() {
    return gamma;
  }

  @Override
  public Parameter weight() {
    return weight;
  }

  @Override
  public Var apply(Graph graph, Var u, Var q) {
    Var pre = graph.add(graph.linear(u, graph.param(weight), null), q);
    return graph.activation(activation, pre);
  }

  @Override
  public Linearization linearize(Graph graph, Tensor u, Tensor q) {
    Backend be = graph.backend();
    Tensor w = weight.value();
    return Latent.ofActivatedLinear(graph, u, q, activation, (x, out) -> be.gemm(false, true, 1f, x, w, 0f, out), // x W^T
        (x, out) -> be.gemm(false, false, 1f, x, w, 0f, out)); // x W
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("weight", weight);
    return m;
  }

  /**
   * Estimates ||W||_2 with {@code iterations} power-iteration steps on W^T W and, if it exceeds
   * gamma, scales W down to gamma. Returns the estimate before scaling. The estimate can only be
   * low (a Rayleigh quotient), so the scaled norm is a target, not a proof: the solver's residual
   * check is what reports a T that failed to contract.
   */
  @Override
  public double enforceContraction(int iterations) {
    int n = size();
    float[] w = weight.value().toArray();
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = powerVector[i];
    double sigma = 0;
    for (int it = 0; it < iterations; it++) {
      normalize(v);
      double[] wv = new double[n];
      for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) s += w[i * n + j] * v[j];
        wv[i] = s;
      }
      double[] wtwv = new double[n];
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += w[i * n + j] * wv[i];
        wtwv[j] = s;
      }
      double norm = Math.sqrt(dot(wtwv, wtwv));
      sigma = Math.sqrt(norm);
      v = wtwv;
      if (norm == 0) break;
    }
    normalize(v);
    for (int i = 0; i < n; i++) powerVector[i] = (float) v[i];
    if (sigma > gamma) {
      float s = (float) (gamma / sigma);
      for (int i = 0; i < w.length; i++) w[i] *= s;
      weight.value().copyFrom(w);
    }
    return sigma;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  private static void normalize(double[] v) {
    double n = Math.sqrt(dot(v, v));
    if (n > 0) for (int i = 0; i < v.length; i++) v[i] /= n;
  }
}
