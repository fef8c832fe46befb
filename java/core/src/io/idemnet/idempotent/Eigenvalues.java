package io.idemnet.idempotent;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Eigenvalues of a small general real matrix, for inspecting spectra before and after a
 * {@link MatrixProjection}. Method: balancing by powers of two, reduction to upper Hessenberg form
 * by Householder reflections, then the Francis implicit double-shift QR iteration with deflation on
 * small subdiagonal entries (the classical textbook algorithm; eigenvalues only, no vectors).
 *
 * <p>Intended for n up to about 64. Accuracy is the usual backward-stable one: for a
 * diagonalisable A = S D S^-1 the eigenvalue errors are of order eps ||A|| cond(S); defective or
 * nearly defective eigenvalues are less accurate (a Jordan block of size m perturbs by about
 * eps^(1/m)).
 */
public final class Eigenvalues {
  private static final double EPS = Math.ulp(1.0);
  /** Iterations allowed per eigenvalue before giving up; exceptional shifts come at 10 and 20. */
  private static final int MAX_ITERATIONS_PER_EIGENVALUE = 60;

  private Eigenvalues() {}

  /**
   * The eigenvalues of a matrix as parallel arrays of real and imaginary parts, sorted by real
   * part, then by imaginary part (complex pairs appear as (re, -im), (re, +im)).
   */
  public record Spectrum(double[] real, double[] imaginary) {
    /** The number of eigenvalues. */
    public int size() {
      return real.length;
    }

    /** The largest |imaginary part|. */
    public double maxAbsImaginary() {
      double m = 0;
      for (double v : imaginary) m = Math.max(m, Math.abs(v));
      return m;
    }

