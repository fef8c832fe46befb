package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FpnExperimentTest {
  /** Three Gaussian blobs in 8 dimensions: every variant learns them well above chance. */
  private static Dataset blobs(int n, long seed) {
    Random rnd = new Random(seed);
    float[] x = new float[n * 8];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      for (int j = 0; j < 8; j++) x[i * 8 + j] = (float) (0.5 * rnd.nextGaussian() + (j % 3 == y[i] ? 1.0 : 0.0));
    }
    return new Dataset(x, y, 1, 1, 8);
  }

  @Test
  void everyVariantLearnsSeparableData() {
    Dataset train = blobs(600, 1), test = blobs(300, 2);
    for (FpnExperiment.Variant v : FpnExperiment.Variant.values()) {
      var config = new FpnExperiment.Config(v, 16, 0.5f, 3, 50, 1e-2f, 1e-4, 50, 30, 1, 3, false, 1);
      List<FpnExperiment.EpochResult> results = new FpnExperiment(new CpuBackend(), config, FpnExperiment.linearQ(), false)
          .run(train, test, 3, r -> {}, b -> {});
      assertEquals(3, results.size());
      FpnExperiment.EpochResult last = results.get(2);
      assertTrue(last.testAccuracy() > 0.9, v + ": accuracy " + last.testAccuracy());
      if (v == FpnExperiment.Variant.IMPLICIT || v == FpnExperiment.Variant.IMPLICIT_CG) assertTrue(last.meanVjps() >= 1, "implicit counts its products");
      if (v == FpnExperiment.Variant.JFB) assertEquals(0.0, last.meanVjps(), "JFB needs no Jacobian products");
      if (v != FpnExperiment.Variant.EXPLICIT) assertTrue(last.meanIterations() > 1, "the solver iterates");
    }
  }
}
