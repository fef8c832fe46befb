package io.idemnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  private static final Backend CPU = new CpuBackend();

  private static Sequential net(long seed) {
    return Sequential.mlp(CPU, seed, Activation.leakyRelu(0.2f), 5, 7, 5);
  }

  private static float[] flat(Sequential f) {
    return f.parameters().stream().map(p -> p.value().toArray()).reduce(new float[0], (a, b) -> {
      float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, c, a.length, b.length);
      return c;
    });
  }

  @Test
  void modelRoundTripIsBitExact(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("b1.safetensors");
    try (Sequential a = net(1); Sequential b = net(2)) {
      Checkpoints.saveModel(file, a);
      Checkpoints.loadModel(file, b);
      assertArrayEquals(flat(a), flat(b));
      assertEquals(java.util.List.of("0.bias", "0.weight", "2.bias", "2.weight"),
          java.util.List.copyOf(new java.util.TreeSet<>(SafeTensors.read(file).keySet())));
    }
  }

  /** Training resumed from a checkpoint continues exactly as the uninterrupted run. */
  @Test
  void trainingResumesExactly(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("train.safetensors");
    try (Sequential a = net(3); Adam optA = new Adam(a.namedParameters(), 1e-2f); Graph g = new Graph(CPU);
        Tensor x = CPU.zeros(64, 5)) {
      for (int step = 0; step < 6; step++) {
        if (step == 3) Checkpoints.saveTraining(file, a, optA, Map.of("epoch", "3"));
        CPU.randomNormal(x, step, 0f, 1f);
        IdempotentLoss.trainStep(g, a, optA, x, IdempotentLoss.Mode.MODIFIED);
      }
      try (Sequential b = net(4); Adam optB = new Adam(b.namedParameters(), 5e-1f)) {
        Map<String, String> meta = Checkpoints.loadTraining(file, b, optB);
        assertEquals("3", meta.get("epoch"));
        assertEquals(3, optB.steps());
        for (int step = 3; step < 6; step++) {
          CPU.randomNormal(x, step, 0f, 1f);
          IdempotentLoss.trainStep(g, b, optB, x, IdempotentLoss.Mode.MODIFIED);
        }
        assertArrayEquals(flat(a), flat(b), "resumed training is bit-identical");
      }
    }
  }

  @Test
  void badFilesLeaveTheModelUntouched(@TempDir Path dir) throws IOException {
    Path good = dir.resolve("good.safetensors"), wrongShape = dir.resolve("wide.safetensors");
    try (Sequential a = net(5); Sequential wide = Sequential.mlp(CPU, 6, Activation.leakyRelu(0.2f), 5, 9, 5);
        Sequential target = net(7)) {
      Checkpoints.saveModel(good, a);
      Checkpoints.saveModel(wrongShape, wide);
      float[] before = flat(target);

      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.loadModel(wrongShape, target));
      assertTrue(e.getMessage().contains("0.weight"), e.getMessage());
      assertArrayEquals(before, flat(target));

      byte[] bytes = Files.readAllBytes(good);
      Path truncated = dir.resolve("truncated.safetensors");
      Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 10));
      assertThrows(CheckpointException.class, () -> Checkpoints.loadModel(truncated, target));
      assertArrayEquals(before, flat(target));

      assertThrows(CheckpointException.class, () -> Checkpoints.loadTraining(good, target,
          new Adam(target.namedParameters(), 1e-3f)));
      assertArrayEquals(before, flat(target));
    }
  }
}
