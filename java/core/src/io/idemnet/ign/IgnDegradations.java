package io.idemnet.ign;

/**
 * The out-of-distribution degradations of Jensen &amp; Vicary, Appendix F ("as in Shocher et al.
 * 2023"), on batches of n C x H x W images in the network's [-1, 1] scale, flat NCHW arrays.
 *
 * <ul>
 *   <li>Noise: n(x) = x + e, e ~ N(0, 0.15) per pixel; we read 0.15 as the standard deviation
 *       (the text writes the distribution as N(mean, .), and uses N(0, 1) for the unit normal,
 *       where the two readings agree). Not clipped.
 *   <li>Greyscale: g(x) averages each pixel across the channels (a plain mean, not luma
 *       weights); the result is repeated in every channel so the network can take it. For one
 *       channel g is the identity.
 *   <li>"Gaussian blur": s(x) = g(x + 1) / (gaussian_blur(g(x + 1), 21) + 1e-10) - 1, literally:
 *       the image divided by its local Gaussian mean, not a blurred image. gaussian_blur(z, 21) is
 *       read as torchvision's {@code gaussian_blur(z, 21)}: a 21 x 21 separable Gaussian whose sigma
 *       defaults to 0.3 ((21 - 1) / 2 - 1) + 0.8 = 3.5, taps at offsets -10 .. 10 normalised to sum
 *       1, reflection padding (mirror without repeating the edge pixel), same output size.
 * </ul>
 */
public final class IgnDegradations {
  private IgnDegradations() {}

  /** The noise's standard deviation (Appendix F's N(0, 0.15)). */
  public static final float NOISE_SD = 0.15f;
  /** The blur's kernel size (Appendix F's gaussian_blur(., 21)). */
  public static final int BLUR_KERNEL = 21;
  /** The guard added to the blurred denominator of s(x). */
  public static final double BLUR_EPS = 1e-10;

  /** The degradations in the order the scorer reports them. */
  public enum Kind {
    /** n(x) = x + e, e ~ N(0, 0.15^2) per pixel. */
    NOISE,
    /** g(x): every channel replaced by the channel mean. */
    GREYSCALE,
    /** s(x): the 21-wide Gaussian blur ratio of Appendix F. */
    BLUR;

    /** The name on the command line and in score files. */
    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Applies one degradation. {@code unitNoise} (same length as x, N(0, 1) values) is used by
   * NOISE only and may be null for the others.
   */
  public static float[] apply(Kind kind, float[] x, float[] unitNoise, int n, int c, int h, int w) {
    return switch (kind) {
      case NOISE -> noise(x, unitNoise);
      case GREYSCALE -> greyscale(x, n, c, h, w);
      case BLUR -> blurRatio(x, n, c, h, w);
    };
  }

  /** x + 0.15 e for unit-normal e. */
  public static float[] noise(float[] x, float[] unitNoise) {
    if (unitNoise == null || unitNoise.length != x.length) {
      throw new IllegalArgumentException("noise: need " + x.length + " unit-normal values, got "
          + (unitNoise == null ? "none" : unitNoise.length));
    }
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) out[i] = x[i] + NOISE_SD * unitNoise[i];
    return out;
  }

  /** g(x): every channel of each pixel set to the mean over the channels. */
  public static float[] greyscale(float[] x, int n, int c, int h, int w) {
    checkShape(x, n, c, h, w);
    int plane = h * w;
    float[] out = new float[x.length];
    for (int i = 0; i < n; i++) {
      int o = i * c * plane;
      for (int p = 0; p < plane; p++) {
        double sum = 0;
        for (int ch = 0; ch < c; ch++) sum += x[o + ch * plane + p];
        float mean = (float) (sum / c);
        for (int ch = 0; ch < c; ch++) out[o + ch * plane + p] = mean;
      }
    }
    return out;
  }

