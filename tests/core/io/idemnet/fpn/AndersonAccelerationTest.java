package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Anderson acceleration through the backend operations ({@link Backend#andersonRecord},
 * {@link Backend#andersonMix}) on affine contractions T(u) = A u + b per row (n = 6, A symmetric
 * with eigenvalues up to 0.9 in magnitude, so the plain iteration needs over 100 steps for 1e-6),
 * whose fixed point (I - A)^{-1} b is solved directly in double precision for comparison. T is
 * applied in Java between the operations (the test's map, not a training step); the history stays
 * in backend tensors. Runs on the reference and the cpu backend.
 */
class AndersonAccelerationTest {
  private static final int N = 6;
  private static final double U = Math.ulp(1.0f) / 2; // 2^-24
  private static final CpuBackend CPU = new CpuBackend();
  private static final Backend REF = new ReferenceBackend();

  @AfterAll
  static void close() {
    CPU.close();
  }

  private static Backend backend(String name) {
    return name.equals("cpu") ? CPU : REF;
  }

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

  private static float[] apply(double[][] a, float[] b, float[] u, int rows) {
    float[] out = new float[u.length];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < N; i++) {
        double s = b[r * N + i];
        for (int j = 0; j < N; j++) s += a[i][j] * u[r * N + j];
        out[r * N + i] = (float) s;
      }
    }
    return out;
  }

  private static double maxRowResidual(float[] u, float[] t, int rows) {
    double max = 0;
    for (int r = 0; r < rows; r++) {
      double s = 0;
      for (int i = 0; i < N; i++) s += Math.pow((double) t[r * N + i] - u[r * N + i], 2);
      max = Math.max(max, Math.sqrt(s));
    }
    return max;
  }

  /** The solver's loop (as in FixedPointNetwork): iterates to max-row residual < tol; returns the count, the iterate in u. */
  private static int solve(Backend be, double[][] a, float[] b, float[] u, int rows, int memory, double tol) {
    try (Tensor ut = be.fromArray(u, rows, N); Tensor images = be.zeros(memory, rows, N);
        Tensor residuals = be.zeros(memory, rows, N); Tensor norm = be.zeros(1)) {
      for (int k = 0; k < 2000; k++) {
        float[] cur = ut.toArray(), t = apply(a, b, cur, rows);
        double residual = maxRowResidual(cur, t, rows);
        int slot = k % memory;
        try (Tensor tt = be.fromArray(t, rows, N)) {
          be.andersonRecord(ut, tt, slot, images, residuals, norm);
          // The norm is of the float residual t - u (one rounding per element, relative <= U) and
          // is rounded once to float (U): within 2U of the exact norm.
          assertEquals(residual, be.readScalar(norm), 2 * U * residual, "recorded residual");
          if (residual < tol) {
            System.arraycopy(t, 0, u, 0, u.length);
            return k + 1;
          }
          if (memory == 1) be.copy(tt, ut);
          else be.andersonMix(images, residuals, Math.min(k + 1, memory), slot, ut);
        }
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
  @ParameterizedTest
  @ValueSource(strings = {"reference", "cpu"})
  void reachesTheFixedPointInFewerIterations(String name) {
    Backend be = backend(name);
    int rows = 3;
    double[][] a = contraction(1, 0.9, -0.85, 0.6, -0.3, 0.1, 0.5);
    float[] b = new float[rows * N];
    Random rnd = new Random(2);
    for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
    float[] plain = new float[rows * N], accelerated = new float[rows * N];
    int plainIterations = solve(be, a, b, plain, rows, 1, 1e-6);
    int andersonIterations = solve(be, a, b, accelerated, rows, 5, 1e-6);
    assertTrue(andersonIterations * 3 < plainIterations, "Anderson " + andersonIterations + " vs plain " + plainIterations);
    for (int r = 0; r < rows; r++) {
      double[] exact = exactFixedPoint(a, b, r);
      for (int i = 0; i < N; i++) {
        assertEquals(exact[i], plain[r * N + i], 2e-5, "plain row " + r);
        assertEquals(exact[i], accelerated[r * N + i], 2e-5, "Anderson row " + r);
      }
    }
  }

  /** Each row is mixed on its own: a row's iterates do not depend on the other rows (bit for bit). */
  @ParameterizedTest
  @ValueSource(strings = {"reference", "cpu"})
  void rowsAreIndependentProblems(String name) {
    Backend be = backend(name);
    double[][] a = contraction(3, 0.8, 0.7, -0.5, 0.2, 0.1, -0.6);
    float[] b2 = new float[2 * N], b1 = new float[N];
    Random rnd = new Random(4);
    for (int i = 0; i < b2.length; i++) b2[i] = (float) (rnd.nextGaussian() * (i < N ? 1 : 100)); // row 1 on another scale
    System.arraycopy(b2, 0, b1, 0, N);
    int memory = 4;
    try (Tensor u2 = be.zeros(2, N); Tensor u1 = be.zeros(1, N); Tensor h2 = be.zeros(memory, 2, N);
        Tensor g2 = be.zeros(memory, 2, N); Tensor h1 = be.zeros(memory, 1, N); Tensor g1 = be.zeros(memory, 1, N);
        Tensor norm = be.zeros(1)) {
      for (int k = 0; k < 6; k++) {
        int slot = k % memory, count = Math.min(k + 1, memory);
        try (Tensor t2 = be.fromArray(apply(a, b2, u2.toArray(), 2), 2, N);
            Tensor t1 = be.fromArray(apply(a, b1, u1.toArray(), 1), 1, N)) {
          be.andersonRecord(u2, t2, slot, h2, g2, norm);
          be.andersonMix(h2, g2, count, slot, u2);
          be.andersonRecord(u1, t1, slot, h1, g1, norm);
          be.andersonMix(h1, g1, count, slot, u1);
        }
        assertArrayEquals(u1.toArray(), java.util.Arrays.copyOf(u2.toArray(), N), 0f, "row 0 at step " + k);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"reference", "cpu"})
  void badArgumentsAreRefused(String name) {
    Backend be = backend(name);
    int max = Backend.ANDERSON_MAX_MEMORY;
    try (Tensor u = be.zeros(2, 2); Tensor t = be.zeros(2, 2); Tensor h = be.zeros(3, 2, 2); Tensor g = be.zeros(3, 2, 2);
        Tensor norm = be.zeros(1); Tensor big = be.zeros(max + 1, 2, 2); Tensor bigG = be.zeros(max + 1, 2, 2);
        Tensor wrong = be.zeros(3, 2, 3); Tensor t3 = be.zeros(2, 3)) {
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, 0, big, bigG, norm), "memory above 16");
      assertThrows(IllegalArgumentException.class, () -> be.andersonMix(big, bigG, 1, 0, u), "memory above 16");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, 3, h, g, norm), "slot outside");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, -1, h, g, norm), "negative slot");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t3, 0, h, g, norm), "t's shape");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, 0, h, wrong, norm), "history shapes");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, 0, h, g, t), "norm is one element");
      assertThrows(IllegalArgumentException.class, () -> be.andersonRecord(u, t, 0, h, h, norm), "aliasing");
      assertThrows(IllegalArgumentException.class, () -> be.andersonMix(h, g, 0, 0, u), "count 0");
      assertThrows(IllegalArgumentException.class, () -> be.andersonMix(h, g, 4, 0, u), "count above memory");
      assertThrows(IllegalArgumentException.class, () -> be.andersonMix(h, g, 2, 2, u), "newest not below count");
      assertThrows(IllegalArgumentException.class, () -> be.andersonMix(h, g, 1, 0, t3), "next's shape");
      try (Tensor nan = be.fromArray(new float[] {0, Float.NaN, 0, 0}, 2, 2)) {
        be.andersonRecord(u, nan, 0, h, g, norm);
        assertTrue(Float.isNaN(be.readScalar(norm)), "a non-finite residual is reported as NaN");
      }
    }
  }
}
