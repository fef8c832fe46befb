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

  @Override
  public String toString() {
    return "Backend(" + name() + ")";
  }

  private final Kernels kernels = new CountingKernels();

  @Override
  protected Kernels kernels() {
    return kernels;
  }

  /** This backend's kernels (the facade, {@link Backend}, has checked every argument). */
  private final class CountingKernels implements Kernels {
    @Override
    public Storage allocate(long numel) {
      return inner.kernels().allocate(numel);
    }

    @Override
    public void uploadKernel(float[] src, Tensor dst) {
      upload((long) src.length * Float.BYTES);
      inner.kernels().uploadKernel(src, dst);
    }

    @Override
    public void downloadKernel(Tensor src, float[] dst) {
      download((long) dst.length * Float.BYTES);
      inner.kernels().downloadKernel(src, dst);
    }

    @Override
    public void readScalarsKernel(Tensor src, float[] dst) {
      synchronized (CountingBackend.this) {
        reads++;
        readBytes += (long) dst.length * Float.BYTES;
      }
      inner.kernels().readScalarsKernel(src, dst);
    }

    @Override
    public void writeScalarsKernel(float[] src, Tensor dst) {
      synchronized (CountingBackend.this) {
        writes++;
        writeBytes += (long) src.length * Float.BYTES;
      }
      inner.kernels().writeScalarsKernel(src, dst);
    }

    @Override
    public double sumKernel(Tensor x) {
      download(Double.BYTES);
      return inner.kernels().sumKernel(x);
    }

    @Override
    public double sumSquaresKernel(Tensor x) {
      download(Double.BYTES);
      return inner.kernels().sumSquaresKernel(x);
    }

    @Override
    public double sumSquaresOfAllKernel(java.util.List<Tensor> tensors) {
      download(Double.BYTES);
      return inner.kernels().sumSquaresOfAllKernel(tensors);
    }

    @Override
    public double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
      if (withLoss) download(Double.BYTES);
      return inner.kernels().correctorKernel(s, a, b, c, out, withLoss);
    }

    @Override
    public void copyKernel(Tensor src, Tensor dst) {
      inner.kernels().copyKernel(src, dst);
    }

    @Override
    public void fillKernel(Tensor x, float value) {
      inner.kernels().fillKernel(x, value);
    }

    @Override
    public void uniformKernel(Tensor x, long seed, float low, float high) {
      inner.kernels().uniformKernel(x, seed, low, high);
    }

    @Override
    public void normalKernel(Tensor x, long seed, float mean, float std) {
      inner.kernels().normalKernel(x, seed, mean, std);
    }

    @Override
    public void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
        float beta, Tensor c, int batch) {
      inner.kernels().gemmKernel(transA, transB, m, n, k, alpha, a, b, beta, c, batch);
    }

    @Override
    public void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols) {
      inner.kernels().addBiasKernel(x, bias, out, rows, cols);
    }

    @Override
    public void binaryKernel(BinaryOp op, Tensor a, Tensor b, Tensor out) {
      inner.kernels().binaryKernel(op, a, b, out);
    }

    @Override
    public void scaleKernel(Tensor x, float alpha, Tensor out) {
      inner.kernels().scaleKernel(x, alpha, out);
    }

    @Override
    public void axpyKernel(float alpha, Tensor x, Tensor y) {
      inner.kernels().axpyKernel(alpha, x, y);
    }

    @Override
    public void activationKernel(Activation act, Tensor x, Tensor y) {
      inner.kernels().activationKernel(act, x, y);
    }

    @Override
    public void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
      inner.kernels().activationBackwardKernel(act, x, y, dy, dx);
    }

    @Override
    public void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out) {
      inner.kernels().sumRowsKernel(x, rows, cols, accumulate, out);
    }

    @Override
    public void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
      inner.kernels().sgdKernel(w, g, velocity, lr, momentum, weightDecay);
    }

    @Override
    public void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
        float weightDecay, long step) {
      inner.kernels().adamKernel(w, g, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y) {
      inner.kernels().conv2dKernel(x, w, bias, spec, y);
    }

    @Override
    public void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx) {
      inner.kernels().conv2dDataKernel(dy, w, bias, spec, dx);
    }

    @Override
    public void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw) {
      inner.kernels().conv2dWeightKernel(x, dy, spec, accumulate, dw);
    }

    @Override
    public void channelSumsKernel(Tensor x, boolean accumulate, Tensor out) {
      inner.kernels().channelSumsKernel(x, accumulate, out);
    }

    @Override
    public void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
      inner.kernels().batchNormKernel(x, gamma, beta, runningMean, runningVar, training, momentum, eps, y, saveMean, saveInvstd);
    }

    @Override
    public void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
        boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
      inner.kernels().batchNormBackwardKernel(x, dy, gamma, saveMean, saveInvstd, training, dx, dGamma, accumulateGamma, dBeta,
          accumulateBeta);
    }

    @Override
    public void dropoutKernel(Tensor x, float p, long seed, Tensor y) {
      inner.kernels().dropoutKernel(x, p, seed, y);
    }

    @Override
    public void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out) {
      inner.kernels().scaleByKernel(x, factor, alpha, out);
    }

    @Override
    public void sumSquaresToKernel(Tensor x, double scale, Tensor out) {
      inner.kernels().sumSquaresToKernel(x, scale, out);
    }

    @Override
    public void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
      inner.kernels().correctorToKernel(s, a, b, c, out, lossScale, loss);
    }

    @Override
    public void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
      inner.kernels().l1Kernel(a, b, gradScale, grad, lossScale, loss);
    }

    @Override
    public void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss, Tensor grad) {
      inner.kernels().crossEntropyKernel(logits, labels, rows, classes, loss, grad);
    }

    @Override
    public void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out) {
      inner.kernels().maxRowNormKernel(x, rows, cols, out);
    }

    @Override
    public void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
        Tensor residuals, Tensor norm) {
      inner.kernels().andersonRecordKernel(u, t, rows, cols, slot, images, residuals, norm);
    }

    @Override
    public void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
        Tensor next) {
      inner.kernels().andersonMixKernel(images, residuals, rows, cols, count, newest, next);
    }

    @Override
    public void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
      inner.kernels().sgdScheduledKernel(w, g, velocity, lr, momentum, weightDecay);
    }

    @Override
    public void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
        float beta2, float eps, float weightDecay) {
      inner.kernels().adamScheduledKernel(w, g, m, v, coefficients, beta1, beta2, eps, weightDecay);
    }

    @Override
    public void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
      inner.kernels().dropoutCountedKernel(x, p, seed, counter, offset, y);
    }

    @Override
    public void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
        Tensor weightRec, Tensor weightTight) {
      inner.kernels().tightClampKernel(rec, tight, lambdaRec, lambdaTight, clamp, weightRec, weightTight);
    }
  }
}
