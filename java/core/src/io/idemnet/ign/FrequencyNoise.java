package io.idemnet.ign;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.tensor.Tensor;
import java.util.List;
import java.util.stream.IntStream;

/**
 * IGN's noise with the data's per-frequency statistics (Shocher et al. use it for CelebA): over
 * the training images, the mean and (unbiased) standard deviation of the real and of the
 * imaginary part of the 2-D DFT ({@link Dft2}) per channel and frequency; a noise image draws
 * every coefficient Z[c, k, l] = (mu_re + sd_re e1) + i (mu_im + sd_im e2), e1, e2 ~ N(0, 1)
 * independent, and is the real part of the inverse DFT of Z, channel by channel.
 *
 * <p>Because the coefficients are drawn independently (not Hermitian-symmetric) and only the real
 * part is kept, the noise's own DFT is X[k] = (Z[k] + conj(Z[-k])) / 2 (indices mod (H, W)). For
 * statistics of real images (mu[-k] = conj(mu[k]), sd[-k] = sd[k]) its mean is the data's mean,
 * and its standard deviations are the data's divided by sqrt 2 at every frequency with
 * k != -k; at the self-conjugate frequencies (DC, and the Nyquist rows/columns of even sizes)
 * the real part keeps the data's sd and the imaginary part is 0. docs/ign.md states this.
 *
 * <p>The normal numbers come from the backend's counter-based generator, so a noise batch depends
 * only on its seed (and the statistics): the first N*C*H*W numbers of the stream are e1, the next
 * N*C*H*W are e2, in N x C x H x W order.
 */
