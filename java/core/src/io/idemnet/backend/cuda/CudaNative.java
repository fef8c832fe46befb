package io.idemnet.backend.cuda;

import io.idemnet.nativelib.NativeCallException;
import io.idemnet.nativelib.NativeLibraries;
import io.idemnet.nativelib.NativeLibraryException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written FFM downcall handles for {@code libidemnet_cuda} (one per function of
 * {@code native/include/idemnet_cuda.h}). Device pointers, the stream and the context are passed
 * as {@code long}: on the 64-bit platforms we build for, a pointer and an int64 argument travel
 * the same way, and the hot path then allocates no {@link MemorySegment} per call. Host pointers
 * are segments. A non-zero status becomes a {@link NativeCallException} carrying
 * {@code idemnet_cuda_last_error()}.
 *
 * <p>Loading this class needs no GPU: the library links the CUDA runtime statically and only
 * asks the driver for devices when told to. A missing or stale library fails class
 * initialisation with a {@link NativeLibraryException}.
 */
final class CudaNative {
  /** Must equal IDEMNET_CUDA_ABI_VERSION in idemnet_cuda.h. */
  static final int ABI_VERSION = 2;
  /** IDEMNET_CUDA_REDUCE_BLOCKS. */
  static final int REDUCE_BLOCKS = 1024;
  /** Status codes of idemnet.h. */
  static final int ERR_OUT_OF_MEMORY = 2;
  static final int ERR_NO_DEVICE = 4;

  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
  private static final ValueLayout PTR = ValueLayout.ADDRESS;
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB;

  static {
    // Options read by the native library through getenv, settable as system properties.
    setEnvFromProperty("idemnet.cublas.library", "IDEMNET_CUBLAS_LIBRARY");
    setEnvFromProperty("idemnet.cuda.gemm", "IDEMNET_CUDA_GEMM");
    LIB = NativeLibraries.load("idemnet_cuda");
  }

