package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.BatchNormKernelsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/** {@link BatchNormKernelsTest} (its cases and stated tolerances) on the cuda backend; skipped without a GPU. */
@Tag("gpu")
class CudaBatchNormKernelsTest extends BatchNormKernelsTest {
  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  @Override
  protected Backend candidate() {
    return GpuAvailable.shared();
  }
}
