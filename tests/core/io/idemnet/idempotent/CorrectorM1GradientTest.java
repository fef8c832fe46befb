package io.idemnet.idempotent;

import static io.idemnet.idempotent.TestMatrices.assertMatrixEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link LinearM1#m1Gradient}, the linear Modified Backpropagation update. Tolerances: the closed
 * form and the per-sample sum add the same O(10)-sized terms in different orders, so 1e-12
 * absolute; the finite difference of the (quadratic) pseudo-loss is exact up to cancellation,
 * about eps L / h ~ 1e-10, so 1e-7.
 */
class CorrectorM1GradientTest {

  /** y = W x for a column vector x. */
  private static double[] apply(double[][] w, double[] x) {
    double[] y = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      for (int j = 0; j < x.length; j++) y[i] += w[i][j] * x[j];
    }
    return y;
  }

  @Test
  void equalsTheExplicitPerSampleSum() {
    Random rnd = new Random(3);
    int n = 5, samples = 7;
    double[][] w = TestMatrices.gaussian(rnd, n, n, 0.5);
    double[][] x = TestMatrices.gaussian(rnd, samples, n, 1);
    double[][] expected = new double[n][n];
    for (double[] xi : x) {
      double[] w1 = apply(w, xi);
      double[] w2 = apply(w, w1);
      double[] w3 = apply(w, w2);
      for (int a = 0; a < n; a++) {
        double v = 3 * w2[a] - 2 * w3[a] - w1[a];
        for (int b = 0; b < n; b++) expected[a][b] -= v * xi[b] / samples;
      }
    }
    assertMatrixEquals(expected, LinearM1.m1Gradient(w, x), 1e-12, "dW");
    assertMatrixEquals(expected, LinearM1.m1Gradient(CorrectorFamily.BASE, w, x), 1e-12, "dW, explicit corrector");
  }

  /** dW is the gradient of (1/2N) sum ||W' x_i - g(W) x_i||^2 at W' = W, with g(W) held fixed. */
  @Test
  void isTheGradientOfTheStopGradientPseudoLoss() {
    Random rnd = new Random(4);
    int n = 4, samples = 9;
    double[][] w = TestMatrices.gaussian(rnd, n, n, 0.5);
    double[][] x = TestMatrices.gaussian(rnd, samples, n, 1);
    double[][] target = CorrectorFamily.BASE.apply(w);
    double[][] dw = LinearM1.m1Gradient(w, x);
    double h = 1e-5;
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        double[][] plus = Matrices.copy(w);
        double[][] minus = Matrices.copy(w);
        plus[a][b] += h;
        minus[a][b] -= h;
        double fd = (pseudoLoss(plus, target, x) - pseudoLoss(minus, target, x)) / (2 * h);
        assertEquals(fd, dw[a][b], 1e-7, "entry (" + a + "," + b + ")");
      }
    }
  }

  private static double pseudoLoss(double[][] w, double[][] target, double[][] x) {
    double sum = 0;
    for (double[] xi : x) {
      double[] y = apply(w, xi);
      double[] t = apply(target, xi);
      for (int a = 0; a < y.length; a++) sum += (y[a] - t[a]) * (y[a] - t[a]);
    }
    return sum / (2 * x.length);
  }

  @Test
  void vanishesAtIdempotentWeights() {
    Random rnd = new Random(5);
    double[][] p = TestMatrices.randomProjection(rnd, 6, 2);
    double[][] dw = LinearM1.m1Gradient(p, TestMatrices.gaussian(rnd, 20, 6, 1));
    assertTrue(Matrices.frobeniusNorm(dw) < 1e-12, "||dW|| = " + Matrices.frobeniusNorm(dw));
  }

  /** With a whitened batch (X^T X / N = I) a descent step is exactly a projection step, gamma = lr. */
  @Test
  void whitenedBatchGivesTheProjectionStep() {
    int n = 5;
    Random rnd = new Random(6);
    double[][] w = TestMatrices.nearIdempotent(rnd, n, 2);
    // N = n samples sqrt(n) e_i, permuted and sign-flipped: X^T X = n I.
    double[][] x = new double[n][n];
    int[] perm = {3, 0, 4, 1, 2};
    for (int i = 0; i < n; i++) x[i][perm[i]] = (i % 2 == 0 ? 1 : -1) * Math.sqrt(n);
    assertMatrixEquals(Matrices.identity(n), LinearM1.secondMoment(x), 1e-15, "C = I");
    for (double lr : new double[] {1, 0.5}) {
      assertMatrixEquals(new MatrixProjection(CorrectorFamily.BASE, lr).step(w), LinearM1.step(w, x, lr), 1e-12,
          "lr = " + lr);
    }
  }

  /** Plain descent with a random (non-whitened) batch drives a near-idempotent W to idempotent. */
  @Test
  void descentReachesAnIdempotentMatrix() {
    Random rnd = new Random(8);
    int n = 6;
    double[][] w = TestMatrices.nearIdempotent(rnd, n, 3);
    double[][] x = TestMatrices.gaussian(rnd, 400, n, 1);
    double e0 = MatrixProjection.idempotentError(w);
    for (int step = 0; step < 300 && MatrixProjection.idempotentError(w) >= 1e-10; step++) {
      w = LinearM1.step(w, x, 0.5);
    }
    double e = MatrixProjection.idempotentError(w);
    assertTrue(e < 1e-10, "error " + e0 + " -> " + e);
    Eigenvalues.Spectrum s = Eigenvalues.compute(w);
    assertEquals(3, s.countNear(1, 1e-6), s.toString());
    assertEquals(3, s.countNear(0, 1e-6), s.toString());
  }

  @Test
  void rejectsMismatchedShapes() {
    assertThrows(IllegalArgumentException.class, () -> LinearM1.m1Gradient(Matrices.identity(3), new double[4][2]));
    assertThrows(IllegalArgumentException.class, () -> LinearM1.m1Gradient(new double[2][3], new double[4][3]));
    assertThrows(IllegalArgumentException.class, () -> LinearM1.m1Gradient(null, Matrices.identity(2), Matrices.identity(2)));
  }
}
