package io.idemnet.ign;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Writes rows of images with values in [-1, 1] as one PNG (atomically): grey for one channel,
 * RGB for three. Images are separated by 2 background pixels; for {@code count} images of
 * h x w per row, scaled by {@code scale}, the PNG is count (w scale + 2) + 2 pixels wide and
 * rows (h scale + 2) + 2 pixels high.
 */
public final class ImageGrid {
  static {
    ImageIO.setUseCache(false); // no per-stream shutdown hook (see Plots)
  }

  /** Pixels between images and around the grid. */
  public static final int GAP = 2;

  private ImageGrid() {}

  /** rows[r] holds {@code count} single-channel images of h x w, one after another; each pixel becomes scale x scale. */
  public static void write(Path png, float[][] rows, int count, int h, int w, int scale) throws IOException {
    write(png, rows, count, 1, h, w, scale);
  }

  /**
   * rows[r] holds {@code count} images of channels x h x w (channel planes one after another,
   * as in an N x C x H x W batch); channels is 1 (grey) or 3 (R, G, B).
   */
  public static void write(Path png, float[][] rows, int count, int channels, int h, int w, int scale) throws IOException {
    if (channels != 1 && channels != 3) throw new IllegalArgumentException("image grid: 1 or 3 channels, got " + channels);
    if (count < 1 || h < 1 || w < 1 || scale < 1 || rows.length < 1) {
      throw new IllegalArgumentException("image grid: need count, h, w, scale and rows >= 1, got " + count + ", " + h + ", " + w
          + ", " + scale + ", " + rows.length);
    }
    int width = count * (w * scale + GAP) + GAP, height = rows.length * (h * scale + GAP) + GAP;
    BufferedImage img = new BufferedImage(width, height, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    int plane = h * w, sample = channels * plane;
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length < count * sample) throw new IllegalArgumentException("row " + r + " holds fewer than " + count + " images");
      for (int k = 0; k < count; k++) {
        for (int i = 0; i < h * scale; i++) {
          for (int j = 0; j < w * scale; j++) {
            int at = k * sample + (i / scale) * w + j / scale;
            int x = GAP + k * (w * scale + GAP) + j, y = GAP + r * (h * scale + GAP) + i;
            if (channels == 1) {
              img.getRaster().setSample(x, y, 0, level(rows[r][at]));
            } else {
              img.setRGB(x, y, level(rows[r][at]) << 16 | level(rows[r][at + plane]) << 8 | level(rows[r][at + 2 * plane]));
            }
          }
        }
      }
    }
    Files.createDirectories(png.toAbsolutePath().getParent());
    io.idemnet.io.AtomicFiles.write(png, out -> {
      if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer");
    });
  }

  /** [-1, 1] to 0..255 (clamped; NaN and infinities black). */
  private static int level(float v) {
    return Float.isFinite(v) ? Math.round(Math.max(0f, Math.min(1f, (v + 1) / 2)) * 255) : 0;
  }
}
