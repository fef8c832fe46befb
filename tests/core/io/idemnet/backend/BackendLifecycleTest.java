package io.idemnet.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** A backend is closeable: afterwards every operation is refused with a clear exception. */
class BackendLifecycleTest {
  @ParameterizedTest
  @ValueSource(strings = {"reference", "cpu"})
  void operationsAfterCloseAreRefused(String name) {
    Backend be = Backends.named(name);
    Tensor x = be.full(2f, 2, 2);
    assertArrayEquals(new float[] {2f, 2f, 2f, 2f}, x.toArray());
    be.close();
    assertTrue(be.isClosed());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> be.zeros(3));
    assertTrue(e.getMessage().contains("used after close"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> be.fill(x, 1f));
    assertThrows(IllegalStateException.class, x::toArray);
    be.close(); // idempotent
    x.close();
  }

  @Test
  void theDefaultBackendIsRecreatedAfterClose() {
    Backend first = Backends.get();
    first.close();
    Backend second = Backends.get();
    assertNotSame(first, second);
    assertFalse(second.isClosed());
    try (Tensor t = second.zeros(1)) {
      assertArrayEquals(new float[] {0f}, t.toArray());
    }
  }
}
