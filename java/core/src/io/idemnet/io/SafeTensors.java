package io.idemnet.io;

import io.idemnet.tensor.Shape;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads and writes float32 tensors in the
 * <a href="https://github.com/huggingface/safetensors">safetensors</a> format: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
 * {@code {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} (plus an optional
 * {@code "__metadata__"} object of strings), then the little-endian row-major data, whose byte
 * range is covered by the tensors' offsets exactly, without gaps or overlaps.
 *
 * <p>Only dtype {@code F32} is read or written. Every structural problem in a file (truncation,
 * malformed header, other dtypes, inconsistent offsets, duplicate names, ...) is a
 * {@link CheckpointException} naming the file and the problem; nothing is trusted before it is
 * checked against the file's size, so a corrupt header cannot cause a huge allocation.
 */
public final class SafeTensors {
  private SafeTensors() {}

  /** Headers longer than this are rejected as corrupt (the limit of the reference implementation). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The reserved header key holding the string-to-string metadata. */
  public static final String METADATA_KEY = "__metadata__";

  private static final String DTYPE = "F32";
  private static final int CHUNK_BYTES = 1 << 20;

  /**
   * A tensor on the host: its shape and its row-major values. The shape is copied; the data array
   * is held as given (not copied). Two entries are equal when their shapes are equal and their data
   * are equal bit for bit (a NaN equals the same NaN, 0.0 differs from -0.0).
   */
  public record Entry(int[] shape, float[] data) {
    public Entry {
      Objects.requireNonNull(shape, "shape");
      Objects.requireNonNull(data, "data");
      shape = shape.clone();
      long numel = Shape.numel(shape);
      if (numel != data.length) {
        throw new IllegalArgumentException("Entry: " + data.length + " values do not fill shape " + Shape.toString(shape));
      }
    }

    @Override
    public int[] shape() {
      return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Entry e) || !Arrays.equals(shape, e.shape) || data.length != e.data.length) return false;
      for (int i = 0; i < data.length; i++) {
        if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(e.data[i])) return false;
      }
      return true;
    }

    @Override
    public int hashCode() {
      int h = Arrays.hashCode(shape);
      for (float v : data) h = 31 * h + Float.floatToRawIntBits(v);
      return h;
    }

    @Override
    public String toString() {
      return "Entry" + Shape.toString(shape);
    }
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes {@code tensors} (downloaded from whatever backend they live on) and {@code metadata}
   * (null or empty for none) to {@code file}, replacing it atomically: the bytes go to a temporary
   * file in the same folder, which is flushed to disk and then renamed onto {@code file}. On any
   * failure the previous {@code file} is untouched and the temporary file is removed.
   *
   * <p>Tensors are written in the order of their names ({@link String#compareTo}) and metadata keys
   * likewise, so the same tensors and metadata give the same bytes. The header is padded with
   * spaces so that the data starts at a multiple of 8 bytes.
   *
   * @throws IllegalArgumentException for a reserved or unencodable name, or a header over
   *     {@link #MAX_HEADER_BYTES}
   * @throws IllegalStateException for a closed tensor
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(tensors, "tensors");
    TreeMap<String, Tensor> sorted = new TreeMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String name = e.getKey();
      Tensor t = e.getValue();
      Objects.requireNonNull(name, "tensor name");
      if (t == null) throw new NullPointerException("write: tensor '" + name + "' is null");
      if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("write: '" + METADATA_KEY + "' is reserved, not a tensor name");
      checkEncodable("tensor name", name);
      if (t.isClosed()) throw new IllegalStateException("write: tensor '" + name + "' (" + t + ") is closed");
      if (t.numel() > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("write: tensor '" + name + "' " + t + " is too large for a Java array");
      }
      sorted.put(name, t);
    }
    TreeMap<String, String> meta = new TreeMap<>();
    if (metadata != null) {
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        Objects.requireNonNull(e.getKey(), "metadata key");
        if (e.getValue() == null) throw new NullPointerException("write: metadata value for '" + e.getKey() + "' is null");
        checkEncodable("metadata key", e.getKey());
        checkEncodable("metadata value", e.getValue());
        meta.put(e.getKey(), e.getValue());
      }
    }

    byte[] header = headerBytes(sorted, meta);
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    if (dir == null) throw new IOException(file + ": cannot write a file at the root of the file system");
    Path tmp = AtomicFiles.createTemporary(target);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(header.length).put(header).flip();
        writeFully(ch, head);
        for (Tensor t : sorted.values()) writeFloats(ch, t.toArray());
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (Throwable failure) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException cleanup) {
        failure.addSuppressed(cleanup);
      }
      throw failure;
    }
    AtomicFiles.syncDirectory(dir);
  }

  private static void checkEncodable(String what, String s) {
    int bad = Json.unpairedSurrogate(s);
    if (bad >= 0) {
      throw new IllegalArgumentException("write: " + what + " '" + s + "' has an unpaired surrogate at index " + bad
          + " and cannot be encoded as UTF-8");
    }
  }

  /** The header JSON, UTF-8, padded with spaces so that 8 + its length is a multiple of 8. */
  static byte[] headerBytes(Map<String, Tensor> sorted, Map<String, String> sortedMetadata) {
    StringBuilder json = new StringBuilder("{");
    if (!sortedMetadata.isEmpty()) {
      Json.writeString(json, METADATA_KEY);
      json.append(":{");
      boolean first = true;
      for (Map.Entry<String, String> e : sortedMetadata.entrySet()) {
        if (!first) json.append(',');
        first = false;
        Json.writeString(json, e.getKey());
        json.append(':');
        Json.writeString(json, e.getValue());
      }
      json.append('}');
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
      if (json.length() > 1) json.append(',');
      Json.writeString(json, e.getKey());
      json.append(":{\"dtype\":\"").append(DTYPE).append("\",\"shape\":[");
      int[] shape = e.getValue().shape();
      for (int i = 0; i < shape.length; i++) {
        if (i > 0) json.append(',');
        json.append(shape[i]);
      }
      long end = offset + e.getValue().numel() * Float.BYTES;
      json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    json.append('}');
    byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = text.length + (8 - text.length % 8) % 8;
    if (padded > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException("write: the header would be " + padded + " bytes, over the limit of "
          + MAX_HEADER_BYTES + " that readers accept");
    }
    byte[] out = Arrays.copyOf(text, padded);
    Arrays.fill(out, text.length, padded, (byte) ' ');
    return out;
  }

  private static void writeFloats(FileChannel ch, float[] data) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(4L, data.length * 4L)))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (int done = 0; done < data.length; ) {
      int n = Math.min(data.length - done, buf.capacity() / 4);
      buf.clear();
      buf.asFloatBuffer().put(data, done, n);
      buf.limit(n * 4);
      writeFully(ch, buf);
      done += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) ch.write(buf);
  }

  // ------------------------------------------------------------------ reading

  /** Every tensor in the file, in the order of the header, with its values on the host. */
  public static Map<String, Entry> read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = parseHeader(file, ch);
      Map<String, Entry> out = new LinkedHashMap<>();
      for (TensorInfo t : h.tensors) out.put(t.name, new Entry(t.shape, readFloats(file, ch, h, t)));
      return out;
    }
  }

  /**
   * One tensor of the file by name, with its values on the host (the whole header is validated;
   * only that tensor's bytes are read).
   *
   * @throws CheckpointException when the file has no tensor of that name (the message lists the
   *     names it has) or cannot be read
   */
  public static Entry readTensor(Path file, String name) throws IOException {
    Objects.requireNonNull(name, "name");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = parseHeader(file, ch);
      List<String> names = new ArrayList<>();
      for (TensorInfo t : h.tensors) {
        if (t.name.equals(name)) return new Entry(t.shape, readFloats(file, ch, h, t));
        names.add(t.name);
      }
      throw new CheckpointException(file, "no tensor named '" + name + "'; the file has " + names);
    }
  }

  /** The file's {@code __metadata__} (empty when it has none); the whole header is validated. */
  public static Map<String, String> readMetadata(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return new LinkedHashMap<>(parseHeader(file, ch).metadata);
    }
  }

  /**
   * Loads the file's tensors into existing tensors of the same names and shapes. Everything is
   * read and checked first (the whole header; every target present in the file with an equal
   * shape; with {@code strict}, no tensor in the file without a target) and only then copied, so
   * on any error every target keeps its previous contents. A mismatch is a
   * {@link CheckpointException} listing every problem with the tensor names and both shapes.
   *
   * @throws IllegalStateException for a closed target (checked before the file is opened)
   */
  public static void loadInto(Path file, Map<String, Tensor> targets, boolean strict) throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(targets, "targets");
    for (Map.Entry<String, Tensor> e : targets.entrySet()) {
      Objects.requireNonNull(e.getKey(), "target name");
      if (e.getValue() == null) throw new NullPointerException("loadInto: target '" + e.getKey() + "' is null");
      if (e.getValue().isClosed()) {
        throw new IllegalStateException("loadInto: target '" + e.getKey() + "' (" + e.getValue() + ") is closed");
      }
    }
    List<Tensor> dsts = new ArrayList<>();
    List<float[]> values = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = parseHeader(file, ch);
      Map<String, TensorInfo> byName = new LinkedHashMap<>();
      for (TensorInfo t : h.tensors) byName.put(t.name, t);
      List<String> problems = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : new TreeMap<>(targets).entrySet()) {
        TensorInfo t = byName.get(e.getKey());
        int[] want = e.getValue().shape();
        if (t == null) {
          problems.add("tensor '" + e.getKey() + "' (target shape " + Shape.toString(want) + ") is missing from the file");
        } else if (!Arrays.equals(t.shape, want)) {
          problems.add("tensor '" + e.getKey() + "' has shape " + Shape.toString(t.shape) + " in the file but the target has shape "
              + Shape.toString(want));
        }
      }
      if (strict) {
        List<String> extra = new ArrayList<>();
        for (TensorInfo t : h.tensors) {
          if (!targets.containsKey(t.name)) extra.add("'" + t.name + "' " + Shape.toString(t.shape));
        }
        if (!extra.isEmpty()) problems.add("the file has tensors with no target (strict load): " + String.join(", ", extra));
      }
      if (!problems.isEmpty()) {
        throw new CheckpointException(file, "does not fit the targets; no target was changed: " + String.join("; ", problems));
      }
      for (Map.Entry<String, Tensor> e : targets.entrySet()) {
        dsts.add(e.getValue());
        values.add(readFloats(file, ch, h, byName.get(e.getKey())));
      }
    }
    for (int i = 0; i < dsts.size(); i++) dsts.get(i).copyFrom(values.get(i));
  }

  private record TensorInfo(String name, int[] shape, long numel, long begin, long end) {}

  /** A validated header: data starts at {@code dataStart}; tensors in header order. */
  private record Header(long dataStart, List<TensorInfo> tensors, Map<String, String> metadata) {}

  private static Header parseHeader(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new CheckpointException(file, "file is " + size + " bytes, shorter than the 8-byte header length; "
          + (size == 0 ? "the file is empty" : "not a safetensors file or truncated"));
    }
    ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, ch, lengthBytes, 0);
    long n = lengthBytes.getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new CheckpointException(file, "header length " + Long.toUnsignedString(n) + " bytes is absurd (the limit is "
          + MAX_HEADER_BYTES + "); not a safetensors file or corrupt");
    }
    if (n > size - 8) {
      throw new CheckpointException(file, "header length " + n + " bytes is larger than the file (" + size
          + " bytes); truncated or not a safetensors file");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
    readFully(file, ch, headerBytes, 8);
    headerBytes.flip();
    String text = decodeUtf8(file, headerBytes);

    Object root;
    try {
      root = Json.parse(text);
    } catch (Json.SyntaxException e) {
      throw new CheckpointException(file, "header is not valid JSON: " + e.getMessage(), e);
    }
    if (!(root instanceof Json.JsonObject object)) {
      throw new CheckpointException(file, "header is not a JSON object");
    }

    List<TensorInfo> tensors = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (Json.Member m : object.members()) {
      if (!seen.add(m.key())) {
        throw new CheckpointException(file, m.key().equals(METADATA_KEY) ? "header has two '" + METADATA_KEY + "' entries"
            : "duplicate tensor name '" + m.key() + "' in the header");
      }
      if (m.key().equals(METADATA_KEY)) metadata = metadata(file, m.value());
      else tensors.add(tensorInfo(file, m.key(), m.value()));
    }

    // The data region must be covered exactly: sorted by offsets, each tensor starts where the last ended.
    List<TensorInfo> byOffset = new ArrayList<>(tensors);
    byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long covered = 0;
    TensorInfo previous = null;
    for (TensorInfo t : byOffset) {
      if (t.begin < covered) {
        throw new CheckpointException(file, "tensors '" + previous.name + "' " + range(previous) + " and '" + t.name + "' "
            + range(t) + " overlap in the data region");
      }
      if (t.begin > covered) {
        throw new CheckpointException(file, "gap in the data region: bytes [" + covered + ", " + t.begin
            + ") before tensor '" + t.name + "' belong to no tensor");
      }
      covered = t.end;
      previous = t;
    }
    long dataLength = size - 8 - n;
    if (dataLength < covered) {
      throw new CheckpointException(file, "data region is " + dataLength + " bytes but the header's tensors need " + covered
          + " bytes; the file is truncated");
    }
    if (dataLength > covered) {
      throw new CheckpointException(file, "data region is " + dataLength + " bytes but the header's tensors cover only "
          + covered + " bytes; " + (dataLength - covered) + " trailing bytes belong to no tensor");
    }
    return new Header(8 + n, tensors, metadata);
  }

  private static String range(TensorInfo t) {
    return "[" + t.begin + ", " + t.end + ")";
  }

  private static String decodeUtf8(Path file, ByteBuffer bytes) throws CheckpointException {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer chars = CharBuffer.allocate(bytes.remaining());
    CoderResult result = decoder.decode(bytes, chars, true);
    if (!result.isError()) result = decoder.flush(chars);
    if (result.isError()) {
      int at = bytes.position();
      throw new CheckpointException(file, String.format("header is not valid UTF-8 (byte 0x%02X at header byte %d)",
          bytes.get(at) & 0xff, at));
    }
    return chars.flip().toString();
  }

  private static Map<String, String> metadata(Path file, Object value) throws CheckpointException {
    if (!(value instanceof Json.JsonObject object)) {
      throw new CheckpointException(file, "'" + METADATA_KEY + "' is not a JSON object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Json.Member m : object.members()) {
      if (!(m.value() instanceof String s)) {
        throw new CheckpointException(file, "metadata value for '" + m.key() + "' is not a string");
      }
      if (out.put(m.key(), s) != null) throw new CheckpointException(file, "metadata key '" + m.key() + "' appears twice");
    }
    return out;
  }

  private static TensorInfo tensorInfo(Path file, String name, Object value) throws CheckpointException {
    if (!(value instanceof Json.JsonObject object)) {
      throw new CheckpointException(file, "entry for tensor '" + name + "' is not a JSON object");
    }
    Object dtype = null, shape = null, offsets = null;
    for (Json.Member m : object.members()) {
      Object previous;
      switch (m.key()) {
        case "dtype" -> {
          previous = dtype;
          dtype = m.value();
        }
        case "shape" -> {
          previous = shape;
          shape = m.value();
        }
        case "data_offsets" -> {
          previous = offsets;
          offsets = m.value();
        }
        default -> throw new CheckpointException(file, "tensor '" + name + "' has unknown key '" + m.key() + "'");
      }
      if (previous != null) throw new CheckpointException(file, "tensor '" + name + "' has key '" + m.key() + "' twice");
    }
    if (dtype == null) throw new CheckpointException(file, "tensor '" + name + "' has no 'dtype'");
    if (shape == null) throw new CheckpointException(file, "tensor '" + name + "' has no 'shape'");
    if (offsets == null) throw new CheckpointException(file, "tensor '" + name + "' has no 'data_offsets'");

    if (!(dtype instanceof String d)) throw new CheckpointException(file, "tensor '" + name + "' has a dtype that is not a string");
    if (!d.equals(DTYPE)) {
      throw new CheckpointException(file, "tensor '" + name + "' has dtype " + d + "; idemnet reads " + DTYPE + " only");
    }

    List<Long> dims = integers(file, name, "shape", shape);
    int[] dimsInt = new int[dims.size()];
    for (int i = 0; i < dimsInt.length; i++) {
      long v = dims.get(i);
      if (v < 0) throw new CheckpointException(file, "tensor '" + name + "' has negative dimension " + v + " in shape " + dims);
      if (v > Integer.MAX_VALUE) {
        throw new CheckpointException(file, "tensor '" + name + "' has dimension " + v + " in shape " + dims
            + ", larger than idemnet supports (" + Integer.MAX_VALUE + ")");
      }
      dimsInt[i] = (int) v;
    }
    long numel;
    try {
      numel = Shape.numel(dimsInt);
    } catch (ArithmeticException e) {
      numel = Long.MAX_VALUE;
    }
    if (numel > Long.MAX_VALUE / 4) {
      throw new CheckpointException(file, "tensor '" + name + "' has shape " + dims + ", too many elements");
    }
    List<Long> range = integers(file, name, "data_offsets", offsets);
    if (range.size() != 2) {
      throw new CheckpointException(file, "tensor '" + name + "' has data_offsets " + range + "; expected [begin, end]");
    }
    long begin = range.get(0), end = range.get(1);
    if (begin < 0 || end < begin) {
      throw new CheckpointException(file, "tensor '" + name + "' has data_offsets " + range + "; need 0 <= begin <= end");
    }
    if (end - begin != numel * 4) {
      throw new CheckpointException(file, "tensor '" + name + "' has shape " + dims + " (" + numel * 4 + " bytes as " + DTYPE
          + ") but data_offsets " + range + " span " + (end - begin) + " bytes");
    }
    return new TensorInfo(name, dimsInt, numel, begin, end);
  }

  private static List<Long> integers(Path file, String name, String key, Object value) throws CheckpointException {
    if (value instanceof List<?> list) {
      List<Long> out = new ArrayList<>(list.size());
      for (Object o : list) {
        if (!(o instanceof Long l)) break;
        out.add(l);
      }
      if (out.size() == list.size()) return out;
    }
    throw new CheckpointException(file, "tensor '" + name + "' has a '" + key + "' that is not an array of integers");
  }

  private static float[] readFloats(Path file, FileChannel ch, Header h, TensorInfo t) throws IOException {
    if (t.numel > Integer.MAX_VALUE - 8) {
      throw new CheckpointException(file, "tensor '" + t.name + "' has " + t.numel + " elements, too many for a Java array");
    }
    int count = (int) t.numel;
    float[] out = new float[count];
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(4L, count * 4L))).order(ByteOrder.LITTLE_ENDIAN);
    long position = h.dataStart + t.begin;
    for (int done = 0; done < count; ) {
      int n = Math.min(count - done, buf.capacity() / 4);
      buf.clear().limit(n * 4);
      readFully(file, ch, buf, position + done * 4L);
      buf.flip();
      buf.asFloatBuffer().get(out, done, n);
      done += n;
    }
    return out;
  }

  private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position);
      if (n < 0) throw new CheckpointException(file, "file ended early at byte " + position + " (was it truncated while being read?)");
      position += n;
    }
  }
}
