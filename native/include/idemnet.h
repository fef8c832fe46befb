/* bindgen: class=io.idemnet.backend.cpu.CpuNative library=idemnet_cpu prefix=idemnet_ pointers=segment loader=CpuLibrary */
/*
 * idemnet CPU library (libidemnet_cpu): C++ kernels with OpenMP, GEMM through OpenBLAS. The Java
 * bindings (io.idemnet.backend.cpu.CpuNative) are generated from this header at build time; the
 * rules of the ABI and the header style are at the top of idemnet_common.h.
 */
#ifndef IDEMNET_H
#define IDEMNET_H

#include <stdint.h>

#include "idemnet_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The message of this thread's last failed call (empty after a successful one). */
IDEMNET_API const char* idemnet_last_error(void);
/* IDEMNET_ABI_VERSION of the headers the library was built from. */
IDEMNET_API int idemnet_abi_version(void);

/* ------------------------------------------------------------------------------- contexts */
/*
 * A context holds the thread count of the OpenMP kernels and of OpenBLAS; every operation applies
 * its context's count to the calling thread. threads <= 0 is the process default (OMP_NUM_THREADS
 * when set, else all cores). A context may be used from several threads at once; OpenBLAS keeps
 * one count per process, so contexts with different counts used at the same time share it in
 * their GEMMs.
 */
typedef struct idemnet_context idemnet_context;

IDEMNET_API int idemnet_context_create(int threads, idemnet_context** out);
IDEMNET_API int idemnet_context_destroy(idemnet_context* ctx);
IDEMNET_API int idemnet_context_set_threads(idemnet_context* ctx, int threads);
/* The context's thread count, into *threads. */
IDEMNET_API int idemnet_context_threads(idemnet_context* ctx, int* threads);

/* ------------------------------------------------------------------------------- operations */

/* x[i] = value */
IDEMNET_API int idemnet_fill(idemnet_context* ctx, float* x, int64_t n, float value);
/* dst = src (n floats; the buffers may overlap) */
IDEMNET_API int idemnet_copy(idemnet_context* ctx, const float* src, float* dst, int64_t n);

/*
 * Counter-based random numbers: element i depends only on (seed, i), so every backend (Java,
 * C++, CUDA) produces the same stream for the same seed, in any thread order.
 *   bits(i)    = splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15)
 *   uniform(i) = (bits(i) >> 40) * 2^-24                         in [0, 1)
 *   normal(i)  = sqrt(-2 ln(1 - uniform(2i))) * cos(2 pi uniform(2i + 1))   (Box-Muller, in double)
 */
IDEMNET_API int idemnet_rand_uniform(idemnet_context* ctx, float* x, int64_t n, uint64_t seed,
                                     float low, float high);
IDEMNET_API int idemnet_rand_normal(idemnet_context* ctx, float* x, int64_t n, uint64_t seed,
                                    float mean, float std);

/*
 * C = alpha * op(A) op(B) + beta * C, row-major; op(A) is m x k, op(B) is k x n.
 * trans_a/trans_b are 0 or 1; lda/ldb/ldc are row strides in elements.
 */
IDEMNET_API int idemnet_sgemm(idemnet_context* ctx, int trans_a, int trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float* a, int64_t lda, const float* b,
                              int64_t ldb, float beta, float* c, int64_t ldc);
/* The same for `batch` matrices that lie stride_a / stride_b / stride_c elements apart. */
IDEMNET_API int idemnet_sgemm_strided_batched(idemnet_context* ctx, int trans_a, int trans_b,
                                              int64_t m, int64_t n, int64_t k, float alpha,
                                              const float* a, int64_t lda, int64_t stride_a,
                                              const float* b, int64_t ldb, int64_t stride_b,
                                              float beta, float* c, int64_t ldc, int64_t stride_c,
                                              int64_t batch);

/* out[r, c] = x[r, c] + bias[c]; out may equal x. */
IDEMNET_API int idemnet_add_bias(idemnet_context* ctx, const float* x, const float* bias,
                                 float* out, int64_t rows, int64_t cols);