public final class FrequencyNoise implements IgnNoise {
  /** Per channel and frequency, index c*H*W + k*W + l; computed from {@code images} images. */
  public record Statistics(int channels, int height, int width, int images, double[] realMean, double[] realStd,
      double[] imagMean, double[] imagStd) {
    public Statistics {
      if (channels <= 0 || height <= 0 || width <= 0) throw new IllegalArgumentException("Statistics: bad shape");
      int n = channels * height * width;
      for (double[] a : List.of(realMean, realStd, imagMean, imagStd)) {
        if (a.length != n) throw new IllegalArgumentException("Statistics: " + a.length + " values for " + n + " frequencies");
      }
    }

    /** Images a chunk of the statistics pass handles; partial results merge in chunk order. */
    private static final int CHUNK = 64;

    /**
     * The statistics of the first {@code maxImages} images of {@code data} (all when it has
     * fewer), as the network sees them (call it on the [-1, 1] data). Chunks of images run in
     * parallel and merge in a fixed order (Chan et al.'s pairwise update), so the result does
     * not depend on the thread count.
     */
    public static Statistics of(Dataset data, int maxImages) {
      if (maxImages < 2) throw new IllegalArgumentException("frequency statistics need at least 2 images, asked for " + maxImages);
      int count = Math.min(maxImages, data.size());
      if (count < 2) throw new IllegalArgumentException("frequency statistics need at least 2 images; the data set has " + data.size());
      int c = data.channels(), h = data.height(), w = data.width(), plane = h * w;
      Dft2 dft = new Dft2(h, w);
      int chunks = (count + CHUNK - 1) / CHUNK;
      List<double[][]> parts = IntStream.range(0, chunks).parallel().mapToObj(j -> {
        // {n, mean re, M2 re, mean im, M2 im} by Welford over the chunk's images.
        double[] meanRe = new double[c * plane], m2Re = new double[c * plane];
        double[] meanIm = new double[c * plane], m2Im = new double[c * plane];
        double[] x = new double[plane], re = new double[plane], im = new double[plane];
        float[] img = new float[data.sampleSize()];
        int from = j * CHUNK, to = Math.min(count, from + CHUNK);
        for (int i = from; i < to; i++) {
          data.copyImage(i, img, 0);
          int n = i - from + 1;
          for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < plane; p++) x[p] = img[ch * plane + p];
            dft.forward(x, re, im);
            int o = ch * plane;
            for (int p = 0; p < plane; p++) {
              double d = re[p] - meanRe[o + p];
              meanRe[o + p] += d / n;
              m2Re[o + p] += d * (re[p] - meanRe[o + p]);
              double e = im[p] - meanIm[o + p];
              meanIm[o + p] += e / n;
              m2Im[o + p] += e * (im[p] - meanIm[o + p]);
            }
          }
        }
        return new double[][] {{to - from}, meanRe, m2Re, meanIm, m2Im};
      }).toList();
      double n = 0;
      double[] meanRe = new double[c * plane], m2Re = new double[c * plane];
      double[] meanIm = new double[c * plane], m2Im = new double[c * plane];
      for (double[][] p : parts) {
        double nb = p[0][0], nt = n + nb;
        for (int f = 0; f < meanRe.length; f++) {
          double d = p[1][f] - meanRe[f];
          meanRe[f] += d * nb / nt;
          m2Re[f] += p[2][f] + d * d * n * nb / nt;
          double e = p[3][f] - meanIm[f];
          meanIm[f] += e * nb / nt;
          m2Im[f] += p[4][f] + e * e * n * nb / nt;
        }
        n = nt;
      }
      double[] sdRe = new double[meanRe.length], sdIm = new double[meanRe.length];
      for (int f = 0; f < sdRe.length; f++) {
        sdRe[f] = Math.sqrt(Math.max(0, m2Re[f]) / (n - 1));
        sdIm[f] = Math.sqrt(Math.max(0, m2Im[f]) / (n - 1));
      }
      return new Statistics(c, h, w, count, meanRe, sdRe, meanIm, sdIm);
    }
  }

  private final Backend backend;
  private final Statistics stats;
  private final Dft2 dft;

  /** Noise with the given per-frequency statistics, drawn on {@code backend}. */
  public FrequencyNoise(Backend backend, Statistics stats) {
    this.backend = backend;
    this.stats = stats;
    this.dft = new Dft2(stats.height(), stats.width());
  }

  /** The per-frequency statistics noise is drawn with. */
  public Statistics statistics() {
    return stats;
  }

  /** Fills z (N x C x H x W, the statistics' C, H, W) with noise that depends only on the seed. */
  @Override
  public void sample(Tensor z, long seed) {
    if (z.rank() != 4 || z.dim(1) != stats.channels() || z.dim(2) != stats.height() || z.dim(3) != stats.width()) {
      throw new IllegalArgumentException("frequency noise: z " + z + " must be N x " + stats.channels() + " x " + stats.height()
          + " x " + stats.width() + " (the statistics' shape)");
    }
    z.copyFrom(sample(z.dim(0), seed));
  }

  /** {@code n} noise images, N x C x H x W values. */
  public float[] sample(int n, long seed) {
    int c = stats.channels(), plane = stats.height() * stats.width(), numel = Math.multiplyExact(n, c * plane);
    float[] eps;
    try (Tensor e = backend.zeros(2, numel)) {
      backend.randomNormal(e, seed, 0f, 1f);
      eps = e.toArray();
    }
    float[] out = new float[numel];
    IntStream.range(0, n * c).parallel().forEach(q -> {
      int ch = q % c, o = ch * plane, base = q * plane;
      double[] re = new double[plane], im = new double[plane], x = new double[plane];
      for (int p = 0; p < plane; p++) {
        re[p] = stats.realMean()[o + p] + stats.realStd()[o + p] * eps[base + p];
        im[p] = stats.imagMean()[o + p] + stats.imagStd()[o + p] * eps[numel + base + p];
      }
      dft.inverseReal(re, im, x);
      for (int p = 0; p < plane; p++) out[base + p] = (float) x[p];
    });
    return out;
  }

  @Override
  public String toString() {
    return "FrequencyNoise[" + stats.channels() + " x " + stats.height() + " x " + stats.width() + ", statistics of "
        + stats.images() + " images]";
  }
}
