package io.idemnet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The element formulas that both native libraries take from {@code native/shared/idemnet_math.h}
 * (corrector, axpy, SGD, Adam, the activation derivatives, LeakyReLU, uniform numbers, dropout),
 * compared <b>bit for bit</b> with a plain Java evaluation of the same expression in the same
 * order. Java rounds every float and double operation on its own and never fuses a multiply-add,
 * which is the header's rounding rule; so any FMA contraction, reordering or a changed formula in
 * a library shows up here as a differing bit. The CPU subclass runs everywhere (and covers the
 * vectorized AVX2/AVX-512 clones: sizes above the parallel threshold, odd tails); the cuda
 * subclass runs the same cases on a GPU, which then equals the CPU bit for bit.
 *
 * <p>Not compared here: tanh, sigmoid and normal numbers (they call libm, whose last bit differs
 * between glibc, CUDA and Java; BackendVsReferenceContract bounds them).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SharedArithmeticContract {
  /** Above the CPU library's parallel threshold (2^15) and odd: threads, vector bodies and tails. */
  private static final int N = 100_003;
  protected Backend be;
  private final List<Tensor> open = new ArrayList<>();

  protected abstract Backend createCandidate();

  /** Whether {@link #close} closes the candidate (not when it is shared with other classes). */
  protected boolean closeCandidate() {
    return true;
  }

  @BeforeAll
  void create() {
    be = createCandidate();
  }

  @AfterAll
  void close() throws Exception {
    open.forEach(Tensor::close);
    if (closeCandidate() && be instanceof AutoCloseable c) c.close();
  }

  private Tensor on(float[] data) {
    Tensor t = be.fromArray(data, data.length);
    open.add(t);
    return t;
  }

  private static float[] normal(Random rnd, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (scale * rnd.nextGaussian());
    return v;
  }

  private static void assertBits(String what, float[] expected, float[] got) {
    assertEquals(expected.length, got.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
        throw new AssertionError(what + ": element " + i + " is " + got[i] + " (bits "
            + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), the formula gives " + expected[i]
            + " (bits " + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + ")");
      }
    }
  }

  @Test
  void correctorAndAxpy() {
    Random rnd = new Random(1);
    float[] a = normal(rnd, N, 1), b = normal(rnd, N, 1), c = normal(rnd, N, 1);
    float s = -1f / 3000f;
    Tensor out = on(new float[N]);
    be.corrector(s, on(a), on(b), on(c), out, true);
    float[] expected = new float[N];
    for (int i = 0; i < N; i++) expected[i] = s * ((3f * a[i] - 2f * b[i]) - c[i]);
    assertBits("corrector", expected, out.toArray());
    be.corrector(s, on(a), on(b), on(c), out, false);
    assertBits("corrector without loss", expected, out.toArray());

    float alpha = 0.37f;
    Tensor y = on(b);
    be.axpy(alpha, on(a), y);
    for (int i = 0; i < N; i++) expected[i] = b[i] + alpha * a[i];
    assertBits("axpy", expected, y.toArray());
  }

  @Test
  void sgdWithAndWithoutMomentum() {
    Random rnd = new Random(2);
    float[] w0 = normal(rnd, N, 1), g = normal(rnd, N, 0.1);
    float lr = 0.05f, momentum = 0.9f, wd = 0.01f;
    float[] w = w0.clone(), v = new float[N];
    Tensor wt = on(w0), gt = on(g), vt = on(new float[N]), wp = on(w0);
    for (int step = 0; step < 3; step++) {
      be.sgdUpdate(wt, gt, vt, lr, momentum, wd);
      be.sgdUpdate(wp, gt, null, lr, 0f, wd);
    }
    float[] plain = w0.clone();
    for (int step = 0; step < 3; step++) {
      for (int i = 0; i < N; i++) {
        float vi = momentum * v[i] + (g[i] + wd * w[i]);
        v[i] = vi;
        w[i] = w[i] - lr * vi;
        plain[i] = plain[i] - lr * (g[i] + wd * plain[i]);
      }
    }
    assertBits("sgd momentum weights", w, wt.toArray());
    assertBits("sgd momentum velocity", v, vt.toArray());
    assertBits("sgd weights", plain, wp.toArray());
  }

  @Test
  void adamOverSeveralSteps() {
    Random rnd = new Random(3);
    float[] w = normal(rnd, N, 1), m = new float[N], v = new float[N];
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, wd = 0.01f;
    Tensor wt = on(w), mt = on(m), vt = on(v);
    for (int step = 1; step <= 4; step++) {
      float[] g = normal(rnd, N, 0.1);
      be.adamUpdate(wt, on(g), mt, vt, lr, beta1, beta2, eps, wd, step);
      // Step scalars in double, rounded once (as idemnet_math::adam_scalars).
      float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
      float invSqrtBc2 = (float) (1.0 / Math.sqrt(1.0 - Math.pow(beta2, step)));
      for (int i = 0; i < N; i++) {
        float d = g[i] + wd * w[i];
        float mi = beta1 * m[i] + (1f - beta1) * d;
        float vi = beta2 * v[i] + ((1f - beta2) * d) * d;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] - (stepSize * mi) / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
      }
      assertBits("adam weights after step " + step, w, wt.toArray());
      assertBits("adam first moment after step " + step, m, mt.toArray());
      assertBits("adam second moment after step " + step, v, vt.toArray());
    }
  }

  @Test
  void leakyReluAndActivationDerivatives() {
    Random rnd = new Random(4);
    float[] x = normal(rnd, N, 2), dy = normal(rnd, N, 1);
    for (int i = 0; i < N; i += 13) x[i] = 0f; // the kink
    float[] y = new float[N];
    for (int i = 0; i < N; i++) y[i] = (float) Math.tanh(x[i]); // any values in (-1, 1) serve as outputs
    float slope = 0.2f;
    Tensor xt = on(x), yt = on(y), dyt = on(dy), out = on(new float[N]);
    float[] expected = new float[N];

    be.activation(Activation.leakyRelu(slope), xt, out);
    for (int i = 0; i < N; i++) expected[i] = x[i] * (x[i] < 0f ? slope : 1f);
    assertBits("leaky relu", expected, out.toArray());

    be.activationBackward(Activation.leakyRelu(slope), xt, null, dyt, out);
    for (int i = 0; i < N; i++) expected[i] = dy[i] * (x[i] > 0f ? 1f : slope);
    assertBits("leaky relu backward", expected, out.toArray());

    be.activationBackward(Activation.RELU, xt, null, dyt, out);
    for (int i = 0; i < N; i++) expected[i] = x[i] > 0f ? dy[i] : 0f;
    assertBits("relu backward", expected, out.toArray());

    be.activationBackward(Activation.TANH, null, yt, dyt, out);
    for (int i = 0; i < N; i++) expected[i] = dy[i] * (1f - y[i] * y[i]);
    assertBits("tanh backward", expected, out.toArray());

    float[] s = new float[N];
    for (int i = 0; i < N; i++) s[i] = (float) (1 / (1 + Math.exp(-x[i])));
    be.activationBackward(Activation.SIGMOID, null, on(s), dyt, out);
    for (int i = 0; i < N; i++) expected[i] = (dy[i] * s[i]) * (1f - s[i]);
    assertBits("sigmoid backward", expected, out.toArray());
  }

  @Test
  void uniformNumbersAndDropout() {
    long seed = 0x5EEDL;
    float low = -0.75f, high = 1.25f;
    Tensor u = on(new float[N]);
    be.randomUniform(u, seed, low, high);
    float[] expected = new float[N];
    double width = (double) high - low;
    for (int i = 0; i < N; i++) expected[i] = (float) (low + width * uniform(seed, i));
    assertBits("uniform", expected, u.toArray());

    float[] x = normal(new Random(5), N, 1);
    float p = 0.3f;
    double scale = 1.0 / (1.0 - (double) p);
    Tensor y = on(new float[N]);
    be.dropout(on(x), p, seed, y);
    for (int i = 0; i < N; i++) expected[i] = uniform(seed, i) >= p ? (float) (x[i] * scale) : 0f;
    assertBits("dropout", expected, y.toArray());
  }

  /** uniform(seed, i) of idemnet.h: (splitmix64(seed + (i + 1) golden) >>> 40) 2^-24. */
  private static double uniform(long seed, long i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 40) * (1.0 / 16777216.0);
  }
}