    /** How many eigenvalues lie within {@code tol} (in the complex plane) of the real number {@code x}. */
    public int countNear(double x, double tol) {
      int c = 0;
      for (int i = 0; i < real.length; i++) {
        if (Math.hypot(real[i] - x, imaginary[i]) <= tol) c++;
      }
      return c;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < real.length; i++) {
        if (i > 0) b.append(", ");
        b.append(String.format("%.6g", real[i]));
        if (imaginary[i] != 0) b.append(String.format("%+.6gi", imaginary[i]));
      }
      return b.append(']').toString();
    }
  }

  /**
   * The real parts of the eigenvalues of a square matrix, sorted ascending (each complex pair
   * contributes its real part twice).
   *
   * @throws IllegalArgumentException if a is not a non-empty square matrix of finite entries
   * @throws ArithmeticException if the QR iteration fails to converge (not expected for n &lt;= 64)
   */
  public static double[] realParts(double[][] a) {
    return compute(a).real();
  }

  /**
   * All eigenvalues of a square matrix, sorted as described in {@link Spectrum}. The matrix is not
   * modified.
   *
   * @throws IllegalArgumentException if a is not a non-empty square matrix of finite entries
   * @throws ArithmeticException if the QR iteration fails to converge (not expected for n &lt;= 64)
   */
  public static Spectrum compute(double[][] a) {
    int n = Matrices.checkSquare("Eigenvalues.compute", a);
    if (!Matrices.isFinite(a)) throw new IllegalArgumentException("Eigenvalues.compute: matrix has non-finite entries");
    double[][] h = Matrices.copy(a);
    balance(h);
    toHessenberg(h);
    double[] wr = new double[n];
    double[] wi = new double[n];
    hessenbergQr(h, wr, wi);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> wr[i]).thenComparingDouble(i -> wi[i]));
    double[] re = new double[n];
    double[] im = new double[n];
    for (int i = 0; i < n; i++) {
      re[i] = wr[order[i]];
      im[i] = wi[order[i]];
    }
    return new Spectrum(re, im);
  }

  /**
   * Diagonal similarity by powers of two (exact in floating point) so that each row and the
   * matching column have comparable norms.
   */
  static void balance(double[][] a) {
    int n = a.length;
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int i = 0; i < n; i++) {
        double c = 0, r = 0;
        for (int j = 0; j < n; j++) {
          if (j == i) continue;
          c += Math.abs(a[j][i]);
          r += Math.abs(a[i][j]);
        }
        if (c == 0 || r == 0) continue;
        double sum = c + r;
        // Find f = 2^k with c f roughly equal to r / f, i.e. c f^2 within a factor 2 of r.
        double f = 1;
        double cf2 = c;
        while (cf2 < r / 2) {
          f *= 2;
          cf2 *= 4;
        }
        while (cf2 > 2 * r) {
          f /= 2;
          cf2 /= 4;
        }
        if (c * f + r / f < 0.95 * sum) {
          changed = true;
          // Column i times f, row i divided by f: D^-1 A D with D = diag(.., f, ..).
          for (int j = 0; j < n; j++) a[i][j] /= f;
          for (int j = 0; j < n; j++) a[j][i] *= f;
        }
      }
    }
  }

  /** In-place reduction to upper Hessenberg form by Householder similarity transforms. */
  static void toHessenberg(double[][] a) {
    int n = a.length;
    double[] v = new double[n];
    for (int k = 0; k < n - 2; k++) {
      // Reflector mapping a[k+1..n-1][k] onto a multiple of e_1.
      double scale = 0;
      for (int i = k + 1; i < n; i++) scale = Math.max(scale, Math.abs(a[i][k]));
      if (scale == 0) continue;
      double norm2 = 0;
      for (int i = k + 1; i < n; i++) {
        v[i] = a[i][k] / scale;
        norm2 += v[i] * v[i];
      }
      double alpha = (v[k + 1] >= 0 ? -1 : 1) * Math.sqrt(norm2);
      v[k + 1] -= alpha;
      double vtv = 0;
      for (int i = k + 1; i < n; i++) vtv += v[i] * v[i];
      if (vtv == 0) continue;
      double beta = 2 / vtv;
      // Left: A <- (I - beta v v^T) A, on rows k+1.. (columns k.. are the only non-zero ones affected).
      for (int j = k; j < n; j++) {
        double s = 0;
        for (int i = k + 1; i < n; i++) s += v[i] * a[i][j];
        s *= beta;
        for (int i = k + 1; i < n; i++) a[i][j] -= s * v[i];
      }
      // Right: A <- A (I - beta v v^T), on columns k+1.. of every row.
      for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = k + 1; j < n; j++) s += a[i][j] * v[j];
        s *= beta;
        for (int j = k + 1; j < n; j++) a[i][j] -= s * v[j];
      }
      a[k + 1][k] = alpha * scale;
      for (int i = k + 2; i < n; i++) a[i][k] = 0;
    }
  }

  /**
   * Eigenvalues of an upper Hessenberg matrix (destroyed) by the Francis double-shift QR iteration.
   * The active window is rows/columns lo..hi; eigenvalues are deflated from the bottom.
   */
  static void hessenbergQr(double[][] h, double[] wr, double[] wi) {
    int n = h.length;
    double norm = 0;
    for (int i = 0; i < n; i++) {
      for (int j = Math.max(i - 1, 0); j < n; j++) norm += Math.abs(h[i][j]);
    }
    int hi = n - 1;
    int its = 0;
    double shiftSum = 0; // exceptional shifts applied to the diagonal so far
    while (hi >= 0) {
      // Find lo: the start of the unreduced block that ends at hi.
      int lo = hi;
      while (lo > 0) {
        double s = Math.abs(h[lo - 1][lo - 1]) + Math.abs(h[lo][lo]);
        if (s == 0) s = norm;
        if (Math.abs(h[lo][lo - 1]) <= EPS * s) {
          h[lo][lo - 1] = 0;
          break;
        }
        lo--;
      }
      double x = h[hi][hi];
      if (lo == hi) { // a 1x1 block
        wr[hi] = x + shiftSum;
        wi[hi] = 0;
        hi--;
        its = 0;
        continue;
      }
      double y = h[hi - 1][hi - 1];
      double w = h[hi][hi - 1] * h[hi - 1][hi];
      if (lo == hi - 1) { // a 2x2 block: solve its characteristic polynomial
        double p = 0.5 * (y - x);
        double q = p * p + w;
        double z = Math.sqrt(Math.abs(q));
        x += shiftSum;
        if (q >= 0) {
          z = p + Math.copySign(z, p); // no cancellation
          wr[hi - 1] = x + z;
          wr[hi] = z != 0 ? x - w / z : x + z;
          wi[hi - 1] = 0;
          wi[hi] = 0;
        } else {
          wr[hi - 1] = x + p;
          wr[hi] = x + p;
          wi[hi - 1] = -z;
          wi[hi] = z;
        }
        hi -= 2;
        its = 0;
        continue;
      }
      if (its == MAX_ITERATIONS_PER_EIGENVALUE) {
        throw new ArithmeticException("Eigenvalues: QR iteration did not converge for eigenvalue " + hi);
      }
      if (its == 10 || its == 20) { // exceptional shift, to break cycles
        shiftSum += x;
        for (int i = 0; i <= hi; i++) h[i][i] -= x;
        double s = Math.abs(h[hi][hi - 1]) + Math.abs(h[hi - 1][hi - 2]);
        x = 0.75 * s;
        y = x;
        w = -0.4375 * s * s;
      }
      its++;
      // Double shift by the eigenvalues of the trailing 2x2 block (sum x + y, product x y - w).
      // Look for two consecutive small subdiagonal entries so the bulge can start at m > lo.
      int m;
      double p, q, r;
      for (m = hi - 2; ; m--) {
        double z = h[m][m];
        double rr = x - z;
        double ss = y - z;
        p = (rr * ss - w) / h[m + 1][m] + h[m][m + 1];
        q = h[m + 1][m + 1] - z - rr - ss;
        r = h[m + 2][m + 1];
        double s = Math.abs(p) + Math.abs(q) + Math.abs(r);
        p /= s;
        q /= s;
        r /= s;
        if (m == lo) break;
        double u = Math.abs(h[m][m - 1]) * (Math.abs(q) + Math.abs(r));
        double v = Math.abs(p) * (Math.abs(h[m - 1][m - 1]) + Math.abs(z) + Math.abs(h[m + 1][m + 1]));
        if (u <= EPS * v) break;
      }
      for (int i = m + 2; i <= hi; i++) {
        h[i][i - 2] = 0;
        if (i != m + 2) h[i][i - 3] = 0;
      }
      // Chase the bulge with 3x3 (last one 2x2) Householder reflections.
      for (int k = m; k <= hi - 1; k++) {
        boolean notLast = k != hi - 1;
        double scale = 1;
        if (k != m) {
          p = h[k][k - 1];
          q = h[k + 1][k - 1];
          r = notLast ? h[k + 2][k - 1] : 0;
          scale = Math.abs(p) + Math.abs(q) + Math.abs(r);
          if (scale == 0) continue;
          p /= scale;
          q /= scale;
          r /= scale;
        }
        double s = Math.copySign(Math.sqrt(p * p + q * q + r * r), p);
        if (s == 0) continue;
        if (k == m) {
          if (lo != m) h[k][k - 1] = -h[k][k - 1];
        } else {
          h[k][k - 1] = -s * scale;
        }
        p += s;
        double vx = p / s;
        double vy = q / s;
        double vz = r / s;
        q /= p;
        r /= p;
        for (int j = k; j <= hi; j++) { // rows k, k+1, k+2
          double t = h[k][j] + q * h[k + 1][j];
          if (notLast) {
            t += r * h[k + 2][j];
            h[k + 2][j] -= t * vz;
          }
          h[k + 1][j] -= t * vy;
          h[k][j] -= t * vx;
        }
        int iMax = Math.min(hi, k + 3);
        for (int i = lo; i <= iMax; i++) { // columns k, k+1, k+2
          double t = vx * h[i][k] + vy * h[i][k + 1];
          if (notLast) {
            t += vz * h[i][k + 2];
            h[i][k + 2] -= t * r;
          }
          h[i][k + 1] -= t * q;
          h[i][k] -= t;
        }
      }
    }
  }
}
