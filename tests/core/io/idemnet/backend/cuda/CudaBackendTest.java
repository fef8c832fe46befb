package io.idemnet.backend.cuda;

import static io.idemnet.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.StepGraph;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What is particular to the cuda backend: bit-identical random streams and dropout masks with the
 * CPU, deterministic reductions, the caching allocator, CUDA graph capture and replay, TF32,
 * lifecycle. Skipped without a GPU.
 */
@Tag("gpu")
class CudaBackendTest {
  private static final Backend CPU = new CpuBackend();

  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  private static float[] normal(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
    return v;
  }

  @Test
  void describesItself() {
    CudaBackend gpu = GpuAvailable.shared();
    assertEquals("cuda", gpu.name());
    assertTrue(!gpu.deviceName().isBlank());
    System.out.println("[gpu tests] device " + gpu.deviceName() + ", GEMM " + gpu.gemmEngine() + ", CUDA versions "
        + java.util.Arrays.toString(CudaBackend.versions()));
  }

  /** Uniform numbers and dropout masks use the same double arithmetic (no FMA) as the CPU: equal bits. */
  @Test
  void uniformAndDropoutAreBitIdenticalToTheCpu() {
    CudaBackend gpu = GpuAvailable.shared();
    for (int n : new int[] {1, 1001, 1 << 20}) {
      try (Tensor uc = CPU.zeros(n); Tensor ug = gpu.zeros(n)) {
        CPU.randomUniform(uc, 77, -3f, 5f);
        gpu.randomUniform(ug, 77, -3f, 5f);
        assertArrayEquals(uc.toArray(), ug.toArray(), "uniform n=" + n);
      }
      float[] xs = normal(new Random(n), n);
      try (Tensor xc = CPU.fromArray(xs, n); Tensor yc = CPU.zeros(n); Tensor xg = gpu.fromArray(xs, n);
          Tensor yg = gpu.zeros(n)) {
        CPU.dropout(xc, 0.3f, 99, yc);
        gpu.dropout(xg, 0.3f, 99, yg);
        assertArrayEquals(yc.toArray(), yg.toArray(), "dropout n=" + n);
      }
      // Normal: CUDA's double log/cos against libm; equal after rounding to float but for rare 1-ulp cases.
      try (Tensor gc = CPU.zeros(n); Tensor gg = gpu.zeros(n)) {
        CPU.randomNormal(gc, 5, 0f, 1f);
        gpu.randomNormal(gg, 5, 0f, 1f);
        assertClose("normal n=" + n, gc.toArray(), gg.toArray(), 2 * Math.ulp(8f), 2 * Math.ulp(1f));
      }
    }
  }

  /** Fixed-order reductions: the same input gives the same bits every time. */
  @Test
  void reductionsAreDeterministic() {
    CudaBackend gpu = GpuAvailable.shared();
    int n = 3_000_017;
    float[] xs = normal(new Random(3), n);
    try (Tensor x = gpu.fromArray(xs, n); Tensor out = gpu.zeros(n); Tensor cols = gpu.zeros(17)) {
      double s = gpu.sum(x), q = gpu.sumOfSquares(x), l = gpu.corrector(0.5f, x, x, x, out, true);
      for (int rep = 0; rep < 5; rep++) {
        assertEquals(Double.doubleToRawLongBits(s), Double.doubleToRawLongBits(gpu.sum(x)), "sum");
        assertEquals(Double.doubleToRawLongBits(q), Double.doubleToRawLongBits(gpu.sumOfSquares(x)), "sumOfSquares");
        assertEquals(Double.doubleToRawLongBits(l),
            Double.doubleToRawLongBits(gpu.corrector(0.5f, x, x, x, out, true)), "corrector loss");
      }
      try (Tensor x2 = gpu.fromArray(java.util.Arrays.copyOf(xs, 17 * 1000), 1000, 17)) {
        gpu.sumRows(x2, cols, false);
        float[] first = cols.toArray();
        gpu.sumRows(x2, cols, false);
        assertArrayEquals(first, cols.toArray(), "sumRows");
      }
      double exact = 0;
      for (float v : xs) exact += v;
      assertClose("sum vs Java", exact, s, 1e-9 * n, 0);
    }
  }

