package io.idemnet.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A folder of PNG and JPEG images (CelebA-like face crops, say) as a data set of square images.
 *
 * <p>The files directly in the folder whose names end in {@code .png}, {@code .jpg} or
 * {@code .jpeg} (any case) are read in name order with {@link ImageIO}; other files and
 * subfolders are skipped. Each image is center-cropped to a square (the side is the shorter
 * side; for an odd difference the extra pixel is dropped at the right or bottom), then scaled to
 * {@code size x size}: down by area averaging (each output pixel the mean of the source area it
 * covers), up bilinearly. Pixels are in [0, 1]: RGB as three channels, or, for
 * {@code grayscale}, the luma 0.299 R + 0.587 G + 0.114 B (an image stored as gray keeps its gray
 * values exactly). Alpha is ignored. Labels are all 0.
 */
public final class ImageFolder {
  private ImageFolder() {}

  /** Loads every image in {@code dir}; see the class comment. */
  public static Dataset load(Path dir, int size, boolean grayscale) throws IOException {
    return load(dir, size, grayscale, Integer.MAX_VALUE);
  }

  /**
   * Loads the first {@code maxImages} images (in name order) of {@code dir}.
   *
   * @throws DataFileException naming the file, for a file no decoder reads or that fails to decode;
   *     naming the folder, when it has no images
   */
  public static Dataset load(Path dir, int size, boolean grayscale, int maxImages) throws IOException {
    if (size <= 0) throw new IllegalArgumentException("image size must be positive: " + size);
    if (maxImages <= 0) throw new IllegalArgumentException("maxImages must be positive: " + maxImages);
    List<Path> files = imageFiles(dir);
    if (files.isEmpty()) throw new DataFileException(dir, "no .png, .jpg or .jpeg files in this folder");
    if (files.size() > maxImages) files = files.subList(0, maxImages);
    int channels = grayscale ? 1 : 3;
    int sample = Math.multiplyExact(channels, Math.multiplyExact(size, size));
    float[] images = new float[Math.multiplyExact(files.size(), sample)];
    for (int i = 0; i < files.size(); i++) {
      float[] x = toSquare(read(files.get(i)), size, grayscale);
      System.arraycopy(x, 0, images, i * sample, sample);
    }
    return new Dataset(images, new int[files.size()], channels, size, size);
  }

