package io.idemnet.nativelib;

/** A native library is missing, cannot be opened, or has the wrong ABI version. */
public final class NativeLibraryException extends RuntimeException {
  public NativeLibraryException(String message) {
    super(message);
  }

  public NativeLibraryException(String message, Throwable cause) {
    super(message, cause);
  }
}
