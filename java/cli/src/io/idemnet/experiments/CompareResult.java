package io.idemnet.experiments;

import java.util.List;

/** What a comparison produced; runs that were interrupted are absent. */
public record CompareResult(CompareConfig config, List<RunResult> runs, List<Trajectory> trajectories, boolean interrupted) {

  /** One run of one algorithm at one learning rate. */
  public record RunResult(String algorithm, float learningRate, int run, double[] errorPerEpoch, double[] secondsPerEpoch,
      double[] gradNormMb, double[] gradNormOb, double[] cosAlong, double[] cosSeparate, double fIdentityFrobenius,
      double fIdentityTrace) {

    /** The error before training (epoch 0) and after the last epoch. */
    public double initialError() {
      return errorPerEpoch[0];
    }

    public double finalError() {
      return errorPerEpoch[errorPerEpoch.length - 1];
    }

    /** The paper discards runs that end no better than they started. */
    public boolean discarded() {
      return !(finalError() < initialError());
    }

    /** Mean training seconds per epoch (epochs 1..E). */
    public double meanSecondsPerEpoch() {
      double s = 0;
      for (int e = 1; e < secondsPerEpoch.length; e++) s += secondsPerEpoch[e];
      return s / Math.max(1, secondsPerEpoch.length - 1);
    }
  }

  /**
   * Run 0's parameter trajectories for both algorithms at one learning rate, projected on the
   * first two principal components of both together (origin: the shared initialisation), with
   * the idempotent error on a grid over that plane.
   */
  public record Trajectory(float learningRate, double[][] mb, double[][] ob, double[] gridX, double[] gridY,
      double[][] surface, double[] explainedVariance) {}
}
