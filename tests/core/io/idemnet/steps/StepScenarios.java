package io.idemnet.steps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.StepGraph;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.Dropout;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.optim.Optimizer;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.util.Map;

/**
 * Training steps run twice on one backend, eagerly (model A) and as a recorded step replayed
 * (model B, recorded after one eager step), and compared bit for bit after every step: the replay
 * contract of {@link Backend#record}. Shared by the cpu tests and the GPU tests.
 */
public final class StepScenarios {
  private StepScenarios() {}

  /** An MLP R^8 -> R^8 with dropout in the middle (so masks must change from step to step). */
  public static Sequential mlpWithDropout(Backend be, long seed) {
    return new Sequential(new Linear(be, 8, 16, true, seed), ActivationLayer.leakyRelu(0.2f), new Dropout(0.25f, seed + 7),
        new Linear(be, 16, 8, true, seed + 1));
  }

  /**
   * MB or OB steps on {@link #mlpWithDropout} with Adam (or SGD with a learning-rate schedule),
   * new data and a new random counter every step: replays equal eager steps bit for bit (weights,
   * optimizer state, loss).
   */
  public static void mlpStepReplaysLikeEagerSteps(Backend be, IdempotentLoss.Mode mode, boolean adam, int steps) {
    try (Sequential fa = mlpWithDropout(be, 3); Sequential fb = mlpWithDropout(be, 3); Graph ga = new Graph(be);
        Graph gb = new Graph(be); Tensor xa = be.zeros(32, 8); Tensor xb = be.zeros(32, 8);
        Optimizer oa = optimizer(fa, adam); Optimizer ob = optimizer(fb, adam)) {
      Tensor[] lossB = new Tensor[1];
      StepGraph recorded = null;
      try {
        for (int k = 0; k < steps; k++) {
          be.randomNormal(xa, 100 + k, 0f, 1f); // the step's data, written outside the step
          be.randomNormal(xb, 100 + k, 0f, 1f);
          float lr = 0.01f / (1 + k); // a schedule: the rate changes every step
          oa.setLearningRate(lr);
          ob.setLearningRate(lr);
          // The step's dropout masks come from the graph's counter; the modules' call counts restart.
          ga.setRandomCounter(16L * k);
          fa.setRandomCounter(0);
          Tensor lossA = IdempotentLoss.trainStep(ga, fa, oa, xa, mode);
          gb.setRandomCounter(16L * k);
          if (k == 0) { // B's first step is eager too, so its workspace exists when it is recorded
            fb.setRandomCounter(0);
            lossB[0] = IdempotentLoss.trainStep(gb, fb, ob, xb, mode);
          } else {
            ob.prepareStep();
            if (recorded == null) {
              fb.setRandomCounter(0);
              float[] before = fb.parameters().get(0).value().toArray();
              recorded = be.record(() -> lossB[0] = IdempotentLoss.stepKernels(gb, fb, ob, xb, mode));
              assertArrayEquals(before, fb.parameters().get(0).value().toArray(), "recording does not run the step");
            }
            recorded.replay();
          }
          String what = mode + (adam ? " Adam" : " SGD") + " step " + k;
          assertSameState(what, fa.namedParameters(), fb.namedParameters(), oa, ob);
          assertEquals(Float.floatToIntBits(be.readScalar(lossA)), Float.floatToIntBits(be.readScalar(lossB[0])),
              what + ": loss");
        }
      } finally {
        if (recorded != null) recorded.close();
      }
    }
  }

