package io.idemnet.idempotent;

import java.util.Arrays;

/**
 * An idempotent corrector: a real polynomial p that is applied to a square matrix K as the matrix
 * polynomial p(K), and whose scalar iteration x &lt;- p(x) drives every point near 0 to 0 and every
 * point near 1 to 1. Iterating K &lt;- p(K) therefore pushes the eigenvalues of K towards {0, 1},
 * i.e. K towards an idempotent matrix (K^2 = K). See {@link MatrixProjection}.
 *
 * <h2>The base corrector (order 3)</h2>
 *
 * p(x) = 3x^2 - 2x^3, the recurrence K &lt;- 3K^2 - 2K^3 of Jensen &amp; Vicary, <i>Enforcing
 * Idempotency in Neural Networks</i> (ICML 2025), Eq. (3) and Appendix A Eq. (21). Near either
 * fixed point the error squares each step: p(e) = 3e^2 - 2e^3 and 1 - p(1 - e) = 3e^2 - 2e^3.
 *
 * <h2>Higher orders: the paper's Appendix A families</h2>
 *
 * The paper's ansatz (Eq. 4) is K' = alpha_1 K + alpha_2 K^2 + ... + alpha_j K^j; requiring
 * (K')^2 = K' for K = P + D to first order in D gives, for each order j = 3..8, one family
 * (Appendix A, Eqs. 21-26) in which alpha_1 = 0, alpha_2 .. alpha_{j-2} are free and the last two
 * are fixed:
 * <pre>
 *   alpha_{j-1} = j - sum_{i=2}^{j-2} (j - i) alpha_i
 *   alpha_j     = sum_{i=2}^{j-2} (j - 1 - i) alpha_i - (j - 1)
 * </pre>
 * e.g. j = 4: alpha_2 K^2 + (4 - 2 alpha_2) K^3 + (alpha_2 - 3) K^4 (Eq. 22). {@link #of} takes
 * exactly these free alphas, in the paper's numbering. The two fixed ones are what makes
 * <pre>
 *   p(0) = 0,  p(1) = 1,     (sum alpha_i = 1: every idempotent P maps to itself, p(P) = P)
 *   p'(0) = 0, p'(1) = 0,    (alpha_1 = 0 and sum i alpha_i = 0: both are superattracting)
 * </pre>
 * and these four linear conditions are also all there is to the families: the polynomials of
 * degree at most j that meet them form a (j - 3)-dimensional affine space, which the paper's
 * j - 3 free alphas parameterise one-to-one. ({@code CorrectorFamilyTest} checks the closed form
 * above against Eqs. 22-26 as printed, and that p(P + eps D) is idempotent up to O(eps^2).)
 *
 * <h2>Two other ways in</h2>
 *
 * <ul>
 *   <li>{@link #ofCoefficients} takes raw coefficients c_0..c_j of p(x) = sum c_k x^k and checks
 *       the four conditions;
 *   <li>{@link #ofQ} takes the coefficients of q in
 *       p(x) = 3x^2 - 2x^3 + x^2 (1 - x)^2 q(x),   q(x) = q_0 + q_1 x + ... + q_{j-4} x^{j-4},
 *       the form that makes the conditions hold by construction (p minus the base corrector has
 *       double roots at 0 and 1). With q = 0 every order is the base corrector; q_0 = alpha_2 - 3.
 * </ul>
 * Examples: {@code of(5, 0, 10)} = {@code ofQ(5, -3, 6)} = 10x^3 - 15x^4 + 6x^5 (the
 * "smootherstep" polynomial), which also has p''(0) = p''(1) = 0, so it converges cubically; in
 * general p''(0) = 2 alpha_2.
 *
 * <p>The four conditions only make 0 and 1 superattracting; they do not by themselves fix the size
 * of the basins. Large alphas can add further real fixed points inside (0, 1) or shrink the
 * basins, so convergence from a given start is a property of the chosen alphas, not of the family.
 *
 * <h2>Matrix application</h2>
 *
 * {@link #apply(double[][])} evaluates sum_k c_k K^k by Horner's rule with matrix products
 * (deg - 1 products for a polynomial of degree deg). For diagonalisable K = S diag(lambda) S^-1 the
 * result is S diag(p(lambda)) S^-1, so the eigenvalues map through the scalar polynomial.
 *
 * <p>Instances are immutable.
 */
public final class CorrectorFamily {
  /** The lowest order: the base corrector 3x^2 - 2x^3. */
  public static final int MIN_ORDER = 3;

  /** The highest order accepted: 8, the largest order of the paper's Appendix A families. */
  public static final int MAX_ORDER = 8;

  /** The base corrector 3x^2 - 2x^3. */
  public static final CorrectorFamily BASE = of(3);

  private final int order;
  /** Coefficients c_0..c_order of p, constant term first. */
  private final double[] coefficients;
  /** Index of the highest non-zero coefficient (at least 2). */
  private final int degree;

