package io.idemnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.nativelib.NativeAbi;
import io.idemnet.nativelib.NativeCallException;
import io.idemnet.nativelib.NativeLibraries;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
      assertEquals(NativeAbi.ERR_NO_DEVICE, dc.status(), dc.message());
      assertEquals(0, dc.count());
      assertTrue(dc.message().contains("device_count"), dc.message());
      assertFalse(CudaBackend.availability().usable());
      assertTrue(CudaBackend.availability().reason().contains(dc.message()), CudaBackend.availability().reason());
    }
  }

  /**
   * One ABI shape, checked without a device: every operation of the CUDA library takes the context
   * first and refuses a NULL one with a status and message, through the same exception guard as
   * the CPU library (the generated wrappers are all called, through reflection, with zeros).
   */
  @Test
  void everyNativeOperationChecksItsContextWithoutADevice() throws Exception {
    assumeTrue(NativeLibraries.isPackaged("idemnet_cuda"), "libidemnet_cuda was not built (no nvcc)");
    CudaNative.ensureLoaded();
    Set<String> noContext = Set.of("deviceCount", "deviceName", "versions", "contextCreate");
    int checked = 0;
    for (Method m : CudaNative.class.getDeclaredMethods()) {
      if (!Modifier.isStatic(m.getModifiers()) || m.getReturnType() != void.class || m.getParameterCount() == 0
          || m.isSynthetic() || noContext.contains(m.getName())) {
        continue;
      }
      assertEquals(long.class, m.getParameterTypes()[0], m.getName() + " takes the context first");
      Object[] args = new Object[m.getParameterCount()];
      for (int i = 0; i < args.length; i++) args[i] = zero(m.getParameterTypes()[i]);
      InvocationTargetException thrown = assertThrows(InvocationTargetException.class, () -> m.invoke(null, args),
          m.getName());
      NativeCallException e = assertInstanceOf(NativeCallException.class, thrown.getCause(), m.getName());
      assertEquals(NativeAbi.ERR_INVALID_ARGUMENT, e.status(), e.getMessage());
      assertTrue(e.getMessage().contains("null context"), e.getMessage());
      checked++;
    }
    // 41 when written; a floor, so that the loop cannot pass by checking nothing.
    assertTrue(checked >= 35, "operations checked: " + checked);
    // The queries that take no context check their outputs instead.
    var e = assertThrows(NativeCallException.class, () -> CudaNative.deviceCount(0L));
    assertTrue(e.getMessage().contains("null output"), e.getMessage());
    e = assertThrows(NativeCallException.class, () -> CudaNative.contextCreate(0, 0L));
    assertTrue(e.getMessage().contains("null output"), e.getMessage());
    e = assertThrows(NativeCallException.class, () -> CudaNative.deviceName(0, 0L, 16));
    assertTrue(e.getMessage().contains("null or empty buffer"), e.getMessage());
  }

  /** A zero, or an all-zero struct, for a parameter of a generated wrapper. */
  private static Object zero(Class<?> type) throws ReflectiveOperationException {
    if (type == int.class) return 0;
    if (type == long.class) return 0L;
    if (type == float.class) return 0f;
    if (type == double.class) return 0.0;
    if (type.isRecord()) {
      var components = type.getRecordComponents();
      Class<?>[] types = new Class<?>[components.length];
      Object[] values = new Object[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
        values[i] = zero(types[i]);
      }
      return type.getDeclaredConstructor(types).newInstance(values);
    }
    throw new AssertionError("no zero for " + type);
  }
}
