package io.idemnet.backend.cuda;

import static io.idemnet.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training steps of the paper's networks (B1 5-5, B2 128-256-256-256-256-128, LeakyReLU 0.2)
 * at batch 1000, MB and OB with SGD, on the cuda backend against the CPU backend: same
 * initialisation (the counter-based uniform stream is bit-identical on both), the same input batch
 * (made on the CPU, uploaded), five steps.
 *
 * <p>Tolerances: the backends differ only in GEMM summation order (and FMA contraction) inside
 * each step, a relative error of a few 1e-7 in activations and gradients; after five steps of
 * SGD at lr 0.05 the parameters agree to atol 1e-5 + rtol 1e-4 and each step's loss to rtol 1e-4.
 * The allocator must serve steps 3-5 entirely from its cache (no cudaMalloc).
 */
@Tag("gpu")
class CudaTrainingStepTest {
  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"B1, MODIFIED", "B1, ORDINARY", "B2, MODIFIED", "B2, ORDINARY"})
  void stepsAgreeWithTheCpu(String net, IdempotentLoss.Mode mode) {
    int[] dims = net.equals("B1") ? new int[] {5, 5} : new int[] {128, 256, 256, 256, 256, 128};
    int batch = 1000, steps = 5;
    float lr = 0.05f;
    CudaBackend gpu = GpuAvailable.shared();
    Backend cpu = new CpuBackend();
    Activation act = Activation.leakyRelu(0.2f);
    try (Sequential fc = Sequential.mlp(cpu, 42, act, dims); Sequential fg = Sequential.mlp(gpu, 42, act, dims);
        Graph gc = new Graph(cpu); Graph gg = new Graph(gpu); Tensor xc = cpu.zeros(batch, dims[0])) {
      Map<String, Parameter> pc = fc.namedParameters(), pg = fg.namedParameters();
      for (String name : pc.keySet()) {
        assertEquals(java.util.Arrays.toString(pc.get(name).value().toArray()),
            java.util.Arrays.toString(pg.get(name).value().toArray()), "identical initialisation of " + name);
      }
      Sgd sc = new Sgd(pc, lr), sg = new Sgd(pg, lr);
      long mallocsBeforeStep3 = 0;
      for (int step = 0; step < steps; step++) {
        if (step == 2) mallocsBeforeStep3 = gpu.allocatorStats().deviceMallocs();
        cpu.randomNormal(xc, 1000L + step, 0f, 1f);
        try (Tensor xg = gpu.copyOf(xc)) {
          double lc = cpu.readScalar(IdempotentLoss.trainStep(gc, fc, sc, xc, mode));
          double lg = gpu.readScalar(IdempotentLoss.trainStep(gg, fg, sg, xg, mode));
          assertClose(net + " " + mode + " loss at step " + step, lc, lg, 0, 1e-4);
        }
      }
      for (String name : pc.keySet()) {
        assertClose(net + " " + mode + " parameter " + name + " after " + steps + " steps",
            pc.get(name).value().toArray(), pg.get(name).value().toArray(), 1e-5, 1e-4);
      }
      assertEquals(mallocsBeforeStep3, gpu.allocatorStats().deviceMallocs(),
          "steady-state steps allocate from the cache only: " + gpu.allocatorStats());
    }
  }
}
