package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The after-training figures of a trained IGN f (evaluation mode: running BatchNorm statistics,
 * no dropout), on real images of the data set in [-1, 1]; formulas in docs/ign.md.
 *
 * <ul>
 *   <li>{@code interpolation.png}: for each of {@code pairs} pairs of real images (a, b) and
 *       alpha = j / (steps - 1), j = 0 .. steps - 1 (columns), five rows: x_alpha = (1 - alpha) x_a
 *       + alpha x_b, f(x_alpha), f(f(x_alpha)) (IGN's interpolation: its latent is its input
 *       space), then the encoder-latent interpolation D((1 - alpha) E(x_a) + alpha E(x_b)) and
 *       f of it, where E is f up to the latent (the children before the first transposed
 *       convolution) and D the rest.
 *   <li>{@code samples.png}: one-step samples f(z) of 64 noise batches z drawn from the training
 *       noise (N(0, 1), or the data's frequency statistics for checkpoints trained with
 *       {@code --noise fft}), 8 rows of 8.
 *   <li>{@code ood_noise.png}, {@code ood_greyscale.png} (three-channel data only; skipped for
 *       one channel, where greyscale is the identity), {@code ood_blur.png}: {@code count}
 *       images (columns), four rows: the clean image x, the degraded image d(x), f(d(x)),
 *       f(f(d(x))). Degradations: d(x) = x + 0.15 e, e ~ N(0, 1) per pixel, in the [-1, 1] scale,
 *       not clipped; greyscale: every channel becomes 0.299 R + 0.587 G + 0.114 B; blur: a
 *       separable Gaussian of standard deviation sigma pixels (kernel radius ceil(3 sigma),
 *       weights normalised to 1, edge pixels repeated).
 * </ul>
 */
public final class IgnFigures {
  /** Standard deviation of the additive Gaussian noise, in the [-1, 1] scale. */
  public static final float NOISE_SD = 0.15f;

  /**
   * @param count images in each out-of-distribution figure
   * @param pairs image pairs in the interpolation figure
   * @param steps interpolation steps (alpha = 0 .. 1), at least 2
   * @param seed picks the images and draws the noise
   * @param blurSigma the blur's standard deviation in pixels
   */
  public record Options(int count, int pairs, int steps, long seed, double blurSigma) {
    public Options {
      if (count < 1 || pairs < 1 || steps < 2) {
        throw new IllegalArgumentException("figures need count >= 1, pairs >= 1 and steps >= 2, got " + count + ", " + pairs + ", " + steps);
      }
      if (!(blurSigma > 0) || !Double.isFinite(blurSigma)) throw new IllegalArgumentException("blur sigma must be positive, got " + blurSigma);
    }

    /** 8 images, 2 pairs, 8 steps, blur sigma {@link #defaultBlurSigma(int)}. */
    public static Options defaults(int imageSize, long seed) {
      return new Options(8, 2, 8, seed, defaultBlurSigma(imageSize));
    }
  }

  private IgnFigures() {}

  /** max(1, side / 32) pixels: 1 for 28x28, 2 for 64x64. */
  public static double defaultBlurSigma(int side) {
    return Math.max(1.0, side / 32.0);
  }

  /** Pixel magnification in the figures: round(96 / side), at least 1 (3 for 28x28, 2 for 64x64). */
  public static int scale(int side) {
    return Math.max(1, (int) Math.round(96.0 / side));
  }

  /** Writes the figures into {@code dir}; returns their paths. f is left in training mode. */
  public static List<Path> write(Backend be, Sequential f, Dataset data, IgnNoise noise, Options o, Path dir) throws IOException {
    if (data.size() < 2) throw new IllegalArgumentException("figures need at least 2 real images; the data set has " + data.size());
    List<Path> written = new ArrayList<>();
    f.eval();
    try (Graph g = new Graph(be)) {
      Eval ev = new Eval(be, g);
      written.add(samples(ev, f, data, noise, o, dir.resolve("samples.png")));
      written.add(interpolation(ev, f, data, o, dir.resolve("interpolation.png")));
      written.addAll(outOfDistribution(ev, f, data, o, dir));
    } finally {
      f.train(true);
    }
    return written;
  }

