package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code nn.Conv2d} (dilation 1, groups 1, zero padding) on NCHW input: weight
 * [out, in, kh, kw], bias [out]. PyTorch's default initialisation: weight and bias ~
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in * kh * kw (kaiming_uniform with a = sqrt(5)).
 */
public final class Conv2d implements Module {
  private final int in, out, kh, kw;
  private final ConvSpec spec;
  private final Parameter weight;
  private final Parameter bias;

  /** A square kernel with the same stride and padding in both dimensions. */
  public Conv2d(Backend backend, int in, int out, int kernel, int stride, int padding, boolean withBias, long seed) {
    this(backend, in, out, kernel, kernel, ConvSpec.of(stride, padding), withBias, seed);
  }

  /** Weights drawn from the counter-based generator: seed for the weight, seed + 1 for the bias. */
  public Conv2d(Backend backend, int in, int out, int kernelH, int kernelW, ConvSpec spec, boolean withBias,
      long seed) {
    if (in <= 0 || out <= 0 || kernelH <= 0 || kernelW <= 0) {
      throw new IllegalArgumentException("Conv2d: channels and kernel must be positive, got " + in + " -> " + out
          + ", kernel " + kernelH + "x" + kernelW);
    }
    this.in = in;
    this.out = out;
    this.kh = kernelH;
    this.kw = kernelW;
    this.spec = java.util.Objects.requireNonNull(spec, "Conv2d: null ConvSpec");
    float bound = (float) (1.0 / Math.sqrt((double) in * kernelH * kernelW));
    this.weight = Parameter.uniform(backend, bound, seed, out, in, kernelH, kernelW);
    this.bias = withBias ? Parameter.uniform(backend, bound, seed + 1, out) : null;
  }

  /** Input channels. */
  public int inChannels() {
    return in;
  }

  /** Output channels. */
  public int outChannels() {
    return out;
  }

  /** Kernel height. */
  public int kernelH() {
    return kh;
  }

  /** Kernel width. */
  public int kernelW() {
    return kw;
  }

  /** Stride and padding. */
  public ConvSpec spec() {
    return spec;
  }

  /** The weight, [out, in, kh, kw] as in PyTorch. */
  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.conv2d(x, graph.param(weight), bias == null ? null : graph.param(bias), spec);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("weight", weight);
    if (bias != null) m.put("bias", bias);
    return m;
  }

  @Override
  public String toString() {
    return "Conv2d(" + in + ", " + out + ", kernel_size=(" + kh + ", " + kw + "), stride=(" + spec.strideH() + ", "
        + spec.strideW() + "), padding=(" + spec.padH() + ", " + spec.padW() + ")" + (bias == null ? ", bias=False" : "")
        + ")";
  }
}
