package io.idemnet.steps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.CountingBackend;
import io.idemnet.backend.CountingBackend.Counts;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.fpn.FixedPointNetwork;
import io.idemnet.fpn.FixedPointNetwork.BackwardMode;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.fpn.LatentMap;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.optim.Optimizer;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Training steps move no data between host and device besides their declared reads and writes,
 * counted by a {@link CountingBackend} around the cpu backend (docs/architecture.md,
 * "Device-resident steps"). Every step here runs after one warm-up step (which allocates the
 * workspace); the counts are per step and exact. Each checked step (the default, which skips a
 * step whose loss or gradients are not finite) makes one declared read of 4 bytes for that check.
 */
class DeviceResidentStepsTest {
  private static CountingBackend counting() {
    return new CountingBackend(new CpuBackend());
  }

  @Test
  void theDecoratorCountsWhatCrosses() {
    CountingBackend be = counting();
    try (Tensor x = be.fromArray(new float[] {1, 2, 3}, 3); Tensor one = be.zeros(1)) {
      x.toArray();
      be.sum(x);
      be.writeScalars(one, 4f);
      be.readScalar(one);
      Counts c = be.counts();
      assertEquals(new Counts(1, 12, 2, 12 + 8, 1, 4, 1, 4), c, "upload 12 B; download 12 B + a sum's double; "
          + "one declared read and one declared write of 4 B");
      Graph g = new Graph(be);
      Counts before = be.counts();
      g.crossEntropy(g.constant(be.zeros(3, 2)), new int[] {0, 1, 1}); // host labels: an upload
      assertEquals(1, be.counts().minus(before).uploads(), "labels from an int[] are uploaded");
      g.close();
    }
  }

  @ParameterizedTest(name = "{0} with {1}")
  @CsvSource({"MODIFIED, adam", "ORDINARY, adam", "MODIFIED, sgd", "ORDINARY, sgd"})
  void mlpStepsMoveNoData(IdempotentLoss.Mode mode, String optimizer) {
    CountingBackend be = counting();
    try (Sequential f = Sequential.mlp(be, 3, Activation.leakyRelu(0.2f), 8, 16, 16, 8); Graph g = new Graph(be);
        Optimizer opt = optimizer.equals("adam") ? new Adam(f.namedParameters(), 1e-3f) : new Sgd(f.namedParameters(), 0.01f);
        Tensor x = be.zeros(64, 8)) {
      be.randomNormal(x, 1, 0f, 1f);
      IdempotentLoss.trainStep(g, f, opt, x, mode); // warm-up
      Counts before = be.counts();
      Tensor loss = null;
      int steps = 4;
      for (int i = 0; i < steps; i++) loss = IdempotentLoss.trainStep(g, f, opt, x, mode);
      Counts c = be.counts().minus(before);
      assertEquals(0, c.undeclaredTransfers(), "no uploads or downloads: " + c);
      assertEquals(steps, c.declaredReads(), "one finiteness check per step: " + c);
      assertEquals(4L * steps, c.declaredReadBytes(), "one float each: " + c);
      if (optimizer.equals("adam")) {
        assertEquals(steps, c.declaredWrites(), "Adam writes its two step scalars every step: " + c);
        assertEquals(8L * steps, c.declaredWriteBytes(), c.toString());
      } else {
        assertEquals(0, c.declaredWrites(), "SGD writes its rate only when it changes: " + c);
      }
      float value = be.readScalar(loss);
      Counts read = be.counts().minus(before);
      assertEquals(steps + 1, read.declaredReads());
      assertEquals(4L * (steps + 1), read.declaredReadBytes(), "the loss is one float on the device");
      assertTrue(Float.isFinite(value) && value > 0, "loss " + value);
    }
  }

