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
 *   <li>{@code ood_noise.png}, {@code ood_greyscale.png} (data of several channels only; skipped
 *       for one channel, where greyscale is the identity), {@code ood_blur.png}: {@code count}
 *       images (columns), four rows: the clean image x, the degraded image d(x), f(d(x)),
 *       f(f(d(x))), for the degradations of Appendix F ({@link IgnDegradations}).
 * </ul>
 */
public final class IgnFigures {
  /**
   * @param count images in each out-of-distribution figure
   * @param pairs image pairs in the interpolation figure
   * @param steps interpolation steps (alpha = 0 .. 1), at least 2
   * @param seed picks the images and draws the noise
   */
  public record Options(int count, int pairs, int steps, long seed) {
    public Options {
      if (count < 1 || pairs < 1 || steps < 2) {
        throw new IllegalArgumentException("figures need count >= 1, pairs >= 1 and steps >= 2, got " + count + ", " + pairs + ", " + steps);
      }
    }

    /** 8 images, 2 pairs, 8 steps. */
    public static Options defaults(long seed) {
      return new Options(8, 2, 8, seed);
    }
  }

  private IgnFigures() {}

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
    written.add(oodFigure(ev, f, x, IgnDegradations.noise(x, noisy), n, c, h, w, dir.resolve("ood_noise.png")));
    if (c > 1) {
      written.add(oodFigure(ev, f, x, IgnDegradations.greyscale(x, n, c, h, w), n, c, h, w, dir.resolve("ood_greyscale.png")));
    }
    written.add(oodFigure(ev, f, x, IgnDegradations.blurRatio(x, n, c, h, w), n, c, h, w, dir.resolve("ood_blur.png")));
    return written;
  }

  private static Path oodFigure(Eval ev, Sequential f, float[] clean, float[] degraded, int n, int c, int h, int w, Path png)
      throws IOException {
    float[] fd = ev.apply(f, degraded, n, c, h, w).values;
    float[] ffd = ev.apply(f, fd, n, c, h, w).values;
    ImageGrid.write(png, new float[][] {clean, degraded, fd, ffd}, n, c, h, w, scale(h));
    return png;
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
