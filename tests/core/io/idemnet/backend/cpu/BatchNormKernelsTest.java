package io.idemnet.backend.cpu;

import static io.idemnet.testing.Close.assertClose;

import io.idemnet.backend.Backend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch normalization of the CPU backend against the reference backend, and the running
 * statistics against PyTorch's formula written out by hand. Inputs are c_j + 2 N(0,1) with
 * per-channel offsets c_j up to 3, so normalized values are O(1) and the terms of the float
 * formulas are at most ~20 in size.
 * <ul>
 *   <li>Statistics (saved mean and invstd, running mean and variance, dgamma, dbeta): double sums in
 *       both backends, rounded once to float; only the summation order differs:
 *       atol 1e-6, rtol 1e-6 (a few ulp).
 *   <li>y and dx: the CPU applies the statistics in float, a handful of roundings (< 8) of terms
 *       of size <= 20 against one rounding in the reference: 8 * 2^-24 * 20 ~ 1e-5, so atol 1e-5,
 *       rtol 1e-5.
 * </ul>
 */
public class BatchNormKernelsTest {
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

  private record Pair(Tensor ref, Tensor cpu) {}

  private Pair pair(float[] data, int... shape) {
    Pair p = new Pair(REF.fromArray(data, shape), CPU.fromArray(data, shape));
    open.add(p.ref);
    open.add(p.cpu);
    return p;
  }

  private static float[] channelData(Random rnd, int[] shape) {
    int n = 1;
    for (int d : shape) n *= d;
    int c = shape[1], inner = n / (shape[0] * c);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (0.5 * ((i / inner) % c) - 1 + 2 * rnd.nextGaussian());
    return v;
  }

  private static float[] normal(Random rnd, int n, double mean, double sd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (mean + sd * rnd.nextGaussian());
    return v;
  }

