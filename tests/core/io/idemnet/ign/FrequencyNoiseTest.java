package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrequencyNoiseTest {
  private static final Backend CPU = new CpuBackend();

  /** The O(n^4) textbook DFT with exp(sign 2 pi i (k m / H + l n / W)), optionally scaled by 1/(HW). */
  private static double[][] naive(double[] xr, double[] xi, int h, int w, int sign, boolean scale) {
    double[] re = new double[h * w], im = new double[h * w];
    for (int k = 0; k < h; k++) {
      for (int l = 0; l < w; l++) {
        double sr = 0, si = 0;
        for (int m = 0; m < h; m++) {
          for (int n = 0; n < w; n++) {
            double a = sign * 2 * Math.PI * ((double) k * m / h + (double) l * n / w);
            double c = Math.cos(a), s = Math.sin(a);
            sr += xr[m * w + n] * c - xi[m * w + n] * s;
            si += xr[m * w + n] * s + xi[m * w + n] * c;
          }
        }
        re[k * w + l] = scale ? sr / (h * w) : sr;
        im[k * w + l] = scale ? si / (h * w) : si;
      }
    }
    return new double[][] {re, im};
  }

  private static double[] random(Random r, int n) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
    return a;
  }

  @Test
  void dftMatchesTheNaiveDftOnASmallNonSquareImage() {
    int h = 5, w = 7;
    Random r = new Random(1);
    double[] xr = random(r, h * w), xi = random(r, h * w), zero = new double[h * w];
    Dft2 dft = new Dft2(h, w);
    double[] re = new double[h * w], im = new double[h * w];
    dft.forward(xr, re, im); // real input
    double[][] ref = naive(xr, zero, h, w, -1, false);
    assertArrayEquals(ref[0], re, 1e-11);
    assertArrayEquals(ref[1], im, 1e-11);
    dft.forward(xr, xi, re, im); // complex input
    ref = naive(xr, xi, h, w, -1, false);
    assertArrayEquals(ref[0], re, 1e-11);
    assertArrayEquals(ref[1], im, 1e-11);
    dft.inverse(xr, xi, re, im);
    ref = naive(xr, xi, h, w, +1, true);
    assertArrayEquals(ref[0], re, 1e-12);
    assertArrayEquals(ref[1], im, 1e-12);
    double[] real = new double[h * w];
    dft.inverseReal(xr, xi, real);
    assertArrayEquals(ref[0], real, 1e-12);
  }

  @Test
  void inverseOfForwardIsTheIdentityAtTheImageSizes() {
    for (int n : new int[] {28, 64}) {
      Random r = new Random(n);
      double[] x = random(r, n * n), re = new double[n * n], im = new double[n * n], back = new double[n * n];
      double[] backIm = new double[n * n];
      Dft2 dft = new Dft2(n, n);
      dft.forward(x, re, im);
      dft.inverse(re, im, back, backIm);
      assertArrayEquals(x, back, 1e-12, n + "x" + n);
      for (double v : backIm) assertEquals(0, v, 1e-12);
      double sum = Arrays.stream(x).sum();
      assertEquals(sum, re[0], 1e-9, "DC = sum of the pixels");
    }
  }

  /** Images with a channel-dependent smooth pattern, a random amplitude and pixel noise. */
  private static Dataset structured(int count, int c, int h, int w, long seed) {
    Random r = new Random(seed);
    float[] x = new float[count * c * h * w];
    for (int i = 0; i < count; i++) {
      double a = 0.5 + 0.3 * r.nextGaussian();
      for (int ch = 0; ch < c; ch++) {
        for (int m = 0; m < h; m++) {
          for (int n = 0; n < w; n++) {
            double v = a * Math.cos(2 * Math.PI * (m + 0.5 * ch) / h) * Math.sin(2 * Math.PI * n / w + ch) + 0.2 * ch
                + 0.1 * r.nextGaussian();
            x[((i * c + ch) * h + m) * w + n] = (float) v;
          }
        }
      }
    }
    return new Dataset(x, new int[count], c, h, w);
  }

  @Test
  void statisticsAgreeWithAPlainTwoPassComputation() {
    int c = 2, h = 6, w = 5, count = 150; // more than two chunks of 64
    Dataset d = structured(count, c, h, w, 3);
    FrequencyNoise.Statistics s = FrequencyNoise.Statistics.of(d, 1000);
    assertEquals(count, s.images());
    Dft2 dft = new Dft2(h, w);
    int plane = h * w;
    double[][] re = new double[count][c * plane], im = new double[count][c * plane];
    for (int i = 0; i < count; i++) {
      float[] img = d.image(i);
      for (int ch = 0; ch < c; ch++) {
        double[] x = new double[plane], r = new double[plane], q = new double[plane];
        for (int p = 0; p < plane; p++) x[p] = img[ch * plane + p];
        dft.forward(x, r, q);
        System.arraycopy(r, 0, re[i], ch * plane, plane);
        System.arraycopy(q, 0, im[i], ch * plane, plane);
      }
    }
    for (int f = 0; f < c * plane; f++) {
      double mr = 0, mi = 0;
      for (int i = 0; i < count; i++) {
        mr += re[i][f] / count;
        mi += im[i][f] / count;
      }
      double vr = 0, vi = 0;
      for (int i = 0; i < count; i++) {
        vr += (re[i][f] - mr) * (re[i][f] - mr) / (count - 1);
        vi += (im[i][f] - mi) * (im[i][f] - mi) / (count - 1);
      }
      assertEquals(mr, s.realMean()[f], 1e-10);
      assertEquals(mi, s.imagMean()[f], 1e-10);
      assertEquals(Math.sqrt(vr), s.realStd()[f], 1e-10);
      assertEquals(Math.sqrt(vi), s.imagStd()[f], 1e-10);
    }
    // Only the first maxImages count.
    assertEquals(FrequencyNoise.Statistics.of(d.subset(0, 10), 100).realStd()[3], FrequencyNoise.Statistics.of(d, 10).realStd()[3]);
  }

  /**
   * The noise's own DFT is X[k] = (Z[k] + conj(Z[-k])) / 2 (the real part of an inverse DFT of
   * independent coefficients). Expected per frequency: mean = the data's mean; sd of the real
   * part sqrt(sd_re[k]^2 + sd_re[-k]^2) / 2 (= sd_re / sqrt 2 for real data) where k != -k, sd_re
   * where k = -k; imaginary part likewise, and exactly 0 where k = -k. Tolerances: 5 standard
   * errors (sd / sqrt N for a mean, sd / sqrt(2N) for an sd) plus 1e-9 of the DC scale.
   */
  @Test
  void sampledNoiseHasTheStatedPerFrequencyMeanAndStd() {
    int c = 2, h = 8, w = 6, plane = h * w, samples = 6000;
    FrequencyNoise.Statistics s = FrequencyNoise.Statistics.of(structured(400, c, h, w, 4), 400);
    FrequencyNoise noise = new FrequencyNoise(CPU, s);
    float[] z = noise.sample(samples, 77);
    Dft2 dft = new Dft2(h, w);
    double[] sumRe = new double[c * plane], sumIm = new double[c * plane], sqRe = new double[c * plane], sqIm = new double[c * plane];
    double[] x = new double[plane], re = new double[plane], im = new double[plane];
    for (int i = 0; i < samples; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < plane; p++) x[p] = z[(i * c + ch) * plane + p];
        dft.forward(x, re, im);
        for (int p = 0; p < plane; p++) {
          sumRe[ch * plane + p] += re[p];
          sumIm[ch * plane + p] += im[p];
          sqRe[ch * plane + p] += re[p] * re[p];
          sqIm[ch * plane + p] += im[p] * im[p];
        }
      }
    }
    double scale = 1e-9 * Arrays.stream(s.realMean()).map(Math::abs).max().orElse(1) + 1e-9;
    int halved = 0;
    for (int ch = 0; ch < c; ch++) {
      for (int k = 0; k < h; k++) {
        for (int l = 0; l < w; l++) {
          int f = ch * plane + k * w + l, g = ch * plane + ((h - k) % h) * w + (w - l) % w;
          boolean self = f == g;
          double expSdRe = self ? s.realStd()[f] : Math.hypot(s.realStd()[f], s.realStd()[g]) / 2;
          double expSdIm = self ? 0 : Math.hypot(s.imagStd()[f], s.imagStd()[g]) / 2;
          double mRe = sumRe[f] / samples, mIm = sumIm[f] / samples;
          double sdRe = Math.sqrt(Math.max(0, sqRe[f] / samples - mRe * mRe) * samples / (samples - 1));
          double sdIm = Math.sqrt(Math.max(0, sqIm[f] / samples - mIm * mIm) * samples / (samples - 1));
          String at = "channel " + ch + " frequency (" + k + ", " + l + ")";
          assertEquals(s.realMean()[f], mRe, 5 * expSdRe / Math.sqrt(samples) + scale, at + " mean re");
          assertEquals(self ? 0 : s.imagMean()[f], mIm, 5 * expSdIm / Math.sqrt(samples) + scale, at + " mean im");
          assertEquals(expSdRe, sdRe, 5 * expSdRe / Math.sqrt(2.0 * samples) + scale, at + " sd re");
          assertEquals(expSdIm, sdIm, 5 * expSdIm / Math.sqrt(2.0 * samples) + scale, at + " sd im");
          if (!self) {
            // Real data: sd[-k] = sd[k], so the noise's sd is the data's over sqrt 2.
            assertEquals(s.realStd()[f] / Math.sqrt(2), expSdRe, 1e-9 * (1 + s.realStd()[f]), at);
            halved++;
          }
        }
      }
    }
    assertEquals(c * (plane - 4), halved, "4 self-conjugate frequencies per channel for even H and W");
  }

  @Test
  void noiseDependsOnlyOnTheSeedAndChecksItsShape() {
    FrequencyNoise noise = new FrequencyNoise(CPU, FrequencyNoise.Statistics.of(structured(20, 1, 28, 28, 5), 20));
    try (Tensor a = CPU.zeros(3, 1, 28, 28); Tensor b = CPU.zeros(3, 1, 28, 28); Tensor wrong = CPU.zeros(3, 3, 28, 28)) {
      noise.sample(a, 9);
      noise.sample(b, 9);
      assertArrayEquals(a.toArray(), b.toArray());
      noise.sample(b, 10);
      assertFalse(Arrays.equals(a.toArray(), b.toArray()));
      for (float v : a.toArray()) assertTrue(Float.isFinite(v));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noise.sample(wrong, 1));
      assertTrue(e.getMessage().contains("1 x 28 x 28"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> FrequencyNoise.Statistics.of(structured(1, 1, 4, 4, 6), 10));
    assertThrows(IllegalArgumentException.class, () -> FrequencyNoise.Statistics.of(structured(5, 1, 4, 4, 6), 1));
  }
}
