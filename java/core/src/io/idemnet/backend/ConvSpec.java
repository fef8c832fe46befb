package io.idemnet.backend;

/**
 * Stride and symmetric zero padding of a 2-D convolution, per dimension (dilation 1, groups 1,
 * as PyTorch's defaults). For an input of size h and a kernel of size k the convolution's output
 * is {@code (h + 2 padding - k) / stride + 1}; the transposed convolution's output is
 * {@code (h - 1) stride - 2 padding + k + outputPadding} with {@code 0 <= outputPadding < stride}.
 */
public record ConvSpec(int strideH, int strideW, int padH, int padW) {

  public ConvSpec {
    if (strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
      throw new IllegalArgumentException("ConvSpec: need stride >= 1 and padding >= 0, got stride " + strideH + "x"
          + strideW + ", padding " + padH + "x" + padW);
    }
  }

  /** The same stride and padding in both dimensions. */
  public static ConvSpec of(int stride, int padding) {
    return new ConvSpec(stride, stride, padding, padding);
  }

  /** Output height of a convolution over height {@code h} with kernel height {@code kh} (may be &lt; 1 if too small). */
  public int convOutH(int h, int kh) {
    return Math.floorDiv(h + 2 * padH - kh, strideH) + 1;
  }

  /** Output width of a convolution over width {@code w} with kernel width {@code kw}. */
  public int convOutW(int w, int kw) {
    return Math.floorDiv(w + 2 * padW - kw, strideW) + 1;
  }

  /** Output height of a transposed convolution. */
  public int transposedOutH(int h, int kh, int outputPadding) {
    return (h - 1) * strideH - 2 * padH + kh + outputPadding;
  }

  /** Output width of a transposed convolution over width {@code w} with kernel width {@code kw}. */
  public int transposedOutW(int w, int kw, int outputPadding) {
    return (w - 1) * strideW - 2 * padW + kw + outputPadding;
  }

  @Override
  public String toString() {
    return "stride=" + strideH + "x" + strideW + " padding=" + padH + "x" + padW;
  }
}
