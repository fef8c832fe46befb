package io.idemnet.idempotent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

/** Random test matrices with known spectra, shared by the tests of this package. */
final class TestMatrices {
  private TestMatrices() {}

  /** rows x cols with independent N(0, scale^2) entries. */
  static double[][] gaussian(Random rnd, int rows, int cols, double scale) {
    double[][] a = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) a[i][j] = scale * rnd.nextGaussian();
    }
    return a;
  }

  /**
   * S = I + (0.3 / sqrt(n)) G with G standard Gaussian: ||S - I||_2 is about 0.6, so cond(S) is
   * typically below 4 and S^-1 is accurate to a few ulps.
   */
  static double[][] wellConditioned(Random rnd, int n) {
    return Matrices.add(Matrices.identity(n), gaussian(rnd, n, n, 0.3 / Math.sqrt(n)));
  }

  /** S D S^-1 for D = diag(d). */
  static double[][] similarity(double[][] s, double... d) {
    return Matrices.multiply(Matrices.multiply(s, Matrices.diagonal(d)), Matrices.inverse(s));
  }

  /** A random (generally oblique) projection S diag(1 x rank, 0 x (n - rank)) S^-1. */
  static double[][] randomProjection(Random rnd, int n, int rank) {
    double[] d = new double[n];
    for (int i = 0; i < rank; i++) d[i] = 1;
    return similarity(wellConditioned(rnd, n), d);
  }

  /** P + 0.05 E with P a random rank-`rank` projection and E with N(0, 1/n) entries (||E||_2 about 2). */
  static double[][] nearIdempotent(Random rnd, int n, int rank) {
    return Matrices.add(randomProjection(rnd, n, rank), gaussian(rnd, n, n, 0.05 / Math.sqrt(n)));
  }

  static void assertMatrixEquals(double[][] expected, double[][] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": rows");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i].length, actual[i].length, what + ": columns");
      for (int j = 0; j < expected[i].length; j++) {
        assertEquals(expected[i][j], actual[i][j], tol, what + " at (" + i + "," + j + ")");
      }
    }
  }
}
