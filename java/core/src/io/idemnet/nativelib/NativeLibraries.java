package io.idemnet.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Finds and opens idemnet's native libraries.
 *
 * <p>The jar carries them under {@code io/idemnet/native/<platform>/} with a manifest,
 * {@code idemnet-native.properties}, that lists what was built. A library is extracted once to
 * a versioned cache folder ({@code ~/.cache/idemnet/<version>-<content hash>/}, or the folder in
 * the system property {@code idemnet.cache.dir}) through a temporary file and an atomic move, so
 * concurrent JVMs never see a half-written file. For development, the system property
 * {@code idemnet.native.dir} (or the environment variable {@code IDEMNET_NATIVE_DIR}) names a
 * folder to load the libraries from directly.
 */
public final class NativeLibraries {
  private static final String RESOURCE_ROOT = "/io/idemnet/native/";
  private static final String MANIFEST = "idemnet-native.properties";
  private static final Map<String, SymbolLookup> LOADED = new HashMap<>();

  private NativeLibraries() {}

  /** The platform folder name of this JVM, e.g. {@code linux-x86_64}. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osPart = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx" : os.replace(' ', '_');
    String archPart = switch (arch) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "arm64";
      default -> arch;
    };
    return osPart + "-" + archPart;
  }

  /** Whether the jar (or the override folder) holds the named library for this platform. */
  public static boolean isPackaged(String name) {
    Path dir = overrideDir();
    if (dir != null) return Files.isRegularFile(dir.resolve(fileName(name)));
    Properties manifest = manifest();
    if (manifest == null) return false;
    for (String listed : manifest.getProperty("libraries", "").split(",")) {
      if (listed.trim().equals(name)) return true;
    }
    return false;
  }

  /**
   * Opens the named library (e.g. {@code idemnet_cpu}) once per JVM and returns its symbols.
   *
   * @throws NativeLibraryException if the library is not packaged for this platform or cannot be
   *     opened; the message says why and what to do
   */
  public static synchronized SymbolLookup load(String name) {
    SymbolLookup lookup = LOADED.get(name);
    if (lookup != null) return lookup;
    Path path = locate(name);
    try {
      lookup = SymbolLookup.libraryLookup(path, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new NativeLibraryException("cannot open native library " + path + ": " + e.getMessage(), e);
    }
    LOADED.put(name, lookup);
    return lookup;
  }

  /**
   * Sets an environment variable of this process through libc's {@code setenv}, so that native
   * libraries loaded afterwards read it (the JVM's own {@link System#getenv} view does not change).
   * Does nothing where libc has no {@code setenv}.
   *
   * @param overwrite whether a value already set (e.g. by the user) is replaced
   * @throws NativeLibraryException if {@code setenv} fails
   */
  public static void setEnvironmentVariable(String name, String value, boolean overwrite) {
    Linker linker = Linker.nativeLinker();
    MemorySegment setenv = linker.defaultLookup().find("setenv").orElse(null);
    if (setenv == null) return;
    MethodHandle h = linker.downcallHandle(setenv, FunctionDescriptor.of(ValueLayout.JAVA_INT,
        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    int result;
    try (Arena arena = Arena.ofConfined()) {
      result = (int) h.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), overwrite ? 1 : 0);
    } catch (Throwable e) {
      throw new NativeLibraryException("cannot set " + name + " for the native libraries: " + e, e);
    }
    if (result != 0) throw new NativeLibraryException("setenv(" + name + ") failed");
  }

  private static Path locate(String name) {
    Path dir = overrideDir();
    if (dir != null) {
      Path file = dir.resolve(fileName(name));
      if (!Files.isRegularFile(file)) {
        throw new NativeLibraryException("idemnet.native.dir=" + dir + " has no " + fileName(name));
      }
      return file;
    }
    if (!isPackaged(name)) {
      throw new NativeLibraryException("native library " + name + " is not packaged for platform "
          + platform() + " (the jar's manifest does not list it); use -Didemnet.backend=reference"
          + " for the plain-Java backend");
    }
    return extract(cacheRoot(), name);
  }

  /**
   * Copies the packaged library to {@code root/<version>-<hash>/} unless an identical copy is
   * there already, and returns its path. Safe when several threads or JVMs race.
   */
  static Path extract(Path root, String name) {
    Properties manifest = manifest();
    String version = manifest == null ? "unknown" : manifest.getProperty("version", "unknown");
    String resource = RESOURCE_ROOT + platform() + "/" + fileName(name);
    byte[] bytes;
    try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
      if (in == null) throw new NativeLibraryException("resource " + resource + " is missing from the jar");
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new NativeLibraryException("cannot read " + resource + ": " + e.getMessage(), e);
    }
    Path dir = root.resolve(version + "-" + sha256(bytes).substring(0, 16));
    Path target = dir.resolve(fileName(name));
    try {
      if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return target;
      Files.createDirectories(dir);
      Path temp = Files.createTempFile(dir, fileName(name), ".tmp");
      try {
        Files.write(temp, bytes);
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
          // Another JVM won the race with identical content (the folder name is its hash).
          if (!Files.isRegularFile(target)) Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(temp);
      }
      return target;
    } catch (IOException e) {
      throw new NativeLibraryException("cannot extract " + resource + " to " + dir + ": " + e.getMessage()
          + " (set -Didemnet.cache.dir to a writable folder)", e);
    }
  }

  private static Properties manifest() {
    String resource = RESOURCE_ROOT + platform() + "/" + MANIFEST;
    try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
      if (in == null) return null;
      Properties p = new Properties();
      p.load(in);
      return p;
    } catch (IOException e) {
      throw new NativeLibraryException("cannot read " + resource + ": " + e.getMessage(), e);
    }
  }

  private static Path overrideDir() {
    String dir = System.getProperty("idemnet.native.dir", System.getenv("IDEMNET_NATIVE_DIR"));
    return dir == null || dir.isBlank() ? null : Path.of(dir);
  }

  private static Path cacheRoot() {
    String dir = System.getProperty("idemnet.cache.dir");
    if (dir != null && !dir.isBlank()) return Path.of(dir);
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("idemnet");
  }

  private static String fileName(String name) {
    return platform().startsWith("macosx") ? "lib" + name + ".dylib" : "lib" + name + ".so";
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
