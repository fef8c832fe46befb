// Device-resident step operations (idemnet.h, "Device-resident training steps"): losses and norms
// written to device memory, scaling by a device-held factor, scheduled optimizer updates and
// dropout with a device-held counter. The elementwise formulas are those of
// native/shared/idemnet_math.h, as on the CPU; reductions are deterministic as in reduce.cu (fixed
// grids, partials added in block order).
#include <math_constants.h>

#include <cmath>

#include "common.cuh"

using idemnet_cuda::block_sum;
using idemnet_cuda::finish_reduction_to;
using idemnet_cuda::grid_for;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;
using idemnet_cuda::reduce_grid_for;

namespace {

#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

constexpr int kMaxScalars = 16;
struct Scalars {
  float v[kMaxScalars];
};

__global__ void write_scalars_kernel(float* dst, Scalars s, int n) {
  if ((int)threadIdx.x < n) dst[threadIdx.x] = s.v[threadIdx.x];
}

__global__ void scale_by_kernel(const float* x, const float* factor, float alpha, float* out, int64_t n) {
  float f = idemnet_math::mul_rn(alpha, factor[0]);
  GRID_STRIDE(i, n) out[i] = idemnet_math::mul_rn(f, x[i]);
}

__global__ void sum_squares_to_kernel(const float* __restrict__ x, int64_t n, double scale, float* out,
                                      double* workspace) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
    double v = (double)x[i];
    acc += v * v;
  }
  finish_reduction_to(block_sum<kThreads>(acc, shared), workspace, out, scale);
}

__global__ void corrector_to_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                    const float* __restrict__ c, float s, float* out, int64_t n, double loss_scale,
                                    float* loss, double* workspace) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
    float ai = a[i], ci = c[i];
    out[i] = idemnet_math::corrector_element(ai, b[i], ci, s);
    acc += idemnet_math::corrector_sq_diff(ai, ci);
  }
  finish_reduction_to(block_sum<kThreads>(acc, shared), workspace, loss, loss_scale);
}

// No __restrict__: grad may be a or b (each element is read before it is written).
__global__ void l1_kernel(const float* a, const float* b, int64_t n, float grad_scale,
                          float* grad, double loss_scale, float* loss, double* workspace) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
    double d = (double)a[i] - (double)b[i];
    acc += fabs(d);
    if (grad) grad[i] = d > 0.0 ? grad_scale : (d < 0.0 ? -grad_scale : 0.0f);
  }
  finish_reduction_to(block_sum<kThreads>(acc, shared), workspace, loss, loss_scale);
}

// One thread per row (classes are few: a classifier's outputs); the row losses are reduced like a sum.
__global__ void cross_entropy_kernel(const float* __restrict__ logits, const float* __restrict__ labels, int64_t rows,
                                     int64_t classes, float* loss, float* grad, double* workspace) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t r = blockIdx.x * (int64_t)kThreads + threadIdx.x; r < rows; r += (int64_t)gridDim.x * kThreads) {
    const float* z = logits + r * classes;
    double label = labels[r];
    bool valid = label >= 0.0 && label < (double)classes && label == floor(label);
    double max = -INFINITY;
    for (int64_t j = 0; j < classes; ++j) max = fmax(max, (double)z[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += exp((double)z[j] - max);
    double log_sum = max + log(sum);
    int64_t k = valid ? (int64_t)label : -1;
    acc += valid ? log_sum - (double)z[k] : CUDART_NAN;
    if (grad) {
      float* g = grad + r * classes;
      for (int64_t j = 0; j < classes; ++j)
        g[j] = valid ? (float)((exp((double)z[j] - log_sum) - (j == k ? 1.0 : 0.0)) / (double)rows) : CUDART_NAN_F;
    }
  }
  finish_reduction_to(block_sum<kThreads>(acc, shared), workspace, loss, rows == 0 ? CUDART_NAN : 1.0 / (double)rows);
}

__device__ inline double nan_max(double a, double b) { return (isnan(a) || isnan(b)) ? CUDART_NAN : fmax(a, b); }

// Block b takes rows b, b + grid, ...; each row's norm is a block sum. The largest norm of each
// block goes to the workspace and the last block to finish takes the maximum in block order.
__global__ void max_row_norm_kernel(const float* __restrict__ x, int64_t rows, int64_t cols, float* out,
                                    double* workspace) {
  __shared__ double shared[kThreads];
  __shared__ bool last;
  double block_max = 0.0;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    double acc = 0.0;
    for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
      double v = (double)x[r * cols + c];
      acc += v * v;
    }
    block_max = nan_max(block_max, sqrt(block_sum<kThreads>(acc, shared)));
  }
  unsigned int* counter = reinterpret_cast<unsigned int*>(workspace + idemnet_cuda::kReduceBlocks);
  if (threadIdx.x == 0) {
    workspace[blockIdx.x] = block_max;
    __threadfence();
    last = atomicAdd(counter, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last || threadIdx.x != 0) return;
  __threadfence();
  double m = 0.0;
  for (unsigned int b = 0; b < gridDim.x; ++b) m = nan_max(m, ((volatile double*)workspace)[b]);
  *out = (float)m;
  *counter = 0u;
}