/* out = a (op) b elementwise; out may equal a or b. */
IDEMNET_API int idemnet_binary(idemnet_context* ctx, int op, const float* a, const float* b,
                               float* out, int64_t n);
/* out = alpha * x; out may equal x. */
IDEMNET_API int idemnet_scale(idemnet_context* ctx, const float* x, float alpha, float* out,
                              int64_t n);
/* y += alpha * x */
IDEMNET_API int idemnet_axpy(idemnet_context* ctx, float alpha, const float* x, float* y, int64_t n);

/* y = act(x); y may equal x. */
IDEMNET_API int idemnet_activation_forward(idemnet_context* ctx, int act, float param,
                                           const float* x, float* y, int64_t n);
/*
 * dx = dy * act'(x). ReLU/LeakyReLU read x, Tanh/Sigmoid read y = act(x) (either may be NULL when
 * the activation does not need it). dx may equal dy.
 */
IDEMNET_API int idemnet_activation_backward(idemnet_context* ctx, int act, float param,
                                            const float* x, const float* y, const float* dy,
                                            float* dx, int64_t n);

/* Reductions accumulate in double. */
IDEMNET_API int idemnet_sum(idemnet_context* ctx, const float* x, int64_t n, double* out);
IDEMNET_API int idemnet_sum_squares(idemnet_context* ctx, const float* x, int64_t n, double* out);
/* Column sums of a rows x cols matrix (the bias gradient): out[c] = beta * out[c] + sum_r x[r, c]. */
IDEMNET_API int idemnet_sum_rows(idemnet_context* ctx, const float* x, int64_t rows, int64_t cols,
                                 float beta, float* out);

/*
 * The fused corrector of Modified Backpropagation:
 *   out = s * (3 a - 2 b - c)
 * and, when sum_sq_diff is not NULL, *sum_sq_diff = sum (a - c)^2 in the same pass (double).
 * With a = f(y), b = f(f(y)), c = y and s = -1/N this is the MB gradient dL/dy, and
 * sum_sq_diff / numel is the idempotent loss mean((f(y) - y)^2).
 */
IDEMNET_API int idemnet_corrector(idemnet_context* ctx, const float* a, const float* b,
                                  const float* c, float s, float* out, int64_t n,
                                  double* sum_sq_diff);

/*
 * Optimizer updates, as PyTorch defines them (weight decay is L2: added to the gradient).
 * SGD:  d = g + wd w;  v = momentum v + d (v may be NULL when momentum == 0);  w -= lr (momentum ? v : d)
 * Adam: d = g + wd w;  m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;
 *       w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps),  t = step >= 1
 */
IDEMNET_API int idemnet_sgd_update(idemnet_context* ctx, float* w, const float* g, float* v,
                                   int64_t n, float lr, float momentum, float weight_decay);
IDEMNET_API int idemnet_adam_update(idemnet_context* ctx, float* w, const float* g, float* m,
                                    float* v, int64_t n, float lr, float beta1, float beta2,
                                    float eps, float weight_decay, int64_t step);

/*
 * 2-D convolution, NCHW, dilation 1, groups 1 (PyTorch's Conv2d), of a geometry
 * (idemnet_conv_geometry in idemnet_common.h): an image x [n, c, h, w], weights [o, c, kh, kw],
 * an output y [n, o, ho, wo].
 * Implemented with im2col / col2im and SGEMM. The transposed convolution (ConvTranspose2d) is the
 * adjoint: its forward pass is conv2d_backward_data and its backward passes are conv2d_forward
 * and conv2d_backward_weight with the roles of image and output exchanged.
 */
/* y = conv(x, weight) + bias[o] (bias may be NULL). */
IDEMNET_API int idemnet_conv2d_forward(idemnet_context* ctx, const float* x, const float* weight,
                                       const float* bias, float* y,
                                       const idemnet_conv_geometry* geometry);
/* dx = conv^T(dy, weight) + bias[c] (the input gradient; bias may be NULL). dx is overwritten. */
IDEMNET_API int idemnet_conv2d_backward_data(idemnet_context* ctx, const float* dy,
                                             const float* weight, const float* bias, float* dx,
                                             const idemnet_conv_geometry* geometry);
