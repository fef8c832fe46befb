package io.idemnet.backend.cpu;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host tensors with C++ kernels ({@code libidemnet_cpu}: OpenMP, vectorised; GEMM through
 * OpenBLAS) called through FFM. Argument checking happens in {@link Backend}.
 */
public final class CpuBackend extends Backend {

  /**
   * Loads the native library.
   *
   * @throws io.idemnet.nativelib.NativeLibraryException if it cannot be loaded on this machine
   */
  public CpuBackend() {
    CpuNative.ensureLoaded();
  }

  @Override
  public String name() {
    return "cpu";
  }

  /** Threads used by the kernels and by OpenBLAS; n &lt;= 0 means all cores. */
  public void setNumThreads(int n) {
    CpuNative.setNumThreads(n);
  }

  /** Threads the kernels and OpenBLAS use now. */
  public int numThreads() {
    return CpuNative.getNumThreads();
  }

  private static MemorySegment seg(Tensor t) {
    return ((HostStorage) t.storage()).segment();
  }

  /** seg(t), or NULL for a null (optional) tensor. */
  private static MemorySegment segOrNull(Tensor t) {
    return t == null ? MemorySegment.NULL : seg(t);
  }

  @Override
  protected Storage allocate(long numel) {
    return new HostStorage(numel);
  }

  @Override
  protected void uploadKernel(float[] src, Tensor dst) {
    MemorySegment.copy(src, 0, seg(dst), ValueLayout.JAVA_FLOAT, 0, src.length);
  }

  @Override
  protected void downloadKernel(Tensor src, float[] dst) {
    MemorySegment.copy(seg(src), ValueLayout.JAVA_FLOAT, 0, dst, 0, dst.length);
  }

  @Override
  protected void copyKernel(Tensor src, Tensor dst) {
    CpuNative.copy(seg(src), seg(dst), src.numel());
  }

  @Override
  protected void fillKernel(Tensor x, float value) {
    CpuNative.fill(seg(x), x.numel(), value);
  }

  @Override
  protected void uniformKernel(Tensor x, long seed, float low, float high) {
    CpuNative.uniform(seg(x), x.numel(), seed, low, high);
  }

  @Override
  protected void normalKernel(Tensor x, long seed, float mean, float std) {
    CpuNative.normal(seg(x), x.numel(), seed, mean, std);
  }

