package io.idemnet.backend;

import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;

/**
 * A backend that runs every kernel on another backend and counts the data that crosses between
 * host and device: uploads and downloads (calls and bytes; a reduction that returns its value to
 * Java counts as a download of one double), and separately the declared reads and writes
 * ({@link Backend#readScalar}, {@link Backend#readScalars}, {@link Backend#writeScalars}). Tests
 * wrap the cpu backend in it to prove that a training step stays on the device: zero uploads and
 * downloads per step, and only the declared reads and writes the step documents.
 *
 * <p>Tensors made here belong to this backend (the wrapped backend's kernels see them through
 * their storage). Recording ({@link Backend#record}) keeps the kernel calls as closures, whatever
 * the wrapped backend is.
 */
public final class CountingBackend extends Backend {
  private final Backend inner;
  private long uploads, uploadBytes, downloads, downloadBytes, reads, readBytes, writes, writeBytes;

  /** Counts what crosses while running every kernel on {@code inner} (which it does not close). */
  public CountingBackend(Backend inner) {
    this.inner = java.util.Objects.requireNonNull(inner, "inner backend");
  }

  /** What has crossed so far; subtract two snapshots to count a step. */
  public record Counts(long uploads, long uploadBytes, long downloads, long downloadBytes, long declaredReads,
      long declaredReadBytes, long declaredWrites, long declaredWriteBytes) {

    /** this - earlier, field by field. */
    public Counts minus(Counts earlier) {
      return new Counts(uploads - earlier.uploads, uploadBytes - earlier.uploadBytes, downloads - earlier.downloads,
          downloadBytes - earlier.downloadBytes, declaredReads - earlier.declaredReads,
          declaredReadBytes - earlier.declaredReadBytes, declaredWrites - earlier.declaredWrites,
          declaredWriteBytes - earlier.declaredWriteBytes);
    }

    /** Uploads plus downloads: what a device-resident step must keep at zero. */
    public long undeclaredTransfers() {
      return uploads + downloads;
    }
  }

  /** The counts so far (a snapshot). */
  public synchronized Counts counts() {
    return new Counts(uploads, uploadBytes, downloads, downloadBytes, reads, readBytes, writes, writeBytes);
  }

  /** The backend whose kernels run. */
  public Backend inner() {
    return inner;
  }

  @Override
  public String name() {
    return "counting(" + inner.name() + ")";
  }

  private synchronized void upload(long bytes) {
    uploads++;
    uploadBytes += bytes;
  }

  private synchronized void download(long bytes) {
    downloads++;
    downloadBytes += bytes;
  }

  // ------------------------------------------------------------------ transfers (counted)

  @Override
  protected Storage allocate(long numel) {
    return inner.allocate(numel);
  }

  @Override
  protected void uploadKernel(float[] src, Tensor dst) {
    upload((long) src.length * Float.BYTES);
    inner.uploadKernel(src, dst);
  }

  @Override
  protected void downloadKernel(Tensor src, float[] dst) {
    download((long) dst.length * Float.BYTES);
    inner.downloadKernel(src, dst);
  }

  @Override
  protected void readScalarsKernel(Tensor src, float[] dst) {
    synchronized (this) {
      reads++;
      readBytes += (long) dst.length * Float.BYTES;
    }
    inner.readScalarsKernel(src, dst);
  }

  @Override
  protected void writeScalarsKernel(float[] src, Tensor dst) {
    synchronized (this) {
      writes++;
      writeBytes += (long) src.length * Float.BYTES;
    }
    inner.writeScalarsKernel(src, dst);
  }

  @Override
  protected double sumKernel(Tensor x) {
    download(Double.BYTES);
    return inner.sumKernel(x);
  }

  @Override
  protected double sumSquaresKernel(Tensor x) {
    download(Double.BYTES);
    return inner.sumSquaresKernel(x);
  }

  @Override
  protected double sumSquaresOfAllKernel(java.util.List<Tensor> tensors) {
    download(Double.BYTES);
    return inner.sumSquaresOfAllKernel(tensors);
  }

