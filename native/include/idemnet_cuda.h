/* bindgen: class=io.idemnet.backend.cuda.CudaNative library=idemnet_cuda prefix=idemnet_cuda_ pointers=address loader=CudaLibrary */
/*
 * idemnet CUDA library (libidemnet_cuda). The Java bindings (io.idemnet.backend.cuda.CudaNative)
 * are generated from this header at build time; pointers travel as addresses (Java long), so no
 * segment is made per call.
 *
 * The rules of idemnet_common.h (plain C behind an exception guard, int status codes,
 * idemnet_cuda_last_error() for the message, the context first, contiguous row-major float32,
 * int64 sizes, NaN/Inf propagate; header style) plus:
 *  - A context (idemnet_cuda_context) is one device, one non-blocking stream, one caching
 *    allocator, one cuBLAS handle and the scratch memory of reductions and convolutions. It is
 *    used by one host thread at a time.
 *  - Tensor pointers are DEVICE pointers. Operations are queued on the context's stream in call
 *    order and return as soon as they are queued: a kernel's own failure may surface at the next
 *    synchronizing call (idemnet_cuda_synchronize, a host copy).
 *  - An operation has the parameters of the idemnet_* function of the same name in idemnet.h
 *    (after the context) and its semantics; a reduction's double result goes to device memory.
 *  - Reductions are deterministic: a fixed grid (a function of the size only) writes per-block
 *    partial sums in double into the context's workspace, and the last block to finish adds them
 *    in block order (an integer counter decides which block is last; no floating-point atomics).
 *  - Random numbers and dropout use the counter-based stream of idemnet.h, with the same double
 *    arithmetic (rounded multiply and add, no fused multiply-add), so uniform numbers and dropout
 *    masks equal the CPU library's bit for bit; normal numbers use CUDA's double log/cos, which may
 *    differ from libm in the last bit of a double (rarely one float ulp).
 *  - A missing driver or device is IDEMNET_ERR_NO_DEVICE.
 */
#ifndef IDEMNET_CUDA_H
#define IDEMNET_CUDA_H

#include <stdint.h>

#include "idemnet_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct idemnet_cuda_context idemnet_cuda_context;

/* The message of this thread's last failed call (empty after a successful one). */
IDEMNET_API const char* idemnet_cuda_last_error(void);
/* IDEMNET_ABI_VERSION of the headers the library was built from. */
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
/* Waits until everything queued on the context's stream has run; reports a kernel's failure. */
IDEMNET_API int idemnet_cuda_synchronize(idemnet_cuda_context* ctx);
/* TF32 tensor-core math for GEMMs and convolutions (cuBLAS CUBLAS_TF32_TENSOR_OP_MATH): 0 = off
 * (the default, full float32), 1 = on. */
IDEMNET_API int idemnet_cuda_set_tf32(idemnet_cuda_context* ctx, int enabled);
/*
 * Which GEMM the context uses: *cublas = 1 for cuBLAS, 0 for the library's own tiled kernel (used
 * when libcublas cannot be opened, or when IDEMNET_CUDA_GEMM=builtin is set). *detail points to a
 * message naming the cuBLAS library opened or why none was; it lives as long as the context.
 * Either output may be NULL.
 */
IDEMNET_API int idemnet_cuda_gemm_engine(idemnet_cuda_context* ctx, int* cublas, const char** detail);
/*
 * Which convolution path the context uses: 1 = cuDNN (deterministic direct-sum algorithms, one
 * chosen per shape by cuDNN's heuristics on first use, outside any graph capture), 0 = im2col + GEMM (used
 * when libcudnn.so.9 cannot be opened, or when IDEMNET_CUDA_CONV=im2col is set). With cuDNN, a
 * shape without a deterministic algorithm still runs as im2col + GEMM. *detail (may be NULL)
 * names the cuDNN version and library opened, or why none is used; it lives as long as the context.
 */
IDEMNET_API int idemnet_cuda_conv_engine(idemnet_cuda_context* ctx, int* cudnn, const char** detail);
/* Switches this context's convolutions to im2col + GEMM (cudnn = 0) or back to cuDNN (1; an
 * error when cuDNN is not available). For comparisons; results of either path are deterministic. */
