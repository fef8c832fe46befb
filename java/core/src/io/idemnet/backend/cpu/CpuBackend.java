package io.idemnet.backend.cpu;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Kernels;
import io.idemnet.backend.ConvSpec;
import io.idemnet.nativelib.NativeAbi;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;

/**
 * Host tensors with C++ kernels ({@code libidemnet_cpu}: OpenMP, vectorised; GEMM through
 * OpenBLAS) called through FFM. Argument checking happens in {@link Backend}.
 *
 * <p>Each instance owns a context of the library holding its thread count, which every kernel
 * call applies to the calling thread. {@link #close()} frees it (so does the garbage collector for
 * an instance that was not closed); tensors are plain host memory and outlive it.
 */
public final class CpuBackend extends Backend implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  /** The library's context; closing its arena (close() or the cleaner) destroys it. */
  private final MemorySegment ctx;
  private final Cleaner.Cleanable cleanable;

  /**
   * A backend with the default thread count (OMP_NUM_THREADS when set, else all cores).
   *
   * @throws io.idemnet.nativelib.NativeLibraryException if the library cannot be loaded on this machine
   */
  public CpuBackend() {
    this(0);
  }

  /**
   * A backend whose kernels and GEMMs use {@code threads} threads ({@code <= 0}: the default).
   *
   * @throws io.idemnet.nativelib.NativeLibraryException if the library cannot be loaded on this machine
   */
  @SuppressWarnings("restricted")
  public CpuBackend(int threads) {
    CpuNative.ensureLoaded();
    MemorySegment created;
    try (Arena call = Arena.ofConfined()) {
      MemorySegment out = call.allocate(ValueLayout.ADDRESS);
      CpuNative.contextCreate(threads, out);
      created = out.get(ValueLayout.ADDRESS, 0);
    }
    Arena lifetime = Arena.ofShared();
    this.ctx = created.reinterpret(lifetime, CpuNative::contextDestroy);
    this.cleanable = CLEANER.register(this, lifetime::close);
  }

  @Override
  public String name() {
    return "cpu";
  }

  /** Threads used by the kernels and by OpenBLAS; n &lt;= 0 means the default (all cores). */
  public void setNumThreads(int n) {
    CpuNative.contextSetThreads(context(), n);
  }

  /** The thread count of this backend's kernels and GEMMs. */
  public int numThreads() {
    MemorySegment out = SCRATCH.get();
    CpuNative.contextThreads(context(), out);
    return out.get(ValueLayout.JAVA_INT, 0);
  }

  /** Frees the native context (from {@link #close()}); later kernel calls throw IllegalStateException. */
  @Override
  protected void releaseResources() {
    cleanable.clean();
  }

  /** The context, checked to be open (a closed one would otherwise fail inside the downcall). */
  MemorySegment context() {
    if (!ctx.scope().isAlive()) throw new IllegalStateException("cpu backend used after close");
    return ctx;
  }

  /** Out-parameters of the kernels (a double or an int): one slot per thread, no allocation per call. */
  private static final ThreadLocal<MemorySegment> SCRATCH =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_DOUBLE));

  private static MemorySegment seg(Tensor t) {
    return ((HostStorage) t.storage()).segment();
  }

  /** seg(t), or NULL for a null (optional) tensor. */
  private static MemorySegment segOrNull(Tensor t) {
    return t == null ? MemorySegment.NULL : seg(t);
  }

  /** The geometry of a convolution of image [N, C, H, W] with weight [O, C, kh, kw] into output [N, O, Ho, Wo]. */
  private static NativeAbi.ConvGeometry geometry(Tensor image, Tensor weight, Tensor output, ConvSpec s) {
    return new NativeAbi.ConvGeometry(image.dim(0), image.dim(1), image.dim(2), image.dim(3), weight.dim(0),
        weight.dim(2), weight.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), output.dim(2), output.dim(3));
  }

  private final Kernels kernels = new CpuKernels();

  @Override
  protected Kernels kernels() {
    return kernels;
  }

  /** This backend's kernels (the facade, {@link Backend}, has checked every argument). */
  private final class CpuKernels implements Kernels {
    @Override
    public Storage allocate(long numel) {
      return new HostStorage(numel);
    }

    @Override
    public void uploadKernel(float[] src, Tensor dst) {
      MemorySegment.copy(src, 0, seg(dst), ValueLayout.JAVA_FLOAT, 0, src.length);
    }

    @Override
    public void downloadKernel(Tensor src, float[] dst) {
      MemorySegment.copy(seg(src), ValueLayout.JAVA_FLOAT, 0, dst, 0, dst.length);
    }

    @Override
    public void copyKernel(Tensor src, Tensor dst) {
      CpuNative.copy(context(), seg(src), seg(dst), src.numel());
    }

    @Override
    public void fillKernel(Tensor x, float value) {
      CpuNative.fill(context(), seg(x), x.numel(), value);
    }

    @Override
    public void uniformKernel(Tensor x, long seed, float low, float high) {
      CpuNative.randUniform(context(), seg(x), x.numel(), seed, low, high);
    }

    @Override
    public void normalKernel(Tensor x, long seed, float mean, float std) {
      CpuNative.randNormal(context(), seg(x), x.numel(), seed, mean, std);
    }

    @Override
    public void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
        Tensor b, float beta, Tensor c, int batch) {
      // BLAS wants leading dimensions >= 1 even for empty matrices.
      long lda = Math.max(1, transA ? m : k), ldb = Math.max(1, transB ? k : n), ldc = Math.max(1, n);
      if (batch == 1) {
        CpuNative.sgemm(context(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, seg(a), lda, seg(b), ldb, beta,
            seg(c), ldc);
      } else {
        CpuNative.sgemmStridedBatched(context(), transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, seg(a), lda,
            (long) m * k, seg(b), ldb, (long) k * n, beta, seg(c), ldc, (long) m * n, batch);
      }
    }

    @Override
    public void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
      CpuNative.addBias(context(), seg(x), seg(bias), seg(out), rows, cols);
    }

    @Override
    public void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
      CpuNative.binary(context(), op.code, seg(a), seg(b), seg(out), a.numel());
    }

    @Override
    public void scaleKernel(Tensor x, float alpha, Tensor out) {
      CpuNative.scale(context(), seg(x), alpha, seg(out), x.numel());
    }

    @Override
    public void axpyKernel(float alpha, Tensor x, Tensor y) {
      CpuNative.axpy(context(), alpha, seg(x), seg(y), x.numel());
    }

    @Override
    public void activationKernel(Activation act, Tensor x, Tensor y) {
      CpuNative.activationForward(context(), act.kind().code, act.slope(), seg(x), seg(y), x.numel());
    }

    @Override
    public void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
      CpuNative.activationBackward(context(), act.kind().code, act.slope(), x == null ? MemorySegment.NULL : seg(x),
          y == null ? MemorySegment.NULL : seg(y), seg(dy), seg(dx), dy.numel());
    }

    @Override
    public double sumKernel(Tensor x) {
      MemorySegment out = SCRATCH.get();
      CpuNative.sum(context(), seg(x), x.numel(), out);
      return out.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    @Override
    public double sumSquaresKernel(Tensor x) {
      MemorySegment out = SCRATCH.get();
      CpuNative.sumSquares(context(), seg(x), x.numel(), out);
      return out.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    @Override
    public void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
      CpuNative.sumRows(context(), seg(x), rows, cols, accumulate ? 1f : 0f, seg(out));
    }

    @Override
    public double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
      MemorySegment loss = withLoss ? SCRATCH.get() : MemorySegment.NULL;
      CpuNative.corrector(context(), seg(a), seg(b), seg(c), s, seg(out), a.numel(), loss);
      return withLoss ? loss.get(ValueLayout.JAVA_DOUBLE, 0) : Double.NaN;
    }

    @Override
    public void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
      CpuNative.conv2dForward(context(), seg(x), seg(w), segOrNull(bias), seg(y), geometry(x, w, y, spec));
    }

    @Override
    public void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
      CpuNative.conv2dBackwardData(context(), seg(dy), seg(w), segOrNull(bias), seg(dx), geometry(dx, w, dy, spec));
    }

    @Override
    public void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
      CpuNative.conv2dBackwardWeight(context(), seg(x), seg(dy), seg(dw), accumulate ? 1f : 0f,
          geometry(x, dw, dy, spec));
    }

    @Override
    public void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
      long n = x.dim(0), c = x.dim(1);
      CpuNative.channelSums(context(), seg(x), n, c, x.numel() / Math.max(1, n * c), accumulate ? 1f : 0f, seg(out));
    }

    @Override
    public void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
      long n = x.dim(0), c = x.dim(1), hw = x.numel() / Math.max(1, n * c);
      CpuNative.batchNorm2dForward(context(), seg(x), segOrNull(gamma), segOrNull(beta), seg(y), n, c, hw,
          training ? 1 : 0, eps, momentum, segOrNull(runningMean), segOrNull(runningVar), segOrNull(saveMean),
          segOrNull(saveInvstd));
    }

    @Override
    public void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
        boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
      long n = x.dim(0), c = x.dim(1), hw = x.numel() / Math.max(1, n * c);
      CpuNative.batchNorm2dBackward(context(), seg(x), seg(dy), segOrNull(gamma), seg(saveMean), seg(saveInvstd),
          training ? 1 : 0, segOrNull(dx), segOrNull(dGamma), accumulateGamma ? 1f : 0f, segOrNull(dBeta),
          accumulateBeta ? 1f : 0f, n, c, hw);
    }

    @Override
    public void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
      CpuNative.dropout(context(), seg(x), seg(y), x.numel(), seed, p);
    }

    @Override
    public void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
      CpuNative.sgdUpdate(context(), seg(w), seg(g), segOrNull(velocity), w.numel(), lr, momentum, weightDecay);
    }

    @Override
    public void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, long step) {
      CpuNative.adamUpdate(context(), seg(w), seg(g), seg(m), seg(v), w.numel(), lr, beta1, beta2, eps, weightDecay,
          step);
    }

    @Override
    public void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
      CpuNative.scaleBy(context(), seg(x), seg(factor), alpha, seg(out), x.numel());
    }

    @Override
    public void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
      CpuNative.sumSquaresTo(context(), seg(x), x.numel(), scale, seg(out));
    }

    @Override
    public void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
      CpuNative.correctorTo(context(), seg(a), seg(b), seg(c), s, seg(out), a.numel(), lossScale, seg(loss));
    }

    @Override
    public void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
      CpuNative.l1Loss(context(), seg(a), seg(b), a.numel(), gradScale, segOrNull(grad), lossScale, seg(loss));
    }

    @Override
    public void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
      CpuNative.softmaxCrossEntropy(context(), seg(logits), seg(labels), rows, classes, seg(loss), segOrNull(grad));
    }

    @Override
    public void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
      CpuNative.maxRowNorm(context(), seg(x), rows, cols, seg(out));
    }

    @Override
    public void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
        Tensor residuals, Tensor norm) {
      CpuNative.andersonRecord(context(), seg(u), seg(t), rows, cols, slot, seg(images), seg(residuals), seg(norm));
    }

    @Override
    public void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
        Tensor next) {
      CpuNative.andersonMix(context(), seg(images), seg(residuals), rows, cols, count, newest, seg(next));
    }

    @Override
    public void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
      CpuNative.sgdUpdateScheduled(context(), seg(w), seg(g), segOrNull(velocity), w.numel(), seg(lr), momentum, weightDecay);
    }

    @Override
    public void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
        float beta2, float eps, float weightDecay) {
      CpuNative.adamUpdateScheduled(context(), seg(w), seg(g), seg(m), seg(v), w.numel(), seg(coefficients), beta1, beta2, eps,
          weightDecay);
    }

    @Override
    public void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
      CpuNative.dropoutCounted(context(), seg(x), seg(y), x.numel(), seed, seg(counter), offset, p);
    }

    @Override
    public void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
        Tensor weightRec, Tensor weightTight) {
      CpuNative.tightClampWeights(context(), seg(rec), seg(tight), lambdaRec, lambdaTight, clamp, seg(weightRec),
          seg(weightTight));
    }
  }
}
