package io.idemnet.nn;

import static io.idemnet.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Semantics of the convolutional modules: PyTorch's definitions, initialisation, names and modes. */
class ConvModulesTest {
  private static final Backend REF = new ReferenceBackend();
  private static final CpuBackend CPU = new CpuBackend();

  private static Backend backend(String name) {
    return name.equals("cpu") ? CPU : REF;
  }

  /** conv2d is a cross-correlation (kernel not flipped), as in PyTorch; values worked out by hand. */
  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void conv2dAndTransposeOnHandWorkedExamples(String name) {
    Backend be = backend(name);
    try (Tensor x = be.fromArray(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
        Tensor w = be.fromArray(new float[] {1, 2, 3, 4}, 1, 1, 2, 2); Tensor y = be.zeros(1, 1, 2, 2);
        Tensor x2 = be.fromArray(new float[] {1, 2, 3, 4}, 1, 1, 2, 2); Tensor y2 = be.zeros(1, 1, 3, 3);
        Tensor ones = be.full(1f, 1, 1, 2, 2); Tensor y3 = be.zeros(1, 1, 4, 4); Tensor b = be.fromArray(new float[] {10}, 1);
        Tensor y5 = be.zeros(1, 1, 2, 2)) {
      be.conv2d(x, w, null, ConvSpec.of(1, 0), y);
      assertArrayEquals(new float[] {37, 47, 67, 77}, y.toArray());
      // Transposed, stride 1: every input pixel adds x[i, j] * w to the 2x2 block at (i, j).
      be.convTranspose2d(x2, w, null, ConvSpec.of(1, 0), y2);
      assertArrayEquals(new float[] {1, 4, 4, 6, 20, 16, 9, 24, 16}, y2.toArray());
      // Transposed, stride 2, kernel of ones: each pixel becomes a 2x2 block.
      be.convTranspose2d(x2, ones, null, ConvSpec.of(2, 0), y3);
      assertArrayEquals(new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, y3.toArray());
      // Stride 2, padding 1, 2x2 kernel of ones, bias 10: windows over the zero-padded image at
      // rows/cols {-1, 0} and {1, 2}.
      be.conv2d(x, ones, b, ConvSpec.of(2, 1), y5);
      assertArrayEquals(new float[] {10 + 1, 10 + 2 + 3, 10 + 4 + 7, 10 + 5 + 6 + 8 + 9}, y5.toArray());
    }
  }

  /** <conv2d(x, W), y> = <x, conv_transpose2d(y, W)>: the transposed convolution is the adjoint. */
  @Test
  void transposedConvolutionIsTheAdjoint() {
    ConvSpec spec = new ConvSpec(2, 1, 1, 0);
    int n = 2, c = 3, o = 4, h = 9, w = 6, kh = 3, kw = 2;
    int ho = spec.convOutH(h, kh), wo = spec.convOutW(w, kw);
    try (Tensor x = CPU.zeros(n, c, h, w); Tensor wt = CPU.zeros(o, c, kh, kw); Tensor y = CPU.zeros(n, o, ho, wo);
        Tensor cx = CPU.zeros(n, o, ho, wo); Tensor ty = CPU.zeros(n, c, h, w)) {
      CPU.randomNormal(x, 1, 0f, 1f);
      CPU.randomNormal(wt, 2, 0f, 1f);
      CPU.randomNormal(y, 3, 0f, 1f);
      CPU.conv2d(x, wt, null, spec, cx);
      CPU.convTranspose2d(y, wt, null, spec, ty); // weight [O, C] read as [Cin, Cout]
      double left = dot(cx, y), right = dot(x, ty);
      // Both are sums of the same ~n*o*ho*wo*c*kh*kw products; float rounding ~1e-6 of sum|terms|.
      assertClose("adjoint", left, right, 1e-5 * Math.sqrt(n * o * ho * wo * c * kh * kw), 0);
    }
  }

  private static double dot(Tensor a, Tensor b) {
    float[] u = a.toArray(), v = b.toArray();
    double s = 0;
    for (int i = 0; i < u.length; i++) s += (double) u[i] * v[i];
    return s;
  }

  @Test
  void pytorchDefaultInitialisationAndNames() {
    try (Conv2d conv = new Conv2d(REF, 3, 8, 5, 1, 2, true, 1);
        ConvTranspose2d convT = new ConvTranspose2d(REF, 8, 4, 3, 2, 1, 1, true, 2)) {
      assertEquals(List.of("weight", "bias"), List.copyOf(conv.namedParameters().keySet()));
      assertArrayEquals(new int[] {8, 3, 5, 5}, conv.weight().shape());
      assertArrayEquals(new int[] {8}, conv.bias().shape());
      assertWithin("Conv2d weight", conv.weight(), 1 / Math.sqrt(3 * 25));
      assertWithin("Conv2d bias", conv.bias(), 1 / Math.sqrt(3 * 25));

      // PyTorch's fan_in for ConvTranspose2d is weight.size(1) * k * k = out * k * k.
      assertEquals(List.of("weight", "bias"), List.copyOf(convT.namedParameters().keySet()));
      assertArrayEquals(new int[] {8, 4, 3, 3}, convT.weight().shape());
      assertWithin("ConvTranspose2d weight", convT.weight(), 1 / Math.sqrt(4 * 9));
      assertWithin("ConvTranspose2d bias", convT.bias(), 1 / Math.sqrt(4 * 9));
      assertEquals("Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))", conv.toString());
      assertEquals("ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))",
          convT.toString());
    }
  }

  /** All values inside (-bound, bound) and spread over it (so the bound is not too small either). */
  private static void assertWithin(String what, Parameter p, double bound) {
    double max = 0;
    for (float v : p.value().toArray()) {
      assertTrue(Math.abs(v) <= bound, what + ": " + v + " outside +-" + bound);
      max = Math.max(max, Math.abs(v));
    }
    assertTrue(max > 0.5 * bound, what + ": values spread over less than half of +-" + bound);
  }

  @Test
  void batchNormBuffersAndModes() {
    Sequential net = new Sequential(new Conv2d(REF, 1, 2, 3, 1, 1, false, 1), new BatchNorm2d(REF, 2),
        new Dropout(0.5f, 3));
    try (net; Tensor x = REF.zeros(4, 1, 3, 3); Graph g = new Graph(REF)) {
      REF.randomNormal(x, 9, 1f, 2f);
      assertEquals(List.of("0.weight", "1.weight", "1.bias"), List.copyOf(net.namedParameters().keySet()));
      assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(net.namedBuffers().keySet()));
      BatchNorm2d bn = (BatchNorm2d) net.children().get(1);
      Dropout drop = (Dropout) net.children().get(2);
      assertArrayEquals(new float[] {0, 0}, bn.runningMean().toArray());
      assertArrayEquals(new float[] {1, 1}, bn.runningVar().toArray());

      net.forward(g, g.constant(x));
      float[] rm = bn.runningMean().toArray();
      assertFalse(rm[0] == 0f && rm[1] == 0f, "training updates the running mean");

      net.eval();
      assertFalse(bn.isTraining());
      assertFalse(drop.isTraining());
      g.reset();
      Var in = g.constant(x);
      Var h = net.children().get(0).forward(g, in);
      assertSame(h, drop.forward(g, h), "dropout is the identity in evaluation mode");
      net.forward(g, in);
      assertArrayEquals(rm, bn.runningMean().toArray(), "evaluation leaves the running statistics alone");
      net.train(true);
      assertTrue(bn.isTraining() && drop.isTraining());
    }
  }

