package io.idemnet.idempotent;

import static io.idemnet.idempotent.TestMatrices.assertMatrixEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scalar and matrix behaviour of {@link CorrectorFamily}. Tolerances:
 * <ul>
 *   <li>the four corrector conditions: 1e-12 absolute (coefficients are O(10) sums of alphas up to
 *       5 in size, so rounding is about 1e-14);
 *   <li>matrix polynomial vs S p(D) S^-1: 1e-10 (cond(S) below about 4, entries O(1));
 *   <li>convergence-order ratios: see each test.
 * </ul>
 */
class CorrectorFamilyTest {

  @Test
  void baseCorrectorIsThreeXSquaredMinusTwoXCubed() {
    CorrectorFamily g = CorrectorFamily.BASE;
    assertEquals(3, g.order());
    assertEquals(3, g.degree());
    assertArrayEquals(new double[] {0, 0, 3, -2}, g.coefficients());
    assertEquals(0, g.alphas().length);
    assertEquals(g, CorrectorFamily.of(3));
    for (double x : new double[] {-1.5, -0.3, 0, 0.25, 0.5, 0.8, 1, 2}) {
      assertEquals(3 * x * x - 2 * x * x * x, g.apply(x), 1e-15, "p(" + x + ")");
      assertEquals(6 * x - 6 * x * x, g.derivative(x), 1e-15, "p'(" + x + ")");
      assertEquals(6 - 12 * x, g.secondDerivative(x), 1e-15, "p''(" + x + ")");
    }
    assertEquals(0.5, g.apply(0.5), 0.0, "1/2 is an exact fixed point");
    assertEquals(1.5, g.derivative(0.5), 0.0, "... and a repelling one");
    assertEquals("CorrectorFamily[order=3, alphas=[], p(x)=3x^2 - 2x^3]", g.toString());
  }

  /** Every order 3..8 with random alphas satisfies p(0) = 0, p(1) = 1, p'(0) = p'(1) = 0 to 1e-12. */
  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void everyFamilySatisfiesTheCorrectorConditions(int order) {
    Random rnd = new Random(1000 + order);
    for (int trial = 0; trial < 50; trial++) {
      double[] alphas = new double[order - 3];
      for (int i = 0; i < alphas.length; i++) alphas[i] = 10 * rnd.nextDouble() - 5;
      CorrectorFamily g = CorrectorFamily.of(order, alphas);
      assertEquals(0, g.apply(0), 1e-12, g + ": p(0)");
      assertEquals(1, g.apply(1), 1e-12, g + ": p(1)");
      assertEquals(0, g.derivative(0), 1e-12, g + ": p'(0)");
      assertEquals(0, g.derivative(1), 1e-12, g + ": p'(1)");
      // The coefficient vector has the right length and reproduces apply(); derivative() matches
      // a central difference (h = 1e-5: truncation h^2 |p'''| / 6 ~ 1e-8 here).
      double[] c = g.coefficients();
      assertEquals(order + 1, c.length);
      for (double x : new double[] {-0.7, 0.1, 0.45, 0.9, 1.3}) {
        double sum = 0;
        for (int k = c.length - 1; k >= 0; k--) sum = sum * x + c[k];
        assertEquals(sum, g.apply(x), 1e-12, g + ": coefficients vs apply at " + x);
        double h = 1e-5;
        double fd = (g.apply(x + h) - g.apply(x - h)) / (2 * h);
        assertEquals(fd, g.derivative(x), 1e-6 * (1 + Math.abs(fd)), g + ": p' at " + x);
        double fd2 = (g.derivative(x + h) - g.derivative(x - h)) / (2 * h);
        assertEquals(fd2, g.secondDerivative(x), 1e-6 * (1 + Math.abs(fd2)), g + ": p'' at " + x);
      }
      assertArrayEquals(alphas, g.alphas(), 0.0);
    }
  }

