package io.idemnet.backend.reference;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.util.stream.IntStream;

/**
 * Plain Java, written to be obviously right rather than fast: the oracle that every other backend
 * is tested against. Arithmetic is done in double and rounded to float once per output element.
 * It needs no native code, so it also serves where no native library exists for the platform.
 */
public final class ReferenceBackend extends Backend {

  @Override
  public String name() {
    return "reference";
  }

  private static HostStorage host(Tensor t) {
    return (HostStorage) t.storage();
  }

  private static float get(Tensor t, long i) {
    return host(t).get(i);
  }

  private static void set(Tensor t, long i, double v) {
    host(t).set(i, (float) v);
  }

  @Override
  protected Storage allocate(long numel) {
    return new HostStorage(numel);
  }

  @Override
  protected void uploadKernel(float[] src, Tensor dst) {
    for (int i = 0; i < src.length; i++) host(dst).set(i, src[i]);
  }

  @Override
  protected void downloadKernel(Tensor src, float[] dst) {
    for (int i = 0; i < dst.length; i++) dst[i] = get(src, i);
  }

  @Override
  protected void copyKernel(Tensor src, Tensor dst) {
    for (long i = 0; i < src.numel(); i++) host(dst).set(i, get(src, i));
  }

  @Override
  protected void fillKernel(Tensor x, float value) {
    for (long i = 0; i < x.numel(); i++) host(x).set(i, value);
  }

  // ---- random: the counter-based definition of idemnet.h, written out

  static long bits(long seed, long i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static double uniform(long seed, long i) {
    return (bits(seed, i) >>> 40) * (1.0 / 16777216.0);
  }

  @Override
  protected void uniformKernel(Tensor x, long seed, float low, float high) {
    double width = (double) high - low;
    for (long i = 0; i < x.numel(); i++) set(x, i, low + width * uniform(seed, i));
  }

  @Override
  protected void normalKernel(Tensor x, long seed, float mean, float std) {
    for (long i = 0; i < x.numel(); i++) {
      double u1 = uniform(seed, 2 * i), u2 = uniform(seed, 2 * i + 1);
      double z = Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
      set(x, i, mean + (double) std * z);
    }
  }

  // ---- GEMM: op(A) copied to m x k doubles and op(B) to n x k, then dot products in double

  @Override
  protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
      Tensor b, float beta, Tensor c, int batch) {
    float[] av = a.toArray(), bv = b.toArray(), cv = c.toArray();
    for (int p = 0; p < batch; p++) {
      int offA = p * m * k, offB = p * k * n, offC = p * m * n;
      double[] opA = new double[m * k];
      double[] opBt = new double[n * k];
      for (int i = 0; i < m; i++) {
        for (int l = 0; l < k; l++) opA[i * k + l] = transA ? av[offA + l * m + i] : av[offA + i * k + l];
      }
      for (int j = 0; j < n; j++) {
        for (int l = 0; l < k; l++) opBt[j * k + l] = transB ? bv[offB + j * k + l] : bv[offB + l * n + j];
      }
      IntStream.range(0, m).parallel().forEach(i -> {
        for (int j = 0; j < n; j++) {
          double dot = 0;
          for (int l = 0; l < k; l++) dot += opA[i * k + l] * opBt[j * k + l];
          // BLAS semantics: beta = 0 means C is not read at all.
          double old = beta == 0f ? 0.0 : (double) beta * cv[offC + i * n + j];
          cv[offC + i * n + j] = (float) (alpha * dot + old);
        }
      });
    }
    c.copyFrom(cv);
  }

  // ---- elementwise

  @Override
  protected void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
    for (long r = 0; r < rows; r++) {
      for (int j = 0; j < cols; j++) set(out, r * cols + j, (double) get(x, r * cols + j) + get(bias, j));
    }
  }

  @Override
  protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    for (long i = 0; i < a.numel(); i++) {
      double x = get(a, i), y = get(b, i);
      set(out, i, switch (op) {
        case ADD -> x + y;
        case SUB -> x - y;
        case MUL -> x * y;
      });
    }
  }

  @Override
  protected void scaleKernel(Tensor x, float alpha, Tensor out) {
    for (long i = 0; i < x.numel(); i++) set(out, i, (double) alpha * get(x, i));
  }

  @Override
  protected void axpyKernel(float alpha, Tensor x, Tensor y) {
    for (long i = 0; i < x.numel(); i++) set(y, i, get(y, i) + (double) alpha * get(x, i));
  }

  static double activate(Activation act, double x) {
    return switch (act.kind()) {
      case IDENTITY -> x;
      case RELU -> x < 0 ? 0.0 : x;
      case LEAKY_RELU -> x < 0 ? act.slope() * x : x;
      case TANH -> Math.tanh(x);
      case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
    };
  }

  @Override
  protected void activationKernel(Activation act, Tensor x, Tensor y) {
    for (long i = 0; i < x.numel(); i++) set(y, i, activate(act, get(x, i)));
  }

  @Override
  protected void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    for (long i = 0; i < dy.numel(); i++) {
      double g = get(dy, i);
      set(dx, i, switch (act.kind()) {
        case IDENTITY -> g;
        case RELU -> get(x, i) > 0 ? g : 0.0;
        case LEAKY_RELU -> get(x, i) > 0 ? g : act.slope() * g;
        case TANH -> {
          double v = get(y, i);
          yield g * (1.0 - v * v);
        }
        case SIGMOID -> {
          double v = get(y, i);
          yield g * v * (1.0 - v);
        }
      });
    }
  }

  // ---- reductions

  @Override
  protected double sumKernel(Tensor x) {
    double s = 0;
    for (long i = 0; i < x.numel(); i++) s += get(x, i);
    return s;
  }

  @Override
  protected double sumSquaresKernel(Tensor x) {
    double s = 0;
    for (long i = 0; i < x.numel(); i++) {
      double v = get(x, i);
      s += v * v;
    }
    return s;
  }

  @Override
  protected void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
    for (int j = 0; j < cols; j++) {
      double s = accumulate ? get(out, j) : 0.0;
      for (long r = 0; r < rows; r++) s += get(x, r * cols + j);
      set(out, j, s);
    }
  }

  @Override
  protected double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
    double loss = 0;
    for (long i = 0; i < a.numel(); i++) {
      double ai = get(a, i), bi = get(b, i), ci = get(c, i);
      set(out, i, s * (3 * ai - 2 * bi - ci));
      loss += (ai - ci) * (ai - ci);
    }
    return withLoss ? loss : Double.NaN;
  }

  // ---- optimizers

  @Override
  protected void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
    for (long i = 0; i < w.numel(); i++) {
      double wi = get(w, i);
      double d = get(g, i) + (double) weightDecay * wi;
      if (velocity != null) {
        double v = (double) momentum * get(velocity, i) + d;
        set(velocity, i, v);
        d = v;
      }
      set(w, i, wi - lr * d);
    }
  }

  @Override
  protected void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
      float weightDecay, long step) {
    double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
    for (long i = 0; i < w.numel(); i++) {
      double wi = get(w, i);
      double d = get(g, i) + (double) weightDecay * wi;
      double mi = beta1 * (double) get(m, i) + (1 - (double) beta1) * d;
      double vi = beta2 * (double) get(v, i) + (1 - (double) beta2) * d * d;
      set(m, i, mi);
      set(v, i, vi);
      set(w, i, wi - (lr / bc1) * mi / (Math.sqrt(vi) / Math.sqrt(bc2) + eps));
    }
  }
}
