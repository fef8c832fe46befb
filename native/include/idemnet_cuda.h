/*
 * idemnet CUDA ABI (libidemnet_cuda), bound by java/io/idemnet/backend/cuda/CudaNative.java.
 *
 * The same rules as idemnet.h (plain C, int status codes, idemnet_cuda_last_error() for the
 * message, contiguous row-major float32, int64 sizes, NaN/Inf propagate) plus:
 *  - Tensor pointers are DEVICE pointers. Kernels are launched on `stream` (a cudaStream_t passed
 *    as an opaque pointer; NULL = the legacy default stream) and return as soon as they are queued:
 *    a kernel's own failure may surface at the next synchronizing call.
 *  - Operations that need more than a stream (the caching allocator, host copies, GEMM through
 *    cuBLAS, convolutions, CUDA graphs) take an idemnet_cuda_context: one device, one stream,
 *    one allocator, one cuBLAS handle. A context is used by one host thread at a time.
 *  - Reductions are deterministic: a fixed grid (a function of the size only) writes per-block
 *    partial sums in double, and the last block to finish adds them in block order (an integer
 *    counter decides which block is last; no floating-point atomics). They need the context's
 *    reduction workspace (idemnet_cuda_context_reduce_workspace) and write their double result to
 *    device memory.
 *  - Random numbers and dropout use the counter-based stream of idemnet.h, with the same double
 *    arithmetic (rounded multiply and add, no fused multiply-add), so uniform numbers and dropout
 *    masks equal the CPU library's bit for bit; normal numbers use CUDA's double log/cos, which may
 *    differ from libm in the last bit of a double (rarely one float ulp).
 *  - The status codes are those of idemnet.h; a missing driver or device is IDEMNET_ERR_NO_DEVICE.
 */
#ifndef IDEMNET_CUDA_H
#define IDEMNET_CUDA_H

#include <stdint.h>

#include "idemnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature here changes; Java refuses a library with another version. */
#define IDEMNET_CUDA_ABI_VERSION 2

/* Doubles in a context's reduction workspace (the per-block partials of one reduction). */
#define IDEMNET_CUDA_REDUCE_BLOCKS 1024

typedef struct idemnet_cuda_context idemnet_cuda_context;

IDEMNET_API const char* idemnet_cuda_last_error(void);
IDEMNET_API int idemnet_cuda_abi_version(void);
/* Number of usable devices in *count; IDEMNET_ERR_NO_DEVICE (with a message) when there is no driver. */
IDEMNET_API int idemnet_cuda_device_count(int* count);
/* The device's name and compute capability, "NVIDIA H100 80GB HBM3 (sm_90)", into buf (len bytes). */
IDEMNET_API int idemnet_cuda_device_name(int device, char* buf, int len);
/* CUDA runtime version the library was built with and driver version (e.g. 13000), either may be NULL. */
IDEMNET_API int idemnet_cuda_versions(int* runtime, int* driver);

/* ------------------------------------------------------------------------------- contexts */

/* A context on `device` with its own non-blocking stream. */
IDEMNET_API int idemnet_cuda_context_create(int device, idemnet_cuda_context** out);
/* Waits for the stream, frees every cached block, the cuBLAS handle and the stream. */
IDEMNET_API int idemnet_cuda_context_destroy(idemnet_cuda_context* ctx);
IDEMNET_API int idemnet_cuda_context_stream(idemnet_cuda_context* ctx, void** stream);
/* IDEMNET_CUDA_REDUCE_BLOCKS doubles plus a counter, zeroed, owned by the context. */
IDEMNET_API int idemnet_cuda_context_reduce_workspace(idemnet_cuda_context* ctx, double** workspace);
/* Waits until everything queued on the context's stream has run; reports a kernel's failure. */
IDEMNET_API int idemnet_cuda_synchronize(idemnet_cuda_context* ctx);
/* TF32 tensor-core math for GEMMs and convolutions (cuBLAS CUBLAS_TF32_TENSOR_OP_MATH): 0 = off
 * (the default, full float32), 1 = on. */
IDEMNET_API int idemnet_cuda_set_tf32(idemnet_cuda_context* ctx, int enabled);
/*
 * Which GEMM the context uses: 1 = cuBLAS, 0 = the library's own tiled kernel (used when libcublas
 * cannot be opened, or when IDEMNET_CUDA_GEMM=builtin is set). *detail (may be NULL) points to a
 * message naming the cuBLAS library opened or why none was; it lives as long as the context.
 */
