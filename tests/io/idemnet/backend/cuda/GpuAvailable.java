package io.idemnet.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * For tests tagged "gpu": {@link #assumeGpu()} in a static {@code @BeforeAll} skips the class
 * (with the reason) where no GPU is usable, before any instance exists; {@link #shared()} is one
 * cuda backend for the whole test JVM.
 */
final class GpuAvailable {
  private static CudaBackend shared;

  private GpuAvailable() {}

  static void assumeGpu() {
    CudaBackend.Availability a = CudaBackend.availability();
    assumeTrue(a.usable(), () -> "no usable GPU: " + a.reason());
  }

  static synchronized CudaBackend shared() {
    assumeGpu();
    if (shared == null) {
      shared = new CudaBackend();
      System.out.println("[gpu tests] " + shared + "; GEMM: " + shared.gemmEngine());
    }
    return shared;
  }
}
