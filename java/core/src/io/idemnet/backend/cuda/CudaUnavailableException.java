package io.idemnet.backend.cuda;

/**
 * The cuda backend was asked for and cannot run here: the CUDA library was not built or cannot be
 * loaded, there is no NVIDIA driver, or no device. The message says which.
 */
public final class CudaUnavailableException extends IllegalStateException {
  /** An exception with the reason the cuda backend cannot run. */
  public CudaUnavailableException(String message) {
    super(message);
  }

  /** An exception with the reason the cuda backend cannot run and its cause. */
  public CudaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
