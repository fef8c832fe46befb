package io.idemnet.experiments;

import io.idemnet.idempotent.SymmetricEigen;

/**
 * Principal components of a set of points in a high-dimensional space (e.g. parameter vectors
 * along training trajectories), through the small Gram matrix of the centred points: with T
 * points of dimension P >> T, the eigenvectors u of (D D^T) give the directions D^T u.
 */
public final class Pca {
  /**
   * Unit principal directions (rows), the variance along each, the mean point, and the total
   * variance of the points (over all directions), so that sum(variances) / totalVariance is the
   * fraction the kept components explain.
   */
  public record Result(double[][] directions, double[] variances, double[] mean, double totalVariance) {
    /** Coordinates of a point on the first two directions, relative to {@code origin}. */
    public double[] project(float[] point, double[] origin) {
      double[] c = new double[directions.length];
      for (int k = 0; k < directions.length; k++) {
        double s = 0;
        for (int i = 0; i < point.length; i++) s += (point[i] - origin[i]) * directions[k][i];
        c[k] = s;
      }
      return c;
    }
  }

  private Pca() {}

  /** The first {@code k} principal components of {@code points} (rows). */
  public static Result of(float[][] points, int k) {
    int t = points.length;
    if (t < 2) throw new IllegalArgumentException("PCA needs at least two points, got " + t);
    int p = points[0].length;
    double[] mean = new double[p];
    for (float[] x : points) {
      if (x.length != p) throw new IllegalArgumentException("points differ in dimension");
      for (int i = 0; i < p; i++) mean[i] += x[i];
    }
    for (int i = 0; i < p; i++) mean[i] /= t;
    double[][] gram = new double[t][t];
    for (int a = 0; a < t; a++) {
      for (int b = a; b < t; b++) {
        double s = 0;
        for (int i = 0; i < p; i++) s += (points[a][i] - mean[i]) * (points[b][i] - mean[i]);
        gram[a][b] = gram[b][a] = s;
      }
    }
    double[][] vectors = new double[t][t];
    double[] values = SymmetricEigen.decompose(gram, vectors);
    int kk = Math.min(k, t);
    double[][] dirs = new double[kk][p];
    double[] variances = new double[kk];
    for (int c = 0; c < kk; c++) {
      double norm = 0;
      for (int i = 0; i < p; i++) {
        double s = 0;
        for (int a = 0; a < t; a++) s += vectors[a][c] * (points[a][i] - mean[i]);
        dirs[c][i] = s;
        norm += s * s;
      }
      norm = Math.sqrt(norm);
      if (norm > 0) for (int i = 0; i < p; i++) dirs[c][i] /= norm;
      variances[c] = Math.max(0, values[c]) / (t - 1);
    }
    double total = 0;
    for (int a = 0; a < t; a++) total += gram[a][a];
    return new Result(dirs, variances, mean, total / (t - 1));
  }
}
