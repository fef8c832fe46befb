package io.idemnet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.data.IdxReader.IdxArray;
import io.idemnet.data.IdxReader.Type;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  @TempDir Path dir;

  /** An IDX file written byte by byte: magic, big-endian dims, then {@code data} as given. */
  static byte[] idx(int type, int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
    for (int d : dims) b.putInt(d);
    b.put(data);
    return b.array();
  }

  static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
    return b;
  }

  private static final byte[] PIXELS = bytes(0, 1, 2, 127, 128, 255, 9, 8, 7, 6, 5, 4);

  private void checkUbyte(IdxArray a) {
    assertEquals(Type.UNSIGNED_BYTE, a.type());
    assertArrayEquals(new int[] {2, 3, 2}, a.dims());
    assertEquals(12, a.size());
    assertEquals(3, a.rank());
    assertArrayEquals(new int[] {0, 1, 2, 127, 128, 255, 9, 8, 7, 6, 5, 4}, a.ints());
    assertArrayEquals(new float[] {0, 1, 2, 127, 128, 255, 9, 8, 7, 6, 5, 4}, a.floats());
    assertArrayEquals(PIXELS, a.bytes());
  }

  @Test
  void readsPlainUnsignedBytes() throws IOException {
    checkUbyte(IdxReader.read(write("plain-idx3-ubyte", idx(0x08, new int[] {2, 3, 2}, PIXELS))));
  }

  @Test
  void readsGzipByContentNotByName() throws IOException {
    byte[] file = idx(0x08, new int[] {2, 3, 2}, PIXELS);
    IdxArray gz = IdxReader.read(write("no-gz-suffix-idx3-ubyte", gzip(file)));
    checkUbyte(gz);
    checkUbyte(IdxReader.read(write("plain-but-named.gz", file)));
    assertEquals(gz, IdxReader.read(new ByteArrayInputStream(gzip(file)), "stream"));
    assertEquals(gz, IdxReader.read(new ByteArrayInputStream(file), "stream"));
  }

  @Test
  void readsEveryType() throws IOException {
    IdxArray s8 = IdxReader.read(write("s8", idx(0x09, new int[] {4}, bytes(-1, 127, -128, 0))));
    assertArrayEquals(new int[] {-1, 127, -128, 0}, s8.ints());

    ByteBuffer b = ByteBuffer.allocate(6).putShort((short) -2).putShort((short) 300).putShort(Short.MIN_VALUE);
    IdxArray s16 = IdxReader.read(write("s16", gzip(idx(0x0B, new int[] {3, 1}, b.array()))));
    assertArrayEquals(new int[] {-2, 300, Short.MIN_VALUE}, s16.ints());
    assertArrayEquals(new double[] {-2, 300, Short.MIN_VALUE}, s16.doubles());

    b = ByteBuffer.allocate(8).putInt(Integer.MIN_VALUE).putInt(123456789);
    IdxArray s32 = IdxReader.read(write("s32", idx(0x0C, new int[] {1, 2}, b.array())));
    assertArrayEquals(new int[] {Integer.MIN_VALUE, 123456789}, s32.ints());
    assertArrayEquals(new double[] {Integer.MIN_VALUE, 123456789}, s32.doubles());

    b = ByteBuffer.allocate(12).putFloat(1.5f).putFloat(-0.25f).putFloat(Float.MAX_VALUE);
    IdxArray f32 = IdxReader.read(write("f32", idx(0x0D, new int[] {3}, b.array())));
    assertArrayEquals(new float[] {1.5f, -0.25f, Float.MAX_VALUE}, f32.floats());
    assertArrayEquals(new double[] {1.5, -0.25, Float.MAX_VALUE}, f32.doubles());
    assertThrows(IllegalStateException.class, f32::ints);
    assertThrows(IllegalStateException.class, f32::bytes);

    b = ByteBuffer.allocate(16).putDouble(0.1).putDouble(-1e300);
    IdxArray f64 = IdxReader.read(write("f64", gzip(idx(0x0E, new int[] {2}, b.array()))));
    assertArrayEquals(new double[] {0.1, -1e300}, f64.doubles());
    assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, f64.floats());
  }

  @Test
  void emptyDimensionIsAnEmptyArray() throws IOException {
    IdxArray a = IdxReader.read(write("empty", idx(0x0D, new int[] {0, Integer.MAX_VALUE, Integer.MAX_VALUE, 7}, new byte[0])));
    assertEquals(0, a.size());
    assertArrayEquals(new float[0], a.floats());
  }

  /** Reads {@code bytes} as a file and expects a DataFileException naming the file and {@code problem}. */
  private DataFileException corrupt(String name, byte[] bytes, String problem) throws IOException {
    Path file = write(name, bytes);
    DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.read(file));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(problem), "'" + problem + "' not in: " + e.getMessage());
    assertEquals(file.toString(), e.source().replace(" (gzip)", ""));
    return e;
  }

  @Test
  void rejectsBadHeaders() throws IOException {
    byte[] good = idx(0x08, new int[] {2, 3, 2}, PIXELS);
    byte[] badMagic = good.clone();
    badMagic[0] = 0x50; // "P", say a PNG by mistake
    corrupt("bad-magic", badMagic, "bad magic 0x50000803");
    corrupt("bad-magic.gz", gzip(badMagic), "bad magic");
    byte[] badType = good.clone();
    badType[2] = 0x0A;
    corrupt("bad-type", badType, "unknown IDX data type 0x0a");
    corrupt("no-dims", bytes(0, 0, 8, 0), "no dimensions");
    corrupt("negative", idx(0x08, new int[] {3, -1}, new byte[0]), "dimension 1 is negative: -1");
    corrupt("empty-file", new byte[0], "truncated header: 0 bytes, 4 needed");
    corrupt("short-magic", bytes(0, 0), "truncated header: 2 bytes, 4 needed");
    corrupt("short-dims", Arrays.copyOf(good, 9), "truncated header: 9 bytes, 16 needed");
    corrupt("short-dims.gz", gzip(Arrays.copyOf(good, 9)), "truncated header: 9 bytes, 16 needed");
  }

  @Test
  void rejectsForgedHugeDimensionsWithoutAllocating() throws IOException {
    int max = Integer.MAX_VALUE;
    corrupt("overflow", idx(0x08, new int[] {max, max, max, max, max}, PIXELS), "overflows");
    corrupt("overflow.gz", gzip(idx(0x08, new int[] {max, max, max, max, max}, PIXELS)), "overflows");
    corrupt("too-large", idx(0x0E, new int[] {65536, 65536}, PIXELS), "more than one Java array holds");
    // 1.6 GB declared, 12 bytes present: refused before allocating, plain and gzipped.
    corrupt("forged", idx(0x08, new int[] {40000, 40000}, PIXELS), "need 1600000000 data bytes but the file has 12");
    corrupt("forged.gz", gzip(idx(0x08, new int[] {40000, 40000}, PIXELS)), "need 1600000000 data bytes but only 12 follow");
  }

  @Test
  void rejectsTruncatedAndTrailingData() throws IOException {
    byte[] good = idx(0x08, new int[] {2, 3, 2}, PIXELS);
    corrupt("short-data", Arrays.copyOf(good, good.length - 1), "need 12 data bytes but the file has 11");
    corrupt("short-data.gz", gzip(Arrays.copyOf(good, good.length - 1)), "need 12 data bytes but only 11 follow");
    byte[] longer = Arrays.copyOf(good, good.length + 3);
    corrupt("trailing", longer, "3 bytes after the 12 data bytes");
    corrupt("trailing.gz", gzip(longer), "bytes after the 12 data bytes");
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }

  /**
   * Bytes after the gzip data are refused (GZIPInputStream alone drops them silently when they do
   * not look like a gzip header); a file of several whole gzip members is one gzip file and reads
   * as their concatenation.
   */
  @Test
  void rejectsBytesAfterTheGzipData() throws IOException {
    byte[] good = idx(0x08, new int[] {2, 3, 2}, PIXELS);
    corrupt("trailing-bytes.gz", concat(gzip(good), bytes(1, 2, 3, 0, 0)), "5 bytes follow the end of the gzip data");
    corrupt("trailing-zero.gz", concat(gzip(good), bytes(0)), "1 byte follows the end of the gzip data");
    corrupt("trailing-magic.gz", concat(gzip(good), bytes(0x1f, 0x8b, 0x63)), "corrupt gzip stream");
    corrupt("trailing-member.gz", concat(gzip(good), gzip(bytes(7))), "bytes after the 12 data bytes");
    IdxArray split = IdxReader.read(write("two-members.gz", concat(gzip(Arrays.copyOf(good, 10)),
        gzip(Arrays.copyOfRange(good, 10, good.length)))));
    assertEquals(IdxReader.read(write("one-member.gz", gzip(good))), split);
    assertThrows(DataFileException.class,
        () -> IdxReader.read(new ByteArrayInputStream(concat(gzip(good), bytes(9))), "stream"));
  }

  @Test
  void rejectsTruncatedOrCorruptGzip() throws IOException {
    byte[] data = new byte[5000];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31 + i / 7);
    byte[] gz = gzip(idx(0x08, new int[] {50, 100}, data));
    corrupt("cut-header.gz", Arrays.copyOf(gz, 5), "truncated gzip header");
    corrupt("cut-stream.gz", Arrays.copyOf(gz, gz.length / 2), "truncated gzip stream");
    corrupt("cut-trailer.gz", Arrays.copyOf(gz, gz.length - 4), "truncated gzip stream");
    byte[] badCrc = gz.clone();
    badCrc[gz.length - 6] ^= 0x55; // inside the CRC32 of the trailer
    corrupt("bad-crc.gz", badCrc, "corrupt gzip stream");
    byte[] badDeflate = gz.clone();
    for (int i = 12; i < 40; i++) badDeflate[i] = (byte) 0xFF;
    corrupt("bad-deflate.gz", badDeflate, "gzip");
  }

  @Test
  void readDatasetScalesToUnitRangeAndChecksLabels() throws IOException {
    Path images = write("img", gzip(idx(0x08, new int[] {3, 2, 2}, bytes(0, 255, 51, 102, 1, 2, 3, 4, 250, 251, 252, 253))));
    Path labels = write("lab", idx(0x08, new int[] {3}, bytes(9, 0, 4)));
    Dataset d = IdxReader.readDataset(images, labels, 10);
    assertArrayEquals(new int[] {3, 1, 2, 2}, d.shape());
    assertArrayEquals(new int[] {9, 0, 4}, d.labels());
    assertArrayEquals(new float[] {0f, 1f, 0.2f, 0.4f}, d.image(0));
    assertEquals(253 / 255f, d.images()[11]);
    for (float v : d.images()) assertTrue(v >= 0 && v <= 1);

    Path badLabels = write("lab-bad", idx(0x08, new int[] {3}, bytes(9, 10, 4)));
    DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readDataset(images, badLabels, 10));
    assertTrue(e.getMessage().contains(badLabels + ": label 1 is 10, outside 0..9"), e.getMessage());
    Path fewLabels = write("lab-few", idx(0x08, new int[] {2}, bytes(1, 2)));
    e = assertThrows(DataFileException.class, () -> IdxReader.readDataset(images, fewLabels, 10));
    assertTrue(e.getMessage().contains("2 labels for the 3 images"), e.getMessage());
    Path floatImages = write("img-f", idx(0x0D, new int[] {1, 1, 1}, new byte[4]));
    e = assertThrows(DataFileException.class, () -> IdxReader.readDataset(floatImages, labels, 10));
    assertTrue(e.getMessage().contains("expected images as unsigned bytes [N, H, W]"), e.getMessage());
  }

  @Test
  void recordChecksAndCopiesDims() {
    int[] dims = {2, 2};
    IdxArray a = new IdxArray(Type.SHORT, dims, new byte[8]);
    dims[0] = 5;
    assertArrayEquals(new int[] {2, 2}, a.dims());
    a.dims()[1] = 7;
    assertEquals(2, a.dim(1));
    assertThrows(IllegalArgumentException.class, () -> new IdxArray(Type.SHORT, new int[] {2, 2}, new byte[7]));
    assertEquals("IdxArray[SHORT [2, 2]]", a.toString());
  }
}
