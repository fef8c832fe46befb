package io.idemnet.idempotent;

/** Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations. */
public final class SymmetricEigen {
  private SymmetricEigen() {}

  /**
   * Returns the eigenvalues in decreasing order and fills {@code vectors} with the matching unit
   * eigenvectors as columns. {@code a} is not modified.
   */
  public static double[] decompose(double[][] a, double[][] vectors) {
    int n = a.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) m[i] = a[i].clone();
    double[][] v = new double[n][n];
    for (int i = 0; i < n; i++) v[i][i] = 1;
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0, total = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          total += m[i][j] * m[i][j];
          if (i != j) off += m[i][j] * m[i][j];
        }
      }
      if (off <= 1e-24 * Math.max(total, 1e-300)) break;
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          if (m[p][q] == 0) continue;
          double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) t = 1;
          double c = 1 / Math.sqrt(t * t + 1), s = t * c;
          for (int k = 0; k < n; k++) {
            double mkp = m[k][p], mkq = m[k][q];
            m[k][p] = c * mkp - s * mkq;
            m[k][q] = s * mkp + c * mkq;
          }
          for (int k = 0; k < n; k++) {
            double mpk = m[p][k], mqk = m[q][k];
            m[p][k] = c * mpk - s * mqk;
            m[q][k] = s * mpk + c * mqk;
          }
          for (int k = 0; k < n; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
          }
        }
      }
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    java.util.Arrays.sort(order, (x, y) -> Double.compare(m[y][y], m[x][x]));
    double[] values = new double[n];
    for (int c = 0; c < n; c++) {
      values[c] = m[order[c]][order[c]];
      for (int r = 0; r < n; r++) vectors[r][c] = v[r][order[c]];
    }
    return values;
  }
}
