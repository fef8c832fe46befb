package io.idemnet.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * For tests tagged "gpu": {@link #assumeGpu()} in a static {@code @BeforeAll} skips the class
 * (with the reason) where no GPU is usable, before any instance exists; {@link #shared()} is one
 * cuda backend for the whole test JVM. With {@code -Didemnet.test.requireGpu=true} (set by
 * bench/gpu/run-on-device.sh) a missing GPU fails the tests instead, so a GPU run cannot pass by
 * skipping everything, nor with cuDNN silently missing (cuBLAS is enforced by CudaBackend itself).
 */
final class GpuAvailable {
  private static CudaBackend shared;
  private static CudaBackend im2col;

  private GpuAvailable() {}

  static void assumeGpu() {
    CudaBackend.Availability a = CudaBackend.availability();
    if (Boolean.getBoolean("idemnet.test.requireGpu") && !a.usable()) {
      throw new AssertionError("idemnet.test.requireGpu is set but no GPU is usable: " + a.reason());
    }
    assumeTrue(a.usable(), () -> "no usable GPU: " + a.reason());
  }

  static synchronized CudaBackend shared() {
    assumeGpu();
    if (shared == null) {
      CudaBackend gpu = new CudaBackend(); // refuses to run without cuBLAS unless the builtin GEMM was asked for
      String conv = System.getProperty("idemnet.cuda.conv", "auto");
      if (Boolean.getBoolean("idemnet.test.requireGpu") && !gpu.usesCudnn() && !conv.equals("im2col")) {
        String why = gpu.convEngine();
        gpu.close();
        throw new AssertionError("idemnet.test.requireGpu is set but cuDNN is not in use (and "
            + "-Didemnet.cuda.conv=im2col was not given): " + why);
      }
      shared = gpu;
      System.out.println("[gpu tests] " + shared + "; GEMM: " + shared.gemmEngine() + "; convolutions: "
          + shared.convEngine());
    }
    return shared;
  }

  /** A second backend for the whole test JVM whose convolutions run as im2col + GEMM (cuDNN off). */
  static synchronized CudaBackend im2col() {
    assumeGpu();
    if (im2col == null) {
      im2col = new CudaBackend();
      if (im2col.usesCudnn()) im2col.setCudnn(false);
    }
    return im2col;
  }
}
