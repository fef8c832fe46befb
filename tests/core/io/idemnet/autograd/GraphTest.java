package io.idemnet.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphTest {
  private static final Backend REF = new ReferenceBackend();

  @Test
  void noGradRecordsNothing() {
    try (Sequential f = Sequential.mlp(REF, 1, Activation.TANH, 3, 3); Tensor x = REF.zeros(2, 3); Graph g = new Graph(REF)) {
      try (Graph.Scope s = g.noGrad()) {
        Var y = f.forward(g, g.constant(x));
        assertEquals(0, g.tapeSize());
        assertEquals(false, y.requiresGrad());
      }
      f.forward(g, g.constant(x));
      assertEquals(2, g.tapeSize(), "linear + activation recorded once parameters require gradients");
    }
  }

  /** Detached parameters receive nothing, yet the gradient reaches the input through them. */
  @Test
  void detachedParametersPassGradientsToTheirInput() {
    try (Linear f = new Linear(REF, 3, 3, true, 1); Tensor x = REF.fromArray(new float[] {1, 2, 3, -1, 0, 1}, 2, 3);
        Tensor ones = REF.full(1f, 2, 3); Graph g = new Graph(REF)) {
      f.weight().zeroGrad();
      f.bias().zeroGrad();
      Var in = g.leaf(x);
      Var out;
      try (Graph.Scope s = g.detachParameters()) {
        out = f.forward(g, in);
      }
      g.backward(out, ones);
      assertNotNull(in.grad(), "input gradient flows");
      // dL/dx = ones W: column sums of W for every row.
      float[] w = f.weight().value().toArray(), dx = in.grad().toArray();
      for (int j = 0; j < 3; j++) {
        float colSum = w[j] + w[3 + j] + w[6 + j];
        assertEquals(colSum, dx[j], 1e-6f);
        assertEquals(colSum, dx[3 + j], 1e-6f);
      }
      assertArrayEquals(new float[9], f.weight().grad().toArray(), "detached weight untouched");
      assertArrayEquals(new float[3], f.bias().grad().toArray(), "detached bias untouched");
    }
  }

  @Test
  void gradientsOfAReusedValueAddUp() {
    try (Tensor x = REF.fromArray(new float[] {1, -2}, 1, 2); Tensor seed = REF.full(1f, 1, 2); Graph g = new Graph(REF)) {
      Var a = g.leaf(x);
      Var twoA = g.add(a, a);
      Var z = g.sub(twoA, a); // z = a, through three paths
      g.backward(z, seed);
      assertArrayEquals(new float[] {1, 1}, a.grad().toArray());
    }
  }

  @Test
  void mseAndSeveralSeeds() {
    try (Tensor at = REF.fromArray(new float[] {1, 2, 3, 4}, 2, 2); Tensor bt = REF.fromArray(new float[] {0, 2, 5, 4}, 2, 2);
        Graph g = new Graph(REF)) {
      Var a = g.leaf(at), b = g.leaf(bt);
      Var loss = g.mseLoss(a, b);
      assertEquals((1 + 0 + 4 + 0) / 4.0, loss.value().toArray()[0], 1e-7);
      g.backward(loss);
      assertArrayEquals(new float[] {0.5f, 0f, -1f, 0f}, a.grad().toArray(), 1e-7f);
      assertArrayEquals(new float[] {-0.5f, 0f, 1f, 0f}, b.grad().toArray(), 1e-7f);
    }
  }

  /** After the first step, training steps take every buffer from the workspace: no allocation. */
  @Test
  void steadyStateStepsAllocateNothing() {
    for (IdempotentLoss.Mode mode : IdempotentLoss.Mode.values()) {
      try (Sequential f = Sequential.mlp(REF, 1, Activation.leakyRelu(0.2f), 4, 6, 4); Graph g = new Graph(REF);
          Sgd opt = new Sgd(f.namedParameters(), 0.01f); Tensor x = REF.zeros(8, 4)) {
        REF.randomNormal(x, 1, 0f, 1f);
        IdempotentLoss.trainStep(g, f, opt, x, mode);
        int buffers = g.workspace().size();
        assertEquals(true, buffers > 0);
        for (int step = 0; step < 3; step++) IdempotentLoss.trainStep(g, f, opt, x, mode);
        assertEquals(buffers, g.workspace().size(), mode + ": workspace did not grow");
      }
    }
  }

  @Test
  void parameterGradientsAccumulateUntilZeroed() {
    try (Linear f = new Linear(REF, 2, 2, true, 5); Tensor x = REF.fromArray(new float[] {1, 2}, 1, 2);
        Tensor seed = REF.full(1f, 1, 2); Graph g = new Graph(REF)) {
      f.parameters().forEach(Parameter::zeroGrad);
      for (int i = 0; i < 2; i++) {
        g.reset();
        g.backward(f.forward(g, g.constant(x)), seed);
      }
      assertArrayEquals(new float[] {2, 4, 2, 4}, f.weight().grad().toArray());
      assertArrayEquals(new float[] {2, 2}, f.bias().grad().toArray());
      Var data = g.constant(x);
      assertNull(data.grad());
    }
  }

  @Test
  void sequentialNamesMatchPyTorch() {
    try (Sequential f = Sequential.mlp(REF, 1, Activation.leakyRelu(0.2f), 5, 7, 5)) {
      assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(f.namedParameters().keySet()));
      assertArrayEquals(new int[] {7, 5}, f.namedParameters().get("0.weight").shape());
      float bound = (float) (1 / Math.sqrt(5));
      for (float w : f.namedParameters().get("0.weight").value().toArray()) {
        if (Math.abs(w) > bound) throw new AssertionError("init outside U(-1/sqrt(in), 1/sqrt(in)): " + w);
      }
    }
  }
}