IDEMNET_API int idemnet_cuda_set_conv_engine(idemnet_cuda_context* ctx, int cudnn);

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
IDEMNET_API int idemnet_cuda_host_alloc(idemnet_cuda_context* ctx, int64_t bytes, void** out);
IDEMNET_API int idemnet_cuda_host_free(idemnet_cuda_context* ctx, void* ptr);

/* Host <-> device copies on the context's stream. h2d and d2h wait for the copy to finish (the
 * host buffer can be reused at once); d2d and memset are only queued. */
IDEMNET_API int idemnet_cuda_copy_h2d(idemnet_cuda_context* ctx, void* dst_device,
                                      const void* src_host, int64_t bytes);
IDEMNET_API int idemnet_cuda_copy_d2h(idemnet_cuda_context* ctx, void* dst_host,
                                      const void* src_device, int64_t bytes);
IDEMNET_API int idemnet_cuda_copy_d2d(idemnet_cuda_context* ctx, void* dst_device,
                                      const void* src_device, int64_t bytes);
IDEMNET_API int idemnet_cuda_memset_zero(idemnet_cuda_context* ctx, void* dst_device,
                                         int64_t bytes);

/* ------------------------------------------------------------------------- CUDA graphs */
/*
 * Stream capture of everything queued on the context's stream between begin and end (relaxed
 * mode: the allocator may still call cudaMalloc; host copies and synchronizing calls fail while
 * capturing). end instantiates the graph into *exec; launch replays it on the context's stream.
 */
IDEMNET_API int idemnet_cuda_graph_begin(idemnet_cuda_context* ctx);
IDEMNET_API int idemnet_cuda_graph_end(idemnet_cuda_context* ctx, void** exec);
IDEMNET_API int idemnet_cuda_graph_launch(idemnet_cuda_context* ctx, void* exec);
IDEMNET_API int idemnet_cuda_graph_destroy(idemnet_cuda_context* ctx, void* exec);

/* ------------------------------------------------------------------------- operations */

IDEMNET_API int idemnet_cuda_fill(idemnet_cuda_context* ctx, float* x, int64_t n, float value);
IDEMNET_API int idemnet_cuda_rand_uniform(idemnet_cuda_context* ctx, float* x, int64_t n,
                                          uint64_t seed, float low, float high);
IDEMNET_API int idemnet_cuda_rand_normal(idemnet_cuda_context* ctx, float* x, int64_t n,
                                         uint64_t seed, float mean, float std);
