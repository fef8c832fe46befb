package io.idemnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.nativelib.NativeAbi;
import io.idemnet.nativelib.NativeCallException;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Wrong shapes, closed tensors, foreign tensors and bad native arguments are clear Java exceptions. */
class BadInputTest {
  private static final CpuBackend CPU = new CpuBackend();
  private static final Backend REF = new ReferenceBackend();

  private static Backend backend(String name) {
    return name.equals("cpu") ? CPU : REF;
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void gemmShapeMismatchNamesTheShapes(String name) {
    Backend be = backend(name);
    try (Tensor a = be.zeros(3, 4); Tensor b = be.zeros(5, 6); Tensor c = be.zeros(3, 6)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> be.gemm(false, false, 1f, a, b, 0f, c));
      assertTrue(e.getMessage().contains("gemm") && e.getMessage().contains("[3, 4]")
          && e.getMessage().contains("[5, 6]"), e.getMessage());
      Tensor wrongC = be.zeros(4, 6);
      assertThrows(IllegalArgumentException.class, () -> be.gemm(true, true, 1f, b, a, 0f, wrongC));
      wrongC.close();
      Tensor threeD = be.zeros(1, 3, 4);
      assertThrows(IllegalArgumentException.class, () -> be.gemm(false, false, 1f, threeD, b, 0f, c));
      threeD.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void elementwiseShapeMismatch(String name) {
    Backend be = backend(name);
    try (Tensor a = be.zeros(2, 3); Tensor b = be.zeros(3, 2); Tensor bias = be.zeros(2)) {
      assertThrows(IllegalArgumentException.class, () -> be.add(a, b, a));
      assertThrows(IllegalArgumentException.class, () -> be.corrector(1f, a, a, b, a, true));
      assertThrows(IllegalArgumentException.class, () -> be.addBias(a, bias, a));
      assertThrows(IllegalArgumentException.class, () -> be.sumRows(a, bias, false));
      assertThrows(IllegalArgumentException.class, () -> be.activationBackward(Activation.TANH, a, null, a, a));
      assertThrows(IllegalArgumentException.class, () -> be.upload(new float[5], a));
      assertThrows(IllegalArgumentException.class, () -> be.fromArray(new float[5], 2, 3));
      assertThrows(IllegalArgumentException.class, () -> be.randomUniform(a, 1, 2f, 1f));
      assertThrows(IllegalArgumentException.class, () -> be.randomNormal(a, 1, 0f, -1f));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void negativeSizesAreRejected(String name) {
    Backend be = backend(name);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.zeros(3, -1));
    assertTrue(e.getMessage().contains("negative"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void useAfterCloseIsAnException(String name) {
    Backend be = backend(name);
    Tensor a = be.zeros(4, 4);
    Tensor b = be.zeros(4, 4);
    a.close();
    a.close(); // closing twice is allowed
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> be.add(a, b, b));
    assertTrue(e.getMessage().contains("after close"), e.getMessage());
    assertThrows(IllegalStateException.class, a::toArray);
    assertThrows(IllegalStateException.class, () -> be.gemm(false, false, 1f, b, b, 0f, a));
    b.close();
  }

  @Test
  void tensorsOfAnotherBackendAreRejected() {
    try (Tensor r = REF.zeros(2, 2); Tensor c = CPU.zeros(2, 2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CPU.add(c, r, c));
      assertTrue(e.getMessage().contains("reference"), e.getMessage());
      try (Tensor moved = CPU.copyOf(r)) {
        CPU.add(c, moved, c);
      }
    }
  }

  @Test
  void nativeLayerChecksItsOwnArguments() {
    // Bypass the Java checks: the C side must still answer with a status and a message.
    MemorySegment ctx = CPU.context();
    NativeCallException e = assertThrows(NativeCallException.class,
        () -> CpuNative.fill(ctx, MemorySegment.NULL, -5, 1f));
    assertTrue(e.getMessage().contains("negative size"), e.getMessage());
    assertEquals(NativeAbi.ERR_INVALID_ARGUMENT, e.status());
    e = assertThrows(NativeCallException.class, () -> CpuNative.binary(ctx, 42, MemorySegment.NULL,
        MemorySegment.NULL, MemorySegment.NULL, 0));
    assertTrue(e.getMessage().contains("unknown op"), e.getMessage());
    e = assertThrows(NativeCallException.class, () -> CpuNative.sgemm(ctx, 0, 0, 4, 4, 4, 1f, MemorySegment.NULL, 4,
        MemorySegment.NULL, 4, 0f, MemorySegment.NULL, 4));
    assertTrue(e.getMessage().contains("null"), e.getMessage());
    e = assertThrows(NativeCallException.class, () -> CpuNative.sgemm(ctx, 0, 0, 4, 4, 4, 1f, MemorySegment.NULL, 2,
        MemorySegment.NULL, 4, 0f, MemorySegment.NULL, 4));
    assertTrue(e.getMessage().contains("leading dimension"), e.getMessage());
    // The geometry struct arrives intact: an output size that contradicts the formula is named.
    var geometry = new NativeAbi.ConvGeometry(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 3, 4);
    e = assertThrows(NativeCallException.class, () -> CpuNative.conv2dForward(ctx, MemorySegment.NULL,
        MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, geometry));
    assertTrue(e.getMessage().contains("output size does not match"), e.getMessage());
  }

  /**
   * One ABI shape: every operation of the library takes the context first and refuses a NULL one
   * with a status and message (the generated wrappers are all called, through reflection, with
   * NULL pointers and zeros).
   */
  @Test
  void everyNativeOperationChecksItsContext() throws Exception {
    int checked = 0;
    for (Method m : CpuNative.class.getDeclaredMethods()) {
      if (!Modifier.isStatic(m.getModifiers()) || m.getReturnType() != void.class || m.getParameterCount() == 0
          || m.isSynthetic() || m.getName().equals("contextCreate")) {
        continue;
      }
      assertEquals(MemorySegment.class, m.getParameterTypes()[0], m.getName() + " takes the context first");
      Object[] args = new Object[m.getParameterCount()];
      Class<?>[] types = m.getParameterTypes();
      for (int i = 0; i < args.length; i++) args[i] = zero(types[i]);
      InvocationTargetException thrown = assertThrows(InvocationTargetException.class, () -> m.invoke(null, args),
          m.getName());
      NativeCallException e = assertInstanceOf(NativeCallException.class, thrown.getCause(), m.getName());
      assertEquals(NativeAbi.ERR_INVALID_ARGUMENT, e.status(), e.getMessage());
      assertTrue(e.getMessage().contains("null context"), e.getMessage());
      checked++;
    }
    // 28 when written; a floor, so that the loop cannot pass by checking nothing.
    assertTrue(checked >= 25, "operations checked: " + checked);
  }

  /** A zero, NULL or all-zero struct for a parameter of a generated wrapper. */
  static Object zero(Class<?> type) throws ReflectiveOperationException {
    if (type == MemorySegment.class) return MemorySegment.NULL;
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

  @Test
  void closedBackendIsAClearError() {
    CpuBackend be = new CpuBackend(1);
    assertEquals(1, be.numThreads());
    be.setNumThreads(2);
    assertEquals(2, be.numThreads());
    try (Tensor x = be.zeros(3)) {
      be.close();
      be.close(); // closing twice is allowed
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> be.fill(x, 1f));
      assertTrue(e.getMessage().contains("after close"), e.getMessage());
    }
  }

  @Test
  void unknownBackendNameIsAnError() {
    assertThrows(IllegalArgumentException.class, () -> Backends.named("tpu"));
    if (!io.idemnet.backend.cuda.CudaBackend.availability().usable()) {
      // Without a GPU: an explicit request is a clear error, auto takes the CPU.
      assertThrows(io.idemnet.backend.cuda.CudaUnavailableException.class, () -> Backends.named("cuda"));
      assertEquals("cpu", Backends.named("auto").name());
    }
  }

  /**
   * Random calls with random, often wrong, shapes and closed tensors: every call either works or
   * throws one of the documented exceptions; the JVM survives them all.
   */
  @Test
  void randomMisuseNeverCrashes() {
    Random rnd = new Random(2024);
    List<Tensor> pool = new ArrayList<>();
    for (int i = 0; i < 12; i++) pool.add(CPU.zeros(1 + rnd.nextInt(3), 1 + rnd.nextInt(3)));
    int ok = 0, rejected = 0;
    for (int step = 0; step < 5000; step++) {
      Tensor a = pool.get(rnd.nextInt(pool.size())), b = pool.get(rnd.nextInt(pool.size()));
      Tensor c = pool.get(rnd.nextInt(pool.size()));
      try {
        switch (rnd.nextInt(9)) {
          case 0 -> CPU.gemm(rnd.nextBoolean(), rnd.nextBoolean(), 1f, a, b, 0.5f, c);
          case 1 -> CPU.add(a, b, c);
          case 2 -> CPU.addBias(a, b, c);
          case 3 -> CPU.corrector(-0.5f, a, b, c, a, rnd.nextBoolean());
          case 4 -> CPU.activationBackward(Activation.leakyRelu(0.2f), a, null, b, c);
          case 5 -> CPU.sumRows(a, b, rnd.nextBoolean());
          case 6 -> CPU.randomNormal(a, rnd.nextLong(), 0f, 1f);
          case 7 -> a.close();
          default -> pool.set(rnd.nextInt(pool.size()), CPU.zeros(1 + rnd.nextInt(3), 1 + rnd.nextInt(3)));
        }
        ok++;
      } catch (IllegalArgumentException | IllegalStateException e) {
        rejected++;
      }
    }
    assertTrue(ok > 100 && rejected > 100, "both paths exercised: ok=" + ok + " rejected=" + rejected);
    pool.forEach(Tensor::close);
  }
}