/* dweight = beta * dweight + sum over samples and positions of dy (x) x-patches; beta is 0 or 1. */
IDEMNET_API int idemnet_conv2d_backward_weight(idemnet_context* ctx, const float* x,
                                               const float* dy, float* dweight, float beta,
                                               const idemnet_conv_geometry* geometry);
/* Per-channel sums of x [n, c, hw] (the bias gradient): out[j] = beta * out[j] + sum x[:, j, :]. */
IDEMNET_API int idemnet_channel_sums(idemnet_context* ctx, const float* x, int64_t n, int64_t c,
                                     int64_t hw, float beta, float* out);

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
IDEMNET_API int idemnet_batch_norm2d_forward(idemnet_context* ctx, const float* x,
                                             const float* gamma, const float* beta, float* y,
                                             int64_t n, int64_t c, int64_t hw, int training,
                                             float eps, float momentum, float* running_mean,
                                             float* running_var, float* save_mean,
                                             float* save_invstd);
/*
 * Gradients of batch normalization, from the statistics the forward pass saved. With
 * xhat = (x - mean) * invstd, g = gamma (1 when NULL) and m = n * hw:
 *   dbeta = sum dy;  dgamma = sum dy * xhat  (each: out = acc * out + sum, acc 0 or 1; may be NULL)
 *   training:  dx = g * invstd * (dy - dbeta / m - xhat * dgamma / m)   (the batch sums, not out)
 *   otherwise: dx = g * invstd * dy                                    (dx may be NULL)
 */
IDEMNET_API int idemnet_batch_norm2d_backward(idemnet_context* ctx, const float* x, const float* dy,
                                              const float* gamma, const float* save_mean,
                                              const float* save_invstd, int training, float* dx,
                                              float* dgamma, float acc_gamma, float* dbeta,
                                              float acc_beta, int64_t n, int64_t c, int64_t hw);

/*
 * Inverted dropout with the counter-based stream above: element i is kept iff
 * uniform(seed, i) >= p, and then y[i] = (float)((double)x[i] * (1 / (1 - (double)p))) (the
 * scale in double), else 0. 0 <= p <= 1; p = 1 drops everything. The backward pass is the same
 * call on dy with the same seed. y may equal x.
 */
IDEMNET_API int idemnet_dropout(idemnet_context* ctx, const float* x, float* y, int64_t n,
                                uint64_t seed, float p);

/* ------------------------------------------------- device-resident training steps */
/*
 * Scalars a training step computes or consumes live in memory the kernels read and write, never
 * in host arguments that change from step to step (docs/architecture.md, "Device-resident
 * steps"). Reductions accumulate in double and round once to float.
 */

/* out = (alpha * factor[0]) x, the product rounded to float first; out may equal x. */
IDEMNET_API int idemnet_scale_by(idemnet_context* ctx, const float* x, const float* factor,
                                 float alpha, float* out, int64_t n);
/* out[0] = (float)(scale * sum x^2), accumulated in double. */
IDEMNET_API int idemnet_sum_squares_to(idemnet_context* ctx, const float* x, int64_t n,
                                       double scale, float* out);
/* idemnet_corrector's out = s (3a - 2b - c), and loss[0] = (float)(loss_scale * sum (a - c)^2). */
IDEMNET_API int idemnet_corrector_to(idemnet_context* ctx, const float* a, const float* b,
                                     const float* c, float s, float* out, int64_t n,
                                     double loss_scale, float* loss);
/*
 * grad = grad_scale * sign(a - b) (0 where a == b or either is NaN; grad may be NULL, a or b) and
 * loss[0] = (float)(loss_scale * sum |a - b|).
 */
IDEMNET_API int idemnet_l1_loss(idemnet_context* ctx, const float* a, const float* b, int64_t n,
                                float grad_scale, float* grad, double loss_scale, float* loss);
/*
 * Softmax cross-entropy of logits [rows, classes] against labels [rows] (class indices stored as
 * floats): loss[0] = mean over rows of logsumexp(z) - z[label] and grad (may be NULL) =
 * (softmax(z) - onehot(label)) / rows, in double per row. A label that is not an integer in
 * [0, classes) makes the loss and that row's gradient NaN.
 */
