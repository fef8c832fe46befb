package io.idemnet.backend.cpu;

import io.idemnet.nativelib.NativeCallException;
import io.idemnet.nativelib.NativeLibraries;
import io.idemnet.nativelib.NativeLibraryException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written FFM downcall handles for {@code libidemnet_cpu} (one per function of
 * {@code native/include/idemnet.h}; jextract is not used). Callers ({@link CpuBackend}) have
 * validated every argument already; each method here turns a non-zero status into a
 * {@link NativeCallException} carrying {@code idemnet_last_error()}.
 */
final class CpuNative {
  private static final int ABI_VERSION = 1;
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
  private static final ValueLayout PTR = ValueLayout.ADDRESS;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB;

  static {
    // libgomp (loaded with our library) reads OMP_WAIT_POLICY once, when it is loaded. By default
    // its threads spin after each parallel region and take the cores that OpenBLAS's threads need
    // for the next GEMM: B2's MB step ran 5x slower. PASSIVE makes them sleep instead. A value the
    // user set is kept.
    setEnvIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    // Our library names libopenblas.so.0 as a dependency; loading JavaCPP's copy first lets the
    // dynamic linker resolve it by soname, with no system BLAS.
    try {
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    } catch (Throwable e) {
      throw new NativeLibraryException("cannot load OpenBLAS from org.bytedeco:openblas (" + e + ")", e);
    }
    LIB = NativeLibraries.load("idemnet_cpu");
  }

  /** libc setenv(name, value, 0), so that native libraries loaded afterwards see the value. */
  private static void setEnvIfAbsent(String name, String value) {
    MemorySegment setenv = LINKER.defaultLookup().find("setenv").orElse(null);
    if (setenv == null) return; // not a POSIX libc: keep the default behaviour
    MethodHandle h = LINKER.downcallHandle(setenv, FunctionDescriptor.of(I32, PTR, PTR, I32));
    try (Arena arena = Arena.ofConfined()) {
      int ignored = (int) h.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
    } catch (Throwable e) {
      throw new NativeLibraryException("cannot set " + name + " for the native library: " + e, e);
    }
  }

  private static MethodHandle handle(String name, FunctionDescriptor fd) {
    MemorySegment symbol = LIB.find(name).orElseThrow(
        () -> new NativeLibraryException("libidemnet_cpu has no symbol " + name + " (stale build?)"));
    return LINKER.downcallHandle(symbol, fd);
  }

  private static FunctionDescriptor status(java.lang.foreign.MemoryLayout... args) {
    return FunctionDescriptor.of(I32, args);
  }

  private static final MethodHandle LAST_ERROR = handle("idemnet_last_error", FunctionDescriptor.of(PTR));
  private static final MethodHandle ABI = handle("idemnet_abi_version", FunctionDescriptor.of(I32));
  private static final MethodHandle SET_THREADS = handle("idemnet_set_num_threads", status(I32));
  private static final MethodHandle GET_THREADS = handle("idemnet_get_num_threads", FunctionDescriptor.of(I32));
  private static final MethodHandle FILL = handle("idemnet_fill", status(PTR, I64, F32));
  private static final MethodHandle COPY = handle("idemnet_copy", status(PTR, PTR, I64));
  private static final MethodHandle UNIFORM = handle("idemnet_rand_uniform", status(PTR, I64, I64, F32, F32));
  private static final MethodHandle NORMAL = handle("idemnet_rand_normal", status(PTR, I64, I64, F32, F32));
  private static final MethodHandle SGEMM = handle("idemnet_sgemm",
      status(I32, I32, I64, I64, I64, F32, PTR, I64, PTR, I64, F32, PTR, I64));
  private static final MethodHandle SGEMM_BATCHED = handle("idemnet_sgemm_strided_batched",
      status(I32, I32, I64, I64, I64, F32, PTR, I64, I64, PTR, I64, I64, F32, PTR, I64, I64, I64));
  private static final MethodHandle ADD_BIAS = handle("idemnet_add_bias", status(PTR, PTR, PTR, I64, I64));
  private static final MethodHandle BINARY = handle("idemnet_binary", status(I32, PTR, PTR, PTR, I64));
  private static final MethodHandle SCALE = handle("idemnet_scale", status(PTR, F32, PTR, I64));
  private static final MethodHandle AXPY = handle("idemnet_axpy", status(F32, PTR, PTR, I64));
  private static final MethodHandle ACT_FWD = handle("idemnet_activation_forward", status(I32, F32, PTR, PTR, I64));
  private static final MethodHandle ACT_BWD = handle("idemnet_activation_backward",
      status(I32, F32, PTR, PTR, PTR, PTR, I64));
  private static final MethodHandle SUM = handle("idemnet_sum", status(PTR, I64, PTR));
  private static final MethodHandle SUM_SQUARES = handle("idemnet_sum_squares", status(PTR, I64, PTR));
  private static final MethodHandle SUM_ROWS = handle("idemnet_sum_rows", status(PTR, I64, I64, F32, PTR));
  private static final MethodHandle CORRECTOR = handle("idemnet_corrector",
      status(PTR, PTR, PTR, F32, PTR, I64, PTR));

