package io.idemnet.backend;

import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.util.List;

/**
 * The kernel SPI: what a backend implements. {@link Backend} is the facade in front of it: its
 * public methods check ownership, liveness, shapes and aliasing, hold the tensors for the call,
 * and then call one of these methods, so a kernel sees only checked arguments and validates
 * nothing itself. A backend supplies its kernels through {@link Backend#kernels()}; users never
 * call them (docs/decisions/backend-template.md).
 */
public interface Kernels {
  /** New memory for {@code numel} floats, zero-filled. */
  Storage allocate(long numel);

  /** Copies {@code src} into {@code dst} (as many values as {@code dst} holds). */
  void uploadKernel(float[] src, Tensor dst);

  /** Copies {@code src} into {@code dst} (as many values as {@code src} holds). */
  void downloadKernel(Tensor src, float[] dst);

  /** dst = src, element by element in row-major order (the same number of elements). */
  void copyKernel(Tensor src, Tensor dst);

  /** Every element of x = value. */
  void fillKernel(Tensor x, float value);

  /** x = U(low, high) from the counter-based generator at {@code seed}. */
  void uniformKernel(Tensor x, long seed, float low, float high);

  /** x = N(mean, std^2) from the counter-based generator at {@code seed}. */
  void normalKernel(Tensor x, long seed, float mean, float std);