__global__ void anderson_record_kernel(const float* u, const float* t, float* __restrict__ image,
                                       float* __restrict__ residual, int64_t n) {
  GRID_STRIDE(i, n) {
    float ti = t[i];
    image[i] = ti;
    residual[i] = idemnet_math::sub_rn(ti, u[i]);
  }
}

// One block per row (rows b, b + grid, ...): the Gram products of the row's residuals as block
// sums (pairs j <= i, in that order), the weights by thread 0 (idemnet_math::anderson_weights, the
// host's code), then the combination by the whole block, slot 0 first as on the host.
__global__ void anderson_mix_kernel(const float* __restrict__ images, const float* __restrict__ residuals,
                                    int64_t rows, int64_t cols, int k, int64_t newest, float* __restrict__ next) {
  constexpr int kMax = IDEMNET_ANDERSON_MAX_MEMORY;
  __shared__ double shared[kThreads];
  __shared__ double gram[kMax * kMax];
  __shared__ float alpha_f[kMax];
  __shared__ bool usable;
  int64_t n = rows * cols;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    int64_t off = r * cols;
    for (int i = 0; i < k; ++i) {
      for (int j = 0; j <= i; ++j) {
        const float* ri = residuals + i * n + off;
        const float* rj = residuals + j * n + off;
        double acc = 0.0;
        for (int64_t c = threadIdx.x; c < cols; c += kThreads) acc += (double)ri[c] * (double)rj[c];
        double d = block_sum<kThreads>(acc, shared);
        if (threadIdx.x == 0) {
          gram[i * k + j] = d;
          gram[j * k + i] = d;
        }
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      double alpha[kMax];
      usable = idemnet_math::anderson_weights(gram, k, alpha);
      for (int i = 0; i < k; ++i) alpha_f[i] = usable ? (float)alpha[i] : 0.0f;
    }
    __syncthreads();
    for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
      float v;
      if (usable) {
        v = idemnet_math::mul_rn(alpha_f[0], images[off + c]);
        for (int i = 1; i < k; ++i) v = idemnet_math::axpy_element(alpha_f[i], images[i * n + off + c], v);
      } else {
        v = images[newest * n + off + c];
      }
      next[off + c] = v;
    }
    __syncthreads();  // gram, alpha_f and usable are rewritten for the next row
  }
}

__global__ void sgd_scheduled_kernel(float* w, const float* g, float* v, int64_t n, const float* lr_ptr,
                                     float momentum, float wd) {
  float lr = lr_ptr[0];
  GRID_STRIDE(i, n) {
    if (v) {
      float wi = w[i], vi = v[i];
      idemnet_math::sgd_momentum_element(wi, g[i], vi, lr, momentum, wd);
      v[i] = vi;
      w[i] = wi;
    } else {
      w[i] = idemnet_math::sgd_element(w[i], g[i], lr, wd);
    }
  }
}

