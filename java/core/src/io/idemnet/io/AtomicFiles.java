package io.idemnet.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Files replaced atomically: the bytes go to a temporary file {@code .NAME.<16 hex digits>.tmp}
 * beside the target, are flushed, and the temporary file is renamed onto the target, so a reader
 * (or a run killed half-way) sees the old file or the new one, never a mix. A process killed
 * between creating and renaming leaves its temporary file behind; {@link
 * #removeStaleTemporaries} deletes such leftovers (only files named as this class names them).
 */
public final class AtomicFiles {
  /**
   * Our temporary files: ".NAME.HEX.tmp" for the files we write atomically (safetensors, PNG,
   * CSV), with 1 to 16 hex digits (older versions wrote fewer than 16), and ".NAME.pngDIGITS.tmp"
   * that older versions' image grids left (Files.createTempFile's naming).
   */
  private static final Pattern OURS = Pattern.compile(
      "\\.[^/\\\\]+\\.(safetensors|png|csv)\\.[0-9a-f]{1,16}\\.tmp|\\.[^/\\\\]+\\.png[0-9]{1,20}\\.tmp");

  private AtomicFiles() {}

  /** Writes a file's bytes to a stream (which it must not close). */
  public interface Writer {
    /** Writes the file's bytes to {@code out}. */
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * Runs {@code writer} on a new temporary file beside {@code target}, flushes it to disk and
   * renames it onto {@code target}. On failure {@code target} is untouched and the temporary file
   * removed. The folder must exist.
   */
  public static void write(Path target, Writer writer) throws IOException {
    Path abs = target.toAbsolutePath();
    Path tmp = createTemporary(abs);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch));
        writer.writeTo(out);
        out.flush();
        ch.force(true);
      }
      moveOnto(tmp, abs);
    } catch (Throwable failure) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException cleanup) {
        failure.addSuppressed(cleanup);
      }
      throw failure;
    }
    syncDirectory(abs.getParent());
  }

  /** Replaces {@code target} with {@code text} (UTF-8) atomically. */
  public static void writeString(Path target, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    write(target, out -> out.write(bytes));
  }

  /**
   * A new empty file ".NAME.HEX.tmp" beside {@code target} (16 hex digits), created with the
   * default permissions, for a caller that writes it and then calls {@link #moveOnto}.
   */
  public static Path createTemporary(Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir == null) throw new IOException(target + ": cannot write a file at the root of the file system");
    for (int attempt = 0; ; attempt++) {
      Path tmp = dir.resolve(
          "." + abs.getFileName() + "." + String.format("%016x", ThreadLocalRandom.current().nextLong()) + ".tmp");
      try {
        Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 10) throw e;
      }
    }
  }

  /** Renames a finished temporary file onto the target (atomically where the file system can). */
  public static void moveOnto(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Whether a file name is one of the temporary names this class (or an older version) creates. */
  public static boolean isTemporaryName(String fileName) {
    return OURS.matcher(fileName).matches();
  }

  /**
   * Deletes the temporary files that killed writes left in {@code dir} (not in sub-folders); no
   * other file is touched. Call it only where no other process is writing into {@code dir} (see
   * {@link OutputFolder}). Returns the files removed; a missing folder has none.
   */
  public static List<Path> removeStaleTemporaries(Path dir) throws IOException {
    List<Path> removed = new ArrayList<>();
    if (!Files.isDirectory(dir)) return removed;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        if (isTemporaryName(p.getFileName().toString()) && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          if (Files.deleteIfExists(p)) removed.add(p);
        }
      }
    }
    return removed;
  }

  /** Makes a rename durable where the platform allows fsync on a folder; best effort elsewhere. */
  static void syncDirectory(Path dir) {
    if (dir == null) return;
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // not supported here (e.g. Windows): the rename is still atomic, only its durability is not forced
    }
  }
}
