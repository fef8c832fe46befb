package io.idemnet.backend.reference;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Kernels;
import io.idemnet.backend.ConvSpec;
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

  /** The contents as an array, read from the storage directly (kernels never go through download). */
  private static float[] read(Tensor t) {
    float[] v = new float[(int) t.numel()];
    for (int i = 0; i < v.length; i++) v[i] = get(t, i);
    return v;
  }

  private static void write(Tensor t, float[] v) {
    for (int i = 0; i < v.length; i++) host(t).set(i, v[i]);
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

  // ---- elementwise

  static double activate(Activation act, double x) {
    return switch (act.kind()) {
      case IDENTITY -> x;
      case RELU -> x < 0 ? 0.0 : x;
      case LEAKY_RELU -> x < 0 ? act.slope() * x : x;
      case TANH -> Math.tanh(x);
      case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
    };
  }

  // ---- device-resident step operations

  /** alpha = (H + 1e-10 trace(H) / k I)^{-1} 1 normalised to sum 1, or null when not usable. */
  private static double[] andersonWeights(double[][] h) {
    int k = h.length;
    double trace = 0;
    for (int i = 0; i < k; i++) trace += h[i][i];
    if (!(trace > 0) || !Double.isFinite(trace)) return null;
    double[][] a = new double[k][k + 1];
    for (int i = 0; i < k; i++) {
      System.arraycopy(h[i], 0, a[i], 0, k);
      a[i][i] += 1e-10 * trace / k;
      a[i][k] = 1;
    }
    for (int col = 0; col < k; col++) {
      int pivot = col;
      for (int r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
      double[] tmp = a[col];
      a[col] = a[pivot];
      a[pivot] = tmp;
      if (a[col][col] == 0) return null;
      for (int r = col + 1; r < k; r++) {
        double f = a[r][col] / a[col][col];
        for (int c = col; c <= k; c++) a[r][c] -= f * a[col][c];
      }
    }
    double[] alpha = new double[k];
    double sum = 0;
    for (int i = k - 1; i >= 0; i--) {
      double s = a[i][k];
      for (int c = i + 1; c < k; c++) s -= a[i][c] * alpha[c];
      alpha[i] = s / a[i][i];
      sum += alpha[i];
    }
    if (!Double.isFinite(sum) || sum == 0) return null;
    for (int i = 0; i < k; i++) alpha[i] /= sum;
    return alpha;
  }

  private final Kernels kernels = new ReferenceKernels();

  @Override
  protected Kernels kernels() {
    return kernels;
  }

  /**
   * This backend's kernels (the facade, {@link Backend}, has checked every argument). Convolutions
   * are direct sums in double, one rounding per output element: for image [N, C, H, W], weight
   * [O, C, kh, kw] and output [N, O, Ho, Wo], output (oh, ow) reads image (oh*sh - ph + i,
   * ow*sw - pw + j) with weight tap (i, j). GEMM copies op(A) to m x k doubles and op(B) to n x k,
   * then takes dot products in double.
   */
  private final class ReferenceKernels implements Kernels {
    @Override
    public Storage allocate(long numel) {
      return new HostStorage(numel);
    }

    @Override
    public void uploadKernel(float[] src, Tensor dst) {
      for (int i = 0; i < src.length; i++) host(dst).set(i, src[i]);
    }

    @Override
    public void downloadKernel(Tensor src, float[] dst) {
      for (int i = 0; i < dst.length; i++) dst[i] = get(src, i);
    }

    @Override
    public void copyKernel(Tensor src, Tensor dst) {
      for (long i = 0; i < src.numel(); i++) host(dst).set(i, get(src, i));
    }

    @Override
    public void fillKernel(Tensor x, float value) {
      for (long i = 0; i < x.numel(); i++) host(x).set(i, value);
    }

    @Override
    public void uniformKernel(Tensor x, long seed, float low, float high) {
      double width = (double) high - low;
      for (long i = 0; i < x.numel(); i++) set(x, i, low + width * uniform(seed, i));
    }

    @Override
    public void normalKernel(Tensor x, long seed, float mean, float std) {
      for (long i = 0; i < x.numel(); i++) {
        double u1 = uniform(seed, 2 * i), u2 = uniform(seed, 2 * i + 1);
        double z = Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
        set(x, i, mean + (double) std * z);
      }
    }

    @Override
    public void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
        Tensor b, float beta, Tensor c, int batch) {
      float[] av = read(a), bv = read(b), cv = read(c);
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
      write(c, cv);
    }

    @Override
    public void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
      for (long r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) set(out, r * cols + j, (double) get(x, r * cols + j) + get(bias, j));
      }
    }

    @Override
    public void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
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
    public void scaleKernel(Tensor x, float alpha, Tensor out) {
      for (long i = 0; i < x.numel(); i++) set(out, i, (double) alpha * get(x, i));
    }

    @Override
    public void axpyKernel(float alpha, Tensor x, Tensor y) {
      for (long i = 0; i < x.numel(); i++) set(y, i, get(y, i) + (double) alpha * get(x, i));
    }

    @Override
    public void activationKernel(Activation act, Tensor x, Tensor y) {
      for (long i = 0; i < x.numel(); i++) set(y, i, activate(act, get(x, i)));
    }

    @Override
    public void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
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

    @Override
    public double sumKernel(Tensor x) {
      double s = 0;
      for (long i = 0; i < x.numel(); i++) s += get(x, i);
      return s;
    }

    @Override
    public double sumSquaresKernel(Tensor x) {
      double s = 0;
      for (long i = 0; i < x.numel(); i++) {
        double v = get(x, i);
        s += v * v;
      }
      return s;
    }

    @Override
    public void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
      for (int j = 0; j < cols; j++) {
        double s = accumulate ? get(out, j) : 0.0;
        for (long r = 0; r < rows; r++) s += get(x, r * cols + j);
        set(out, j, s);
      }
    }

    @Override
    public double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
      double loss = 0;
      for (long i = 0; i < a.numel(); i++) {
        double ai = get(a, i), bi = get(b, i), ci = get(c, i);
        set(out, i, s * (3 * ai - 2 * bi - ci));
        loss += (ai - ci) * (ai - ci);
      }
      return withLoss ? loss : Double.NaN;
    }

    @Override
    public void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
      int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
      int o = w.dim(0), kh = w.dim(2), kw = w.dim(3), ho = y.dim(2), wo = y.dim(3);
      float[] xv = read(x), wv = read(w), bv = bias == null ? null : read(bias);
      float[] yv = new float[(int) y.numel()];
      IntStream.range(0, n * o).parallel().forEach(no -> {
        int s = no / o, oc = no % o;
        for (int oh = 0; oh < ho; oh++) {
          for (int ow = 0; ow < wo; ow++) {
            double acc = bv == null ? 0.0 : bv[oc];
            for (int ch = 0; ch < c; ch++) {
              for (int i = 0; i < kh; i++) {
                int ih = oh * spec.strideH() - spec.padH() + i;
                if (ih < 0 || ih >= h) continue;
                for (int j = 0; j < kw; j++) {
                  int iw = ow * spec.strideW() - spec.padW() + j;
                  if (iw < 0 || iw >= wd) continue;
                  acc += (double) xv[((s * c + ch) * h + ih) * wd + iw] * wv[((oc * c + ch) * kh + i) * kw + j];
                }
              }
            }
            yv[((s * o + oc) * ho + oh) * wo + ow] = (float) acc;
          }
        }
      });
      write(y, yv);
    }

    @Override
    public void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
      int n = dx.dim(0), c = dx.dim(1), h = dx.dim(2), wd = dx.dim(3);
      int o = w.dim(0), kh = w.dim(2), kw = w.dim(3), ho = dy.dim(2), wo = dy.dim(3);
      float[] gv = read(dy), wv = read(w), bv = bias == null ? null : read(bias);
      float[] xv = new float[(int) dx.numel()];
      // Gather: image element (ih, iw) collects every (oh, ow, i, j) with oh*sh - ph + i = ih, etc.
      IntStream.range(0, n * c).parallel().forEach(nc -> {
        int s = nc / c, ch = nc % c;
        for (int ih = 0; ih < h; ih++) {
          for (int iw = 0; iw < wd; iw++) {
            double acc = bv == null ? 0.0 : bv[ch];
            for (int i = 0; i < kh; i++) {
              int th = ih + spec.padH() - i;
              if (th < 0 || th % spec.strideH() != 0 || th / spec.strideH() >= ho) continue;
              int oh = th / spec.strideH();
              for (int j = 0; j < kw; j++) {
                int tw = iw + spec.padW() - j;
                if (tw < 0 || tw % spec.strideW() != 0 || tw / spec.strideW() >= wo) continue;
                int ow = tw / spec.strideW();
                for (int oc = 0; oc < o; oc++) {
                  acc += (double) gv[((s * o + oc) * ho + oh) * wo + ow] * wv[((oc * c + ch) * kh + i) * kw + j];
                }
              }
            }
            xv[((s * c + ch) * h + ih) * wd + iw] = (float) acc;
          }
        }
      });
      write(dx, xv);
    }

    @Override
    public void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
      int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
      int o = dw.dim(0), kh = dw.dim(2), kw = dw.dim(3), ho = dy.dim(2), wo = dy.dim(3);
      float[] xv = read(x), gv = read(dy), wv = read(dw);
      IntStream.range(0, o * c).parallel().forEach(oc2 -> {
        int oc = oc2 / c, ch = oc2 % c;
        for (int i = 0; i < kh; i++) {
          for (int j = 0; j < kw; j++) {
            int idx = ((oc * c + ch) * kh + i) * kw + j;
            double acc = accumulate ? wv[idx] : 0.0;
            for (int s = 0; s < n; s++) {
              for (int oh = 0; oh < ho; oh++) {
                int ih = oh * spec.strideH() - spec.padH() + i;
                if (ih < 0 || ih >= h) continue;
                for (int ow = 0; ow < wo; ow++) {
                  int iw = ow * spec.strideW() - spec.padW() + j;
                  if (iw < 0 || iw >= wd) continue;
                  acc += (double) gv[((s * o + oc) * ho + oh) * wo + ow] * xv[((s * c + ch) * h + ih) * wd + iw];
                }
              }
            }
            wv[idx] = (float) acc;
          }
        }
      });
      write(dw, wv);
    }

    @Override
    public void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
      int n = x.dim(0), c = x.dim(1);
      long inner = x.numel() / Math.max(1L, (long) n * c);
      for (int ch = 0; ch < c; ch++) {
        double acc = accumulate ? get(out, ch) : 0.0;
        for (int s = 0; s < n; s++) {
          for (long e = 0; e < inner; e++) acc += get(x, ((long) s * c + ch) * inner + e);
        }
        set(out, ch, acc);
      }
    }

    @Override
    public void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
      int n = x.dim(0), c = x.dim(1);
      long inner = x.numel() / Math.max(1L, (long) n * c), m = n * inner;
      for (int ch = 0; ch < c; ch++) {
        double mean, var;
        if (training) {
          double sum = 0;
          for (int s = 0; s < n; s++) {
            for (long e = 0; e < inner; e++) sum += get(x, ((long) s * c + ch) * inner + e);
          }
          mean = sum / m;
          double sq = 0;
          for (int s = 0; s < n; s++) {
            for (long e = 0; e < inner; e++) {
              double d = get(x, ((long) s * c + ch) * inner + e) - mean;
              sq += d * d;
            }
          }
          var = sq / m;
          if (runningMean != null) {
            set(runningMean, ch, (1.0 - momentum) * get(runningMean, ch) + (double) momentum * mean);
            set(runningVar, ch, (1.0 - momentum) * get(runningVar, ch) + (double) momentum * var * m / (m - 1));
          }
        } else {
          mean = get(runningMean, ch);
          var = get(runningVar, ch);
        }
        double invstd = 1.0 / Math.sqrt(var + eps);
        if (saveMean != null) {
          set(saveMean, ch, mean);
          set(saveInvstd, ch, invstd);
        }
        double g = gamma == null ? 1.0 : get(gamma, ch), b = beta == null ? 0.0 : get(beta, ch);
        for (int s = 0; s < n; s++) {
          for (long e = 0; e < inner; e++) {
            long i = ((long) s * c + ch) * inner + e;
            set(y, i, (get(x, i) - mean) * invstd * g + b);
          }
        }
      }
    }

    @Override
    public void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
        boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
      int n = x.dim(0), c = x.dim(1);
      long inner = x.numel() / Math.max(1L, (long) n * c), m = n * inner;
      for (int ch = 0; ch < c; ch++) {
        double mean = get(saveMean, ch), invstd = get(saveInvstd, ch), g = gamma == null ? 1.0 : get(gamma, ch);
        double sumDy = 0, sumDyXhat = 0;
        for (int s = 0; s < n; s++) {
          for (long e = 0; e < inner; e++) {
            long i = ((long) s * c + ch) * inner + e;
            sumDy += get(dy, i);
            sumDyXhat += get(dy, i) * (get(x, i) - mean) * invstd;
          }
        }
        if (dBeta != null) set(dBeta, ch, (accumulateBeta ? get(dBeta, ch) : 0.0) + sumDy);
        if (dGamma != null) set(dGamma, ch, (accumulateGamma ? get(dGamma, ch) : 0.0) + sumDyXhat);
        if (dx == null) continue;
        for (int s = 0; s < n; s++) {
          for (long e = 0; e < inner; e++) {
            long i = ((long) s * c + ch) * inner + e;
            double v = get(dy, i);
            if (training) v = v - sumDy / m - (get(x, i) - mean) * invstd * sumDyXhat / m;
            set(dx, i, g * invstd * v);
          }
        }
      }
    }

    @Override
    public void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
      double scale = p < 1f ? 1.0 / (1.0 - p) : 0.0;
      for (long i = 0; i < x.numel(); i++) {
        host(y).set(i, uniform(seed, i) >= p ? (float) (get(x, i) * scale) : 0f);
      }
    }

    @Override
    public void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
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
    public void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
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

    @Override
    public void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
      float f = alpha * get(factor, 0); // rounded to float, as the contract says
      for (long i = 0; i < x.numel(); i++) set(out, i, (double) f * get(x, i));
    }

    @Override
    public void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
      set(out, 0, scale * sumSquaresKernel(x));
    }

    @Override
    public void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
      double sum = correctorKernel(s, a, b, c, out, true);
      set(loss, 0, lossScale * sum);
    }

    @Override
    public void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
      double sum = 0;
      for (long i = 0; i < a.numel(); i++) {
        double d = (double) get(a, i) - get(b, i);
        sum += Math.abs(d);
        if (grad != null) set(grad, i, d > 0 ? gradScale : d < 0 ? -gradScale : 0.0);
      }
      set(loss, 0, lossScale * sum);
    }

    @Override
    public void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
      double total = 0;
      for (long r = 0; r < rows; r++) {
        double label = get(labels, r);
        boolean valid = label >= 0 && label < classes && label == Math.rint(label);
        double max = Double.NEGATIVE_INFINITY;
        for (long j = 0; j < classes; j++) max = Math.max(max, get(logits, r * classes + j));
        double sum = 0;
        for (long j = 0; j < classes; j++) sum += Math.exp(get(logits, r * classes + j) - max);
        double logSum = max + Math.log(sum);
        total += valid ? logSum - get(logits, r * classes + (long) label) : Double.NaN;
        if (grad == null) continue;
        for (long j = 0; j < classes; j++) {
          double g = valid ? (Math.exp(get(logits, r * classes + j) - logSum) - (j == (long) label ? 1 : 0)) / rows
              : Double.NaN;
          set(grad, r * classes + j, g);
        }
      }
      set(loss, 0, rows == 0 ? Double.NaN : total / rows);
    }

    @Override
    public void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
      double max = 0;
      for (long r = 0; r < rows; r++) {
        double sq = 0;
        for (long c = 0; c < cols; c++) {
          double v = get(x, r * cols + c);
          sq += v * v;
        }
        double norm = Math.sqrt(sq);
        if (Double.isNaN(norm) || Double.isNaN(max)) max = Double.NaN;
        else max = Math.max(max, norm);
      }
      set(out, 0, max);
    }

    @Override
    public void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
        Tensor residuals, Tensor norm) {
      long n = rows * cols, base = slot * n;
      for (long i = 0; i < n; i++) {
        set(images, base + i, get(t, i));
        set(residuals, base + i, (double) get(t, i) - get(u, i)); // rounded once: the float difference
      }
      double max = 0;
      for (long r = 0; r < rows; r++) {
        double sq = 0;
        for (long c = 0; c < cols; c++) {
          double v = get(residuals, base + r * cols + c);
          sq += v * v;
        }
        double rowNorm = Math.sqrt(sq);
        max = Double.isNaN(rowNorm) || Double.isNaN(max) ? Double.NaN : Math.max(max, rowNorm);
      }
      set(norm, 0, max);
    }

    /**
     * Per row: the Gram matrix of the residuals in double, the weights by Gaussian elimination with
     * partial pivoting on the ridge-regularised normal equations (H + lambda I) alpha = 1, then the
     * combination of the images in double, rounded once.
     */
    @Override
    public void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
        Tensor next) {
      long n = rows * cols;
      for (long r = 0; r < rows; r++) {
        long off = r * cols;
        double[][] h = new double[count][count];
        for (int i = 0; i < count; i++) {
          for (int j = 0; j < count; j++) {
            double d = 0;
            for (long c = 0; c < cols; c++) d += (double) get(residuals, i * n + off + c) * get(residuals, j * n + off + c);
            h[i][j] = d;
          }
        }
        double[] alpha = andersonWeights(h);
        for (long c = 0; c < cols; c++) {
          double v;
          if (alpha == null) { // no usable combination: the newest image (the plain step)
            v = get(images, newest * n + off + c);
          } else {
            v = 0;
            for (int i = 0; i < count; i++) v += alpha[i] * get(images, i * n + off + c);
          }
          set(next, off + c, v);
        }
      }
    }

    @Override
    public void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
      sgdKernel(w, g, velocity, get(lr, 0), momentum, weightDecay);
    }

    @Override
    public void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
        float beta2, float eps, float weightDecay) {
      double stepSize = get(coefficients, 0), invSqrtBc2 = get(coefficients, 1);
      for (long i = 0; i < w.numel(); i++) {
        double wi = get(w, i);
        double d = get(g, i) + (double) weightDecay * wi;
        double mi = beta1 * (double) get(m, i) + (1 - (double) beta1) * d;
        double vi = beta2 * (double) get(v, i) + (1 - (double) beta2) * d * d;
        set(m, i, mi);
        set(v, i, vi);
        set(w, i, wi - stepSize * mi / (Math.sqrt(vi) * invSqrtBc2 + eps));
      }
    }

    @Override
    public void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
      long c = ((long) get(counter, 0) << 24) + (long) get(counter, 1);
      dropoutKernel(x, p, bits(seed, c + offset), y);
    }

    @Override
    public void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
        Tensor weightRec, Tensor weightTight) {
      double r = get(rec, 0), t = get(tight, 0);
      if (clamp == 0f || !(r > 0)) {
        set(weightRec, 0, lambdaRec);
        set(weightTight, 0, lambdaTight);
        return;
      }
      double u = t / ((double) clamp * r), th = Math.tanh(u), sech2 = 1 - th * th;
      set(weightRec, 0, lambdaRec - (double) lambdaTight * clamp * (th - u * sech2));
      set(weightTight, 0, (double) lambdaTight * sech2);
    }
  }
}
