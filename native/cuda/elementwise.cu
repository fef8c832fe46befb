// Elementwise kernels: fill, random numbers, bias add, binary ops, scale, axpy, activations,
// optimizer updates and dropout. Formulas follow the CPU library (native/cpu/*.cpp) term by term.
#include <cmath>

#include "common.cuh"

using idemnet_cuda::grid_for;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;

namespace {

#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// ---------------------------------------------------------------- counter-based random numbers

__device__ inline uint64_t rng_bits(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Exact: a 24-bit integer times 2^-24.
__device__ inline double rng_uniform(uint64_t seed, uint64_t i) {
  return (double)(rng_bits(seed, i) >> 40) * (1.0 / 16777216.0);
}

__global__ void fill_kernel(float* x, int64_t n, float v) {
  GRID_STRIDE(i, n) x[i] = v;
}

// lo + width * u with the multiply and the add rounded separately (no FMA), as on the CPU.
__global__ void uniform_kernel(float* x, int64_t n, uint64_t seed, double lo, double width) {
  GRID_STRIDE(i, n) x[i] = (float)__dadd_rn(lo, __dmul_rn(width, rng_uniform(seed, (uint64_t)i)));
}

__global__ void normal_kernel(float* x, int64_t n, uint64_t seed, double mean, double std) {
  const double two_pi = 6.283185307179586;
  GRID_STRIDE(i, n) {
    double u1 = rng_uniform(seed, 2 * (uint64_t)i), u2 = rng_uniform(seed, 2 * (uint64_t)i + 1);
    double z = __dmul_rn(sqrt(__dmul_rn(-2.0, log(__dsub_rn(1.0, u1)))), cos(__dmul_rn(two_pi, u2)));
    x[i] = (float)__dadd_rn(mean, __dmul_rn(std, z));
  }
}

__global__ void dropout_kernel(const float* x, float* y, int64_t n, uint64_t seed, double threshold,
                               double scale) {
  GRID_STRIDE(i, n) {
    y[i] = rng_uniform(seed, (uint64_t)i) >= threshold ? (float)__dmul_rn((double)x[i], scale) : 0.0f;
  }
}

// ---------------------------------------------------------------- arithmetic

__global__ void add_bias_kernel(const float* x, const float* bias, float* out, int64_t total, int64_t cols) {
  GRID_STRIDE(i, total) out[i] = x[i] + bias[i % cols];
}

__global__ void binary_kernel(int op, const float* a, const float* b, float* out, int64_t n) {
  GRID_STRIDE(i, n) {
    float u = a[i], v = b[i];
    out[i] = op == IDEMNET_ADD ? u + v : op == IDEMNET_SUB ? u - v : u * v;
  }
}

__global__ void scale_kernel(const float* x, float alpha, float* out, int64_t n) {
  GRID_STRIDE(i, n) out[i] = alpha * x[i];
}

__global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

// `x < 0` is false for NaN, so NaN passes through (PyTorch's behaviour).
__global__ void activation_kernel(int act, float slope, const float* x, float* y, int64_t n) {
  GRID_STRIDE(i, n) {
    float v = x[i];
    switch (act) {
      case IDEMNET_RELU: y[i] = v < 0.0f ? 0.0f : v; break;
      case IDEMNET_LEAKY_RELU: y[i] = v * (v < 0.0f ? slope : 1.0f); break;
      case IDEMNET_TANH: y[i] = tanhf(v); break;
      case IDEMNET_SIGMOID: y[i] = 1.0f / (1.0f + expf(-v)); break;
      default: y[i] = v; break;
    }
  }
}

// Derivatives follow PyTorch at the kink: ReLU'(0) = 0, LeakyReLU'(0) = slope.
__global__ void activation_backward_kernel(int act, float slope, const float* x, const float* y,
                                           const float* dy, float* dx, int64_t n) {
  GRID_STRIDE(i, n) {
    float g = dy[i];
    switch (act) {
      case IDEMNET_RELU: dx[i] = x[i] > 0.0f ? g : 0.0f; break;
      case IDEMNET_LEAKY_RELU: dx[i] = g * (x[i] > 0.0f ? 1.0f : slope); break;
      case IDEMNET_TANH: dx[i] = g * (1.0f - y[i] * y[i]); break;
      case IDEMNET_SIGMOID: dx[i] = g * y[i] * (1.0f - y[i]); break;
      default: dx[i] = g; break;
    }
  }
}

// ---------------------------------------------------------------- optimizers

__global__ void sgd_plain_kernel(float* w, const float* g, int64_t n, float lr, float wd) {
  GRID_STRIDE(i, n) w[i] -= lr * (g[i] + wd * w[i]);
}

__global__ void sgd_momentum_kernel(float* w, const float* g, float* v, int64_t n, float lr, float momentum,
                                    float wd) {
  GRID_STRIDE(i, n) {
    float vi = momentum * v[i] + (g[i] + wd * w[i]);
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, int64_t n, float step_size,
                            float beta1, float beta2, float inv_sqrt_bc2, float eps, float wd) {
  GRID_STRIDE(i, n) {
    float d = g[i] + wd * w[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * d;
    float vi = beta2 * v[i] + (1.0f - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
  }
}

bool valid_activation(int act) { return act >= IDEMNET_IDENTITY && act <= IDEMNET_SIGMOID; }

}  // namespace

extern "C" {

int idemnet_cuda_fill(idemnet_cuda_context* ctx, float* x, int64_t n, float value) {
  return idemnet_cuda::with_context(ctx, "cuda_fill", [&]() -> int {
    if (n < 0) return invalid("cuda_fill", "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!x) return invalid("cuda_fill", "null buffer");
    fill_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, n, value);
    return launched("cuda_fill");
  });
}

int idemnet_cuda_rand_uniform(idemnet_cuda_context* ctx, float* x, int64_t n, uint64_t seed, float low,
                              float high) {
  return idemnet_cuda::with_context(ctx, "cuda_rand_uniform", [&]() -> int {
    if (n < 0) return invalid("cuda_rand_uniform", "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!x) return invalid("cuda_rand_uniform", "null buffer");
    double lo = low, width = (double)high - (double)low;
    uniform_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, n, seed, lo, width);
    return launched("cuda_rand_uniform");
  });
}

int idemnet_cuda_rand_normal(idemnet_cuda_context* ctx, float* x, int64_t n, uint64_t seed, float mean,
                             float std) {
  return idemnet_cuda::with_context(ctx, "cuda_rand_normal", [&]() -> int {
    if (n < 0) return invalid("cuda_rand_normal", "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!x) return invalid("cuda_rand_normal", "null buffer");
    normal_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, n, seed, (double)mean, (double)std);
    return launched("cuda_rand_normal");
  });
}

int idemnet_cuda_dropout(idemnet_cuda_context* ctx, const float* x, float* y, int64_t n, uint64_t seed,
                         float p) {
  return idemnet_cuda::with_context(ctx, "cuda_dropout", [&]() -> int {
    const char* op = "cuda_dropout";
    if (n < 0) return invalid(op, "negative size");
    if (!(p >= 0.0f && p <= 1.0f)) return invalid(op, "p must lie in [0, 1]");
    if (n == 0) return IDEMNET_OK;
    if (!x || !y) return invalid(op, "null buffer");
    double threshold = p, scale = p < 1.0f ? 1.0 / (1.0 - (double)p) : 0.0;
    dropout_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, y, n, seed, threshold, scale);
    return launched(op);
  });
}

int idemnet_cuda_add_bias(idemnet_cuda_context* ctx, const float* x, const float* bias, float* out,
                          int64_t rows, int64_t cols) {
  return idemnet_cuda::with_context(ctx, "cuda_add_bias", [&]() -> int {
    if (rows < 0 || cols < 0) return invalid("cuda_add_bias", "negative size");
    int64_t total = rows * cols;
    if (total == 0) return IDEMNET_OK;
    if (!x || !bias || !out) return invalid("cuda_add_bias", "null buffer");
    add_bias_kernel<<<grid_for(total), kThreads, 0, ctx->stream>>>(x, bias, out, total, cols);
    return launched("cuda_add_bias");
  });
}

int idemnet_cuda_binary(idemnet_cuda_context* ctx, int op, const float* a, const float* b, float* out,
                        int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_binary", [&]() -> int {
    if (n < 0) return invalid("cuda_binary", "negative size");
    if (op < IDEMNET_ADD || op > IDEMNET_MUL) return invalid("cuda_binary", "unknown op " + std::to_string(op));
    if (n == 0) return IDEMNET_OK;
    if (!a || !b || !out) return invalid("cuda_binary", "null buffer");
    binary_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(op, a, b, out, n);
    return launched("cuda_binary");
  });
}

int idemnet_cuda_scale(idemnet_cuda_context* ctx, const float* x, float alpha, float* out, int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_scale", [&]() -> int {
    if (n < 0) return invalid("cuda_scale", "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!x || !out) return invalid("cuda_scale", "null buffer");
    scale_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, alpha, out, n);
    return launched("cuda_scale");
  });
}

