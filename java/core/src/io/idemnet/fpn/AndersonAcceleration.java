package io.idemnet.fpn;

import java.util.stream.IntStream;

/**
 * Anderson acceleration (type II, no damping) of a batched fixed-point iteration u = T(u), one
 * independent problem per row: each row's next iterate is the combination sum_i alpha_i T(u_i)
 * of its last m images T(u_i) whose residuals g_i = T(u_i) - u_i have the smallest combined
 * norm ||sum_i alpha_i g_i|| subject to sum_i alpha_i = 1 (Walker and Ni, "Anderson acceleration
 * for fixed-point iterations", SIAM J. Numer. Anal. 2011). With m = 1 it is the plain iteration.
 *
 * <p>Rows are mixed separately because the samples of a batch are separate problems: a shared
 * alpha would couple their iterates. The least-squares problem is solved through its normal
 * equations (H + lambda I) alpha = 1, H_ij = g_i . g_j, then alpha /= sum(alpha); lambda =
 * 1e-10 trace(H) / k keeps H invertible when residuals become collinear. History is held on the
 * host: m residuals and m images of the batch, a fixed amount whatever the iteration count.
 */
final class AndersonAcceleration {
  private static final double RIDGE = 1e-10;

  private final int memory, rows, cols;
  private final float[][] images, residuals; // ring buffers: [slot][rows * cols]
  private final double[][][] gram; // [row][slot][slot]: dot products of the residuals, updated one slot a step
  private int count;

  AndersonAcceleration(int memory, int rows, int cols) {
    if (memory < 1 || rows < 1 || cols < 1) throw new IllegalArgumentException("Anderson memory, rows and columns must be >= 1");
    this.memory = memory;
    this.rows = rows;
    this.cols = cols;
    this.images = new float[memory][rows * cols];
    this.residuals = new float[memory][rows * cols];
    this.gram = new double[rows][memory][memory];
  }

  boolean fits(int memory, int rows, int cols) {
    return memory == this.memory && rows == this.rows && cols == this.cols;
  }

  /** Forgets the history: the next step starts a new solve. */
  void reset() {
    count = 0;
  }

  /** Host memory held for the history. */
  long bytes() {
    return 2L * memory * rows * cols * Float.BYTES;
  }

  /**
   * Records the iterate u and its image t = T(u): the residual t - u joins the history and each
   * row's Gram matrix gains its products with it. Returns the largest row norm ||t - u|| (the
   * solver's convergence measure; NaN if a residual is not finite).
   */
  double record(float[] u, float[] t) {
    requireBatchSize(u, t);
    int n = rows * cols;
    int slot = count % memory;
    count++;
    int k = Math.min(count, memory);
    System.arraycopy(t, 0, images[slot], 0, n);
    float[] res = residuals[slot];
    // Rows are independent problems, so they are handled in parallel.
    return IntStream.range(0, rows).parallel().mapToDouble(row -> {
      int off = row * cols;
      for (int c = off; c < off + cols; c++) res[c] = t[c] - u[c];
      double[][] gr = gram[row];
      for (int j = 0; j < k; j++) { // only the new residual's products are new
        double d = dot(res, residuals[j], off, cols);
        gr[slot][j] = d;
        gr[j][slot] = d;
      }
      return Math.sqrt(gr[slot][slot]);
    }).reduce(0, (a, b) -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b));
  }

  /** Writes the next iterate, each row's least-residual mix of the recorded images, into next. */
  void mix(float[] next) {
    if (count == 0) throw new IllegalStateException("Anderson mix before any recorded iterate");
    requireBatchSize(next);
    int k = Math.min(count, memory), newest = (count - 1) % memory;
    IntStream.range(0, rows).parallel().forEach(row -> {
      int off = row * cols;
      double[] alpha = new double[k];
      if (!weights(gram[row], alpha)) { // no usable combination (e.g. all residuals 0): the plain step
        System.arraycopy(images[newest], off, next, off, cols);
        return;
      }
      float a0 = (float) alpha[0];
      float[] first = images[0];
      for (int c = off; c < off + cols; c++) next[c] = a0 * first[c];
      for (int i = 1; i < k; i++) { // slot by slot: contiguous, vectorisable loops
        float ai = (float) alpha[i];
        float[] img = images[i];
        for (int c = off; c < off + cols; c++) next[c] += ai * img[c];
      }
    });
  }

  private void requireBatchSize(float[]... arrays) {
    for (float[] a : arrays) {
      if (a.length != rows * cols) {
        throw new IllegalArgumentException("Anderson acceleration: arrays must hold " + rows + " x " + cols + " values, got "
            + a.length);
      }
    }
  }

  /** sum of a[c] b[c] over c in [off, off + n), in double, four partial sums for throughput. */
  static double dot(float[] a, float[] b, int off, int n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int c = off, end = off + n;
    for (; c + 3 < end; c += 4) {
      s0 += (double) a[c] * b[c];
      s1 += (double) a[c + 1] * b[c + 1];
      s2 += (double) a[c + 2] * b[c + 2];
      s3 += (double) a[c + 3] * b[c + 3];
    }
    for (; c < end; c++) s0 += (double) a[c] * b[c];
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * alpha = (H + lambda I)^{-1} 1 for the leading k x k block of h (k = alpha.length), normalised
   * to sum 1; false when that is not finite. h is not modified.
   */
  private static boolean weights(double[][] h, double[] alpha) {
    int k = alpha.length;
    double trace = 0;
    for (int i = 0; i < k; i++) trace += h[i][i];
    if (!(trace > 0) || !Double.isFinite(trace)) return false;
    double[][] a = new double[k][k + 1];
    for (int i = 0; i < k; i++) {
      System.arraycopy(h[i], 0, a[i], 0, k);
      a[i][i] += RIDGE * trace / k;
      a[i][k] = 1;
    }
    // Gaussian elimination with partial pivoting (k is the memory, a handful).
    for (int col = 0; col < k; col++) {
      int pivot = col;
      for (int r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
      double[] tmp = a[col];
      a[col] = a[pivot];
      a[pivot] = tmp;
      if (a[col][col] == 0) return false;
      for (int r = col + 1; r < k; r++) {
        double f = a[r][col] / a[col][col];
        for (int c = col; c <= k; c++) a[r][c] -= f * a[col][c];
      }
    }
    double sum = 0;
    for (int i = k - 1; i >= 0; i--) {
      double s = a[i][k];
      for (int c = i + 1; c < k; c++) s -= a[i][c] * alpha[c];
      alpha[i] = s / a[i][i];
      sum += alpha[i];
    }
    if (!Double.isFinite(sum) || sum == 0) return false;
    for (int i = 0; i < k; i++) alpha[i] /= sum;
    return true;
  }
}
