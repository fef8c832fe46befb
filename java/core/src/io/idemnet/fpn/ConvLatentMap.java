package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * R(u, q) = ReLU(conv3x3(u; W) + q) on feature maps u, q [N, C, H, W] (stride 1, padding 1, no
 * bias: q carries it). T is a gamma-contraction in u when the convolution operator's norm is at
 * most gamma; {@link #enforceContraction} estimates that norm by power iteration on A^T A, with A
 * the convolution on one H x W map and A^T its adjoint (the transposed convolution with the same
 * weights), warm-started across calls.
 */
public final class ConvLatentMap implements Latent {
  private static final ConvSpec SAME = ConvSpec.of(1, 1);
  private final Backend backend;
  private final Parameter weight;
  private final float gamma;
  private final int channels, height, width;
  private final Tensor v, av, normSquared;

  /** A 3x3 convolutional latent map on {@code channels} x {@code height} x {@code width} latents, kept a {@code gamma}-contraction, weights from {@code seed}. */
  public ConvLatentMap(Backend backend, int channels, int height, int width, float gamma, long seed) {
    if (!(gamma > 0 && gamma < 1)) throw new IllegalArgumentException("contraction factor gamma must be in (0, 1), got " + gamma);
    this.backend = backend;
    this.gamma = gamma;
    this.channels = channels;
    this.height = height;
    this.width = width;
    float bound = (float) (1.0 / Math.sqrt(channels * 9.0));
    this.weight = Parameter.uniform(backend, bound, seed, channels, channels, 3, 3);
    this.v = backend.zeros(1, channels, height, width);
    this.av = backend.zeros(1, channels, height, width);
    this.normSquared = backend.zeros(1);
    backend.randomNormal(v, seed + 1, 0f, 1f);
    enforceContraction(30);
  }

  @Override
  public Var apply(Graph graph, Var u, Var q) {
    Var pre = graph.add(graph.conv2d(u, graph.param(weight), null, SAME), q);
    return graph.activation(Activation.RELU, pre);
  }

  @Override
  public Linearization linearize(Graph graph, Tensor u, Tensor q) {
    Tensor w = weight.value();
    // The adjoint of the stride-1 'same' convolution is the transposed convolution with the same weights.
    return Latent.ofActivatedLinear(graph, u, q, Activation.RELU, (x, out) -> backend.conv2d(x, w, null, SAME, out),
        (x, out) -> backend.convTranspose2d(x, w, null, SAME, out));
  }

  @Override
  public float gamma() {
    return gamma;
  }

  @Override
  public Parameter weight() {
    return weight;
  }

  /** Power iteration on the device; one declared read (a squared norm) per step plus one for the start. */
  @Override
  public double enforceContraction(int iterations) {
    double sigma = 0;
    double norm = Math.sqrt(squaredNorm(v));
    for (int it = 0; it < iterations; it++) {
      if (norm == 0) return 0;
      backend.scale(v, (float) (1 / norm), v);
      backend.conv2d(v, weight.value(), null, SAME, av); // A v
      backend.convTranspose2d(av, weight.value(), null, SAME, v); // A^T A v
      norm = Math.sqrt(squaredNorm(v)); // ||A^T A v|| -> sigma^2
      sigma = Math.sqrt(norm);
    }
    if (sigma > gamma) backend.scale(weight.value(), (float) (gamma / sigma), weight.value());
    return sigma;
  }

  private double squaredNorm(Tensor t) {
    backend.sumOfSquares(t, 1.0, normSquared);
    return backend.readScalar(normSquared);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("weight", weight);
    return m;
  }

  @Override
  public void close() {
    weight.close();
    v.close();
    av.close();
    normSquared.close();
  }

  /** The latent shape for a batch: [batch, channels, height, width]. */
  public int[] latentShape(int batch) {
    return new int[] {batch, channels, height, width};
  }
}