  /** The family is 3x^2 - 2x^3 + x^2 (1 - x)^2 (alpha_1 + alpha_2 x + ...), checked pointwise. */
  @Test
  void familyMatchesItsClosedForm() {
    double[] alphas = {0.7, -1.1, 0.4, 2.0, -0.25};
    CorrectorFamily g = CorrectorFamily.of(8, alphas);
    for (double x = -1; x <= 2; x += 0.125) {
      double q = 0;
      for (int i = alphas.length - 1; i >= 0; i--) q = q * x + alphas[i];
      double expected = 3 * x * x - 2 * x * x * x + x * x * (1 - x) * (1 - x) * q;
      assertEquals(expected, g.apply(x), 1e-12 * (1 + Math.abs(expected)), "x = " + x);
    }
  }

  @Test
  void smootherstepIsTheOrderFiveMemberWithFlatSecondDerivatives() {
    CorrectorFamily g = CorrectorFamily.of(5, -3, 6);
    assertArrayEquals(new double[] {0, 0, 0, 10, -15, 6}, g.coefficients(), 1e-15);
    assertEquals(0, g.secondDerivative(0), 1e-15);
    assertEquals(0, g.secondDerivative(1), 1e-15);
    assertEquals("CorrectorFamily[order=5, alphas=[-3.0, 6.0], p(x)=10x^3 - 15x^4 + 6x^5]", g.toString());
  }

  @Test
  void leadingZeroAlphasLowerTheDegree() {
    CorrectorFamily g = CorrectorFamily.of(6, 0, 0, 0);
    assertEquals(6, g.order());
    assertEquals(3, g.degree());
    assertArrayEquals(CorrectorFamily.BASE.coefficients(), java.util.Arrays.copyOf(g.coefficients(), 4));
    assertEquals(5, CorrectorFamily.of(6, 1, 2, 0).degree());
  }

  @Test
  void rejectsBadArguments() {
    assertMessage(() -> CorrectorFamily.of(2), "between 3 and 8");
    assertMessage(() -> CorrectorFamily.of(9, 1, 1, 1, 1, 1, 1), "between 3 and 8");
    assertMessage(() -> CorrectorFamily.of(3, 1.0), "exactly 0 alpha");
    assertMessage(() -> CorrectorFamily.of(4), "exactly 1 alpha coefficient,");
    assertMessage(() -> CorrectorFamily.of(6, 1, 2), "exactly 3 alpha coefficients, got 2");
    assertMessage(() -> CorrectorFamily.of(5, 1, Double.NaN), "alpha_2 must be finite");
    assertMessage(() -> CorrectorFamily.of(4, Double.POSITIVE_INFINITY), "alpha_1 must be finite");
    assertMessage(() -> CorrectorFamily.of(4, (double[]) null), "must not be null");
    assertMessage(() -> CorrectorFamily.BASE.apply(new double[][] {{1, 2, 3}, {4, 5, 6}}), "square");
    assertMessage(() -> CorrectorFamily.BASE.apply(new double[0][0]), "empty");
    assertMessage(() -> CorrectorFamily.BASE.apply(new double[][] {{1, 2}, {3}}), "ragged");
  }

  /** The alphas are copied in and out: the instance is immutable. */
  @Test
  void isImmutable() {
    double[] alphas = {1, 2};
    CorrectorFamily g = CorrectorFamily.of(5, alphas);
    alphas[0] = 99;
    g.alphas()[1] = 99;
    g.coefficients()[2] = 99;
    assertArrayEquals(new double[] {1, 2}, g.alphas());
    assertEquals(CorrectorFamily.of(5, 1, 2), g);
    assertEquals(CorrectorFamily.of(5, 1, 2).hashCode(), g.hashCode());
  }

  @Test
  void matrixApplicationOfTheBaseMatchesTheExplicitProducts() {
    Random rnd = new Random(7);
    double[][] k = TestMatrices.gaussian(rnd, 5, 5, 1);
    double[][] k2 = Matrices.multiply(k, k);
    double[][] expected = Matrices.linearCombination(3, k2, -2, Matrices.multiply(k2, k));
    double[][] before = Matrices.copy(k);
    assertMatrixEquals(expected, CorrectorFamily.BASE.apply(k), 1e-12, "3K^2 - 2K^3");
    assertMatrixEquals(before, k, 0.0, "input untouched");
    assertMatrixEquals(Matrices.subtract(expected, k), CorrectorFamily.BASE.correction(k), 1e-12, "p(K) - K");
  }