int idemnet_cuda_axpy(idemnet_cuda_context* ctx, float alpha, const float* x, float* y, int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_axpy", [&]() -> int {
    if (n < 0) return invalid("cuda_axpy", "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!x || !y) return invalid("cuda_axpy", "null buffer");
    axpy_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(alpha, x, y, n);
    return launched("cuda_axpy");
  });
}

int idemnet_cuda_activation_forward(idemnet_cuda_context* ctx, int act, float param, const float* x, float* y,
                                    int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_activation_forward", [&]() -> int {
    const char* op = "cuda_activation_forward";
    if (n < 0) return invalid(op, "negative size");
    if (!valid_activation(act)) return invalid(op, "unknown activation " + std::to_string(act));
    if (n == 0) return IDEMNET_OK;
    if (!x || !y) return invalid(op, "null buffer");
    if (act == IDEMNET_IDENTITY) {
      if (x == y) return IDEMNET_OK;
      cudaError_t err = cudaMemcpyAsync(y, x, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream);
      return err == cudaSuccess ? IDEMNET_OK : idemnet_cuda::fail(op, err);
    }
    activation_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(act, param, x, y, n);
    return launched(op);
  });
}

int idemnet_cuda_activation_backward(idemnet_cuda_context* ctx, int act, float param, const float* x,
                                     const float* y, const float* dy, float* dx, int64_t n) {
  return idemnet_cuda::with_context(ctx, "cuda_activation_backward", [&]() -> int {
    const char* op = "cuda_activation_backward";
    if (n < 0) return invalid(op, "negative size");
    if (!valid_activation(act)) return invalid(op, "unknown activation " + std::to_string(act));
    if (n == 0) return IDEMNET_OK;
    if (!dy || !dx) return invalid(op, "null gradient buffer");
    bool needs_x = act == IDEMNET_RELU || act == IDEMNET_LEAKY_RELU;
    bool needs_y = act == IDEMNET_TANH || act == IDEMNET_SIGMOID;
    if (needs_x && !x) return invalid(op, "this activation needs its input x");
    if (needs_y && !y) return invalid(op, "this activation needs its output y");
    if (act == IDEMNET_IDENTITY) {
      if (dx == dy) return IDEMNET_OK;
      cudaError_t err = cudaMemcpyAsync(dx, dy, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream);
      return err == cudaSuccess ? IDEMNET_OK : idemnet_cuda::fail(op, err);
    }
    activation_backward_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(act, param, x, y, dy, dx, n);
    return launched(op);
  });
}