  static Stream<Arguments> shapes() {
    return Stream.of(Arguments.of((Object) new int[] {3, 5, 7, 9}), Arguments.of((Object) new int[] {2, 3, 1, 1}),
        Arguments.of((Object) new int[] {10, 4}), Arguments.of((Object) new int[] {16, 8, 32, 32}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void forwardAndBackwardMatchTheReference(int[] shape) {
    Random rnd = new Random(shape.length * 31L + shape[0] * 7L + shape[1]);
    int n = 1;
    for (int d : shape) n *= d;
    int c = shape[1];
    Pair x = pair(channelData(rnd, shape), shape), dy = pair(normal(rnd, n, 0, 1), shape);
    Pair gamma = pair(normal(rnd, c, 1, 0.5), c), beta = pair(normal(rnd, c, 0, 0.5), c);
    Pair rm = pair(normal(rnd, c, 0, 0.2), c), rv = pair(normal(rnd, c, 1, 0.1), c);
    Pair y = pair(new float[n], shape), dx = pair(new float[n], shape);
    Pair mean = pair(new float[c], c), invstd = pair(new float[c], c);
    Pair dg = pair(normal(rnd, c, 0, 1), c), db = pair(normal(rnd, c, 0, 1), c);

    for (boolean training : new boolean[] {true, false}) {
      for (boolean affine : new boolean[] {true, false}) {
        String tag = " training=" + training + " affine=" + affine + " shape=" + java.util.Arrays.toString(shape);
        for (Backend be : new Backend[] {REF, CPU}) {
          boolean r = be == REF;
          be.batchNorm2d(r ? x.ref : x.cpu, affine ? (r ? gamma.ref : gamma.cpu) : null,
              affine ? (r ? beta.ref : beta.cpu) : null, r ? rm.ref : rm.cpu, r ? rv.ref : rv.cpu, training, 0.1f,
              1e-5f, r ? y.ref : y.cpu, r ? mean.ref : mean.cpu, r ? invstd.ref : invstd.cpu);
        }
        assertClose("running_mean" + tag, rm.ref.toArray(), rm.cpu.toArray(), 1e-6, 1e-6);
        assertClose("running_var" + tag, rv.ref.toArray(), rv.cpu.toArray(), 1e-6, 1e-6);
        assertClose("saved mean" + tag, mean.ref.toArray(), mean.cpu.toArray(), 1e-6, 1e-6);
        assertClose("saved invstd" + tag, invstd.ref.toArray(), invstd.cpu.toArray(), 1e-6, 1e-6);
        assertClose("y" + tag, y.ref.toArray(), y.cpu.toArray(), 1e-5, 1e-5);

        // Backward from the same saved statistics on both sides.
        CPU.upload(mean.ref.toArray(), mean.cpu);
        CPU.upload(invstd.ref.toArray(), invstd.cpu);
        for (boolean accumulate : new boolean[] {false, true}) {
          for (Backend be : new Backend[] {REF, CPU}) {
            boolean r = be == REF;
            be.batchNorm2dBackward(r ? x.ref : x.cpu, r ? dy.ref : dy.cpu, affine ? (r ? gamma.ref : gamma.cpu) : null,
                r ? mean.ref : mean.cpu, r ? invstd.ref : invstd.cpu, training, r ? dx.ref : dx.cpu,
                r ? dg.ref : dg.cpu, accumulate, r ? db.ref : db.cpu, accumulate);
          }
          assertClose("dx" + tag, dx.ref.toArray(), dx.cpu.toArray(), 1e-5, 1e-5);
          assertClose("dgamma accumulate=" + accumulate + tag, dg.ref.toArray(), dg.cpu.toArray(), 1e-6, 1e-6);
          assertClose("dbeta accumulate=" + accumulate + tag, db.ref.toArray(), db.cpu.toArray(), 1e-6, 1e-6);
        }
      }
    }
  }

  /**
   * Training updates running_mean with the batch mean and running_var with the UNBIASED batch
   * variance (PyTorch), while the output is normalized with the biased one. Expected values in
   * double by hand; tolerances as in the class comment.
   */
  @Test
  void runningStatisticsFollowPyTorch() {
    int[] shape = {2, 2, 3, 1};
    float[] xs = {1, 2, 4, 10, 20, 60, 3, 5, 7, -10, 0, 10};
    float momentum = 0.25f, eps = 1e-3f;
    for (Backend be : new Backend[] {REF, CPU}) {
      try (Tensor x = be.fromArray(xs, shape); Tensor y = be.zeros(shape); Tensor rm = be.fromArray(new float[] {1, -1}, 2);
          Tensor rv = be.fromArray(new float[] {2, 3}, 2)) {
        be.batchNorm2d(x, null, null, rm, rv, true, momentum, eps, y, null, null);
        float[] got = y.toArray(), gotRm = rm.toArray(), gotRv = rv.toArray();
        for (int ch = 0; ch < 2; ch++) {
          double[] vals = new double[6];
          int k = 0;
          for (int s = 0; s < 2; s++) {
            for (int e = 0; e < 3; e++) vals[k++] = xs[(s * 2 + ch) * 3 + e];
          }
          double mean = 0, sq = 0;
          for (double v : vals) mean += v / 6;
          for (double v : vals) sq += (v - mean) * (v - mean);
          double biased = sq / 6, unbiased = sq / 5;
          double oldRm = ch == 0 ? 1 : -1, oldRv = ch == 0 ? 2 : 3;
          assertClose(be.name() + " running_mean[" + ch + "]", (1 - momentum) * oldRm + momentum * mean, gotRm[ch], 1e-6, 1e-6);
          assertClose(be.name() + " running_var[" + ch + "] (unbiased)", (1 - momentum) * oldRv + momentum * unbiased,
              gotRv[ch], 1e-6, 1e-6);
          k = 0;
          for (int s = 0; s < 2; s++) {
            for (int e = 0; e < 3; e++) {
              double expected = (vals[k++] - mean) / Math.sqrt(biased + eps);
              assertClose(be.name() + " y (biased variance)", expected, got[(s * 2 + ch) * 3 + e], 1e-5, 1e-5);
            }
          }
        }
      }
    }
  }

  /** Evaluation mode normalizes with the running statistics and leaves them unchanged. */
  @Test
  void evaluationUsesRunningStatistics() {
    int[] shape = {3, 2, 2, 2};
    Random rnd = new Random(5);
    float[] xs = normal(rnd, 24, 1, 3);
    float[] rmv = {0.5f, -2f}, rvv = {4f, 0.25f}, g = {1.5f, -0.5f}, b = {0.1f, 2f};
    for (Backend be : new Backend[] {REF, CPU}) {
      try (Tensor x = be.fromArray(xs, shape); Tensor y = be.zeros(shape); Tensor rm = be.fromArray(rmv, 2);
          Tensor rv = be.fromArray(rvv, 2); Tensor gamma = be.fromArray(g, 2); Tensor beta = be.fromArray(b, 2)) {
        be.batchNorm2d(x, gamma, beta, rm, rv, false, 0.1f, 1e-5f, y, null, null);
        float[] got = y.toArray();
        for (int i = 0; i < 24; i++) {
          int ch = (i / 4) % 2;
          double expected = (xs[i] - rmv[ch]) / Math.sqrt(rvv[ch] + 1e-5) * g[ch] + b[ch];
          assertClose(be.name() + " eval y[" + i + "]", expected, got[i], 1e-5, 1e-5);
        }
        assertClose(be.name() + " running_mean unchanged", rmv, rm.toArray(), 0, 0);
        assertClose(be.name() + " running_var unchanged", rvv, rv.toArray(), 0, 0);
      }
    }
  }
}
