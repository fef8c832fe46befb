package io.idemnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
  @TempDir Path dir;

  private static int rgb(int r, int g, int b) {
    return (r << 16) | (g << 8) | b;
  }

  /** Writes an RGB PNG from rows of 0xRRGGBB. */
  private Path png(String name, int[][] rows) throws IOException {
    BufferedImage img = new BufferedImage(rows[0].length, rows.length, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < rows.length; y++) for (int x = 0; x < rows[0].length; x++) img.setRGB(x, y, rows[y][x]);
    Path file = dir.resolve(name);
    assertTrue(ImageIO.write(img, "png", file.toFile()));
    return file;
  }

  @Test
  void loadsTwoPngsCroppedAndScaled() throws IOException {
    // b.png, 6 x 2: the center 2 x 2 is columns 2..3; scaled to 1 x 1 it is their mean.
    int red = rgb(255, 0, 0);
    int blue = rgb(0, 0, 255);
    png("b.png", new int[][] {
        {0, 0, red, rgb(0, 255, 0), 0, 0},
        {0, 0, blue, rgb(255, 255, 255), 0, 0}});
    // a.PNG, 1 x 3 (upper case suffix, name first): the center 1 x 1 is the middle pixel.
    png("a.PNG", new int[][] {{red}, {rgb(51, 102, 204)}, {red}});
    Files.writeString(dir.resolve("notes.txt"), "skipped");
    Files.createDirectories(dir.resolve("sub.png"));

    assertEquals(List.of(dir.resolve("a.PNG"), dir.resolve("b.png")), ImageFolder.imageFiles(dir));
    Dataset rgb = ImageFolder.load(dir, 1, false);
    assertArrayEquals(new int[] {2, 3, 1, 1}, rgb.shape());
    assertArrayEquals(new int[] {0, 0}, rgb.labels());
    assertArrayEquals(new float[] {0.2f, 0.4f, 0.8f}, rgb.image(0), 1e-6f);
    assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, rgb.image(1), 1e-6f);

    Dataset gray = ImageFolder.load(dir, 1, true);
    assertArrayEquals(new int[] {2, 1, 1, 1}, gray.shape());
    assertEquals(0.299f * 0.2f + 0.587f * 0.4f + 0.114f * 0.8f, gray.images()[0], 1e-6f);
    assertEquals(0.5f, gray.images()[1], 1e-6f);

    // Size 2 keeps the crop as is: channel-major, rows then columns.
    Dataset two = ImageFolder.load(dir, 2, false, 5).subset(1, 2);
    assertArrayEquals(new float[] {1, 0, 0, 1, /* G */ 0, 1, 0, 1, /* B */ 0, 0, 1, 1}, two.image(0));
    assertEquals(1, ImageFolder.load(dir, 2, false, 1).size());
  }

  @Test
  void areaAveragingDownAndBilinearUp() {
    float[] src = new float[16]; // 4 x 4, value = row * 4 + column
    for (int i = 0; i < 16; i++) src[i] = i;
    float[] down = new float[4];
    ImageFolder.resize(src, 4, down, 0, 2);
    assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, down, 1e-5f);
    float[] third = new float[1];
    float[] three = {0, 3, 6, 0, 3, 6, 0, 3, 6};
    ImageFolder.resize(three, 3, third, 0, 1);
    assertEquals(3f, third[0], 1e-5f);
    float[] two = {0, 1, 2, 3};
    float[] up = new float[16];
    ImageFolder.resize(two, 2, up, 0, 4);
    // Columns 0, 0.25, 0.75, 1 of the way from left to right (half-pixel centers, clamped).
    assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, java.util.Arrays.copyOfRange(up, 0, 4), 1e-6f);
    assertArrayEquals(new float[] {2, 2.25f, 2.75f, 3}, java.util.Arrays.copyOfRange(up, 12, 16), 1e-6f);
    // Area weights of 5 -> 2: 2.5 source pixels per output pixel.
    float[][] w = ImageFolder.weights(5, 2);
    assertArrayEquals(new float[] {0, 0.4f, 0.4f, 0.2f}, w[0], 1e-6f);
    assertArrayEquals(new float[] {2, 0.2f, 0.4f, 0.4f}, w[1], 1e-6f);
  }

  @Test
  void grayPngsKeepTheirValuesAndJpegsLoad() throws IOException {
    BufferedImage g = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
    int[] values = {0, 51, 128, 255};
    for (int i = 0; i < 4; i++) g.getRaster().setSample(i % 2, i / 2, 0, values[i]);
    ImageIO.write(g, "png", dir.resolve("g.png").toFile());
    Dataset gray = ImageFolder.load(dir, 2, true);
    assertArrayEquals(new float[] {0f, 0.2f, 128 / 255f, 1f}, gray.images(), 1e-7f);
    Dataset asRgb = ImageFolder.load(dir, 2, false);
    assertArrayEquals(new float[] {0f, 0.2f, 128 / 255f, 1f}, java.util.Arrays.copyOfRange(asRgb.images(), 8, 12), 1e-7f);

    BufferedImage flat = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) flat.setRGB(x, y, rgb(200, 100, 50));
    Path jpegDir = Files.createDirectories(dir.resolve("jpeg"));
    assertTrue(ImageIO.write(flat, "jpeg", jpegDir.resolve("f.jpg").toFile()));
    Dataset jpeg = ImageFolder.load(jpegDir, 4, false);
    assertArrayEquals(new int[] {1, 3, 4, 4}, jpeg.shape());
    assertEquals(200 / 255f, jpeg.images()[0], 0.02f);
    assertEquals(100 / 255f, jpeg.images()[16], 0.02f);
    assertEquals(50 / 255f, jpeg.images()[32], 0.02f);
  }

  @Test
  void unreadableFilesAreNamed() throws IOException {
    png("good.png", new int[][] {{0}});
    Path bad = Files.writeString(dir.resolve("bad.jpg"), "not a jpeg at all");
    DataFileException e = assertThrows(DataFileException.class, () -> ImageFolder.load(dir, 8, false));
    assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());

    Path cutDir = Files.createDirectories(dir.resolve("cut"));
    byte[] whole = Files.readAllBytes(png("whole.png", new int[32][32]));
    Path cut = Files.write(cutDir.resolve("cut.png"), java.util.Arrays.copyOf(whole, whole.length / 2));
    e = assertThrows(DataFileException.class, () -> ImageFolder.load(cutDir, 8, false));
    assertTrue(e.getMessage().startsWith(cut + ": cannot decode"), e.getMessage());

    // A header forged to 20000 x 20000 pixels (valid CRC): refused from the header, before the
    // decoder allocates 1.2 GB for it.
    Path forgedDir = Files.createDirectories(dir.resolve("forged"));
    byte[] png = Files.readAllBytes(png("small.png", new int[4][4]));
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png);
    b.putInt(16, 20000).putInt(20, 20000); // IHDR width and height
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(png, 12, 17); // IHDR type and data
    b.putInt(29, (int) crc.getValue());
    Path forged = Files.write(forgedDir.resolve("forged.png"), png);
    e = assertThrows(DataFileException.class, () -> ImageFolder.load(forgedDir, 8, false));
    assertTrue(e.getMessage().startsWith(forged + ": the header gives 20000 x 20000 pixels"), e.getMessage());

    Path empty = Files.createDirectories(dir.resolve("empty"));
    e = assertThrows(DataFileException.class, () -> ImageFolder.load(empty, 8, false));
    assertTrue(e.getMessage().contains("no .png, .jpg or .jpeg files"), e.getMessage());
  }
}
