package io.idemnet.sweep;

import io.idemnet.experiments.CompareExperiment.Paired;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
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
 * magic "IDMP", version 1, the run's {@link SweepRun#canonical} string, the MB result, the OB
 * result, the trajectory (flag, then fields), and last the CRC-32 of all bytes before it as a long.
 * Doubles are stored as their bits, so a decoded result equals the computed one exactly.
 *
 * <p>Files are written to a temporary name beside the target, forced to disk and renamed
 * atomically: a reader sees a whole file or none. A file is valid when its magic, version,
 * checksum and length are right and its canonical string is the run's.
 */
public final class PairedRunFile {
  private static final int MAGIC = 0x49444D50; // "IDMP"
  private static final int VERSION = 1;

  private PairedRunFile() {}

  /** Thrown for bytes that are not a whole, intact result of the expected run. */
  public static final class InvalidResultException extends IOException {
    private static final long serialVersionUID = 1L;

    InvalidResultException(String message) {
      super(message);
    }
  }

  public static byte[] encode(String canonical, Paired pair) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeUTF(canonical);
      writeRun(out, pair.mb());
      writeRun(out, pair.ob());
      Trajectory t = pair.trajectory();
      out.writeBoolean(t != null);
      if (t != null) {
        out.writeFloat(t.learningRate());
        writeMatrix(out, t.mb());
        writeMatrix(out, t.ob());
        writeArray(out, t.gridX());
        writeArray(out, t.gridY());
        writeMatrix(out, t.surface());
        writeArray(out, t.explainedVariance());
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
  public static Paired decode(byte[] data, String expectedCanonical) throws InvalidResultException {
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
      Trajectory t = null;
      if (in.readBoolean()) {
        t = new Trajectory(in.readFloat(), readMatrix(in), readMatrix(in), readArray(in), readArray(in), readMatrix(in),
            readArray(in));
      }
      if (bytes.available() != 0) throw new InvalidResultException(bytes.available() + " unexpected bytes after the result");
      return new Paired(mb, ob, t);
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
  public static Optional<Paired> read(Path file, String expectedCanonical, java.util.function.Consumer<String> whyNot) {
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
    writeArray(out, r.errorPerEpoch());
    writeArray(out, r.secondsPerEpoch());
    writeArray(out, r.gradNormMb());
    writeArray(out, r.gradNormOb());
    writeArray(out, r.cosAlong());
    writeArray(out, r.cosSeparate());
    out.writeDouble(r.fIdentityFrobenius());
    out.writeDouble(r.fIdentityTrace());
  }

  private static RunResult readRun(DataInputStream in) throws IOException {
    return new RunResult(in.readUTF(), in.readFloat(), in.readInt(), readArray(in), readArray(in), readArray(in),
        readArray(in), readArray(in), readArray(in), in.readDouble(), in.readDouble());
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

  private static void writeMatrix(DataOutputStream out, double[][] m) throws IOException {
    out.writeInt(m.length);
    for (double[] row : m) writeArray(out, row);
  }

  private static double[][] readMatrix(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || (long) n * 4 > in.available()) throw new InvalidResultException("bad matrix length " + n);
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) m[i] = readArray(in);
    return m;
  }
}