IDEMNET_API int idemnet_cuda_gemm_engine(idemnet_cuda_context* ctx, int* cublas, const char** detail);

/* ------------------------------------------------------------------ caching device allocator */
/*
 * Blocks are rounded up to a size class (512 B steps below 1 MiB, 1/8 of the power of two above)
 * and returned to a free list per class on free; a later allocation of the same class reuses a
 * block without calling cudaMalloc. Reuse is safe because all work of a context is ordered on its
 * one stream. When cudaMalloc fails, the cache is released and the allocation is retried once.
 * Allocated memory is NOT zeroed (use idemnet_cuda_memset_zero).
 */
IDEMNET_API int idemnet_cuda_malloc(idemnet_cuda_context* ctx, int64_t bytes, void** out);
IDEMNET_API int idemnet_cuda_free(idemnet_cuda_context* ctx, void* ptr);
/* Releases every cached (free) block back to the driver. */
IDEMNET_API int idemnet_cuda_empty_cache(idemnet_cuda_context* ctx);
/* stats[0] bytes in use, [1] bytes cached (free), [2] cudaMalloc calls, [3] allocations served
 * from the cache, [4] blocks in use. */
IDEMNET_API int idemnet_cuda_allocator_stats(idemnet_cuda_context* ctx, int64_t* stats);

/* Page-locked host memory for fast copies (cudaMallocHost / cudaFreeHost). */
IDEMNET_API int idemnet_cuda_host_alloc(int64_t bytes, void** out);
IDEMNET_API int idemnet_cuda_host_free(void* ptr);

/* Host <-> device copies on the context's stream. h2d and d2h wait for the copy to finish (the
 * host buffer can be reused at once); d2d and memset are only queued. */
IDEMNET_API int idemnet_cuda_copy_h2d(idemnet_cuda_context* ctx, void* dst_device, const void* src_host,
                                      int64_t bytes);
IDEMNET_API int idemnet_cuda_copy_d2h(idemnet_cuda_context* ctx, void* dst_host, const void* src_device,
                                      int64_t bytes);
IDEMNET_API int idemnet_cuda_copy_d2d(idemnet_cuda_context* ctx, void* dst_device, const void* src_device,
                                      int64_t bytes);
IDEMNET_API int idemnet_cuda_memset_zero(idemnet_cuda_context* ctx, void* dst_device, int64_t bytes);

/* ------------------------------------------------------------------------- CUDA graphs */
/*
 * Stream capture of everything queued on the context's stream between begin and end (relaxed
 * mode: the allocator may still call cudaMalloc; host copies and synchronizing calls fail while
 * capturing). end instantiates the graph into *exec; launch replays it on the context's stream.
 */
IDEMNET_API int idemnet_cuda_graph_begin(idemnet_cuda_context* ctx);
IDEMNET_API int idemnet_cuda_graph_end(idemnet_cuda_context* ctx, void** exec);
IDEMNET_API int idemnet_cuda_graph_launch(idemnet_cuda_context* ctx, void* exec);
IDEMNET_API int idemnet_cuda_graph_destroy(void* exec);
/* *capturing = 1 while the context's stream is being captured. */
IDEMNET_API int idemnet_cuda_graph_capturing(idemnet_cuda_context* ctx, int* capturing);

/* --------------------------------------------------------------- kernels on a stream */
/* Semantics are those of the idemnet_* function of the same name in idemnet.h. */

IDEMNET_API int idemnet_cuda_fill(float* x, int64_t n, float value, void* stream);
IDEMNET_API int idemnet_cuda_rand_uniform(float* x, int64_t n, uint64_t seed, float low, float high,
                                          void* stream);
IDEMNET_API int idemnet_cuda_rand_normal(float* x, int64_t n, uint64_t seed, float mean, float std,
                                         void* stream);
IDEMNET_API int idemnet_cuda_add_bias(const float* x, const float* bias, float* out, int64_t rows,
                                      int64_t cols, void* stream);
IDEMNET_API int idemnet_cuda_binary(int op, const float* a, const float* b, float* out, int64_t n,
                                    void* stream);
