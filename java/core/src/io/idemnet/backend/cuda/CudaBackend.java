package io.idemnet.backend.cuda;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.nativelib.NativeCallException;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Tensors in GPU memory with kernels from {@code libidemnet_cuda} (own CUDA kernels; GEMM and
 * convolutions through cuBLAS, opened at run time, or a builtin GEMM kernel without it), called
 * through FFM. Argument checking happens in {@link Backend}.
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
  private final long stream;
  private final long reduceWorkspace;
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
   * @throws CudaUnavailableException naming the reason when CUDA cannot be used here
   */
  public CudaBackend(int device) {
    Availability a = availability();
    if (!a.usable()) throw new CudaUnavailableException("the cuda backend cannot run here: " + a.reason());
    if (device < 0 || device >= a.devices()) {
      throw new IllegalArgumentException("CUDA device " + device + " does not exist (" + a.devices() + " found)");
    }
    this.device = device;
    try {
      this.ctx = CudaNative.contextCreate(device);
    } catch (NativeCallException e) {
      throw new CudaUnavailableException("cannot create a CUDA context on device " + device + ": " + e.getMessage(), e);
    }
    this.stream = CudaNative.contextStream(ctx);
    this.reduceWorkspace = CudaNative.reduceWorkspace(ctx);
    this.scalarDevice = CudaNative.malloc(ctx, 16);
    this.scalarHost = CudaNative.hostAlloc(16);
    this.scalarsToWrite = CudaNative.hostAlloc((long) MAX_DECLARED_ELEMENTS * Float.BYTES);
    this.staging = CudaNative.hostAlloc(STAGING_MIN);
    this.deviceName = CudaNative.deviceName(device);
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
      CudaNative.DeviceCount dc = CudaNative.deviceCount();
      if (dc.status() == CudaNative.ERR_NO_DEVICE) {
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

  /** "cuBLAS from libcublas.so.13", or why the builtin GEMM kernel is used. */
  public String gemmEngine() {
    return CudaNative.gemmEngine(live()).detail();
  }

  /** Whether GEMMs and convolutions go through cuBLAS (else the builtin kernel). */
  public boolean usesCublas() {
    return CudaNative.gemmEngine(live()).cublas();
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
    long[] s = CudaNative.allocatorStats(live());
    return new AllocatorStats(s[0], s[1], s[2], s[3], s[4]);
  }

  /** Returns cached (unused) device blocks to the driver. */
  public void emptyCache() {
    CudaNative.emptyCache(live());
  }

  // ------------------------------------------------------------------ recorded steps (CUDA graphs)

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
      exec = CudaNative.graphEnd(context);
    }

    @Override
    protected void abandon() {
      if (ended) return; // finish threw: nothing was instantiated
      ended = true;
      try {
        long partial = CudaNative.graphEnd(context);
        if (partial != 0) CudaNative.graphDestroy(partial);
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
      CudaNative.graphDestroy(exec);
      exec = 0;
    }
  }

  // ------------------------------------------------------------------ lifecycle and memory

  /** Frees the context: its stream, cuBLAS handle and all device memory, open tensors included. */
  @Override
  protected synchronized void releaseResources() {
    if (ctx == 0) return;
    long c = ctx;
    ctx = 0;
    CudaNative.hostFree(scalarHost.address());
    CudaNative.hostFree(scalarsToWrite.address());
    CudaNative.hostFree(staging.address());
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

  @Override
  protected Storage allocate(long numel) {
    long c = live();
    long bytes = Math.max(1, numel) * Float.BYTES;
    long address = CudaNative.malloc(c, bytes);
    CudaNative.memsetZero(c, address, numel * Float.BYTES);
    return new DeviceStorage(this, address, bytes);
  }

  /** Pinned staging memory of at least min(bytes, STAGING_MAX); the caller holds hostLock. */
  private MemorySegment staging(long bytes) {
    long want = Math.min(Math.max(bytes, STAGING_MIN), STAGING_MAX);
    if (staging.byteSize() < want) {
      long grown = Math.min(STAGING_MAX, Math.max(want, 2 * staging.byteSize()));
      MemorySegment next = CudaNative.hostAlloc(grown);
      CudaNative.hostFree(staging.address());
      staging = next;
    }
    return staging;
  }

  @Override
  protected void uploadKernel(float[] src, Tensor dst) {
    long c = live(), base = ptr(dst);
    synchronized (hostLock) {
      MemorySegment buf = staging((long) src.length * Float.BYTES);
      int chunk = (int) (buf.byteSize() / Float.BYTES);
      for (int off = 0; off < src.length; off += chunk) {
        int len = Math.min(chunk, src.length - off);
        MemorySegment.copy(src, off, buf, ValueLayout.JAVA_FLOAT, 0, len);
        CudaNative.copyH2D(c, base + (long) off * Float.BYTES, buf.address(), (long) len * Float.BYTES);
      }
    }
  }

  @Override
  protected void downloadKernel(Tensor src, float[] dst) {
    long c = live(), base = ptr(src);
    synchronized (hostLock) {
      MemorySegment buf = staging((long) dst.length * Float.BYTES);
      int chunk = (int) (buf.byteSize() / Float.BYTES);
      for (int off = 0; off < dst.length; off += chunk) {
        int len = Math.min(chunk, dst.length - off);
        CudaNative.copyD2H(c, buf.address(), base + (long) off * Float.BYTES, (long) len * Float.BYTES);
        MemorySegment.copy(buf, ValueLayout.JAVA_FLOAT, 0, dst, off, len);
      }
    }
  }

  /** The double a reduction left in the device scalar slot. */
  private double readScalar(String what) {
    synchronized (hostLock) {
      CudaNative.copyD2H(live(), scalarHost.address(), scalarDevice, Double.BYTES);
      return scalarHost.get(ValueLayout.JAVA_DOUBLE, 0);
    }
  }

  /**
   * A declared write as a kernel launch that carries the values: queued in order with the other
   * kernels, with no wait for the stream (a copy from the host would wait for it).
   */
  @Override
  protected void writeScalarsKernel(float[] src, Tensor dst) {
    synchronized (hostLock) {
      MemorySegment.copy(src, 0, scalarsToWrite, ValueLayout.JAVA_FLOAT, 0, src.length);
      CudaNative.writeScalars(ptr(dst), scalarsToWrite, src.length, stream);
    }
  }

  @Override
  protected void copyKernel(Tensor src, Tensor dst) {
    CudaNative.copyD2D(live(), ptr(dst), ptr(src), src.numel() * Float.BYTES);
  }

  @Override
  protected void fillKernel(Tensor x, float value) {
    CudaNative.fill(ptr(x), x.numel(), value, stream);
  }

  @Override
  protected void uniformKernel(Tensor x, long seed, float low, float high) {
    CudaNative.uniform(ptr(x), x.numel(), seed, low, high, stream);
  }

  @Override
  protected void normalKernel(Tensor x, long seed, float mean, float std) {
    CudaNative.normal(ptr(x), x.numel(), seed, mean, std, stream);
  }

  // ------------------------------------------------------------------ kernels

  @Override
  protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
      float beta, Tensor c, int batch) {
    long lda = Math.max(1, transA ? m : k), ldb = Math.max(1, transB ? k : n), ldc = Math.max(1, n);
    if (batch == 1) {
      CudaNative.sgemm(live(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, ptr(a), lda, ptr(b), ldb, beta, ptr(c),
          ldc);
    } else {
      CudaNative.sgemmBatched(live(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, ptr(a), lda, (long) m * k, ptr(b),
          ldb, (long) k * n, beta, ptr(c), ldc, (long) m * n, batch);
    }
  }

  @Override
  protected void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
    CudaNative.addBias(ptr(x), ptr(bias), ptr(out), rows, cols, stream);
  }

  @Override
  protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    CudaNative.binary(op.code, ptr(a), ptr(b), ptr(out), a.numel(), stream);
  }

  @Override
  protected void scaleKernel(Tensor x, float alpha, Tensor out) {
    CudaNative.scale(ptr(x), alpha, ptr(out), x.numel(), stream);
  }

  @Override
  protected void axpyKernel(float alpha, Tensor x, Tensor y) {
    CudaNative.axpy(alpha, ptr(x), ptr(y), x.numel(), stream);
  }

  @Override
  protected void activationKernel(Activation act, Tensor x, Tensor y) {
    CudaNative.activationForward(act.kind().code, act.slope(), ptr(x), ptr(y), x.numel(), stream);
  }

  @Override
  protected void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    CudaNative.activationBackward(act.kind().code, act.slope(), ptrOrNull(x), ptrOrNull(y), ptr(dy), ptr(dx),
        dy.numel(), stream);
  }

  @Override
  protected double sumKernel(Tensor x) {
    CudaNative.sum(ptr(x), x.numel(), reduceWorkspace, scalarDevice, stream);
    return readScalar("sum");
  }

  @Override
  protected double sumSquaresKernel(Tensor x) {
    CudaNative.sumSquares(ptr(x), x.numel(), reduceWorkspace, scalarDevice, stream);
    return readScalar("sumOfSquares");
  }

  @Override
  protected void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
    CudaNative.sumRows(ptr(x), rows, cols, accumulate ? 1f : 0f, ptr(out), stream);
  }

  @Override
  protected double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
    if (!withLoss) {
      CudaNative.corrector(ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), 0L, 0L, stream);
      return Double.NaN;
    }
    CudaNative.corrector(ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), reduceWorkspace, scalarDevice, stream);
    return readScalar("corrector with loss");
  }

  @Override
  protected void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
    CudaNative.sgd(ptr(w), ptr(g), ptrOrNull(velocity), w.numel(), lr, momentum, weightDecay, stream);
  }

  @Override
  protected void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
      float weightDecay, long step) {
    CudaNative.adam(ptr(w), ptr(g), ptr(m), ptr(v), w.numel(), lr, beta1, beta2, eps, weightDecay, step, stream);
  }

  @Override
  protected void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec s, Tensor y) {
    CudaNative.conv2dForward(live(), ptr(x), ptr(w), ptrOrNull(bias), ptr(y), x.dim(0), x.dim(1), x.dim(2), x.dim(3),
        w.dim(0), w.dim(2), w.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), y.dim(2), y.dim(3));
  }

  @Override
  protected void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec s, Tensor dx) {
    CudaNative.conv2dBackwardData(live(), ptr(dy), ptr(w), ptrOrNull(bias), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2),
        dx.dim(3), w.dim(0), w.dim(2), w.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), dy.dim(2), dy.dim(3));
  }

  @Override
  protected void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec s, boolean accumulate, Tensor dw) {
    CudaNative.conv2dBackwardWeight(live(), ptr(x), ptr(dy), ptr(dw), accumulate ? 1f : 0f, x.dim(0), x.dim(1),
        x.dim(2), x.dim(3), dw.dim(0), dw.dim(2), dw.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), dy.dim(2),
        dy.dim(3));
  }

  @Override
  protected void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
    long n = x.dim(0), c = x.dim(1);
    CudaNative.channelSums(ptr(x), n, c, x.numel() / Math.max(1, n * c), accumulate ? 1f : 0f, ptr(out), stream);
  }

  @Override
  protected void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
      boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
    long n = x.dim(0), c = x.dim(1);
    CudaNative.batchNormForward(ptr(x), ptrOrNull(gamma), ptrOrNull(beta), ptr(y), n, c, x.numel() / Math.max(1, n * c),
        training ? 1 : 0, eps, momentum, ptrOrNull(runningMean), ptrOrNull(runningVar), ptrOrNull(saveMean),
        ptrOrNull(saveInvstd), stream);
  }

  @Override
  protected void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
      boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
    long n = x.dim(0), c = x.dim(1);
    CudaNative.batchNormBackward(ptr(x), ptr(dy), ptrOrNull(gamma), ptr(saveMean), ptr(saveInvstd), training ? 1 : 0,
        ptrOrNull(dx), ptrOrNull(dGamma), accumulateGamma ? 1f : 0f, ptrOrNull(dBeta), accumulateBeta ? 1f : 0f, n, c,
        x.numel() / Math.max(1, n * c), stream);
  }

  @Override
  protected void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
    CudaNative.dropout(ptr(x), ptr(y), x.numel(), seed, p, stream);
  }

  // ---- device-resident step operations

  @Override
  protected void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
    CudaNative.scaleBy(ptr(x), ptr(factor), alpha, ptr(out), x.numel(), stream);
  }

  @Override
  protected void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
    CudaNative.sumSquaresTo(ptr(x), x.numel(), scale, ptr(out), reduceWorkspace, stream);
  }

  @Override
  protected void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
    CudaNative.correctorTo(ptr(a), ptr(b), ptr(c), s, ptr(out), a.numel(), lossScale, ptr(loss), reduceWorkspace,
        stream);
  }

  @Override
  protected void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
    CudaNative.l1Loss(ptr(a), ptr(b), a.numel(), gradScale, ptrOrNull(grad), lossScale, ptr(loss), reduceWorkspace,
        stream);
  }

  @Override
  protected void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
    CudaNative.softmaxCrossEntropy(ptr(logits), ptr(labels), rows, classes, ptr(loss), ptrOrNull(grad),
        reduceWorkspace, stream);
  }

  @Override
  protected void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
    CudaNative.maxRowNorm(ptr(x), rows, cols, ptr(out), reduceWorkspace, stream);
  }

  @Override
  protected void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
    CudaNative.sgdScheduled(ptr(w), ptr(g), ptrOrNull(velocity), w.numel(), ptr(lr), momentum, weightDecay, stream);
  }

  @Override
  protected void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
      float beta2, float eps, float weightDecay) {
    CudaNative.adamScheduled(ptr(w), ptr(g), ptr(m), ptr(v), w.numel(), ptr(coefficients), beta1, beta2, eps,
        weightDecay, stream);
  }

  @Override
  protected void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
      Tensor weightRec, Tensor weightTight) {
    CudaNative.tightClampWeights(ptr(rec), ptr(tight), lambdaRec, lambdaTight, clamp, ptr(weightRec), ptr(weightTight),
        stream);
  }

  @Override
  protected void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
    CudaNative.dropoutCounted(ptr(x), ptr(y), x.numel(), seed, ptr(counter), offset, p, stream);
  }

  @Override
  public String toString() {
    return "Backend(cuda:" + device + " " + deviceName + ")";
  }
}