  @Override
  protected double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
    if (withLoss) download(Double.BYTES);
    return inner.correctorKernel(s, a, b, c, out, withLoss);
  }

  // ------------------------------------------------------------------ kernels (passed on)

  @Override
  protected void copyKernel(Tensor src, Tensor dst) {
    inner.copyKernel(src, dst);
  }

  @Override
  protected void fillKernel(Tensor x, float value) {
    inner.fillKernel(x, value);
  }

  @Override
  protected void uniformKernel(Tensor x, long seed, float low, float high) {
    inner.uniformKernel(x, seed, low, high);
  }

  @Override
  protected void normalKernel(Tensor x, long seed, float mean, float std) {
    inner.normalKernel(x, seed, mean, std);
  }

  @Override
  protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
      float beta, Tensor c, int batch) {
    inner.gemmKernel(transA, transB, m, n, k, alpha, a, b, beta, c, batch);
  }

  @Override
  protected void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
    inner.addBiasKernel(x, bias, out, rows, cols);
  }

  @Override
  protected void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    inner.binaryKernel(op, a, b, out);
  }

  @Override
  protected void scaleKernel(Tensor x, float alpha, Tensor out) {
    inner.scaleKernel(x, alpha, out);
  }

  @Override
  protected void axpyKernel(float alpha, Tensor x, Tensor y) {
    inner.axpyKernel(alpha, x, y);
  }

  @Override
  protected void activationKernel(Activation act, Tensor x, Tensor y) {
    inner.activationKernel(act, x, y);
  }

  @Override
  protected void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    inner.activationBackwardKernel(act, x, y, dy, dx);
  }

  @Override
  protected void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
    inner.sumRowsKernel(x, rows, cols, accumulate, out);
  }

  @Override
  protected void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
    inner.sgdKernel(w, g, velocity, lr, momentum, weightDecay);
  }

  @Override
  protected void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
      float weightDecay, long step) {
    inner.adamKernel(w, g, m, v, lr, beta1, beta2, eps, weightDecay, step);
  }

  @Override
  protected void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
    inner.conv2dKernel(x, w, bias, spec, y);
  }

  @Override
  protected void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
    inner.conv2dDataKernel(dy, w, bias, spec, dx);
  }

  @Override
  protected void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
    inner.conv2dWeightKernel(x, dy, spec, accumulate, dw);
  }

  @Override
  protected void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
    inner.channelSumsKernel(x, accumulate, out);
  }

  @Override
  protected void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
      boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
    inner.batchNormKernel(x, gamma, beta, runningMean, runningVar, training, momentum, eps, y, saveMean, saveInvstd);
  }

  @Override
  protected void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
      boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
    inner.batchNormBackwardKernel(x, dy, gamma, saveMean, saveInvstd, training, dx, dGamma, accumulateGamma, dBeta,
        accumulateBeta);
  }

  @Override
  protected void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
    inner.dropoutKernel(x, p, seed, y);
  }

  @Override
  protected void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
    inner.scaleByKernel(x, factor, alpha, out);
  }

  @Override
  protected void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
    inner.sumSquaresToKernel(x, scale, out);
  }

  @Override
  protected void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
    inner.correctorToKernel(s, a, b, c, out, lossScale, loss);
  }

  @Override
  protected void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
    inner.l1Kernel(a, b, gradScale, grad, lossScale, loss);
  }

  @Override
  protected void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
    inner.crossEntropyKernel(logits, labels, rows, classes, loss, grad);
  }

  @Override
  protected void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
    inner.maxRowNormKernel(x, rows, cols, out);
  }

  @Override
  protected void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
      Tensor residuals, Tensor norm) {
    inner.andersonRecordKernel(u, t, rows, cols, slot, images, residuals, norm);
  }

  @Override
  protected void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
      Tensor next) {
    inner.andersonMixKernel(images, residuals, rows, cols, count, newest, next);
  }

  @Override
  protected void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
    inner.sgdScheduledKernel(w, g, velocity, lr, momentum, weightDecay);
  }

  @Override
  protected void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
      float beta2, float eps, float weightDecay) {
    inner.adamScheduledKernel(w, g, m, v, coefficients, beta1, beta2, eps, weightDecay);
  }

  @Override
  protected void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
    inner.dropoutCountedKernel(x, p, seed, counter, offset, y);
  }

  @Override
  public String toString() {
    return "Backend(" + name() + ")";
  }

  @Override
  protected void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
      Tensor weightRec, Tensor weightTight) {
    inner.tightClampKernel(rec, tight, lambdaRec, lambdaTight, clamp, weightRec, weightTight);
  }
}