IDEMNET_API int idemnet_cuda_scale(const float* x, float alpha, float* out, int64_t n, void* stream);
IDEMNET_API int idemnet_cuda_axpy(float alpha, const float* x, float* y, int64_t n, void* stream);
IDEMNET_API int idemnet_cuda_activation_forward(int act, float param, const float* x, float* y,
                                                int64_t n, void* stream);
IDEMNET_API int idemnet_cuda_activation_backward(int act, float param, const float* x,
                                                 const float* y, const float* dy, float* dx,
                                                 int64_t n, void* stream);

/* Deterministic double reductions into *out_device (see the top of this file). */
IDEMNET_API int idemnet_cuda_sum(const float* x, int64_t n, double* workspace, double* out_device,
                                 void* stream);
IDEMNET_API int idemnet_cuda_sum_squares(const float* x, int64_t n, double* workspace,
                                         double* out_device, void* stream);
IDEMNET_API int idemnet_cuda_sum_rows(const float* x, int64_t rows, int64_t cols, float beta,
                                      float* out, void* stream);
IDEMNET_API int idemnet_cuda_channel_sums(const float* x, int64_t n, int64_t c, int64_t hw,
                                          float beta, float* out, void* stream);
/* out = s (3a - 2b - c); when sum_sq_diff_device is not NULL also sum (a - c)^2 there (workspace
 * required then). */
IDEMNET_API int idemnet_cuda_corrector(const float* a, const float* b, const float* c, float s,
                                       float* out, int64_t n, double* workspace,
                                       double* sum_sq_diff_device, void* stream);

IDEMNET_API int idemnet_cuda_sgd_update(float* w, const float* g, float* v, int64_t n, float lr,
                                        float momentum, float weight_decay, void* stream);
IDEMNET_API int idemnet_cuda_adam_update(float* w, const float* g, float* m, float* v, int64_t n,
                                         float lr, float beta1, float beta2, float eps,
                                         float weight_decay, int64_t step, void* stream);

IDEMNET_API int idemnet_cuda_batch_norm2d_forward(const float* x, const float* gamma,
                                                  const float* beta, float* y, int64_t n, int64_t c,
                                                  int64_t hw, int training, float eps,
                                                  float momentum, float* running_mean,
                                                  float* running_var, float* save_mean,
                                                  float* save_invstd, void* stream);
IDEMNET_API int idemnet_cuda_batch_norm2d_backward(const float* x, const float* dy,
                                                   const float* gamma, const float* save_mean,
                                                   const float* save_invstd, int training,
                                                   float* dx, float* dgamma, float acc_gamma,
                                                   float* dbeta, float acc_beta, int64_t n,
                                                   int64_t c, int64_t hw, void* stream);
IDEMNET_API int idemnet_cuda_dropout(const float* x, float* y, int64_t n, uint64_t seed, float p,
                                     void* stream);

/* Device-resident step operations: semantics of the idemnet_* functions of the same name in
 * idemnet.h, with every pointer a device pointer (factor, lr, coefficients and counter included)
 * and the reductions deterministic as above (they need the context's reduction workspace). */
/* dst[0..n) = values[0..n) (host memory, n <= 16), by a kernel that receives the values as its
 * argument: queued like any kernel, no host synchronisation (the declared write of a step's
 * scalars: a learning rate, Adam's bias corrections, a random counter). Not for use inside a
 * capture, where the values would be frozen into the graph. */
IDEMNET_API int idemnet_cuda_write_scalars(float* dst, const float* values, int64_t n, void* stream);
IDEMNET_API int idemnet_cuda_scale_by(const float* x, const float* factor, float alpha, float* out,
                                      int64_t n, void* stream);
IDEMNET_API int idemnet_cuda_sum_squares_to(const float* x, int64_t n, double scale, float* out,
                                            double* workspace, void* stream);
IDEMNET_API int idemnet_cuda_corrector_to(const float* a, const float* b, const float* c, float s,
                                          float* out, int64_t n, double loss_scale, float* loss,
                                          double* workspace, void* stream);
IDEMNET_API int idemnet_cuda_l1_loss(const float* a, const float* b, int64_t n, float grad_scale,
                                     float* grad, double loss_scale, float* loss, double* workspace,
                                     void* stream);
IDEMNET_API int idemnet_cuda_softmax_cross_entropy(const float* logits, const float* labels,
                                                   int64_t rows, int64_t classes, float* loss,
                                                   float* grad, double* workspace, void* stream);