  @Test
  void allocatorReusesBlocks() {
    CudaBackend gpu = GpuAvailable.shared();
    for (int i = 0; i < 3; i++) {
      try (Tensor a = gpu.zeros(1000, 128); Tensor b = gpu.zeros(77)) {
        gpu.fill(a, 1f);
        gpu.fill(b, 2f);
      }
    }
    CudaBackend.AllocatorStats before = gpu.allocatorStats();
    for (int i = 0; i < 100; i++) {
      try (Tensor a = gpu.zeros(1000, 128); Tensor b = gpu.zeros(77)) {
        gpu.fill(a, 1f);
        assertEquals(0.0, gpu.sum(b), "allocations are zeroed");
      }
    }
    CudaBackend.AllocatorStats after = gpu.allocatorStats();
    assertEquals(before.deviceMallocs(), after.deviceMallocs(), "no cudaMalloc in steady state: " + after);
    assertTrue(after.cacheHits() >= before.cacheHits() + 200, after.toString());
    assertEquals(before.bytesInUse(), after.bytesInUse(), "everything closed was returned");
  }

  /**
   * A single-layer MB step (y = x W^T, f(y), f(f(y)), corrector, dW = g^T x, SGD) queued through
   * backend calls only: captured once and replayed it gives exactly the eager results.
   */
  @Test
  void capturedStepReplaysExactlyTheEagerStep() {
    CudaBackend gpu = GpuAvailable.shared();
    int batch = 1000, d = 64;
    Random rnd = new Random(9);
    float[] w0 = normal(rnd, d * d), xs = normal(rnd, batch * d);
    for (int i = 0; i < w0.length; i++) w0[i] *= 0.1f;
    try (Tensor we = gpu.fromArray(w0, d, d); Tensor wg = gpu.fromArray(w0, d, d); Tensor x = gpu.fromArray(xs, batch, d);
        Tensor y = gpu.zeros(batch, d); Tensor fy = gpu.zeros(batch, d); Tensor ffy = gpu.zeros(batch, d);
        Tensor g = gpu.zeros(batch, d); Tensor dw = gpu.zeros(d, d)) {
      Runnable stepOnEager = () -> mbStep(gpu, we, x, y, fy, ffy, g, dw);
      Runnable stepOnGraph = () -> mbStep(gpu, wg, x, y, fy, ffy, g, dw);
      for (int i = 0; i < 4; i++) stepOnEager.run();
      try (StepGraph graph = gpu.record(stepOnGraph)) {
        assertArrayEquals(w0, wg.toArray(), "capturing does not run the step");
        for (int i = 0; i < 4; i++) graph.replay();
        assertArrayEquals(we.toArray(), wg.toArray(), "4 replays equal 4 eager steps, bit for bit");
      }
    }
  }

  private static void mbStep(Backend be, Tensor w, Tensor x, Tensor y, Tensor fy, Tensor ffy, Tensor g, Tensor dw) {
    be.gemm(false, true, 1f, x, w, 0f, y);
    be.gemm(false, true, 1f, y, w, 0f, fy);
    be.gemm(false, true, 1f, fy, w, 0f, ffy);
    be.corrector(-1f / x.dim(0), fy, ffy, y, g, false);
    be.gemm(true, false, 1f, g, x, 0f, dw);
    be.sgdUpdate(w, dw, null, 0.01f, 0f, 0f);
  }

  @Test
  void hostAccessInsideACaptureIsAClearErrorAndTheBackendRecovers() {
    CudaBackend gpu = GpuAvailable.shared();
    try (Tensor x = gpu.full(2f, 10)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.record(() -> gpu.sum(x)));
      assertTrue(e.getMessage().contains("recorded step"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> gpu.record(() -> x.toArray()));
      assertTrue(!gpu.isRecording(), "the backend left the recording state");
      assertEquals(20.0, gpu.sum(x), "usable after an abandoned capture");
    }
  }

  /**
   * A block that a recorded step allocates and frees stays out of the caching allocator while the
   * graph exists (a later allocation of the same size gets another block, so replays cannot
   * overwrite it), and goes back when the graph is closed.
   */
  @Test
  void blocksOfALiveGraphStayOutOfTheCache() {
    CudaBackend gpu = GpuAvailable.shared();
    try (Tensor out = gpu.zeros(1000)) {
      long before = gpu.allocatorStats().bytesInUse();
      Tensor[] inside = new Tensor[1];
      StepGraph g = gpu.record(() -> {
        inside[0] = gpu.zeros(1000);
        gpu.fill(inside[0], 1f);
        gpu.add(out, inside[0], out);
        inside[0].close();
      });
      assertTrue(gpu.allocatorStats().bytesInUse() > before, "the closed block is held: " + gpu.allocatorStats());
      try (Tensor other = gpu.zeros(1000)) {
        gpu.fill(other, 7f);
        g.replay();
        g.replay();
        float[] twos = new float[1000], sevens = new float[1000];
        java.util.Arrays.fill(twos, 2f);
        java.util.Arrays.fill(sevens, 7f);
        assertArrayEquals(twos, out.toArray(), "two replays add 1 each");
        assertArrayEquals(sevens, other.toArray(), "the replays did not write into a block handed out again");
      }
      g.close();
      assertEquals(before, gpu.allocatorStats().bytesInUse(), "returned when the graph closed");
    }
  }

