// Batch normalization over x [n, c, hw], one block per channel; statistics are double sums in a
// fixed order (see native/cpu/batchnorm.cpp for the same formulas on the CPU).
#include <cmath>

#include "common.cuh"

using idemnet_cuda::block_sum;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;

namespace {

__device__ inline int64_t at(int64_t i, int64_t ch, int64_t c, int64_t hw) {
  int64_t s = i / hw, e = i - s * hw;
  return (s * c + ch) * hw + e;
}

__global__ void bn_forward_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                  const float* __restrict__ beta, float* y, int64_t n, int64_t c, int64_t hw,
                                  int training, float eps, float momentum, float* running_mean,
                                  float* running_var, float* save_mean, float* save_invstd) {
  __shared__ double shared[kThreads];
  __shared__ float coef[3];  // mean, scale, shift (as float, like the CPU)
  int64_t ch = blockIdx.x, m = n * hw;
  double mean, var;
  if (training) {
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < m; i += kThreads) acc += (double)x[at(i, ch, c, hw)];
    mean = block_sum<kThreads>(acc, shared) / (double)m;
    acc = 0.0;
    for (int64_t i = threadIdx.x; i < m; i += kThreads) {
      double v = (double)x[at(i, ch, c, hw)] - mean;
      acc += v * v;
    }
    var = block_sum<kThreads>(acc, shared) / (double)m;
  } else {
    mean = running_mean[ch];
    var = running_var[ch];
  }
  if (threadIdx.x == 0) {
    if (training && running_mean) {
      double mo = momentum, unbiased = var * (double)m / (double)(m - 1);
      running_mean[ch] = (float)((1.0 - mo) * running_mean[ch] + mo * mean);
      running_var[ch] = (float)((1.0 - mo) * running_var[ch] + mo * unbiased);
    }
    double invstd = 1.0 / sqrt(var + (double)eps);
    if (save_mean) save_mean[ch] = (float)mean;
    if (save_invstd) save_invstd[ch] = (float)invstd;
    double g = gamma ? gamma[ch] : 1.0, b = beta ? beta[ch] : 0.0;
    coef[0] = (float)mean;
    coef[1] = (float)(g * invstd);
    coef[2] = (float)b;
  }
  __syncthreads();
  float fm = coef[0], fs = coef[1], fb = coef[2];
  for (int64_t i = threadIdx.x; i < m; i += kThreads) {
    int64_t k = at(i, ch, c, hw);
    y[k] = (x[k] - fm) * fs + fb;
  }
}

__global__ void bn_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                   const float* __restrict__ gamma, const float* __restrict__ save_mean,
                                   const float* __restrict__ save_invstd, int training, float* dx, float* dgamma,
                                   float acc_gamma, float* dbeta, float acc_beta, int64_t n, int64_t c,
                                   int64_t hw) {
  __shared__ double shared[kThreads];
  int64_t ch = blockIdx.x, m = n * hw;
  double mean = save_mean[ch], invstd = save_invstd[ch];
  double a = 0.0, b = 0.0;
  for (int64_t i = threadIdx.x; i < m; i += kThreads) {
    int64_t k = at(i, ch, c, hw);
    double g = (double)dy[k];
    a += g;
    b += g * ((double)x[k] - mean);
  }
  double sum_dy = block_sum<kThreads>(a, shared);
  double sum_dy_dev = block_sum<kThreads>(b, shared);
  double sum_dy_xhat = sum_dy_dev * invstd;
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[ch] = (float)((acc_beta == 0.0f ? 0.0 : (double)dbeta[ch]) + sum_dy);
    if (dgamma) dgamma[ch] = (float)((acc_gamma == 0.0f ? 0.0 : (double)dgamma[ch]) + sum_dy_xhat);
  }
  if (!dx) return;
  float k = (float)((gamma ? gamma[ch] : 1.0) * invstd);
  if (training) {
    double md = (double)m;
    float fm = (float)mean, c1 = (float)(sum_dy / md), c2 = (float)(invstd * sum_dy_xhat / md);
    for (int64_t i = threadIdx.x; i < m; i += kThreads) {
      int64_t idx = at(i, ch, c, hw);
      dx[idx] = k * (dy[idx] - c1 - (x[idx] - fm) * c2);
    }
  } else {
    for (int64_t i = threadIdx.x; i < m; i += kThreads) {
      int64_t idx = at(i, ch, c, hw);
      dx[idx] = k * dy[idx];
    }
  }
}

}  // namespace

extern "C" {

int idemnet_cuda_batch_norm2d_forward(idemnet_cuda_context* ctx, const float* x, const float* gamma,
                                      const float* beta, float* y, int64_t n, int64_t c, int64_t hw,
                                      int training, float eps, float momentum, float* running_mean,
                                      float* running_var, float* save_mean, float* save_invstd) {
  return idemnet_cuda::with_context(ctx, "cuda_batch_norm2d_forward", [&]() -> int {
    const char* op = "cuda_batch_norm2d_forward";
    int64_t m = n * hw;
    if (n < 0 || c < 0 || hw < 0) return invalid(op, "negative size");
    if ((gamma == nullptr) != (beta == nullptr)) return invalid(op, "gamma and beta must both be given or both NULL");
    if ((running_mean == nullptr) != (running_var == nullptr))
      return invalid(op, "running_mean and running_var must both be given or both NULL");
    if (!training && !running_mean) return invalid(op, "evaluation mode needs the running statistics");
    if (training && m <= 1) return invalid(op, "training needs more than one value per channel");
    if (!(eps > 0.0f)) return invalid(op, "eps must be positive");
    if (c == 0) return IDEMNET_OK;
    if (m > 0 && (!x || !y)) return invalid(op, "null buffer");
    if (c > 0x7fffffff) return invalid(op, "too many channels");
    bn_forward_kernel<<<(unsigned)c, kThreads, 0, ctx->stream>>>(x, gamma, beta, y, n, c, hw, training, eps,
                                                                  momentum, running_mean, running_var, save_mean,
                                                                  save_invstd);
    return launched(op);
  });
}

int idemnet_cuda_batch_norm2d_backward(idemnet_cuda_context* ctx, const float* x, const float* dy,
                                       const float* gamma, const float* save_mean, const float* save_invstd,
                                       int training, float* dx, float* dgamma, float acc_gamma, float* dbeta,
                                       float acc_beta, int64_t n, int64_t c, int64_t hw) {
  return idemnet_cuda::with_context(ctx, "cuda_batch_norm2d_backward", [&]() -> int {
    const char* op = "cuda_batch_norm2d_backward";
    if (n < 0 || c < 0 || hw < 0) return invalid(op, "negative size");
    if (c == 0) return IDEMNET_OK;
    if (!save_mean || !save_invstd) return invalid(op, "null statistics");
    if (n * hw > 0 && (!x || !dy)) return invalid(op, "null buffer");
    if (!((acc_gamma == 0.0f || acc_gamma == 1.0f) && (acc_beta == 0.0f || acc_beta == 1.0f)))
      return invalid(op, "accumulate flags must be 0 or 1");
    if (c > 0x7fffffff) return invalid(op, "too many channels");
    bn_backward_kernel<<<(unsigned)c, kThreads, 0, ctx->stream>>>(x, dy, gamma, save_mean, save_invstd, training,
                                                                   dx, dgamma, acc_gamma, dbeta, acc_beta, n, c, hw);
    return launched(op);
  });
}

}  // extern "C"
