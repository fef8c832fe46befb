package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.nn.Sequential;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IgnScoreTest {
  private static final Backend CPU = new CpuBackend();

  /**
   * Covariances sharing eigenvectors Q (a random rotation): S1 = Q D1 Q^T, S2 = Q D2 Q^T, for which
   * the Frechet distance is |mu1 - mu2|^2 + sum (sqrt d1 - sqrt d2)^2. 1e-8 relative: double
   * arithmetic through two Jacobi eigen-decompositions of 6x6 matrices.
   */
  @Test
  void frechetDistanceMatchesTheClosedFormForCommutingCovariances() {
    int d = 6;
    Random r = new Random(4);
    double[][] q = randomRotation(d, r);
    double[] d1 = new double[d], d2 = new double[d], mu1 = new double[d], mu2 = new double[d];
    double want = 0;
    for (int i = 0; i < d; i++) {
      d1[i] = 0.1 + r.nextDouble() * 3;
      d2[i] = i == 0 ? 0 : 0.1 + r.nextDouble() * 3; // one zero eigenvalue: semi-definite
      mu1[i] = r.nextGaussian();
      mu2[i] = r.nextGaussian();
      want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + Math.pow(Math.sqrt(d1[i]) - Math.sqrt(d2[i]), 2);
    }
    double got = IgnScore.frechet(mu1, conjugate(q, d1), mu2, conjugate(q, d2));
    assertEquals(want, got, 1e-8 * want);
    assertEquals(0, IgnScore.frechet(mu1, conjugate(q, d1), mu1, conjugate(q, d1)), 1e-8);
  }

  /** Sample statistics: n - 1 covariance, and FD of a set with itself is 0, with a shifted copy the shift squared. */
  @Test
  void frechetDistanceOfSamples() {
    Random r = new Random(8);
    double[][] x = new double[50][3], shifted = new double[50][3];
    for (int i = 0; i < 50; i++) {
      for (int j = 0; j < 3; j++) {
        x[i][j] = r.nextGaussian() * (j + 1);
        shifted[i][j] = x[i][j] + (j == 1 ? 2 : 0);
      }
    }
    assertEquals(0, IgnScore.frechet(x, x), 1e-9);
    assertEquals(4, IgnScore.frechet(x, shifted), 1e-9);
    double[][] two = {{1, 0}, {3, 0}};
    double[][] c = IgnScore.covariance(two, IgnScore.mean(two));
    assertEquals(2.0, c[0][0], 1e-12, "n - 1 in the denominator: ((1-2)^2 + (3-2)^2) / 1");
  }

  @Test
  void entropyAndPsnr() {
    assertEquals(Math.log(10) / Math.log(2), IgnScore.entropyBits(new int[] {5, 5, 5, 5, 5, 5, 5, 5, 5, 5}), 1e-12);
    assertEquals(0, IgnScore.entropyBits(new int[] {0, 9, 0}), 0);
    assertEquals(1, IgnScore.entropyBits(new int[] {3, 0, 3}), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> IgnScore.entropyBits(new int[3]));
    // An error of 0.2 in [-1, 1] is 0.1 in [0, 1]: MSE 0.01, 20 dB; an exact copy counts as 100 dB.
    float[] x = {0f, 0.5f, -1f, 1f}, y = {0.2f, 0.7f, -1f, 1f};
    assertEquals((20 + 100) / 2.0, IgnScore.psnr(y, x, 2), 1e-5);
  }

  /** The whole scorer on random data with untrained networks: every column present and in range; same seed, same row. */
  @Test
  void scoresEveryColumnReproducibly(@TempDir Path dir) throws Exception {
    Random r = new Random(2);
    int n = 24;
    float[] imgs = new float[n * 784];
    int[] labels = new int[n];
    for (int i = 0; i < imgs.length; i++) imgs[i] = r.nextFloat() * 2 - 1;
    for (int i = 0; i < n; i++) labels[i] = i % 10;
    Dataset heldOut = new Dataset(imgs, labels, 1, 28, 28);
    try (Sequential f = IgnNetworks.paper(CPU, 1, 0.125f, 3); DigitClassifier c = new DigitClassifier(CPU, 5)) {
      Map<String, String> a = IgnScore.score(CPU, f, c, heldOut, IgnNoise.normal(CPU), 100, 9);
      Map<String, String> b = IgnScore.score(CPU, f, c, heldOut, IgnNoise.normal(CPU), 100, 9);
      assertEquals(a, b);
      assertEquals(IgnScore.COLUMNS, java.util.List.copyOf(a.keySet()));
      assertEquals("12", a.get("samples"), "half the held-out set");
      for (String k : new String[] {"fd_real", "fd_fz", "fd_ffz"}) assertTrue(Double.parseDouble(a.get(k)) > -1e-6, k + " " + a.get(k));
      double e = Double.parseDouble(a.get("entropy_fz"));
      assertTrue(e >= 0 && e <= Math.log(10) / Math.log(2) + 1e-9);
      int total = 0;
      for (String v : a.get("hist_fz").split(";")) total += Integer.parseInt(v);
      assertEquals(12, total);
      assertEquals("100.000", a.get("psnr_greyscale_d"), "greyscale is the identity on one channel");
      // The saved classifier loads back to the same outputs.
      Path file = dir.resolve("c.safetensors");
      c.save(file, Map.of("test_accuracy", "0.5"));
      try (DigitClassifier back = DigitClassifier.load(CPU, file)) {
        assertEquals(a, IgnScore.score(CPU, f, back, heldOut, IgnNoise.normal(CPU), 100, 9));
      }
      assertEquals("0.5", DigitClassifier.metadata(file).get("test_accuracy"));
    }
  }

  /** A few epochs on 200 images of two easily told apart classes (bright top half vs bright bottom half): accuracy 1. */
  @Test
  void classifierLearnsASeparableTask() {
    Random r = new Random(6);
    int n = 200;
    float[] imgs = new float[n * 784];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2 == 0 ? 3 : 7;
      for (int p = 0; p < 784; p++) {
        boolean top = p < 392;
        imgs[i * 784 + p] = (top == (labels[i] == 3) ? 0.8f : -0.8f) + 0.2f * (float) r.nextGaussian();
      }
    }
    Dataset d = new Dataset(imgs, labels, 1, 28, 28);
    try (DigitClassifier c = new DigitClassifier(CPU, 1)) {
      c.train(d, new DigitClassifier.Training(1e-3f, 20, 3, 1), e -> {});
      assertEquals(1.0, c.accuracy(d), 0);
    }
  }

  private static double[][] randomRotation(int d, Random r) {
    double[][] q = new double[d][d];
    for (int j = 0; j < d; j++) { // Gram-Schmidt on random columns
      double[] v = new double[d];
      for (int i = 0; i < d; i++) v[i] = r.nextGaussian();
      for (int k = 0; k < j; k++) {
        double dot = 0;
        for (int i = 0; i < d; i++) dot += v[i] * q[i][k];
        for (int i = 0; i < d; i++) v[i] -= dot * q[i][k];
      }
      double norm = 0;
      for (double x : v) norm += x * x;
      norm = Math.sqrt(norm);
      for (int i = 0; i < d; i++) q[i][j] = v[i] / norm;
    }
    return q;
  }

  private static double[][] conjugate(double[][] q, double[] diag) {
    int d = diag.length;
    double[][] s = new double[d][d];
    for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) for (int k = 0; k < d; k++) s[i][j] += q[i][k] * diag[k] * q[j][k];
    return s;
  }
}
