package io.idemnet.fpn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.fpn.FixedPointNetwork.BackwardMode;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.Flatten;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import io.idemnet.testing.FiniteDifferences;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ConvLatentMapTest {
  private static final Backend REF = new ReferenceBackend();

  /** After rescaling, ||A x|| <= gamma ||x|| for random x (A: the 3x3 convolution on one map stack). */
  @Test
  void contractionIsEnforcedOnTheConvolutionOperator() {
    try (ConvLatentMap r = new ConvLatentMap(REF, 3, 5, 5, 0.5f, 7)) {
      float[] w = r.weight().value().toArray();
      for (int i = 0; i < w.length; i++) w[i] = (i % 5) - 2f;
      r.weight().value().copyFrom(w);
      assertTrue(r.enforceContraction(200) > 0.5, "the big weights were not contractive");
      r.enforceContraction(200);
      try (Tensor x = REF.zeros(1, 3, 5, 5); Tensor ax = REF.zeros(1, 3, 5, 5)) {
        for (long seed = 0; seed < 20; seed++) {
          REF.randomNormal(x, seed, 0f, 1f);
          REF.conv2d(x, r.weight().value(), null, ConvSpec.of(1, 1), ax);
          double ratio = Math.sqrt(REF.sumOfSquares(ax) / REF.sumOfSquares(x));
          // The power-iteration estimate converges from below; 1e-3 covers its remaining gap.
          assertTrue(ratio <= 0.5 + 1e-3, "||Ax||/||x|| = " + ratio);
        }
      }
    }
  }

  /** The implicit gradient of a convolutional FPN matches finite differences (see FixedPointNetworkTest). */
  @ParameterizedTest
  @EnumSource(value = BackwardMode.class, names = {"NEUMANN", "CG"})
  void implicitGradientOfAConvolutionalFpn(BackwardMode mode) {
    Sequential q = new Sequential(new Conv2d(REF, 1, 2, 3, 1, 1, true, 1), new ActivationLayer(Activation.TANH));
    ConvLatentMap r = new ConvLatentMap(REF, 2, 3, 3, 0.5f, 2);
    Sequential s = new Sequential(new Flatten(), new Linear(REF, 18, 3, true, 3));
    int[] labels = {0, 2};
    try (FixedPointNetwork f = new FixedPointNetwork(REF, q, r, s).tolerance(1e-7, 200)
            .backward(mode, 200, 1e-9);
        Tensor x = REF.zeros(2, 1, 3, 3); Graph g = new Graph(REF)) {
      REF.randomNormal(x, 4, 0f, 1f);
      f.parameters().forEach(Parameter::zeroGrad);
      g.backward(g.crossEntropy(f.forward(g, g.constant(x)), labels));
      assertTrue(f.lastStats().converged());
      FiniteDifferences.assertGradients("conv FPN implicit " + mode, f.namedParameters(), () -> {
        g.reset();
        try (Graph.Scope sc = g.noGrad()) {
          return g.crossEntropy(f.forward(g, g.constant(x)), labels).value().toArray()[0];
        }
      }, 1e-2f, 3e-3);
      assertEquals(5, f.namedParameters().size());
    }
  }
}
