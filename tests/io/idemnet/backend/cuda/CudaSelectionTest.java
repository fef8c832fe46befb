package io.idemnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.nativelib.NativeLibraries;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Backend selection and the CUDA library on machines without a GPU (CI, developers): these run
 * everywhere; the checks that need the no-GPU situation are skipped where a GPU is usable.
 */
class CudaSelectionTest {

  @Test
  void availabilityNeverThrowsAndExplainsItself() {
    CudaBackend.Availability a = CudaBackend.availability();
    assertFalse(a.reason().isBlank(), "a reason is always given");
    assertEquals(a.usable(), a.devices() > 0, a.toString());
    assertTrue(a == CudaBackend.availability(), "probed once per JVM");
  }

  @Test
  void explicitCudaWithoutGpuIsAClearError() {
    CudaBackend.Availability a = CudaBackend.availability();
    assumeFalse(a.usable(), "a GPU is usable here");
    CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Backends.named("cuda"));
    assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
    assertTrue(e.getMessage().startsWith("the cuda backend cannot run here"), e.getMessage());
    assertThrows(CudaUnavailableException.class, CudaBackend::new);
    assertTrue(e instanceof IllegalStateException, "not UnsupportedOperationException any more");
  }

  @Test
  void autoFallsBackToCpuWithOneLoggedLine() {
    assumeFalse(CudaBackend.availability().usable(), "a GPU is usable here");
    Logger logger = Logger.getLogger("io.idemnet");
    List<LogRecord> records = new ArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(handler);
    try {
      Backend be = Backends.named("auto");
      assertEquals("cpu", be.name());
    } finally {
      logger.removeHandler(handler);
    }
    assertEquals(1, records.size(), "exactly one line: " + records.stream().map(LogRecord::getMessage).toList());
    String line = records.get(0).getMessage();
    assertTrue(line.contains("cpu") && line.contains(CudaBackend.availability().reason()), line);
  }

  /** Where nvcc built the library (as here and in CI), it loads and answers without a GPU. */
  @Test
  void libraryLoadsAndProbesWithoutADevice() {
    assumeTrue(NativeLibraries.isPackaged("idemnet_cuda"), "libidemnet_cuda was not built (no nvcc)");
    CudaNative.ensureLoaded(); // every downcall handle resolved: no symbol is missing
    int[] versions = CudaBackend.versions();
    assertTrue(versions[0] >= 12000, "built against CUDA " + versions[0]);
    CudaBackend.DeviceCount dc = CudaBackend.deviceCount();
    if (dc.status() != 0) {
      assertEquals(io.idemnet.nativelib.NativeAbi.ERR_NO_DEVICE, dc.status(), dc.message());
      assertEquals(0, dc.count());
      assertTrue(dc.message().contains("device_count"), dc.message());
      assertFalse(CudaBackend.availability().usable());
      assertTrue(CudaBackend.availability().reason().contains(dc.message()), CudaBackend.availability().reason());
    }
  }

  @Test
  void nativeArgumentChecksWorkWithoutADevice() {
    assumeTrue(NativeLibraries.isPackaged("idemnet_cuda"), "libidemnet_cuda was not built (no nvcc)");
    // Checks that fail before any CUDA call: a bad call is a status, never a crash.
    var e = assertThrows(io.idemnet.nativelib.NativeCallException.class, () -> CudaNative.fill(0L, -1, 0f, 0L));
    assertTrue(e.getMessage().contains("negative size"), e.getMessage());
    e = assertThrows(io.idemnet.nativelib.NativeCallException.class, () -> CudaNative.fill(0L, 5, 0f, 0L));
    assertTrue(e.getMessage().contains("null buffer"), e.getMessage());
    e = assertThrows(io.idemnet.nativelib.NativeCallException.class,
        () -> CudaNative.binary(7, 0L, 0L, 0L, 4, 0L));
    assertTrue(e.getMessage().contains("unknown op"), e.getMessage());
    e = assertThrows(io.idemnet.nativelib.NativeCallException.class, () -> CudaNative.synchronize(0L));
    assertTrue(e.getMessage().contains("null context"), e.getMessage());
    e = assertThrows(io.idemnet.nativelib.NativeCallException.class,
        () -> CudaNative.sgemm(0L, 0, 0, 2, 2, 2, 1f, 0L, 2, 0L, 2, 0f, 0L, 2));
    assertTrue(e.getMessage().contains("null context"), e.getMessage());
    e = assertThrows(io.idemnet.nativelib.NativeCallException.class,
        () -> CudaNative.dropout(0L, 0L, 3, 1L, 1.5f, 0L));
    assertTrue(e.getMessage().contains("p must lie"), e.getMessage());
    // Zero-sized work needs no device and succeeds.
    CudaNative.fill(0L, 0, 1f, 0L);
    CudaNative.axpy(1f, 0L, 0L, 0, 0L);
  }
}
