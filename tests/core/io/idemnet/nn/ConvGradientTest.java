package io.idemnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Gradients of the convolutional layers through the tape against central finite differences, on
 * the reference backend. The loss is L = sum(G * tanh(f(x))) with a fixed random G (tanh keeps it
 * smooth and bounded). As in IdempotentLossTest: with h = 1e-2 the truncation error is
 * ~h^2 |L'''| / 6 and the float32 rounding of stored activations contributes ~1e-7 |L| / h, both
 * far below the tolerance 2e-3 max|g| (over all checked tensors), which is in turn far below what a wrong index, sign,
 * factor or missing term would give.
 */
class ConvGradientTest {
  private static final Backend REF = new ReferenceBackend();
  private static final float H = 1e-2f;

  private static Tensor normal(int seed, double sd, int... shape) {
    Tensor t = REF.zeros(shape);
    REF.randomNormal(t, seed, 0f, (float) sd);
    return t;
  }

  /**
   * Checks d/d(every element of every tensor in {@code wrt}) of L = sum(G * tanh(f(x))), where
   * {@code analytic} holds the gradients the tape produced for the same tensors.
   */
  private static void check(String what, Map<String, Tensor> wrt, Map<String, float[]> analytic,
      java.util.function.DoubleSupplier loss) {
    // The scale is the largest gradient over all checked tensors: some gradients are exactly zero
    // (a conv bias right before BatchNorm, whose per-channel shift BN removes).
    double maxAbs = 1e-12;
    for (float[] g : analytic.values()) {
      for (float a : g) maxAbs = Math.max(maxAbs, Math.abs(a));
    }
    for (Map.Entry<String, Tensor> e : wrt.entrySet()) {
      Tensor t = e.getValue();
      float[] v = t.toArray(), g = analytic.get(e.getKey());
      for (int i = 0; i < v.length; i++) {
        float saved = v[i];
        v[i] = saved + H;
        t.copyFrom(v);
        double plus = loss.getAsDouble();
        v[i] = saved - H;
        t.copyFrom(v);
        double minus = loss.getAsDouble();
        v[i] = saved;
        t.copyFrom(v);
        assertEquals((plus - minus) / (2 * H), g[i], 2e-3 * maxAbs, what + ": d/d " + e.getKey() + "[" + i + "]");
      }
    }
  }

  /**
   * Runs f on a leaf x, backpropagates G through tanh, and compares the gradients of x and of every
   * parameter of {@code module} with finite differences.
   */
  private static void checkModule(String what, Module module, Tensor x, BiFunction<Graph, Var, Var> extra) {
    try (Graph g = new Graph(REF)) {
      Tensor gSeed;
      module.parameters().forEach(Parameter::zeroGrad);
      Var in = g.leaf(x);
      Var out = g.activation(Activation.TANH, extra.apply(g, module.forward(g, in)));
      gSeed = normal(99, 1, out.shape());
      g.backward(out, gSeed);
      Map<String, Tensor> wrt = new LinkedHashMap<>();
      Map<String, float[]> analytic = new LinkedHashMap<>();
      wrt.put("x", x);
      analytic.put("x", in.grad().toArray());
      module.namedParameters().forEach((k, p) -> {
        wrt.put(k, p.value());
        analytic.put(k, p.grad().toArray());
      });
      float[] gv = gSeed.toArray();
      check(what, wrt, analytic, () -> {
        g.reset();
        try (Graph.Scope s = g.noGrad()) {
          float[] y = g.activation(Activation.TANH, extra.apply(g, module.forward(g, g.constant(x)))).value().toArray();
          double sum = 0;
          for (int i = 0; i < y.length; i++) sum += (double) gv[i] * y[i];
          return sum;
        }
      });
      gSeed.close();
    }
  }

  @Test
  void conv2d() {
    try (Conv2d conv = new Conv2d(REF, 2, 3, 3, 2, 1, true, 5); Tensor x = normal(1, 1, 2, 2, 5, 6)) {
      checkModule("conv2d k3 s2 p1", conv, x, (g, v) -> v);
    }
    try (Conv2d conv = new Conv2d(REF, 2, 2, 4, 1, 0, false, 6); Tensor x = normal(2, 1, 1, 2, 5, 5)) {
      checkModule("conv2d k4 s1 p0 no bias", conv, x, (g, v) -> v);
    }
  }

  @Test
  void convTranspose2d() {
    try (ConvTranspose2d conv = new ConvTranspose2d(REF, 3, 2, 3, 2, 1, 1, true, 7); Tensor x = normal(3, 1, 2, 3, 3, 4)) {
      checkModule("convTranspose2d k3 s2 p1 op1", conv, x, (g, v) -> v);
    }
    try (ConvTranspose2d conv = new ConvTranspose2d(REF, 2, 2, 4, 1, 0, 0, true, 8); Tensor x = normal(4, 1, 1, 2, 3, 3)) {
      checkModule("convTranspose2d k4 s1 p0", conv, x, (g, v) -> v);
    }
  }

  /** Training mode: the batch statistics depend on x, and the gradient must include that path. */
  @Test
  void batchNormTraining() {
    try (BatchNorm2d bn = new BatchNorm2d(REF, 2); Tensor x = normal(5, 2, 3, 2, 3, 3)) {
      randomizeAffine(bn);
      checkModule("batchNorm2d training", bn, x, (g, v) -> v);
    }
    try (BatchNorm2d bn = new BatchNorm2d(REF, 3, 1e-5f, 0.1f, false); Tensor x = normal(6, 1, 2, 3, 2, 1)) {
      checkModule("batchNorm2d training, no affine", bn, x, (g, v) -> v);
    }
  }

  @Test
  void batchNormEvaluation() {
    try (BatchNorm2d bn = new BatchNorm2d(REF, 2); Tensor x = normal(7, 2, 2, 2, 3, 3)) {
      randomizeAffine(bn);
      bn.runningMean().copyFrom(new float[] {0.3f, -0.2f});
      bn.runningVar().copyFrom(new float[] {2f, 0.5f});
      bn.eval();
      checkModule("batchNorm2d eval", bn, x, (g, v) -> v);
    }
  }

  private static void randomizeAffine(BatchNorm2d bn) {
    Random rnd = new Random(3);
    float[] g = bn.weight().value().toArray(), b = bn.bias().value().toArray();
    for (int i = 0; i < g.length; i++) {
      g[i] = (float) (1 + 0.5 * rnd.nextGaussian());
      b[i] = (float) (0.5 * rnd.nextGaussian());
    }
    bn.weight().value().copyFrom(g);
    bn.bias().value().copyFrom(b);
  }

  /**
   * A small IGN-shaped encoder/decoder: conv, BN, tanh (smooth, unlike LeakyReLU whose kink a
   * finite difference could straddle), flatten, linear, reshape, transposed
   * conv, with a fixed dropout mask in the middle; checks that the ops compose on the tape.
   */
  @Test
  void composedEncoderDecoder() {
    Sequential net = new Sequential(new Conv2d(REF, 1, 2, 3, 2, 1, true, 11), new BatchNorm2d(REF, 2),
        ActivationLayer.tanh(), new Flatten(), new Linear(REF, 2 * 3 * 3, 8, true, 12), new Reshape(2, 2, 2),
        new ConvTranspose2d(REF, 2, 1, 4, 2, 1, 0, true, 13));
    try (net; Tensor x = normal(8, 1, 3, 1, 6, 5)) {
      // An odd width: 6x5 -> 3x3 -> 4x4 after the decoder.
      checkModule("encoder/decoder", net, x, (g, v) -> v);
      checkModule("encoder/decoder + dropout", net, x, (g, v) -> g.dropout(v, 0.25f, 42));
    }
  }
}
