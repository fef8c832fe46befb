package io.idemnet.idempotent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.idempotent.IdempotentLoss.Mode;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.util.Map;
import java.util.function.DoubleSupplier;
import io.idemnet.testing.FiniteDifferences;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Gradients of the idempotent loss. The reference backend stores float32 and computes in double;
 * central differences with h = 1e-2 on a tanh network have truncation error ~h^2 |f'''| / 6 ~ 2e-5
 * and rounding noise ~1e-8 / h ~ 1e-6, so gradients are compared with atol = 2e-3 max|g|: far below
 * the errors a wrong factor, sign or transposition would make.
 */
class IdempotentLossTest {
  private static final Backend REF = new ReferenceBackend();

  private static Sequential smallNet(Backend be, Activation act) {
    return new Sequential(new Linear(be, 3, 4, true, 10), new ActivationLayer(act), new Linear(be, 4, 3, true, 20),
        new ActivationLayer(act));
  }

  private static Tensor batch(Backend be, int rows, int cols, long seed) {
    Tensor x = be.zeros(rows, cols);
    be.randomNormal(x, seed, 0f, 1f);
    return x;
  }

  @ParameterizedTest
  @EnumSource(names = {"TANH", "SIGMOID"}, value = Activation.Kind.class)
  void ordinaryGradientEqualsFiniteDifferences(Activation.Kind kind) {
    Activation act = kind == Activation.Kind.TANH ? Activation.TANH : Activation.SIGMOID;
    try (Sequential f = smallNet(REF, act); Tensor x = batch(REF, 5, 3, 1); Graph g = new Graph(REF)) {
      f.parameters().forEach(Parameter::zeroGrad);
      double loss = REF.readScalar(IdempotentLoss.backward(g, f, x, Mode.ORDINARY));
      assertEquals(loss, IdempotentLoss.error(g, f, x), 1e-6 * Math.abs(loss), "loss value");
      FiniteDifferences.assertGradients("OB " + act, f.namedParameters(), () -> IdempotentLoss.error(g, f, x), 1e-2f, 2e-3);
    }
  }

  /**
   * MB's gradient is, by construction, the gradient of the surrogate S(theta) = sum(G * f_theta(x))
   * with G = -(3 f(y) - 2 f(f(y)) - y) / N held fixed at the current parameters. Checked two ways:
   * by finite differences of S, and by backpropagating an explicitly computed G.
   */
  @Test
  void modifiedGradientIsTheChainRuleThroughOneApplication() {
    try (Sequential f = smallNet(REF, Activation.TANH); Tensor x = batch(REF, 6, 3, 2); Graph g = new Graph(REF)) {
      int n = x.dim(0);
      // G computed by hand from f(x), f(f(x)), f(f(f(x))).
      float[] y, fy, ffy;
      try (Graph.Scope s = g.noGrad()) {
        Var yv = f.forward(g, g.constant(x));
        Var fyv = f.forward(g, yv);
        Var ffyv = f.forward(g, fyv);
        y = yv.value().toArray();
        fy = fyv.value().toArray();
        ffy = ffyv.value().toArray();
      }
      float[] gExplicit = new float[y.length];
      for (int i = 0; i < y.length; i++) gExplicit[i] = (float) (-(3.0 * fy[i] - 2.0 * ffy[i] - y[i]) / n);

      f.parameters().forEach(Parameter::zeroGrad);
      g.reset();
      IdempotentLoss.backward(g, f, x, Mode.MODIFIED);
      Map<String, float[]> mb = new java.util.LinkedHashMap<>();
      f.namedParameters().forEach((k, p) -> mb.put(k, p.grad().toArray()));

      f.parameters().forEach(Parameter::zeroGrad);
      g.reset();
      try (Tensor gt = REF.fromArray(gExplicit, x.shape())) {
        Var out = f.forward(g, g.constant(x));
        g.backward(out, gt);
        f.namedParameters().forEach((k, p) ->
            io.idemnet.testing.Close.assertClose("MB vs explicit chain rule " + k, p.grad().toArray(), mb.get(k), 1e-7, 1e-6));

        DoubleSupplier surrogate = () -> {
          try (Graph.Scope s = g.noGrad()) {
            float[] out2 = f.forward(g, g.constant(x)).value().toArray();
            double sum = 0;
            for (int i = 0; i < out2.length; i++) sum += (double) gExplicit[i] * out2[i];
            return sum;
          }
        };
        FiniteDifferences.assertGradients("MB surrogate", f.namedParameters(), surrogate, 1e-2f, 2e-3);
      }
    }
  }

  /**
   * One bias-free linear layer y = x W^T: MB's weight gradient is exactly
   * M1: dW = -(3W^2 - 2W^3 - W) X^T X / N ({@link LinearM1}, in double).
   */
  @Test
  void modifiedEqualsM1ForOneLinearLayer() {
    int d = 4, n = 7;
    try (Linear f = new Linear(REF, d, d, false, 3); Tensor x = batch(REF, n, d, 4); Graph g = new Graph(REF)) {
      f.weight().zeroGrad();
      IdempotentLoss.backward(g, f, x, Mode.MODIFIED);
      double[][] m1 = LinearM1.m1Gradient(toMatrix(f.weight().value().toArray(), d, d), toMatrix(x.toArray(), n, d));
      float[] expected = new float[d * d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) expected[i * d + j] = (float) m1[i][j];
      }
      io.idemnet.testing.Close.assertClose("MB vs M1", expected, f.weight().grad().toArray(), 1e-6, 1e-5);
    }
  }

  /** A few hundred SGD steps of B1 (5-5, LeakyReLU 0.2, batch 1000, fresh N(0,1) data) lower the error. */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void b1TrainingReducesTheIdempotentError(Mode mode) {
    Backend cpu = new CpuBackend();
    try (Sequential f = Sequential.mlp(cpu, 7, Activation.leakyRelu(0.2f), 5, 5); Graph g = new Graph(cpu);
        Sgd opt = new Sgd(f.namedParameters(), mode == Mode.MODIFIED ? 0.05f : 0.5f); Tensor x = cpu.zeros(1000, 5);
        Tensor probe = batch(cpu, 1000, 5, 999)) {
      double before = IdempotentLoss.error(g, f, probe);
      for (int step = 0; step < 300; step++) {
        cpu.randomNormal(x, 1000 + step, 0f, 1f);
        double loss = cpu.readScalar(IdempotentLoss.trainStep(g, f, opt, x, mode));
        assertTrue(Double.isFinite(loss), "loss finite at step " + step);
      }
      g.reset();
      double after = IdempotentLoss.error(g, f, probe);
      assertTrue(after < 0.5 * before, mode + ": idempotent error " + before + " -> " + after);
    }
  }

  @Test
  void nonSquareModuleIsRejected() {
    try (Linear f = new Linear(REF, 3, 2, true, 1); Tensor x = batch(REF, 4, 3, 1); Graph g = new Graph(REF)) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> IdempotentLoss.backward(g, f, x, Mode.MODIFIED));
      assertTrue(e.getMessage().contains("R^n -> R^n"), e.getMessage());
    }
  }

  static double[][] toMatrix(float[] v, int rows, int cols) {
    double[][] m = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) m[i][j] = v[i * cols + j];
    }
    return m;
  }

}
