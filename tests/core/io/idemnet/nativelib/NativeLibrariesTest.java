package io.idemnet.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {

  @Test
  void cpuLibraryIsPackagedForThisPlatform() {
    assertEquals("linux-x86_64", NativeLibraries.platform());
    assertTrue(NativeLibraries.isPackaged("idemnet_cpu"));
  }

  @Test
  void extractionIsAtomicAndReused(@TempDir Path root) throws Exception {
    byte[] packaged;
    try (InputStream in = getClass().getResourceAsStream("/io/idemnet/native/linux-x86_64/libidemnet_cpu.so")) {
      packaged = in.readAllBytes();
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Path>> results = new ArrayList<>();
    for (int i = 0; i < 8; i++) results.add(pool.submit(() -> NativeLibraries.extract(root, "idemnet_cpu")));
    Path first = results.get(0).get();
    for (Future<Path> f : results) assertEquals(first, f.get());
    pool.shutdown();
    assertArrayEquals(packaged, Files.readAllBytes(first));
    try (Stream<Path> files = Files.walk(root)) {
      assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary files left behind");
    }
    assertTrue(first.getParent().getFileName().toString().matches(".+-[0-9a-f]{16}"), first.toString());
  }

  @Test
  void unknownLibraryGivesAClearMessage() {
    NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> NativeLibraries.load("idemnet_nonexistent"));
    assertTrue(e.getMessage().contains("not packaged"), e.getMessage());
  }
}