__global__ void adam_scheduled_kernel(float* w, const float* g, float* m, float* v, int64_t n,
                                      const float* coefficients, float beta1, float beta2, float eps, float wd) {
  idemnet_math::AdamScalars s{coefficients[0], coefficients[1]};
  GRID_STRIDE(i, n) {
    float wi = w[i], mi = m[i], vi = v[i];
    idemnet_math::adam_element(wi, g[i], mi, vi, s, beta1, beta2, eps, wd);
    m[i] = mi;
    v[i] = vi;
    w[i] = wi;
  }
}

__global__ void tight_clamp_kernel(const float* rec, const float* tight, float lambda_rec, float lambda_tight,
                                   float clamp, float* w_rec, float* w_tight) {
  double r = rec[0], t = tight[0];
  if (clamp == 0.0f || !(r > 0.0)) {
    w_rec[0] = lambda_rec;
    w_tight[0] = lambda_tight;
    return;
  }
  double u = t / ((double)clamp * r), th = tanh(u), sech2 = 1.0 - th * th;
  w_rec[0] = (float)((double)lambda_rec - (double)lambda_tight * clamp * (th - u * sech2));
  w_tight[0] = (float)((double)lambda_tight * sech2);
}

__global__ void dropout_counted_kernel(const float* x, float* y, int64_t n, uint64_t seed, const float* counter,
                                       uint64_t offset, idemnet_math::Dropout d) {
  uint64_t c = ((uint64_t)counter[0] << 24) + (uint64_t)counter[1];
  uint64_t s = idemnet_math::rng_bits(seed, c + offset);
  GRID_STRIDE(i, n) y[i] = idemnet_math::dropout_element(x[i], s, (uint64_t)i, d);
}

}  // namespace

extern "C" {

int idemnet_cuda_write_scalars(idemnet_cuda_context* ctx, float* dst, const float* values, int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_write_scalars", [&]() -> int {
    const char* op = "cuda_write_scalars";
    if (n < 0 || n > kMaxScalars) return invalid(op, "between 0 and 16 values");
    if (n == 0) return IDEMNET_OK;
    if (!dst || !values) return invalid(op, "null buffer");
    Scalars s{};
    for (int64_t i = 0; i < n; ++i) s.v[i] = values[i];
    write_scalars_kernel<<<1, kMaxScalars, 0, ctx->stream>>>(dst, s, (int)n);
    return launched(op);
  });
}

int idemnet_cuda_scale_by(idemnet_cuda_context* ctx, const float* x, const float* factor, float alpha, float* out,
                          int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_scale_by", [&]() -> int {
    const char* op = "cuda_scale_by";
    if (n < 0) return invalid(op, "negative size");
    if (!factor) return invalid(op, "null factor");
    if (n == 0) return IDEMNET_OK;
    if (!x || !out) return invalid(op, "null buffer");
    scale_by_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, factor, alpha, out, n);
    return launched(op);
  });
}

int idemnet_cuda_sum_squares_to(idemnet_cuda_context* ctx, const float* x, int64_t n, double scale, float* out) {
  return idemnet_cuda::with_context(ctx, "cuda_sum_squares_to", [&]() -> int {
    const char* op = "cuda_sum_squares_to";
    if (n < 0) return invalid(op, "negative size");
    if (!out || (n > 0 && !x)) return invalid(op, "null buffer");
    sum_squares_to_kernel<<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(x, n, scale, out, ctx->reduce_workspace);
    return launched(op);
  });
}