int idemnet_cuda_sgd_update(idemnet_cuda_context* ctx, float* w, const float* g, float* v, int64_t n,
                            float lr, float momentum, float weight_decay) {
  return idemnet_cuda::with_context(ctx, "cuda_sgd_update", [&]() -> int {
    const char* op = "cuda_sgd_update";
    if (n < 0) return invalid(op, "negative size");
    if (n == 0) return IDEMNET_OK;
    if (!w || !g) return invalid(op, "null buffer");
    if (momentum != 0.0f && !v) return invalid(op, "momentum needs a velocity buffer");
    if (momentum == 0.0f) {
      sgd_plain_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, n, lr, weight_decay);
    } else {
      sgd_momentum_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, v, n, lr, momentum, weight_decay);
    }
    return launched(op);
  });
}

int idemnet_cuda_adam_update(idemnet_cuda_context* ctx, float* w, const float* g, float* m, float* v,
                             int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                             int64_t step) {
  return idemnet_cuda::with_context(ctx, "cuda_adam_update", [&]() -> int {
    const char* op = "cuda_adam_update";
    if (n < 0) return invalid(op, "negative size");
    if (step < 1) return invalid(op, "step must be >= 1");
    if (n == 0) return IDEMNET_OK;
    if (!w || !g || !m || !v) return invalid(op, "null buffer");
    // Bias corrections in double on the host, exactly as the CPU library computes them.
    double bc1 = 1.0 - std::pow((double)beta1, (double)step);
    double bc2 = 1.0 - std::pow((double)beta2, (double)step);
    float step_size = (float)(lr / bc1);
    float inv_sqrt_bc2 = (float)(1.0 / std::sqrt(bc2));
    adam_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, m, v, n, step_size, beta1, beta2,
                                                                 inv_sqrt_bc2, eps, weight_decay);
    return launched(op);
  });
}

}  // extern "C"
