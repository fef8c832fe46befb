package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.idempotent.SymmetricEigen;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Scores a trained IGN f (evaluation mode: running BatchNorm statistics, no dropout) for "generates
 * digits" with a {@link DigitClassifier}, on held-out real digits in [-1, 1] (formulas in
 * docs/ign.md):
 *
 * <ul>
 *   <li>The held-out images are split into two halves, A (even positions) and B (odd positions),
 *       {@code samples} each (fewer when the set is smaller).
 *   <li>{@code samples} noise images z from the training noise, one-step samples f(z) and f(f(z)).
 *   <li>Frechet distance between the classifier's 128 features of a set and of A:
 *       |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), covariances with n - 1; for f(z),
 *       f(f(z)) and, as the floor a perfect generator would reach at this sample size, B.
 *   <li>The classifier's class histogram of each set, its entropy in bits (log2 10 = 3.32 for
 *       uniform classes), and the fraction classified with softmax confidence above 0.9.
 *   <li>PSNR of f(d(x)) and f(f(d(x))) against x for x in A and each degradation d of Appendix F
 *       ({@link IgnDegradations}), and of d(x) itself; "none" is f(x): reconstruction. Per image
 *       10 log10(1 / MSE) with both images mapped to [0, 1] ((v + 1) / 2, not clipped), averaged
 *       over the images.
 * </ul>
 */
public final class IgnScore {
  private IgnScore() {}

  /** Images per set unless told otherwise. */
  public static final int DEFAULT_SAMPLES = 1000;
  /** The confidence above which a sample counts as confidently classified. */
  public static final double CONFIDENT = 0.9;

  /**
   * The scores as CSV columns, in a fixed order ({@link #COLUMNS}): counts as integers,
   * histograms as ten counts joined by ';'.
   */
  public static Map<String, String> score(Backend be, Sequential f, DigitClassifier classifier, Dataset heldOut, IgnNoise noise,
      int samples, long seed) {
    if (heldOut.channels() != 1 || heldOut.height() != 28 || heldOut.width() != 28) {
      throw new IllegalArgumentException("scoring needs 1x28x28 held-out digits, got " + heldOut.channels() + "x" + heldOut.height()
          + "x" + heldOut.width());
    }
    int n = Math.min(samples, heldOut.size() / 2);
    if (n < 2) throw new IllegalArgumentException("scoring needs at least 4 held-out images, got " + heldOut.size());
    int s = heldOut.sampleSize();
    float[] a = new float[n * s], b = new float[n * s];
    for (int i = 0; i < n; i++) {
      heldOut.copyImage(2 * i, a, i * s);
      heldOut.copyImage(2 * i + 1, b, i * s);
    }
    float[] z;
    try (Tensor t = be.zeros(n, 1, 28, 28)) {
      noise.sample(t, seed);
      z = t.toArray();
    }
    f.eval();
    Map<String, String> row = new LinkedHashMap<>();
    try (Graph g = new Graph(be)) {
      float[] fz = apply(be, g, f, z, n), ffz = apply(be, g, f, fz, n);
      DigitClassifier.Outputs ca = classifier.apply(a, n), cb = classifier.apply(b, n), cfz = classifier.apply(fz, n),
          cffz = classifier.apply(ffz, n);
      int correct = 0;
      for (int i = 0; i < n; i++) {
        if (ca.predicted(i) == heldOut.label(2 * i)) correct++;
        if (cb.predicted(i) == heldOut.label(2 * i + 1)) correct++;
      }
      double[][] fa = ca.featureRows();
      row.put("samples", Integer.toString(n));
      row.put("classifier_acc", fmt((double) correct / (2 * n)));
      row.put("fd_real", fmt(frechet(cb.featureRows(), fa)));
      row.put("fd_fz", fmt(frechet(cfz.featureRows(), fa)));
      row.put("fd_ffz", fmt(frechet(cffz.featureRows(), fa)));
      row.put("entropy_real", fmt(entropyBits(cb.histogram())));
      row.put("entropy_fz", fmt(entropyBits(cfz.histogram())));
      row.put("entropy_ffz", fmt(entropyBits(cffz.histogram())));
      row.put("confident_real", fmt(confidentFraction(cb)));
      row.put("confident_fz", fmt(confidentFraction(cfz)));
      row.put("confident_ffz", fmt(confidentFraction(cffz)));
      row.put("hist_real", joined(cb.histogram()));
      row.put("hist_fz", joined(cfz.histogram()));
      row.put("hist_ffz", joined(cffz.histogram()));
      row.put("idem_mse_fz", fmt(meanSquare(ffz, fz)));
      float[] fa1 = apply(be, g, f, a, n);
      row.put("psnr_none_f", fmt(psnr(fa1, a, n)));
      row.put("psnr_none_ff", fmt(psnr(apply(be, g, f, fa1, n), a, n)));
      float[] unit;
      try (Tensor e = be.zeros(n * s)) {
        be.randomNormal(e, seed * 31 + 0x15, 0f, 1f);
        unit = e.toArray();
      }
      for (IgnDegradations.Kind kind : IgnDegradations.Kind.values()) {
        float[] d = IgnDegradations.apply(kind, a, unit, n, 1, 28, 28);
        float[] fd = apply(be, g, f, d, n), ffd = apply(be, g, f, fd, n);
        row.put("psnr_" + kind.cliName() + "_d", fmt(psnr(d, a, n)));
        row.put("psnr_" + kind.cliName() + "_f", fmt(psnr(fd, a, n)));
        row.put("psnr_" + kind.cliName() + "_ff", fmt(psnr(ffd, a, n)));
      }
    } finally {
      f.train(true);
    }
    if (!row.keySet().equals(new java.util.LinkedHashSet<>(COLUMNS))) throw new IllegalStateException("score columns " + row.keySet());
    return row;
  }

