package io.idemnet.idempotent;

import static io.idemnet.idempotent.TestMatrices.assertMatrixEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.idempotent.MatrixProjection.Result;
import io.idemnet.idempotent.MatrixProjection.Status;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MatrixProjection} on near-idempotent, fixed-point and diverging inputs. Tolerances:
 * <ul>
 *   <li>convergence: ||K^2 - K||_F &lt; 1e-5 is reached (the brief's target), and then the run is
 *       continued to 1e-10 so that the eigenvalues can be checked: the eigenvalue error is about
 *       the idempotent error times cond(S) (below about 4), so every eigenvalue must then lie
 *       within 1e-6 of 0 or 1 with a wide margin (the rounding floor of the error is ~1e-14);
 *   <li>exact fixed point 1/2 on a diagonal matrix: exact (p(1/2) = 1/2 in floating point);
 *       under a similarity, 20 steps amplify rounding by 1.5^20 ~ 3e3, so 1e-8;
 *   <li>repelling rate: the first-step growth of the distance to 1/2 is 1 + gamma/2 up to
 *       O(distance) = O(1e-3), checked to a relative 1e-2.
 * </ul>
 */
class ProjectionTest {

  static Stream<Arguments> nearIdempotentCases() {
    return Stream.of(
        Arguments.of(1.0, 6, 2, 11L), Arguments.of(1.0, 12, 5, 12L), Arguments.of(1.0, 16, 9, 13L),
        Arguments.of(0.5, 6, 2, 21L), Arguments.of(0.5, 12, 5, 22L), Arguments.of(0.5, 16, 9, 23L),
        Arguments.of(1.0, 8, 0, 31L), Arguments.of(0.5, 8, 8, 32L));
  }

  @ParameterizedTest(name = "gamma={0} n={1} rank={2}")
  @MethodSource("nearIdempotentCases")
  void convergesFromNearIdempotentMatrices(double gamma, int n, int rank, long seed) {
    double[][] k0 = TestMatrices.nearIdempotent(new Random(seed), n, rank);
    Eigenvalues.Spectrum before = Eigenvalues.compute(k0);
    int aboveHalf = 0;
    for (double re : before.real()) if (re > 0.5) aboveHalf++;
    assertEquals(rank, aboveHalf, "precondition: the perturbation keeps the eigenvalues on their side of 1/2: " + before);

    MatrixProjection proj = new MatrixProjection(CorrectorFamily.BASE, gamma);
    Result r = proj.run(k0, 200, 1e-5);
    assertEquals(Status.CONVERGED, r.status(), r.toString());
    assertTrue(r.finalError() < 1e-5, r.toString());
    assertEquals(r.steps() + 1, r.errors().length);
    assertEquals(MatrixProjection.idempotentError(k0), r.errors()[0], 0.0);
    assertEquals(MatrixProjection.idempotentError(r.matrix()), r.finalError(), 0.0);
    if (gamma == 1) assertTrue(r.steps() <= 8, "quadratic convergence needs few steps: " + r);

    Result tight = proj.run(r.matrix(), 200, 1e-10);
    assertEquals(Status.CONVERGED, tight.status(), tight.toString());
    Eigenvalues.Spectrum after = Eigenvalues.compute(tight.matrix());
    assertEquals(rank, after.countNear(1, 1e-6), "eigenvalues at 1: " + after + " (before: " + before + ")");
    assertEquals(n - rank, after.countNear(0, 1e-6), "eigenvalues at 0: " + after + " (before: " + before + ")");
  }

  /**
   * With gamma &lt; 1 the scalar map x + gamma (p(x) - x) has slope 1 - gamma at 0 and 1, so the
   * error ratio tends to 1 - gamma (plus O(error) terms): checked to 0.01 while the error is
   * between 1e-8 and 1e-4.
   */
  @ParameterizedTest
  @ValueSource(doubles = {0.5, 0.25})
  void dampedIterationConvergesLinearlyWithRateOneMinusGamma(double gamma) {
    double[][] k0 = TestMatrices.nearIdempotent(new Random(5), 8, 3);
    Result r = new MatrixProjection(CorrectorFamily.BASE, gamma).run(k0, 500, 1e-12);
    assertEquals(Status.CONVERGED, r.status(), r.toString());
    double[] e = r.errors();
    int checked = 0;
    for (int k = 0; k + 1 < e.length; k++) {
      if (e[k] < 1e-4 && e[k + 1] > 1e-8) {
        assertEquals(1 - gamma, e[k + 1] / e[k], 0.01, "ratio at step " + k);
        checked++;
      }
    }
    assertTrue(checked >= 5, "checked " + checked + " ratios");
  }

  /** 1/2 is an exact fixed point of every damped step: a diagonal 1/2 stays exactly 1/2. */
  @ParameterizedTest
  @ValueSource(doubles = {1.0, 0.5})
  void eigenvalueOneHalfIsAFixedPoint(double gamma) {
    Result r = new MatrixProjection(CorrectorFamily.BASE, gamma).run(Matrices.diagonal(0.5, 0.2, 0.9), 80, 1e-10);
    assertEquals(Status.MAX_STEPS, r.status(), "the 1/2 direction keeps the error at |1/4 - 1/2|");
    assertEquals(80, r.steps());
    double[][] k = r.matrix();
    assertEquals(0.5, k[0][0], 0.0);
    assertEquals(0.0, k[1][1], 1e-12);
    assertEquals(1.0, k[2][2], 1e-12);
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) if (i != j) assertEquals(0.0, k[i][j], 0.0);
    }
    assertEquals(0.25, r.finalError(), 1e-12);

    // Under a similarity the eigenvalue stays at 1/2 too, up to amplified rounding.
    double[][] s = TestMatrices.wellConditioned(new Random(3), 3);
    Result r2 = new MatrixProjection(CorrectorFamily.BASE, gamma).run(TestMatrices.similarity(s, 0.5, 0.2, 0.9), 20);
    double[] re = Eigenvalues.realParts(r2.matrix());
    assertEquals(0.5, re[1], 1e-8, "middle eigenvalue after 20 steps");
    assertEquals(0.0, re[0], gamma == 1 ? 1e-10 : 1e-5);
    assertEquals(1.0, re[2], gamma == 1 ? 1e-10 : 1e-5);
  }

  /**
   * 1/2 +/- 1e-3 is pushed away from 1/2 (slope p'(1/2) = 3/2, damped 1 + gamma/2): the distance
   * grows strictly for the first 10 steps and the eigenvalue ends at 1 (from above) or 0 (from
   * below).
   */
  @ParameterizedTest
  @ValueSource(doubles = {1.0, 0.5})
  void eigenvalueOneHalfIsRepelling(double gamma) {
    MatrixProjection proj = new MatrixProjection(CorrectorFamily.BASE, gamma);
    for (double delta : new double[] {1e-3, -1e-3}) {
      // Diagonal: follow the (0,0) entry step by step.
      double[][] k = Matrices.diagonal(0.5 + delta, 0.2, 0.9);
      double dist = Math.abs(k[0][0] - 0.5);
      for (int step = 1; step <= 10; step++) {
        k = proj.step(k);
        double next = Math.abs(k[0][0] - 0.5);
        assertTrue(next > dist, "delta=" + delta + " step " + step + ": " + next + " <= " + dist);
        if (step == 1) assertEquals(1 + gamma / 2, next / dist, 1e-2 * (1 + gamma / 2), "first-step growth");
        dist = next;
      }
      Result r = proj.run(k, 200, 1e-10);
      assertEquals(Status.CONVERGED, r.status(), r.toString());
      assertEquals(delta > 0 ? 1.0 : 0.0, r.matrix()[0][0], 1e-9);

      // Under a similarity: follow the middle eigenvalue (p is increasing on [0, 1], so the order
      // of the eigenvalues is preserved).
      double[][] s = TestMatrices.wellConditioned(new Random(4), 3);
      double[][] ks = TestMatrices.similarity(s, 0.5 + delta, 0.2, 0.9);
      double distS = Math.abs(Eigenvalues.realParts(ks)[1] - 0.5);
      for (int step = 1; step <= 10; step++) {
        ks = proj.step(ks);
        double next = Math.abs(Eigenvalues.realParts(ks)[1] - 0.5);
        assertTrue(next > distS, "similarity, delta=" + delta + " step " + step + ": " + next + " <= " + distS);
        distS = next;
      }
    }
  }

  /** Orders 4..8 (small random q, i.e. close to the base corrector) and the cubic smootherstep member also project. */
  @ParameterizedTest
  @ValueSource(ints = {4, 5, 6, 7, 8, 0})
  void higherOrderFamiliesConverge(int order) {
    Random rnd = new Random(400 + order);
    CorrectorFamily g;
    if (order == 0) {
      g = CorrectorFamily.of(5, 0, 10);
    } else {
      double[] q = new double[order - 3];
      for (int i = 0; i < q.length; i++) q[i] = 0.6 * rnd.nextDouble() - 0.3;
      g = CorrectorFamily.ofQ(order, q);
    }
    int n = 10, rank = 4;
    double[][] k0 = TestMatrices.nearIdempotent(rnd, n, rank);
    Result r = new MatrixProjection(g, 1).run(k0, 50, 1e-10);
    assertEquals(Status.CONVERGED, r.status(), g + ": " + r);
    assertTrue(r.steps() <= 10, g + ": " + r);
    Eigenvalues.Spectrum after = Eigenvalues.compute(r.matrix());
    assertEquals(rank, after.countNear(1, 1e-6), g + ": " + after);
    assertEquals(n - rank, after.countNear(0, 1e-6), g + ": " + after);
  }

  @Test
  void idempotentInputConvergesInZeroSteps() {
    double[][] p = Matrices.diagonal(1, 0, 1);
    Result r = new MatrixProjection().run(p, 10, 1e-12);
    assertEquals(Status.CONVERGED, r.status());
    assertEquals(0, r.steps());
    assertEquals(1, r.errors().length);
    assertMatrixEquals(p, r.matrix(), 0.0, "unchanged");
  }

  /** x &lt;- 3x^2 - 2x^3 from 2: -4, 176, ... is caught by the growth bound within a few steps. */
  @Test
  void divergenceIsReported() {
    double[][] k0 = Matrices.diagonal(2, 0.1);
    double[][] copy = Matrices.copy(k0);
    Result r = new MatrixProjection().run(k0, 1000, 1e-10);
    assertEquals(Status.DIVERGED, r.status(), r.toString());
    assertTrue(r.steps() <= 4, r.toString());
    assertEquals(r.steps() + 1, r.errors().length);
    assertTrue(r.finalError() > MatrixProjection.DEFAULT_DIVERGENCE_FACTOR * r.errors()[0]
        || !Double.isFinite(r.finalError()), r.toString());
    assertMatrixEquals(copy, k0, 0.0, "input untouched");

    // Without a growth bound, only non-finite values stop the run: 2 -> -4 -> 176 -> ... overflows.
    Result inf = new MatrixProjection(CorrectorFamily.BASE, 1, Double.POSITIVE_INFINITY).run(k0, 1000, 1e-10);
    assertEquals(Status.DIVERGED, inf.status(), inf.toString());
    assertTrue(inf.steps() < 20, inf.toString());
    assertTrue(!Double.isFinite(inf.finalError()) || !Matrices.isFinite(inf.matrix()));

    Result nan = new MatrixProjection().run(new double[][] {{Double.NaN}}, 10, 1e-10);
    assertEquals(Status.DIVERGED, nan.status());
    assertEquals(0, nan.steps());
  }

  @Test
  void stepBudgetIsReported() {
    double[][] k0 = TestMatrices.nearIdempotent(new Random(9), 6, 3);
    Result r = new MatrixProjection(CorrectorFamily.BASE, 0.5).run(k0, 3, 1e-10);
    assertEquals(Status.MAX_STEPS, r.status());
    assertEquals(3, r.steps());
    assertEquals(4, r.errors().length);
    assertTrue(r.errors()[3] < r.errors()[0]);
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new MatrixProjection(CorrectorFamily.BASE, 0));
    assertThrows(IllegalArgumentException.class, () -> new MatrixProjection(CorrectorFamily.BASE, 1.5));
    assertThrows(IllegalArgumentException.class, () -> new MatrixProjection(CorrectorFamily.BASE, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new MatrixProjection(null, 1));
    assertThrows(IllegalArgumentException.class, () -> new MatrixProjection(CorrectorFamily.BASE, 1, 1));
    MatrixProjection p = new MatrixProjection();
    assertThrows(IllegalArgumentException.class, () -> p.run(Matrices.identity(2), -1, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> p.run(Matrices.identity(2), 5, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> p.run(Matrices.identity(2), 5, -1));
    assertThrows(IllegalArgumentException.class, () -> p.run(new double[][] {{1, 2}}, 5, 1e-5));
  }
}