int idemnet_cuda_corrector_to(idemnet_cuda_context* ctx, const float* a, const float* b, const float* c, float s,
                              float* out, int64_t n, double loss_scale, float* loss) {
  return idemnet_cuda::with_context(ctx, "cuda_corrector_to", [&]() -> int {
    const char* op = "cuda_corrector_to";
    if (n < 0) return invalid(op, "negative size");
    if (!loss || (n > 0 && (!a || !b || !c || !out))) return invalid(op, "null buffer");
    corrector_to_kernel<<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(a, b, c, s, out, n, loss_scale, loss,
                                                                          ctx->reduce_workspace);
    return launched(op);
  });
}

int idemnet_cuda_l1_loss(idemnet_cuda_context* ctx, const float* a, const float* b, int64_t n, float grad_scale,
                         float* grad, double loss_scale, float* loss) {
  return idemnet_cuda::with_context(ctx, "cuda_l1_loss", [&]() -> int {
    const char* op = "cuda_l1_loss";
    if (n < 0) return invalid(op, "negative size");
    if (!loss || (n > 0 && (!a || !b))) return invalid(op, "null buffer");
    l1_kernel<<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(a, b, n, grad_scale, grad, loss_scale, loss,
                                                                ctx->reduce_workspace);
    return launched(op);
  });
}

int idemnet_cuda_softmax_cross_entropy(idemnet_cuda_context* ctx, const float* logits, const float* labels,
                                       int64_t rows, int64_t classes, float* loss, float* grad) {
  return idemnet_cuda::with_context(ctx, "cuda_softmax_cross_entropy", [&]() -> int {
    const char* op = "cuda_softmax_cross_entropy";
    if (rows < 0 || classes < 0) return invalid(op, "negative size");
    if (!loss || (rows > 0 && (!logits || !labels))) return invalid(op, "null buffer");
    cross_entropy_kernel<<<reduce_grid_for(rows), kThreads, 0, ctx->stream>>>(logits, labels, rows, classes, loss,
                                                                              grad, ctx->reduce_workspace);
    return launched(op);
  });
}

int idemnet_cuda_max_row_norm(idemnet_cuda_context* ctx, const float* x, int64_t rows, int64_t cols, float* out) {
  return idemnet_cuda::with_context(ctx, "cuda_max_row_norm", [&]() -> int {
    const char* op = "cuda_max_row_norm";
    if (rows < 0 || cols < 0) return invalid(op, "negative size");
    if (!out || (rows * cols > 0 && !x)) return invalid(op, "null buffer");
    int64_t limit = idemnet_cuda::kReduceBlocks;
    int blocks = (int)(rows < limit ? (rows > 0 ? rows : 1) : limit);
    max_row_norm_kernel<<<blocks, kThreads, 0, ctx->stream>>>(x, rows, cols, out, ctx->reduce_workspace);
    return launched(op);
  });
}

int idemnet_cuda_anderson_record(idemnet_cuda_context* ctx, const float* u, const float* t, int64_t rows,
                                 int64_t cols, int64_t slot, float* images, float* residuals, float* norm) {
  return idemnet_cuda::with_context(ctx, "cuda_anderson_record", [&]() -> int {
    const char* op = "cuda_anderson_record";
    if (rows < 0 || cols < 0 || slot < 0 || slot >= IDEMNET_ANDERSON_MAX_MEMORY)
      return invalid(op, "negative size or slot out of range");
    int64_t n = rows * cols;
    if (!norm || !images || !residuals || (n > 0 && (!u || !t))) return invalid(op, "null buffer");
    float* residual = residuals + slot * n;
    if (n > 0) {
      anderson_record_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(u, t, images + slot * n, residual, n);
      int status = launched(op);
      if (status != IDEMNET_OK) return status;
    }
    return idemnet_cuda_max_row_norm(ctx, residual, rows, cols, norm);
  });
}

