package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.ConvKernelsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * {@link ConvKernelsTest} (its cases and stated tolerances) on the cuda backend with cuDNN
 * switched off: the im2col + GEMM path, which {@link CudaConvKernelsTest} no longer reaches where
 * cuDNN is in use. Skipped without a GPU.
 */
@Tag("gpu")
class CudaIm2colConvKernelsTest extends ConvKernelsTest {
  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  @Override
  protected Backend candidate() {
    return GpuAvailable.im2col();
  }
}
