package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The matrix-free Jacobian products of the latent maps ({@link Latent#linearize}) that the
 * implicit backward uses: J^T w equals the tape's backward through one application of T; J v is
 * its adjoint (<J v, w> = <v, J^T w>); and, for a smooth map, J v matches central differences.
 * Reference backend (double arithmetic, float32 storage): products agree to 1e-5 of their scale;
 * the difference quotient (h = 1e-2, tanh) to 1e-3.
 */
class LinearizationTest {
  private static final Backend REF = new ReferenceBackend();

  record Case(String name, Function<Backend, Latent> map, int[] shape) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> maps() {
    return Stream.of(
        new Case("dense tanh", be -> new LatentMap(be, 6, Activation.TANH, 0.7f, 5), new int[] {3, 6}),
        new Case("dense relu", be -> new LatentMap(be, 6, Activation.RELU, 0.7f, 6), new int[] {3, 6}),
        new Case("conv relu", be -> new ConvLatentMap(be, 3, 4, 5, 0.5f, 7), new int[] {2, 3, 4, 5}));
  }

  private static Tensor random(Backend be, int[] shape, long seed) {
    Tensor t = be.zeros(shape);
    be.randomNormal(t, seed, 0f, 1f);
    return t;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
    return s;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) m = Math.max(m, Math.abs(v));
    return m;
  }

  @ParameterizedTest
  @MethodSource("maps")
  void transposedProductIsTheTapesBackward(Case c) {
    for (Backend be : List.of(REF, new CpuBackend())) {
      try (Latent r = c.map().apply(be); Graph g = new Graph(be); Tensor u = random(be, c.shape(), 1);
          Tensor q = random(be, c.shape(), 2); Tensor w = random(be, c.shape(), 3); Tensor out = be.zeros(c.shape())) {
        Var uv = g.leaf(u);
        Var z;
        try (Graph.Scope s = g.detachParameters()) {
          z = r.apply(g, uv, g.constant(q));
        }
        g.backward(z, w);
        float[] tape = uv.grad().toArray();
        r.linearize(g, u, q).applyTransposed(w, out);
        assertArrayEquals(tape, out.toArray(), (float) (1e-5 * Math.max(1, maxAbs(tape))), c + " on " + be.name());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("maps")
  void productIsTheAdjointOfTheTransposedProduct(Case c) {
    try (Latent r = c.map().apply(REF); Graph g = new Graph(REF); Tensor u = random(REF, c.shape(), 4);
        Tensor q = random(REF, c.shape(), 5); Tensor v = random(REF, c.shape(), 6); Tensor w = random(REF, c.shape(), 7);
        Tensor jv = REF.zeros(c.shape()); Tensor jtw = REF.zeros(c.shape())) {
      Latent.Linearization jac = r.linearize(g, u, q);
      jac.apply(v, jv);
      jac.applyTransposed(w, jtw);
      double left = dot(jv.toArray(), w.toArray()), right = dot(v.toArray(), jtw.toArray());
      assertEquals(left, right, 1e-5 * Math.max(1, Math.abs(left)), c.toString());
    }
  }

  @ParameterizedTest
  @MethodSource("maps")
  void productMatchesCentralDifferencesForASmoothMap(Case c) {
    if (!c.name().contains("tanh")) return; // ReLU's kinks make difference quotients unreliable
    float h = 1e-2f;
    try (Latent r = c.map().apply(REF); Graph g = new Graph(REF); Tensor u = random(REF, c.shape(), 8);
        Tensor q = random(REF, c.shape(), 9); Tensor v = random(REF, c.shape(), 10); Tensor jv = REF.zeros(c.shape());
        Tensor up = REF.zeros(c.shape()); Tensor um = REF.zeros(c.shape())) {
      r.linearize(g, u, q).apply(v, jv);
      REF.copy(u, up);
      REF.axpy(h, v, up);
      REF.copy(u, um);
      REF.axpy(-h, v, um);
      float[] fp, fm;
      try (Graph.Scope s = g.noGrad()) {
        fp = r.apply(g, g.constant(up), g.constant(q)).value().toArray();
        fm = r.apply(g, g.constant(um), g.constant(q)).value().toArray();
      }
      float[] fd = new float[fp.length];
      for (int i = 0; i < fd.length; i++) fd[i] = (fp[i] - fm[i]) / (2 * h);
      float[] analytic = jv.toArray();
      assertArrayEquals(fd, analytic, (float) (1e-3 * Math.max(1, maxAbs(analytic))), c.toString());
    }
  }
}
