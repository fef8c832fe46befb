package io.idemnet.experiments;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's parameter vectors at its recorded epochs, kept on disk between the training and the
 * PCA figure (which pairs MB's path at its best learning rate with OB's at its own, known only
 * once the sweep is complete). Format: "IDPATH1\n", then big-endian int count and int dimension,
 * count int epochs, and count x dimension float32 values. Written to a temporary file and renamed,
 * so a file either is complete or does not exist.
 */
final class ParameterPaths {
  private static final byte[] MAGIC = "IDPATH1\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private ParameterPaths() {}

  /** A run's parameters at each of its recorded epochs. */
  record Recorded(int[] epochs, List<float[]> points) {}

  static Path file(Path dir, String algorithm, float learningRate) {
    return dir.resolve(algorithm + "_lr" + learningRate + "_run0.f32");
  }

  static void write(Path file, int[] epochs, List<float[]> points) {
    if (epochs.length != points.size()) throw new IllegalArgumentException("one point per recorded epoch");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (OutputStream raw = Files.newOutputStream(tmp);
          DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
        out.write(MAGIC);
        int dim = points.isEmpty() ? 0 : points.get(0).length;
        out.writeInt(points.size());
        out.writeInt(dim);
        for (int e : epochs) out.writeInt(e);
        ByteBuffer buf = ByteBuffer.allocate(dim * Float.BYTES).order(ByteOrder.BIG_ENDIAN);
        for (float[] p : points) {
          if (p.length != dim) throw new IllegalArgumentException("points differ in dimension");
          buf.clear();
          buf.asFloatBuffer().put(p);
          out.write(buf.array());
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the parameter path " + file + ": " + e.getMessage(), e);
    }
  }

  static Recorded read(Path file) {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw, 1 << 16))) {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) throw new IOException("not a parameter-path file");
      int count = in.readInt(), dim = in.readInt();
      if (count < 1 || dim < 1) throw new IOException("bad sizes " + count + " x " + dim);
      int[] epochs = new int[count];
      for (int i = 0; i < count; i++) epochs[i] = in.readInt();
      List<float[]> points = new ArrayList<>(count);
      byte[] bytes = new byte[dim * Float.BYTES];
      for (int i = 0; i < count; i++) {
        in.readFully(bytes);
        float[] p = new float[dim];
        ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(p);
        points.add(p);
      }
      if (in.read() != -1) throw new IOException("trailing bytes");
      return new Recorded(epochs, points);
    } catch (EOFException e) {
      throw new UncheckedIOException(new IOException("parameter path " + file + " is truncated", e));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the parameter path " + file + ": " + e.getMessage(), e);
    }
  }
}
