package io.idemnet.docs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.data.Dataset;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.io.CheckpointException;
import io.idemnet.io.Checkpoints;
import io.idemnet.io.SafeTensors;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.BatchNorm2d;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snippets of docs/getting-started.md, as written there (sizes kept), run on the cpu backend:
 * if the page's API drifts, this stops compiling or fails.
 */
class GettingStartedTest {
  @Test
  void buildTrainSaveLoad(@TempDir Path dir) throws IOException {
    try (Backend be = Backends.named("cpu")) {
      try (Tensor x = be.zeros(1000, 5); Tensor w = be.fromArray(new float[] {1, 2, 3, 4}, 2, 2)) {
        be.randomNormal(x, 7, 0f, 1f);
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.toArray());
      }
      try (Sequential b1 = Sequential.mlp(be, 42, Activation.leakyRelu(0.2f), 5, 5);
          Sequential head = Sequential.mlpLinearOutput(be, 42, Activation.RELU, 784, 256, 10);
          Sequential custom = new Sequential(new Linear(be, 784, 128, true, 1), new ActivationLayer(Activation.TANH),
              new Linear(be, 128, 784, true, 3));
          Sequential conv = new Sequential(new Conv2d(be, 1, 32, 3, 1, 1, true, 5), new BatchNorm2d(be, 32),
              new ActivationLayer(Activation.RELU), new ConvTranspose2d(be, 32, 1, 3, 1, 1, 0, true, 7))) {
        assertEquals(3, head.children().size());
        assertEquals(3, custom.children().size());
        double error;
        try (Graph graph = new Graph(be); Adam adam = new Adam(b1.namedParameters(), 1e-3f); Tensor x = be.zeros(1000, 5)) {
          be.randomNormal(x, 0, 0f, 1f);
          double before = IdempotentLoss.error(graph, b1, x);
          for (int step = 0; step < 300; step++) {
            be.randomNormal(x, step, 0f, 1f);
            IdempotentLoss.trainStep(graph, b1, adam, x, IdempotentLoss.Mode.MODIFIED);
          }
          be.randomNormal(x, 0, 0f, 1f);
          error = IdempotentLoss.error(graph, b1, x);
          assertTrue(error < before, "MB lowered the idempotency error: " + before + " -> " + error);

          // A loop of your own on the tape: one step of the conv net toward the identity.
          try (Graph g = new Graph(be); Adam convAdam = new Adam(conv.namedParameters(), 1e-3f);
              Tensor img = be.zeros(2, 1, 8, 8)) {
            be.randomNormal(img, 3, 0f, 1f);
            g.reset();
            convAdam.zeroGrad();
            Var y = conv.forward(g, g.constant(img));
            Var loss = g.mseLoss(y, g.constant(img));
            g.backward(loss);
            convAdam.step();
            assertArrayEquals(new int[] {2, 1, 8, 8}, y.shape());
          }

          Path file = dir.resolve("b1.safetensors");
          Checkpoints.saveModel(file, b1);
          Checkpoints.loadModel(file, b1);
          SafeTensors.Entry w = SafeTensors.readTensor(file, "0.weight");
          assertArrayEquals(new int[] {5, 5}, w.shape());
          Checkpoints.saveTraining(dir.resolve("train.safetensors"), b1, adam, Map.of("epoch", "3"));
          assertThrows(CheckpointException.class, () -> Checkpoints.loadModel(file, head));
        }
      }
      Dataset tiny = new Dataset(new float[2 * 4], new int[] {0, 1}, 1, 2, 2);
      int batches = 0;
      for (Dataset.Batch b : tiny.toPlusMinusOne().batches(1, 1)) batches += b.size();
      assertEquals(2, batches);
    }
  }
}