int idemnet_cuda_anderson_mix(idemnet_cuda_context* ctx, const float* images, const float* residuals, int64_t rows,
                              int64_t cols, int64_t count, int64_t newest, float* next) {
  return idemnet_cuda::with_context(ctx, "cuda_anderson_mix", [&]() -> int {
    const char* op = "cuda_anderson_mix";
    if (rows < 0 || cols < 0) return invalid(op, "negative size");
    if (count < 1 || count > IDEMNET_ANDERSON_MAX_MEMORY || newest < 0 || newest >= count)
      return invalid(op, "need 1 <= count <= IDEMNET_ANDERSON_MAX_MEMORY and 0 <= newest < count");
    if (rows * cols == 0) return IDEMNET_OK;
    if (!images || !residuals || !next) return invalid(op, "null buffer");
    int64_t limit = idemnet_cuda::kReduceBlocks;
    int blocks = (int)(rows < limit ? rows : limit);
    anderson_mix_kernel<<<blocks, kThreads, 0, ctx->stream>>>(images, residuals, rows, cols, (int)count, newest, next);
    return launched(op);
  });
}

int idemnet_cuda_sgd_update_scheduled(idemnet_cuda_context* ctx, float* w, const float* g, float* v, int64_t n,
                                      const float* lr, float momentum, float weight_decay) {
  return idemnet_cuda::with_context(ctx, "cuda_sgd_update_scheduled", [&]() -> int {
    const char* op = "cuda_sgd_update_scheduled";
    if (n < 0) return invalid(op, "negative size");
    if (!lr) return invalid(op, "null learning rate");
    if (momentum != 0.0f && n > 0 && !v) return invalid(op, "momentum needs a velocity buffer");
    if (n == 0) return IDEMNET_OK;
    if (!w || !g) return invalid(op, "null buffer");
    sgd_scheduled_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, momentum == 0.0f ? nullptr : v, n, lr,
                                                                    momentum, weight_decay);
    return launched(op);
  });
}

int idemnet_cuda_adam_update_scheduled(idemnet_cuda_context* ctx, float* w, const float* g, float* m, float* v,
                                       int64_t n, const float* coefficients, float beta1, float beta2, float eps,
                                       float weight_decay) {
  return idemnet_cuda::with_context(ctx, "cuda_adam_update_scheduled", [&]() -> int {
    const char* op = "cuda_adam_update_scheduled";
    if (n < 0) return invalid(op, "negative size");
    if (!coefficients) return invalid(op, "null coefficients");
    if (n == 0) return IDEMNET_OK;
    if (!w || !g || !m || !v) return invalid(op, "null buffer");
    adam_scheduled_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, m, v, n, coefficients, beta1, beta2, eps,
                                                                     weight_decay);
    return launched(op);
  });
}

int idemnet_cuda_tight_clamp_weights(idemnet_cuda_context* ctx, const float* rec, const float* tight,
                                     float lambda_rec, float lambda_tight, float clamp, float* w_rec,
                                     float* w_tight) {
  return idemnet_cuda::with_context(ctx, "cuda_tight_clamp_weights", [&]() -> int {
    const char* op = "cuda_tight_clamp_weights";
    if (!rec || !tight || !w_rec || !w_tight) return invalid(op, "null buffer");
    tight_clamp_kernel<<<1, 1, 0, ctx->stream>>>(rec, tight, lambda_rec, lambda_tight, clamp, w_rec, w_tight);
    return launched(op);
  });
}

int idemnet_cuda_dropout_counted(idemnet_cuda_context* ctx, const float* x, float* y, int64_t n, uint64_t seed,
                                 const float* counter, int64_t offset, float p) {
  return idemnet_cuda::with_context(ctx, "cuda_dropout_counted", [&]() -> int {
    const char* op = "cuda_dropout_counted";
    if (n < 0) return invalid(op, "negative size");
    if (!(p >= 0.0f && p <= 1.0f)) return invalid(op, "p must lie in [0, 1]");
    if (!counter || offset < 0) return invalid(op, "null counter or negative offset");
    if (n == 0) return IDEMNET_OK;
    if (!x || !y) return invalid(op, "null buffer");
    dropout_counted_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, y, n, seed, counter, (uint64_t)offset,
                                                                      idemnet_math::dropout_params(p));
    return launched(op);
  });
}

}  // extern "C"