  private CorrectorFamily(double[] coefficients) {
    this.order = coefficients.length - 1;
    this.coefficients = coefficients;
    int d = order;
    while (d > 2 && coefficients[d] == 0) d--;
    this.degree = d;
  }

  /**
   * The order-j corrector of the paper's Appendix A (Eqs. 21-26) with the given free alphas,
   * numbered as in the paper: alpha_2 .. alpha_{j-2} (alpha_1 is 0; alpha_{j-1} and alpha_j follow
   * from them, see the class comment).
   *
   * @param order the order j, from {@value #MIN_ORDER} to {@value #MAX_ORDER}
   * @param alphas exactly {@code order - 3} finite values, alpha_2 first (none for order 3)
   * @throws IllegalArgumentException if the order is out of range, the number of alphas is not
   *     {@code order - 3}, or an alpha is NaN or infinite
   */
  public static CorrectorFamily of(int order, double... alphas) {
    checkFree(order, alphas, "alpha", 2);
    double[] c = new double[order + 1];
    double lastButOne = order, last = -(order - 1);
    for (int i = 2; i <= order - 2; i++) {
      double a = alphas[i - 2];
      c[i] = a;
      lastButOne -= (order - i) * a;
      last += (order - 1 - i) * a;
    }
    c[order - 1] += lastButOne;
    c[order] += last;
    return new CorrectorFamily(c);
  }

  /**
   * The order-j corrector 3x^2 - 2x^3 + x^2 (1 - x)^2 q(x) with q's coefficients q_0 .. q_{j-4}
   * (constant term first).
   *
   * @throws IllegalArgumentException as {@link #of}, for the q coefficients
   */
  public static CorrectorFamily ofQ(int order, double... q) {
    checkFree(order, q, "q", 0);
    double[] c = new double[order + 1];
    c[2] = 3;
    c[3] = -2;
    // x^2 (1 - x)^2 = x^2 - 2x^3 + x^4, times q_i x^i.
    for (int i = 0; i < q.length; i++) {
      c[i + 2] += q[i];
      c[i + 3] -= 2 * q[i];
      c[i + 4] += q[i];
    }
    return new CorrectorFamily(c);
  }

  /**
   * The corrector p(x) = c_0 + c_1 x + ... + c_j x^j from its raw coefficients, j = length - 1.
   * They must satisfy p(0) = 0, p'(0) = 0 exactly (c_0 = c_1 = 0) and p(1) = 1, p'(1) = 0 to a
   * relative 1e-9 (sums of a handful of decimal inputs carry rounding of about 1e-15 relative to
   * their largest term; 1e-9 accepts any such input and rejects every real violation seen in
   * practice, e.g. a mistyped digit).
   *
   * @throws IllegalArgumentException if the degree is out of range, a value is not finite, or a
   *     condition fails (the message names it and its value)
   */
  public static CorrectorFamily ofCoefficients(double... c) {
    if (c == null) throw new IllegalArgumentException("coefficients must not be null");
    int order = c.length - 1;
    if (order < MIN_ORDER || order > MAX_ORDER) {
      throw new IllegalArgumentException("a corrector has " + (MIN_ORDER + 1) + " to " + (MAX_ORDER + 1)
          + " coefficients c_0..c_j (order " + MIN_ORDER + " to " + MAX_ORDER + "), got " + c.length);
    }
    double sum = 0, weighted = 0, scale = 0;
    for (int k = 0; k <= order; k++) {
      if (!Double.isFinite(c[k])) throw new IllegalArgumentException("c_" + k + " must be finite, got " + c[k]);
      sum += c[k];
      weighted += k * c[k];
      scale += k * Math.abs(c[k]);
    }
    if (c[0] != 0) throw new IllegalArgumentException("a corrector needs p(0) = c_0 = 0, got " + c[0]);
    if (c[1] != 0) throw new IllegalArgumentException("a corrector needs p'(0) = c_1 = 0, got " + c[1]);
    double tol = 1e-9 * Math.max(1, scale);
    if (Math.abs(sum - 1) > tol) {
      throw new IllegalArgumentException("a corrector needs p(1) = sum c_k = 1, got " + sum);
    }
    if (Math.abs(weighted) > tol) {
      throw new IllegalArgumentException("a corrector needs p'(1) = sum k c_k = 0, got " + weighted);
    }
    return new CorrectorFamily(c.clone());
  }

  private static void checkFree(int order, double[] free, String name, int firstIndex) {
    if (order < MIN_ORDER || order > MAX_ORDER) {
      throw new IllegalArgumentException("corrector order must be between " + MIN_ORDER + " and " + MAX_ORDER
          + ", got " + order);
    }
    if (free == null) throw new IllegalArgumentException(name + "s must not be null (pass none for order 3)");
    if (free.length != order - 3) {
      throw new IllegalArgumentException("a corrector of order " + order + " takes exactly " + (order - 3) + " "
          + name + " coefficient" + (order - 3 == 1 ? "" : "s") + ", got " + free.length);
    }
    for (int i = 0; i < free.length; i++) {
      if (!Double.isFinite(free[i])) {
        throw new IllegalArgumentException(name + "_" + (i + firstIndex) + " must be finite, got " + free[i]);
      }
    }
  }

