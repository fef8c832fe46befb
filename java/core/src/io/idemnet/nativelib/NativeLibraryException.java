package io.idemnet.nativelib;

/** A native library is missing, cannot be opened, or has the wrong ABI version. */
public final class NativeLibraryException extends RuntimeException {
  /** A library that cannot be loaded, and why. */
  public NativeLibraryException(String message) {
    super(message);
  }

  /** A library that cannot be loaded, why, and the cause. */
  public NativeLibraryException(String message, Throwable cause) {
    super(message, cause);
  }
}
