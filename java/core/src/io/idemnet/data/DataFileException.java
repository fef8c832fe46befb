package io.idemnet.data;

import java.io.IOException;

/**
 * A data file that cannot be used: bad magic, an unknown type, impossible or forged dimensions,
 * truncated or corrupt (gzip) data, trailing bytes, labels out of range, an image no decoder reads.
 * The message starts with the file (or source) and then says the problem; {@link #source()} gives
 * the file alone.
 */
public class DataFileException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String source;

  /** A problem with {@code source} (a file, or a description of a stream). */
  public DataFileException(Object source, String problem) {
    super(source + ": " + problem);
    this.source = String.valueOf(source);
  }

  /** A problem with {@code source} (a file, or a description of a stream) and its cause. */
  public DataFileException(Object source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
    this.source = String.valueOf(source);
  }

  /** The file (or the name of the stream) the problem is in. */
  public String source() {
    return source;
  }
}