IDEMNET_API int idemnet_cuda_max_row_norm(const float* x, int64_t rows, int64_t cols, float* out,
                                          double* workspace, void* stream);
IDEMNET_API int idemnet_cuda_sgd_update_scheduled(float* w, const float* g, float* v, int64_t n,
                                                  const float* lr, float momentum,
                                                  float weight_decay, void* stream);
IDEMNET_API int idemnet_cuda_adam_update_scheduled(float* w, const float* g, float* m, float* v,
                                                   int64_t n, const float* coefficients,
                                                   float beta1, float beta2, float eps,
                                                   float weight_decay, void* stream);
IDEMNET_API int idemnet_cuda_tight_clamp_weights(const float* rec, const float* tight,
                                                float lambda_rec, float lambda_tight, float clamp,
                                                float* w_rec, float* w_tight, void* stream);
IDEMNET_API int idemnet_cuda_dropout_counted(const float* x, float* y, int64_t n, uint64_t seed,
                                             const float* counter, int64_t offset, float p,
                                             void* stream);

/* im2col over samples [s0, s0 + nb) of x [n, c, h, w] into col [c kh kw, nb ho wo] (row-major;
 * column index = (sample - s0) * ho * wo + output position), zero where the kernel overlaps the
 * padding; and its adjoint col2im (a gather: every image element sums its kernel taps in a fixed
 * order, no atomics) into dx samples [s0, s0 + nb), overwriting them, plus bias[ci] (bias may be
 * NULL). Geometry as in idemnet.h's convolutions. */
IDEMNET_API int idemnet_cuda_im2col(const float* x, float* col, int64_t s0, int64_t nb, int64_t c,
                                    int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                                    int64_t sw, int64_t ph, int64_t pw, int64_t ho, int64_t wo,
                                    void* stream);
IDEMNET_API int idemnet_cuda_col2im(const float* col, const float* bias, float* dx, int64_t s0,
                                    int64_t nb, int64_t c, int64_t h, int64_t w, int64_t kh,
                                    int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                                    int64_t ho, int64_t wo, void* stream);

/* ---------------------------------------------------- GEMM and convolutions on a context */

IDEMNET_API int idemnet_cuda_sgemm(idemnet_cuda_context* ctx, int trans_a, int trans_b, int64_t m,
                                   int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                                   const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
IDEMNET_API int idemnet_cuda_sgemm_strided_batched(idemnet_cuda_context* ctx, int trans_a,
                                                   int trans_b, int64_t m, int64_t n, int64_t k,
                                                   float alpha, const float* a, int64_t lda,
                                                   int64_t stride_a, const float* b, int64_t ldb,
                                                   int64_t stride_b, float beta, float* c,
                                                   int64_t ldc, int64_t stride_c, int64_t batch);
/* Convolutions as im2col + GEMM over chunks of samples (a context scratch buffer of at most
 * ~128 MiB, at least one sample); semantics of the idemnet_conv2d_* functions in idemnet.h. The
 * weight gradient adds the chunks in sample order, so results do not vary from run to run. */
IDEMNET_API int idemnet_cuda_conv2d_forward(idemnet_cuda_context* ctx, const float* x,
                                            const float* weight, const float* bias, float* y,
                                            int64_t n, int64_t c, int64_t h, int64_t w, int64_t o,
                                            int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                            int64_t ph, int64_t pw, int64_t ho, int64_t wo);
IDEMNET_API int idemnet_cuda_conv2d_backward_data(idemnet_cuda_context* ctx, const float* dy,
                                                  const float* weight, const float* bias, float* dx,
                                                  int64_t n, int64_t c, int64_t h, int64_t w,
                                                  int64_t o, int64_t kh, int64_t kw, int64_t sh,
                                                  int64_t sw, int64_t ph, int64_t pw, int64_t ho,
                                                  int64_t wo);
IDEMNET_API int idemnet_cuda_conv2d_backward_weight(idemnet_cuda_context* ctx, const float* x,
                                                    const float* dy, float* dweight, float beta,
                                                    int64_t n, int64_t c, int64_t h, int64_t w,
                                                    int64_t o, int64_t kh, int64_t kw, int64_t sh,
                                                    int64_t sw, int64_t ph, int64_t pw, int64_t ho,
                                                    int64_t wo);

#ifdef __cplusplus
}
#endif
#endif /* IDEMNET_CUDA_H */