  /** The PNG and JPEG files directly in {@code dir}, sorted by name. */
  public static List<Path> imageFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) throw new NotDirectoryException(dir.toString());
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if ((name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg")) && Files.isRegularFile(p)) files.add(p);
      }
    }
    files.sort(null);
    return files;
  }

  /**
   * The most pixels one image may have: a header claiming more (a damaged or forged file) is
   * refused before any pixel memory is allocated (the decoder would otherwise allocate what the
   * header says, up to gigabytes for a file of a hundred bytes). 2^27 is 11585 x 11585.
   */
  public static final long MAX_PIXELS = 1L << 27;

  /** Decodes one image file, naming the file in every failure. */
  static BufferedImage read(Path file) throws IOException {
    BufferedImage img;
    try (InputStream raw = Files.newInputStream(file); ImageInputStream in = ImageIO.createImageInputStream(raw)) {
      java.util.Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
      if (!readers.hasNext()) throw new DataFileException(file, "not an image that javax.imageio can read (PNG or JPEG expected)");
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        long width = reader.getWidth(0), height = reader.getHeight(0);
        if (width <= 0 || height <= 0) throw new DataFileException(file, "empty image");
        if (width * height > MAX_PIXELS) {
          throw new DataFileException(file, "the header gives " + width + " x " + height + " pixels, more than the "
              + MAX_PIXELS + " an image may have here");
        }
        img = reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (DataFileException e) {
      throw e;
    } catch (IOException e) {
      throw new DataFileException(file, "cannot decode the image: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // Image decoders signal some corrupt data with unchecked exceptions.
      throw new DataFileException(file, "cannot decode the image: " + e, e);
    }
    if (img == null) throw new DataFileException(file, "not an image that javax.imageio can read (PNG or JPEG expected)");
    if (img.getWidth() <= 0 || img.getHeight() <= 0) throw new DataFileException(file, "empty image");
    return img;
  }

  /**
   * The center square of {@code img} scaled to {@code size x size}, as C x size x size floats in
   * [0, 1] (C = 1 for {@code grayscale}, else 3: R, G, B).
   */
  public static float[] toSquare(BufferedImage img, int size, boolean grayscale) {
    int w = img.getWidth();
    int h = img.getHeight();
    int side = Math.min(w, h);
    int x0 = (w - side) / 2;
    int y0 = (h - side) / 2;
    int channels = grayscale ? 1 : 3;
    float[][] planes = new float[channels][side * side];
    ColorModel cm = img.getColorModel();
    Raster raster = img.getRaster();
    if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1) {
      // Gray stored as gray: read the samples (getRGB would pass them through a color conversion).
      float max = (1 << cm.getComponentSize(0)) - 1;
      for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) {
          float v = raster.getSample(x0 + x, y0 + y, 0) / max;
          for (int c = 0; c < channels; c++) planes[c][y * side + x] = v;
        }
      }
    } else {
      int[] row = new int[side];
      for (int y = 0; y < side; y++) {
        img.getRGB(x0, y0 + y, side, 1, row, 0, side);
        for (int x = 0; x < side; x++) {
          int argb = row[x];
          float r = ((argb >> 16) & 0xFF) / 255f;
          float g = ((argb >> 8) & 0xFF) / 255f;
          float b = (argb & 0xFF) / 255f;
          if (grayscale) {
            planes[0][y * side + x] = 0.299f * r + 0.587f * g + 0.114f * b;
          } else {
            planes[0][y * side + x] = r;
            planes[1][y * side + x] = g;
            planes[2][y * side + x] = b;
          }
        }
      }
    }
    float[] out = new float[channels * size * size];
    for (int c = 0; c < channels; c++) resize(planes[c], side, out, c * size * size, size);
    return out;
  }

  /** Scales a square plane of {@code n x n} to {@code m x m}, separably (rows, then columns). */
  static void resize(float[] src, int n, float[] dst, int offset, int m) {
    if (n == m) {
      System.arraycopy(src, 0, dst, offset, n * n);
      return;
    }
    float[][] w = weights(n, m);
    int[] first = new int[m];
    for (int o = 0; o < m; o++) first[o] = (int) w[o][0];
    // Horizontal pass: n rows of m.
    float[] tmp = new float[n * m];
    for (int y = 0; y < n; y++) {
      for (int o = 0; o < m; o++) {
        float[] wo = w[o];
        int s0 = first[o];
        float acc = 0;
        for (int k = 1; k < wo.length; k++) acc += wo[k] * src[y * n + s0 + k - 1];
        tmp[y * m + o] = acc;
      }
    }
    // Vertical pass: m rows of m.
    for (int o = 0; o < m; o++) {
      float[] wo = w[o];
      int s0 = first[o];
      int base = offset + o * m;
      for (int x = 0; x < m; x++) dst[base + x] = 0;
      for (int k = 1; k < wo.length; k++) {
        float wk = wo[k];
        int row = (s0 + k - 1) * m;
        for (int x = 0; x < m; x++) dst[base + x] += wk * tmp[row + x];
      }
    }
  }

  /**
   * For each output index o of {@code m}: {first source index, weights...} over {@code n} source
   * pixels, weights summing to 1. Down: the overlap of [o, o+1) * n/m with each source pixel.
   * Up: bilinear between the two nearest source centers (half-pixel centers, clamped at edges).
   */
  static float[][] weights(int n, int m) {
    float[][] w = new float[m][];
    if (n > m) {
      double scale = (double) n / m;
      for (int o = 0; o < m; o++) {
        double lo = o * scale;
        double hi = (o + 1) * scale;
        int first = (int) Math.floor(lo);
        int last = Math.min(n - 1, (int) Math.ceil(hi) - 1);
        float[] wo = new float[last - first + 2];
        wo[0] = first;
        for (int s = first; s <= last; s++) wo[s - first + 1] = (float) ((Math.min(hi, s + 1) - Math.max(lo, s)) / scale);
        w[o] = wo;
      }
    } else {
      double scale = (double) n / m;
      for (int o = 0; o < m; o++) {
        double center = Math.max(0, Math.min(n - 1, (o + 0.5) * scale - 0.5));
        int s0 = (int) Math.floor(center);
        int s1 = Math.min(n - 1, s0 + 1);
        float t = (float) (center - s0);
        w[o] = s1 == s0 ? new float[] {s0, 1f} : new float[] {s0, 1 - t, t};
      }
    }
    return w;
  }
}