  private static void setEnvFromProperty(String property, String variable) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) return;
    MemorySegment setenv = LINKER.defaultLookup().find("setenv").orElse(null);
    if (setenv == null) return;
    MethodHandle h = LINKER.downcallHandle(setenv, FunctionDescriptor.of(I32, PTR, PTR, I32));
    try (Arena arena = Arena.ofConfined()) {
      int ignored = (int) h.invokeExact(arena.allocateFrom(variable), arena.allocateFrom(value), 1);
    } catch (Throwable e) {
      throw new NativeLibraryException("cannot set " + variable + " for the CUDA library: " + e, e);
    }
  }

  private static MethodHandle handle(String name, FunctionDescriptor fd) {
    MemorySegment symbol = LIB.find(name).orElseThrow(
        () -> new NativeLibraryException("libidemnet_cuda has no symbol " + name + " (stale build?)"));
    return LINKER.downcallHandle(symbol, fd);
  }

  private static FunctionDescriptor status(MemoryLayout... args) {
    return FunctionDescriptor.of(I32, args);
  }

  private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE;
  private static final MethodHandle WRITE_SCALARS = handle("idemnet_cuda_write_scalars", status(I64, PTR, I64, I64));
  private static final MethodHandle SCALE_BY = handle("idemnet_cuda_scale_by", status(I64, I64, F32, I64, I64, I64));
  private static final MethodHandle SUM_SQUARES_TO = handle("idemnet_cuda_sum_squares_to",
      status(I64, I64, F64, I64, I64, I64));
  private static final MethodHandle CORRECTOR_TO = handle("idemnet_cuda_corrector_to",
      status(I64, I64, I64, F32, I64, I64, F64, I64, I64, I64));
  private static final MethodHandle L1_LOSS = handle("idemnet_cuda_l1_loss",
      status(I64, I64, I64, F32, I64, F64, I64, I64, I64));
  private static final MethodHandle CROSS_ENTROPY = handle("idemnet_cuda_softmax_cross_entropy",
      status(I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle MAX_ROW_NORM = handle("idemnet_cuda_max_row_norm",
      status(I64, I64, I64, I64, I64, I64));
  private static final MethodHandle SGD_SCHEDULED = handle("idemnet_cuda_sgd_update_scheduled",
      status(I64, I64, I64, I64, I64, F32, F32, I64));
  private static final MethodHandle ADAM_SCHEDULED = handle("idemnet_cuda_adam_update_scheduled",
      status(I64, I64, I64, I64, I64, I64, F32, F32, F32, F32, I64));
  private static final MethodHandle TIGHT_CLAMP = handle("idemnet_cuda_tight_clamp_weights",
      status(I64, I64, F32, F32, F32, I64, I64, I64));
  private static final MethodHandle DROPOUT_COUNTED = handle("idemnet_cuda_dropout_counted",
      status(I64, I64, I64, I64, I64, I64, F32, I64));

  private static final MethodHandle LAST_ERROR = handle("idemnet_cuda_last_error", FunctionDescriptor.of(PTR));
  private static final MethodHandle ABI = handle("idemnet_cuda_abi_version", FunctionDescriptor.of(I32));
  private static final MethodHandle DEVICE_COUNT = handle("idemnet_cuda_device_count", status(PTR));
  private static final MethodHandle DEVICE_NAME = handle("idemnet_cuda_device_name", status(I32, PTR, I32));
  private static final MethodHandle VERSIONS = handle("idemnet_cuda_versions", status(PTR, PTR));
  private static final MethodHandle CONTEXT_CREATE = handle("idemnet_cuda_context_create", status(I32, PTR));
  private static final MethodHandle CONTEXT_STREAM = handle("idemnet_cuda_context_stream", status(I64, PTR));
  private static final MethodHandle REDUCE_WORKSPACE = handle("idemnet_cuda_context_reduce_workspace",
      status(I64, PTR));
  private static final MethodHandle GEMM_ENGINE = handle("idemnet_cuda_gemm_engine", status(I64, PTR, PTR));
  private static final MethodHandle MALLOC = handle("idemnet_cuda_malloc", status(I64, I64, PTR));
  private static final MethodHandle ALLOCATOR_STATS = handle("idemnet_cuda_allocator_stats", status(I64, PTR));
  private static final MethodHandle HOST_ALLOC = handle("idemnet_cuda_host_alloc", status(I64, PTR));
  private static final MethodHandle GRAPH_END = handle("idemnet_cuda_graph_end", status(I64, PTR));
  private static final MethodHandle GRAPH_CAPTURING = handle("idemnet_cuda_graph_capturing", status(I64, PTR));
  // im2col/col2im are exported for native callers and tests of the library; the backend uses the
  // conv entry points. Their presence is still checked here.
  private static final MethodHandle IM2COL = handle("idemnet_cuda_im2col",
      status(I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle COL2IM = handle("idemnet_cuda_col2im",
      status(I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));

  private static final MethodHandle FILL = handle("idemnet_cuda_fill", status(I64, I64, F32, I64));
  private static final MethodHandle UNIFORM = handle("idemnet_cuda_rand_uniform", status(I64, I64, I64, F32, F32, I64));
  private static final MethodHandle NORMAL = handle("idemnet_cuda_rand_normal", status(I64, I64, I64, F32, F32, I64));
  private static final MethodHandle ADD_BIAS = handle("idemnet_cuda_add_bias", status(I64, I64, I64, I64, I64, I64));
  private static final MethodHandle BINARY = handle("idemnet_cuda_binary", status(I32, I64, I64, I64, I64, I64));
  private static final MethodHandle SCALE = handle("idemnet_cuda_scale", status(I64, F32, I64, I64, I64));
  private static final MethodHandle AXPY = handle("idemnet_cuda_axpy", status(F32, I64, I64, I64, I64));
  private static final MethodHandle ACTIVATION_FORWARD = handle("idemnet_cuda_activation_forward", status(I32, F32, I64, I64, I64, I64));
  private static final MethodHandle ACTIVATION_BACKWARD = handle("idemnet_cuda_activation_backward", status(I32, F32, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle SUM = handle("idemnet_cuda_sum", status(I64, I64, I64, I64, I64));
  private static final MethodHandle SUM_SQUARES = handle("idemnet_cuda_sum_squares", status(I64, I64, I64, I64, I64));
  private static final MethodHandle SUM_ROWS = handle("idemnet_cuda_sum_rows", status(I64, I64, I64, F32, I64, I64));
  private static final MethodHandle CHANNEL_SUMS = handle("idemnet_cuda_channel_sums", status(I64, I64, I64, I64, F32, I64, I64));
  private static final MethodHandle CORRECTOR = handle("idemnet_cuda_corrector", status(I64, I64, I64, F32, I64, I64, I64, I64, I64));
  private static final MethodHandle SGD = handle("idemnet_cuda_sgd_update", status(I64, I64, I64, I64, F32, F32, F32, I64));
  private static final MethodHandle ADAM = handle("idemnet_cuda_adam_update", status(I64, I64, I64, I64, I64, F32, F32, F32, F32, F32, I64, I64));
  private static final MethodHandle BATCH_NORM_FORWARD = handle("idemnet_cuda_batch_norm2d_forward", status(I64, I64, I64, I64, I64, I64, I64, I32, F32, F32, I64, I64, I64, I64, I64));
  private static final MethodHandle BATCH_NORM_BACKWARD = handle("idemnet_cuda_batch_norm2d_backward", status(I64, I64, I64, I64, I64, I32, I64, I64, F32, I64, F32, I64, I64, I64, I64));
  private static final MethodHandle DROPOUT = handle("idemnet_cuda_dropout", status(I64, I64, I64, I64, F32, I64));
  private static final MethodHandle SGEMM = handle("idemnet_cuda_sgemm", status(I64, I32, I32, I64, I64, I64, F32, I64, I64, I64, I64, F32, I64, I64));
  private static final MethodHandle SGEMM_BATCHED = handle("idemnet_cuda_sgemm_strided_batched", status(I64, I32, I32, I64, I64, I64, F32, I64, I64, I64, I64, I64, I64, F32, I64, I64, I64, I64));
  private static final MethodHandle CONV2D_FORWARD = handle("idemnet_cuda_conv2d_forward", status(I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle CONV2D_BACKWARD_DATA = handle("idemnet_cuda_conv2d_backward_data", status(I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle CONV2D_BACKWARD_WEIGHT = handle("idemnet_cuda_conv2d_backward_weight", status(I64, I64, I64, I64, F32, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64, I64));
  private static final MethodHandle FREE = handle("idemnet_cuda_free", status(I64, I64));
  private static final MethodHandle EMPTY_CACHE = handle("idemnet_cuda_empty_cache", status(I64));
  private static final MethodHandle COPY_H2_D = handle("idemnet_cuda_copy_h2d", status(I64, I64, I64, I64));
  private static final MethodHandle COPY_D2_H = handle("idemnet_cuda_copy_d2h", status(I64, I64, I64, I64));
  private static final MethodHandle COPY_D2_D = handle("idemnet_cuda_copy_d2d", status(I64, I64, I64, I64));
  private static final MethodHandle MEMSET_ZERO = handle("idemnet_cuda_memset_zero", status(I64, I64, I64));
  private static final MethodHandle SYNCHRONIZE = handle("idemnet_cuda_synchronize", status(I64));
  private static final MethodHandle SET_TF32 = handle("idemnet_cuda_set_tf32", status(I64, I32));
  private static final MethodHandle CONTEXT_DESTROY = handle("idemnet_cuda_context_destroy", status(I64));
  private static final MethodHandle GRAPH_BEGIN = handle("idemnet_cuda_graph_begin", status(I64));
  private static final MethodHandle GRAPH_LAUNCH = handle("idemnet_cuda_graph_launch", status(I64, I64));
  private static final MethodHandle GRAPH_DESTROY = handle("idemnet_cuda_graph_destroy", status(I64));
  private static final MethodHandle HOST_FREE = handle("idemnet_cuda_host_free", status(I64));
  static {
    int abi;
    try {
      abi = (int) ABI.invokeExact();
    } catch (Throwable e) {
      throw rethrow(e);
    }
    if (abi != ABI_VERSION) {
      throw new NativeLibraryException("libidemnet_cuda has ABI version " + abi + ", this jar needs "
          + ABI_VERSION + "; rebuild the native library");
    }
  }

  private CudaNative() {}

  /** Forces class initialisation (library loading); throws on failure. */
  static void ensureLoaded() {}

  /** Out-parameters of the calls below: a per-thread 64-byte slot, so they allocate nothing. */
  private static final ThreadLocal<MemorySegment> OUT =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(64, 8));

  static String lastError() {
    try {
      MemorySegment p = (MemorySegment) LAST_ERROR.invokeExact();
      return p.reinterpret(4096).getString(0);
    } catch (Throwable e) {
      return "(could not read idemnet_cuda_last_error: " + e + ")";
    }
  }

  private static void check(String op, int status) {
    if (status != 0) throw new NativeCallException(op, status, lastError());
  }

  private static RuntimeException rethrow(Throwable e) {
    if (e instanceof RuntimeException r) return r;
    if (e instanceof Error err) throw err;
    return new IllegalStateException(e);
  }

  /** The device count and status of idemnet_cuda_device_count, and its message when it failed. */
  record DeviceCount(int status, int count, String message) {}

  static DeviceCount deviceCount() {
    MemorySegment out = OUT.get();
    out.set(I32, 0, 0);
    int status;
    try {
      status = (int) DEVICE_COUNT.invokeExact(out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    return new DeviceCount(status, out.get(I32, 0), status == 0 ? "" : lastError());
  }

  static String deviceName(int device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(256);
      int status = (int) DEVICE_NAME.invokeExact(device, buf, 256);
      check("device_name", status);
      return buf.getString(0);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /** {runtime version built against, driver version}; the driver's is 0 when there is none. */
  static int[] versions() {
    MemorySegment out = OUT.get();
    out.set(I32, 0, 0);
    out.set(I32, 4, 0);
    try {
      int ignored = (int) VERSIONS.invokeExact(out, out.asSlice(4));
    } catch (Throwable e) {
      throw rethrow(e);
    }
    return new int[] {out.get(I32, 0), out.get(I32, 4)};
  }

  static long contextCreate(int device) {
    return outPointer("context_create", CONTEXT_CREATE, device);
  }

  static long contextStream(long ctx) {
    return outPointer("context_stream", CONTEXT_STREAM, ctx);
  }

  static long reduceWorkspace(long ctx) {
    return outPointer("context_reduce_workspace", REDUCE_WORKSPACE, ctx);
  }

  static long malloc(long ctx, long bytes) {
    MemorySegment out = OUT.get();
    int status;
    try {
      status = (int) MALLOC.invokeExact(ctx, bytes, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("malloc", status);
    return out.get(I64, 0);
  }

  static MemorySegment hostAlloc(long bytes) {
    MemorySegment out = OUT.get();
    int status;
    try {
      status = (int) HOST_ALLOC.invokeExact(bytes, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("host_alloc", status);
    return MemorySegment.ofAddress(out.get(I64, 0)).reinterpret(bytes);
  }

  static long graphEnd(long ctx) {
    return outPointer("graph_end", GRAPH_END, ctx);
  }

  static boolean graphCapturing(long ctx) {
    MemorySegment out = OUT.get();
    int status;
    try {
      status = (int) GRAPH_CAPTURING.invokeExact(ctx, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("graph_capturing", status);
    return out.get(I32, 0) != 0;
  }

  /** stats[0..4]: bytes in use, bytes cached, cudaMalloc calls, cache hits, blocks in use. */
  static long[] allocatorStats(long ctx) {
    MemorySegment out = OUT.get();
    int status;
    try {
      status = (int) ALLOCATOR_STATS.invokeExact(ctx, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("allocator_stats", status);
    return out.asSlice(0, 40).toArray(ValueLayout.JAVA_LONG);
  }

  /** Whether the context multiplies with cuBLAS, and the library's message about it. */
  record GemmEngine(boolean cublas, String detail) {}

  static GemmEngine gemmEngine(long ctx) {
    MemorySegment out = OUT.get();
    int status;
    try {
      status = (int) GEMM_ENGINE.invokeExact(ctx, out, out.asSlice(8));
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("gemm_engine", status);
    String detail = MemorySegment.ofAddress(out.get(I64, 8)).reinterpret(4096).getString(0);
    return new GemmEngine(out.get(I32, 0) != 0, detail);
  }

  private static long outPointer(String op, MethodHandle h, long arg) {
    MemorySegment out = OUT.get();
    out.set(I64, 0, 0L);
    int status;
    try {
      status = (int) h.invokeExact(arg, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check(op, status);
    return out.get(I64, 0);
  }

  private static long outPointer(String op, MethodHandle h, int arg) {
    MemorySegment out = OUT.get();
    out.set(I64, 0, 0L);
    int status;
    try {
      status = (int) h.invokeExact(arg, out);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check(op, status);
    return out.get(I64, 0);
  }

  // ------------------------------------------------------------------ typed wrappers (hot path)

  static void fill(long x, long n, float value, long stream) {
    int status;
    try {
      status = (int) FILL.invokeExact(x, n, value, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_fill", status);
  }

  static void uniform(long x, long n, long seed, float low, float high, long stream) {
    int status;
    try {
      status = (int) UNIFORM.invokeExact(x, n, seed, low, high, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_rand_uniform", status);
  }

  static void normal(long x, long n, long seed, float mean, float std, long stream) {
    int status;
    try {
      status = (int) NORMAL.invokeExact(x, n, seed, mean, std, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_rand_normal", status);
  }

  static void addBias(long x, long bias, long out, long rows, long cols, long stream) {
    int status;
    try {
      status = (int) ADD_BIAS.invokeExact(x, bias, out, rows, cols, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_add_bias", status);
  }

  static void binary(int op, long a, long b, long out, long n, long stream) {
    int status;
    try {
      status = (int) BINARY.invokeExact(op, a, b, out, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_binary", status);
  }

  static void scale(long x, float alpha, long out, long n, long stream) {
    int status;
    try {
      status = (int) SCALE.invokeExact(x, alpha, out, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_scale", status);
  }

  static void axpy(float alpha, long x, long y, long n, long stream) {
    int status;
    try {
      status = (int) AXPY.invokeExact(alpha, x, y, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_axpy", status);
  }

  static void activationForward(int act, float param, long x, long y, long n, long stream) {
    int status;
    try {
      status = (int) ACTIVATION_FORWARD.invokeExact(act, param, x, y, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_activation_forward", status);
  }

  static void activationBackward(int act, float param, long x, long y, long dy, long dx, long n, long stream) {
    int status;
    try {
      status = (int) ACTIVATION_BACKWARD.invokeExact(act, param, x, y, dy, dx, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_activation_backward", status);
  }

  static void sum(long x, long n, long workspace, long out, long stream) {
    int status;
    try {
      status = (int) SUM.invokeExact(x, n, workspace, out, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sum", status);
  }

  static void sumSquares(long x, long n, long workspace, long out, long stream) {
    int status;
    try {
      status = (int) SUM_SQUARES.invokeExact(x, n, workspace, out, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sum_squares", status);
  }

  static void sumRows(long x, long rows, long cols, float beta, long out, long stream) {
    int status;
    try {
      status = (int) SUM_ROWS.invokeExact(x, rows, cols, beta, out, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sum_rows", status);
  }

  static void channelSums(long x, long n, long c, long hw, float beta, long out, long stream) {
    int status;
    try {
      status = (int) CHANNEL_SUMS.invokeExact(x, n, c, hw, beta, out, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_channel_sums", status);
  }

  static void corrector(long a, long b, long c, float s, long out, long n, long workspace, long loss, long stream) {
    int status;
    try {
      status = (int) CORRECTOR.invokeExact(a, b, c, s, out, n, workspace, loss, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_corrector", status);
  }

  static void sgd(long w, long g, long v, long n, float lr, float momentum, float wd, long stream) {
    int status;
    try {
      status = (int) SGD.invokeExact(w, g, v, n, lr, momentum, wd, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sgd_update", status);
  }

  static void adam(long w, long g, long m, long v, long n, float lr, float beta1, float beta2, float eps, float wd, long step, long stream) {
    int status;
    try {
      status = (int) ADAM.invokeExact(w, g, m, v, n, lr, beta1, beta2, eps, wd, step, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_adam_update", status);
  }

  static void batchNormForward(long x, long gamma, long beta, long y, long n, long c, long hw, int training, float eps, float momentum, long runningMean, long runningVar, long saveMean, long saveInvstd, long stream) {
    int status;
    try {
      status = (int) BATCH_NORM_FORWARD.invokeExact(x, gamma, beta, y, n, c, hw, training, eps, momentum, runningMean, runningVar, saveMean, saveInvstd, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_batch_norm2d_forward", status);
  }

  static void batchNormBackward(long x, long dy, long gamma, long saveMean, long saveInvstd, int training, long dx, long dGamma, float accGamma, long dBeta, float accBeta, long n, long c, long hw, long stream) {
    int status;
    try {
      status = (int) BATCH_NORM_BACKWARD.invokeExact(x, dy, gamma, saveMean, saveInvstd, training, dx, dGamma, accGamma, dBeta, accBeta, n, c, hw, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_batch_norm2d_backward", status);
  }

  static void dropout(long x, long y, long n, long seed, float p, long stream) {
    int status;
    try {
      status = (int) DROPOUT.invokeExact(x, y, n, seed, p, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_dropout", status);
  }

  static void sgemm(long ctx, int ta, int tb, long m, long n, long k, float alpha, long a, long lda, long b, long ldb, float beta, long c, long ldc) {
    int status;
    try {
      status = (int) SGEMM.invokeExact(ctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sgemm", status);
  }

  static void sgemmBatched(long ctx, int ta, int tb, long m, long n, long k, float alpha, long a, long lda, long strideA, long b, long ldb, long strideB, float beta, long c, long ldc, long strideC, long batch) {
    int status;
    try {
      status = (int) SGEMM_BATCHED.invokeExact(ctx, ta, tb, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sgemm_strided_batched", status);
  }

  static void conv2dForward(long ctx, long x, long weight, long bias, long y, long n, long c, long h, long w, long o, long kh, long kw, long sh, long sw, long ph, long pw, long ho, long wo) {
    int status;
    try {
      status = (int) CONV2D_FORWARD.invokeExact(ctx, x, weight, bias, y, n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_conv2d_forward", status);
  }

  static void conv2dBackwardData(long ctx, long dy, long weight, long bias, long dx, long n, long c, long h, long w, long o, long kh, long kw, long sh, long sw, long ph, long pw, long ho, long wo) {
    int status;
    try {
      status = (int) CONV2D_BACKWARD_DATA.invokeExact(ctx, dy, weight, bias, dx, n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_conv2d_backward_data", status);
  }

  static void conv2dBackwardWeight(long ctx, long x, long dy, long dw, float beta, long n, long c, long h, long w, long o, long kh, long kw, long sh, long sw, long ph, long pw, long ho, long wo) {
    int status;
    try {
      status = (int) CONV2D_BACKWARD_WEIGHT.invokeExact(ctx, x, dy, dw, beta, n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_conv2d_backward_weight", status);
  }

  static void free(long ctx, long p) {
    int status;
    try {
      status = (int) FREE.invokeExact(ctx, p);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_free", status);
  }

  static void emptyCache(long ctx) {
    int status;
    try {
      status = (int) EMPTY_CACHE.invokeExact(ctx);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_empty_cache", status);
  }

  static void copyH2D(long ctx, long dst, long src, long bytes) {
    int status;
    try {
      status = (int) COPY_H2_D.invokeExact(ctx, dst, src, bytes);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_copy_h2d", status);
  }

  static void copyD2H(long ctx, long dst, long src, long bytes) {
    int status;
    try {
      status = (int) COPY_D2_H.invokeExact(ctx, dst, src, bytes);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_copy_d2h", status);
  }

  static void copyD2D(long ctx, long dst, long src, long bytes) {
    int status;
    try {
      status = (int) COPY_D2_D.invokeExact(ctx, dst, src, bytes);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_copy_d2d", status);
  }

  static void memsetZero(long ctx, long dst, long bytes) {
    int status;
    try {
      status = (int) MEMSET_ZERO.invokeExact(ctx, dst, bytes);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_memset_zero", status);
  }

  static void synchronize(long ctx) {
    int status;
    try {
      status = (int) SYNCHRONIZE.invokeExact(ctx);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_synchronize", status);
  }

  static void setTf32(long ctx, int enabled) {
    int status;
    try {
      status = (int) SET_TF32.invokeExact(ctx, enabled);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_set_tf32", status);
  }

  static void contextDestroy(long ctx) {
    int status;
    try {
      status = (int) CONTEXT_DESTROY.invokeExact(ctx);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_context_destroy", status);
  }

  static void graphBegin(long ctx) {
    int status;
    try {
      status = (int) GRAPH_BEGIN.invokeExact(ctx);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_graph_begin", status);
  }

  static void graphLaunch(long ctx, long exec) {
    int status;
    try {
      status = (int) GRAPH_LAUNCH.invokeExact(ctx, exec);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_graph_launch", status);
  }

  static void graphDestroy(long exec) {
    int status;
    try {
      status = (int) GRAPH_DESTROY.invokeExact(exec);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_graph_destroy", status);
  }

  static void hostFree(long p) {
    int status;
    try {
      status = (int) HOST_FREE.invokeExact(p);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_host_free", status);
  }

  // ---- device-resident step operations (idemnet_cuda.h)

  static void writeScalars(long dst, MemorySegment values, long n, long stream) {
    int status;
    try {
      status = (int) WRITE_SCALARS.invokeExact(dst, values, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_write_scalars", status);
  }

  static void scaleBy(long x, long factor, float alpha, long out, long n, long stream) {
    int status;
    try {
      status = (int) SCALE_BY.invokeExact(x, factor, alpha, out, n, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_scale_by", status);
  }

  static void sumSquaresTo(long x, long n, double scale, long out, long workspace, long stream) {
    int status;
    try {
      status = (int) SUM_SQUARES_TO.invokeExact(x, n, scale, out, workspace, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sum_squares_to", status);
  }

  static void correctorTo(long a, long b, long c, float s, long out, long n, double lossScale, long loss,
      long workspace, long stream) {
    int status;
    try {
      status = (int) CORRECTOR_TO.invokeExact(a, b, c, s, out, n, lossScale, loss, workspace, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_corrector_to", status);
  }

  static void l1Loss(long a, long b, long n, float gradScale, long grad, double lossScale, long loss, long workspace,
      long stream) {
    int status;
    try {
      status = (int) L1_LOSS.invokeExact(a, b, n, gradScale, grad, lossScale, loss, workspace, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_l1_loss", status);
  }

  static void softmaxCrossEntropy(long logits, long labels, long rows, long classes, long loss, long grad,
      long workspace, long stream) {
    int status;
    try {
      status = (int) CROSS_ENTROPY.invokeExact(logits, labels, rows, classes, loss, grad, workspace, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_softmax_cross_entropy", status);
  }

  static void maxRowNorm(long x, long rows, long cols, long out, long workspace, long stream) {
    int status;
    try {
      status = (int) MAX_ROW_NORM.invokeExact(x, rows, cols, out, workspace, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_max_row_norm", status);
  }

  static void sgdScheduled(long w, long g, long v, long n, long lr, float momentum, float wd, long stream) {
    int status;
    try {
      status = (int) SGD_SCHEDULED.invokeExact(w, g, v, n, lr, momentum, wd, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_sgd_update_scheduled", status);
  }

  static void adamScheduled(long w, long g, long m, long v, long n, long coefficients, float beta1, float beta2,
      float eps, float wd, long stream) {
    int status;
    try {
      status = (int) ADAM_SCHEDULED.invokeExact(w, g, m, v, n, coefficients, beta1, beta2, eps, wd, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_adam_update_scheduled", status);
  }

  static void tightClampWeights(long rec, long tight, float lambdaRec, float lambdaTight, float clamp, long weightRec,
      long weightTight, long stream) {
    int status;
    try {
      status = (int) TIGHT_CLAMP.invokeExact(rec, tight, lambdaRec, lambdaTight, clamp, weightRec, weightTight, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_tight_clamp_weights", status);
  }

  static void dropoutCounted(long x, long y, long n, long seed, long counter, long offset, float p, long stream) {
    int status;
    try {
      status = (int) DROPOUT_COUNTED.invokeExact(x, y, n, seed, counter, offset, p, stream);
    } catch (Throwable e) {
      throw rethrow(e);
    }
    check("cuda_dropout_counted", status);
  }
}
