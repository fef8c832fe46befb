package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Appendix F's degradations ({@link IgnDegradations}). Tolerances: double sums over at most 441 terms, 1e-9. */
class IgnDegradationsTest {
  @Test
  void kernelIsTorchvisionsDefaultFor21() {
    assertEquals(3.5, IgnDegradations.torchvisionSigma(21), 1e-12);
    double[] k = IgnDegradations.gaussianKernel(21, 3.5);
    assertEquals(21, k.length);
    assertEquals(1.0, Arrays.stream(k).sum(), 1e-12);
    for (int i = 0; i < 10; i++) assertEquals(k[i], k[20 - i], 0);
    assertEquals(Math.exp(0.5 / (3.5 * 3.5)), k[10] / k[11], 1e-12, "taps at integer offsets");
    assertThrows(IllegalArgumentException.class, () -> IgnDegradations.gaussianKernel(20, 1));
  }

  @Test
  void blurReflectsWithoutRepeatingTheEdge() {
    assertEquals(1, IgnDegradations.reflect(-1, 28));
    assertEquals(10, IgnDegradations.reflect(-10, 28));
    assertEquals(26, IgnDegradations.reflect(28, 28));
    // A spike at row 1: pixel (0, 0) sees it through offset +1 and, reflected, through offset -1.
    float[] spike = new float[28 * 28];
    spike[28] = 1f;
    double[] k = IgnDegradations.gaussianKernel(21, 3.5);
    double[] b = IgnDegradations.gaussianBlur(spike, 1, 28, 28, 21, 3.5);
    assertEquals((k[11] + k[9]) * k[10], b[0], 1e-12);
    float[] flat = new float[2 * 28 * 28];
    Arrays.fill(flat, 0.7f);
    for (double v : IgnDegradations.gaussianBlur(flat, 2, 28, 28, 21, 3.5)) assertEquals(0.7, v, 1e-6);
    assertThrows(IllegalArgumentException.class, () -> IgnDegradations.gaussianBlur(new float[100], 1, 10, 10, 21, 3.5));
  }

  /** s(x) against the direct two-dimensional sum of its definition at every pixel of a random image. */
  @Test
  void blurRatioIsTheAppendixFormula() {
    Random r = new Random(3);
    float[] x = new float[28 * 28];
    for (int i = 0; i < x.length; i++) x[i] = r.nextFloat() * 2 - 1;
    float[] s = IgnDegradations.blurRatio(x, 1, 1, 28, 28);
    double[] k = IgnDegradations.gaussianKernel(21, 3.5);
    for (int m = 0; m < 28; m++) {
      for (int n = 0; n < 28; n++) {
        double blurred = 0;
        for (int a = -10; a <= 10; a++) {
          for (int b = -10; b <= 10; b++) {
            blurred += k[a + 10] * k[b + 10] * (x[IgnDegradations.reflect(m + a, 28) * 28 + IgnDegradations.reflect(n + b, 28)] + 1);
          }
        }
        double want = (x[m * 28 + n] + 1) / (blurred + 1e-10) - 1;
        assertEquals(want, s[m * 28 + n], 1e-5 * Math.max(1, Math.abs(want)), "pixel " + m + "," + n); // float output
      }
    }
    float[] background = new float[28 * 28];
    Arrays.fill(background, -1f);
    for (float v : IgnDegradations.blurRatio(background, 1, 1, 28, 28)) assertEquals(-1f, v, 0f);
  }

  @Test
  void greyscaleIsTheChannelMeanAndNoiseIsAdded() {
    float[] rgb = {1f, -1f, 0.5f, 0f, 0.2f, -0.4f}; // one 1x2 image: R plane, G plane, B plane
    float[] g = IgnDegradations.greyscale(rgb, 1, 3, 1, 2);
    float m0 = (1f + 0.5f + 0.2f) / 3, m1 = (-1f + 0f - 0.4f) / 3;
    assertArrayEquals(new float[] {m0, m1, m0, m1, m0, m1}, g, 1e-6f);
    float[] grey = {0.1f, -0.3f};
    assertArrayEquals(grey, IgnDegradations.greyscale(grey, 1, 1, 1, 2), 0f);
    float[] noisy = IgnDegradations.noise(grey, new float[] {1f, -2f});
    assertArrayEquals(new float[] {0.1f + 0.15f, -0.3f - 0.3f}, noisy, 1e-6f);
    assertThrows(IllegalArgumentException.class, () -> IgnDegradations.noise(grey, new float[3]));
    assertThrows(IllegalArgumentException.class, () -> IgnDegradations.greyscale(new float[5], 1, 3, 1, 2));
  }
}
