package io.idemnet.bench;

/**
 * Thrown from a benchmark's setup when its parameters cannot run here (no GPU, a step that cannot
 * be captured as a CUDA graph, TF32 asked of the cpu backend). JMH then reports that parameter
 * set as failed with this message and goes on with the next one; the message is the whole report,
 * so the exception carries no stack trace.
 */
final class BenchmarkSkipped extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BenchmarkSkipped(String message) {
    super("SKIPPED: " + message, null, false, false);
  }
}
