package io.idemnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.io.SafeTensors.Entry;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
  private final Backend ref = new ReferenceBackend();
  private final List<Tensor> owned = new ArrayList<>();

  @TempDir Path dir;

  @AfterEach
  void closeTensors() {
    owned.forEach(Tensor::close);
  }

  private Tensor tensor(float[] data, int... shape) {
    Tensor t = ref.fromArray(data, shape);
    owned.add(t);
    return t;
  }

  private static float bits(int raw) {
    return Float.intBitsToFloat(raw);
  }

  private static void assertBitsEqual(String what, float[] want, float[] got) {
    assertEquals(want.length, got.length, what + ": length");
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
        fail(String.format("%s[%d]: want bits %08x, got %08x", what, i, Float.floatToRawIntBits(want[i]),
            Float.floatToRawIntBits(got[i])));
      }
    }
  }

  /** Special values, including NaNs with payloads (one signalling) and subnormals. */
  private static final float[] SPECIAL = {
      0f, -0f, 1f, -1.5f, Float.MIN_VALUE, bits(0x007fffff), bits(0x80000001), Float.MIN_NORMAL, Float.MAX_VALUE,
      Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, bits(0x7fc00000), bits(0x7fc12345), bits(0xffc00001),
      bits(0x7f800001), bits(0xff8abcde), (float) Math.PI, 1e-30f};

  // ------------------------------------------------------------------ round trips

  @Test
  void roundTripIsBitExact() throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("special", tensor(SPECIAL, 3, 6));
    tensors.put("scalar", tensor(new float[] {bits(0x7fa00001)}, new int[0]));
    tensors.put("empty", tensor(new float[0], 0));
    tensors.put("empty3d", tensor(new float[0], 3, 0, 2));
    tensors.put("vec", tensor(new float[] {-0f, Float.MIN_VALUE}, 2));
    Path f = dir.resolve("model.safetensors");
    SafeTensors.write(f, tensors, Map.of("format", "idemnet"));

    Map<String, Entry> back = SafeTensors.read(f);
    assertEquals(List.of("empty", "empty3d", "scalar", "special", "vec"), new ArrayList<>(back.keySet()),
        "names are written sorted and read in file order");
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Entry got = back.get(e.getKey());
      assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey() + " shape");
      assertBitsEqual(e.getKey(), e.getValue().toArray(), got.data());
      assertEquals(new Entry(e.getValue().shape(), e.getValue().toArray()), got);
    }
    assertEquals(0, back.get("scalar").shape().length);

    // And back into tensors through loadInto, still bit for bit.
    Map<String, Tensor> targets = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) targets.put(e.getKey(), tensor(new float[(int) e.getValue().numel()], e.getValue().shape()));
    SafeTensors.loadInto(f, targets, true);
    for (String name : tensors.keySet()) assertBitsEqual(name, tensors.get(name).toArray(), targets.get(name).toArray());
  }

  @Test
  void emptyFileOfNoTensorsRoundTrips() throws IOException {
    Path f = dir.resolve("none.safetensors");
    SafeTensors.write(f, Map.of(), null);
    byte[] bytes = Files.readAllBytes(f);
    // "{}" padded with six spaces to 8 bytes.
    assertEquals(16, bytes.length);
    assertEquals("{}      ", new String(bytes, 8, 8, StandardCharsets.UTF_8));
    assertTrue(SafeTensors.read(f).isEmpty());
    assertTrue(SafeTensors.readMetadata(f).isEmpty());
  }

  @Test
  void sameTensorsGiveTheSameBytes() throws IOException {
    Map<String, Tensor> forward = new LinkedHashMap<>();
    Map<String, Tensor> backward = new LinkedHashMap<>();
    Map<String, Tensor> hashed = new HashMap<>();
    String[] names = {"layer.10.weight", "layer.2.bias", "a", "Z", "é", "layer.2.weight"};
    Tensor[] ts = new Tensor[names.length];
    for (int i = 0; i < names.length; i++) {
      float[] v = new float[i + 1];
      for (int j = 0; j < v.length; j++) v[j] = i * 10 + j + 0.25f;
      ts[i] = tensor(v, v.length);
    }
    for (int i = 0; i < names.length; i++) forward.put(names[i], ts[i]);
    for (int i = names.length - 1; i >= 0; i--) backward.put(names[i], ts[i]);
    hashed.putAll(forward);
    Map<String, String> metaA = new LinkedHashMap<>();
    metaA.put("b", "2");
    metaA.put("a", "1");
    Map<String, String> metaB = new LinkedHashMap<>();
    metaB.put("a", "1");
    metaB.put("b", "2");

    Path f1 = dir.resolve("1.safetensors"), f2 = dir.resolve("2.safetensors"), f3 = dir.resolve("3.safetensors");
    SafeTensors.write(f1, forward, metaA);
    SafeTensors.write(f2, backward, metaB);
    SafeTensors.write(f3, hashed, new HashMap<>(metaA));
    byte[] b1 = Files.readAllBytes(f1);
    assertArrayEquals(b1, Files.readAllBytes(f2));
    assertArrayEquals(b1, Files.readAllBytes(f3));
    // Writing again over the same file gives the same bytes too.
    SafeTensors.write(f1, backward, metaB);
    assertArrayEquals(b1, Files.readAllBytes(f1));
  }

  // ------------------------------------------------------------------ the bytes against the spec

  private static byte[] le64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  @Test
  void bytesMatchAHandBuiltFile() throws IOException {
    Map<String, Tensor> tensors = Map.of(
        "b", tensor(new float[] {1f, -2f}, 2),
        "a", tensor(new float[] {3f}, new int[0]));
    Path f = dir.resolve("small.safetensors");
    SafeTensors.write(f, tensors, Map.of("format", "pt"));

    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    assertEquals(138, json.length());
    // 8 + 138 = 146; six spaces bring the data to offset 152, a multiple of 8, so N = 144 = 0x90.
    String header = json + "      ";
    byte[] expected = concat(
        new byte[] {(byte) 0x90, 0, 0, 0, 0, 0, 0, 0},
        header.getBytes(StandardCharsets.US_ASCII),
        new byte[] {0x00, 0x00, 0x40, 0x40}, // 3.0f = 0x40400000, little-endian
        new byte[] {0x00, 0x00, (byte) 0x80, 0x3f}, // 1.0f = 0x3f800000
        new byte[] {0x00, 0x00, 0x00, (byte) 0xc0}); // -2.0f = 0xc0000000
    assertArrayEquals(expected, Files.readAllBytes(f));
  }

  @Test
  void headerIsPaddedWithSpacesToEightBytes() throws IOException {
    for (int len = 1; len <= 17; len++) {
      Path f = dir.resolve("pad" + len + ".safetensors");
      SafeTensors.write(f, Map.of("x".repeat(len), tensor(new float[] {len}, 1)), null);
      byte[] bytes = Files.readAllBytes(f);
      long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned for name length " + len);
      assertEquals(8 + n + 4, bytes.length);
      String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
      String trimmed = header.stripTrailing();
      assertTrue(trimmed.endsWith("}"));
      assertTrue(header.length() - trimmed.length() < 8, "at most 7 spaces of padding");
      assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
      assertEquals(len, SafeTensors.read(f).get("x".repeat(len)).data()[0]);
    }
  }

  @Test
  void readsAFileLaidOutDifferently() throws IOException {
    // Whitespace everywhere, no padding, escapes, JSON order differing from data order, metadata last.
    String json = "\n{ \"z\\u00e9\\\"q\" : { \"data_offsets\" : [ 8 , 12 ] , \"shape\" : [ 1 , 1 ] , \"dtype\" : \"F32\" } ,\r\n"
        + "\t\"first\\/\\ud83d\\ude00\": {\"shape\": [2], \"dtype\": \"F32\", \"data_offsets\": [0, 8]},"
        + " \"__metadata__\": {\"note\": \"tab\\there\\n\\\\\"} }";
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    byte[] data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).putFloat(7f).array();
    Path f = dir.resolve("foreign.safetensors");
    Files.write(f, concat(le64(header.length), header, data));

    Map<String, Entry> back = SafeTensors.read(f);
    assertEquals(List.of("zé\"q", "first/\uD83D\uDE00"), new ArrayList<>(back.keySet()));
    assertEquals(new Entry(new int[] {1, 1}, new float[] {7f}), back.get("zé\"q"));
    assertEquals(new Entry(new int[] {2}, new float[] {1f, 2f}), back.get("first/\uD83D\uDE00"));
    assertEquals(Map.of("note", "tab\there\n\\"), SafeTensors.readMetadata(f));
  }

  @Test
  void metadataRoundTrips() throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("quote\"back\\slash", "ctrl\u0001\u001f\t\n\r\b\f end");
    meta.put("unicode ✓", "\uD83D\uDE00 ü 漢字");
    meta.put("", "");
    meta.put("__metadata__", "allowed as a metadata key");
    Path f = dir.resolve("meta.safetensors");
    SafeTensors.write(f, Map.of("w", tensor(new float[] {1f}, 1)), meta);
    Map<String, String> back = SafeTensors.readMetadata(f);
    assertEquals(meta, back);
    assertEquals(List.of("", "__metadata__", "format", "quote\"back\\slash", "unicode ✓"), new ArrayList<>(back.keySet()));
    String header = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
    assertTrue(header.contains("ctrl\\u0001\\u001f\\t\\n\\r\\b\\f end"), header);

    Path none = dir.resolve("nometa.safetensors");
    SafeTensors.write(none, Map.of("w", tensor(new float[] {1f}, 1)), Map.of());
    assertTrue(SafeTensors.readMetadata(none).isEmpty());
    assertFalse(new String(Files.readAllBytes(none), StandardCharsets.UTF_8).contains("__metadata__"));
  }

  @Test
  void writeRejectsBadArgumentsWithoutCreatingAFile() {
    Path f = dir.resolve("bad.safetensors");
    Tensor ok = tensor(new float[] {1f}, 1);
    assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, Map.of("__metadata__", ok), null));
    assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, Map.of("bad\uD800", ok), null));
    assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, Map.of("w", ok), Map.of("k", "\uDC00")));
    Tensor closed = ref.zeros(2);
    closed.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafeTensors.write(f, Map.of("c", closed), null));
    assertTrue(e.getMessage().contains("'c'"), e.getMessage());
    assertFalse(Files.exists(f));
    assertEquals(0, listDir().size());
  }

  // ------------------------------------------------------------------ corrupt files

  private Path file(String name, byte[] bytes) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, bytes);
    return f;
  }

  /** A file with the given header JSON (not padded) and data bytes. */
  private Path file(String name, String json, byte[] data) throws IOException {
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    return file(name, concat(le64(header.length), header, data));
  }

  private static String info(String dtype, String shape, long begin, long end) {
    return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  /** Asserts read, readMetadata and loadInto all fail with a message naming the file and each fragment. */
  private CheckpointException assertCorrupt(Path f, String... fragments) {
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(f), f.toString());
    String m = e.getMessage();
    assertTrue(m.contains(f.toString()), "message names the file: " + m);
    assertEquals(f, e.file());
    for (String s : fragments) assertTrue(m.contains(s), "message '" + m + "' should contain '" + s + "'");
    CheckpointException meta = assertThrows(CheckpointException.class, () -> SafeTensors.readMetadata(f));
    assertEquals(m, meta.getMessage());
    assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of(), false));
    return e;
  }

  @Test
  void emptyAndTinyFiles() throws IOException {
    assertCorrupt(file("empty.safetensors", new byte[0]), "0 bytes", "shorter than the 8-byte header length", "empty");
    assertCorrupt(file("tiny.safetensors", new byte[] {2, 0, 0, 0, 0}), "5 bytes", "shorter than the 8-byte header length");
  }

  @Test
  void missingFileIsAnIOException() {
    assertThrows(java.nio.file.NoSuchFileException.class, () -> SafeTensors.read(dir.resolve("absent.safetensors")));
  }

  @Test
  void truncatedAtEveryInterestingPoint() throws IOException {
    Path good = dir.resolve("good.safetensors");
    SafeTensors.write(good, Map.of("a", tensor(new float[] {1, 2, 3}, 3), "b", tensor(new float[] {4, 5}, 2)), Map.of("k", "v"));
    byte[] bytes = Files.readAllBytes(good);
    int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(8 + n + 20, bytes.length);
    int[] cuts = {0, 1, 7, 8, 9, 8 + n / 2, 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 12, bytes.length - 1};
    for (int cut : cuts) {
      Path f = file("cut" + cut + ".safetensors", Arrays.copyOf(bytes, cut));
      if (cut < 8) assertCorrupt(f, "shorter than the 8-byte header length");
      else if (cut < 8 + n) assertCorrupt(f, "header length " + n + " bytes is larger than the file (" + cut + " bytes)");
      else assertCorrupt(f, "data region is " + (cut - 8 - n) + " bytes", "need 20 bytes", "truncated");
    }
    // Trailing bytes are an error too: the offsets must cover the data region exactly.
    assertCorrupt(file("long.safetensors", concat(bytes, new byte[] {0, 0, 0, 0})), "4 trailing bytes");
  }

  @Test
  void absurdHeaderLengths() throws IOException {
    assertCorrupt(file("huge.safetensors", concat(le64(1L << 40), new byte[16])), "header length 1099511627776 bytes is absurd");
    assertCorrupt(file("neg.safetensors", concat(le64(-1L), new byte[16])), "header length 18446744073709551615 bytes is absurd");
    assertCorrupt(file("over.safetensors", concat(le64(100_000_001L), new byte[16])), "is absurd");
    assertCorrupt(file("longer.safetensors", concat(le64(9), "{}      ".getBytes(StandardCharsets.US_ASCII))),
        "header length 9 bytes is larger than the file (16 bytes)");
  }

  @Test
  void garbageHeaders() throws IOException {
    byte[] garbage = new byte[64];
    new java.util.Random(7).nextBytes(garbage);
    assertCorrupt(file("garbage.safetensors", concat(le64(64), garbage)), "header is not valid");
    assertCorrupt(file("utf8.safetensors", concat(le64(4), new byte[] {'{', (byte) 0xff, '}', ' '})),
        "header is not valid UTF-8", "0xFF at header byte 1");
    assertCorrupt(file("overlong.safetensors", concat(le64(4), new byte[] {'{', (byte) 0xc0, (byte) 0xaf, '}'})),
        "header is not valid UTF-8");
    assertCorrupt(file("cut-utf8.safetensors", concat(le64(3), new byte[] {'{', '}', (byte) 0xe2})), "header is not valid UTF-8");

    String ok = info("F32", "[1]", 0, 4);
    byte[] four = new byte[4];
    String[][] cases = {
        {"", "unexpected end of header"},
        {"   ", "unexpected end of header"},
        {"[]", "header is not a JSON object"},
        {"\"x\"", "header is not a JSON object"},
        {"{", "expected a string key"},
        {"{\"a\":" + ok, "expected ',' or '}'"},
        {"{\"a\":" + ok + ",}", "expected a string key"},
        {"{\"a\" " + ok + "}", "expected ':'"},
        {"{\"a\":" + ok + "}}", "after the end of the JSON value"},
        {"{\"a\":" + ok + "} x", "after the end of the JSON value"},
        {"{'a':" + ok + "}", "expected a string key"},
        {"{a:" + ok + "}", "expected a string key"},
        {"{\"a\":" + info("F32", "[1.0]", 0, 4) + "}", "is not an integer"},
        {"{\"a\":" + info("F32", "[1e0]", 0, 4) + "}", "is not an integer"},
        {"{\"a\":" + info("F32", "[01]", 0, 4) + "}", "leading zero"},
        {"{\"a\":" + info("F32", "[-]", 0, 4) + "}", "expected a digit"},
        {"{\"a\":" + info("F32", "[+1]", 0, 4) + "}", "unexpected character '+'"},
        {"{\"a\":" + info("F32", "[1,]", 0, 4) + "}", "expected a value"},
        {"{\"a\":" + info("F32", "[99999999999999999999]", 0, 4) + "}", "out of range"},
        {"{\"a\":" + info("F32", "[true]", 0, 4) + "}", "unsupported JSON literal"},
        {"{\"a\":" + info("F32", "null", 0, 4) + "}", "unsupported JSON literal"},
        {"{\"a\":" + info("F32", "[1]", 0, 4).replace("\"F32\"", "\"F32") + "}", "expected ',' or '}'"},
        {"{\"a\":" + info("F32", "[1]", 0, 4).replace("F32", "F\\x32") + "}", "invalid escape"},
        {"{\"a\":" + info("F32", "[1]", 0, 4).replace("F32", "F\\u00g2") + "}", "invalid hex digit"},
        {"{\"a\\ud800\":" + ok + "}", "lone high surrogate"},
        {"{\"a\\udc00\":" + ok + "}", "lone low surrogate"},
        {"{\"a\\ud800\\u0041\":" + ok + "}", "not followed by a low surrogate"},
        {"{\"a\tb\":" + ok + "}", "unescaped control character U+0009"},
        {"{\"a\":" + ok + ",\"unterminated", "unterminated string"},
        {"{\"a\":" + ok + "," + "[".repeat(100), "expected a string key"},
        {"{\"__metadata__\":" + "[".repeat(100) + "]".repeat(100) + ",\"a\":" + ok + "}", "nested deeper than 32"},
        {"{\"__metadata__\":{\"k\":1},\"a\":" + ok + "}", "metadata value for 'k' is not a string"},
        {"{\"__metadata__\":[],\"a\":" + ok + "}", "'__metadata__' is not a JSON object of strings"},
        {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"a\":" + ok + "}", "metadata key 'k' appears twice"},
        {"{\"__metadata__\":{},\"__metadata__\":{},\"a\":" + ok + "}", "two '__metadata__' entries"},
        {"{\"a\":[1]}", "entry for tensor 'a' is not a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'a' has no 'data_offsets'"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'a' has no 'shape'"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has no 'dtype'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":\"x\"}}", "tensor 'a' has unknown key 'extra'"},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has key 'dtype' twice"},
        {"{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype that is not a string"},
        {"{\"a\":" + info("F32", "\"1\"", 0, 4) + "}", "'shape' that is not an array of integers"},
        {"{\"a\":" + info("F32", "[[1]]", 0, 4) + "}", "'shape' that is not an array of integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "data_offsets [0, 4, 8]; expected [begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "need 0 <= begin <= end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "need 0 <= begin <= end"},
        {"{\"a\":" + info("F32", "[3000000000]", 0, 4) + "}", "dimension 3000000000", "larger than idemnet supports"},
        {"{\"a\":" + info("F32", "[2147483647,2147483647,2147483647,2]", 0, 4) + "}", "too many elements"},
    };
    for (int i = 0; i < cases.length; i++) {
      assertCorrupt(file("json" + i + ".safetensors", cases[i][0], four), Arrays.copyOfRange(cases[i], 1, cases[i].length));
    }
  }

  @Test
  void wrongDtypeIsNamed() throws IOException {
    Path f = file("f16.safetensors", "{\"0.weight\":" + info("F16", "[2]", 0, 4) + "}", new byte[4]);
    CheckpointException e = assertCorrupt(f, "tensor '0.weight' has dtype F16; idemnet reads F32 only");
    assertEquals(f + ": tensor '0.weight' has dtype F16; idemnet reads F32 only", e.getMessage());
    assertCorrupt(file("bf16.safetensors", "{\"w\":" + info("BF16", "[2]", 0, 4) + "}", new byte[4]), "has dtype BF16");
    assertCorrupt(file("f64.safetensors", "{\"w\":" + info("F64", "[1]", 0, 8) + "}", new byte[8]), "has dtype F64");
  }

  @Test
  void inconsistentShapesAndOffsets() throws IOException {
    assertCorrupt(file("size.safetensors", "{\"w\":" + info("F32", "[2,3]", 0, 20) + "}", new byte[20]),
        "tensor 'w' has shape [2, 3] (24 bytes as F32) but data_offsets [0, 20] span 20 bytes");
    assertCorrupt(file("negdim.safetensors", "{\"w\":" + info("F32", "[2,-3]", 0, 24) + "}", new byte[24]),
        "tensor 'w' has negative dimension -3 in shape [2, -3]");
    assertCorrupt(file("overlap.safetensors",
        "{\"a\":" + info("F32", "[2]", 0, 8) + ",\"b\":" + info("F32", "[2]", 4, 12) + "}", new byte[12]),
        "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
    assertCorrupt(file("same.safetensors",
        "{\"a\":" + info("F32", "[2]", 0, 8) + ",\"b\":" + info("F32", "[2]", 0, 8) + "}", new byte[8]), "overlap");
    assertCorrupt(file("gap.safetensors",
        "{\"a\":" + info("F32", "[1]", 0, 4) + ",\"b\":" + info("F32", "[1]", 8, 12) + "}", new byte[12]),
        "gap in the data region: bytes [4, 8) before tensor 'b'");
    assertCorrupt(file("start.safetensors", "{\"a\":" + info("F32", "[1]", 4, 8) + "}", new byte[8]),
        "gap in the data region: bytes [0, 4)");
    assertCorrupt(file("dup.safetensors",
        "{\"a\":" + info("F32", "[1]", 0, 4) + ",\"a\":" + info("F32", "[1]", 4, 8) + "}", new byte[8]),
        "duplicate tensor name 'a'");
    assertCorrupt(file("nodata.safetensors", "{\"a\":" + info("F32", "[1]", 0, 4) + "}", new byte[0]),
        "data region is 0 bytes", "need 4 bytes");
    // Offsets past the end of the file are caught before anything is allocated.
    assertCorrupt(file("far.safetensors", "{\"a\":" + info("F32", "[268435456]", 0, 1L << 30) + "}", new byte[4]),
        "need 1073741824 bytes", "truncated");
  }

  @Test
  void emptyTensorsMayShareAnOffset() throws IOException {
    Path f = file("empties.safetensors", "{\"a\":" + info("F32", "[1]", 0, 4) + ",\"e\":" + info("F32", "[0]", 4, 4)
        + ",\"f\":" + info("F32", "[2,0]", 0, 0) + "}", new byte[] {0, 0, (byte) 0x80, 0x3f});
    Map<String, Entry> back = SafeTensors.read(f);
    assertEquals(new Entry(new int[] {1}, new float[] {1f}), back.get("a"));
    assertEquals(new Entry(new int[] {0}, new float[0]), back.get("e"));
    assertEquals(new Entry(new int[] {2, 0}, new float[0]), back.get("f"));
  }

  // ------------------------------------------------------------------ loadInto

  private Path twoTensorFile() throws IOException {
    Path f = dir.resolve("two.safetensors");
    SafeTensors.write(f, Map.of("w", tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), "b", tensor(new float[] {7, 8}, 2)), null);
    return f;
  }

  @Test
  void loadIntoCopiesMatchingTensors() throws IOException {
    Path f = twoTensorFile();
    Tensor w = tensor(new float[6], 2, 3), b = tensor(new float[2], 2);
    SafeTensors.loadInto(f, Map.of("w", w, "b", b), true);
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.toArray());
    assertArrayEquals(new float[] {7, 8}, b.toArray());

    // Non-strict: a subset of the file's tensors is fine.
    Tensor b2 = tensor(new float[2], 2);
    SafeTensors.loadInto(f, Map.of("b", b2), false);
    assertArrayEquals(new float[] {7, 8}, b2.toArray());
  }

  @Test
  void loadIntoShapeMismatchChangesNothing() throws IOException {
    Path f = twoTensorFile();
    float[] w0 = {-1, -1, -1, -1, -1, -1}, b0 = {-2, -2, -2};
    Tensor w = tensor(w0.clone(), 2, 3), b = tensor(b0.clone(), 3);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of("w", w, "b", b), true));
    assertTrue(e.getMessage().contains("tensor 'b' has shape [2] in the file but the target has shape [3]"), e.getMessage());
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertArrayEquals(w0, w.toArray(), "w matched but must not be loaded when b fails");
    assertArrayEquals(b0, b.toArray());

    // Transposed shape, same element count.
    Tensor wt = tensor(w0.clone(), 3, 2);
    e = assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of("w", wt), false));
    assertTrue(e.getMessage().contains("tensor 'w' has shape [2, 3] in the file but the target has shape [3, 2]"), e.getMessage());
    assertArrayEquals(w0, wt.toArray());
  }

  @Test
  void loadIntoMissingOrExtraNamesChangeNothing() throws IOException {
    Path f = twoTensorFile();
    float[] w0 = {-1, -1, -1, -1, -1, -1};
    Tensor w = tensor(w0.clone(), 2, 3), c = tensor(new float[] {9}, 1);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of("w", w, "c", c), false));
    assertTrue(e.getMessage().contains("tensor 'c' (target shape [1]) is missing from the file"), e.getMessage());
    assertArrayEquals(w0, w.toArray());
    assertArrayEquals(new float[] {9}, c.toArray());

    e = assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of("w", w), true));
    assertTrue(e.getMessage().contains("the file has tensors with no target (strict load): 'b' [2]"), e.getMessage());
    assertArrayEquals(w0, w.toArray());
  }

  @Test
  void loadIntoCorruptFileChangesNothing() throws IOException {
    Path f = twoTensorFile();
    byte[] bytes = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(bytes, bytes.length - 1));
    float[] w0 = {-1, -1, -1, -1, -1, -1};
    Tensor w = tensor(w0.clone(), 2, 3), b = tensor(new float[2], 2);
    assertThrows(CheckpointException.class, () -> SafeTensors.loadInto(f, Map.of("w", w, "b", b), true));
    assertArrayEquals(w0, w.toArray());
  }

  @Test
  void loadIntoRejectsClosedTargetsBeforeReading() throws IOException {
    Path f = twoTensorFile();
    Tensor w = tensor(new float[6], 2, 3);
    Tensor b = ref.zeros(2);
    b.close();
    assertThrows(IllegalStateException.class, () -> SafeTensors.loadInto(f, Map.of("w", w, "b", b), true));
    assertArrayEquals(new float[6], w.toArray());
  }

  // ------------------------------------------------------------------ atomic replacement

  private List<Path> listDir() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void failureWhileWritingDataLeavesThePreviousFile() throws IOException {
    Path f = dir.resolve("model.safetensors");
    SafeTensors.write(f, Map.of("a", tensor(new float[] {1, 2}, 2)), Map.of("version", "1"));
    byte[] before = Files.readAllBytes(f);

    // A tensor whose memory is gone: the download fails after the header and 'a' were written.
    HostStorage dead = new HostStorage(1 << 16);
    dead.close();
    Tensor broken = new Tensor(ref, new int[] {1 << 16}, dead);
    Map<String, Tensor> next = Map.of("a", tensor(new float[] {3, 4}, 2), "z", broken);
    assertThrows(IllegalStateException.class, () -> SafeTensors.write(f, next, Map.of("version", "2")));

    assertArrayEquals(before, Files.readAllBytes(f), "the previous file is untouched");
    assertEquals(List.of(f), listDir(), "the temporary file was removed");
    assertEquals(Map.of("version", "1"), SafeTensors.readMetadata(f));
  }

  @Test
  void failureToRenameLeavesNoTemporaryFile() throws IOException {
    Path target = dir.resolve("occupied");
    Files.createDirectory(target);
    Files.writeString(target.resolve("keep.txt"), "keep");
    assertThrows(IOException.class, () -> SafeTensors.write(target, Map.of("a", tensor(new float[] {1}, 1)), null));
    assertTrue(Files.isDirectory(target));
    assertEquals("keep", Files.readString(target.resolve("keep.txt")));
    assertEquals(List.of(target), listDir());
  }

  @Test
  void parentThatIsARegularFileFailsCleanly() throws IOException {
    Path notADir = dir.resolve("plain.txt");
    Files.writeString(notADir, "not a folder");
    assertThrows(IOException.class, () -> SafeTensors.write(notADir.resolve("model.safetensors"),
        Map.of("a", tensor(new float[] {1}, 1)), null));
    assertEquals("not a folder", Files.readString(notADir));
    assertEquals(List.of(notADir), listDir());
  }

  @Test
  void readOnlyFolderLeavesThePreviousFile() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("ro"));
    Path f = sub.resolve("model.safetensors");
    SafeTensors.write(f, Map.of("a", tensor(new float[] {1}, 1)), null);
    byte[] before = Files.readAllBytes(f);
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      Assumptions.assumeFalse(Files.isWritable(sub), "running as a user who may write anywhere (root)");
      assertThrows(IOException.class, () -> SafeTensors.write(f, Map.of("a", tensor(new float[] {2}, 1)), null));
      assertArrayEquals(before, Files.readAllBytes(f));
    } finally {
      Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void overwriteReplacesTheFile() throws IOException {
    Path f = dir.resolve("model.safetensors");
    SafeTensors.write(f, Map.of("a", tensor(new float[] {1}, 1)), null);
    SafeTensors.write(f, Map.of("b", tensor(new float[] {2, 3}, 2)), null);
    assertEquals(List.of("b"), new ArrayList<>(SafeTensors.read(f).keySet()));
    assertEquals(List.of(f), listDir());
  }

  // ------------------------------------------------------------------ Entry

  @Test
  void entryEqualityIsBitwise() {
    Entry a = new Entry(new int[] {2}, new float[] {bits(0x7fc00001), 0f});
    assertEquals(a, new Entry(new int[] {2}, new float[] {bits(0x7fc00001), 0f}));
    assertEquals(a.hashCode(), new Entry(new int[] {2}, new float[] {bits(0x7fc00001), 0f}).hashCode());
    assertNotEquals(a, new Entry(new int[] {2}, new float[] {bits(0x7fc00002), 0f}));
    assertNotEquals(a, new Entry(new int[] {2}, new float[] {bits(0x7fc00001), -0f}));
    assertNotEquals(a, new Entry(new int[] {1, 2}, new float[] {bits(0x7fc00001), 0f}));
    assertThrows(IllegalArgumentException.class, () -> new Entry(new int[] {3}, new float[2]));
    assertThrows(IllegalArgumentException.class, () -> new Entry(new int[] {-1}, new float[0]));
    int[] shape = {2};
    Entry e = new Entry(shape, new float[2]);
    shape[0] = 5;
    e.shape()[0] = 7;
    assertArrayEquals(new int[] {2}, e.shape(), "shape is copied in and out");
  }
}
