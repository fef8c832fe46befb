package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.ConvKernelsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * {@link ConvKernelsTest} (its cases and stated tolerances) on the cuda backend as configured: cuDNN
 * where it is in use (its direct-sum algorithms meet the same componentwise bound), else im2col +
 * GEMM. Skipped without a GPU.
 */
@Tag("gpu")
class CudaConvKernelsTest extends ConvKernelsTest {
  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  @Override
  protected Backend candidate() {
    return GpuAvailable.shared();
  }
}