  private static Path samples(Eval ev, Sequential f, Dataset data, IgnNoise noise, Options o, Path png) throws IOException {
    int c = data.channels(), h = data.height(), w = data.width(), per = 8;
    float[] z;
    try (Tensor t = ev.be.zeros(per * per, c, h, w)) {
      noise.sample(t, o.seed() * 131 + 0x5A);
      z = t.toArray();
    }
    float[] fz = ev.apply(f, z, per * per, c, h, w).values;
    int s = data.sampleSize();
    float[][] rows = new float[per][];
    for (int r = 0; r < per; r++) rows[r] = java.util.Arrays.copyOfRange(fz, r * per * s, (r + 1) * per * s);
    ImageGrid.write(png, rows, per, c, h, w, scale(h));
    return png;
  }

  private static Path interpolation(Eval ev, Sequential f, Dataset data, Options o, Path png) throws IOException {
    int c = data.channels(), h = data.height(), w = data.width(), s = data.sampleSize(), steps = o.steps();
    Sequential enc = IgnNetworks.encoder(f), dec = IgnNetworks.decoder(f);
    SplittableRandom rnd = new SplittableRandom(o.seed());
    float[][] rows = new float[5 * o.pairs()][];
    for (int p = 0; p < o.pairs(); p++) {
      int a = rnd.nextInt(data.size()), b = rnd.nextInt(data.size() - 1);
      if (b >= a) b++;
      float[] xa = data.image(a), xb = data.image(b);
      float[] x = new float[steps * s];
      for (int j = 0; j < steps; j++) {
        float alpha = (float) j / (steps - 1);
        for (int i = 0; i < s; i++) x[j * s + i] = (1 - alpha) * xa[i] + alpha * xb[i];
      }
      float[] fx = ev.apply(f, x, steps, c, h, w).values;
      float[] ffx = ev.apply(f, fx, steps, c, h, w).values;
      float[] ends = new float[2 * s];
      System.arraycopy(xa, 0, ends, 0, s);
      System.arraycopy(xb, 0, ends, s, s);
      Out latent = ev.apply(enc, ends, 2, c, h, w);
      int ls = latent.values.length / 2;
      float[] lerp = new float[steps * ls];
      for (int j = 0; j < steps; j++) {
        float alpha = (float) j / (steps - 1);
        for (int i = 0; i < ls; i++) lerp[j * ls + i] = (1 - alpha) * latent.values[i] + alpha * latent.values[ls + i];
      }
      int[] ld = latent.shape.clone();
      ld[0] = steps;
      float[] dl = ev.apply(dec, lerp, ld).values;
      float[] fdl = ev.apply(f, dl, steps, c, h, w).values;
      float[][] block = {x, fx, ffx, dl, fdl};
      System.arraycopy(block, 0, rows, 5 * p, 5);
    }
    ImageGrid.write(png, rows, steps, c, h, w, scale(h));
    return png;
  }

  private static List<Path> outOfDistribution(Eval ev, Sequential f, Dataset data, Options o, Path dir) throws IOException {
    int c = data.channels(), h = data.height(), w = data.width(), s = data.sampleSize();
    int n = Math.min(o.count(), data.size());
    int[] order = data.batches(n, o.seed() ^ 0x00D).order();
    float[] x = new float[n * s];
    for (int i = 0; i < n; i++) data.copyImage(order[i], x, i * s);
    List<Path> written = new ArrayList<>();
    float[] noisy;
    try (Tensor e = ev.be.zeros(n * s)) {
      ev.be.randomNormal(e, o.seed() * 31 + 0x15, 0f, 1f);
      noisy = e.toArray();
    }
    for (int i = 0; i < noisy.length; i++) noisy[i] = x[i] + NOISE_SD * noisy[i];
    written.add(oodFigure(ev, f, x, noisy, n, c, h, w, dir.resolve("ood_noise.png")));
    if (c == 3) written.add(oodFigure(ev, f, x, greyscale(x, n, c, h, w), n, c, h, w, dir.resolve("ood_greyscale.png")));
    written.add(oodFigure(ev, f, x, blur(x, n * c, h, w, o.blurSigma()), n, c, h, w, dir.resolve("ood_blur.png")));
    return written;
  }