  /** The columns {@link #score} returns, in order. */
  public static final java.util.List<String> COLUMNS = java.util.List.of("samples", "classifier_acc", "fd_real", "fd_fz", "fd_ffz",
      "entropy_real", "entropy_fz", "entropy_ffz", "confident_real", "confident_fz", "confident_ffz", "hist_real", "hist_fz",
      "hist_ffz", "idem_mse_fz", "psnr_none_f", "psnr_none_ff", "psnr_noise_d", "psnr_noise_f", "psnr_noise_ff",
      "psnr_greyscale_d", "psnr_greyscale_f", "psnr_greyscale_ff", "psnr_blur_d", "psnr_blur_f", "psnr_blur_ff");

  /** f applied to n 1x28x28 images, in chunks of 250, no tape. */
  private static float[] apply(Backend be, Graph g, Sequential f, float[] x, int n) {
    float[] out = new float[x.length];
    int s = 784;
    try (Graph.Scope scope = g.noGrad()) {
      for (int from = 0; from < n; from += 250) {
        int m = Math.min(250, n - from);
        try (Tensor t = be.zeros(m, 1, 28, 28)) {
          t.copyFrom(Arrays.copyOfRange(x, from * s, (from + m) * s));
          g.reset();
          System.arraycopy(f.forward(g, g.constant(t)).value().toArray(), 0, out, from * s, m * s);
        }
      }
    }
    return out;
  }

  /**
   * The Frechet distance between Gaussians fitted to two sets of rows (mean, covariance with
   * n - 1): |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2).
   */
  public static double frechet(double[][] x, double[][] y) {
    double[] m1 = mean(x), m2 = mean(y);
    return frechet(m1, covariance(x, m1), m2, covariance(y, m2));
  }

