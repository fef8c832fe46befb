package io.idemnet.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read or does not fit its targets: truncated, malformed header,
 * unsupported dtype, inconsistent offsets, a missing tensor or a shape mismatch. The message names
 * the file and the problem; {@link #file()} gives the file.
 */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /** A problem with {@code file}. */
  public CheckpointException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** A problem with {@code file} and its cause. */
  public CheckpointException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file the problem is in. */
  public Path file() {
    return file;
  }
}
