package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IgnTest {
  private static final Backend CPU = new CpuBackend();

  @Test
  void networkMaps28x28To28x28() {
    try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.125f, 1); Graph g = new Graph(CPU); Tensor x = CPU.zeros(3, 1, 28, 28)) {
      CPU.randomNormal(x, 1, 0f, 1f);
      float[] y = f.forward(g, g.constant(x)).value().toArray();
      assertEquals(3 * 28 * 28, y.length);
      for (float v : y) assertTrue(v >= -1 && v <= 1, "tanh output");
    }
  }

  @Test
  void bothModesTakeFiniteStepsThatChangeTheWeights() {
    for (IgnTrainer.Mode mode : IgnTrainer.Mode.values()) {
      try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.125f, 2); Adam adam = new Adam(f.namedParameters(), 1e-3f, 0.5f, 0.999f, 1e-8f, 0f);
          Tensor x = CPU.zeros(4, 1, 28, 28); Tensor z = CPU.zeros(4, 1, 28, 28)) {
        CPU.randomUniform(x, 3, -1f, 1f);
        CPU.randomNormal(z, 4, 0f, 1f);
        IgnTrainer t = new IgnTrainer(CPU, f, adam, mode, new IgnTrainer.Lambdas(20f, 0.1f, 0.1f));
        Parameter first = f.parameters().get(0);
        float[] before = first.value().toArray();
        t.step(x, z, 0);
        IgnTrainer.Losses l = t.losses();
        assertTrue(Double.isFinite(l.rec()) && Double.isFinite(l.idem()) && Double.isFinite(l.tight()), mode + " " + l);
        assertFalse(java.util.Arrays.equals(before, first.value().toArray()), mode + ": weights moved");
        t.close();
      }
    }
  }

  /** Two epochs straight, or one epoch, a checkpoint, and a resumed second epoch: the same weights. */
  @Test
  void resumingFromACheckpointContinuesExactly(@TempDir Path dir) throws Exception {
    Random rnd = new Random(5);
    float[] imgs = new float[16 * 28 * 28];
    for (int i = 0; i < imgs.length; i++) imgs[i] = rnd.nextFloat() * 2 - 1;
    Dataset data = new Dataset(imgs, new int[16], 1, 28, 28);
    IgnExperiment.Config straight = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, new IgnTrainer.Lambdas(20f, 0.1f, 0.1f),
        2, 4, 1e-3f, 0.5f, 0.999f, 0.125f, 2, 9, dir.resolve("a"));
    assertEquals(2, new IgnExperiment(CPU, straight).run(data, null, s -> {}, () -> false));
    IgnExperiment.Config first = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, new IgnTrainer.Lambdas(20f, 0.1f, 0.1f),
        1, 4, 1e-3f, 0.5f, 0.999f, 0.125f, 2, 9, dir.resolve("b"));
    new IgnExperiment(CPU, first).run(data, null, s -> {}, () -> false);
    IgnExperiment.Config second = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, new IgnTrainer.Lambdas(20f, 0.1f, 0.1f),
        2, 4, 1e-3f, 0.5f, 0.999f, 0.125f, 2, 9, dir.resolve("b"));
    assertEquals(2, new IgnExperiment(CPU, second).run(data, dir.resolve("b/checkpoint.safetensors"), s -> {}, () -> false));
    var a = io.idemnet.io.SafeTensors.read(dir.resolve("a/checkpoint.safetensors"));
    var b = io.idemnet.io.SafeTensors.read(dir.resolve("b/checkpoint.safetensors"));
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), k);
    assertTrue(Files.size(dir.resolve("b/samples_epoch002.png")) > 100);
    assertEquals(1 + 2 * 2, Files.readAllLines(dir.resolve("b/losses.csv")).size(), "header + 2 epochs x 2 steps");
  }

  /**
   * Only the recorded applications of f may update the running BatchNorm statistics. Both modes
   * make the same first four applications (f(x), f(z), f'(z), f(f'(z)), same dropout counters);
   * after them MB applies f' four more times and the original mode once. So the running
   * statistics after one step from the same start must be identical in both modes, which fails if
   * an application of f' updates them.
   */
  @Test
  void applicationsOfTheCopyLeaveRunningStatisticsAlone() {
    List<float[]> after = new ArrayList<>();
    for (IgnTrainer.Mode mode : IgnTrainer.Mode.values()) {
      try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.125f, 5);
          Adam adam = new Adam(f.namedParameters(), 1e-3f, 0.5f, 0.999f, 1e-8f, 0f);
          Tensor x = CPU.zeros(4, 1, 28, 28); Tensor z = CPU.zeros(4, 1, 28, 28);
          IgnTrainer t = new IgnTrainer(CPU, f, adam, mode, new IgnTrainer.Lambdas(20f, 0.1f, 0.1f))) {
        CPU.randomUniform(x, 3, -1f, 1f);
        CPU.randomNormal(z, 4, 0f, 1f);
        t.step(x, z, 7);
        List<Float> all = new ArrayList<>();
        for (Tensor b : f.namedBuffers().values()) for (float v : b.toArray()) all.add(v);
        float[] flat = new float[all.size()];
        for (int i = 0; i < flat.length; i++) flat[i] = all.get(i);
        after.add(flat);
      }
    }
    float[] mb = after.get(IgnTrainer.Mode.MODIFIED.ordinal()), original = after.get(IgnTrainer.Mode.ORIGINAL.ordinal());
    assertTrue(mb.length > 0);
    boolean moved = false;
    for (float v : mb) moved |= v != 0f && v != 1f;
    assertTrue(moved, "the recorded applications updated the running statistics");
    assertArrayEquals(original, mb, "running statistics after one step, MB vs original mode");
  }

  /**
   * The MB seeds are -(3 f(y) - 2 f(f(y)) - y) / N at y = f(z) (idem) and +(3 f(w) - 2 f(f(w)) - w) / N
   * at w = f(f(z)) (tight), N the batch rows (Algorithm 1's e.shape[0]) or the element count: one
   * step of a dropout- and BatchNorm-free f must move the weights by exactly these seeds'
   * gradients. Adam with lr 1, beta1 = beta2 = 0 and eps = 1 makes the step d = -g / (|g| + 1),
   * which we invert (g = -d / (1 - |d|)), so the check sees the seeds' scale (the two N differ
   * 16x here); 1e-4 relative covers float32 rounding of the weights. The step also reports
   * idem and tight as mean squared errors: checked against the same forward values (1e-6
   * relative: float32 outputs summed in double).
   */
  @Test
  void mbSeedsAreNormalisedByRowsOrElementsAndLossesAreMse() {
    for (IgnTrainer.MbNormalisation norm : IgnTrainer.MbNormalisation.values())
    for (int term = 1; term <= 2; term++) {
      try (Sequential f = new Sequential(new io.idemnet.nn.Conv2d(CPU, 1, 1, 3, 1, 1, true, 7),
              new io.idemnet.nn.ActivationLayer(io.idemnet.backend.Activation.TANH));
          Tensor x = CPU.zeros(2, 1, 4, 4); Tensor z = CPU.zeros(2, 1, 4, 4); Graph g = new Graph(CPU)) {
        CPU.randomUniform(x, 3, -1f, 1f);
        CPU.randomNormal(z, 4, 0f, 1f);
        float numel = norm == IgnTrainer.MbNormalisation.ROWS ? z.dim(0) : z.numel();
        // Expected gradient: the seed at the recorded application, backpropagated through it.
        f.parameters().forEach(Parameter::zeroGrad);
        Tensor input = z;
        if (term == 2) {
          try (Graph.Scope s = g.noGrad()) {
            input = CPU.copyOf(f.forward(g, g.constant(z)).value()); // f'(z)
          }
        }
        io.idemnet.autograd.Var out = f.forward(g, g.constant(input));
        float[] o = out.value().toArray(), fo, ffo;
        try (Graph.Scope s = g.noGrad()) {
          Tensor t1 = f.forward(g, g.constant(out.value())).value();
          fo = t1.toArray();
          ffo = f.forward(g, g.constant(t1)).value().toArray();
        }
        float[] seed = new float[o.length];
        float sign = term == 1 ? -1f : 1f;
        for (int i = 0; i < o.length; i++) seed[i] = sign * (3 * fo[i] - 2 * ffo[i] - o[i]) / numel;
        Tensor seedT = CPU.fromArray(seed, out.shape());
        g.backward(out, seedT);
        List<float[]> expected = new ArrayList<>();
        for (Parameter p : f.parameters()) expected.add(p.grad().toArray());
        List<float[]> before = new ArrayList<>();
        for (Parameter p : f.parameters()) before.add(p.value().toArray());
        float eps = 1f;
        try (Adam adam = new Adam(f.namedParameters(), 1f, 0f, 0f, eps, 0f);
            IgnTrainer t = new IgnTrainer(CPU, f, adam, IgnTrainer.Mode.MODIFIED,
                term == 1 ? new IgnTrainer.Lambdas(0f, 1f, 0f) : new IgnTrainer.Lambdas(0f, 0f, 1f), norm)) {
          t.step(x, z, 0);
          IgnTrainer.Losses losses = t.losses();
          // idem MSE: mean (f(f(z)) - f(z))^2 (term 1: o = f(z), fo = f(o)); tight MSE: mean (f(f(z)) - f(z))^2 too
          // (term 2: o = f(f'(z)), input = f'(z)), since f' = f here.
          double mse = 0;
          float[] in = input.toArray();
          for (int i = 0; i < o.length; i++) {
            double d = term == 1 ? (double) fo[i] - o[i] : (double) o[i] - in[i];
            mse += d * d;
          }
          mse /= o.length;
          assertEquals(mse, term == 1 ? losses.idemMse() : losses.tightMse(), 1e-6 * mse, norm + " term " + term + " MSE");
          for (int k = 0; k < expected.size(); k++) {
            float[] after = f.parameters().get(k).value().toArray(), b = before.get(k), e = expected.get(k);
            for (int i = 0; i < e.length; i++) {
              double d = (double) after[i] - b[i];
              double implied = -d * eps / (1 - Math.abs(d)); // inverts d = -g / (|g| + eps) for lr = 1
              assertEquals(e[i], implied, 1e-4 * Math.abs(e[i]) + 1e-7, norm + " term " + term + " parameter " + k + "[" + i + "]");
            }
          }
        }
        seedT.close();
        if (term == 2) input.close();
      }
    }
  }

  /**
   * The clamp's gradient weights are the partial derivatives of phi(Lr, Lt) = lambda_r Lr -
   * lambda_t a Lr tanh(Lt / (a Lr)) (d/dLr, and -d/dLt for the tightness weight), checked by central
   * differences with step 1e-5 (truncation error ~1e-10, far below the 1e-6 tolerance).
   */
  @Test
  void tightnessClampWeightsAreTheDerivativesOfTheClampedObjective() {
    IgnTrainer.Lambdas lam = IgnTrainer.Lambdas.IGN;
    double a = lam.tightClamp(), lr = lam.rec(), lt = lam.tight(), h = 1e-5;
    java.util.function.DoubleBinaryOperator phi = (r, t) -> lr * r - lt * a * r * Math.tanh(t / (a * r));
    for (double[] p : new double[][] {{0.05, 0.06}, {0.5, 0.1}, {0.02, 0.3}, {0.9, 0.9}}) {
      double[] w = lam.effectiveRecAndTight(p[0], p[1]);
      double dRec = (phi.applyAsDouble(p[0] + h, p[1]) - phi.applyAsDouble(p[0] - h, p[1])) / (2 * h);
      double dTight = (phi.applyAsDouble(p[0], p[1] + h) - phi.applyAsDouble(p[0], p[1] - h)) / (2 * h);
      assertEquals(dRec, w[0], 1e-6, "rec weight at " + java.util.Arrays.toString(p));
      assertEquals(-dTight, w[1], 1e-6, "tight weight at " + java.util.Arrays.toString(p));
    }
    assertArrayEquals(new double[] {20, 2.5}, new IgnTrainer.Lambdas(20f, 20f, 2.5f).effectiveRecAndTight(0.05, 0.3), 0,
        "no clamp: the lambdas themselves");
    assertArrayEquals(new double[] {20, 2.5}, lam.effectiveRecAndTight(0, 0.3), 0, "L_rec = 0: the clamp is constant 0");
    assertThrows(IllegalArgumentException.class, () -> new IgnTrainer.Lambdas(20f, 20f, 2.5f, -1f));
    assertThrows(IllegalArgumentException.class, () -> new IgnTrainer.Lambdas(20f, Float.NaN, 2.5f));
  }

  /**
   * In both modes a clamped step equals an unclamped step whose rec and tight lambdas are the
   * clamp's weights at the step's measured losses: the trainer applies the clamp to the seeds. Adam
   * with lr 1, betas 0 and eps 1 keeps the step's dependence on the gradient's scale (plain Adam's
   * first step is only its sign); tolerance 1e-5 relative, float32 rounding of the weights.
   */
  @Test
  void aClampedStepUsesTheClampWeightsAtTheMeasuredLosses() {
    for (IgnTrainer.Mode mode : IgnTrainer.Mode.values()) {
      IgnTrainer.Lambdas clamped = new IgnTrainer.Lambdas(20f, 20f, 2.5f, 0.5f);
      float[] first = null;
      IgnTrainer.Lambdas equivalent = null;
      for (int run = 0; run < 2; run++) {
        try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.125f, 9); Adam adam = new Adam(f.namedParameters(), 1f, 0f, 0f, 1f, 0f);
            Tensor x = CPU.zeros(4, 1, 28, 28); Tensor z = CPU.zeros(4, 1, 28, 28);
            IgnTrainer t = new IgnTrainer(CPU, f, adam, mode, run == 0 ? clamped : equivalent)) {
          CPU.randomUniform(x, 3, -1f, 1f);
          CPU.randomNormal(z, 4, 0f, 1f);
          t.step(x, z, 3);
          IgnTrainer.Losses l = t.losses();
          float[] after = f.parameters().get(0).value().toArray();
          if (run == 0) {
            double[] w = clamped.effectiveRecAndTight(l.rec(), l.tight());
            assertTrue(Math.abs(w[1] / clamped.tight() - 1) > 0.01, mode + ": the clamp matters here " + java.util.Arrays.toString(w));
            equivalent = new IgnTrainer.Lambdas((float) w[0], clamped.idem(), (float) w[1]);
            first = after;
          } else {
            for (int i = 0; i < after.length; i++) {
              assertEquals(first[i], after[i], 1e-5 * Math.abs(first[i]) + 1e-7, mode + " weight " + i);
            }
          }
        }
      }
    }
  }
}