  /** The Frechet distance between N(mu1, s1) and N(mu2, s2); s1 and s2 symmetric positive semi-definite. */
  public static double frechet(double[] mu1, double[][] s1, double[] mu2, double[][] s2) {
    int d = mu1.length;
    if (mu2.length != d || s1.length != d || s2.length != d) throw new IllegalArgumentException("Frechet distance: dimensions differ");
    double diff = 0;
    for (int i = 0; i < d; i++) diff += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    double[][] v = new double[d][d];
    double[] l = SymmetricEigen.decompose(s1, v);
    double[][] root = new double[d][d]; // S1^1/2 = V diag(sqrt(max(l, 0))) V^T
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double sum = 0;
        for (int k = 0; k < d; k++) sum += v[i][k] * Math.sqrt(Math.max(l[k], 0)) * v[j][k];
        root[i][j] = sum;
      }
    }
    double[][] m = multiply(multiply(root, s2), root);
    for (int i = 0; i < d; i++) {
      for (int j = i + 1; j < d; j++) m[i][j] = m[j][i] = 0.5 * (m[i][j] + m[j][i]); // symmetric up to rounding
    }
    double[] mu = SymmetricEigen.decompose(m, new double[d][d]);
    double trRoot = 0, tr1 = 0, tr2 = 0;
    for (int i = 0; i < d; i++) {
      trRoot += Math.sqrt(Math.max(mu[i], 0));
      tr1 += s1[i][i];
      tr2 += s2[i][i];
    }
    return diff + tr1 + tr2 - 2 * trRoot;
  }

  /** Shannon entropy of a histogram, in bits (0 for a single class, log2 k for k equal classes). */
  public static double entropyBits(int[] histogram) {
    long total = 0;
    for (int c : histogram) {
      if (c < 0) throw new IllegalArgumentException("negative count in " + Arrays.toString(histogram));
      total += c;
    }
    if (total == 0) throw new IllegalArgumentException("empty histogram");
    double h = 0;
    for (int c : histogram) {
      if (c == 0) continue;
      double p = (double) c / total;
      h -= p * Math.log(p) / Math.log(2);
    }
    return h;
  }

  /**
   * Mean over n images of 10 log10(1 / MSE), both images mapped from [-1, 1] to [0, 1]; an exact
   * copy (MSE 0) counts as 100 dB.
   */
  public static double psnr(float[] y, float[] x, int n) {
    if (y.length != x.length || n < 1 || x.length % n != 0) throw new IllegalArgumentException("PSNR: shapes differ");
    int s = x.length / n;
    double total = 0;
    for (int i = 0; i < n; i++) {
      double mse = 0;
      for (int p = i * s; p < (i + 1) * s; p++) {
        double d = (y[p] - x[p]) / 2.0; // the difference in the [0, 1] scale
        mse += d * d;
      }
      mse /= s;
      total += mse == 0 ? 100 : Math.min(100, -10 * Math.log10(mse));
    }
    return total / n;
  }

  private static double confidentFraction(DigitClassifier.Outputs o) {
    int k = 0;
    for (int i = 0; i < o.n(); i++) if (o.confidence(i) > CONFIDENT) k++;
    return (double) k / o.n();
  }

  private static double meanSquare(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) sum += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
    return sum / a.length;
  }

  static double[] mean(double[][] x) {
    if (x.length < 2) throw new IllegalArgumentException("need at least 2 rows, got " + x.length);
    double[] m = new double[x[0].length];
    for (double[] r : x) for (int j = 0; j < m.length; j++) m[j] += r[j];
    for (int j = 0; j < m.length; j++) m[j] /= x.length;
    return m;
  }

  static double[][] covariance(double[][] x, double[] mean) {
    int d = mean.length;
    double[][] c = new double[d][d];
    for (double[] r : x) {
      for (int i = 0; i < d; i++) {
        double di = r[i] - mean[i];
        if (di == 0) continue;
        for (int j = 0; j <= i; j++) c[i][j] += di * (r[j] - mean[j]);
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = 0; j <= i; j++) c[j][i] = c[i][j] = c[i][j] / (x.length - 1);
    }
    return c;
  }

  private static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length, k = b.length, m = b[0].length;
    double[][] c = new double[n][m];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < k; p++) {
        double v = a[i][p];
        if (v == 0) continue;
        for (int j = 0; j < m; j++) c[i][j] += v * b[p][j];
      }
    }
    return c;
  }

  private static String joined(int[] h) {
    StringJoiner j = new StringJoiner(";");
    for (int c : h) j.add(Integer.toString(c));
    return j.toString();
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }
}
