package io.idemnet.fpn;

/**
 * The fixed-point iteration produced a NaN or infinite residual: T is not a contraction at these
 * weights, or the input holds NaN or infinite values. Nothing was recorded for a backward pass.
 */
public final class FixedPointDivergedException extends IllegalStateException {
  /** A diverged solve, described by {@code message}. */
  public FixedPointDivergedException(String message) {
    super(message);
  }
}