  /** s(x) = g(x + 1) / (gaussian_blur(g(x + 1), 21) + 1e-10) - 1, repeated in every channel. */
  public static float[] blurRatio(float[] x, int n, int c, int h, int w) {
    checkShape(x, n, c, h, w);
    int plane = h * w;
    float[] shifted = new float[x.length];
    for (int i = 0; i < x.length; i++) shifted[i] = x[i] + 1f;
    float[] g = greyscale(shifted, n, c, h, w);
    float[] grey = new float[n * plane]; // one plane per image
    for (int i = 0; i < n; i++) System.arraycopy(g, i * c * plane, grey, i * plane, plane);
    double[] blurred = gaussianBlur(grey, n, h, w, BLUR_KERNEL, torchvisionSigma(BLUR_KERNEL));
    float[] out = new float[x.length];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < plane; p++) {
        float v = (float) (grey[i * plane + p] / (blurred[i * plane + p] + BLUR_EPS) - 1);
        for (int ch = 0; ch < c; ch++) out[(i * c + ch) * plane + p] = v;
      }
    }
    return out;
  }

  /** torchvision's default sigma for a kernel size: 0.3 ((k - 1) / 2 - 1) + 0.8. */
  public static double torchvisionSigma(int kernel) {
    return 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8;
  }

  /** exp(-d^2 / (2 sigma^2)) at d = -(k - 1)/2 .. (k - 1)/2, normalised to sum 1; k odd. */
  public static double[] gaussianKernel(int kernel, double sigma) {
    if (kernel < 1 || kernel % 2 == 0) throw new IllegalArgumentException("Gaussian kernel size must be odd and positive, got " + kernel);
    if (!(sigma > 0) || !Double.isFinite(sigma)) throw new IllegalArgumentException("Gaussian sigma must be positive, got " + sigma);
    int r = kernel / 2;
    double[] k = new double[kernel];
    double sum = 0;
    for (int d = -r; d <= r; d++) sum += k[d + r] = Math.exp(-0.5 * (d / sigma) * (d / sigma));
    for (int i = 0; i < kernel; i++) k[i] /= sum;
    return k;
  }

  /**
   * Separable Gaussian blur of {@code planes} planes of h x w with reflection padding (index -1
   * reads 1, index h reads h - 2), rows then columns, in double. The kernel radius must be
   * smaller than h and w, as PyTorch's reflection padding requires.
   */
  public static double[] gaussianBlur(float[] x, int planes, int h, int w, int kernel, double sigma) {
    double[] k = gaussianKernel(kernel, sigma);
    int r = kernel / 2, plane = h * w;
    if (r >= h || r >= w) {
      throw new IllegalArgumentException("a " + kernel + "-wide blur with reflection padding needs images larger than " + r
          + " pixels a side, got " + h + "x" + w);
    }
    if (x.length != (long) planes * plane) throw new IllegalArgumentException("blur: " + x.length + " values for " + planes + " planes of " + h + "x" + w);
    double[] out = new double[x.length];
    double[] tmp = new double[plane];
    for (int q = 0; q < planes; q++) {
      int o = q * plane;
      for (int m = 0; m < h; m++) {
        for (int n = 0; n < w; n++) {
          double acc = 0;
          for (int d = -r; d <= r; d++) acc += k[d + r] * x[o + m * w + reflect(n + d, w)];
          tmp[m * w + n] = acc;
        }
      }
      for (int m = 0; m < h; m++) {
        for (int n = 0; n < w; n++) {
          double acc = 0;
          for (int d = -r; d <= r; d++) acc += k[d + r] * tmp[reflect(m + d, h) * w + n];
          out[o + m * w + n] = acc;
        }
      }
    }
    return out;
  }

  /** Reflection about the edge pixels, valid for -size &lt; i &lt; 2 size - 1. */
  static int reflect(int i, int size) {
    if (i < 0) return -i;
    if (i >= size) return 2 * size - 2 - i;
    return i;
  }

  private static void checkShape(float[] x, int n, int c, int h, int w) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || x.length != (long) n * c * h * w) {
      throw new IllegalArgumentException("degradation: " + x.length + " values are not " + n + " images of " + c + "x" + h + "x" + w);
    }
  }
}
