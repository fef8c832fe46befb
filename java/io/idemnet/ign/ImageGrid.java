package io.idemnet.ign;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.ImageIO;

/** Writes rows of single-channel images with values in [-1, 1] as one grey PNG (atomically). */
public final class ImageGrid {
  static {
    ImageIO.setUseCache(false); // no per-stream shutdown hook (see Plots)
  }

  private ImageGrid() {}

  /** rows[r] holds {@code count} images of h x w, one after another; each pixel becomes scale x scale. */
  public static void write(Path png, float[][] rows, int count, int h, int w, int scale) throws IOException {
    int gap = 2;
    int width = count * (w * scale + gap) + gap, height = rows.length * (h * scale + gap) + gap;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int r = 0; r < rows.length; r++) {
      if (rows[r].length < count * h * w) throw new IllegalArgumentException("row " + r + " holds fewer than " + count + " images");
      for (int k = 0; k < count; k++) {
        for (int i = 0; i < h * scale; i++) {
          for (int j = 0; j < w * scale; j++) {
            float v = rows[r][k * h * w + (i / scale) * w + j / scale];
            int g = Float.isFinite(v) ? Math.round(Math.max(0f, Math.min(1f, (v + 1) / 2)) * 255) : 0;
            img.getRaster().setSample(gap + k * (w * scale + gap) + j, gap + r * (h * scale + gap) + i, 0, g);
          }
        }
      }
    }
    Path dir = png.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + png.getFileName(), ".tmp");
    try {
      if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer");
      Files.move(tmp, png, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
