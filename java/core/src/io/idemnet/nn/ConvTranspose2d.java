package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code nn.ConvTranspose2d} (dilation 1, groups 1) on NCHW input: weight
 * [in, out, kh, kw], bias [out]; output size (H - 1) stride - 2 padding + kernel + outputPadding.
 * PyTorch's default initialisation: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) where
 * fan_in is computed from the weight tensor as PyTorch does, weight.size(1) * kh * kw = out * kh * kw.
 */
public final class ConvTranspose2d implements Module {
  private final int in, out, kh, kw, outPadH, outPadW;
  private final ConvSpec spec;
  private final Parameter weight;
  private final Parameter bias;

  /** A square kernel with the same stride, padding and output padding in both dimensions. */
  public ConvTranspose2d(Backend backend, int in, int out, int kernel, int stride, int padding, int outputPadding,
      boolean withBias, long seed) {
    this(backend, in, out, kernel, kernel, ConvSpec.of(stride, padding), outputPadding, outputPadding, withBias, seed);
  }

  /** Weights drawn from the counter-based generator: seed for the weight, seed + 1 for the bias. */
  public ConvTranspose2d(Backend backend, int in, int out, int kernelH, int kernelW, ConvSpec spec,
      int outputPaddingH, int outputPaddingW, boolean withBias, long seed) {
    if (in <= 0 || out <= 0 || kernelH <= 0 || kernelW <= 0) {
      throw new IllegalArgumentException("ConvTranspose2d: channels and kernel must be positive, got " + in + " -> "
          + out + ", kernel " + kernelH + "x" + kernelW);
    }
    java.util.Objects.requireNonNull(spec, "ConvTranspose2d: null ConvSpec");
    if (outputPaddingH < 0 || outputPaddingH >= spec.strideH() || outputPaddingW < 0
        || outputPaddingW >= spec.strideW()) {
      throw new IllegalArgumentException("ConvTranspose2d: output padding must be in [0, stride), got "
          + outputPaddingH + "x" + outputPaddingW + " with " + spec);
    }
    this.in = in;
    this.out = out;
    this.kh = kernelH;
    this.kw = kernelW;
    this.spec = spec;
    this.outPadH = outputPaddingH;
    this.outPadW = outputPaddingW;
    float bound = (float) (1.0 / Math.sqrt((double) out * kernelH * kernelW));
    this.weight = Parameter.uniform(backend, bound, seed, in, out, kernelH, kernelW);
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

  /** Output padding in height. */
  public int outputPaddingH() {
    return outPadH;
  }

  /** Output padding in width. */
  public int outputPaddingW() {
    return outPadW;
  }

  /** Stride and padding. */
  public ConvSpec spec() {
    return spec;
  }

  /** The weight, [in, out, kh, kw] as in PyTorch. */
  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.convTranspose2d(x, graph.param(weight), bias == null ? null : graph.param(bias), spec, outPadH,
        outPadW);
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
    return "ConvTranspose2d(" + in + ", " + out + ", kernel_size=(" + kh + ", " + kw + "), stride=(" + spec.strideH()
        + ", " + spec.strideW() + "), padding=(" + spec.padH() + ", " + spec.padW() + ")"
        + (outPadH != 0 || outPadW != 0 ? ", output_padding=(" + outPadH + ", " + outPadW + ")" : "")
        + (bias == null ? ", bias=False" : "") + ")";
  }
}
