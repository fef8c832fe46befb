package io.idemnet.backend.cpu;

import io.idemnet.backend.Backend;
import io.idemnet.backend.BackendVsReferenceContract;

/** Every CPU kernel against the reference backend, with the tolerances stated in the contract. */
class CpuVsReferenceTest extends BackendVsReferenceContract {
  @Override
  protected Backend createCandidate() {
    return new CpuBackend();
  }
}
