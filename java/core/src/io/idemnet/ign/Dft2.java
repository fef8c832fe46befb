package io.idemnet.ign;

/**
 * The plain two-dimensional discrete Fourier transform of an H x W plane, in double precision,
 * computed separably as two matrix products with precomputed cosine and sine tables (O(HW(H+W))
 * per plane; no power-of-two restriction, so 28 x 28 and 64 x 64 are fine). Conventions are
 * those of {@code numpy.fft.fft2} / {@code torch.fft.fft2} ("backward" normalisation):
 *
 * <pre>
 *   forward  X[k, l] = sum_{m, n} x[m, n] exp(-2 pi i (k m / H + l n / W))
 *   inverse  x[m, n] = 1/(H W) sum_{k, l} X[k, l] exp(+2 pi i (k m / H + l n / W))
 * </pre>
 *
 * Planes are row-major arrays of H*W values (index m*W + n, frequency index k*W + l); real and
 * imaginary parts live in separate arrays. The angle tables use (k m mod H), so every entry is
 * accurate to double rounding whatever the size. The forward transform of a real plane computes
 * the rows k &lt;= H/2 and fills the others by Hermitian symmetry, X[-k, -l] = conj(X[k, l]).
 * Instances are immutable and thread-safe.
 */
public final class Dft2 {
  private final int h;
  private final int w;
  private final double[] cosH;
  private final double[] sinH;
  private final double[] cosW;
  private final double[] sinW;

  /** A transform for images of {@code height} x {@code width}. */
  public Dft2(int height, int width) {
    if (height <= 0 || width <= 0) throw new IllegalArgumentException("Dft2: sizes must be positive, got " + height + " x " + width);
    if ((long) height * width > 1 << 24) throw new IllegalArgumentException("Dft2: plane " + height + " x " + width + " is too large for a plain DFT");
    this.h = height;
    this.w = width;
    this.cosH = table(height, true);
    this.sinH = table(height, false);
    this.cosW = table(width, true);
    this.sinW = table(width, false);
  }

  /** The image height. */
  public int height() {
    return h;
  }

  /** The image width. */
  public int width() {
    return w;
  }

  /** t[k*n + m] = cos or sin of 2 pi (k m mod n) / n. */
  private static double[] table(int n, boolean cos) {
    double[] t = new double[n * n];
    for (int k = 0; k < n; k++) {
      for (int m = 0; m < n; m++) {
        double a = 2 * Math.PI * (((long) k * m) % n) / n;
        t[k * n + m] = cos ? Math.cos(a) : Math.sin(a);
      }
    }
    return t;
  }

  /** Forward DFT of a real plane x into (re, im). */
  public void forward(double[] x, double[] re, double[] im) {
    transform(x, null, -1, false, re, im);
  }

  /** Forward DFT of a complex plane (xr, xi) into (re, im); xi may be null for a real plane. */
  public void forward(double[] xr, double[] xi, double[] re, double[] im) {
    transform(xr, xi, -1, false, re, im);
  }

  /** Inverse DFT (with the 1/(HW) factor) of (re, im) into (outRe, outIm). */
  public void inverse(double[] re, double[] im, double[] outRe, double[] outIm) {
    transform(re, im, +1, true, outRe, outIm);
  }

  /** The real part of the inverse DFT of (re, im): what IGN's {@code ifft2(...).real} gives. */
  public void inverseReal(double[] re, double[] im, double[] out) {
    transform(re, im, +1, true, out, null);
  }

  /**
   * out = T_H in T_W with T_n[k][m] = exp(sign 2 pi i k m / n), scaled by 1/(HW) when
   * {@code scale}. Rows first (A = in T_W), then columns (out = T_H A). With outIm null only the
   * real part of the result is formed.
   */
  private void transform(double[] inRe, double[] inIm, int sign, boolean scale, double[] outRe, double[] outIm) {
    int n = h * w;
    check(inRe, "input real part", n);
    if (inIm != null) check(inIm, "input imaginary part", n);
    check(outRe, "output real part", n);
    if (outIm != null) check(outIm, "output imaginary part", n);
    // A[m][l] = sum_n in[m][n] (cos + sign i sin)(2 pi l n / W)   (T_W is symmetric)
    double[] aRe = new double[n];
    double[] aIm = new double[n];
    for (int m = 0; m < h; m++) {
      int row = m * w;
      for (int q = 0; q < w; q++) {
        double xr = inRe[row + q];
        double xi = inIm == null ? 0 : inIm[row + q];
        if (xr == 0 && xi == 0) continue;
        int t = q * w;
        if (xi == 0) {
          double xs = sign * xr;
          for (int l = 0; l < w; l++) {
            aRe[row + l] += xr * cosW[t + l];
            aIm[row + l] += xs * sinW[t + l];
          }
          continue;
        }
        for (int l = 0; l < w; l++) {
          double c = cosW[t + l];
          double s = sign * sinW[t + l];
          aRe[row + l] += xr * c - xi * s;
          aIm[row + l] += xr * s + xi * c;
        }
      }
    }
    // out[k][l] = sum_m (cos + sign i sin)(2 pi k m / H) A[m][l]. For a real input the result is
    // Hermitian, out[-k][-l] = conj(out[k][l]): rows k <= H/2 are computed, the others mirrored.
    boolean hermitian = inIm == null && outIm != null;
    int rows = hermitian ? h / 2 + 1 : h;
    double f = scale ? 1.0 / n : 1.0;
    for (int k = 0; k < rows; k++) {
      int row = k * w;
      double[] accRe = new double[w];
      double[] accIm = outIm == null ? null : new double[w];
      for (int m = 0; m < h; m++) {
        double c = cosH[k * h + m];
        double s = sign * sinH[k * h + m];
        int src = m * w;
        if (accIm == null) {
          for (int l = 0; l < w; l++) accRe[l] += c * aRe[src + l] - s * aIm[src + l];
        } else {
          for (int l = 0; l < w; l++) {
            double ar = aRe[src + l];
            double ai = aIm[src + l];
            accRe[l] += c * ar - s * ai;
            accIm[l] += c * ai + s * ar;
          }
        }
      }
      for (int l = 0; l < w; l++) {
        outRe[row + l] = accRe[l] * f;
        if (outIm != null) outIm[row + l] = accIm[l] * f;
      }
    }
    for (int k = rows; k < h; k++) {
      int row = k * w, mirror = (h - k) * w;
      for (int l = 0; l < w; l++) {
        int ml = (w - l) % w;
        outRe[row + l] = outRe[mirror + ml];
        outIm[row + l] = -outIm[mirror + ml];
      }
    }
  }

  private static void check(double[] a, String what, int n) {
    if (a == null) throw new NullPointerException("Dft2: " + what + " is null");
    if (a.length != n) throw new IllegalArgumentException("Dft2: " + what + " has " + a.length + " values, the plane " + n);
  }
}
