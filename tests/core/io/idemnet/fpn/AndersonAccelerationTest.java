package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Anderson acceleration on affine contractions T(u) = A u + b per row (n = 6, A symmetric with
 * eigenvalues up to 0.9 in magnitude, so the plain iteration needs over 100 steps for 1e-6), whose
 * fixed point (I - A)^{-1} b is solved directly in double precision for comparison.
 */
class AndersonAccelerationTest {
  private static final int N = 6;

  /** A = V diag(eigenvalues) V^T with V a random orthogonal matrix: symmetric, spectral norm = max |eigenvalue|. */
  private static double[][] contraction(long seed, double... eigenvalues) {
    Random rnd = new Random(seed);
    double[][] v = new double[N][N];
    for (int c = 0; c < N; c++) { // Gram-Schmidt on random columns
      for (int i = 0; i < N; i++) v[i][c] = rnd.nextGaussian();
      for (int p = 0; p < c; p++) {
        double d = 0;
        for (int i = 0; i < N; i++) d += v[i][c] * v[i][p];
        for (int i = 0; i < N; i++) v[i][c] -= d * v[i][p];
      }
      double norm = 0;
      for (int i = 0; i < N; i++) norm += v[i][c] * v[i][c];
      for (int i = 0; i < N; i++) v[i][c] /= Math.sqrt(norm);
    }
    double[][] a = new double[N][N];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        for (int k = 0; k < N; k++) a[i][j] += v[i][k] * eigenvalues[k] * v[j][k];
      }
    }
    return a;
  }

  private static void apply(double[][] a, float[] b, float[] u, float[] out, int rows) {
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < N; i++) {
        double s = b[r * N + i];
        for (int j = 0; j < N; j++) s += a[i][j] * u[r * N + j];
        out[r * N + i] = (float) s;
      }
    }
  }

  private static double maxRowResidual(float[] u, float[] t, int rows) {
    double max = 0;
    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int i = 0; i < N; i++) s += Math.pow(t[r * N + i] - u[r * N + i], 2);
      max = Math.max(max, Math.sqrt(s));
    }
    return max;
  }

  /** Iterates to max-row residual < tol; returns the iteration count, leaving the iterate in u. */
  private static int solve(double[][] a, float[] b, float[] u, int rows, int memory, double tol) {
    AndersonAcceleration aa = memory > 1 ? new AndersonAcceleration(memory, rows, N) : null;
    float[] t = new float[u.length], next = new float[u.length];
    for (int k = 1; k <= 2000; k++) {
      apply(a, b, u, t, rows);
      double residual = maxRowResidual(u, t, rows);
      if (aa != null) assertEquals(residual, aa.record(u, t), 1e-9 * Math.max(1, residual), "recorded residual");
      if (residual < tol) {
        System.arraycopy(t, 0, u, 0, u.length);
        return k;
      }
      if (aa == null) System.arraycopy(t, 0, u, 0, u.length);
      else {
        aa.mix(next);
        System.arraycopy(next, 0, u, 0, u.length);
      }
    }
    throw new AssertionError("no convergence in 2000 iterations");
  }

  private static double[] exactFixedPoint(double[][] a, float[] b, int row) {
    double[][] m = new double[N][N + 1];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) m[i][j] = (i == j ? 1 : 0) - a[i][j];
      m[i][N] = b[row * N + i];
    }
    for (int c = 0; c < N; c++) {
      int p = c;
      for (int r = c + 1; r < N; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
      double[] tmp = m[c];
      m[c] = m[p];
      m[p] = tmp;
      for (int r = c + 1; r < N; r++) {
        double f = m[r][c] / m[c][c];
        for (int k = c; k <= N; k++) m[r][k] -= f * m[c][k];
      }
    }
    double[] x = new double[N];
    for (int i = N - 1; i >= 0; i--) {
      double s = m[i][N];
      for (int k = i + 1; k < N; k++) s -= m[i][k] * x[k];
      x[i] = s / m[i][i];
    }
    return x;
  }

  /**
   * Same fixed point, far fewer iterations. The solution error is bounded by tol / (1 - 0.9) =
   * 1e-5 for the plain iteration's stopping rule; 2e-5 allows for float32 rounding of the iterates.
   */
  @Test
  void reachesTheFixedPointInFewerIterations() {
    int rows = 3;
    double[][] a = contraction(1, 0.9, -0.85, 0.6, -0.3, 0.1, 0.5);
    float[] b = new float[rows * N];
    Random rnd = new Random(2);
    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
    float[] plain = new float[rows * N], accelerated = new float[rows * N];
    int plainIterations = solve(a, b, plain, rows, 1, 1e-6);
    int andersonIterations = solve(a, b, accelerated, rows, 5, 1e-6);
    assertTrue(andersonIterations * 3 < plainIterations, "Anderson " + andersonIterations + " vs plain " + plainIterations);
    for (int r = 0; r < rows; r++) {
      double[] exact = exactFixedPoint(a, b, r);
      for (int i = 0; i < N; i++) {
        assertEquals(exact[i], plain[r * N + i], 2e-5, "plain row " + r);
        assertEquals(exact[i], accelerated[r * N + i], 2e-5, "Anderson row " + r);
      }
    }
  }

  /** Each row is mixed on its own: a row's iterates do not depend on the other rows. */
  @Test
  void rowsAreIndependentProblems() {
    double[][] a = contraction(3, 0.8, 0.7, -0.5, 0.2, 0.1, -0.6);
    float[] b2 = new float[2 * N], b1 = new float[N];
    Random rnd = new Random(4);
    for (int i = 0; i < b2.length; i++) b2[i] = (float) (rnd.nextGaussian() * (i < N ? 1 : 100)); // row 1 on another scale
    System.arraycopy(b2, 0, b1, 0, N);
    AndersonAcceleration two = new AndersonAcceleration(4, 2, N), one = new AndersonAcceleration(4, 1, N);
    float[] u2 = new float[2 * N], t2 = new float[2 * N], u1 = new float[N], t1 = new float[N];
    for (int k = 0; k < 6; k++) {
      apply(a, b2, u2, t2, 2);
      apply(a, b1, u1, t1, 1);
      float[] n2 = new float[2 * N], n1 = new float[N];
      two.record(u2, t2);
      two.mix(n2);
      one.record(u1, t1);
      one.mix(n1);
      u2 = n2;
      u1 = n1;
      assertArrayEquals(u1, java.util.Arrays.copyOf(u2, N), 0f, "row 0 at step " + k);
    }
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new AndersonAcceleration(0, 1, 1));
    AndersonAcceleration aa = new AndersonAcceleration(3, 2, 2);
    assertThrows(IllegalStateException.class, () -> aa.mix(new float[4]));
    assertThrows(IllegalArgumentException.class, () -> aa.record(new float[4], new float[3]));
    aa.record(new float[4], new float[4]);
    assertThrows(IllegalArgumentException.class, () -> aa.mix(new float[3]));
    float[] nan = {0, Float.NaN, 0, 0};
    assertTrue(Double.isNaN(aa.record(new float[4], nan)), "a non-finite residual is reported as NaN");
  }
}
