/*
 * idemnet native ABI: the only boundary between Java (bound through FFM, see
 * java/io/idemnet/backend/cpu/CpuNative.java) and the C++/CUDA kernels.
 *
 * Rules of this ABI
 *  - Plain C: no C++ types, no exceptions cross it. Every function returns an int status
 *    (IDEMNET_OK or an error code); on error idemnet_last_error() gives a message that stays
 *    valid until the next idemnet call on the same thread.
 *  - All tensors are contiguous, row-major float32 buffers owned by the caller. Sizes are int64.
 *  - Java validates shapes before calling; the kernels still check what they cheaply can
 *    (null pointers, negative sizes) so a bad call is an error code, never a crash.
 *  - NaN policy: NaN and Inf propagate as IEEE arithmetic says (no fast-math); ReLU and LeakyReLU
 *    return NaN for a NaN input, as PyTorch does.
 */
#ifndef IDEMNET_H
#define IDEMNET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define IDEMNET_API __declspec(dllexport)
#else
#define IDEMNET_API __attribute__((visibility("default")))
#endif

/* Bumped whenever a signature changes; Java refuses a library with another version. */
#define IDEMNET_ABI_VERSION 1

/* Status codes (plain ints so that C and C++ callers see the same type). */
#define IDEMNET_OK 0
#define IDEMNET_ERR_INVALID_ARGUMENT 1
#define IDEMNET_ERR_OUT_OF_MEMORY 2
#define IDEMNET_ERR_BACKEND 3   /* BLAS or CUDA failure */
#define IDEMNET_ERR_NO_DEVICE 4 /* no usable GPU or driver */
#define IDEMNET_ERR_INTERNAL 5

enum idemnet_binary_op { IDEMNET_ADD = 0, IDEMNET_SUB = 1, IDEMNET_MUL = 2 };

enum idemnet_activation {
  IDEMNET_IDENTITY = 0,
  IDEMNET_RELU = 1,
  IDEMNET_LEAKY_RELU = 2, /* param = negative slope */
  IDEMNET_TANH = 3,
  IDEMNET_SIGMOID = 4
};

/* ---------------------------------------------------------------- CPU library (libidemnet_cpu) */

IDEMNET_API const char* idemnet_last_error(void);
IDEMNET_API int idemnet_abi_version(void);
/* Threads used by the OpenMP kernels and by OpenBLAS; n <= 0 restores the default (all cores). */
IDEMNET_API int idemnet_set_num_threads(int n);
IDEMNET_API int idemnet_get_num_threads(void);

IDEMNET_API int idemnet_fill(float* x, int64_t n, float value);
IDEMNET_API int idemnet_copy(const float* src, float* dst, int64_t n);

/*
 * Counter-based random numbers: element i depends only on (seed, i), so every backend (Java,
 * C++, CUDA) produces the same stream for the same seed, in any thread order.
 *   bits(i)    = splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15)
 *   uniform(i) = (bits(i) >> 40) * 2^-24                         in [0, 1)
 *   normal(i)  = sqrt(-2 ln(1 - uniform(2i))) * cos(2 pi uniform(2i + 1))   (Box-Muller, in double)
 */
IDEMNET_API int idemnet_rand_uniform(float* x, int64_t n, uint64_t seed, float low, float high);
IDEMNET_API int idemnet_rand_normal(float* x, int64_t n, uint64_t seed, float mean, float std);

/*
 * C = alpha * op(A) op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n.
 * trans_a/trans_b are 0 or 1; lda/ldb/ldc are row strides in elements.
 */
IDEMNET_API int idemnet_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                              float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                              float beta, float* c, int64_t ldc);
/* The same for `batch` matrices that lie stride_a / stride_b / stride_c elements apart. */
IDEMNET_API int idemnet_sgemm_strided_batched(int trans_a, int trans_b, int64_t m, int64_t n,
                                              int64_t k, float alpha, const float* a, int64_t lda,
                                              int64_t stride_a, const float* b, int64_t ldb,
                                              int64_t stride_b, float beta, float* c, int64_t ldc,
                                              int64_t stride_c, int64_t batch);

/* out[r, c] = x[r, c] + bias[c]; out may equal x. */
IDEMNET_API int idemnet_add_bias(const float* x, const float* bias, float* out, int64_t rows,
                                 int64_t cols);
/* out = a (op) b elementwise; out may equal a or b. */
IDEMNET_API int idemnet_binary(int op, const float* a, const float* b, float* out, int64_t n);
/* out = alpha * x; out may equal x. */
IDEMNET_API int idemnet_scale(const float* x, float alpha, float* out, int64_t n);
/* y += alpha * x */
IDEMNET_API int idemnet_axpy(float alpha, const float* x, float* y, int64_t n);

/* y = act(x); y may equal x. */
IDEMNET_API int idemnet_activation_forward(int act, float param, const float* x, float* y,
                                           int64_t n);
/*
 * dx = dy * act'(x). ReLU/LeakyReLU read x, Tanh/Sigmoid read y = act(x) (either may be NULL when
 * the activation does not need it). dx may equal dy.
 */
