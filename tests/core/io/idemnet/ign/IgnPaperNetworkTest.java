package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.nn.BatchNorm2d;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The paper network ({@link IgnNetworks#paper}) against Table 2 of Jensen & Vicary (seed 000, Appendix F). */
class IgnPaperNetworkTest {
  private static final Backend CPU = new CpuBackend();

  /**
   * Table 2 transcribed: layer, kernel, stride, padding, output channels, dropout, BN, activation;
   * the output sides (28 -> 14 -> 7 -> 5 -> 3 -> 1 -> 3 -> 5 -> 7 -> 14 -> 28) follow from the
   * sizes (Table 2 lists none), and are what the layer table measures by running the network.
   */
  private static final List<IgnNetworks.LayerRow> TABLE_2 = List.of(
      row("encoder", "Conv2D", 4, 2, 1, 1, 64, 14, true, false, "LeakyReLU(0.2)"),
      row("encoder", "Conv2D", 4, 2, 1, 64, 128, 7, true, true, "LeakyReLU(0.2)"),
      row("encoder", "Conv2D", 3, 1, 0, 128, 256, 5, true, true, "LeakyReLU(0.2)"),
      row("encoder", "Conv2D", 3, 1, 0, 256, 512, 3, true, true, "LeakyReLU(0.2)"),
      row("encoder", "Conv2D", 3, 1, 0, 512, 512, 1, false, false, "None"),
      row("decoder", "ConvTranspose2D", 3, 1, 0, 512, 256, 3, true, true, "ReLU"),
      row("decoder", "ConvTranspose2D", 3, 1, 0, 256, 128, 5, true, true, "ReLU"),
      row("decoder", "ConvTranspose2D", 3, 1, 0, 128, 64, 7, true, true, "ReLU"),
      row("decoder", "ConvTranspose2D", 4, 2, 1, 64, 32, 14, true, true, "ReLU"),
      row("decoder", "ConvTranspose2D", 4, 2, 1, 32, 1, 28, false, false, "Tanh"));

  private static IgnNetworks.LayerRow row(String part, String layer, int k, int stride, int pad, int in, int out, int side,
      boolean dropout, boolean bn, String act) {
    return new IgnNetworks.LayerRow(part, layer, k, stride, pad, in, out, side, side, dropout ? 0.05f : 0f, bn, act);
  }

  @Test
  void layerTableIsTable2() {
    try (Sequential f = IgnNetworks.Net.PAPER.build(CPU, 1, 1f, 3)) {
      List<IgnNetworks.LayerRow> rows = IgnNetworks.layerTable(CPU, f, 1, 28);
      assertEquals(TABLE_2.size(), rows.size());
      for (int i = 0; i < rows.size(); i++) assertEquals(TABLE_2.get(i), rows.get(i), "row " + (i + 1));
    }
  }

  /** The project's earlier 28x28 network differs from Table 2 (conv3 stride 2, conv5 pad 1, ...): the check can fail. */
  @Test
  void theEarlierNetworkIsNotTable2() {
    try (Sequential f = IgnNetworks.Net.MNIST.build(CPU, 1, 1f, 3)) {
      List<IgnNetworks.LayerRow> rows = IgnNetworks.layerTable(CPU, f, 1, 28);
      assertTrue(!rows.equals(TABLE_2));
      assertEquals(2, rows.get(2).stride(), "conv3 of the earlier network");
    }
  }

  /**
   * "Default Kaiming Uniform": PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
   * biases, fan_in = in x k x k for Conv2d and out x k x k for ConvTranspose2d (PyTorch computes it
   * from the weight's dimension 1). Every value must lie inside the bound, and the largest of
   * n >= 256 values must exceed 0.95 of it (a draw misses that with probability 0.95^n < 2e-6) and
   * the mean must sit within 5 standard errors (bound / sqrt(3 n)) of 0. BatchNorm: weight 1,
   * bias 0.
   */
  @Test
  void initialisationIsPytorchsDefaultKaimingUniform() {
    try (Sequential f = IgnNetworks.Net.PAPER.build(CPU, 1, 1f, 11)) {
      int convs = 0;
      for (Module m : f.children()) {
        double bound;
        List<Parameter> ps;
        if (m instanceof Conv2d c) {
          bound = 1 / Math.sqrt((double) c.inChannels() * c.kernelH() * c.kernelW());
          ps = List.of(c.weight(), c.bias());
        } else if (m instanceof ConvTranspose2d c) {
          bound = 1 / Math.sqrt((double) c.outChannels() * c.kernelH() * c.kernelW());
          ps = List.of(c.weight(), c.bias());
        } else {
          if (m instanceof BatchNorm2d bn) {
            for (var e : bn.namedParameters().entrySet()) {
              float want = e.getKey().equals("weight") ? 1f : 0f;
              for (float v : e.getValue().value().toArray()) assertEquals(want, v, 0f, "BN " + e.getKey());
            }
          }
          continue;
        }
        convs++;
        for (Parameter p : ps) {
          float[] v = p.value().toArray();
          double max = 0, sum = 0;
          for (float x : v) {
            assertTrue(Math.abs(x) <= bound * (1 + 1e-6), m + ": " + x + " outside +-" + bound);
            max = Math.max(max, Math.abs(x));
            sum += x;
          }
          if (v.length >= 256) {
            assertTrue(max > 0.95 * bound, m + ": largest " + max + " of bound " + bound);
            assertEquals(0, sum / v.length, 5 * bound / Math.sqrt(3.0 * v.length), m + " mean");
          }
        }
      }
      assertEquals(10, convs);
    }
  }

  @Test
  void widthScalesEveryChannelCountButTheImage() {
    try (Sequential f = IgnNetworks.Net.PAPER.build(CPU, 1, 0.25f, 3)) {
      List<IgnNetworks.LayerRow> rows = IgnNetworks.layerTable(CPU, f, 1, 28);
      assertEquals(16, rows.get(0).outChannels());
      assertEquals(128, rows.get(4).outChannels());
      assertEquals(1, rows.get(9).outChannels());
      assertEquals(28, rows.get(9).outHeight());
    }
  }
}
