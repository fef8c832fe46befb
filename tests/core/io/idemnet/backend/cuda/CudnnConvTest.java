package io.idemnet.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.StepGraph;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuDNN convolution path against the im2col + GEMM path (a second backend with cuDNN switched
 * off), its run-to-run determinism, and its rule that algorithms are chosen outside graph
 * captures. Both paths are checked against the reference by {@link CudaConvKernelsTest} and
 * {@link CudaIm2colConvKernelsTest}; here they are compared with each other on the networks'
 * shapes. Skipped without a GPU, and where cuDNN is not in use.
 *
 * <p>Tolerance: each path is within (K + 2) u s + u |ref| of the exact result (the float32 sum of
 * K products in any order, s = the same sum of absolute values, u = 2^-24; see ConvKernelsTest),
 * so the two differ by at most twice that.
 */
@Tag("gpu")
class CudnnConvTest {
  private static final double U = Math.ulp(1.0f) / 2;
  private static final Backend REF = new ReferenceBackend();
  private final List<Tensor> open = new ArrayList<>();

  @BeforeAll
  static void gpu() {
    GpuAvailable.assumeGpu();
  }

  private static CudaBackend cudnn() {
    CudaBackend gpu = GpuAvailable.shared();
    assumeTrue(gpu.usesCudnn(), () -> "cuDNN is not in use: " + gpu.convEngine());
    return gpu;
  }

  @AfterEach
  void closeAll() {
    open.forEach(Tensor::close);
    open.clear();
  }

  private Tensor on(Backend be, float[] data, int... shape) {
    Tensor t = be.fromArray(data, shape);
    open.add(t);
    return t;
  }

  private static float[] normal(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
    return v;
  }

  private static float[] abs(float[] v) {
    float[] a = new float[v.length];
    for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
    return a;
  }

  /** The IGN generator's and critic's convolutions, FPN's latent conv, a 1x1 and an odd case. */
  static Stream<Arguments> shapes() {
    return Stream.of(
        Arguments.of(8, 1, 64, 28, 28, 4, 4, 2, 1),
        Arguments.of(8, 64, 128, 14, 14, 4, 4, 2, 1),
        Arguments.of(8, 128, 256, 7, 7, 3, 3, 2, 1),
        Arguments.of(16, 48, 48, 7, 7, 3, 3, 1, 1),
        Arguments.of(4, 32, 16, 9, 9, 1, 1, 1, 0),
        Arguments.of(3, 5, 7, 11, 9, 3, 3, 1, 1));
  }

  /** Element i of got and other differ by at most 2 ((K + 2) u s_i + u |ref_i|). */
  private static void assertPathsAgree(String what, float[] got, float[] other, float[] ref, float[] s, int k) {
    for (int i = 0; i < got.length; i++) {
      double tol = 2 * ((k + 2) * U * s[i] + U * Math.abs(ref[i]));
      if (!(Math.abs((double) got[i] - other[i]) <= tol)) {
        fail(String.format("%s: element %d of %d: cuDNN %.9g, im2col %.9g, bound %.3g", what, i, got.length, got[i],
            other[i], tol));
      }
    }
  }

