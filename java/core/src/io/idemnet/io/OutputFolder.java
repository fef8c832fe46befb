package io.idemnet.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A run's claim on its output folder: an exclusive lock on {@code .idemnet.lock} inside it (so two
 * runs never write one checkpoint and one log at the same time), and, once the lock is held, the
 * removal of temporary files that earlier, killed runs left ({@link AtomicFiles#removeStaleTemporaries}).
 * The operating system drops the lock when the process ends, however it ends.
 */
public final class OutputFolder implements AutoCloseable {
  /** The lock file's name (hidden; left in place, empty). */
  public static final String LOCK_FILE = ".idemnet.lock";

  private final FileChannel channel;
  private final FileLock lock;
  private final List<Path> removedTemporaries;

  private OutputFolder(FileChannel channel, FileLock lock, List<Path> removedTemporaries) {
    this.channel = channel;
    this.lock = lock;
    this.removedTemporaries = removedTemporaries;
  }

  /**
   * Creates {@code dir} if needed, locks it and removes stale temporary files.
   *
   * @throws IOException naming the folder when another run holds it
   */
  public static OutputFolder claim(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null; // held by this JVM
      }
      if (l == null) {
        throw new IOException("another idemnet run is writing to " + dir + "; wait for it or choose another output folder");
      }
      return new OutputFolder(ch, l, AtomicFiles.removeStaleTemporaries(dir));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The stale temporary files removed when the folder was claimed. */
  public List<Path> removedTemporaries() {
    return removedTemporaries;
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
