package io.idemnet.backend.cuda;

import io.idemnet.nativelib.NativeLibraries;
import java.lang.foreign.SymbolLookup;

/**
 * Opens {@code libidemnet_cuda} for the generated {@link CudaNative} (its {@code loader}). Loading
 * needs no GPU: the library links the CUDA runtime statically and asks the driver for devices only
 * when told to.
 */
final class CudaLibrary {
  private CudaLibrary() {}

  static SymbolLookup open() {
    // Options the library reads through getenv, settable as system properties.
    setFromProperty("idemnet.cublas.library", "IDEMNET_CUBLAS_LIBRARY");
    setFromProperty("idemnet.cuda.gemm", "IDEMNET_CUDA_GEMM");
    setFromProperty("idemnet.cudnn.library", "IDEMNET_CUDNN_LIBRARY");
    setFromProperty("idemnet.cuda.conv", "IDEMNET_CUDA_CONV");
    return NativeLibraries.load("idemnet_cuda");
  }

  private static void setFromProperty(String property, String variable) {
    String value = System.getProperty(property);
    if (value != null && !value.isBlank()) NativeLibraries.setEnvironmentVariable(variable, value, true);
  }
}
