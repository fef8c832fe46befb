package io.idemnet.nativelib;

/** A native kernel returned an error status; the message is the kernel's own. */
public final class NativeCallException extends RuntimeException {
  private final int status;

  /** A failed call of {@code operation} with the library's status code and message. */
  public NativeCallException(String operation, int status, String nativeMessage) {
    super(operation + " failed (status " + status + "): " + nativeMessage);
    this.status = status;
  }

  /** The status code: one of the {@code ERR_*} constants of {@link NativeAbi} ({@code idemnet_common.h}). */
  public int status() {
    return status;
  }
}
