package io.idemnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * conv2d and conv_transpose2d (forward, input, weight and bias gradients) of the CPU backend
 * against the reference backend, over odd sizes, stride 1 and 2, padding 0 and 1, 3x3 and 4x4
 * kernels, plus 1x1, rectangular and larger cases (threaded copies and GEMMs, and a batch that
 * conv.cpp splits into two chunks of samples).
 *
 * <p>Tolerance: every output element is a sum of K products (K = C kh kw for the forward pass,
 * O kh kw for the input gradient, N Ho Wo for the weight gradient), plus a bias or an accumulated
 * old value. Summed in float in any order, the classical bound is
 * |got - ref| <= (K + 2) u sum|terms| + u |ref| with u = 2^-24, where sum|terms| is the same
 * operation on absolute values, computed by the reference in double.
 */
public class ConvKernelsTest {
  private static final double U = Math.ulp(1.0f) / 2;
  private static final Backend REF = new ReferenceBackend();
  /** The backend under test: the CPU here; the cuda tests subclass this class and override {@link #candidate()}. */
  private final Backend CPU = candidate();

  protected Backend candidate() {
    return new CpuBackend();
  }
  private final List<Tensor> open = new ArrayList<>();

  @AfterEach
  void closeAll() {
    open.forEach(Tensor::close);
    open.clear();
  }

  private Tensor track(Tensor t) {
    open.add(t);
    return t;
  }

  /** The same data on both backends, and |data| on the reference (for the error bound). */
  private record Trio(Tensor ref, Tensor cpu, Tensor abs) {}

