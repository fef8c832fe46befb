package io.idemnet.idempotent;

import java.util.Arrays;

/**
 * Projects a square matrix onto (near) the idempotent matrices by the damped corrector iteration
 * <pre>
 *   K &lt;- K + gamma (p(K) - K),   0 &lt; gamma &lt;= 1,
 * </pre>
 * where p is a {@link CorrectorFamily} (by default the base 3K^2 - 2K^3). With gamma = 1 this is
 * K &lt;- p(K): eigenvalues near 0 and 1 converge quadratically (or faster for higher-order
 * correctors). With gamma &lt; 1 the fixed points are the same, but the convergence near them is
 * linear with rate 1 - gamma, since the scalar map x + gamma (p(x) - x) has derivative 1 - gamma at
 * 0 and 1.
 *
 * <p>Progress is measured by the idempotent error ||K^2 - K||_F. An eigenvalue exactly 1/2 of the
 * base corrector is a fixed point too (p(1/2) = 1/2), but a repelling one (p'(1/2) = 3/2): the
 * iteration leaves it there, and then the error never falls below the tolerance.
 *
 * <p>Divergence (eigenvalues outside the basins of 0 and 1 grow without bound, e.g. x &lt;- 3x^2
 * - 2x^3 from x = 2) is detected and reported in the {@link Result} instead of looping: the run
 * stops as soon as an entry or the error is not finite, or the error exceeds
 * {@code divergenceFactor * max(1, initial error)}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class MatrixProjection {
  /** How far the error may grow, relative to max(1, initial error), before a run counts as diverged. */
  public static final double DEFAULT_DIVERGENCE_FACTOR = 1e6;

  /** How a run ended. */
  public enum Status {
    /** The idempotent error fell below the tolerance. */
    CONVERGED,
    /** The step budget ran out with the error still at or above the tolerance. */
    MAX_STEPS,
    /** The iterate became non-finite or its error grew past the divergence bound. */
    DIVERGED
  }

  /**
   * The outcome of {@link #run}.
   *
   * @param matrix the last iterate (after {@code steps} steps; for a diverged run it may hold
   *     non-finite entries)
   * @param errors the idempotent error ||K^2 - K||_F before the first step ({@code errors[0]}) and
   *     after each step ({@code errors[i]} after step i); length {@code steps + 1}
   * @param steps the number of steps taken
   * @param status how the run ended
   */
  public record Result(double[][] matrix, double[] errors, int steps, Status status) {
    /** The error of the last iterate. */
    public double finalError() {
      return errors[errors.length - 1];
    }

    /** Whether the run reached the tolerance. */
    public boolean converged() {
      return status == Status.CONVERGED;
    }

    @Override
    public String toString() {
      return "MatrixProjection.Result[status=" + status + ", steps=" + steps + ", errors=" + Arrays.toString(errors)
          + "]";
    }
  }

  private final CorrectorFamily corrector;
  private final double gamma;
  private final double divergenceFactor;

  /** The base corrector 3K^2 - 2K^3, undamped (gamma = 1). */
  public MatrixProjection() {
    this(CorrectorFamily.BASE, 1);
  }

  /**
   * @param corrector the corrector p
   * @param gamma the step size, 0 &lt; gamma &lt;= 1
   * @throws IllegalArgumentException if corrector is null or gamma is outside (0, 1]
   */
  public MatrixProjection(CorrectorFamily corrector, double gamma) {
    this(corrector, gamma, DEFAULT_DIVERGENCE_FACTOR);
  }

  /**
   * @param corrector the corrector p
   * @param gamma the step size, 0 &lt; gamma &lt;= 1
   * @param divergenceFactor a run is stopped as diverged once its error exceeds
   *     {@code divergenceFactor * max(1, initial error)}; must be &gt; 1 (may be infinite, which
   *     leaves only the non-finite check)
   * @throws IllegalArgumentException if an argument is out of range
   */
  public MatrixProjection(CorrectorFamily corrector, double gamma, double divergenceFactor) {
    if (corrector == null) throw new IllegalArgumentException("corrector must not be null");
    if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
    if (!(divergenceFactor > 1)) {
      throw new IllegalArgumentException("divergenceFactor must be > 1, got " + divergenceFactor);
    }
    this.corrector = corrector;
    this.gamma = gamma;
    this.divergenceFactor = divergenceFactor;
  }

  /** The corrector g the iteration applies. */
  public CorrectorFamily corrector() {
    return corrector;
  }

  /** The step size gamma of K &lt;- K + gamma (g(K) - K). */
  public double gamma() {
    return gamma;
  }

  /** The error growth over the start at which the iteration is declared divergent. */
  public double divergenceFactor() {
    return divergenceFactor;
  }

  /** One step K + gamma (p(K) - K), as a new matrix. */
  public double[][] step(double[][] k) {
    double[][] pk = corrector.apply(k);
    return gamma == 1 ? pk : Matrices.linearCombination(1 - gamma, k, gamma, pk);
  }

  /**
   * Iterates from {@code k0} (which is not modified) until ||K^2 - K||_F &lt; tol, for at most
   * {@code maxSteps} steps, or until divergence is detected.
   *
   * @param tol the tolerance on the idempotent error; with 0 (no error is below 0) the run takes
   *     all {@code maxSteps} steps unless it diverges first
   * @throws IllegalArgumentException if k0 is not a non-empty square matrix, maxSteps &lt; 0 or
   *     tol is negative or NaN
   */
  public Result run(double[][] k0, int maxSteps, double tol) {
    Matrices.checkSquare("MatrixProjection.run", k0);
    if (maxSteps < 0) throw new IllegalArgumentException("maxSteps must be >= 0, got " + maxSteps);
    if (!(tol >= 0)) throw new IllegalArgumentException("tol must be >= 0, got " + tol);
    double[][] k = Matrices.copy(k0);
    double[] errors = new double[maxSteps + 1];
    double e = idempotentError(k);
    errors[0] = e;
    if (!Matrices.isFinite(k) || !Double.isFinite(e)) return result(k, errors, 0, Status.DIVERGED);
    double bound = divergenceFactor * Math.max(1, e);
    int steps = 0;
    while (!(e < tol)) {
      if (steps == maxSteps) return result(k, errors, steps, Status.MAX_STEPS);
      k = step(k);
      steps++;
      e = idempotentError(k);
      errors[steps] = e;
      if (!Matrices.isFinite(k) || !Double.isFinite(e) || e > bound) return result(k, errors, steps, Status.DIVERGED);
    }
    return result(k, errors, steps, Status.CONVERGED);
  }

  /** Exactly {@code steps} steps (unless the run diverges first): {@code run(k0, steps, 0)}. */
  public Result run(double[][] k0, int steps) {
    return run(k0, steps, 0);
  }

  /** The idempotent error ||K^2 - K||_F. */
  public static double idempotentError(double[][] k) {
    Matrices.checkSquare("idempotentError", k);
    return Matrices.frobeniusNorm(Matrices.subtract(Matrices.multiply(k, k), k));
  }

  private static Result result(double[][] k, double[] errors, int steps, Status status) {
    return new Result(k, Arrays.copyOf(errors, steps + 1), steps, status);
  }
}