  private static Path oodFigure(Eval ev, Sequential f, float[] clean, float[] degraded, int n, int c, int h, int w, Path png)
      throws IOException {
    float[] fd = ev.apply(f, degraded, n, c, h, w).values;
    float[] ffd = ev.apply(f, fd, n, c, h, w).values;
    ImageGrid.write(png, new float[][] {clean, degraded, fd, ffd}, n, c, h, w, scale(h));
    return png;
  }

  /** Each of the n C x H x W images (C = 3) with every channel set to 0.299 R + 0.587 G + 0.114 B. */
  static float[] greyscale(float[] x, int n, int c, int h, int w) {
    if (c != 3) throw new IllegalArgumentException("greyscale needs 3 channels (R, G, B), got " + c);
    int plane = h * w;
    float[] out = new float[x.length];
    for (int i = 0; i < n; i++) {
      int o = i * 3 * plane;
      for (int p = 0; p < plane; p++) {
        float y = 0.299f * x[o + p] + 0.587f * x[o + plane + p] + 0.114f * x[o + 2 * plane + p];
        out[o + p] = y;
        out[o + plane + p] = y;
        out[o + 2 * plane + p] = y;
      }
    }
    return out;
  }

  /** The normalised Gaussian kernel exp(-d^2 / (2 sigma^2)), d = -r .. r, r = ceil(3 sigma). */
  static double[] gaussianKernel(double sigma) {
    int r = (int) Math.ceil(3 * sigma);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int d = -r; d <= r; d++) sum += k[d + r] = Math.exp(-(double) d * d / (2 * sigma * sigma));
    for (int i = 0; i < k.length; i++) k[i] /= sum;
    return k;
  }

  /** Separable Gaussian blur of {@code planes} planes of h x w (rows, then columns; edge pixels repeated). */
  static float[] blur(float[] x, int planes, int h, int w, double sigma) {
    double[] k = gaussianKernel(sigma);
    int r = k.length / 2, plane = h * w;
    float[] out = new float[x.length];
    double[] tmp = new double[plane];
    for (int q = 0; q < planes; q++) {
      int o = q * plane;
      for (int m = 0; m < h; m++) {
        for (int n = 0; n < w; n++) {
          double acc = 0;
          for (int d = -r; d <= r; d++) acc += k[d + r] * x[o + m * w + Math.min(w - 1, Math.max(0, n + d))];
          tmp[m * w + n] = acc;
        }
      }
      for (int m = 0; m < h; m++) {
        for (int n = 0; n < w; n++) {
          double acc = 0;
          for (int d = -r; d <= r; d++) acc += k[d + r] * tmp[Math.min(h - 1, Math.max(0, m + d)) * w + n];
          out[o + m * w + n] = (float) acc;
        }
      }
    }
    return out;
  }

  private record Out(float[] values, int[] shape) {}

  /** Applies modules with no tape, one batch at a time, and copies the result to the host. */
  private record Eval(Backend be, Graph g) {
    Out apply(Module m, float[] x, int... shape) {
      try (Tensor t = be.zeros(shape); Graph.Scope s = g.noGrad()) {
        t.copyFrom(x);
        g.reset();
        Tensor y = m.forward(g, g.constant(t)).value();
        return new Out(y.toArray(), y.shape());
      }
    }
  }
}