  @Override
  protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
      Tensor b, float beta, Tensor c, int batch) {
    // BLAS wants leading dimensions >= 1 even for empty matrices.
    long lda = Math.max(1, transA ? m : k), ldb = Math.max(1, transB ? k : n), ldc = Math.max(1, n);
    if (batch == 1) {
      CpuNative.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, seg(a), lda, seg(b), ldb, beta, seg(c), ldc);
    } else {
      CpuNative.sgemmBatched(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, seg(a), lda, (long) m * k,
          seg(b), ldb, (long) k * n, beta, seg(c), ldc, (long) m * n, batch);
    }
  }

  @Override
  protected void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
    CpuNative.addBias(seg(x), seg(bias), seg(out), rows, cols);
  }

  @Override
  protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    CpuNative.binary(op.code, seg(a), seg(b), seg(out), a.numel());
  }

  @Override
  protected void scaleKernel(Tensor x, float alpha, Tensor out) {
    CpuNative.scale(seg(x), alpha, seg(out), x.numel());
  }

  @Override
  protected void axpyKernel(float alpha, Tensor x, Tensor y) {
    CpuNative.axpy(alpha, seg(x), seg(y), x.numel());
  }

  @Override
  protected void activationKernel(Activation act, Tensor x, Tensor y) {
    CpuNative.activationForward(act.kind().code, act.slope(), seg(x), seg(y), x.numel());
  }

  @Override
  protected void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    CpuNative.activationBackward(act.kind().code, act.slope(), x == null ? MemorySegment.NULL : seg(x),
        y == null ? MemorySegment.NULL : seg(y), seg(dy), seg(dx), dy.numel());
  }

  @Override
  protected double sumKernel(Tensor x) {
    return CpuNative.sum(seg(x), x.numel());
  }

  @Override
  protected double sumSquaresKernel(Tensor x) {
    return CpuNative.sumSquares(seg(x), x.numel());
  }

  @Override
  protected void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
    CpuNative.sumRows(seg(x), rows, cols, accumulate ? 1f : 0f, seg(out));
  }

  @Override
  protected double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
    return CpuNative.corrector(seg(a), seg(b), seg(c), s, seg(out), a.numel(), withLoss);
  }

  /** conv2d geometry for image [N, C, H, W], weight [O, C, kh, kw], output [N, O, Ho, Wo]. */
  private static CpuNative.ConvDims dims(Tensor image, Tensor w, Tensor output, ConvSpec s) {
    return new CpuNative.ConvDims(image.dim(0), image.dim(1), image.dim(2), image.dim(3), w.dim(0), w.dim(2),
        w.dim(3), s.strideH(), s.strideW(), s.padH(), s.padW(), output.dim(2), output.dim(3));
  }

  @Override
  protected void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
    CpuNative.conv2dForward(seg(x), seg(w), segOrNull(bias), seg(y), dims(x, w, y, spec));
  }

  @Override
  protected void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
    CpuNative.conv2dBackwardData(seg(dy), seg(w), segOrNull(bias), seg(dx), dims(dx, w, dy, spec));
  }

  @Override
  protected void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
    CpuNative.conv2dBackwardWeight(seg(x), seg(dy), seg(dw), accumulate ? 1f : 0f, dims(x, dw, dy, spec));
  }

  @Override
  protected void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
    long n = x.dim(0), c = x.dim(1);
    CpuNative.channelSums(seg(x), n, c, x.numel() / Math.max(1, n * c), accumulate ? 1f : 0f, seg(out));
  }

  @Override
  protected void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
      boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
    long n = x.dim(0), c = x.dim(1);
    CpuNative.batchNormForward(seg(x), segOrNull(gamma), segOrNull(beta), seg(y), n, c, x.numel() / Math.max(1, n * c),
        training ? 1 : 0, eps, momentum, segOrNull(runningMean), segOrNull(runningVar), segOrNull(saveMean),
        segOrNull(saveInvstd));
  }

  @Override
  protected void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
      boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
    long n = x.dim(0), c = x.dim(1);
    CpuNative.batchNormBackward(seg(x), seg(dy), segOrNull(gamma), seg(saveMean), seg(saveInvstd), training ? 1 : 0,
        segOrNull(dx), segOrNull(dGamma), accumulateGamma ? 1f : 0f, segOrNull(dBeta), accumulateBeta ? 1f : 0f, n, c,
        x.numel() / Math.max(1, n * c));
  }

  @Override
  protected void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
    CpuNative.dropout(seg(x), seg(y), x.numel(), seed, p);
  }

  @Override
  protected void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
    CpuNative.sgd(seg(w), seg(g), velocity == null ? MemorySegment.NULL : seg(velocity), w.numel(), lr, momentum,
        weightDecay);
  }

  @Override
  protected void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
      float weightDecay, long step) {
    CpuNative.adam(seg(w), seg(g), seg(m), seg(v), w.numel(), lr, beta1, beta2, eps, weightDecay, step);
  }

  // ---- device-resident step operations

  @Override
  protected void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
    CpuNative.scaleBy(seg(x), seg(factor), alpha, seg(out), x.numel());
  }

  @Override
  protected void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
    CpuNative.sumSquaresTo(seg(x), x.numel(), scale, seg(out));
  }

  @Override
  protected void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
    CpuNative.correctorTo(seg(a), seg(b), seg(c), s, seg(out), a.numel(), lossScale, seg(loss));
  }

  @Override
  protected void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
    CpuNative.l1Loss(seg(a), seg(b), a.numel(), gradScale, segOrNull(grad), lossScale, seg(loss));
  }

  @Override
  protected void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
    CpuNative.softmaxCrossEntropy(seg(logits), seg(labels), rows, classes, seg(loss), segOrNull(grad));
  }

  @Override
  protected void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
    CpuNative.maxRowNorm(seg(x), rows, cols, seg(out));
  }

  @Override
  protected void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
    CpuNative.sgdScheduled(seg(w), seg(g), segOrNull(velocity), w.numel(), seg(lr), momentum, weightDecay);
  }

  @Override
  protected void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
      float beta2, float eps, float weightDecay) {
    CpuNative.adamScheduled(seg(w), seg(g), seg(m), seg(v), w.numel(), seg(coefficients), beta1, beta2, eps,
        weightDecay);
  }

  @Override
  protected void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
    CpuNative.dropoutCounted(seg(x), seg(y), x.numel(), seed, seg(counter), offset, p);
  }

  @Override
  protected void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
      Tensor weightRec, Tensor weightTight) {
    CpuNative.tightClampWeights(seg(rec), seg(tight), lambdaRec, lambdaTight, clamp, seg(weightRec), seg(weightTight));
  }
}
