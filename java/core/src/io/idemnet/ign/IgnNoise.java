package io.idemnet.ign;

import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;

/** The source distribution z of an IGN: fills a batch with noise that depends only on the seed. */
@FunctionalInterface
public interface IgnNoise {
  /** Fills {@code z} with noise; the same seed gives the same noise. */
  void sample(Tensor z, long seed);

  /** z ~ N(0, 1) elementwise (the counter-based generator). */
  static IgnNoise normal(Backend backend) {
    return (z, seed) -> backend.randomNormal(z, seed, 0f, 1f);
  }

  /** Which noise `idemnet ign --noise` draws. */
  enum Kind {
    /** N(0, 1) per pixel. */
    NORMAL,
    /** The data's per-frequency DFT statistics ({@link FrequencyNoise}). */
    FFT
  }
}
