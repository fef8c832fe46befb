package io.idemnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dropout from the counter-based stream. Both backends evaluate the same double formula
 * (keep iff uniform(seed, i) >= p, value (float)(x * (1 / (1 - p)))), so outputs are compared for
 * exact equality.
 */
public class DropoutKernelsTest {
  private static final Backend REF = new ReferenceBackend();
  /** The backend under test: the CPU here; the cuda tests subclass this class and override {@link #candidate()}. */
  private final Backend CPU = candidate();

  protected Backend candidate() {
    return new CpuBackend();
  }

  private static float[] normal(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
    return v;
  }

  @ParameterizedTest(name = "p={0}")
  @ValueSource(floats = {0f, 0.1f, 0.5f, 0.9f, 1f})
  void sameMaskOnBothBackendsAndExpectedKeepRate(float p) {
    int n = 100_003; // above the parallel threshold, odd
    long seed = 12345;
    float[] xs = normal(new Random(1), n);
    for (int i = 0; i < n; i += 97) xs[i] = 0f; // a zero input must not be mistaken for a dropped one below
    try (Tensor xr = REF.fromArray(xs, n); Tensor yr = REF.zeros(n); Tensor xc = CPU.fromArray(xs, n);
        Tensor yc = CPU.zeros(n)) {
      REF.dropout(xr, p, seed, yr);
      CPU.dropout(xc, p, seed, yc);
      float[] ref = yr.toArray(), got = yc.toArray();
      assertArrayEquals(ref, got, "dropout p=" + p + " differs between backends");

      // The mask is the definition: element i kept iff uniform(seed, i) >= p.
      float[] u = new float[n];
      try (Tensor ut = CPU.zeros(n)) {
        CPU.randomUniform(ut, seed, 0f, 1f); // uniform(seed, i) is exact in float (24 bits)
        u = ut.toArray();
      }
      double scale = p < 1f ? 1.0 / (1.0 - p) : 0.0;
      long kept = 0;
      for (int i = 0; i < n; i++) {
        boolean keep = u[i] >= p;
        if (keep) kept++;
        float expected = keep ? (float) (xs[i] * scale) : 0f;
        if (expected != got[i]) throw new AssertionError("element " + i + ": expected " + expected + ", got " + got[i]);
      }
      // Kept count ~ Binomial(n, 1 - p): within 6 standard deviations.
      double sd = Math.sqrt(n * (double) p * (1 - p));
      assertTrue(Math.abs(kept - n * (1.0 - p)) <= 6 * sd + 1e-9,
          "kept " + kept + " of " + n + " at p=" + p + ", expected " + n * (1.0 - p) + " +- " + 6 * sd);
    }
  }

  /** The backward pass recomputes the same mask: dx = dy * mask / (1 - p), on both backends. */
  @Test
  void backwardUsesTheForwardMask() {
    int n = 40_001;
    float p = 0.3f;
    long seed = -7;
    Random rnd = new Random(2);
    float[] dys = normal(rnd, n), ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    for (Backend be : new Backend[] {REF, CPU}) {
      try (Tensor x = be.fromArray(ones, n); Tensor y = be.zeros(n); Tensor dy = be.fromArray(dys, n);
          Tensor dx = be.zeros(n)) {
        be.dropout(x, p, seed, y);
        be.dropoutBackward(dy, p, seed, dx);
        float[] mask = y.toArray(), g = dx.toArray();
        float scale = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < n; i++) {
          float expected = mask[i] == 0f ? 0f : (float) (dys[i] * (1.0 / (1.0 - p)));
          if (expected != g[i]) throw new AssertionError(be.name() + " element " + i + ": expected " + expected + ", got " + g[i]);
          if (mask[i] != 0f) assertEquals(scale, mask[i], be.name() + " kept ones are scaled by 1/(1-p)");
        }
        // In place, and a different seed gives a different mask.
        be.dropoutBackward(dy, p, seed + 1, dy);
        assertTrue(!java.util.Arrays.equals(g, dy.toArray()), be.name() + ": another seed, another mask");
      }
    }
  }
}
