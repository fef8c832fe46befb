package io.idemnet.idempotent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Eigenvalues} against matrices with known spectra (named Projection* so that the
 * {@code -Dtest='Corrector*,Projection*'} selection runs it). Tolerances: for S D S^-1 with
 * cond(S) below about 4 and |D| &lt;= 2, backward-stable QR gives errors around
 * n eps ||A|| cond(S) ~ 1e-13 (n = 64), so 1e-9 leaves a wide margin; diagonal and triangular
 * inputs are already reduced and come out to 1e-14.
 */
class ProjectionEigenvaluesTest {

  @Test
  void diagonalAndTriangular() {
    double[] d = {3, -1, 0.5, 0, 2, -7};
    double[] sorted = d.clone();
    Arrays.sort(sorted);
    assertArrayEquals(sorted, Eigenvalues.realParts(Matrices.diagonal(d)), 1e-14);
    double[][] t = Matrices.diagonal(d);
    Random rnd = new Random(1);
    for (int i = 0; i < d.length; i++) {
      for (int j = i + 1; j < d.length; j++) t[i][j] = rnd.nextGaussian();
    }
    Eigenvalues.Spectrum s = Eigenvalues.compute(t);
    assertArrayEquals(sorted, s.real(), 1e-12);
    assertEquals(0.0, s.maxAbsImaginary(), 1e-12);
    assertArrayEquals(sorted, Eigenvalues.realParts(Matrices.transpose(t)), 1e-12);
  }

  @Test
  void smallSizes() {
    assertArrayEquals(new double[] {4.5}, Eigenvalues.realParts(new double[][] {{4.5}}), 0.0);
    // [[2, 1], [1, 2]]: 1 and 3.
    assertArrayEquals(new double[] {1, 3}, Eigenvalues.realParts(new double[][] {{2, 1}, {1, 2}}), 1e-14);
    // [[0, -1], [1, 0]]: +/- i.
    Eigenvalues.Spectrum rot = Eigenvalues.compute(new double[][] {{0, -1}, {1, 0}});
    assertArrayEquals(new double[] {0, 0}, rot.real(), 1e-15);
    assertArrayEquals(new double[] {-1, 1}, rot.imaginary(), 1e-15);
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 8, 20, 64})
  void similarityTransformsOfKnownDiagonals(int n) {
    Random rnd = new Random(100 + n);
    double[] d = new double[n];
    for (int i = 0; i < n; i++) d[i] = 4 * rnd.nextDouble() - 2;
    double[][] a = TestMatrices.similarity(TestMatrices.wellConditioned(rnd, n), d);
    Eigenvalues.Spectrum s = Eigenvalues.compute(a);
    double[] sorted = d.clone();
    Arrays.sort(sorted);
    assertArrayEquals(sorted, s.real(), 1e-9);
    assertEquals(0.0, s.maxAbsImaginary(), 1e-9);
  }

  /** Repeated eigenvalues (as in a projection): 0 and 1 with multiplicities. */
  @Test
  void projectionSpectrum() {
    Random rnd = new Random(77);
    double[][] p = TestMatrices.randomProjection(rnd, 12, 5);
    Eigenvalues.Spectrum s = Eigenvalues.compute(p);
    assertEquals(5, s.countNear(1, 1e-9), s.toString());
    assertEquals(7, s.countNear(0, 1e-9), s.toString());
  }

  /** Complex pairs: blocks [[a, -b], [b, a]] have eigenvalues a +/- bi. */
  @Test
  void complexPairsUnderSimilarity() {
    int n = 7;
    double[][] blocks = new double[n][n];
    double[][] pairs = {{0.3, 2}, {-1, 0.5}, {1.5, 1}};
    for (int k = 0; k < pairs.length; k++) {
      int i = 2 * k;
      blocks[i][i] = pairs[k][0];
      blocks[i + 1][i + 1] = pairs[k][0];
      blocks[i][i + 1] = -pairs[k][1];
      blocks[i + 1][i] = pairs[k][1];
    }
    blocks[6][6] = 0.7;
    double[][] s = TestMatrices.wellConditioned(new Random(5), n);
    double[][] a = Matrices.multiply(Matrices.multiply(s, blocks), Matrices.inverse(s));
    Eigenvalues.Spectrum sp = Eigenvalues.compute(a);
    assertArrayEquals(new double[] {-1, -1, 0.3, 0.3, 0.7, 1.5, 1.5}, sp.real(), 1e-9);
    assertArrayEquals(new double[] {-0.5, 0.5, -2, 2, 0, -1, 1}, sp.imaginary(), 1e-9);
  }

  /** Badly scaled similarity T D T^-1, T = diag(1, 1e4, 1e-4, ...) S: balancing handles it. */
  @Test
  void badlyScaled() {
    int n = 6;
    Random rnd = new Random(8);
    double[] d = {-1.5, -0.2, 0.1, 0.9, 1.3, 2.0};
    double[][] t = Matrices.multiply(Matrices.diagonal(1, 1e4, 1e-4, 1e3, 1e-3, 1), TestMatrices.wellConditioned(rnd, n));
    double[][] a = TestMatrices.similarity(t, d);
    assertArrayEquals(d, Eigenvalues.realParts(a), 1e-8);
  }

  /** Symmetric random matrices: real spectrum with sum = trace and sum of squares = ||A||_F^2. */
  @Test
  void symmetricInvariants() {
    Random rnd = new Random(21);
    int n = 30;
    double[][] g = TestMatrices.gaussian(rnd, n, n, 1);
    double[][] a = Matrices.add(g, Matrices.transpose(g));
    Eigenvalues.Spectrum s = Eigenvalues.compute(a);
    assertEquals(0.0, s.maxAbsImaginary(), 0.0);
    double trace = 0, sum = 0, sumSq = 0;
    for (int i = 0; i < n; i++) trace += a[i][i];
    for (double v : s.real()) {
      sum += v;
      sumSq += v * v;
    }
    double fro = Matrices.frobeniusNorm(a);
    assertEquals(trace, sum, 1e-10 * fro);
    assertEquals(fro * fro, sumSq, 1e-10 * fro * fro);
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> Eigenvalues.compute(new double[][] {{1, 2}}));
    assertThrows(IllegalArgumentException.class, () -> Eigenvalues.compute(new double[][] {{1, Double.NaN}, {0, 1}}));
    assertThrows(IllegalArgumentException.class, () -> Eigenvalues.compute(new double[0][0]));
  }
}