IDEMNET_API int idemnet_activation_backward(int act, float param, const float* x, const float* y,
                                            const float* dy, float* dx, int64_t n);

/* Reductions accumulate in double. */
IDEMNET_API int idemnet_sum(const float* x, int64_t n, double* out);
IDEMNET_API int idemnet_sum_squares(const float* x, int64_t n, double* out);
/* Column sums of a rows x cols matrix (the bias gradient): out[c] = beta * out[c] + sum_r x[r, c]. */
IDEMNET_API int idemnet_sum_rows(const float* x, int64_t rows, int64_t cols, float beta,
                                 float* out);

/*
 * The fused corrector of Modified Backpropagation:
 *   out = s * (3 a - 2 b - c)
 * and, when sum_sq_diff is not NULL, *sum_sq_diff = sum (a - c)^2 in the same pass (double).
 * With a = f(y), b = f(f(y)), c = y and s = -1/N this is the MB gradient dL/dy, and
 * sum_sq_diff / numel is the idempotent loss mean((f(y) - y)^2).
 */
IDEMNET_API int idemnet_corrector(const float* a, const float* b, const float* c, float s,
                                  float* out, int64_t n, double* sum_sq_diff);

/*
 * Optimizer updates, as PyTorch defines them (weight decay is L2: added to the gradient).
 * SGD:  d = g + wd w;  v = momentum v + d (v may be NULL when momentum == 0);  w -= lr (momentum ? v : d)
 * Adam: d = g + wd w;  m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;
 *       w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps),  t = step >= 1
 */
IDEMNET_API int idemnet_sgd_update(float* w, const float* g, float* v, int64_t n, float lr,
                                   float momentum, float weight_decay);
IDEMNET_API int idemnet_adam_update(float* w, const float* g, float* m, float* v, int64_t n,
                                    float lr, float beta1, float beta2, float eps,
                                    float weight_decay, int64_t step);

/*
 * 2-D convolution, NCHW, dilation 1, groups 1 (PyTorch's Conv2d). Geometry shared by the three
 * functions below: an image x [n, c, h, w], weights [o, c, kh, kw], an output y [n, o, ho, wo]
 * with ho = (h + 2 ph - kh) / sh + 1 and wo = (w + 2 pw - kw) / sw + 1 (the caller passes ho and
 * wo; they are checked against this formula). Implemented with im2col / col2im and SGEMM.
 * The transposed convolution (ConvTranspose2d) is the adjoint: its forward pass is
 * conv2d_backward_data and its backward passes are conv2d_forward and conv2d_backward_weight with
 * the roles of image and output exchanged.
 */
/* y = conv(x, weight) + bias[o] (bias may be NULL). */
IDEMNET_API int idemnet_conv2d_forward(const float* x, const float* weight, const float* bias,
                                       float* y, int64_t n, int64_t c, int64_t h, int64_t w,
                                       int64_t o, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                       int64_t ph, int64_t pw, int64_t ho, int64_t wo);
/* dx = conv^T(dy, weight) + bias[c] (the input gradient; bias may be NULL). dx is overwritten. */
IDEMNET_API int idemnet_conv2d_backward_data(const float* dy, const float* weight,
                                             const float* bias, float* dx, int64_t n, int64_t c,
                                             int64_t h, int64_t w, int64_t o, int64_t kh,
                                             int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                             int64_t pw, int64_t ho, int64_t wo);
/* dweight = beta * dweight + sum over samples and positions of dy (x) x-patches; beta is 0 or 1. */
IDEMNET_API int idemnet_conv2d_backward_weight(const float* x, const float* dy, float* dweight,
                                               float beta, int64_t n, int64_t c, int64_t h,
                                               int64_t w, int64_t o, int64_t kh, int64_t kw,
                                               int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                                               int64_t ho, int64_t wo);
/* Per-channel sums of x [n, c, hw] (the bias gradient): out[j] = beta * out[j] + sum x[:, j, :]. */
IDEMNET_API int idemnet_channel_sums(const float* x, int64_t n, int64_t c, int64_t hw, float beta,
                                     float* out);

/*
 * Batch normalization over x [n, c, hw] per channel (PyTorch's BatchNorm2d).
 * training != 0: mean and biased variance of the batch normalize x; when running_mean and
 *   running_var are not NULL they become (1 - momentum) * old + momentum * (mean, unbiased var),
 *   the unbiased variance being var * m / (m - 1) with m = n * hw (> 1).
 * training == 0: running_mean and running_var (required) normalize x.
 * y = (x - mean) * invstd * gamma + beta with invstd = 1 / sqrt(var + eps); gamma and beta may both
 * be NULL (no affine transform). save_mean and save_invstd (may be NULL) receive the statistics
 * used, for the backward pass. Statistics are accumulated in double.
 */
IDEMNET_API int idemnet_batch_norm2d_forward(const float* x, const float* gamma, const float* beta,
                                             float* y, int64_t n, int64_t c, int64_t hw,
                                             int training, float eps, float momentum,
                                             float* running_mean, float* running_var,
                                             float* save_mean, float* save_invstd);
