package io.idemnet.idempotent;

/**
 * The few dense-matrix operations the idempotent-projection code needs, on plain row-major
 * {@code double[][]} arrays ({@code a[i][j]} is row i, column j). Every operation returns a new
 * array and leaves its arguments untouched. Matrices are expected to be rectangular (all rows the
 * same length) and non-empty; {@link #checkRectangular} enforces that where it is cheap to do so.
 *
 * <p>Meant for small matrices (n up to a few hundred): the product is the textbook triple loop in
 * i-k-j order, with no blocking.
 */
public final class Matrices {
  private Matrices() {}

  /** The n x n identity. */
  public static double[][] identity(int n) {
    if (n <= 0) throw new IllegalArgumentException("identity: size must be positive, got " + n);
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) r[i][i] = 1;
    return r;
  }

  /** A deep copy. */
  public static double[][] copy(double[][] a) {
    checkRectangular("copy", a);
    double[][] r = new double[a.length][];
    for (int i = 0; i < a.length; i++) r[i] = a[i].clone();
    return r;
  }

  /** The product a b; a is m x k, b is k x n. */
  public static double[][] multiply(double[][] a, double[][] b) {
    checkRectangular("multiply", a);
    checkRectangular("multiply", b);
    int m = a.length, k = a[0].length, n = b[0].length;
    if (b.length != k) {
      throw new IllegalArgumentException("multiply: inner sizes differ: " + m + "x" + k + " times " + b.length + "x" + n);
    }
    double[][] r = new double[m][n];
    for (int i = 0; i < m; i++) {
      double[] ri = r[i];
      double[] ai = a[i];
      for (int p = 0; p < k; p++) {
        double aip = ai[p];
        if (aip == 0) continue;
        double[] bp = b[p];
        for (int j = 0; j < n; j++) ri[j] += aip * bp[j];
      }
    }
    return r;
  }

  /** The sum a + b. */
  public static double[][] add(double[][] a, double[][] b) {
    return axpby(1, a, 1, b, "add");
  }

  /** The difference a - b. */
  public static double[][] subtract(double[][] a, double[][] b) {
    return axpby(1, a, -1, b, "subtract");
  }

  /** s a. */
  public static double[][] scale(double s, double[][] a) {
    checkRectangular("scale", a);
    double[][] r = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) r[i][j] = s * a[i][j];
    }
    return r;
  }

  /** The linear combination alpha a + beta b. */
  public static double[][] linearCombination(double alpha, double[][] a, double beta, double[][] b) {
    return axpby(alpha, a, beta, b, "linearCombination");
  }

  /** The transpose. */
  public static double[][] transpose(double[][] a) {
    checkRectangular("transpose", a);
    double[][] r = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) r[j][i] = a[i][j];
    }
    return r;
  }

  /**
   * The Frobenius norm sqrt(sum a_ij^2), scaled against overflow and underflow. Returns NaN if any
   * entry is NaN and +Infinity if any entry is infinite (and none is NaN).
   */
  public static double frobeniusNorm(double[][] a) {
    checkRectangular("frobeniusNorm", a);
    double scale = 0;
    boolean nan = false;
    for (double[] row : a) {
      for (double v : row) {
        if (Double.isNaN(v)) nan = true;
        else scale = Math.max(scale, Math.abs(v));
      }
    }
    if (nan) return Double.NaN;
    if (scale == 0 || Double.isInfinite(scale)) return scale;
    double sum = 0;
    for (double[] row : a) {
      for (double v : row) {
        double t = v / scale;
        sum += t * t;
      }
    }
    return scale * Math.sqrt(sum);
  }

  /** Whether every entry is finite. */
  public static boolean isFinite(double[][] a) {
    for (double[] row : a) {
      for (double v : row) {
        if (!Double.isFinite(v)) return false;
      }
    }
    return true;
  }

  /**
   * The inverse of a square matrix, by Gauss-Jordan elimination with partial pivoting.
   *
   * @throws ArithmeticException if a pivot is exactly zero (the matrix is singular to working
   *     precision); near-singular matrices are inverted without warning
   */
  public static double[][] inverse(double[][] a) {
    int n = checkSquare("inverse", a);
    double[][] m = copy(a);
    double[][] inv = identity(n);
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int i = col + 1; i < n; i++) {
        if (Math.abs(m[i][col]) > Math.abs(m[piv][col])) piv = i;
      }
      if (m[piv][col] == 0) throw new ArithmeticException("inverse: matrix is singular (zero pivot in column " + col + ")");
      swap(m, col, piv);
      swap(inv, col, piv);
      double d = 1 / m[col][col];
      for (int j = 0; j < n; j++) {
        m[col][j] *= d;
        inv[col][j] *= d;
      }
      for (int i = 0; i < n; i++) {
        if (i == col) continue;
        double f = m[i][col];
        if (f == 0) continue;
        for (int j = 0; j < n; j++) {
          m[i][j] -= f * m[col][j];
          inv[i][j] -= f * inv[col][j];
        }
      }
    }
    return inv;
  }

  /** A diagonal matrix with the given diagonal. */
  public static double[][] diagonal(double... d) {
    if (d.length == 0) throw new IllegalArgumentException("diagonal: no entries");
    double[][] r = new double[d.length][d.length];
    for (int i = 0; i < d.length; i++) r[i][i] = d[i];
    return r;
  }

  /**
   * Checks that {@code a} is non-null, non-empty, rectangular and square, and returns its size.
   *
   * @throws IllegalArgumentException otherwise, naming {@code op}
   */
  public static int checkSquare(String op, double[][] a) {
    checkRectangular(op, a);
    if (a[0].length != a.length) {
      throw new IllegalArgumentException(op + ": matrix must be square, got " + a.length + "x" + a[0].length);
    }
    return a.length;
  }

  /**
   * Checks that {@code a} is non-null, has at least one row and one column, and that all rows
   * have the same length.
   *
   * @throws IllegalArgumentException otherwise, naming {@code op}
   */
  public static void checkRectangular(String op, double[][] a) {
    if (a == null) throw new IllegalArgumentException(op + ": matrix is null");
    if (a.length == 0 || a[0] == null || a[0].length == 0) throw new IllegalArgumentException(op + ": matrix is empty");
    int n = a[0].length;
    for (int i = 1; i < a.length; i++) {
      if (a[i] == null || a[i].length != n) {
        throw new IllegalArgumentException(op + ": ragged matrix: row " + i + " has "
            + (a[i] == null ? "no array" : a[i].length + " entries") + ", row 0 has " + n);
      }
    }
  }

  private static double[][] axpby(double alpha, double[][] a, double beta, double[][] b, String op) {
    checkRectangular(op, a);
    checkRectangular(op, b);
    if (a.length != b.length || a[0].length != b[0].length) {
      throw new IllegalArgumentException(op + ": shapes differ: " + a.length + "x" + a[0].length + " vs "
          + b.length + "x" + b[0].length);
    }
    double[][] r = new double[a.length][a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) r[i][j] = alpha * a[i][j] + beta * b[i][j];
    }
    return r;
  }

  private static void swap(double[][] m, int i, int j) {
    double[] t = m[i];
    m[i] = m[j];
    m[j] = t;
  }
}
