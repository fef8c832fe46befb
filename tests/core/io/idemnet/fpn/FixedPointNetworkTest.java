package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.fpn.FixedPointNetwork.BackwardMode;
import io.idemnet.nn.Linear;
import io.idemnet.tensor.Tensor;
import java.util.Map;
import java.util.function.DoubleSupplier;
import io.idemnet.testing.FiniteDifferences;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fixed point networks on the reference backend (float32 storage, double arithmetic). Gradient
 * checks use central differences with h = 1e-2 on tanh models; the fixed point is solved to
 * 1e-7 so the solver's error (<= tol / (1 - gamma)) is far below the difference quotients'
 * ~1e-5 noise; gradients are compared with atol 2e-3 max|g|.
 */
class FixedPointNetworkTest {
  private static final Backend REF = new ReferenceBackend();
  private static final int[] LABELS = {0, 2, 1, 2, 0};

  private static FixedPointNetwork tiny(BackwardMode mode) {
    LatentMap r = new LatentMap(REF, 4, Activation.TANH, 0.6f, 11);
    return new FixedPointNetwork(REF, new Linear(REF, 3, 4, true, 12), r, new Linear(REF, 4, 3, true, 13))
        .tolerance(1e-7, 200).backward(mode, 200, 1e-9);
  }

  private static Tensor input() {
    Tensor x = REF.zeros(5, 3);
    REF.randomNormal(x, 3, 0f, 1f);
    return x;
  }

  private static double loss(FixedPointNetwork f, Graph g, Tensor x) {
    g.reset();
    try (Graph.Scope s = g.noGrad()) {
      return g.crossEntropy(f.forward(g, g.constant(x)), LABELS).value().toArray()[0];
    }
  }

  private static void backward(FixedPointNetwork f, Graph g, Tensor x) {
    g.reset();
    f.parameters().forEach(Parameter::zeroGrad);
    g.backward(g.crossEntropy(f.forward(g, g.constant(x)), LABELS));
  }

  @Test
  void forwardFindsAFixedPoint() {
    try (FixedPointNetwork f = tiny(BackwardMode.JFB); Tensor x = input(); Graph g = new Graph(REF)) {
      loss(f, g, x);
      FixedPointNetwork.Stats st = f.lastStats();
      assertTrue(st.converged(), st.toString());
      assertTrue(st.maxResidual() < 1e-7 && st.iterations() < 200, st.toString());
      // A looser tolerance stops earlier.
      f.tolerance(1e-2, 200);
      loss(f, g, x);
      assertTrue(f.lastStats().iterations() < st.iterations(), f.lastStats() + " vs " + st);
    }
  }

  /**
   * The implicit gradient is the true gradient: by the Neumann series and by conjugate gradients
   * it matches finite differences of L(S(u*(theta))).
   */
  @ParameterizedTest
  @EnumSource(value = BackwardMode.class, names = {"NEUMANN", "CG"})
  void implicitGradientMatchesFiniteDifferences(BackwardMode mode) {
    try (FixedPointNetwork f = tiny(mode); Tensor x = input(); Graph g = new Graph(REF)) {
      backward(f, g, x);
      assertTrue(f.lastStats().vjpProducts() > 1, "the solve used several products");
      FiniteDifferences.assertGradients("implicit " + mode, f.namedParameters(), () -> loss(f, g, x), 1e-2f, 2e-3);
    }
  }

  /** Both implicit solvers stop at their product limit, and the limit is what they report. */
  @ParameterizedTest
  @EnumSource(value = BackwardMode.class, names = {"NEUMANN", "CG"})
  void implicitSolversRespectTheProductLimit(BackwardMode mode) {
    try (FixedPointNetwork f = tiny(mode).backward(mode, 3, 1e-12); Tensor x = input(); Graph g = new Graph(REF)) {
      backward(f, g, x);
      assertTrue(f.lastStats().vjpProducts() <= 3, f.lastStats().toString());
      assertTrue(f.lastStats().vjpProducts() >= 2, f.lastStats().toString());
    }
  }