  /** C = alpha op(A) op(B) + beta C for {@code batch} matrices lying m*k, k*n, m*n apart. */
  void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
      Tensor a, Tensor b, float beta, Tensor c, int batch);

  /** out = x + bias on every row, for x and out [rows, cols] and bias [cols]. */
  void addBiasKernel(Tensor x, Tensor bias, Tensor out, long rows, int cols);

  /** out = a op b, element by element. */
  void binaryKernel(Backend.BinaryOp op, Tensor a, Tensor b, Tensor out);

  /** out = alpha x. */
  void scaleKernel(Tensor x, float alpha, Tensor out);

  /** y = y + alpha x. */
  void axpyKernel(float alpha, Tensor x, Tensor y);

  /** y = act(x), element by element. */
  void activationKernel(Activation act, Tensor x, Tensor y);

  /**
   * dx = the gradient of {@link #activationKernel} at x (or at its output y) times dy; x or y may
   * be null where the activation needs only the other.
   */
  void activationBackwardKernel(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx);

  /** The sum of x's elements, accumulated in double. */
  double sumKernel(Tensor x);

  /** The sum of the squares of x's elements, accumulated in double. */
  double sumSquaresKernel(Tensor x);

  /**
   * The sum of the squares of every element of every tensor. This default adds up
   * {@link #sumSquaresKernel} per tensor; a device backend may override it to leave the partial
   * sums on the device and read back only the total.
   */
  default double sumSquaresOfAllKernel(List<Tensor> tensors) {
    double total = 0;
    for (Tensor t : tensors) total += sumSquaresKernel(t);
    return total;
  }

  /** out = (accumulate ? out : 0) + the sum of x's rows, for x [rows, cols] and out [cols]. */
  void sumRowsKernel(Tensor x, long rows, int cols, boolean accumulate, Tensor out);

  /** out = s (3a - 2b - c); returns sum (a - c)^2 when {@code withLoss}. */
  double correctorKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss);

  /** One SGD update of w with gradient g and momentum buffer velocity (PyTorch's formulas). */
  void sgdKernel(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay);

  /** One Adam update of w with gradient g and moments m, v at step {@code step} (PyTorch's formulas). */
  void adamKernel(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2,
      float eps, float weightDecay, long step);

  /**
   * y = conv(x, w) + bias[o] for x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo] (shapes checked;
   * bias may be null).
   */
  void conv2dKernel(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Tensor y);

  /**
   * dx = conv^T(dy, w) + bias[c], the adjoint of {@link #conv2dKernel} (the image shape is dx's;
   * bias may be null). dx is overwritten.
   */
  void conv2dDataKernel(Tensor dy, Tensor w, Tensor bias, ConvSpec spec, Tensor dx);

  /** dw = (accumulate ? dw : 0) + the weight gradient of {@link #conv2dKernel} at image x and output gradient dy. */
  void conv2dWeightKernel(Tensor x, Tensor dy, ConvSpec spec, boolean accumulate, Tensor dw);

  /** out[c] = (accumulate ? out[c] : 0) + sum of x[:, c, ...]. */
  void channelSumsKernel(Tensor x, boolean accumulate, Tensor out);

  /** See {@link Backend#batchNorm2d}; x is [N, C, *], optional tensors may be null. */
  void batchNormKernel(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
      boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd);

  /** See {@link Backend#batchNorm2dBackward}; optional tensors may be null. */
  void batchNormBackwardKernel(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean,
      Tensor saveInvstd, boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta,
      boolean accumulateBeta);

  /** y[i] = uniform(seed, i) >= p ? x[i] / (1 - p) : 0 (the scale in double); see idemnet_dropout. */
  void dropoutKernel(Tensor x, float p, long seed, Tensor y);

  // Device-resident step operations: scalars stay in one-element tensors (see docs/architecture.md).

  /** out = (alpha * factor[0]) x, the product alpha * factor[0] rounded to float first. */
  void scaleByKernel(Tensor x, Tensor factor, float alpha, Tensor out);

  /** out[0] = scale * sum x^2 (double accumulation, one rounding to float). */
  void sumSquaresToKernel(Tensor x, double scale, Tensor out);

  /** out = s (3a - 2b - c) and loss[0] = lossScale * sum (a - c)^2, in one pass. */
  void correctorToKernel(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale,
      Tensor loss);

  /** grad = gradScale sign(a - b) (grad may be null) and loss[0] = lossScale * sum |a - b|. */
  void l1Kernel(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss);

  /** See {@link Backend#softmaxCrossEntropy}; grad may be null. */
  void crossEntropyKernel(Tensor logits, Tensor labels, long rows, long classes, Tensor loss,
      Tensor grad);

  /** out[0] = max over rows of the Euclidean norm of x's rows ([rows, cols] row-major). */
  void maxRowNormKernel(Tensor x, long rows, long cols, Tensor out);

  /** See {@link Backend#andersonRecord}: images[slot] = t, residuals[slot] = t - u, norm[0] = the largest row norm of t - u. */
  void andersonRecordKernel(Tensor u, Tensor t, long rows, long cols, int slot, Tensor images,
      Tensor residuals, Tensor norm);

  /** See {@link Backend#andersonMix}: each row's least-residual combination of images[0, count) into next. */
  void andersonMixKernel(Tensor images, Tensor residuals, long rows, long cols, int count, int newest,
      Tensor next);

  /** {@link #sgdKernel} with the learning rate read from lr[0]. */
  void sgdScheduledKernel(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum,
      float weightDecay);

  /** Adam with coefficients[0] = lr / (1 - beta1^t) and coefficients[1] = 1 / sqrt(1 - beta2^t). */
  void adamScheduledKernel(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1,
      float beta2, float eps, float weightDecay);

  /** See {@link Backend#tightClampWeights}. */
  void tightClampKernel(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
      Tensor weightRec, Tensor weightTight);

  /** {@link #dropoutKernel} with the seed bits(seed, counter + offset), counter read from the device. */
  void dropoutCountedKernel(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y);


  /** The kernel behind {@link Backend#readScalars}; a copy to the host unless a backend has a faster path. */
  default void readScalarsKernel(Tensor src, float[] dst) {
    downloadKernel(src, dst);
  }

  /** The kernel behind {@link Backend#writeScalars}; a copy from the host unless a backend has a faster path. */
  default void writeScalarsKernel(float[] src, Tensor dst) {
    uploadKernel(src, dst);
  }
}
