package io.idemnet.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST: four magic bytes {@code 0x00 0x00 TYPE
 * NDIMS}, then NDIMS big-endian int32 dimensions, then the product of the dimensions' elements,
 * big-endian, row-major. TYPE is one of {@link Type}: {@code 0x08} unsigned byte, {@code 0x09}
 * signed byte, {@code 0x0B} int16, {@code 0x0C} int32, {@code 0x0D} float32, {@code 0x0E} float64.
 *
 * <p>A file may be plain or gzipped; gzip is recognized by its magic bytes {@code 1f 8b}, not by
 * the file name. Every problem with the content is a {@link DataFileException} naming the file and
 * the problem: bad magic, unknown type, no dimensions, a negative dimension, a dimension product
 * that overflows or exceeds a Java array, data shorter than the dimensions say (or bytes left over
 * after it), a truncated or corrupt gzip stream, bytes after the gzip data that are not another
 * gzip member. Nothing is allocated from a size in the header
 * before it is checked: a plain file's data size is checked against the bytes the file has left,
 * and gzipped data is read in growing chunks, so memory follows the bytes actually decompressed.
 */
public final class IdxReader {
  private IdxReader() {}

  /** The largest data array read: the largest Java array the JVM reliably allocates. */
  public static final int MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

  private static final int FIRST_CHUNK = 1 << 20;

  /** The element types of the IDX format, with their type byte and size in bytes. */
  public enum Type {
    /** Type code 0x08: unsigned bytes (the MNIST images and labels). */
    UNSIGNED_BYTE(0x08, 1),
    /** Type code 0x09: signed bytes. */
    SIGNED_BYTE(0x09, 1),
    /** Type code 0x0B: big-endian 16-bit integers. */
    SHORT(0x0B, 2),
    /** Type code 0x0C: big-endian 32-bit integers. */
    INT(0x0C, 4),
    /** Type code 0x0D: big-endian 32-bit floats. */
    FLOAT(0x0D, 4),
    /** Type code 0x0E: big-endian 64-bit floats. */
    DOUBLE(0x0E, 8);

    private final int code;
    private final int bytes;

    Type(int code, int bytes) {
      this.code = code;
      this.bytes = bytes;
    }

    /** The type byte in the file's magic number. */
    public int code() {
      return code;
    }

    /** Bytes per element. */
    public int bytes() {
      return bytes;
    }

    /** Whether elements are integers (everything but FLOAT and DOUBLE). */
    public boolean isInteger() {
      return this != FLOAT && this != DOUBLE;
    }

    /** The type with this type byte, or null. */
    public static Type of(int code) {
      for (Type t : values()) if (t.code == code) return t;
      return null;
    }
  }

  /**
   * The content of an IDX file: its element type, its dimensions and its data as the file stores
   * it (big-endian, row-major). The dimensions are copied in and out; the data array is held as
   * given and returned as is by {@link #data()} (it can be large). Two arrays are equal when type,
   * dimensions and data bytes are equal.
   */
  public record IdxArray(Type type, int[] dims, byte[] data) {
    public IdxArray {
      if (type == null || dims == null || data == null) throw new NullPointerException("type, dims and data are required");
      dims = dims.clone();
      for (int d : dims) if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
      long count = elementCount(dims);
      if (count < 0 || count > MAX_DATA_BYTES) throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " are too large");
      if (count * type.bytes != data.length) {
        throw new IllegalArgumentException(
            "dimensions " + Arrays.toString(dims) + " of " + type + " need " + count * type.bytes + " bytes, not " + data.length);
      }
    }

    @Override
    public int[] dims() {
      return dims.clone();
    }

    /** Dimension {@code i}. */
    public int dim(int i) {
      return dims[i];
    }

    /** The number of dimensions. */
    public int rank() {
      return dims.length;
    }

    /** The number of elements (the product of the dimensions). */
    public int size() {
      return data.length / type.bytes;
    }

    /**
     * The elements of a byte type, as stored (not copied): for {@link Type#UNSIGNED_BYTE} read them
     * with {@code b & 0xFF}.
     *
     * @throws IllegalStateException for the other types
     */
    public byte[] bytes() {
      if (type.bytes != 1) throw new IllegalStateException("bytes() of an IDX array of " + type);
      return data;
    }