  /** JFB is the gradient of S(T(u*; d)) with u* held constant (checked by finite differences). */
  @Test
  void jfbIsTheGradientThroughOneApplicationWithUStarFixed() {
    Linear qLayer = new Linear(REF, 3, 4, true, 12), sLayer = new Linear(REF, 4, 3, true, 13);
    LatentMap r = new LatentMap(REF, 4, Activation.TANH, 0.6f, 11);
    try (FixedPointNetwork f = new FixedPointNetwork(REF, qLayer, r, sLayer).tolerance(1e-7, 200);
        Tensor x = input(); Graph g = new Graph(REF)) {
      backward(f, g, x);
      // u* at the current parameters by plain iteration, then frozen.
      float[] uStar;
      try (Graph.Scope s = g.noGrad()) {
        g.reset();
        Var q = qLayer.forward(g, g.constant(x));
        Tensor u = REF.zeros(5, 4);
        for (int k = 0; k < 300; k++) u.copyFrom(r.apply(g, g.constant(u), q).value().toArray());
        uStar = u.toArray();
        u.close();
      }
      Tensor frozen = REF.fromArray(uStar, 5, 4);
      DoubleSupplier oneApplication = () -> {
        g.reset();
        try (Graph.Scope s = g.noGrad()) {
          Var z = r.apply(g, g.constant(frozen), qLayer.forward(g, g.constant(x)));
          return g.crossEntropy(sLayer.forward(g, z), LABELS).value().toArray()[0];
        }
      };
      FiniteDifferences.assertGradients("JFB", f.namedParameters(), oneApplication, 1e-2f, 2e-3);
      frozen.close();
    }
  }

