package io.idemnet.idempotent;

/**
 * The linear special case ("M1") of Modified Backpropagation: a single bias-free linear layer
 * f(x) = W x, with W square (n x n).
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>A sample x is a column vector in R^n and f(x) = W x.
 *   <li>A batch X is N x n with one sample per <b>row</b>: row i of X is x_i^T. The batch output
 *       is therefore Y = X W^T (row i of Y is f(x_i)^T).
 * </ul>
 *
 * <h2>The update</h2>
 * Modified Backpropagation replaces the gradient of the idempotent loss by the corrector
 * displacement: per sample, the output f(x) is pulled towards 3 f(f(x)) - 2 f(f(f(x))), which for
 * a linear layer is g(W) x with g(W) = 3W^2 - 2W^3. The weight "gradient" is the gradient of
 * (1 / 2N) sum_i ||W x_i - sg(g(W) x_i)||^2 with the target held fixed (sg = stop-gradient):
 * <pre>
 *   dW = -(1/N) sum_i (3 W^2 x_i - 2 W^3 x_i - W x_i) x_i^T
 *      = -(g(W) - W) C,     C = X^T X / N   (the n x n second-moment matrix of the batch).
 * </pre>
 * A gradient-descent step W &lt;- W - lr dW = W + lr (g(W) - W) C thus moves W towards g(W);
 * when the batch is whitened (C = I) it is exactly the {@link MatrixProjection} step with
 * gamma = lr. Since C is invertible for a batch that spans R^n, dW = 0 exactly when g(W) = W.
 */
public final class LinearM1 {
  private LinearM1() {}

  /**
   * dW = -(g(W) - W) X^T X / N for the base corrector g(W) = 3W^2 - 2W^3; see the class comment
   * for the conventions.
   *
   * @param w the n x n weight matrix
   * @param x the N x n batch, one sample per row
   * @throws IllegalArgumentException if w is not square or x does not have n columns
   */
  public static double[][] m1Gradient(double[][] w, double[][] x) {
    return m1Gradient(CorrectorFamily.BASE, w, x);
  }

  /** As {@link #m1Gradient(double[][], double[][])}, with any corrector in place of 3W^2 - 2W^3. */
  public static double[][] m1Gradient(CorrectorFamily corrector, double[][] w, double[][] x) {
    if (corrector == null) throw new IllegalArgumentException("m1Gradient: corrector must not be null");
    int n = Matrices.checkSquare("m1Gradient (W)", w);
    Matrices.checkRectangular("m1Gradient (X)", x);
    if (x[0].length != n) {
      throw new IllegalArgumentException("m1Gradient: X must have one column per input of W (" + n + "), got "
          + x.length + "x" + x[0].length);
    }
    double[][] c = secondMoment(x);
    return Matrices.scale(-1, Matrices.multiply(corrector.correction(w), c));
  }

  /** One descent step W - lr dW with the base corrector. */
  public static double[][] step(double[][] w, double[][] x, double lr) {
    return Matrices.linearCombination(1, w, -lr, m1Gradient(w, x));
  }

  /** C = X^T X / N for an N x n batch with one sample per row. */
  public static double[][] secondMoment(double[][] x) {
    Matrices.checkRectangular("secondMoment", x);
    int rows = x.length, n = x[0].length;
    double[][] c = new double[n][n];
    for (double[] xi : x) {
      for (int a = 0; a < n; a++) {
        double xa = xi[a];
        if (xa == 0) continue;
        for (int b = 0; b < n; b++) c[a][b] += xa * xi[b];
      }
    }
    return Matrices.scale(1.0 / rows, c);
  }
}
