package io.idemnet.backend.cpu;

import io.idemnet.backend.Backend;
import io.idemnet.backend.SharedArithmeticContract;

/** The CPU library's element formulas (native/shared/idemnet_math.h) bit for bit against Java. */
class CpuSharedArithmeticTest extends SharedArithmeticContract {
  @Override
  protected Backend createCandidate() {
    return new CpuBackend();
  }
}
