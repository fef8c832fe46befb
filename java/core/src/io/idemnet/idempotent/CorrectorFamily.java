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
 * Idempotency in Neural Networks</i> (ICML 2025). Near either fixed point the error squares each
 * step: p(e) = 3e^2 - 2e^3 and 1 - p(1 - e) = 3e^2 - 2e^3.
 *
 * <h2>Higher orders: where the parameterisation comes from</h2>
 *
 * The paper's Appendix A gives higher-order families for orders j = 4..8 with free coefficients.
 * <b>Its exact text could not be retrieved while writing this class</b> (searches reached only the
 * abstract and the opening of the main text), so the family below is <b>derived from the defining
 * conditions, not copied from the paper</b>, and its alpha coefficients need not coincide with the
 * paper's own numbering or normalisation of its free coefficients.
 *
 * <p>A polynomial p is a corrector when
 * <pre>
 *   p(0) = 0,  p(1) = 1,     (0 and 1 are fixed points)
 *   p'(0) = 0, p'(1) = 0,    (both are superattracting, so convergence is at least quadratic)
 * </pre>
 * These four linear conditions on the j + 1 coefficients of a degree-j polynomial leave j - 3 free
 * parameters. The conditions say exactly that p(x) - (3x^2 - 2x^3) has double roots at 0 and at 1
 * (the base corrector satisfies them, so the difference satisfies the homogeneous version), hence
 * every corrector of degree at most j is
 * <pre>
 *   p(x) = 3x^2 - 2x^3 + x^2 (1 - x)^2 q(x),   q(x) = alpha_1 + alpha_2 x + ... + alpha_{j-3} x^{j-4},
 * </pre>
 * and this class takes the j - 3 coefficients of q (in the monomial basis, constant term first) as
 * its alphas. With all alphas zero, every order reduces to the base corrector. Examples:
 * <ul>
 *   <li>{@code of(5, -3, 6)} is 10x^3 - 15x^4 + 6x^5 (the "smootherstep" polynomial), which also has
 *       p''(0) = p''(1) = 0, so it converges cubically;
 *   <li>in general p''(0) = 6 + 2 alpha_1 and p''(1) = -6 + 2 q(1).
 * </ul>
 * The four conditions only make 0 and 1 superattracting; they do not by themselves fix the size of
 * the basins. Large alphas can add further real fixed points inside (0, 1) or shrink the basins, so
 * convergence from a given start is a property of the chosen alphas, not of the family.
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
  private final double[] alphas;
  /** Coefficients c_0..c_order of p, constant term first. */
  private final double[] coefficients;
  /** Index of the highest non-zero coefficient (at least 2). */
  private final int degree;

  private CorrectorFamily(int order, double[] alphas) {
    this.order = order;
    this.alphas = alphas;
    double[] c = new double[order + 1];
    c[2] = 3;
    c[3] = -2;
    // x^2 (1 - x)^2 = x^2 - 2x^3 + x^4, times alpha_{i+1} x^i.
    for (int i = 0; i < alphas.length; i++) {
      c[i + 2] += alphas[i];
      c[i + 3] -= 2 * alphas[i];
      c[i + 4] += alphas[i];
    }
    this.coefficients = c;
    int d = order;
    while (d > 2 && c[d] == 0) d--;
    this.degree = d;
  }

  /**
   * The corrector of the given order with the given alphas (the coefficients of q, constant term
   * first; see the class comment).
   *
   * @param order the nominal degree j, from {@value #MIN_ORDER} to {@value #MAX_ORDER}
   * @param alphas exactly {@code order - 3} finite values (none for order 3)
   * @throws IllegalArgumentException if the order is out of range, the number of alphas is not
   *     {@code order - 3}, or an alpha is NaN or infinite
   */
  public static CorrectorFamily of(int order, double... alphas) {
    if (order < MIN_ORDER || order > MAX_ORDER) {
      throw new IllegalArgumentException("corrector order must be between " + MIN_ORDER + " and " + MAX_ORDER
          + ", got " + order);
    }
    if (alphas == null) throw new IllegalArgumentException("alphas must not be null (pass none for order 3)");
    if (alphas.length != order - 3) {
      throw new IllegalArgumentException("a corrector of order " + order + " takes exactly " + (order - 3)
          + " alpha coefficient" + (order - 3 == 1 ? "" : "s") + ", got " + alphas.length);
    }
    for (int i = 0; i < alphas.length; i++) {
      if (!Double.isFinite(alphas[i])) {
        throw new IllegalArgumentException("alpha_" + (i + 1) + " must be finite, got " + alphas[i]);
      }
    }
    return new CorrectorFamily(order, alphas.clone());
  }

  /** The nominal order j given to {@link #of}. */
  public int order() {
    return order;
  }

  /**
   * The actual degree of p: the order, unless the highest alphas make the leading coefficients
   * vanish (e.g. order 4 with alpha_1 = 0 is the base cubic).
   */
  public int degree() {
    return degree;
  }

  /** A copy of the free coefficients (length order - 3). */
  public double[] alphas() {
    return alphas.clone();
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
    return o instanceof CorrectorFamily f && f.order == order && Arrays.equals(f.alphas, alphas);
  }

  @Override
  public int hashCode() {
    return 31 * order + Arrays.hashCode(alphas);
  }

  /** E.g. {@code CorrectorFamily[order=5, alphas=[-3.0, 6.0], p(x)=10x^3 - 15x^4 + 6x^5]}. */
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
    return "CorrectorFamily[order=" + order + ", alphas=" + Arrays.toString(alphas) + ", p(x)=" + p + "]";
  }
}