  private static final MethodHandle SGD = handle("idemnet_sgd_update", status(PTR, PTR, PTR, I64, F32, F32, F32));
  private static final MethodHandle ADAM = handle("idemnet_adam_update",
      status(PTR, PTR, PTR, PTR, I64, F32, F32, F32, F32, F32, I64));

  private static final MethodHandle CONV_FWD = handle("idemnet_conv2d_forward",
      status(PTR, PTR, PTR, PTR, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle CONV_DATA = handle("idemnet_conv2d_backward_data",
      status(PTR, PTR, PTR, PTR, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle CONV_WEIGHT = handle("idemnet_conv2d_backward_weight",
      status(PTR, PTR, PTR, F32, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle CHANNEL_SUMS = handle("idemnet_channel_sums", status(PTR, I64, I64, I64, F32, PTR));
  private static final MethodHandle BN_FWD = handle("idemnet_batch_norm2d_forward",
      status(PTR, PTR, PTR, PTR, I64, I64, I64, I32, F32, F32, PTR, PTR, PTR, PTR));
  private static final MethodHandle BN_BWD = handle("idemnet_batch_norm2d_backward",
      status(PTR, PTR, PTR, PTR, PTR, I32, PTR, PTR, F32, PTR, F32, I64, I64, I64));
  private static final MethodHandle DROPOUT = handle("idemnet_dropout", status(PTR, PTR, I64, I64, F32));

  private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE;
  private static final MethodHandle SCALE_BY = handle("idemnet_scale_by", status(PTR, PTR, F32, PTR, I64));
  private static final MethodHandle SUM_SQUARES_TO = handle("idemnet_sum_squares_to", status(PTR, I64, F64, PTR));
  private static final MethodHandle CORRECTOR_TO = handle("idemnet_corrector_to",
      status(PTR, PTR, PTR, F32, PTR, I64, F64, PTR));
  private static final MethodHandle L1_LOSS = handle("idemnet_l1_loss", status(PTR, PTR, I64, F32, PTR, F64, PTR));
  private static final MethodHandle CROSS_ENTROPY = handle("idemnet_softmax_cross_entropy",
      status(PTR, PTR, I64, I64, PTR, PTR));
  private static final MethodHandle MAX_ROW_NORM = handle("idemnet_max_row_norm", status(PTR, I64, I64, PTR));
  private static final MethodHandle SGD_SCHEDULED = handle("idemnet_sgd_update_scheduled",
      status(PTR, PTR, PTR, I64, PTR, F32, F32));
  private static final MethodHandle ADAM_SCHEDULED = handle("idemnet_adam_update_scheduled",
      status(PTR, PTR, PTR, PTR, I64, PTR, F32, F32, F32, F32));
  private static final MethodHandle TIGHT_CLAMP = handle("idemnet_tight_clamp_weights",
      status(PTR, PTR, F32, F32, F32, PTR, PTR));
  private static final MethodHandle DROPOUT_COUNTED = handle("idemnet_dropout_counted",
      status(PTR, PTR, I64, I64, PTR, I64, F32));

  static {
    int abi = (int) invoke(ABI);
    if (abi != ABI_VERSION) {
      throw new NativeLibraryException("libidemnet_cpu has ABI version " + abi + ", this jar needs "
          + ABI_VERSION + "; rebuild the native library");
    }
  }

  private CpuNative() {}

  /** Forces class initialisation (library loading); throws NativeLibraryException on failure. */
  static void ensureLoaded() {}

  private static Object invoke(MethodHandle h, Object... args) {
    try {
      return h.invokeWithArguments(args);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException(e);
    }
  }

  private static void check(String op, int status) {
    if (status != 0) throw new NativeCallException(op, status, lastError());
  }

  static String lastError() {
    try {
      MemorySegment p = (MemorySegment) LAST_ERROR.invokeExact();
      return p.reinterpret(4096).getString(0);
    } catch (Throwable e) {
      return "(could not read idemnet_last_error: " + e + ")";
    }
  }

  // The methods below use invokeExact (no boxing) because they sit on the hot path.

  static void setNumThreads(int n) {
    try {
      check("set_num_threads", (int) SET_THREADS.invokeExact(n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static int getNumThreads() {
    try {
      return (int) GET_THREADS.invokeExact();
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void fill(MemorySegment x, long n, float v) {
    try {
      check("fill", (int) FILL.invokeExact(x, n, v));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void copy(MemorySegment src, MemorySegment dst, long n) {
    try {
      check("copy", (int) COPY.invokeExact(src, dst, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void uniform(MemorySegment x, long n, long seed, float low, float high) {
    try {
      check("rand_uniform", (int) UNIFORM.invokeExact(x, n, seed, low, high));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void normal(MemorySegment x, long n, long seed, float mean, float std) {
    try {
      check("rand_normal", (int) NORMAL.invokeExact(x, n, seed, mean, std));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void sgemm(int ta, int tb, long m, long n, long k, float alpha, MemorySegment a, long lda,
      MemorySegment b, long ldb, float beta, MemorySegment c, long ldc) {
    try {
      check("sgemm", (int) SGEMM.invokeExact(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void sgemmBatched(int ta, int tb, long m, long n, long k, float alpha, MemorySegment a, long lda,
      long strideA, MemorySegment b, long ldb, long strideB, float beta, MemorySegment c, long ldc,
      long strideC, long batch) {
    try {
      check("sgemm_strided_batched", (int) SGEMM_BATCHED.invokeExact(ta, tb, m, n, k, alpha, a, lda, strideA,
          b, ldb, strideB, beta, c, ldc, strideC, batch));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void addBias(MemorySegment x, MemorySegment bias, MemorySegment out, long rows, long cols) {
    try {
      check("add_bias", (int) ADD_BIAS.invokeExact(x, bias, out, rows, cols));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void binary(int op, MemorySegment a, MemorySegment b, MemorySegment out, long n) {
    try {
      check("binary", (int) BINARY.invokeExact(op, a, b, out, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void scale(MemorySegment x, float alpha, MemorySegment out, long n) {
    try {
      check("scale", (int) SCALE.invokeExact(x, alpha, out, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void axpy(float alpha, MemorySegment x, MemorySegment y, long n) {
    try {
      check("axpy", (int) AXPY.invokeExact(alpha, x, y, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void activationForward(int act, float param, MemorySegment x, MemorySegment y, long n) {
    try {
      check("activation_forward", (int) ACT_FWD.invokeExact(act, param, x, y, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void activationBackward(int act, float param, MemorySegment x, MemorySegment y, MemorySegment dy,
      MemorySegment dx, long n) {
    try {
      check("activation_backward", (int) ACT_BWD.invokeExact(act, param, x, y, dy, dx, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /** Reductions write a double through a pointer; a per-thread scratch slot avoids allocation. */
  private static final ThreadLocal<MemorySegment> SCRATCH =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_DOUBLE));

  static double sum(MemorySegment x, long n) {
    MemorySegment out = SCRATCH.get();
    try {
      check("sum", (int) SUM.invokeExact(x, n, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
    return out.get(ValueLayout.JAVA_DOUBLE, 0);
  }

  static double sumSquares(MemorySegment x, long n) {
    MemorySegment out = SCRATCH.get();
    try {
      check("sum_squares", (int) SUM_SQUARES.invokeExact(x, n, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
    return out.get(ValueLayout.JAVA_DOUBLE, 0);
  }

  static void sumRows(MemorySegment x, long rows, long cols, float beta, MemorySegment out) {
    try {
      check("sum_rows", (int) SUM_ROWS.invokeExact(x, rows, cols, beta, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /** Returns sum((a - c)^2) when withLoss, else NaN. */
  static double corrector(MemorySegment a, MemorySegment b, MemorySegment c, float s, MemorySegment out, long n,
      boolean withLoss) {
    MemorySegment loss = withLoss ? SCRATCH.get() : MemorySegment.NULL;
    try {
      check("corrector", (int) CORRECTOR.invokeExact(a, b, c, s, out, n, loss));
    } catch (Throwable e) {
      throw rethrow(e);
    }
    return withLoss ? loss.get(ValueLayout.JAVA_DOUBLE, 0) : Double.NaN;
  }

  static void sgd(MemorySegment w, MemorySegment g, MemorySegment v, long n, float lr, float momentum, float wd) {
    try {
      check("sgd_update", (int) SGD.invokeExact(w, g, v, n, lr, momentum, wd));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void adam(MemorySegment w, MemorySegment g, MemorySegment m, MemorySegment v, long n, float lr, float beta1,
      float beta2, float eps, float wd, long step) {
    try {
      check("adam_update", (int) ADAM.invokeExact(w, g, m, v, n, lr, beta1, beta2, eps, wd, step));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /**
   * Convolution geometry in conv2d terms (image [n, c, h, w], weight [o, c, kh, kw], output
   * [n, o, ho, wo], stride, padding), in the argument order of idemnet.h.
   */
  record ConvDims(long n, long c, long h, long w, long o, long kh, long kw, long sh, long sw, long ph, long pw,
      long ho, long wo) {}

  static void conv2dForward(MemorySegment x, MemorySegment weight, MemorySegment bias, MemorySegment y, ConvDims d) {
    try {
      check("conv2d_forward", (int) CONV_FWD.invokeExact(x, weight, bias, y, d.n(), d.c(), d.h(), d.w(), d.o(),
          d.kh(), d.kw(), d.sh(), d.sw(), d.ph(), d.pw(), d.ho(), d.wo()));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void conv2dBackwardData(MemorySegment dy, MemorySegment weight, MemorySegment bias, MemorySegment dx,
      ConvDims d) {
    try {
      check("conv2d_backward_data", (int) CONV_DATA.invokeExact(dy, weight, bias, dx, d.n(), d.c(), d.h(), d.w(),
          d.o(), d.kh(), d.kw(), d.sh(), d.sw(), d.ph(), d.pw(), d.ho(), d.wo()));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void conv2dBackwardWeight(MemorySegment x, MemorySegment dy, MemorySegment dw, float beta, ConvDims d) {
    try {
      check("conv2d_backward_weight", (int) CONV_WEIGHT.invokeExact(x, dy, dw, beta, d.n(), d.c(), d.h(), d.w(),
          d.o(), d.kh(), d.kw(), d.sh(), d.sw(), d.ph(), d.pw(), d.ho(), d.wo()));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void channelSums(MemorySegment x, long n, long c, long hw, float beta, MemorySegment out) {
    try {
      check("channel_sums", (int) CHANNEL_SUMS.invokeExact(x, n, c, hw, beta, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void batchNormForward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y, long n,
      long c, long hw, int training, float eps, float momentum, MemorySegment runningMean, MemorySegment runningVar,
      MemorySegment saveMean, MemorySegment saveInvstd) {
    try {
      check("batch_norm2d_forward", (int) BN_FWD.invokeExact(x, gamma, beta, y, n, c, hw, training, eps, momentum,
          runningMean, runningVar, saveMean, saveInvstd));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void batchNormBackward(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment saveMean,
      MemorySegment saveInvstd, int training, MemorySegment dx, MemorySegment dGamma, float accGamma,
      MemorySegment dBeta, float accBeta, long n, long c, long hw) {
    try {
      check("batch_norm2d_backward", (int) BN_BWD.invokeExact(x, dy, gamma, saveMean, saveInvstd, training, dx,
          dGamma, accGamma, dBeta, accBeta, n, c, hw));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void dropout(MemorySegment x, MemorySegment y, long n, long seed, float p) {
    try {
      check("dropout", (int) DROPOUT.invokeExact(x, y, n, seed, p));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  // ---- device-resident step operations (see idemnet.h)

  static void scaleBy(MemorySegment x, MemorySegment factor, float alpha, MemorySegment out, long n) {
    try {
      check("scale_by", (int) SCALE_BY.invokeExact(x, factor, alpha, out, n));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void sumSquaresTo(MemorySegment x, long n, double scale, MemorySegment out) {
    try {
      check("sum_squares_to", (int) SUM_SQUARES_TO.invokeExact(x, n, scale, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void correctorTo(MemorySegment a, MemorySegment b, MemorySegment c, float s, MemorySegment out, long n,
      double lossScale, MemorySegment loss) {
    try {
      check("corrector_to", (int) CORRECTOR_TO.invokeExact(a, b, c, s, out, n, lossScale, loss));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void l1Loss(MemorySegment a, MemorySegment b, long n, float gradScale, MemorySegment grad, double lossScale,
      MemorySegment loss) {
    try {
      check("l1_loss", (int) L1_LOSS.invokeExact(a, b, n, gradScale, grad, lossScale, loss));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void softmaxCrossEntropy(MemorySegment logits, MemorySegment labels, long rows, long classes,
      MemorySegment loss, MemorySegment grad) {
    try {
      check("softmax_cross_entropy", (int) CROSS_ENTROPY.invokeExact(logits, labels, rows, classes, loss, grad));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void maxRowNorm(MemorySegment x, long rows, long cols, MemorySegment out) {
    try {
      check("max_row_norm", (int) MAX_ROW_NORM.invokeExact(x, rows, cols, out));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void sgdScheduled(MemorySegment w, MemorySegment g, MemorySegment v, long n, MemorySegment lr, float momentum,
      float wd) {
    try {
      check("sgd_update_scheduled", (int) SGD_SCHEDULED.invokeExact(w, g, v, n, lr, momentum, wd));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void adamScheduled(MemorySegment w, MemorySegment g, MemorySegment m, MemorySegment v, long n,
      MemorySegment coefficients, float beta1, float beta2, float eps, float wd) {
    try {
      check("adam_update_scheduled",
          (int) ADAM_SCHEDULED.invokeExact(w, g, m, v, n, coefficients, beta1, beta2, eps, wd));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void tightClampWeights(MemorySegment rec, MemorySegment tight, float lambdaRec, float lambdaTight, float clamp,
      MemorySegment weightRec, MemorySegment weightTight) {
    try {
      check("tight_clamp_weights",
          (int) TIGHT_CLAMP.invokeExact(rec, tight, lambdaRec, lambdaTight, clamp, weightRec, weightTight));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  static void dropoutCounted(MemorySegment x, MemorySegment y, long n, long seed, MemorySegment counter, long offset,
      float p) {
    try {
      check("dropout_counted", (int) DROPOUT_COUNTED.invokeExact(x, y, n, seed, counter, offset, p));
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable e) {
    if (e instanceof RuntimeException r) return r;
    if (e instanceof Error err) throw err;
    return new IllegalStateException(e);
  }
}
