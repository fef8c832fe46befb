package io.idemnet.backend.cuda;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Kernels;
import io.idemnet.backend.ConvSpec;
import io.idemnet.nativelib.NativeAbi;
import io.idemnet.nativelib.NativeCallException;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tensors in GPU memory with kernels from {@code libidemnet_cuda} (own CUDA kernels; GEMM
 * through cuBLAS and convolutions through cuDNN, both opened at run time; convolutions fall back
 * to im2col + GEMM without cuDNN), called through FFM. Argument checking happens in {@link Backend}.
 *
 * <p>Each instance owns a CUDA context of the library: one device, one stream on which every
 * operation is queued in call order, a caching allocator (tensors are carved from cached blocks;
 * steady-state training steps make no cudaMalloc call), and a cuBLAS handle. Operations return
 * once queued; those that hand a value to Java ({@link #download}, {@link #sum}, the corrector's
 * loss, ...) wait for the stream. Random numbers and dropout masks come from the same
 * counter-based stream as the other backends. Reductions are deterministic (fixed order, no float
 * atomics): the same inputs give the same bits on every run.
 *
 * <p>Use one instance from one thread at a time. {@link #close()} frees the context and with it
 * every tensor still open on it.
 *
 * <p>TF32 tensor-core math is off unless {@link #setTf32(boolean)} turns it on. A fixed-shape
 * step can be recorded once and replayed as a CUDA graph with {@link Backend#record(Runnable)}.
 */
public final class CudaBackend extends Backend implements AutoCloseable {
  private static final long STAGING_MIN = 1L << 20;
  private static final long STAGING_MAX = 64L << 20;

  /** Whether this JVM can run the cuda backend, and why not. */
  public record Availability(boolean usable, int devices, String reason) {}

  private static Availability availability;

  private final int device;
  private final String deviceName;
  private long ctx;
  private final long scalarDevice;
  private final MemorySegment scalarHost;
  /** Host memory for the values of a declared write (at most 16 floats; the kernel copies them at launch). */
  private final MemorySegment scalarsToWrite;
  private final Object hostLock = new Object();
  private MemorySegment staging;
  private boolean tf32;

  /** The backend on device 0. */
  public CudaBackend() {
    this(0);
  }

  /**
   * A backend on the given device.
   *
   * @throws CudaUnavailableException naming the reason when CUDA cannot be used here, including
   *     when no cuBLAS can be used and the builtin GEMM kernel was not asked for
   *     ({@code -Didemnet.cuda.gemm=builtin})
   */
  public CudaBackend(int device) {
    Availability a = availability();
    if (!a.usable()) throw new CudaUnavailableException("the cuda backend cannot run here: " + a.reason());
    if (device < 0 || device >= a.devices()) {
      throw new IllegalArgumentException("CUDA device " + device + " does not exist (" + a.devices() + " found)");
    }
    this.device = device;
    try {
      MemorySegment out = out();
      CudaNative.contextCreate(device, out.address());
      this.ctx = out.get(ValueLayout.JAVA_LONG, 0);
    } catch (NativeCallException e) {
      throw new CudaUnavailableException("cannot create a CUDA context on device " + device + ": " + e.getMessage(), e);
    }
    if (!usesCublas() && !builtinGemmRequested()) {
      String detail = gemmEngine();
      CudaNative.contextDestroy(ctx);
      ctx = 0;
      throw new CudaUnavailableException("cuBLAS is not in use on device " + device + ": " + detail
          + ". The builtin GEMM kernel is many times slower, so it runs only when asked for with"
          + " -Didemnet.cuda.gemm=builtin; for cuBLAS put libcublas.so.13 (or .12) on LD_LIBRARY_PATH or name it"
          + " with -Didemnet.cublas.library=/path/to/libcublas.so.13");
    }
    this.scalarDevice = deviceMalloc(ctx, 16);
    this.scalarHost = hostAlloc(ctx, 16);
    this.scalarsToWrite = hostAlloc(ctx, (long) MAX_DECLARED_ELEMENTS * Float.BYTES);
    this.staging = hostAlloc(ctx, STAGING_MIN);
    this.deviceName = deviceName(device);
  }

  /** Out-parameters of the library calls: a per-thread 64-byte slot, zeroed, so calls allocate nothing. */
  private static final ThreadLocal<MemorySegment> OUT = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(64, 8));

  private static MemorySegment out() {
    MemorySegment out = OUT.get();
    out.fill((byte) 0);
    return out;
  }

  private static long deviceMalloc(long context, long bytes) {
    MemorySegment out = out();
    CudaNative.malloc(context, bytes, out.address());
    return out.get(ValueLayout.JAVA_LONG, 0);
  }

  /** Page-locked host memory of {@code bytes}, freed with CudaNative.hostFree(context, address). */
  @SuppressWarnings("restricted")
  private static MemorySegment hostAlloc(long context, long bytes) {
    MemorySegment out = out();
    CudaNative.hostAlloc(context, bytes, out.address());
    return MemorySegment.ofAddress(out.get(ValueLayout.JAVA_LONG, 0)).reinterpret(bytes);
  }

  private static String deviceName(int device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(256);
      CudaNative.deviceName(device, buf.address(), 256);
      return buf.getString(0);
    }
  }

  /** The device count, or the failed query's status and message (status 0: it worked). */
  record DeviceCount(int status, int count, String message) {}

  static DeviceCount deviceCount() {
    MemorySegment out = out();
    try {
      CudaNative.deviceCount(out.address());
      return new DeviceCount(0, out.get(ValueLayout.JAVA_INT, 0), "");
    } catch (NativeCallException e) {
      return new DeviceCount(e.status(), 0, e.getMessage());
    }
  }

  /** {CUDA runtime version the library was built with, driver version (0 without a driver)}. */
  static int[] versions() {
    MemorySegment out = out();
    try {
      CudaNative.versions(out.address(), out.address() + 4);
    } catch (NativeCallException e) {
      // No driver: the runtime version is still set and the driver's stays 0.
    }
    return new int[] {out.get(ValueLayout.JAVA_INT, 0), out.get(ValueLayout.JAVA_INT, 4)};
  }

  /** Whether the builtin GEMM kernel was asked for (property idemnet.cuda.gemm or IDEMNET_CUDA_GEMM). */
  private static boolean builtinGemmRequested() {
    String value = System.getProperty("idemnet.cuda.gemm", System.getenv("IDEMNET_CUDA_GEMM"));
    return "builtin".equals(value == null ? null : value.trim());
  }

  /**
   * Probes once per JVM whether the cuda backend can run: the library is packaged and loads, the
   * driver answers and reports at least one device. Never throws.
   */
  public static synchronized Availability availability() {
    if (availability == null) availability = probe();
    return availability;
  }

  private static Availability probe() {
    if (!io.idemnet.nativelib.NativeLibraries.isPackaged("idemnet_cuda")) {
      return new Availability(false, 0, "libidemnet_cuda is not packaged for "
          + io.idemnet.nativelib.NativeLibraries.platform() + " (it is built only where nvcc was found at build time)");
    }
    try {
      CudaNative.ensureLoaded();
      DeviceCount dc = deviceCount();
      if (dc.status() == NativeAbi.ERR_NO_DEVICE) {
        return new Availability(false, 0, "no usable NVIDIA driver or GPU (" + dc.message() + ")");
      }
      if (dc.status() != 0) return new Availability(false, 0, "the CUDA device query failed: " + dc.message());
      if (dc.count() == 0) return new Availability(false, 0, "the NVIDIA driver reports no CUDA device");
      return new Availability(true, dc.count(), dc.count() + " CUDA device(s)");
    } catch (Throwable e) {
      Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
      return new Availability(false, 0, "libidemnet_cuda cannot be loaded: " + cause.getMessage());
    }
  }

  @Override
  public String name() {
    return "cuda";
  }

  /** The device name, compute capability and memory, e.g. "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)". */
  public String deviceName() {
    return deviceName;
  }

  /** The CUDA device index this backend runs on. */
  public int device() {
    return device;
  }

  /**
   * "cuBLAS 13.0.2 from libcublas.so.13 (cublasGetVersion 130002)", or why the builtin GEMM kernel
   * is used.
   */
  @SuppressWarnings("restricted")
  public String gemmEngine() {
    MemorySegment out = out();
    CudaNative.gemmEngine(live(), 0L, out.address());
    return MemorySegment.ofAddress(out.get(ValueLayout.JAVA_LONG, 0)).reinterpret(Long.MAX_VALUE).getString(0);
  }

  /** Whether GEMMs and convolutions go through cuBLAS (else the builtin kernel). */
  public boolean usesCublas() {
    MemorySegment out = out();
    CudaNative.gemmEngine(live(), out.address(), 0L);
    return out.get(ValueLayout.JAVA_INT, 0) != 0;
  }

  /**
   * "cuDNN 9.x.y (cudnnGetVersion ...) from libcudnn.so.9, deterministic algorithms", or
   * "im2col + GEMM (...)" saying why cuDNN is not used ({@code -Didemnet.cuda.conv=im2col}, no
   * libcudnn.so.9 found, ...).
   */
  @SuppressWarnings("restricted")
  public String convEngine() {
    MemorySegment out = out();
    CudaNative.convEngine(live(), 0L, out.address());
    return MemorySegment.ofAddress(out.get(ValueLayout.JAVA_LONG, 0)).reinterpret(Long.MAX_VALUE).getString(0);
  }

  /**
   * Whether convolutions go through cuDNN (else im2col + GEMM). Even with cuDNN, a shape for
   * which cuDNN offers no deterministic algorithm runs as im2col + GEMM.
   */
  public boolean usesCudnn() {
    MemorySegment out = out();
    CudaNative.convEngine(live(), out.address(), 0L);
    return out.get(ValueLayout.JAVA_INT, 0) != 0;
  }

  /**
   * Switches this backend's convolutions to im2col + GEMM ({@code false}) or back to cuDNN
   * ({@code true}), for comparisons and A/B timings. Both paths are deterministic.
   *
   * @throws io.idemnet.nativelib.NativeCallException when cuDNN is asked for but not available
   */
  public void setCudnn(boolean enabled) {
    CudaNative.setConvEngine(live(), enabled ? 1 : 0);
  }

  /**
   * TF32 tensor-core math for GEMMs and convolutions (about 10 mantissa bits in the products,
   * float32 accumulation): faster on Ampere and newer, less exact. Off by default.
   */
  public void setTf32(boolean enabled) {
    CudaNative.setTf32(live(), enabled ? 1 : 0);
    tf32 = enabled;
  }

  /** Whether GEMMs and convolutions may use TF32 tensor-core math. */
  public boolean tf32() {
    return tf32;
  }

  /** Waits until every queued operation has run (and reports a kernel's failure). */
  public void synchronize() {
    CudaNative.synchronize(live());
  }

  /** The caching allocator's counters. */
  public record AllocatorStats(long bytesInUse, long bytesCached, long deviceMallocs, long cacheHits, long blocksInUse) {}

  /** The caching allocator's counters (bytes in use and cached, cudaMalloc calls, cache hits). */
  public AllocatorStats allocatorStats() {
    MemorySegment out = out();
    CudaNative.allocatorStats(live(), out.address());
    long[] s = out.asSlice(0, 5 * Long.BYTES).toArray(ValueLayout.JAVA_LONG);
    return new AllocatorStats(s[0], s[1], s[2], s[3], s[4]);
  }

  /** Returns cached (unused) device blocks to the driver. */
  public void emptyCache() {
    CudaNative.emptyCache(live());
  }

  // ------------------------------------------------------------------ CUDA graphs

  /**
   * {@link Backend#record} captures the stream into a CUDA graph: kernels queued while the step
   * runs are recorded, not executed; a replay launches the instantiated graph. The base class
   * refuses host transfers while capturing and keeps the memory the graph uses allocated until the
   * graph is closed. If synchronizing or beginning the capture fails, the exception propagates
   * before the backend has entered the recording state.
   */
  @Override
  protected Recording startRecording() {
    long context = live();
    CudaNative.synchronize(context); // earlier work must not end up in the graph
    CudaNative.graphBegin(context);
    return new CapturedGraph(context);
  }

  private final class CapturedGraph extends Recording {
    private final long context;
    private long exec;
    private boolean ended; // the stream has left capture mode

    CapturedGraph(long context) {
      this.context = context;
    }

    @Override
    protected void kernel(Runnable call) {
      call.run(); // queued on the capturing stream: recorded into the graph
    }

    @Override
    protected void finish() {
      ended = true; // graph_end leaves capture mode even when it fails
      exec = endCapture(context);
    }

    @Override
    protected void abandon() {
      if (ended) return; // finish threw: nothing was instantiated
      ended = true;
      try {
        long partial = endCapture(context);
        if (partial != 0) CudaNative.graphDestroy(context, partial);
      } catch (RuntimeException ignored) {
        // the capture was invalidated by the failure; graph_end has ended it and cleared the error
      }
    }

    @Override
    protected void replay() {
      CudaNative.graphLaunch(live(), exec);
    }

    @Override
    protected void release() {
      if (ctx == 0) return; // the context (and with it the graph's memory) is gone already
      CudaNative.synchronize(ctx); // a queued replay may still use the graph and its memory
      CudaNative.graphDestroy(ctx, exec);
      exec = 0;
    }
  }

  private static long endCapture(long context) {
    MemorySegment out = out();
    CudaNative.graphEnd(context, out.address());
    return out.get(ValueLayout.JAVA_LONG, 0);
  }

  // ------------------------------------------------------------------ lifecycle and memory

  /** Frees the context: its stream, cuBLAS handle and all device memory, open tensors included. */
  @Override
  protected synchronized void releaseResources() {
    if (ctx == 0) return;
    long c = ctx;
    ctx = 0;
    CudaNative.hostFree(c, scalarHost.address());
    CudaNative.hostFree(c, scalarsToWrite.address());
    CudaNative.hostFree(c, staging.address());
    CudaNative.contextDestroy(c);
  }

  private long live() {
    long c = ctx;
    if (c == 0) throw new IllegalStateException("cuda backend used after close");
    return c;
  }

  /**
   * Hands a block back to the allocator. {@link Backend#releaseStorage} calls this only when no
   * recorded step (CUDA graph) may use the block any more.
   */
  synchronized void release(long address) {
    if (ctx == 0) return;
    CudaNative.free(ctx, address);
  }

  private static long ptr(Tensor t) {
    return ((DeviceStorage) t.storage()).address();
  }

  private static long ptrOrNull(Tensor t) {
    return t == null ? 0L : ptr(t);
  }

  /** Pinned staging memory of at least min(bytes, STAGING_MAX); the caller holds hostLock. */
  private MemorySegment staging(long bytes) {
    long want = Math.min(Math.max(bytes, STAGING_MIN), STAGING_MAX);
    if (staging.byteSize() < want) {
      long grown = Math.min(STAGING_MAX, Math.max(want, 2 * staging.byteSize()));
      MemorySegment next = hostAlloc(live(), grown);
      CudaNative.hostFree(live(), staging.address());
      staging = next;
    }
    return staging;
  }

  /** The double a reduction left in the device scalar slot. */
  private double readScalar(String what) {
    synchronized (hostLock) {
      CudaNative.copyD2h(live(), scalarHost.address(), scalarDevice, Double.BYTES);
      return scalarHost.get(ValueLayout.JAVA_DOUBLE, 0);
    }
  }

  // ------------------------------------------------------------------ kernels

  /** The geometry of a convolution of image [N, C, H, W] with weight [O, C, kh, kw] into output [N, O, Ho, Wo]. */
  private static NativeAbi.ConvGeometry geometry(Tensor image, Tensor weight, Tensor output, ConvSpec s) {
    return new NativeAbi.ConvGeometry(image.dim(0), image.dim(1), image.dim(2), image.dim(3), weight.dim(0),
        weight.dim(2), weight.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), output.dim(2), output.dim(3));
  }

  @Override
  public String toString() {
    return "Backend(cuda:" + device + " " + deviceName + ")";
  }

  private final Kernels kernels = new CudaKernels();

  @Override
  protected Kernels kernels() {
    return kernels;
  }

  /** This backend's kernels (the facade, {@link Backend}, has checked every argument). */
  private final class CudaKernels implements Kernels {
    @Override
    public Storage allocate(long numel) {
      long c = live();
      long bytes = Math.max(1, numel) * Float.BYTES;
      long address = deviceMalloc(c, bytes);
      CudaNative.memsetZero(c, address, numel * Float.BYTES);
      return new DeviceStorage(CudaBackend.this, address, bytes);
    }

    @Override
    public void uploadKernel(float[] src, Tensor dst) {
      long c = live(), base = ptr(dst);
      synchronized (hostLock) {
        MemorySegment buf = staging((long) src.length * Float.BYTES);
        int chunk = (int) (buf.byteSize() / Float.BYTES);
        for (int off = 0; off < src.length; off += chunk) {
          int len = Math.min(chunk, src.length - off);
          MemorySegment.copy(src, off, buf, ValueLayout.JAVA_FLOAT, 0, len);
          CudaNative.copyH2d(c, base + (long) off * Float.BYTES, buf.address(), (long) len * Float.BYTES);
        }
      }
    }

    @Override
    public void downloadKernel(Tensor src, float[] dst) {
      long c = live(), base = ptr(src);
      synchronized (hostLock) {
        MemorySegment buf = staging((long) dst.length * Float.BYTES);
        int chunk = (int) (buf.byteSize() / Float.BYTES);
        for (int off = 0; off < dst.length; off += chunk) {
          int len = Math.min(chunk, dst.length - off);
          CudaNative.copyD2h(c, buf.address(), base + (long) off * Float.BYTES, (long) len * Float.BYTES);
          MemorySegment.copy(buf, ValueLayout.JAVA_FLOAT, 0, dst, off, len);
        }
      }
    }

    /**
     * A declared write as a kernel launch that carries the values: queued in order with the other
     * kernels, with no wait for the stream (a copy from the host would wait for it).
     */
    @Override
    public void writeScalarsKernel(float[] src, Tensor dst) {
      synchronized (hostLock) {
        MemorySegment.copy(src, 0, scalarsToWrite, ValueLayout.JAVA_FLOAT, 0, src.length);
        CudaNative.writeScalars(live(), ptr(dst), scalarsToWrite.address(), src.length);
      }
    }

    @Override
    public void copyKernel(Tensor src, Tensor dst) {
      CudaNative.copyD2d(live(), ptr(dst), ptr(src), src.numel() * Float.BYTES);
    }

    @Override
    public void fillKernel(Tensor x, float value) {
      CudaNative.fill(live(), ptr(x), x.numel(), value);
    }

    @Override
    public void uniformKernel(Tensor x, long seed, float low, float high) {
      CudaNative.randUniform(live(), ptr(x), x.numel(), seed, low, high);
    }

    @Override
    public void normalKernel(Tensor x, long seed, float mean, float std) {
      CudaNative.randNormal(live(), ptr(x), x.numel(), seed, mean, std);
    }

    @Override
    public void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
        float beta, Tensor c, int batch) {
      long lda = Math.max(1, transA ? m : k), ldb = Math.max(1, transB ? k : n), ldc = Math.max(1, n);
      if (batch == 1) {
        CudaNative.sgemm(live(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, ptr(a), lda, ptr(b), ldb, beta, ptr(c),
            ldc);
      } else {
        CudaNative.sgemmStridedBatched(live(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, ptr(a), lda,
            (long) m * k, ptr(b), ldb, (long) k * n, beta, ptr(c), ldc, (long) m * n, batch);
      }
    }

    @Override
    public void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
      CudaNative.addBias(live(), ptr(x), ptr(bias), ptr(out), rows, cols);
    }

    @Override
    public void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
      CudaNative.binary(live(), op.code, ptr(a), ptr(b), ptr(out), a.numel());
    }

    @Override
    public void scaleKernel(Tensor x, float alpha, Tensor out) {
      CudaNative.scale(live(), ptr(x), alpha, ptr(out), x.numel());
    }

    @Override
    public void axpyKernel(float alpha, Tensor x, Tensor y) {
      CudaNative.axpy(live(), alpha, ptr(x), ptr(y), x.numel());
    }

    @Override
    public void activationKernel(Activation act, Tensor x, Tensor y) {
      CudaNative.activationForward(live(), act.kind().code, act.slope(), ptr(x), ptr(y), x.numel());
    }

    @Override
    public void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
      CudaNative.activationBackward(live(), act.kind().code, act.slope(), ptrOrNull(x), ptrOrNull(y), ptr(dy), ptr(dx),
          dy.numel());
    }

    @Override
    public double sumKernel(Tensor x) {
      CudaNative.sum(live(), ptr(x), x.numel(), scalarDevice);
      return readScalar("sum");
    }

    @Override
    public double sumSquaresKernel(Tensor x) {
      CudaNative.sumSquares(live(), ptr(x), x.numel(), scalarDevice);
      return readScalar("sumOfSquares");
    }

    @Override
    public void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
      CudaNative.sumRows(live(), ptr(x), rows, cols, accumulate ? 1f : 0f, ptr(out));
    }

    @Override
    public double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
      if (!withLoss) {
        CudaNative.corrector(live(), ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), 0L);
        return Double.NaN;
      }
      CudaNative.corrector(live(), ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), scalarDevice);
      return readScalar("corrector with loss");
    }

    @Override
    public void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
      CudaNative.sgdUpdate(live(), ptr(w), ptr(g), ptrOrNull(velocity), w.numel(), lr, momentum, weightDecay);
    }

    @Override
    public void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, long step) {
      CudaNative.adamUpdate(live(), ptr(w), ptr(g), ptr(m), ptr(v), w.numel(), lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
      CudaNative.conv2dForward(live(), ptr(x), ptr(w), ptrOrNull(bias), ptr(y), geometry(x, w, y, spec));
    }

    @Override
    public void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
      CudaNative.conv2dBackwardData(live(), ptr(dy), ptr(w), ptrOrNull(bias), ptr(dx), geometry(dx, w, dy, spec));
    }

    @Override
    public void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
      CudaNative.conv2dBackwardWeight(live(), ptr(x), ptr(dy), ptr(dw), accumulate ? 1f : 0f,
          geometry(x, dw, dy, spec));
    }

    @Override
    public void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
      long n = x.dim(0), c = x.dim(1);
      CudaNative.channelSums(live(), ptr(x), n, c, x.numel() / Math.max(1, n * c), accumulate ? 1f : 0f, ptr(out));
    }

    @Override
    public void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
      long n = x.dim(0), c = x.dim(1), hw = x.numel() / Math.max(1, n * c);
      CudaNative.batchNorm2dForward(live(), ptr(x), ptrOrNull(gamma), ptrOrNull(beta), ptr(y), n, c, hw, training ? 1 : 0,
          eps, momentum, ptrOrNull(runningMean), ptrOrNull(runningVar), ptrOrNull(saveMean), ptrOrNull(saveInvstd));
    }

    @Override
    public void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
        boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
      long n = x.dim(0), c = x.dim(1), hw = x.numel() / Math.max(1, n * c);
      CudaNative.batchNorm2dBackward(live(), ptr(x), ptr(dy), ptrOrNull(gamma), ptr(saveMean), ptr(saveInvstd),
          training ? 1 : 0, ptrOrNull(dx), ptrOrNull(dGamma), accumulateGamma ? 1f : 0f, ptrOrNull(dBeta),
          accumulateBeta ? 1f : 0f, n, c, hw);
    }

    @Override
    public void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
      CudaNative.dropout(live(), ptr(x), ptr(y), x.numel(), seed, p);
    }

    @Override
    public void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
      CudaNative.scaleBy(live(), ptr(x), ptr(factor), alpha, ptr(out), x.numel());
    }

    @Override
    public void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
      CudaNative.sumSquaresTo(live(), ptr(x), x.numel(), scale, ptr(out));
    }

    @Override
    public void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
      CudaNative.correctorTo(live(), ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), lossScale, ptr(loss));
    }

    @Override
    public void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
      CudaNative.l1Loss(live(), ptr(a), ptr(b), a.numel(), gradScale, ptrOrNull(grad), lossScale, ptr(loss));
    }

    @Override
    public void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
      CudaNative.softmaxCrossEntropy(live(), ptr(logits), ptr(labels), rows, classes, ptr(loss), ptrOrNull(grad));
    }

    @Override
    public void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
      CudaNative.maxRowNorm(live(), ptr(x), rows, cols, ptr(out));
    }

    @Override
    public void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
        Tensor residuals, Tensor norm) {
      CudaNative.andersonRecord(live(), ptr(u), ptr(t), rows, cols, slot, ptr(images), ptr(residuals), ptr(norm));
    }

    @Override
    public void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
        Tensor next) {
      CudaNative.andersonMix(live(), ptr(images), ptr(residuals), rows, cols, count, newest, ptr(next));
    }

    @Override
    public void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
      CudaNative.sgdUpdateScheduled(live(), ptr(w), ptr(g), ptrOrNull(velocity), w.numel(), ptr(lr), momentum,
          weightDecay);
    }

    @Override
    public void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
        float beta2, float eps, float weightDecay) {
      CudaNative.adamUpdateScheduled(live(), ptr(w), ptr(g), ptr(m), ptr(v), w.numel(), ptr(coefficients), beta1, beta2,
          eps, weightDecay);
    }

    @Override
    public void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
        Tensor weightRec, Tensor weightTight) {
      CudaNative.tightClampWeights(live(), ptr(rec), ptr(tight), lambdaRec, lambdaTight, clamp, ptr(weightRec),
          ptr(weightTight));
    }

    @Override
    public void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
      CudaNative.dropoutCounted(live(), ptr(x), ptr(y), x.numel(), seed, ptr(counter), offset, p);
    }
  }
}
