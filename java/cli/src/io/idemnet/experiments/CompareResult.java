package io.idemnet.experiments;

import java.util.List;

/** What a comparison produced; runs that were interrupted are absent. */
public record CompareResult(CompareConfig config, List<RunResult> runs, boolean interrupted) {

  /**
   * One run of one algorithm at one learning rate.
   *
   * @param epochs the recorded epochs (0 first, the last epoch last)
   * @param error mean((f(f(x)) - f(x))^2) on the held-out probe batch at each recorded epoch
   * @param gradNormMb norm of the MB gradient at this run's parameters, per recorded epoch (NaN
   *     where not recorded: the gradient analysis covers run 0 only)
   * @param gradNormOb the same for the OB gradient
   * @param cosAlong |cos| between the MB and the OB gradient at this run's parameters
   * @param cosSeparate |cos| between the MB run's MB gradient and the paired OB run's OB gradient
   * @param secondsPerEpoch mean wall-clock seconds of training per epoch (steps only)
   * @param fIdentityFrobenius ||f(I)||_F after training, rows of I the unit vectors (Appendix D)
   * @param fIdentityTrace trace f(I) after training
   * @param fIdentityRowSpread the spread of f(I)'s rows, ||f(I) - 1 mean_row||_F, over that of
   *     I's rows, sqrt(n - 1): 0 when f maps every unit vector to the same point
   * @param outputSpread the RMS distance of f(x_i) from its mean over the probe rows, over the
   *     same for x_i; 0 for a constant map, sqrt(k / n) for an orthogonal projection onto k
   *     dimensions of N(0, I) data
   * @param imageJacobian the trivial-solution measure: the RMS over the probe rows of
   *     ||J_f(y_i)||_F, the Jacobian of f at the points y_i = f(x_i) of its own image (estimated
   *     by central differences along random directions). Where f is idempotent, J_f(y) is an
   *     idempotent matrix (differentiate f(f(x)) = f(x) at a point with f(y) = y), and every
   *     idempotent but 0 has ||.||_F >= 1; a (near-)constant f has J_f ~ 0
   */
  public record RunResult(String algorithm, float learningRate, int run, int[] epochs, double[] error,
      double[] gradNormMb, double[] gradNormOb, double[] cosAlong, double[] cosSeparate, double secondsPerEpoch,
      double fIdentityFrobenius, double fIdentityTrace, double fIdentityRowSpread, double outputSpread,
      double imageJacobian) {

    public RunResult {
      int n = epochs.length;
      if (n < 2 || error.length != n || gradNormMb.length != n || gradNormOb.length != n || cosAlong.length != n
          || cosSeparate.length != n) {
        throw new IllegalArgumentException("run " + algorithm + " lr " + learningRate + " #" + run
            + ": per-epoch arrays must all have one value per recorded epoch (" + n + ", at least 2)");
      }
    }

    /** The error before training (epoch 0). */
    public double initialError() {
      return error[0];
    }

    /** The error after the last epoch. */
    public double finalError() {
      return error[error.length - 1];
    }

    /** The paper discards runs that end no better than they started (Figure 6). */
    public boolean discarded() {
      return !(finalError() < initialError());
    }

    /**
     * Whether the trained f is trivial: near-constant on its own image, its Jacobian there
     * ({@link #imageJacobian}) below {@code threshold} in Frobenius norm. With the default 0.5 the
     * Jacobian is closer to the zero matrix than to any non-zero idempotent (whose norm is at
     * least 1). A near-constant f is idempotent whenever its constant is a fixed point, so its
     * small error says nothing about the algorithm (Appendix D's concern). A run whose measure is
     * not a number (diverged) is not trivial; it is discarded.
     */
    public boolean trivial(double threshold) {
      return imageJacobian < threshold;
    }

    /** The learning rate, as written in the CSV files and figure names. */
    public String lr() {
      return Float.toString(learningRate);
    }
  }

  /**
   * Run 0's parameter trajectories of MB (at MB's best learning rate) and OB (at OB's best), from
   * their shared initialisation, projected on the first two principal components of both
   * together, with the idempotent error on a grid over that plane.
   *
   * @param explainedVariance the fraction of the paths' total variance along PC1 and PC2 together
   * @param directionCosine |cos| between PC1 and PC2 as computed (0 up to rounding)
   */
  public record Trajectory(float learningRateMb, float learningRateOb, int[] epochs, double[][] mb, double[][] ob,
      double[] gridX, double[] gridY, double[][] surface, double[] componentVariance, double explainedVariance,
      double directionCosine) {}
}