IDEMNET_API int idemnet_softmax_cross_entropy(idemnet_context* ctx, const float* logits,
                                              const float* labels, int64_t rows, int64_t classes,
                                              float* loss, float* grad);
/* out[0] = max over rows of sqrt(sum_c x[r, c]^2), in double (NaN if any row is NaN; 0 for none). */
IDEMNET_API int idemnet_max_row_norm(idemnet_context* ctx, const float* x, int64_t rows,
                                     int64_t cols, float* out);
/*
 * Anderson acceleration of a batched fixed-point iteration u = T(u), one problem per row of
 * u [rows, cols] (docs/fpn.md). The history is `memory` slots of rows x cols floats each:
 * images and residuals are [memory, rows, cols], memory <= IDEMNET_ANDERSON_MAX_MEMORY.
 * Record: images[slot] = t, residuals[slot] = t - u (one float rounding), and norm[0] = the
 * largest row norm of that residual, as idemnet_max_row_norm computes it (NaN if any row's is).
 * Outputs must not overlap the inputs or each other; u may equal t.
 */
IDEMNET_API int idemnet_anderson_record(idemnet_context* ctx, const float* u, const float* t,
                                        int64_t rows, int64_t cols, int64_t slot, float* images,
                                        float* residuals, float* norm);
/*
 * Anderson mix over the first count slots (1 <= count <= IDEMNET_ANDERSON_MAX_MEMORY), newest
 * being the slot recorded last: per row, the Gram matrix H_ij = residual_i . residual_j (in
 * double), alpha = (H + lambda I)^{-1} 1 with lambda = 1e-10 trace(H) / count, normalised to sum 1
 * (idemnet_math::anderson_weights), and next = sum_i (float)alpha_i images[i] in float, slot 0
 * first, each term rounded as axpy (y + a x). A row whose weights are not usable (trace not > 0
 * or not finite, a zero pivot, a sum that is 0 or not finite) takes images[newest]. next must not
 * overlap the history.
 */
IDEMNET_API int idemnet_anderson_mix(idemnet_context* ctx, const float* images,
                                     const float* residuals, int64_t rows, int64_t cols,
                                     int64_t count, int64_t newest, float* next);
/* idemnet_sgd_update with the learning rate read from lr[0]. */
IDEMNET_API int idemnet_sgd_update_scheduled(idemnet_context* ctx, float* w, const float* g,
                                             float* v, int64_t n, const float* lr, float momentum,
                                             float weight_decay);
/*
 * idemnet_adam_update with coefficients[0] = lr / (1 - b1^t) and coefficients[1] =
 * 1 / sqrt(1 - b2^t) read from memory (the host computes them in double and rounds to float,
 * as idemnet_adam_update does).
 */
IDEMNET_API int idemnet_adam_update_scheduled(idemnet_context* ctx, float* w, const float* g,
                                              float* m, float* v, int64_t n,
                                              const float* coefficients, float beta1, float beta2,
                                              float eps, float weight_decay);
/*
 * IGN's tightness clamp from the losses rec[0] and tight[0], in double: w_rec[0] = lambda_rec -
 * lambda_tight a (tanh u - u sech^2 u) and w_tight[0] = lambda_tight sech^2 u with
 * u = tight / (a rec); {lambda_rec, lambda_tight} when a == 0 or !(rec > 0).
 */
IDEMNET_API int idemnet_tight_clamp_weights(idemnet_context* ctx, const float* rec,
                                            const float* tight, float lambda_rec,
                                            float lambda_tight, float clamp, float* w_rec,
                                            float* w_tight);
/*
 * idemnet_dropout with the seed bits(seed, counter[0] * 2^24 + counter[1] + offset), bits being
 * the counter-based stream above; counter holds two integers below 2^24.
 */
IDEMNET_API int idemnet_dropout_counted(idemnet_context* ctx, const float* x, float* y, int64_t n,
                                        uint64_t seed, const float* counter, int64_t offset,
                                        float p);


/* The CUDA library (libidemnet_cuda) has its own header: idemnet_cuda.h. */

#ifdef __cplusplus
}
#endif
#endif /* IDEMNET_H */
