package io.idemnet.backend.cuda;

import io.idemnet.backend.Backend;
import io.idemnet.backend.BackendVsReferenceContract;
import org.junit.jupiter.api.Tag;

/**
 * Every kernel of the cuda backend against the reference backend, with the same tolerances as the
 * CPU backend (stated in {@link BackendVsReferenceContract}; they bound any summation order, and
 * CUDA's float tanh/exp are within 2 ulp). TF32 is off. Skipped without a GPU.
 */
@Tag("gpu")
class CudaVsReferenceTest extends BackendVsReferenceContract {
  @Override
  protected Backend createCandidate() {
    return GpuAvailable.shared();
  }

  @Override
  protected boolean closeCandidate() {
    return false; // shared by the GPU test classes
  }
}