  private Trio trio(Random rnd, int... shape) {
    int n = 1;
    for (int d : shape) n *= d;
    float[] v = new float[n], a = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) rnd.nextGaussian();
      a[i] = Math.abs(v[i]);
    }
    return new Trio(track(REF.fromArray(v, shape)), track(CPU.fromArray(v, shape)), track(REF.fromArray(a, shape)));
  }

  private Trio zeros(int... shape) {
    return new Trio(track(REF.zeros(shape)), track(CPU.zeros(shape)), track(REF.zeros(shape)));
  }

  private static void assertBounded(String what, Trio out, int k) {
    float[] ref = out.ref.toArray(), got = out.cpu.toArray(), bound = out.abs.toArray();
    for (int i = 0; i < ref.length; i++) {
      double tol = (k + 2) * U * bound[i] + U * Math.abs(ref[i]);
      if (!(Math.abs((double) got[i] - ref[i]) <= tol)) {
        fail(String.format("%s: element %d of %d: ref=%.9g got=%.9g, bound %.3g", what, i, ref.length, ref[i], got[i],
            tol));
      }
    }
  }

  /** n, c, o, h, w, kh, kw, stride h/w, padding h/w. */
  static Stream<Arguments> cases() {
    List<Arguments> list = new ArrayList<>();
    for (int n : new int[] {1, 3}) {
      for (int k : new int[] {3, 4}) {
        for (int s : new int[] {1, 2}) {
          for (int p : new int[] {0, 1}) list.add(Arguments.of(n, 3, 5, 7, 9, k, k, s, s, p, p));
        }
      }
    }
    list.add(Arguments.of(3, 4, 6, 5, 5, 1, 1, 1, 1, 0, 0)); // 1x1
    list.add(Arguments.of(2, 2, 3, 8, 6, 3, 2, 2, 1, 1, 0)); // rectangular kernel, per-dimension stride/padding
    list.add(Arguments.of(1, 16, 24, 19, 17, 3, 3, 1, 1, 1, 1)); // one sample, small: on the calling thread
    list.add(Arguments.of(1, 16, 24, 41, 39, 3, 3, 1, 1, 1, 1)); // one sample, 5.5M MACs: threaded GEMM and copies
    list.add(Arguments.of(8, 16, 24, 13, 11, 3, 3, 1, 1, 1, 1)); // several samples in one GEMM
    // K * P = 1152 * 54 * 54 = 3.4M floats per sample: over conv.cpp's 1M-float chunk budget,
    // so the batch runs as chunks of one sample (the weight gradient accumulates across them).
    list.add(Arguments.of(3, 128, 2, 54, 54, 3, 3, 1, 1, 1, 1));
    // Positions (per sample already) and depth >= 8x the output channels: the forward GEMM runs
    // as col^T W^T whatever the thread count; the FPN's latent conv (which form depends on the
    // samples a thread gets); a deep-layer shape with more output channels than positions.
    list.add(Arguments.of(2, 32, 4, 9, 9, 3, 3, 1, 1, 1, 1));
    list.add(Arguments.of(16, 48, 48, 7, 7, 3, 3, 1, 1, 1, 1));
    list.add(Arguments.of(2, 8, 64, 3, 3, 3, 3, 1, 1, 1, 1));
    list.add(Arguments.of(5, 3, 2, 4, 4, 4, 4, 2, 2, 1, 1)); // kernel as large as the padded image allows
    return list.stream();
  }

  @ParameterizedTest(name = "n={0} c={1} o={2} {3}x{4} k={5}x{6} s={7}x{8} p={9}x{10}")
  @MethodSource("cases")
  void conv2d(int n, int c, int o, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    ConvSpec spec = new ConvSpec(sh, sw, ph, pw);
    int ho = spec.convOutH(h, kh), wo = spec.convOutW(w, kw);
    Random rnd = new Random(h * 1000L + w * 100L + kh * 10L + sh + ph + 7L * n);
    Trio x = trio(rnd, n, c, h, w), wt = trio(rnd, o, c, kh, kw), b = trio(rnd, o), dy = trio(rnd, n, o, ho, wo);
    String tag = String.format(" n=%d c=%d o=%d %dx%d k=%dx%d %s", n, c, o, h, w, kh, kw, spec);

    for (boolean withBias : new boolean[] {true, false}) {
      Trio y = zeros(n, o, ho, wo);
      REF.conv2d(x.ref, wt.ref, withBias ? b.ref : null, spec, y.ref);
      CPU.conv2d(x.cpu, wt.cpu, withBias ? b.cpu : null, spec, y.cpu);
      REF.conv2d(x.abs, wt.abs, withBias ? b.abs : null, spec, y.abs);
      assertBounded("conv2d forward bias=" + withBias + tag, y, c * kh * kw);
    }

    for (boolean accumulate : new boolean[] {false, true}) {
      Trio dx = zeros(n, c, h, w), dw = trio(rnd, o, c, kh, kw), db = trio(rnd, o);
      REF.conv2dBackward(x.ref, wt.ref, dy.ref, spec, dx.ref, dw.ref, accumulate, db.ref, accumulate);
      CPU.conv2dBackward(x.cpu, wt.cpu, dy.cpu, spec, dx.cpu, dw.cpu, accumulate, db.cpu, accumulate);
      REF.conv2dBackward(x.abs, wt.abs, dy.abs, spec, dx.abs, dw.abs, accumulate, db.abs, accumulate);
      assertBounded("conv2d dx" + tag, dx, o * kh * kw);
      assertBounded("conv2d dW accumulate=" + accumulate + tag, dw, n * ho * wo);
      assertBounded("conv2d db accumulate=" + accumulate + tag, db, n * ho * wo);
    }
  }

  @ParameterizedTest(name = "n={0} cin={1} cout={2} {3}x{4} k={5}x{6} s={7}x{8} p={9}x{10}")
  @MethodSource("cases")
  void convTranspose2d(int n, int cin, int cout, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    ConvSpec spec = new ConvSpec(sh, sw, ph, pw);
    Random rnd = new Random(h * 1000L + w * 100L + kh * 10L + sh + ph + 11L * n);
    // Keep the input small enough that the output is at least 1x1 with these paddings.
    int hi = Math.max(h / 2, 2), wi = Math.max(w / 2, 2);
    for (int op = 0; op < Math.min(sh, sw); op++) {
      int ho = spec.transposedOutH(hi, kh, op), wo = spec.transposedOutW(wi, kw, op);
      Trio x = trio(rnd, n, cin, hi, wi), wt = trio(rnd, cin, cout, kh, kw), b = trio(rnd, cout);
      Trio dy = trio(rnd, n, cout, ho, wo);
      String tag = String.format(" n=%d cin=%d cout=%d %dx%d k=%dx%d %s output_padding=%d", n, cin, cout, hi, wi, kh,
          kw, spec, op);

      Trio y = zeros(n, cout, ho, wo);
      REF.convTranspose2d(x.ref, wt.ref, b.ref, spec, y.ref);
      CPU.convTranspose2d(x.cpu, wt.cpu, b.cpu, spec, y.cpu);
      REF.convTranspose2d(x.abs, wt.abs, b.abs, spec, y.abs);
      assertBounded("convTranspose2d forward" + tag, y, cin * kh * kw);

      for (boolean accumulate : new boolean[] {false, true}) {
        Trio dx = zeros(n, cin, hi, wi), dw = trio(rnd, cin, cout, kh, kw), db = trio(rnd, cout);
        REF.convTranspose2dBackward(x.ref, wt.ref, dy.ref, spec, dx.ref, dw.ref, accumulate, db.ref, accumulate);
        CPU.convTranspose2dBackward(x.cpu, wt.cpu, dy.cpu, spec, dx.cpu, dw.cpu, accumulate, db.cpu, accumulate);
        REF.convTranspose2dBackward(x.abs, wt.abs, dy.abs, spec, dx.abs, dw.abs, accumulate, db.abs, accumulate);
        assertBounded("convTranspose2d dx" + tag, dx, cout * kh * kw);
        assertBounded("convTranspose2d dW accumulate=" + accumulate + tag, dw, n * hi * wi);
        assertBounded("convTranspose2d db accumulate=" + accumulate + tag, db, n * ho * wo);
      }
    }
  }
}