/*
 * Gradients of batch normalization, from the statistics the forward pass saved. With
 * xhat = (x - mean) * invstd, g = gamma (1 when NULL) and m = n * hw:
 *   dbeta = sum dy;  dgamma = sum dy * xhat  (each: out = acc * out + sum, acc 0 or 1; may be NULL)
 *   training:  dx = g * invstd * (dy - dbeta / m - xhat * dgamma / m)   (the batch sums, not out)
 *   otherwise: dx = g * invstd * dy                                    (dx may be NULL)
 */
IDEMNET_API int idemnet_batch_norm2d_backward(const float* x, const float* dy, const float* gamma,
                                              const float* save_mean, const float* save_invstd,
                                              int training, float* dx, float* dgamma,
                                              float acc_gamma, float* dbeta, float acc_beta,
                                              int64_t n, int64_t c, int64_t hw);

/*
 * Inverted dropout with the counter-based stream above: element i is kept iff
 * uniform(seed, i) >= p, and then y[i] = (float)((double)x[i] * (1 / (1 - (double)p))) (the
 * scale in double), else 0. 0 <= p <= 1; p = 1 drops everything. The backward pass is the same
 * call on dy with the same seed. y may equal x.
 */
IDEMNET_API int idemnet_dropout(const float* x, float* y, int64_t n, uint64_t seed, float p);

/*
 * Device-resident training steps (docs/architecture.md): scalars a step computes or consumes live
 * in memory the kernels read and write, never in host arguments that change from step to step.
 *   scale_by:        out = (alpha * factor[0]) x, the product rounded to float first; out may equal x
 *   sum_squares_to:  out[0] = (float)(scale * sum x^2), accumulated in double
 *   corrector_to:    idemnet_corrector's out, and loss[0] = (float)(loss_scale * sum (a - c)^2)
 *   l1_loss:         grad = grad_scale * sign(a - b) (0 where a == b or NaN; grad may be NULL),
 *                    loss[0] = (float)(loss_scale * sum |a - b|) (double)
 *   softmax_cross_entropy: logits [rows, classes], labels [rows] (class indices as floats);
 *                    loss[0] = mean over rows of logsumexp(z) - z[label], grad (may be NULL) =
 *                    (softmax(z) - onehot(label)) / rows, in double per row; a label that is not
 *                    an integer in [0, classes) gives NaN (the loss and that row's gradient)
 *   max_row_norm:    out[0] = max over rows of sqrt(sum_c x[r, c]^2) (NaN if any row is NaN)
 *   *_scheduled:     the optimizer updates with lr (SGD) or, for Adam, coefficients[0] =
 *                    lr / (1 - b1^t) and coefficients[1] = 1 / sqrt(1 - b2^t), read from memory
 *   tight_clamp_weights: IGN's tightness clamp from the losses rec[0], tight[0]: in double,
 *                    w_rec[0] = lambda_rec - lambda_tight a (tanh u - u sech^2 u), w_tight[0] =
 *                    lambda_tight sech^2 u, u = tight / (a rec); {lambda_rec, lambda_tight} when
 *                    a == 0 or !(rec > 0)
 *   dropout_counted: idemnet_dropout with seed bits(seed, counter[0] * 2^24 + counter[1] + offset)
 *                    (bits: the counter-based stream above); counter holds two integers < 2^24
 */
IDEMNET_API int idemnet_scale_by(const float* x, const float* factor, float alpha, float* out,
                                 int64_t n);
IDEMNET_API int idemnet_sum_squares_to(const float* x, int64_t n, double scale, float* out);
IDEMNET_API int idemnet_corrector_to(const float* a, const float* b, const float* c, float s,
                                     float* out, int64_t n, double loss_scale, float* loss);
IDEMNET_API int idemnet_l1_loss(const float* a, const float* b, int64_t n, float grad_scale,
                                float* grad, double loss_scale, float* loss);
IDEMNET_API int idemnet_softmax_cross_entropy(const float* logits, const float* labels,
                                              int64_t rows, int64_t classes, float* loss,
                                              float* grad);
IDEMNET_API int idemnet_max_row_norm(const float* x, int64_t rows, int64_t cols, float* out);
IDEMNET_API int idemnet_sgd_update_scheduled(float* w, const float* g, float* v, int64_t n,
                                             const float* lr, float momentum, float weight_decay);
IDEMNET_API int idemnet_adam_update_scheduled(float* w, const float* g, float* m, float* v,
                                              int64_t n, const float* coefficients, float beta1,
                                              float beta2, float eps, float weight_decay);
IDEMNET_API int idemnet_tight_clamp_weights(const float* rec, const float* tight, float lambda_rec,
                                           float lambda_tight, float clamp, float* w_rec,
                                           float* w_tight);
IDEMNET_API int idemnet_dropout_counted(const float* x, float* y, int64_t n, uint64_t seed,
                                        const float* counter, int64_t offset, float p);

/* The CUDA library (libidemnet_cuda) has its own header: idemnet_cuda.h. */

#ifdef __cplusplus
}
#endif
#endif /* IDEMNET_H */