  private static Optimizer optimizer(Module f, boolean adam) {
    return adam ? new Adam(f.namedParameters(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f)
        : new Sgd(f.namedParameters(), 1e-2f, 0.9f, 0f);
  }

  /**
   * IGN steps (Table 2's MNIST network at width 1/8: batch norm and dropout) in one mode, with or
   * without the tightness clamp: replays equal eager steps bit for bit (weights, running
   * statistics, Adam's moments, the three losses).
   */
  public static void ignStepReplaysLikeEagerSteps(Backend be, IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas,
      int steps) {
    try (Sequential fa = IgnNetworks.mnist(be, 1, 0.125f, 5); Sequential fb = IgnNetworks.mnist(be, 1, 0.125f, 5);
        Adam aa = new Adam(fa.namedParameters(), 1e-3f, 0.5f, 0.999f, 1e-8f, 0f);
        Adam ab = new Adam(fb.namedParameters(), 1e-3f, 0.5f, 0.999f, 1e-8f, 0f);
        IgnTrainer ta = new IgnTrainer(be, fa, aa, mode, lambdas); IgnTrainer tb = new IgnTrainer(be, fb, ab, mode, lambdas);
        Tensor xa = be.zeros(4, 1, 28, 28); Tensor za = be.zeros(4, 1, 28, 28); Tensor xb = be.zeros(4, 1, 28, 28);
        Tensor zb = be.zeros(4, 1, 28, 28)) {
      StepGraph recorded = null;
      try {
        for (int k = 0; k < steps; k++) {
          for (Tensor x : new Tensor[] {xa, xb}) be.randomUniform(x, 10 + k, -1f, 1f);
          for (Tensor z : new Tensor[] {za, zb}) be.randomNormal(z, 20 + k, 0f, 1f);
          long index = 1000 + k;
          ta.step(xa, za, index);
          if (k == 0) {
            tb.step(xb, zb, index);
          } else {
            tb.prepare(index);
            if (recorded == null) recorded = be.record(() -> tb.stepKernels(xb, zb));
            recorded.replay();
          }
          String what = mode + " " + lambdas + " step " + k;
          assertSameState(what, fa.namedParameters(), fb.namedParameters(), aa, ab);
          Map<String, Tensor> bufA = fa.namedBuffers(), bufB = fb.namedBuffers();
          assertTrue(!bufA.isEmpty(), "the network has running statistics");
          for (String name : bufA.keySet()) {
            assertArrayEquals(bufA.get(name).toArray(), bufB.get(name).toArray(), what + ": buffer " + name);
          }
          assertEquals(ta.losses(), tb.losses(), what + ": losses");
        }
      } finally {
        if (recorded != null) recorded.close();
      }
    }
  }

  /**
   * Adam alone (its bias correction changes every step, and here the learning rate too): replayed
   * updates equal eager ones bit for bit. Gradients are new every step, written outside the step.
   */
  public static void adamStepReplaysLikeEagerSteps(Backend be, int steps) {
    try (Parameter pa = Parameter.uniform(be, 1f, 9, 300); Parameter pb = Parameter.uniform(be, 1f, 9, 300);
        Adam aa = new Adam(Map.of("w", pa), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f);
        Adam ab = new Adam(Map.of("w", pb), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f)) {
      StepGraph recorded = be.record(ab::applyStep);
      try {
        assertArrayEquals(pa.value().toArray(), pb.value().toArray(), "recording does not run the update");
        for (int k = 1; k <= steps; k++) {
          be.randomNormal(pa.grad(), 50 + k, 0f, 1f);
          be.randomNormal(pb.grad(), 50 + k, 0f, 1f);
          aa.setLearningRate(1e-2f * k);
          ab.setLearningRate(1e-2f * k);
          aa.step();
          ab.prepareStep();
          recorded.replay();
          assertSameState("Adam step " + k, Map.of("w", pa), Map.of("w", pb), aa, ab);
        }
      } finally {
        recorded.close();
      }
    }
  }

  private static void assertSameState(String what, Map<String, Parameter> a, Map<String, Parameter> b, Optimizer oa,
      Optimizer ob) {
    for (String name : a.keySet()) {
      assertArrayEquals(a.get(name).value().toArray(), b.get(name).value().toArray(), what + ": parameter " + name);
    }
    for (String name : oa.state().keySet()) {
      assertArrayEquals(oa.state().get(name).toArray(), ob.state().get(name).toArray(), what + ": optimizer state " + name);
    }
  }
}
