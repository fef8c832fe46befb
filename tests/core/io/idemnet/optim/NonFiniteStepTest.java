package io.idemnet.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.fpn.FixedPointNetwork;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A NaN or infinity in a batch must cost one step, not the model: the training steps (the
 * idempotent loss, IGN, FPN) skip the update of a step whose loss or gradient is not finite,
 * leave weights, optimizer state and BatchNorm statistics bitwise as they were, count the skip,
 * and under the FAIL policy throw instead.
 */
class NonFiniteStepTest {
  private static final Backend CPU = new CpuBackend();

  /** Every parameter, optimizer state tensor and buffer of the module, copied to Java arrays. */
  private static List<float[]> snapshot(Module f, Optimizer opt) {
    List<float[]> all = new ArrayList<>();
    for (Parameter p : f.namedParameters().values()) all.add(p.value().toArray());
    for (Tensor t : opt.state().values()) all.add(t.toArray());
    for (Tensor t : f.namedBuffers().values()) all.add(t.toArray());
    return all;
  }

  private static void assertUnchanged(List<float[]> before, List<float[]> after, String what) {
    assertEquals(before.size(), after.size());
    for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), after.get(i), what + ": tensor " + i + " changed");
  }

  private static boolean allFinite(List<float[]> arrays) {
    for (float[] a : arrays) {
      for (float v : a) if (!Float.isFinite(v)) return false;
    }
    return true;
  }

  @Test
  void anInfiniteGradientIsSkippedAndCountedOrRefused() {
    try (Parameter p = new Parameter(CPU.fromArray(new float[] {1f, 2f}, 2));
        Adam adam = new Adam(Map.of("w", p), 0.1f)) {
      p.grad().copyFrom(new float[] {0.5f, Float.POSITIVE_INFINITY});
      assertFalse(adam.gradientsFinite());
      assertFalse(adam.stepIfFinite(1.0), "finite loss, infinite gradient: skipped");
      assertArrayEquals(new float[] {1f, 2f}, p.value().toArray());
      assertEquals(0, adam.steps(), "a skipped step is not an Adam step (bias correction unchanged)");
      assertEquals(1, adam.skippedSteps());
      assertFalse(adam.stepIfFinite(Double.NaN));
      assertEquals(2, adam.consecutiveSkips());

      adam.nonFinitePolicy(Optimizer.NonFinitePolicy.FAIL);
      NonFiniteStepException e = assertThrows(NonFiniteStepException.class, () -> adam.stepIfFinite(1.0));
      assertTrue(e.getMessage().contains("gradient"), e.getMessage());
      assertArrayEquals(new float[] {1f, 2f}, p.value().toArray(), "a refused step updates nothing");

      p.grad().copyFrom(new float[] {0.5f, -0.5f});
      assertTrue(adam.stepIfFinite(1.0));
      assertEquals(0, adam.consecutiveSkips(), "an applied step ends the run of skips");
      assertEquals(2, adam.skippedSteps());
      assertEquals(1, adam.steps());
      assertFalse(java.util.Arrays.equals(new float[] {1f, 2f}, p.value().toArray()));
    }
  }

  @Test
  void idempotentTrainStepSkipsABatchWithNaN() {
    for (IdempotentLoss.Mode mode : IdempotentLoss.Mode.values()) {
      try (Sequential f = Sequential.mlp(CPU, 3, Activation.leakyRelu(0.2f), 5, 8, 5);
          Sgd sgd = new Sgd(f.namedParameters(), 0.05f, 0.9f, 0f); Graph graph = new Graph(CPU);
          Tensor x = CPU.zeros(16, 5)) {
        CPU.randomNormal(x, 1, 0f, 1f);
        IdempotentLoss.trainStep(graph, f, sgd, x, mode); // one good step, so the momentum state is not all zero
        List<float[]> before = snapshot(f, sgd);
        float[] bad = x.toArray();
        bad[7] = Float.NaN;
        x.copyFrom(bad);
        double loss = CPU.readScalar(IdempotentLoss.trainStep(graph, f, sgd, x, mode));
        assertTrue(Double.isNaN(loss), mode + ": the loss of the batch is reported as it is");
        assertUnchanged(before, snapshot(f, sgd), mode + " after a NaN batch");
        assertEquals(1, sgd.skippedSteps());

        sgd.nonFinitePolicy(Optimizer.NonFinitePolicy.FAIL);
        assertThrows(NonFiniteStepException.class, () -> IdempotentLoss.trainStep(graph, f, sgd, x, mode));
        assertUnchanged(before, snapshot(f, sgd), mode + " after a refused step");

        CPU.randomNormal(x, 2, 0f, 1f);
        assertTrue(Float.isFinite(CPU.readScalar(IdempotentLoss.trainStep(graph, f, sgd, x, mode))));
        assertTrue(allFinite(snapshot(f, sgd)), mode + ": training goes on from finite weights");
        assertEquals(2, sgd.steps());
      }
    }
  }

  /** IGN's network has BatchNorm: the NaN batch reaches the running statistics before its loss is known. */
  @Test
  void ignStepWithNaNLeavesWeightsAndRunningStatisticsAlone() {
    for (IgnTrainer.Mode mode : IgnTrainer.Mode.values()) {
      try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.125f, 2); Adam adam = new Adam(f.namedParameters(), 1e-3f);
          Tensor x = CPU.zeros(4, 1, 28, 28); Tensor z = CPU.zeros(4, 1, 28, 28);
          IgnTrainer t = new IgnTrainer(CPU, f, adam, mode, IgnTrainer.Lambdas.MNIST)) {
        assertFalse(f.namedBuffers().isEmpty(), "the network has running statistics");
        CPU.randomUniform(x, 3, -1f, 1f);
        CPU.randomNormal(z, 4, 0f, 1f);
        t.step(x, z, 0);
        assertTrue(t.lastStepApplied());
        List<float[]> before = snapshot(f, adam);
        float[] bad = x.toArray();
        bad[100] = Float.NaN;
        x.copyFrom(bad);
        t.step(x, z, 1);
        IgnTrainer.Losses l = t.losses();
        assertTrue(Double.isNaN(l.rec()), mode + ": " + l);
        assertFalse(t.lastStepApplied());
        assertUnchanged(before, snapshot(f, adam), mode + " after a NaN batch");
        assertEquals(1, adam.skippedSteps());
      }
    }
  }

  @Test
  void fpnStepWithNaNIsSkippedEvenThoughItsSolverDiverges() {
    Random rnd = new Random(4);
    float[] images = new float[40 * 8];
    int[] labels = new int[40];
    for (int i = 0; i < images.length; i++) images[i] = (float) rnd.nextGaussian();
    for (int i = 0; i < labels.length; i++) labels[i] = i % 3;
    Dataset data = new Dataset(images, labels, 1, 1, 8);
    var config = new FpnExperiment.Config(FpnExperiment.Variant.JFB, 8, 0.5f, 1, 10, 1e-2f, 1e-4, 30, 10, 1, 3, false, 1);
    FpnExperiment experiment = new FpnExperiment(CPU, config, FpnExperiment.linearQ(), false);
    try (FixedPointNetwork f = experiment.build(data, 3); Graph graph = new Graph(CPU);
        Adam adam = new Adam(f.namedParameters(), 1e-2f); Tensor x = CPU.zeros(10, 8);
        Tensor y = CPU.fromArray(Graph.labelValues(java.util.Arrays.copyOf(labels, 10), 3), 10)) {
      x.copyFrom(java.util.Arrays.copyOf(images, 80));
      assertTrue(Float.isFinite(CPU.readScalar(FpnExperiment.trainStep(f, graph, adam, x, y))));
      List<float[]> before = snapshot(f, adam);
      float[] bad = x.toArray();
      bad[3] = Float.NaN;
      x.copyFrom(bad);
      assertTrue(Float.isNaN(CPU.readScalar(FpnExperiment.trainStep(f, graph, adam, x, y))));
      assertUnchanged(before, snapshot(f, adam), "after a NaN batch");
      assertEquals(1, adam.skippedSteps());
      adam.nonFinitePolicy(Optimizer.NonFinitePolicy.FAIL);
      assertThrows(NonFiniteStepException.class, () -> FpnExperiment.trainStep(f, graph, adam, x, y));
      assertUnchanged(before, snapshot(f, adam), "after a refused step");
    }
  }

  /** The finiteness check is a backend reduction: it agrees with the elements on every backend. */
  @Test
  void allFiniteLooksAtEveryElementOfEveryTensor() {
    for (Backend be : new Backend[] {CPU, new io.idemnet.backend.reference.ReferenceBackend()}) {
      try (Tensor a = be.fromArray(new float[] {1f, -3e38f, 3e38f}, 3); Tensor b = be.zeros(2, 2);
          Tensor c = be.fromArray(new float[] {0f, Float.NEGATIVE_INFINITY}, 2); Tensor empty = be.zeros(0)) {
        assertTrue(be.allFinite(List.of(a, b, empty)), be.name() + ": large finite values are finite");
        assertFalse(be.allFinite(List.of(a, b, c)), be.name());
        b.copyFrom(new float[] {0f, 0f, Float.NaN, 0f});
        assertFalse(be.allFinite(List.of(a, b)), be.name());
        assertTrue(be.allFinite(List.of()), be.name() + ": nothing is finite");
      }
    }
  }
}
