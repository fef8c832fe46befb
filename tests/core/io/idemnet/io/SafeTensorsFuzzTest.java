package io.idemnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Shape;
import io.idemnet.tensor.Tensor;
import io.idemnet.testing.Mutations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of a valid safetensors file: every read either returns tensors consistent with
 * their shapes or fails with a {@link CheckpointException}; a failed load into tensors leaves them
 * untouched. Anything else (another exception, an Error such as an OutOfMemoryError from a forged
 * size) fails the test.
 */
class SafeTensorsFuzzTest {
  private static final int MUTATIONS = 400;
  private static final Backend REF = new ReferenceBackend();

  @Test
  void mutatedFilesAreReadOrRefusedWithACheckpointException(@TempDir Path dir) throws Exception {
    Path valid = dir.resolve("valid.safetensors");
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("0.weight", REF.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    tensors.put("0.bias", REF.fromArray(new float[] {-1, 0.5f}, 2));
    tensors.put("scalar", REF.fromArray(new float[] {7}, 1));
    SafeTensors.write(valid, tensors, Map.of("epoch", "3", "format", "pt"));
    byte[] good = Files.readAllBytes(valid);
    Mutations m = new Mutations(20260101L);
    Path file = dir.resolve("mutated.safetensors");
    int refused = 0;
    try (Tensor w = REF.full(9f, 2, 3); Tensor b = REF.full(9f, 2); Tensor s = REF.full(9f, 1)) {
      Map<String, Tensor> targets = Map.of("0.weight", w, "0.bias", b, "scalar", s);
      for (int i = 0; i < MUTATIONS; i++) {
        byte[] bytes = m.mutate(good);
        Files.write(file, bytes);
        String what = "mutation " + i + " (" + m.lastKinds() + ", " + bytes.length + " bytes)";
        try {
          for (SafeTensors.Entry e : SafeTensors.read(file).values()) {
            assertEquals(Shape.numel(e.shape()), e.data().length, what);
          }
          SafeTensors.readMetadata(file);
        } catch (CheckpointException e) {
          refused++;
          assertTrue(e.getMessage().startsWith(file.toString()), what + ": the message names the file: " + e.getMessage());
        } catch (Throwable e) {
          fail(what + ": " + e, e);
        }
        float[] wBefore = w.toArray(), bBefore = b.toArray(), sBefore = s.toArray();
        try {
          SafeTensors.loadInto(file, targets, true);
        } catch (CheckpointException e) {
          assertArrayEquals(wBefore, w.toArray(), what + ": a refused load changes no target");
          assertArrayEquals(bBefore, b.toArray(), what);
          assertArrayEquals(sBefore, s.toArray(), what);
        } catch (Throwable e) {
          fail(what + ": loadInto: " + e, e);
        }
      }
    }
    // Most mutations break the file; a fuzz test whose inputs were all accepted would test nothing.
    assertTrue(refused > MUTATIONS / 2, refused + " of " + MUTATIONS + " refused");
    tensors.values().forEach(Tensor::close);
  }
}
