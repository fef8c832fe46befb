package io.idemnet.nn;

import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;

/**
 * What {@link Conv2d} and {@link ConvTranspose2d} share: channels, kernel size, stride and
 * padding, the weight and bias. The weight's fan-in (PyTorch's, from the weight tensor's second
 * dimension) is {@code in * kh * kw} for a convolution and {@code out * kh * kw} for a transposed one.
 */
abstract class ConvLayer extends WeightedLayer {
  private final int in, out, kh, kw;
  private final ConvSpec spec;

  ConvLayer(String kind, Backend backend, int in, int out, int kernelH, int kernelW, ConvSpec spec, boolean transposed,
      boolean withBias, long seed) {
    super(backend, bound(checkedFanIn(kind, in, out, kernelH, kernelW, spec, transposed)), seed, withBias, out,
        transposed ? new int[] {in, out, kernelH, kernelW} : new int[] {out, in, kernelH, kernelW});
    this.in = in;
    this.out = out;
    this.kh = kernelH;
    this.kw = kernelW;
    this.spec = spec;
  }

  private static long checkedFanIn(String kind, int in, int out, int kernelH, int kernelW, ConvSpec spec,
      boolean transposed) {
    if (in <= 0 || out <= 0 || kernelH <= 0 || kernelW <= 0) {
      throw new IllegalArgumentException(kind + ": channels and kernel must be positive, got " + in + " -> " + out
          + ", kernel " + kernelH + "x" + kernelW);
    }
    java.util.Objects.requireNonNull(spec, kind + ": null ConvSpec");
    return (long) (transposed ? out : in) * kernelH * kernelW;
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

  /** PyTorch's repr: {@code kind(in, out, kernel_size=..., stride=..., padding=...<extra>[, bias=False])}. */
  final String describe(String kind, String extra) {
    return kind + "(" + in + ", " + out + ", kernel_size=(" + kh + ", " + kw + "), stride=(" + spec.strideH() + ", "
        + spec.strideW() + "), padding=(" + spec.padH() + ", " + spec.padW() + ")" + extra
        + (bias() == null ? ", bias=False" : "") + ")";
  }
}
