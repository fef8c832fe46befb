// Elementwise kernels: fill, random numbers, bias add, binary ops, scale, axpy, activations,
// optimizer updates and dropout. The element formulas are those of native/shared/idemnet_math.h,
// which the CPU library computes too.
#include "common.cuh"
#include "../shared/idemnet_math.h"

using idemnet_cuda::grid_for;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;

namespace {

#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// ---------------------------------------------------------------- counter-based random numbers

__global__ void fill_kernel(float* x, int64_t n, float v) {
  GRID_STRIDE(i, n) x[i] = v;
}

__global__ void uniform_kernel(float* x, int64_t n, uint64_t seed, double lo, double width) {
  GRID_STRIDE(i, n) x[i] = idemnet_math::uniform_element(seed, (uint64_t)i, lo, width);
}

__global__ void normal_kernel(float* x, int64_t n, uint64_t seed, double mean, double std) {
  GRID_STRIDE(i, n) x[i] = idemnet_math::normal_element(seed, (uint64_t)i, mean, std);
}

__global__ void dropout_kernel(const float* x, float* y, int64_t n, uint64_t seed, idemnet_math::Dropout d) {
  GRID_STRIDE(i, n) y[i] = idemnet_math::dropout_element(x[i], seed, (uint64_t)i, d);
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
  GRID_STRIDE(i, n) y[i] = idemnet_math::axpy_element(alpha, x[i], y[i]);
}

__global__ void activation_kernel(int act, float slope, const float* x, float* y, int64_t n) {
  GRID_STRIDE(i, n) {
    float v = x[i];
    switch (act) {
      case IDEMNET_RELU: y[i] = idemnet_math::relu(v); break;
      case IDEMNET_LEAKY_RELU: y[i] = idemnet_math::leaky_relu(v, slope); break;
      case IDEMNET_TANH: y[i] = idemnet_math::tanh_act(v); break;
      case IDEMNET_SIGMOID: y[i] = idemnet_math::sigmoid(v); break;
      default: y[i] = v; break;
    }
  }
}

__global__ void activation_backward_kernel(int act, float slope, const float* x, const float* y,
                                           const float* dy, float* dx, int64_t n) {
  GRID_STRIDE(i, n) {
    float g = dy[i];
    switch (act) {
      case IDEMNET_RELU: dx[i] = idemnet_math::relu_grad(x[i], g); break;
      case IDEMNET_LEAKY_RELU: dx[i] = idemnet_math::leaky_relu_grad(x[i], slope, g); break;
      case IDEMNET_TANH: dx[i] = idemnet_math::tanh_grad(y[i], g); break;
      case IDEMNET_SIGMOID: dx[i] = idemnet_math::sigmoid_grad(y[i], g); break;
      default: dx[i] = g; break;
    }
  }
}

// ---------------------------------------------------------------- optimizers

__global__ void sgd_plain_kernel(float* w, const float* g, int64_t n, float lr, float wd) {
  GRID_STRIDE(i, n) w[i] = idemnet_math::sgd_element(w[i], g[i], lr, wd);
}

__global__ void sgd_momentum_kernel(float* w, const float* g, float* v, int64_t n, float lr, float momentum,
                                    float wd) {
  GRID_STRIDE(i, n) {
    float wi = w[i], vi = v[i];
    idemnet_math::sgd_momentum_element(wi, g[i], vi, lr, momentum, wd);
    v[i] = vi;
    w[i] = wi;
  }
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, int64_t n, idemnet_math::AdamScalars s,
                            float beta1, float beta2, float eps, float wd) {
  GRID_STRIDE(i, n) {
    float wi = w[i], mi = m[i], vi = v[i];
    idemnet_math::adam_element(wi, g[i], mi, vi, s, beta1, beta2, eps, wd);
    m[i] = mi;
    v[i] = vi;
    w[i] = wi;
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
    dropout_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(x, y, n, seed, idemnet_math::dropout_params(p));
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
    // Bias corrections on the host (glibc pow), exactly as the CPU library computes them.
    idemnet_math::AdamScalars s = idemnet_math::adam_scalars(lr, beta1, beta2, step);
    adam_kernel<<<grid_for(n), kThreads, 0, ctx->stream>>>(w, g, m, v, n, s, beta1, beta2, eps, weight_decay);
    return launched(op);
  });
}

}  // extern "C"
