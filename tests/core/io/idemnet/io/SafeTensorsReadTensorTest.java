package io.idemnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsReadTensorTest {
  private static final Backend BE = new ReferenceBackend();

  @Test
  void readsOneTensorByNameAndNamesTheAlternativesWhenMissing(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("m.safetensors");
    try (Tensor a = BE.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Tensor b = BE.fromArray(new float[] {7}, 1)) {
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      tensors.put("0.weight", a);
      tensors.put("0.bias", b);
      SafeTensors.write(file, tensors, Map.of());
    }
    SafeTensors.Entry w = SafeTensors.readTensor(file, "0.weight");
    assertArrayEquals(new int[] {2, 3}, w.shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.data());
    assertArrayEquals(new float[] {7}, SafeTensors.readTensor(file, "0.bias").data());
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.readTensor(file, "1.weight"));
    assertTrue(e.getMessage().contains("no tensor named '1.weight'") && e.getMessage().contains("0.bias"), e.getMessage());
  }
}
