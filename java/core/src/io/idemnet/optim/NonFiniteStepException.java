package io.idemnet.optim;

/**
 * A training step whose loss or gradient was NaN or infinite, refused by an optimizer with the
 * {@link Optimizer.NonFinitePolicy#FAIL} policy, or a run stopped after too many such steps in a
 * row. Nothing was updated by the refused step.
 */
public final class NonFiniteStepException extends RuntimeException {
  /** A refused step, described by {@code message}. */
  public NonFiniteStepException(String message) {
    super(message);
  }
}
