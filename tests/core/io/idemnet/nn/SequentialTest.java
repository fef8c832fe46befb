package io.idemnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class SequentialTest {
  private static final Backend BE = new ReferenceBackend();

  @Test
  void mlpLinearOutputIsMlpWithoutTheLastActivation() {
    try (Sequential full = Sequential.mlp(BE, 3, Activation.RELU, 4, 8, 2);
        Sequential head = Sequential.mlpLinearOutput(BE, 3, Activation.RELU, 4, 8, 2)) {
      List<Module> a = full.children(), b = head.children();
      assertEquals(4, a.size());
      assertEquals(3, b.size());
      assertInstanceOf(ActivationLayer.class, a.get(3));
      assertInstanceOf(Linear.class, b.get(2));
      // Same seeds, same PyTorch names: the weights agree name by name.
      assertEquals(full.namedParameters().keySet(), head.namedParameters().keySet());
      full.namedParameters().forEach((name, p) ->
          assertArrayEquals(p.value().toArray(), head.namedParameters().get(name).value().toArray(), name));
    }
  }
}