  @Test
  void nonContractiveMapsAreReportedNotLoopedForever() {
    try (FixedPointNetwork f = tiny(BackwardMode.JFB); Tensor x = input(); Graph g = new Graph(REF)) {
      // Overwrite W with -3 I: u <- tanh(-3u + q) overshoots and settles into a 2-cycle, not a fixed point.
      float[] w = new float[16];
      for (int i = 0; i < 4; i++) w[i * 4 + i] = -3f;
      f.latentMap().weight().value().copyFrom(w);
      f.tolerance(1e-9, 25);
      loss(f, g, x);
      assertEquals(25, f.lastStats().iterations());
      // Identity activation with a large W diverges: a clear exception, not an endless loop.
      LatentMap lin = new LatentMap(REF, 4, Activation.IDENTITY, 0.5f, 1);
      for (int i = 0; i < 16; i++) w[i] = 5f;
      lin.weight().value().copyFrom(w);
      try (FixedPointNetwork div = new FixedPointNetwork(REF, new Linear(REF, 3, 4, true, 2), lin,
          new Linear(REF, 4, 3, true, 3)).tolerance(1e-6, 1000)) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> loss(div, g, x));
        assertTrue(e.getMessage().contains("diverged"), e.getMessage());
      }
      assertFalse(f.lastStats().converged());
    }
  }

  /**
   * Anderson acceleration finds the same fixed point in fewer iterations: outputs agree to 1e-5
   * (each solve is within tol / (1 - gamma) = 2e-7 of u*; S is a small linear map).
   */
  @Test
  void andersonFindsTheSameFixedPointInFewerIterations() {
    try (FixedPointNetwork f = tiny(BackwardMode.JFB); Tensor x = input(); Graph g = new Graph(REF)) {
      f.tolerance(1e-7, 500);
      g.reset();
      float[] plain, accelerated;
      try (Graph.Scope s = g.noGrad()) {
        plain = f.forward(g, g.constant(x)).value().toArray();
      }
      FixedPointNetwork.Stats plainStats = f.lastStats();
      f.anderson(5);
      g.reset();
      try (Graph.Scope s = g.noGrad()) {
        accelerated = f.forward(g, g.constant(x)).value().toArray();
      }
      FixedPointNetwork.Stats st = f.lastStats();
      assertTrue(plainStats.converged() && st.converged(), plainStats + " / " + st);
      assertTrue(st.iterations() < plainStats.iterations(), st + " vs plain " + plainStats);
      for (int i = 0; i < plain.length; i++) assertEquals(plain[i], accelerated[i], 1e-5, "output " + i);
      assertThrows(IllegalArgumentException.class, () -> f.anderson(0));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> f.anderson(Backend.ANDERSON_MAX_MEMORY + 1));
      assertTrue(e.getMessage().contains("between 1 (plain iteration) and 16"), e.getMessage());
    }
  }

  /**
   * The Anderson solver on the cpu backend (native record and mix) gives the reference backend's
   * fixed point. Both networks hold the same weights; each solve stops at a residual below
   * tol = 1e-7 of a gamma = 0.6 contraction, so each iterate is within (tol + e) / (1 - gamma) of
   * u*, e bounding the float rounding of one application of T (tanh outputs lie in (-1, 1): at most
   * 3 roundings of U each on 4 elements, ||e|| <= 4 * 3U * 2 < 6e-7). The outputs S(z) = W_S z + b
   * then differ by at most ||W_S||_F * 2 (tol + 6e-7) / (1 - gamma), plus S's own rounding (a
   * 4-term dot product and a bias: 6U (|y| + 1)).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {2, 5, 16})
  void andersonOnTheCpuBackendMatchesTheReference(int memory) {
    try (io.idemnet.backend.cpu.CpuBackend cpu = new io.idemnet.backend.cpu.CpuBackend()) {
      LatentMap rc = new LatentMap(cpu, 4, Activation.TANH, 0.6f, 11);
      try (FixedPointNetwork ref = tiny(BackwardMode.JFB).anderson(memory);
          FixedPointNetwork fc = new FixedPointNetwork(cpu, new Linear(cpu, 3, 4, true, 12), rc,
              new Linear(cpu, 4, 3, true, 13)).tolerance(1e-7, 200).anderson(memory);
          Tensor x = input(); Tensor xc = cpu.fromArray(x.toArray(), x.shape()); Graph g = new Graph(REF);
          Graph gc = new Graph(cpu)) {
        Map<String, Parameter> want = ref.namedParameters(), got = fc.namedParameters();
        for (var e : want.entrySet()) got.get(e.getKey()).value().copyFrom(e.getValue().value().toArray());
        float[] y, yc;
        try (Graph.Scope s1 = g.noGrad(); Graph.Scope s2 = gc.noGrad()) {
          y = ref.forward(g, g.constant(x)).value().toArray();
          yc = fc.forward(gc, gc.constant(xc)).value().toArray();
        }
        assertTrue(ref.lastStats().converged() && fc.lastStats().converged(), ref.lastStats() + " / " + fc.lastStats());
        double normS = 0;
        for (float w : want.get("S.weight").value().toArray()) normS += (double) w * w;
        double solverBound = Math.sqrt(normS) * 2 * (1e-7 + 6e-7) / (1 - 0.6);
        double u = Math.ulp(1.0f) / 2;
        for (int i = 0; i < y.length; i++) {
          assertEquals(y[i], yc[i], solverBound + 6 * u * (Math.abs(y[i]) + 1), "output " + i + ", memory " + memory);
        }
      }
    }
  }

  /** Training memory (graph + solver buffers after a step) of JFB is the same for 3 and 60 iterations. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 5})
  void solverMemoryDoesNotGrowWithIterations(int andersonMemory) {
    try (FixedPointNetwork f = tiny(BackwardMode.JFB).anderson(andersonMemory); Tensor x = input(); Graph g = new Graph(REF)) {
      f.tolerance(1e-30, 3);
      backward(f, g, x);
      int few = f.solverBuffers();
      long fewBytes = f.solverBytes() + g.workspace().bytes();
      f.tolerance(1e-30, 60);
      backward(f, g, x);
      assertEquals(60, f.lastStats().iterations());
      assertEquals(few, f.solverBuffers(), "same buffers for 3 and 60 iterations");
      assertEquals(fewBytes, f.solverBytes() + g.workspace().bytes(), "same bytes for 3 and 60 iterations");
    }
  }

  /** The explicit twin records every application, so its memory grows with the depth. */
  @Test
  void explicitTwinMemoryGrowsWithDepth() {
    try (FixedPointNetwork f = tiny(BackwardMode.JFB); Tensor x = input(); Graph g = new Graph(REF)) {
      f.explicitDepth(3);
      backward(f, g, x);
      long shallow = g.workspace().bytes();
      try (Graph g2 = new Graph(REF)) {
        f.explicitDepth(30);
        backward(f, g2, x);
        assertTrue(g2.workspace().bytes() > 5 * shallow, g2.workspace().bytes() + " vs " + shallow);
      }
    }
  }

  @Test
  void contractionIsEnforced() {
    LatentMap r = new LatentMap(REF, 6, Activation.RELU, 0.5f, 4);
    float[] w = new float[36];
    for (int i = 0; i < 36; i++) w[i] = (i % 7) - 3f;
    r.weight().value().copyFrom(w);
    double before = r.enforceContraction(100);
    assertTrue(before > 0.5);
    assertEquals(0.5, r.enforceContraction(100), 1e-4, "spectral norm after rescaling");
    r.weight().close();
  }
}
