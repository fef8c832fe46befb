package io.idemnet.sweep;

import java.io.Serializable;

/**
 * What a task sends back to the driver: the encoded result ({@link PairedRunFile}) or, after its
 * last allowed attempt failed, the error.
 *
 * @param result the encoded pair; null when the run failed
 * @param error the failure (exception, message, first stack frames); null on success
 * @param executor the executor that ran the last attempt
 * @param attempt Spark's attempt number (0 for the first)
 * @param seconds wall-clock time of this attempt
 */
public record TaskOutcome(byte[] result, String error, String executor, int attempt, double seconds)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  public boolean succeeded() {
    return result != null;
  }
}