    /**
     * The elements of an integer type as ints (unsigned bytes as 0..255).
     *
     * @throws IllegalStateException for FLOAT and DOUBLE
     */
    public int[] ints() {
      if (!type.isInteger()) throw new IllegalStateException("ints() of an IDX array of " + type);
      int n = size();
      int[] out = new int[n];
      ByteBuffer b = ByteBuffer.wrap(data); // big-endian by default
      switch (type) {
        case UNSIGNED_BYTE -> { for (int i = 0; i < n; i++) out[i] = data[i] & 0xFF; }
        case SIGNED_BYTE -> { for (int i = 0; i < n; i++) out[i] = data[i]; }
        case SHORT -> { for (int i = 0; i < n; i++) out[i] = b.getShort(2 * i); }
        default -> b.asIntBuffer().get(out);
      }
      return out;
    }

    /** The elements of any type as floats (int32 and float64 rounded to the nearest float). */
    public float[] floats() {
      int n = size();
      float[] out = new float[n];
      ByteBuffer b = ByteBuffer.wrap(data);
      switch (type) {
        case FLOAT -> b.asFloatBuffer().get(out);
        case DOUBLE -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i); }
        default -> {
          int[] v = ints();
          for (int i = 0; i < n; i++) out[i] = v[i];
        }
      }
      return out;
    }

    /** The elements of any type as doubles (exact for every type). */
    public double[] doubles() {
      int n = size();
      double[] out = new double[n];
      ByteBuffer b = ByteBuffer.wrap(data);
      switch (type) {
        case DOUBLE -> b.asDoubleBuffer().get(out);
        case FLOAT -> { for (int i = 0; i < n; i++) out[i] = b.getFloat(4 * i); }
        default -> {
          int[] v = ints();
          for (int i = 0; i < n; i++) out[i] = v[i];
        }
      }
      return out;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof IdxArray other && type == other.type && Arrays.equals(dims, other.dims) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
      return 31 * (31 * type.hashCode() + Arrays.hashCode(dims)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "IdxArray[" + type + " " + Arrays.toString(dims) + "]";
    }
  }

  /** Reads an IDX file, plain or gzipped. */
  public static IdxArray read(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString(), size);
    }
  }

  /**
   * Reads an IDX array, plain or gzipped, from a stream to its end (the stream is not closed).
   * {@code source} names the stream in error messages.
   */
  public static IdxArray read(InputStream in, String source) throws IOException {
    return read(in, source, -1);
  }

  private static IdxArray read(InputStream raw, String source, long knownSize) throws IOException {
    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(2);
    int m0 = in.read();
    int m1 = in.read();
    in.reset();
    if (m0 != 0x1f || m1 != 0x8b) return parse(in, source, knownSize, false);
    String gzSource = source + " (gzip)";
    StrictGzipInputStream gz;
    try {
      gz = new StrictGzipInputStream(in);
    } catch (EOFException e) {
      throw new DataFileException(gzSource, "truncated gzip header", e);
    } catch (ZipException e) {
      throw new DataFileException(gzSource, "corrupt gzip header: " + e.getMessage(), e);
    }
    try {
      return parse(gz, gzSource, -1, true);
    } catch (StrictGzipInputStream.TrailingDataException e) {
      throw new DataFileException(gzSource, e.getMessage(), e);
    } catch (EOFException e) {
      String detail = e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
      throw new DataFileException(gzSource, "truncated gzip stream" + detail, e);
    } catch (ZipException e) {
      throw new DataFileException(gzSource, "corrupt gzip stream: " + e.getMessage(), e);
    } finally {
      gz.end();
    }
  }

  /** {@code remaining} is the stream's length when known, else -1. */
  private static IdxArray parse(InputStream in, String source, long remaining, boolean gzip) throws IOException {
    byte[] magic = readHeader(in, source, 4, 0);
    if (magic[0] != 0 || magic[1] != 0) {
      throw new DataFileException(source, String.format(
          "bad magic 0x%02x%02x%02x%02x (an IDX file starts with 0x00 0x00, a type byte and a dimension count)%s",
          magic[0] & 0xFF, magic[1] & 0xFF, magic[2] & 0xFF, magic[3] & 0xFF, gzip ? "" : "; not gzipped either"));
    }
    Type type = Type.of(magic[2] & 0xFF);
    if (type == null) {
      throw new DataFileException(source, String.format(
          "unknown IDX data type 0x%02x (known: 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E)", magic[2] & 0xFF));
    }
    int ndims = magic[3] & 0xFF;
    if (ndims == 0) throw new DataFileException(source, "IDX header declares no dimensions");
    ByteBuffer dimBytes = ByteBuffer.wrap(readHeader(in, source, 4 * ndims, 4));
    int[] dims = new int[ndims];
    for (int i = 0; i < ndims; i++) {
      dims[i] = dimBytes.getInt();
      if (dims[i] < 0) throw new DataFileException(source, "dimension " + i + " is negative: " + dims[i]);
    }
    long count = elementCount(dims);
    if (count < 0 || count > MAX_DATA_BYTES / type.bytes) {
      throw new DataFileException(source, "dimensions " + Arrays.toString(dims) + " of " + type + " make "
          + (count < 0 ? "more than 2^63 elements (the product overflows)" : count * type.bytes + " bytes")
          + ", more than one Java array holds (" + MAX_DATA_BYTES + " bytes)");
    }
    int nbytes = (int) (count * type.bytes);
    long header = 4 + 4L * ndims;
    byte[] data;
    if (remaining >= 0) {
      long left = remaining - header;
      if (nbytes > left) {
        throw new DataFileException(source, "truncated: dimensions " + Arrays.toString(dims) + " of " + type + " need "
            + nbytes + " data bytes but the file has " + left + " after the " + header + "-byte header");
      }
      if (nbytes < left) {
        throw new DataFileException(source, (left - nbytes) + " bytes after the " + nbytes + " data bytes that dimensions "
            + Arrays.toString(dims) + " of " + type + " need");
      }
      data = new byte[nbytes];
      int got = in.readNBytes(data, 0, nbytes);
      if (got != nbytes) throw new DataFileException(source, "file shrank while reading: " + got + " of " + nbytes + " data bytes");
    } else {
      data = readUpTo(in, nbytes);
      if (data.length < nbytes) {
        throw new DataFileException(source, "truncated: dimensions " + Arrays.toString(dims) + " of " + type + " need "
            + nbytes + " data bytes but only " + data.length + " follow the " + header + "-byte header");
      }
      // Reading past the data also makes GZIPInputStream check the gzip trailer (CRC and length).
      if (in.read() != -1) {
        throw new DataFileException(source, "bytes after the " + nbytes + " data bytes that dimensions "
            + Arrays.toString(dims) + " of " + type + " need");
      }
    }
    return new IdxArray(type, dims, data);
  }

  /** The product of non-negative dimensions, or -1 when it overflows a long. */
  static long elementCount(int[] dims) {
    for (int d : dims) if (d == 0) return 0;
    long count = 1;
    for (int d : dims) {
      try {
        count = Math.multiplyExact(count, (long) d);
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return count;
  }

  private static byte[] readHeader(InputStream in, String source, int n, int offset) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new DataFileException(source, "truncated header: " + (offset + b.length) + " bytes, " + (offset + n) + " needed");
    }
    return b;
  }

  /** Reads up to {@code limit} bytes, growing the buffer with what actually arrives. */
  private static byte[] readUpTo(InputStream in, int limit) throws IOException {
    byte[] buf = new byte[Math.min(limit, FIRST_CHUNK)];
    int n = 0;
    while (n < limit) {
      if (n == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(limit, 2L * buf.length));
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) break;
      n += r;
    }
    return n == buf.length ? buf : Arrays.copyOf(buf, n);
  }

  /**
   * Reads an image file ({@code [N, H, W]} unsigned bytes) and a label file ({@code [N]} unsigned
   * bytes) in the MNIST layout into a one-channel dataset with pixels scaled to [0, 1] (byte / 255).
   * Labels must lie in {@code 0 .. numClasses - 1}.
   */
  public static Dataset readDataset(Path imageFile, Path labelFile, int numClasses) throws IOException {
    IdxArray images = read(imageFile);
    if (images.type() != Type.UNSIGNED_BYTE || images.rank() != 3) {
      throw new DataFileException(imageFile, "expected images as unsigned bytes [N, H, W], found " + images.type() + " "
          + Arrays.toString(images.dims()));
    }
    if (images.dim(1) == 0 || images.dim(2) == 0) throw new DataFileException(imageFile, "empty images " + Arrays.toString(images.dims()));
    IdxArray labels = read(labelFile);
    if (labels.type() != Type.UNSIGNED_BYTE || labels.rank() != 1) {
      throw new DataFileException(labelFile, "expected labels as unsigned bytes [N], found " + labels.type() + " "
          + Arrays.toString(labels.dims()));
    }
    if (labels.dim(0) != images.dim(0)) {
      throw new DataFileException(labelFile, labels.dim(0) + " labels for the " + images.dim(0) + " images of " + imageFile);
    }
    int[] y = labels.ints();
    for (int i = 0; i < y.length; i++) {
      if (y[i] >= numClasses) throw new DataFileException(labelFile, "label " + i + " is " + y[i] + ", outside 0.." + (numClasses - 1));
    }
    byte[] px = images.bytes();
    float[] x = new float[px.length];
    for (int i = 0; i < px.length; i++) x[i] = (px[i] & 0xFF) / 255f;
    return new Dataset(x, y, 1, images.dim(1), images.dim(2));
  }
}
