package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;

/**
 * PyTorch's {@code nn.Conv2d} (dilation 1, groups 1, zero padding) on NCHW input: weight
 * [out, in, kh, kw], bias [out]. PyTorch's default initialisation: weight and bias ~
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in * kh * kw (kaiming_uniform with a = sqrt(5)).
 */
public final class Conv2d extends ConvLayer {
  /** A square kernel with the same stride and padding in both dimensions. */
  public Conv2d(Backend backend, int in, int out, int kernel, int stride, int padding, boolean withBias, long seed) {
    this(backend, in, out, kernel, kernel, ConvSpec.of(stride, padding), withBias, seed);
  }

  /** Weights drawn from the counter-based generator: seed for the weight, seed + 1 for the bias. */
  public Conv2d(Backend backend, int in, int out, int kernelH, int kernelW, ConvSpec spec, boolean withBias,
      long seed) {
    super("Conv2d", backend, in, out, kernelH, kernelW, spec, false, withBias, seed);
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.conv2d(x, graph.param(weight()), biasOn(graph), spec());
  }

  @Override
  public String toString() {
    return describe("Conv2d", "");
  }
}
