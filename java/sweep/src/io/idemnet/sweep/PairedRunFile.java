package io.idemnet.sweep;

import io.idemnet.experiments.CompareResult.RunResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * A finished pair as bytes (what a task sends back to the driver) and as a file (what the driver
 * keeps, one per run, for resuming). Layout, big-endian ({@link DataOutputStream}):
 * magic "IDMP", version 2, the run's {@link SweepRun#canonical} string, the MB result, the OB
 * result, the parameter-path files (count, then name and bytes each), and last the CRC-32 of all
 * bytes before it as a long.
 * Doubles are stored as their bits, so a decoded result equals the computed one exactly.
 *
 * <p>Files are written to a temporary name beside the target, forced to disk and renamed
 * atomically: a reader sees a whole file or none. A file is valid when its magic, version,
 * checksum and length are right and its canonical string is the run's.
 */
public final class PairedRunFile {
  private static final int MAGIC = 0x49444D50; // "IDMP"
  private static final int VERSION = 2;

  private PairedRunFile() {}

  /** Thrown for bytes that are not a whole, intact result of the expected run. */
  public static final class InvalidResultException extends IOException {
    private static final long serialVersionUID = 1L;

    InvalidResultException(String message) {
      super(message);
    }
  }

  public static byte[] encode(String canonical, SweepPair pair) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeUTF(canonical);
      writeRun(out, pair.mb());
      writeRun(out, pair.ob());
      out.writeInt(pair.paths().size());
      for (var e : new java.util.TreeMap<>(pair.paths()).entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().length);
        out.write(e.getValue());
      }
      out.flush();
      CRC32 crc = new CRC32();
      crc.update(bytes.toByteArray());
      out.writeLong(crc.getValue());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a result in memory", e);
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes and checks a result.
   *
   * @throws InvalidResultException when the bytes are truncated, damaged, of another format
   *     version or of another run (the message says which)
   */
  public static SweepPair decode(byte[] data, String expectedCanonical) throws InvalidResultException {
    if (data.length < 16) throw new InvalidResultException("too short (" + data.length + " bytes)");
    CRC32 crc = new CRC32();
    crc.update(data, 0, data.length - 8);
    long stored = ByteBuffer.wrap(data, data.length - 8, 8).getLong();
    if (stored != crc.getValue()) throw new InvalidResultException("checksum mismatch (truncated or damaged)");
    ByteArrayInputStream bytes = new ByteArrayInputStream(data, 0, data.length - 8);
    try (DataInputStream in = new DataInputStream(bytes)) {
      if (in.readInt() != MAGIC) throw new InvalidResultException("not an idemnet result file");
      int version = in.readInt();
      if (version != VERSION) throw new InvalidResultException("format version " + version + ", expected " + VERSION);
      String canonical = in.readUTF();
      if (!canonical.equals(expectedCanonical)) {
        throw new InvalidResultException("result of another run: '" + canonical + "', expected '" + expectedCanonical + "'");
      }
      RunResult mb = readRun(in), ob = readRun(in);
      int files = in.readInt();
      if (files < 0 || files > 16) throw new InvalidResultException("bad count of path files " + files);
      java.util.Map<String, byte[]> paths = new java.util.HashMap<>();
      for (int i = 0; i < files; i++) {
        String name = in.readUTF();
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new InvalidResultException("bad length " + n + " of path file " + name);
        paths.put(name, in.readNBytes(n));
      }
      if (bytes.available() != 0) throw new InvalidResultException(bytes.available() + " unexpected bytes after the result");
      return new SweepPair(mb, ob, paths);
    } catch (InvalidResultException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidResultException("cannot be read: " + e);
    }
  }

  /** Writes the bytes to {@code file} atomically (temporary file, fsync, rename). */
  public static void write(Path file, byte[] data) {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().threadId());
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) ch.write(buf);
        ch.force(true);
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // the original error is the one to report
      }
      throw new UncheckedIOException("cannot write result " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The run's result from {@code file}, or empty when there is none or it is not valid for the
   * run (then {@code whyNot} gets the reason, unless the file is simply absent).
   */
  public static Optional<SweepPair> read(Path file, String expectedCanonical, java.util.function.Consumer<String> whyNot) {
    try {
      return Optional.of(decode(Files.readAllBytes(file), expectedCanonical));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      whyNot.accept(file.getFileName() + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  private static void writeRun(DataOutputStream out, RunResult r) throws IOException {
    out.writeUTF(r.algorithm());
    out.writeFloat(r.learningRate());
    out.writeInt(r.run());
    out.writeInt(r.epochs().length);
    for (int e : r.epochs()) out.writeInt(e);
    writeArray(out, r.error());
    writeArray(out, r.gradNormMb());
    writeArray(out, r.gradNormOb());
    writeArray(out, r.cosAlong());
    writeArray(out, r.cosSeparate());
    out.writeDouble(r.secondsPerEpoch());
    out.writeDouble(r.fIdentityFrobenius());
    out.writeDouble(r.fIdentityTrace());
    out.writeDouble(r.fIdentityRowSpread());
    out.writeDouble(r.outputSpread());
    out.writeDouble(r.imageJacobian());
  }

  private static RunResult readRun(DataInputStream in) throws IOException {
    String algorithm = in.readUTF();
    float lr = in.readFloat();
    int run = in.readInt(), n = in.readInt();
    if (n < 0 || (long) n * 4 > in.available()) throw new InvalidResultException("bad epoch count " + n);
    int[] epochs = new int[n];
    for (int i = 0; i < n; i++) epochs[i] = in.readInt();
    return new RunResult(algorithm, lr, run, epochs, readArray(in), readArray(in), readArray(in), readArray(in),
        readArray(in), in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble(), in.readDouble());
  }

  private static void writeArray(DataOutputStream out, double[] a) throws IOException {
    out.writeInt(a.length);
    for (double v : a) out.writeDouble(v);
  }

  private static double[] readArray(DataInputStream in) throws IOException {
    int n = in.readInt();
    // The checksum has passed, so a wrong length here means a bug, not damage; still no huge allocation.
    if (n < 0 || (long) n * 8 > in.available()) throw new InvalidResultException("bad array length " + n);
    double[] a = new double[n];
    for (int i = 0; i < n; i++) a[i] = in.readDouble();
    return a;
  }
}
