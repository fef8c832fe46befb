package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.SharedArithmeticContract;
import org.junit.jupiter.api.Tag;

/**
 * The CUDA kernels' element formulas (native/shared/idemnet_math.h, with round-to-nearest
 * intrinsics) bit for bit against Java, hence against the CPU library. Skipped without a GPU.
 */
@Tag("gpu")
class CudaSharedArithmeticTest extends SharedArithmeticContract {
  @Override
  protected Backend createCandidate() {
    return GpuAvailable.shared();
  }

  @Override
  protected boolean closeCandidate() {
    return false; // shared by the GPU test classes
  }
}
