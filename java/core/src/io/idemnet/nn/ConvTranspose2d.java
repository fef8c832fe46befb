package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;

/**
 * PyTorch's {@code nn.ConvTranspose2d} (dilation 1, groups 1) on NCHW input: weight
 * [in, out, kh, kw], bias [out]; output size (H - 1) stride - 2 padding + kernel + outputPadding.
 * PyTorch's default initialisation: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) where
 * fan_in is computed from the weight tensor as PyTorch does, weight.size(1) * kh * kw = out * kh * kw.
 */
public final class ConvTranspose2d extends ConvLayer {
  private final int outPadH, outPadW;

  /** A square kernel with the same stride, padding and output padding in both dimensions. */
  public ConvTranspose2d(Backend backend, int in, int out, int kernel, int stride, int padding, int outputPadding,
      boolean withBias, long seed) {
    this(backend, in, out, kernel, kernel, ConvSpec.of(stride, padding), outputPadding, outputPadding, withBias, seed);
  }

  /** Weights drawn from the counter-based generator: seed for the weight, seed + 1 for the bias. */
  public ConvTranspose2d(Backend backend, int in, int out, int kernelH, int kernelW, ConvSpec spec,
      int outputPaddingH, int outputPaddingW, boolean withBias, long seed) {
    super("ConvTranspose2d", backend, in, out, kernelH, kernelW, checkOutputPadding(spec, outputPaddingH, outputPaddingW),
        true, withBias, seed);
    this.outPadH = outputPaddingH;
    this.outPadW = outputPaddingW;
  }

  private static ConvSpec checkOutputPadding(ConvSpec spec, int outputPaddingH, int outputPaddingW) {
    if (spec != null && (outputPaddingH < 0 || outputPaddingH >= spec.strideH() || outputPaddingW < 0
        || outputPaddingW >= spec.strideW())) {
      throw new IllegalArgumentException("ConvTranspose2d: output padding must be in [0, stride), got "
          + outputPaddingH + "x" + outputPaddingW + " with " + spec);
    }
    return spec;
  }

  /** Output padding in height. */
  public int outputPaddingH() {
    return outPadH;
  }

  /** Output padding in width. */
  public int outputPaddingW() {
    return outPadW;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.convTranspose2d(x, graph.param(weight()), biasOn(graph), spec(), outPadH, outPadW);
  }

  @Override
  public String toString() {
    return describe("ConvTranspose2d",
        outPadH != 0 || outPadW != 0 ? ", output_padding=(" + outPadH + ", " + outPadW + ")" : "");
  }
}
