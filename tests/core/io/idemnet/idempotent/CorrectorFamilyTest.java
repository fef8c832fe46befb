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

  /** ofQ is 3x^2 - 2x^3 + x^2 (1 - x)^2 (q_0 + q_1 x + ...), checked pointwise. */
  @Test
  void qFormMatchesItsClosedForm() {
    double[] qs = {0.7, -1.1, 0.4, 2.0, -0.25};
    CorrectorFamily g = CorrectorFamily.ofQ(8, qs);
    assertArrayEquals(qs, g.qCoefficients(), 1e-12);
    for (double x = -1; x <= 2; x += 0.125) {
      double q = 0;
      for (int i = qs.length - 1; i >= 0; i--) q = q * x + qs[i];
      double expected = 3 * x * x - 2 * x * x * x + x * x * (1 - x) * (1 - x) * q;
      assertEquals(expected, g.apply(x), 1e-12 * (1 + Math.abs(expected)), "x = " + x);
    }
  }

  @Test
  void smootherstepIsTheOrderFiveMemberWithFlatSecondDerivatives() {
    CorrectorFamily g = CorrectorFamily.of(5, 0, 10);
    assertArrayEquals(new double[] {0, 0, 0, 10, -15, 6}, g.coefficients(), 1e-15);
    assertEquals(g, CorrectorFamily.ofQ(5, -3, 6));
    assertEquals(g, CorrectorFamily.ofCoefficients(0, 0, 0, 10, -15, 6));
    assertArrayEquals(new double[] {-3, 6}, g.qCoefficients(), 1e-15);
    assertEquals(0, g.secondDerivative(0), 1e-15);
    assertEquals(0, g.secondDerivative(1), 1e-15);
    assertEquals("CorrectorFamily[order=5, alphas=[0.0, 10.0], p(x)=10x^3 - 15x^4 + 6x^5]", g.toString());
  }

  @Test
  void leadingZeroCoefficientsLowerTheDegree() {
    CorrectorFamily g = CorrectorFamily.ofQ(6, 0, 0, 0);
    assertEquals(6, g.order());
    assertEquals(3, g.degree());
    assertArrayEquals(CorrectorFamily.BASE.coefficients(), java.util.Arrays.copyOf(g.coefficients(), 4));
    assertEquals(5, CorrectorFamily.ofQ(6, 1, 2, 0).degree());
    // The paper's alphas that give the base cubic at order 4: alpha_2 = 3 (Eq. 22: 3K^2 - 2K^3 + 0 K^4).
    assertEquals(3, CorrectorFamily.of(4, 3).degree());
  }

  /**
   * Appendix A's families as printed (Eqs. 21-26), typed in term by term, against {@link
   * CorrectorFamily#of}'s closed form, for random alphas. Exact sums of a few products: 1e-12.
   */
  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void paperAlphasGiveAppendixAsFamilies(int order) {
    Random rnd = new Random(70 + order);
    for (int trial = 0; trial < 20; trial++) {
      double[] a = new double[9]; // a[i] = alpha_i, i = 2 .. order - 2
      double[] free = new double[order - 3];
      for (int i = 0; i < free.length; i++) free[i] = a[i + 2] = 8 * rnd.nextDouble() - 4;
      double[] expected = switch (order) {
        case 3 -> new double[] {0, 0, 3, -2}; // Eq. (21)
        case 4 -> new double[] {0, 0, a[2], 4 - 2 * a[2], a[2] - 3}; // Eq. (22)
        case 5 -> new double[] {0, 0, a[2], a[3], 5 - 3 * a[2] - 2 * a[3], 2 * a[2] + a[3] - 4}; // Eq. (23)
        case 6 -> new double[] {0, 0, a[2], a[3], a[4], 6 - 4 * a[2] - 3 * a[3] - 2 * a[4],
            3 * a[2] + 2 * a[3] + a[4] - 5}; // Eq. (24)
        case 7 -> new double[] {0, 0, a[2], a[3], a[4], a[5], 7 - 5 * a[2] - 4 * a[3] - 3 * a[4] - 2 * a[5],
            4 * a[2] + 3 * a[3] + 2 * a[4] + a[5] - 6}; // Eq. (25)
        case 8 -> new double[] {0, 0, a[2], a[3], a[4], a[5], a[6],
            8 - 6 * a[2] - 5 * a[3] - 4 * a[4] - 3 * a[5] - 2 * a[6],
            5 * a[2] + 4 * a[3] + 3 * a[4] + 2 * a[5] + a[6] - 7}; // Eq. (26)
        default -> throw new AssertionError(order);
      };
      CorrectorFamily g = CorrectorFamily.of(order, free);
      assertArrayEquals(expected, g.coefficients(), 1e-12, g.toString());
      assertArrayEquals(free, g.alphas(), 0.0);
      // The derived polynomial's defining properties.
      assertEquals(0, g.apply(0), 1e-12, g + ": p(0)");
      assertEquals(1, g.apply(1), 1e-12, g + ": p(1)");
      assertEquals(0, g.derivative(0), 1e-12, g + ": p'(0)");
      assertEquals(0, g.derivative(1), 1e-12, g + ": p'(1)");
      assertEquals(2 * (order == 3 ? 3 : a[2]), g.secondDerivative(0), 1e-12, g + ": p''(0) = 2 alpha_2");
    }
  }

  /** The three ways in describe the same polynomial: paper alphas, raw coefficients, q. */
  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void paperAlphasRawCoefficientsAndQAgree(int order) {
    Random rnd = new Random(90 + order);
    double[] free = new double[order - 3];
    for (int i = 0; i < free.length; i++) free[i] = 6 * rnd.nextDouble() - 3;
    CorrectorFamily g = CorrectorFamily.of(order, free);
    assertEquals(g, CorrectorFamily.ofCoefficients(g.coefficients()));
    CorrectorFamily viaQ = CorrectorFamily.ofQ(order, g.qCoefficients());
    assertArrayEquals(g.coefficients(), viaQ.coefficients(), 1e-12, "ofQ(qCoefficients())");
    assertArrayEquals(free, viaQ.alphas(), 1e-12, "alphas back through q");
    if (order >= 4) assertEquals(free[0] - 3, g.qCoefficients()[0], 1e-12, "q_0 = alpha_2 - 3");
  }

  /**
   * Appendix A's claim for every family: an idempotent P is a fixed point (sum alpha_i = 1 and
   * P^k = P), and K = P + eps D (near-idempotent to order 1) maps to a matrix whose idempotent
   * defect is O(eps^2), while K's own is O(eps). Checked on an oblique rank-3 projection in R^6
   * (cond(S) below about 4): g(P) = P to 1e-9 (alphas up to 3 in size, powers up to P^8 of O(1)
   * entries: rounding ~1e-13); halving eps divides ||g(K)^2 - g(K)|| by 4 (between 3.5 and 4.5:
   * at eps = 1e-3 the O(eps^3) term is a 1e-3 relative correction and rounding ~1e-13 is far
   * below the defect ~1e-6) and ||K^2 - K|| by 2.
   */
  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void everyFamilyFixesIdempotentsAndCorrectsToFirstOrder(int order) {
    Random rnd = new Random(110 + order);
    double[] free = new double[order - 3];
    for (int i = 0; i < free.length; i++) free[i] = 6 * rnd.nextDouble() - 3;
    CorrectorFamily g = CorrectorFamily.of(order, free);
    int n = 6;
    double[][] p = TestMatrices.randomProjection(rnd, n, 3);
    assertMatrixEquals(p, g.apply(p), 1e-9, g + ": g(P) = P");
    double[][] d = TestMatrices.gaussian(rnd, n, n, 1);
    double eps = 1e-3;
    double corrected = defect(g.apply(Matrices.add(p, Matrices.scale(eps, d))));
    double correctedHalf = defect(g.apply(Matrices.add(p, Matrices.scale(eps / 2, d))));
    double raw = defect(Matrices.add(p, Matrices.scale(eps, d)));
    double rawHalf = defect(Matrices.add(p, Matrices.scale(eps / 2, d)));
    double ratio = corrected / correctedHalf;
    assertTrue(ratio > 3.5 && ratio < 4.5, g + ": defect ratio after correction " + ratio + " (" + corrected + ")");
    assertEquals(2, raw / rawHalf, 0.05, "the uncorrected defect is first order");
    assertTrue(corrected < 0.1 * raw, g + ": correction shrinks the defect: " + corrected + " vs " + raw);
  }

  /** ||K^2 - K||_F. */
  private static double defect(double[][] k) {
    return Matrices.frobeniusNorm(Matrices.subtract(Matrices.multiply(k, k), k));
  }

  @Test
  void rawCoefficientsAreChecked() {
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 0, 3), "4 to 9 coefficients");
    assertMessage(() -> CorrectorFamily.ofCoefficients(0.1, 0, 3, -2), "p(0) = c_0 = 0, got 0.1");
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 1, 3, -2), "p'(0) = c_1 = 0");
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 0, 3, -2.1), "p(1) = sum c_k = 1");
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 0, 2, 0, -2, 0), "p(1) = sum c_k = 1");
    // 2x^2 - x^4 meets all four conditions (p(1) = 1, p'(1) = 4 - 4 = 0): accepted, and it is the
    // order-4 paper family with alpha_2 = 2 (Eq. 22: 2K^2 + 0K^3 - K^4).
    assertEquals(CorrectorFamily.of(4, 2), CorrectorFamily.ofCoefficients(0, 0, 2, 0, -1));
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 0, 2, -2, 1), "p'(1) = sum k c_k = 0");
    assertMessage(() -> CorrectorFamily.ofCoefficients(0, 0, 3, Double.NaN), "c_3 must be finite");
    assertMessage(() -> CorrectorFamily.ofCoefficients((double[]) null), "must not be null");
  }

  @Test
  void rejectsBadArguments() {
    assertMessage(() -> CorrectorFamily.of(2), "between 3 and 8");
    assertMessage(() -> CorrectorFamily.of(9, 1, 1, 1, 1, 1, 1), "between 3 and 8");
    assertMessage(() -> CorrectorFamily.of(3, 1.0), "exactly 0 alpha");
    assertMessage(() -> CorrectorFamily.of(4), "exactly 1 alpha coefficient,");
    assertMessage(() -> CorrectorFamily.of(6, 1, 2), "exactly 3 alpha coefficients, got 2");
    assertMessage(() -> CorrectorFamily.of(5, 1, Double.NaN), "alpha_3 must be finite");
    assertMessage(() -> CorrectorFamily.of(4, Double.POSITIVE_INFINITY), "alpha_2 must be finite");
    assertMessage(() -> CorrectorFamily.ofQ(5, 1, Double.NaN), "q_1 must be finite");
    assertMessage(() -> CorrectorFamily.ofQ(6, 1, 2), "exactly 3 q coefficients, got 2");
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
    CorrectorFamily g = CorrectorFamily.of(5, 0, 10);
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