  /** A backend that cannot start a capture (here: closed) throws before entering the recording state. */
  @Test
  void aFailedCaptureStartLeavesNoRecordingState() {
    CudaBackend gpu = new CudaBackend();
    gpu.close();
    assertThrows(IllegalStateException.class, () -> gpu.record(() -> {}));
    assertTrue(!gpu.isRecording(), "not stuck in the recording state");
  }

  /**
   * TF32 off by default; on, GEMMs stay within TF32's error bound. Against the exact product
   * (computed in double), with u_t = 2^-10 (TF32 keeps 10 explicit mantissa bits; truncating or
   * rounding an input changes it by at most u_t relative) and u = 2^-24 (float32 accumulation):
   * each product of converted inputs is off by at most (2 u_t + u_t^2) |a||b|, and summing k of
   * them in float32 in any order adds at most k u (1 + u_t)^2 sum |a||b|, so
   * |err_ij| <= (2 u_t + u_t^2 + k u (1 + u_t)^2) (|A||B|)_ij <= 2 sqrt(k) u_t (|A||B|)_ij
   * for 4 <= k <= 2^28 (where sqrt(k) u_t >= u_t + u_t^2 / 2 + k u (1 + u_t)^2 / 2). That is the
   * stated c = 2 of |err| <= c sqrt(k) 2^-10 (|A||B|)_ij. Without TF32 the float32 bound of a
   * k-term dot product in any order applies: |err_ij| <= (k + 2) u (|A||B|)_ij + u |ref_ij|.
   */
  @Test
  void tf32IsOptInAndStaysClose() {
    CudaBackend gpu = GpuAvailable.shared();
    int m = 256, k = 512, n = 256;
    Random rnd = new Random(4);
    float[] av = normal(rnd, m * k), bv = normal(rnd, k * n);
    assertTrue(!gpu.tf32(), "TF32 is off by default");
    double[] exact = new double[m * n], absProduct = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int p = 0; p < k; p++) {
        double a = av[i * k + p];
        for (int j = 0; j < n; j++) {
          exact[i * n + j] += a * bv[p * n + j];
          absProduct[i * n + j] += Math.abs(a * bv[p * n + j]);
        }
      }
    }
    try (Tensor a = gpu.fromArray(av, m, k); Tensor b = gpu.fromArray(bv, k, n); Tensor c32 = gpu.zeros(m, n);
        Tensor ctf = gpu.zeros(m, n)) {
      gpu.gemm(false, false, 1f, a, b, 0f, c32);
      gpu.setTf32(true);
      try {
        gpu.gemm(false, false, 1f, a, b, 0f, ctf);
      } finally {
        gpu.setTf32(false);
      }
      double u = Math.ulp(1.0f) / 2, ut = 0x1p-10;
      float[] fp32 = c32.toArray(), tf = ctf.toArray();
      double worstTf32 = 0;
      for (int i = 0; i < m * n; i++) {
        double fp32Bound = (k + 2) * u * absProduct[i] + u * Math.abs(exact[i]);
        assertTrue(Math.abs(fp32[i] - exact[i]) <= fp32Bound,
            "fp32 gemm element " + i + ": " + fp32[i] + " vs exact " + exact[i] + ", bound " + fp32Bound);
        double tf32Bound = 2 * Math.sqrt(k) * ut * absProduct[i];
        assertTrue(Math.abs(tf[i] - exact[i]) <= tf32Bound,
            "tf32 gemm element " + i + ": " + tf[i] + " vs exact " + exact[i] + ", bound " + tf32Bound);
        worstTf32 = Math.max(worstTf32, Math.abs(tf[i] - exact[i]) / absProduct[i]);
      }
      System.out.println("[gpu tests] tf32 worst |err| / (|A||B|): " + worstTf32 + " (bound " + 2 * Math.sqrt(k) * ut
          + "); fp32 and tf32 differ by at most " + maxDiff(fp32, tf));
    }
  }

  private static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  @Test
  void closedBackendRefusesWork() {
    CudaBackend own = new CudaBackend();
    Tensor t = own.full(1f, 4);
    own.close();
    own.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> own.zeros(3));
    assertThrows(IllegalStateException.class, own::synchronize);
    t.close(); // its memory went with the context; closing the tensor is harmless
    assertNotEquals(own, GpuAvailable.shared());
  }
}
