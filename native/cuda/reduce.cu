// Deterministic reductions (double accumulation, fixed order) and the fused MB corrector.
#include "common.cuh"
#include "../shared/idemnet_math.h"

using idemnet_cuda::block_sum;
using idemnet_cuda::finish_reduction;
using idemnet_cuda::grid_for;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;
using idemnet_cuda::reduce_grid_for;

namespace {

template <bool SQUARES>
__global__ void sum_kernel(const float* __restrict__ x, int64_t n, double* workspace, double* out) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
    double v = (double)x[i];
    acc += SQUARES ? v * v : v;
  }
  finish_reduction(block_sum<kThreads>(acc, shared), workspace, out);
}

__global__ void corrector_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                 const float* __restrict__ c, float s, float* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = idemnet_math::corrector_element(a[i], b[i], c[i], s);
}

__global__ void corrector_loss_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                      const float* __restrict__ c, float s, float* __restrict__ out, int64_t n,
                                      double* workspace, double* sum) {
  __shared__ double shared[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
    float ai = a[i], ci = c[i];
    out[i] = idemnet_math::corrector_element(ai, b[i], ci, s);
    acc += idemnet_math::corrector_sq_diff(ai, ci);
  }
  finish_reduction(block_sum<kThreads>(acc, shared), workspace, sum);
}

// Column sums of x [rows, cols]: a block covers 32 columns with 16 row groups; each thread sums
// its rows in order, then the 16 group sums are added in order.
constexpr int kColTile = 32, kRowGroups = 16;

__global__ void sum_rows_kernel(const float* __restrict__ x, int64_t rows, int64_t cols, float beta,
                                float* __restrict__ out) {
  __shared__ double part[kRowGroups][kColTile];
  int64_t col = blockIdx.x * (int64_t)kColTile + threadIdx.x;
  double acc = 0.0;
  if (col < cols) {
    for (int64_t r = threadIdx.y; r < rows; r += kRowGroups) acc += (double)x[r * cols + col];
  }
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    double total = 0.0;
    for (int g = 0; g < kRowGroups; ++g) total += part[g][threadIdx.x];
    out[col] = (float)((beta == 0.0f ? 0.0 : (double)beta * out[col]) + total);
  }
}

// Per-channel sums of x [n, c, hw]: one block per channel.
__global__ void channel_sums_kernel(const float* __restrict__ x, int64_t n, int64_t c, int64_t hw, float beta,
                                    float* __restrict__ out) {
  __shared__ double shared[kThreads];
  int64_t ch = blockIdx.x, m = n * hw;
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < m; i += kThreads) {
    int64_t s = i / hw, e = i - s * hw;
    acc += (double)x[(s * c + ch) * hw + e];
  }
  double total = block_sum<kThreads>(acc, shared);
  if (threadIdx.x == 0) out[ch] = (float)((beta == 0.0f ? 0.0 : (double)beta * out[ch]) + total);
}

int reduce(idemnet_cuda_context* ctx, bool squares, const float* x, int64_t n, double* out) {
  const char* op = squares ? "cuda_sum_squares" : "cuda_sum";
  if (n < 0) return invalid(op, "negative size");
  if (!out || (n > 0 && !x)) return invalid(op, "null buffer");
  // n == 0 still runs one block, which writes 0 (keeps the result in device memory uniform).
  if (squares) {
    sum_kernel<true><<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(x, n, ctx->reduce_workspace, out);
  } else {
    sum_kernel<false><<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(x, n, ctx->reduce_workspace, out);
  }
  return launched(op);
}

}  // namespace

extern "C" {

int idemnet_cuda_sum(idemnet_cuda_context* ctx, const float* x, int64_t n, double* out_device) {
  return idemnet_cuda::with_context(ctx, "cuda_sum", [&] { return reduce(ctx, false, x, n, out_device); });
}

int idemnet_cuda_sum_squares(idemnet_cuda_context* ctx, const float* x, int64_t n, double* out_device) {
  return idemnet_cuda::with_context(ctx, "cuda_sum_squares", [&] { return reduce(ctx, true, x, n, out_device); });
}

int idemnet_cuda_corrector(idemnet_cuda_context* ctx, const float* a, const float* b, const float* c, float s,
                           float* out, int64_t n, double* sum_sq_diff_device) {
  return idemnet_cuda::with_context(ctx, "cuda_corrector", [&]() -> int {
    const char* op = "cuda_corrector";
    if (n < 0) return invalid(op, "negative size");
    if (n > 0 && (!a || !b || !c || !out)) return invalid(op, "null buffer");
    if (sum_sq_diff_device == nullptr) {
      if (n == 0) return IDEMNET_OK;
      corrector_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(a, b, c, s, out, n);
    } else {
      corrector_loss_kernel<<<reduce_grid_for(n), kThreads, 0, ctx->stream>>>(a, b, c, s, out, n,
                                                                              ctx->reduce_workspace,
                                                                              sum_sq_diff_device);
    }
    return launched(op);
  });
}

int idemnet_cuda_sum_rows(idemnet_cuda_context* ctx, const float* x, int64_t rows, int64_t cols, float beta,
                          float* out) {
  return idemnet_cuda::with_context(ctx, "cuda_sum_rows", [&]() -> int {
    const char* op = "cuda_sum_rows";
    if (rows < 0 || cols < 0) return invalid(op, "negative size");
    if (cols == 0) return IDEMNET_OK;
    if (!out || (rows > 0 && !x)) return invalid(op, "null buffer");
    int64_t blocks = (cols + kColTile - 1) / kColTile;
    if (blocks > 0x7fffffff) return invalid(op, "too many columns");
    sum_rows_kernel<<<(unsigned)blocks, dim3(kColTile, kRowGroups), 0, ctx->stream>>>(x, rows, cols, beta, out);
    return launched(op);
  });
}

int idemnet_cuda_channel_sums(idemnet_cuda_context* ctx, const float* x, int64_t n, int64_t c, int64_t hw,
                              float beta, float* out) {
  return idemnet_cuda::with_context(ctx, "cuda_channel_sums", [&]() -> int {
    const char* op = "cuda_channel_sums";
    if (n < 0 || c < 0 || hw < 0) return invalid(op, "negative size");
    if (c == 0) return IDEMNET_OK;
    if (!out || (n * hw > 0 && !x)) return invalid(op, "null buffer");
    if (c > 0x7fffffff) return invalid(op, "too many channels");
    channel_sums_kernel<<<(unsigned)c, kThreads, 0, ctx->stream>>>(x, n, c, hw, beta, out);
    return launched(op);
  });
}

}  // extern "C"