  /** The nominal order j given to {@link #of}. */
  public int order() {
    return order;
  }

  /**
   * The actual degree of p: the order, unless the alphas make the leading coefficients vanish
   * (e.g. order 4 with alpha_2 = 3 is the base cubic).
   */
  public int degree() {
    return degree;
  }

  /**
   * The paper's free alphas alpha_2 .. alpha_{j-2} (length order - 3): the coefficients of K^2 ..
   * K^{j-2}, as {@link #of} takes them.
   */
  public double[] alphas() {
    return java.util.Arrays.copyOfRange(coefficients, 2, order - 1);
  }

  /**
   * The coefficients q_0 .. q_{j-4} of q in p(x) = 3x^2 - 2x^3 + x^2 (1 - x)^2 q(x), as
   * {@link #ofQ} takes them: (p(x) - 3x^2 + 2x^3) / x^2 divided twice by (1 - x).
   */
  public double[] qCoefficients() {
    int n = order - 1; // s(x) = (p(x) - 3x^2 + 2x^3) / x^2 has coefficients s_0 .. s_{order-2}
    double[] s = new double[n];
    for (int k = 0; k < n; k++) s[k] = coefficients[k + 2];
    s[0] -= 3;
    s[1] += 2;
    // s = (1 - x) t  <=>  t_k = s_k + t_{k-1} (and the top coefficient of the running sum is the remainder, 0).
    for (int pass = 0; pass < 2; pass++) {
      for (int k = 1; k < n; k++) s[k] += s[k - 1];
    }
    return java.util.Arrays.copyOf(s, order - 3);
  }

  /** A copy of the coefficients c_0..c_order of p(x) = sum c_k x^k, constant term first. */
  public double[] coefficients() {
    return coefficients.clone();
  }

  /** p(x), by Horner's rule. */
  public double apply(double x) {
    double r = coefficients[degree];
    for (int k = degree - 1; k >= 0; k--) r = r * x + coefficients[k];
    return r;
  }

  /** p'(x), by Horner's rule on the differentiated coefficients. */
  public double derivative(double x) {
    double r = degree * coefficients[degree];
    for (int k = degree - 1; k >= 1; k--) r = r * x + k * coefficients[k];
    return r;
  }

  /** p''(x), by Horner's rule on the twice-differentiated coefficients. */
  public double secondDerivative(double x) {
    double r = degree * (degree - 1) * coefficients[degree];
    for (int k = degree - 1; k >= 2; k--) r = r * x + k * (k - 1) * coefficients[k];
    return r;
  }

  /**
   * The matrix polynomial p(K) = sum_k c_k K^k, by Horner's rule with matrix products. K is not
   * modified.
   *
   * @throws IllegalArgumentException if K is not a non-empty square matrix
   */
  public double[][] apply(double[][] k) {
    int n = Matrices.checkSquare("CorrectorFamily.apply", k);
    // R = c_deg K + c_{deg-1} I, then R <- R K + c_j I for j = deg-2 .. 0: deg - 1 products.
    double[][] r = Matrices.scale(coefficients[degree], k);
    for (int i = 0; i < n; i++) r[i][i] += coefficients[degree - 1];
    for (int j = degree - 2; j >= 0; j--) {
      r = Matrices.multiply(r, k);
      double c = coefficients[j];
      if (c != 0) {
        for (int i = 0; i < n; i++) r[i][i] += c;
      }
    }
    return r;
  }

  /** The correction p(K) - K, the direction that {@link MatrixProjection} steps along. */
  public double[][] correction(double[][] k) {
    return Matrices.subtract(apply(k), k);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CorrectorFamily f && Arrays.equals(f.coefficients, coefficients);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(coefficients);
  }

  /** E.g. {@code CorrectorFamily[order=5, alphas=[0.0, 10.0], p(x)=10x^3 - 15x^4 + 6x^5]} (the paper's alphas). */
  @Override
  public String toString() {
    StringBuilder p = new StringBuilder();
    for (int k = 0; k <= degree; k++) {
      double c = coefficients[k];
      if (c == 0) continue;
      if (p.length() > 0) p.append(c < 0 ? " - " : " + ");
      else if (c < 0) p.append('-');
      double a = Math.abs(c);
      String num = a == Math.rint(a) && a < 1e15 ? Long.toString((long) a) : Double.toString(a);
      if (k == 0) p.append(num);
      else p.append(a == 1 ? "" : num).append('x').append(k == 1 ? "" : "^" + k);
    }
    return "CorrectorFamily[order=" + order + ", alphas=" + Arrays.toString(alphas()) + ", p(x)=" + p + "]";
  }
}