  /** p(S D S^-1) = S p(D) S^-1 for every order: eigenvalues map through the scalar polynomial. */
  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void matrixApplicationMapsEigenvaluesThroughThePolynomial(int order) {
    Random rnd = new Random(50 + order);
    double[] alphas = new double[order - 3];
    for (int i = 0; i < alphas.length; i++) alphas[i] = 2 * rnd.nextDouble() - 1;
    CorrectorFamily g = CorrectorFamily.of(order, alphas);
    int n = 7;
    double[] d = new double[n];
    for (int i = 0; i < n; i++) d[i] = 1.6 * rnd.nextDouble() - 0.3;
    double[] pd = new double[n];
    for (int i = 0; i < n; i++) pd[i] = g.apply(d[i]);
    double[][] s = TestMatrices.wellConditioned(rnd, n);
    assertMatrixEquals(TestMatrices.similarity(s, pd), g.apply(TestMatrices.similarity(s, d)), 1e-10, g.toString());
    // Diagonal input: exactly diagonal output.
    double[][] out = g.apply(Matrices.diagonal(d));
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i != j) assertEquals(0.0, out[i][j], 0.0);
        else assertEquals(pd[i], out[i][i], 1e-14);
      }
    }
  }

  /**
   * Quadratic convergence of x &lt;- 3x^2 - 2x^3 near both fixed points. With the signed error
   * d = x - 0 (near 0) or d = 1 - x (near 1), one step maps d to exactly 3d^2 - 2d^3, so
   * |d_{k+1}| / d_k^2 = 3 - 2 d_k: the error squares (times about 3) every step. Near 0 the
   * ratio is checked to 1e-9 (Horner evaluates (3 - 2x) x^2 to a few ulps, relative). Near 1,
   * 1 - x carries an absolute rounding of about 2e-16, so ratios are checked only while
   * |d_{k+1}| &gt; 1e-9, to a relative 1e-5.
   */
  @Test
  void baseCorrectorConvergesQuadratically() {
    CorrectorFamily g = CorrectorFamily.BASE;
    for (double start : new double[] {0.15, -0.1, 0.05}) {
      double x = start;
      for (int k = 0; k < 6; k++) {
        double next = g.apply(x);
        assertEquals(3 - 2 * x, Math.abs(next) / (x * x), 1e-9, "near 0 from " + start + ", step " + k);
        x = next;
      }
      assertTrue(Math.abs(x) < 1e-20, "from " + start + " after 6 steps: " + x);
    }
    for (double start : new double[] {0.85, 1.1, 0.95}) {
      double x = start;
      int checked = 0;
      while (true) {
        double d = 1 - x;
        x = g.apply(x);
        double next = Math.abs(1 - x);
        if (next < 1e-9) break;
        double expectedRatio = 3 - 2 * d;
        assertEquals(expectedRatio, next / (d * d), 1e-5 * expectedRatio, "near 1 from " + start + ", d = " + d);
        checked++;
      }
      assertTrue(checked >= 2, "checked " + checked + " steps from " + start);
      for (int k = 0; k < 3; k++) x = g.apply(x);
      assertEquals(1.0, x, 1e-15, "limit from " + start);
    }
  }

  /** The order-5 smootherstep member converges cubically: e_{k+1} = 10 e^3 - 15 e^4 + 6 e^5 near 0. */
  @Test
  void smootherstepConvergesCubically() {
    CorrectorFamily g = CorrectorFamily.of(5, -3, 6);
    double e = 0.2; // 0.2 -> 5.8e-2 -> 1.8e-3 -> 5.6e-8 -> 1.8e-21
    for (int k = 0; k < 4; k++) {
      double next = g.apply(e);
      assertEquals(10 - 15 * e + 6 * e * e, next / (e * e * e), 1e-9, "step " + k);
      e = next;
    }
    assertTrue(e < 1e-20, "after 4 steps: " + e);
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, call);
    assertTrue(ex.getMessage().contains(fragment), "message '" + ex.getMessage() + "' should contain '" + fragment + "'");
  }
}