  @ParameterizedTest(name = "n={0} c={1} o={2} {3}x{4} k={5}x{6} s={7} p={8}")
  @MethodSource("shapes")
  void cudnnAgreesWithIm2col(int n, int c, int o, int h, int w, int kh, int kw, int stride, int pad) {
    CudaBackend gpu = cudnn(), im2col = GpuAvailable.im2col();
    ConvSpec spec = ConvSpec.of(stride, pad);
    int ho = spec.convOutH(h, kh), wo = spec.convOutW(w, kw);
    Random rnd = new Random(31L * n + 7L * c + o + h);
    float[] x = normal(rnd, n * c * h * w), wt = normal(rnd, o * c * kh * kw), b = normal(rnd, o);
    float[] dy = normal(rnd, n * o * ho * wo), dw0 = normal(rnd, o * c * kh * kw);
    Backend[] paths = {gpu, im2col, REF, REF};
    float[][][] outs = new float[4][][];
    for (int p = 0; p < 4; p++) {
      Backend be = paths[p];
      boolean absolute = p == 3; // the reference on |data|: the sums s of the bound
      float[] xv = absolute ? abs(x) : x, wv = absolute ? abs(wt) : wt, bv = absolute ? abs(b) : b;
      float[] dyv = absolute ? abs(dy) : dy, dwv = absolute ? abs(dw0) : dw0;
      Tensor xt = on(be, xv, n, c, h, w), wtt = on(be, wv, o, c, kh, kw), bt = on(be, bv, o);
      Tensor dyt = on(be, dyv, n, o, ho, wo);
      Tensor y = on(be, new float[n * o * ho * wo], n, o, ho, wo), dx = on(be, new float[n * c * h * w], n, c, h, w);
      Tensor dwFresh = on(be, new float[o * c * kh * kw], o, c, kh, kw), dwAcc = on(be, dwv, o, c, kh, kw);
      Tensor db = on(be, new float[o], o);
      be.conv2d(xt, wtt, bt, spec, y);
      be.conv2dBackward(xt, wtt, dyt, spec, dx, dwFresh, false, db, false);
      be.conv2dBackward(xt, wtt, dyt, spec, dx, dwAcc, true, db, false);
      outs[p] = new float[][] {y.toArray(), dx.toArray(), dwFresh.toArray(), dwAcc.toArray()};
    }
    String tag = String.format(" n=%d c=%d o=%d %dx%d k=%dx%d %s", n, c, o, h, w, kh, kw, spec);
    int[] depth = {c * kh * kw, o * kh * kw, n * ho * wo, n * ho * wo};
    String[] names = {"forward", "input gradient", "weight gradient", "accumulated weight gradient"};
    for (int q = 0; q < 4; q++) {
      assertPathsAgree(names[q] + tag, outs[0][q], outs[1][q], outs[2][q], outs[3][q], depth[q]);
    }
  }

  @Test
  void cudnnGivesTheSameBitsEveryRun() {
    CudaBackend gpu = cudnn();
    int n = 16, c = 48, o = 48, h = 7, w = 7;
    ConvSpec spec = ConvSpec.of(1, 1);
    Random rnd = new Random(5);
    Tensor x = on(gpu, normal(rnd, n * c * h * w), n, c, h, w), wt = on(gpu, normal(rnd, o * c * 9), o, c, 3, 3);
    Tensor dy = on(gpu, normal(rnd, n * o * h * w), n, o, h, w);
    float[][] first = null;
    for (int run = 0; run < 3; run++) {
      Tensor y = on(gpu, new float[n * o * h * w], n, o, h, w), dx = on(gpu, new float[n * c * h * w], n, c, h, w);
      Tensor dw = on(gpu, new float[o * c * 9], o, c, 3, 3), db = on(gpu, new float[o], o);
      gpu.conv2d(x, wt, null, spec, y);
      gpu.conv2dBackward(x, wt, dy, spec, dx, dw, false, db, false);
      float[][] now = {y.toArray(), dx.toArray(), dw.toArray()};
      if (first == null) first = now;
      for (int q = 0; q < 3; q++) assertArrayEquals(first[q], now[q], "run " + run + ", output " + q);
    }
  }

  @Test
  void algorithmsAreChosenOutsideCaptures() {
    CudaBackend gpu = cudnn();
    int n = 2, c = 3, o = 5, h = 13, w = 6; // a shape no other test uses
    ConvSpec spec = ConvSpec.of(1, 1);
    Random rnd = new Random(6);
    Tensor x = on(gpu, normal(rnd, n * c * h * w), n, c, h, w), wt = on(gpu, normal(rnd, o * c * 9), o, c, 3, 3);
    Tensor b = on(gpu, normal(rnd, o), o);
    Tensor y = on(gpu, new float[n * o * h * w], n, o, h, w), yEager = on(gpu, new float[n * o * h * w], n, o, h, w);
    RuntimeException e = assertThrows(RuntimeException.class, () -> gpu.record(() -> gpu.conv2d(x, wt, b, spec, y)));
    assertTrue(e.getMessage().contains("first met inside a CUDA graph capture"), e.getMessage());

    gpu.conv2d(x, wt, b, spec, yEager); // chooses the algorithm
    try (StepGraph graph = gpu.record(() -> gpu.conv2d(x, wt, b, spec, y))) {
      graph.replay();
    }
    assertArrayEquals(yEager.toArray(), y.toArray(), "a replayed cuDNN convolution equals the eager one");
  }
}