  @ParameterizedTest(name = "{0}, clamp {1}")
  @CsvSource({"MODIFIED, false", "ORIGINAL, false", "MODIFIED, true", "ORIGINAL, true"})
  void ignStepsMoveNoData(IgnTrainer.Mode mode, boolean clamp) {
    CountingBackend be = counting();
    IgnTrainer.Lambdas lambdas = clamp ? IgnTrainer.Lambdas.IGN : IgnTrainer.Lambdas.MNIST;
    try (Sequential f = IgnNetworks.mnist(be, 1, 0.125f, 2); Adam adam = new Adam(f.namedParameters(), 1e-3f, 0.5f,
        0.999f, 1e-8f, 0f); IgnTrainer t = new IgnTrainer(be, f, adam, mode, lambdas);
        Tensor x = be.zeros(4, 1, 28, 28); Tensor z = be.zeros(4, 1, 28, 28)) {
      be.randomUniform(x, 3, -1f, 1f);
      be.randomNormal(z, 4, 0f, 1f);
      t.step(x, z, 0); // warm-up
      Counts before = be.counts();
      int steps = 3;
      for (int i = 1; i <= steps; i++) t.step(x, z, i);
      Counts c = be.counts().minus(before);
      assertEquals(0, c.undeclaredTransfers(), "no uploads or downloads: " + c);
      assertEquals(steps, c.declaredReads(), "one finiteness check per step: " + c);
      assertEquals(2L * steps, c.declaredWrites(), "the random counter and Adam's scalars, per step: " + c);
      assertEquals(16L * steps, c.declaredWriteBytes(), c.toString());
      IgnTrainer.Losses l = t.losses();
      Counts read = be.counts().minus(before);
      assertEquals(steps + 5, read.declaredReads(), "five losses of one float each");
      assertEquals(4L * (steps + 5), read.declaredReadBytes());
      assertTrue(l.rec() > 0 && l.idem() > 0 && l.tight() > 0, l.toString());
    }
  }

  /**
   * FPN steps: the fixed-point iteration reads one residual per iteration, plain or
   * Anderson-accelerated (memory 5: the history, the Gram matrices and the mix stay on the device);
   * the contraction rescaling one squared norm for its starting vector and one per power step (2
   * steps); the implicit backward one squared norm per stopping test, which is one per Jacobian
   * product plus the norm of the incoming gradient. Each read is one float.
   */
  @ParameterizedTest(name = "{0}, Anderson memory {1}")
  @CsvSource({"JFB, 1", "NEUMANN, 1", "CG, 1", "JFB, 5", "NEUMANN, 5", "CG, 5"})
  void fpnStepsReadOnlyTheirStoppingScalars(BackwardMode mode, int andersonMemory) {
    CountingBackend be = counting();
    LatentMap r = new LatentMap(be, 16, Activation.RELU, 0.5f, 11);
    try (FixedPointNetwork f = new FixedPointNetwork(be, new Linear(be, 12, 16, true, 12), r,
        new Linear(be, 16, 10, true, 13)).tolerance(1e-5, 60).backward(mode, 40, 1e-4).anderson(andersonMemory);
        Graph g = new Graph(be); Adam adam = new Adam(f.namedParameters(), 1e-3f); Tensor x = be.zeros(32, 12);
        Tensor labels = be.zeros(32)) {
      be.randomNormal(x, 5, 0f, 1f);
      float[] l = new float[32];
      for (int i = 0; i < l.length; i++) l[i] = i % 10;
      labels.copyFrom(l);
      FpnExperiment.trainStep(f, g, adam, x, labels); // warm-up
      for (int i = 0; i < 3; i++) {
        Counts before = be.counts();
        FpnExperiment.trainStep(f, g, adam, x, labels);
        Counts c = be.counts().minus(before);
        FixedPointNetwork.Stats st = f.lastStats();
        // + 1: the finiteness check of the loss and gradients before the update
        long expected = st.iterations() + 1 + 3 + (mode == BackwardMode.JFB ? 0 : st.vjpProducts() + 1);
        assertEquals(0, c.undeclaredTransfers(), "no uploads or downloads: " + c);
        assertEquals(expected, c.declaredReads(), st + ": " + c);
        assertEquals(4 * expected, c.declaredReadBytes(), "one float per read: " + c);
        assertEquals(1, c.declaredWrites(), "Adam's scalars: " + c);
        if (mode != BackwardMode.JFB) assertTrue(st.vjpProducts() >= 2, st.toString());
        // Anderson mixes from the second iteration on; at least two mixes with a two-slot history.
        assertTrue(st.iterations() >= 4, "enough iterations to mix: " + st);
      }
    }
  }
}