  @Test
  void dropoutModuleDrawsAFreshMaskPerCall() {
    Dropout drop = new Dropout(0.5f, 17);
    try (Tensor x = REF.full(1f, 2, 500); Graph g = new Graph(REF)) {
      float[] first = drop.forward(g, g.constant(x)).value().toArray();
      float[] second = drop.forward(g, g.constant(x)).value().toArray();
      assertFalse(java.util.Arrays.equals(first, second), "two calls, two masks");
      Dropout again = new Dropout(0.5f, 17);
      assertArrayEquals(first, again.forward(g, g.constant(x)).value().toArray(), "reproducible from the seed");
    }
  }

  @Test
  void flattenAndReshape() {
    try (Tensor x = REF.zeros(2, 3, 2, 2); Tensor seed = REF.zeros(2, 12); Graph g = new Graph(REF)) {
      float[] v = new float[24];
      for (int i = 0; i < 24; i++) v[i] = i;
      x.copyFrom(v);
      seed.copyFrom(v);
      Var in = g.leaf(x);
      Var flat = new Flatten().forward(g, in);
      assertArrayEquals(new int[] {2, 12}, flat.shape());
      assertArrayEquals(v, flat.value().toArray());
      Var back = new Reshape(3, -1).forward(g, flat);
      assertArrayEquals(new int[] {2, 3, 4}, back.shape());
      Var again = g.flatten(back);
      g.backward(again, seed);
      assertArrayEquals(new int[] {2, 3, 2, 2}, in.grad().shape());
      assertArrayEquals(v, in.grad().toArray(), "reshapes pass the gradient through unchanged");
    }
  }

  /** A steady-state training step of a conv net allocates no new workspace buffers. */
  @Test
  void workspaceIsReusedAcrossSteps() {
    Sequential net = new Sequential(new Conv2d(CPU, 1, 4, 3, 2, 1, true, 1), new BatchNorm2d(CPU, 4),
        ActivationLayer.relu(), new Dropout(0.1f, 2), new ConvTranspose2d(CPU, 4, 1, 4, 2, 1, 0, true, 3));
    try (net; Tensor x = CPU.zeros(3, 1, 8, 8); Graph g = new Graph(CPU)) {
      CPU.randomNormal(x, 4, 0f, 1f);
      int size = -1;
      for (int step = 0; step < 3; step++) {
        g.reset();
        Var out = net.forward(g, g.constant(x));
        assertArrayEquals(new int[] {3, 1, 8, 8}, out.shape());
        Var loss = g.mseLoss(out, g.constant(x));
        g.backward(loss);
        if (step == 1) size = g.workspace().size();
        if (step == 2) assertEquals(size, g.workspace().size());
      }
      for (Parameter p : net.parameters()) assertTrue(CPU.isFinite(p.grad()) && CPU.sumOfSquares(p.grad()) > 0);
    }
  }
}