IDEMNET_API int idemnet_cuda_sgemm(idemnet_cuda_context* ctx, int trans_a, int trans_b, int64_t m,
                                   int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                                   const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
IDEMNET_API int idemnet_cuda_sgemm_strided_batched(idemnet_cuda_context* ctx, int trans_a,
                                                   int trans_b, int64_t m, int64_t n, int64_t k,
                                                   float alpha, const float* a, int64_t lda,
                                                   int64_t stride_a, const float* b, int64_t ldb,
                                                   int64_t stride_b, float beta, float* c,
                                                   int64_t ldc, int64_t stride_c, int64_t batch);
IDEMNET_API int idemnet_cuda_add_bias(idemnet_cuda_context* ctx, const float* x, const float* bias,
                                      float* out, int64_t rows, int64_t cols);
IDEMNET_API int idemnet_cuda_binary(idemnet_cuda_context* ctx, int op, const float* a,
                                    const float* b, float* out, int64_t n);
IDEMNET_API int idemnet_cuda_scale(idemnet_cuda_context* ctx, const float* x, float alpha,
                                   float* out, int64_t n);
IDEMNET_API int idemnet_cuda_axpy(idemnet_cuda_context* ctx, float alpha, const float* x, float* y,
                                  int64_t n);
IDEMNET_API int idemnet_cuda_activation_forward(idemnet_cuda_context* ctx, int act, float param,
                                                const float* x, float* y, int64_t n);
IDEMNET_API int idemnet_cuda_activation_backward(idemnet_cuda_context* ctx, int act, float param,
                                                 const float* x, const float* y, const float* dy,
                                                 float* dx, int64_t n);

/* Deterministic double reductions into *out_device (see the top of this file). */
IDEMNET_API int idemnet_cuda_sum(idemnet_cuda_context* ctx, const float* x, int64_t n,
                                 double* out_device);
IDEMNET_API int idemnet_cuda_sum_squares(idemnet_cuda_context* ctx, const float* x, int64_t n,
                                         double* out_device);
IDEMNET_API int idemnet_cuda_sum_rows(idemnet_cuda_context* ctx, const float* x, int64_t rows,
                                      int64_t cols, float beta, float* out);
/* out = s (3a - 2b - c); when sum_sq_diff_device is not NULL also sum (a - c)^2 there. */
IDEMNET_API int idemnet_cuda_corrector(idemnet_cuda_context* ctx, const float* a, const float* b,
                                       const float* c, float s, float* out, int64_t n,
                                       double* sum_sq_diff_device);

IDEMNET_API int idemnet_cuda_sgd_update(idemnet_cuda_context* ctx, float* w, const float* g,
                                        float* v, int64_t n, float lr, float momentum,
                                        float weight_decay);
IDEMNET_API int idemnet_cuda_adam_update(idemnet_cuda_context* ctx, float* w, const float* g,
                                         float* m, float* v, int64_t n, float lr, float beta1,
                                         float beta2, float eps, float weight_decay, int64_t step);

/* Convolutions; semantics of the idemnet_conv2d_* functions in idemnet.h. Through cuDNN when the
 * context uses it (idemnet_cuda_conv_engine): deterministic algorithms, the workspace from the
 * context's caching allocator; a shape first met during a graph capture is an error. Otherwise
 * im2col + GEMM over chunks of samples (a context scratch buffer of at most ~128 MiB, at least one
 * sample), the weight gradient adding the chunks in sample order. Either way, results do not vary
 * from run to run. */
IDEMNET_API int idemnet_cuda_conv2d_forward(idemnet_cuda_context* ctx, const float* x,
                                            const float* weight, const float* bias, float* y,
                                            const idemnet_conv_geometry* geometry);
IDEMNET_API int idemnet_cuda_conv2d_backward_data(idemnet_cuda_context* ctx, const float* dy,
                                                  const float* weight, const float* bias,
                                                  float* dx, const idemnet_conv_geometry* geometry);
IDEMNET_API int idemnet_cuda_conv2d_backward_weight(idemnet_cuda_context* ctx, const float* x,
                                                    const float* dy, float* dweight, float beta,
                                                    const idemnet_conv_geometry* geometry);
IDEMNET_API int idemnet_cuda_channel_sums(idemnet_cuda_context* ctx, const float* x, int64_t n,
                                          int64_t c, int64_t hw, float beta, float* out);

IDEMNET_API int idemnet_cuda_batch_norm2d_forward(idemnet_cuda_context* ctx, const float* x,
                                                  const float* gamma, const float* beta, float* y,
                                                  int64_t n, int64_t c, int64_t hw, int training,
                                                  float eps, float momentum, float* running_mean,
                                                  float* running_var, float* save_mean,
                                                  float* save_invstd);
IDEMNET_API int idemnet_cuda_batch_norm2d_backward(idemnet_cuda_context* ctx, const float* x,
                                                   const float* dy, const float* gamma,
                                                   const float* save_mean, const float* save_invstd,
                                                   int training, float* dx, float* dgamma,
                                                   float acc_gamma, float* dbeta, float acc_beta,
                                                   int64_t n, int64_t c, int64_t hw);
IDEMNET_API int idemnet_cuda_dropout(idemnet_cuda_context* ctx, const float* x, float* y, int64_t n,
                                     uint64_t seed, float p);

/* ------------------------------------------------- device-resident training steps (idemnet.h) */

/*
 * dst[0..n) = values[0..n) with values in HOST memory and n <= 16, by a kernel that receives the
 * values as its argument: queued like any kernel, with no wait for the stream (the declared write
 * of a step's scalars). Not inside a capture, where the values would be frozen into the graph.
 */
IDEMNET_API int idemnet_cuda_write_scalars(idemnet_cuda_context* ctx, float* dst, const float* values,
                                           int64_t n);
/* idemnet_scale_by on the device (factor is a device pointer). */
IDEMNET_API int idemnet_cuda_scale_by(idemnet_cuda_context* ctx, const float* x, const float* factor,
                                      float alpha, float* out, int64_t n);
/* idemnet_sum_squares_to on the device (deterministic reduction). */
IDEMNET_API int idemnet_cuda_sum_squares_to(idemnet_cuda_context* ctx, const float* x, int64_t n,
                                            double scale, float* out);
/* idemnet_corrector_to on the device (deterministic reduction). */
IDEMNET_API int idemnet_cuda_corrector_to(idemnet_cuda_context* ctx, const float* a, const float* b,
                                          const float* c, float s, float* out, int64_t n,
                                          double loss_scale, float* loss);
/* idemnet_l1_loss on the device (deterministic reduction; grad may be NULL). */
IDEMNET_API int idemnet_cuda_l1_loss(idemnet_cuda_context* ctx, const float* a, const float* b,
                                     int64_t n, float grad_scale, float* grad, double loss_scale,
                                     float* loss);
/* idemnet_softmax_cross_entropy on the device (one thread per row; deterministic reduction). */
IDEMNET_API int idemnet_cuda_softmax_cross_entropy(idemnet_cuda_context* ctx, const float* logits,
                                                   const float* labels, int64_t rows,
                                                   int64_t classes, float* loss, float* grad);
/* idemnet_max_row_norm on the device (maximum over blocks taken in block order). */
IDEMNET_API int idemnet_cuda_max_row_norm(idemnet_cuda_context* ctx, const float* x, int64_t rows,
                                          int64_t cols, float* out);
/* idemnet_anderson_record on the device (the norm as idemnet_cuda_max_row_norm computes it). */
IDEMNET_API int idemnet_cuda_anderson_record(idemnet_cuda_context* ctx, const float* u,
                                             const float* t, int64_t rows, int64_t cols,
                                             int64_t slot, float* images, float* residuals,
                                             float* norm);
/*
 * idemnet_anderson_mix on the device: one block per row (Gram products as block sums, the weights
 * by thread 0 with the same idemnet_math::anderson_weights, the combination by the whole block).
 */
IDEMNET_API int idemnet_cuda_anderson_mix(idemnet_cuda_context* ctx, const float* images,
                                          const float* residuals, int64_t rows, int64_t cols,
                                          int64_t count, int64_t newest, float* next);
/* idemnet_sgd_update_scheduled on the device (lr is a device pointer). */
IDEMNET_API int idemnet_cuda_sgd_update_scheduled(idemnet_cuda_context* ctx, float* w, const float* g,
                                                  float* v, int64_t n, const float* lr,
                                                  float momentum, float weight_decay);
/* idemnet_adam_update_scheduled on the device (coefficients is a device pointer). */
IDEMNET_API int idemnet_cuda_adam_update_scheduled(idemnet_cuda_context* ctx, float* w,
                                                   const float* g, float* m, float* v, int64_t n,
                                                   const float* coefficients, float beta1,
                                                   float beta2, float eps, float weight_decay);
/* idemnet_tight_clamp_weights on the device (one thread). */
IDEMNET_API int idemnet_cuda_tight_clamp_weights(idemnet_cuda_context* ctx, const float* rec,
                                                 const float* tight, float lambda_rec,
                                                 float lambda_tight, float clamp, float* w_rec,
                                                 float* w_tight);
/* idemnet_dropout_counted on the device (counter is a device pointer). */
IDEMNET_API int idemnet_cuda_dropout_counted(idemnet_cuda_context* ctx, const float* x, float* y,
                                             int64_t n, uint64_t seed, const float* counter,
                                             int64_t offset, float p);

#ifdef __cplusplus
}
#endif
#endif /* IDEMNET_CUDA_H */
