// Elementwise kernels: fill, copy, bias add, binary ops, scale, axpy, activations, corrector.
#include <cstring>

#include "common.h"
#include "../shared/idemnet_math.h"
#include "parallel.h"

namespace {

using idemnet::invalid;
using idemnet::parallel_for;

IDEMNET_CLONES void fill_chunk(float* x, float v, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) x[i] = v;
}

IDEMNET_CLONES void add_bias_rows(const float* x, const float* bias, float* out, int64_t cols,
                                  int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* orow = out + r * cols;
    for (int64_t c = 0; c < cols; ++c) orow[c] = xr[c] + bias[c];
  }
}

IDEMNET_CLONES void add_chunk(const float* a, const float* b, float* o, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) o[i] = a[i] + b[i];
}
IDEMNET_CLONES void sub_chunk(const float* a, const float* b, float* o, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) o[i] = a[i] - b[i];
}
IDEMNET_CLONES void mul_chunk(const float* a, const float* b, float* o, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) o[i] = a[i] * b[i];
}
IDEMNET_CLONES void scale_chunk(const float* x, float alpha, float* o, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) o[i] = alpha * x[i];
}
IDEMNET_CLONES void axpy_chunk(float alpha, const float* x, float* y, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) y[i] = idemnet_math::axpy_element(alpha, x[i], y[i]);
}

// Activations and their derivatives: idemnet_math.h's element forms (NaN passes through ReLU;
// PyTorch's derivatives at the kink). ReLU and LeakyReLU evaluate both sides and select, so they
// vectorize (a conditional multiply is a branch the compiler may not speculate).
IDEMNET_CLONES void relu_chunk(const float* x, float* y, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) y[i] = idemnet_math::relu(x[i]);
}
IDEMNET_CLONES void leaky_chunk(const float* x, float slope, float* y, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) y[i] = idemnet_math::leaky_relu(x[i], slope);
}
void tanh_chunk(const float* x, float* y, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) y[i] = idemnet_math::tanh_act(x[i]);
}
void sigmoid_chunk(const float* x, float* y, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) y[i] = idemnet_math::sigmoid(x[i]);
}

IDEMNET_CLONES void relu_back(const float* x, const float* dy, float* dx, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) dx[i] = idemnet_math::relu_grad(x[i], dy[i]);
}
IDEMNET_CLONES void leaky_back(const float* x, float slope, const float* dy, float* dx, int64_t s,
                               int64_t e) {
  for (int64_t i = s; i < e; ++i) dx[i] = idemnet_math::leaky_relu_grad(x[i], slope, dy[i]);
}
IDEMNET_CLONES void tanh_back(const float* y, const float* dy, float* dx, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) dx[i] = idemnet_math::tanh_grad(y[i], dy[i]);
}
IDEMNET_CLONES void sigmoid_back(const float* y, const float* dy, float* dx, int64_t s,
                                 int64_t e) {
  for (int64_t i = s; i < e; ++i) dx[i] = idemnet_math::sigmoid_grad(y[i], dy[i]);
}

IDEMNET_CLONES void corrector_chunk(const float* a, const float* b, const float* c, float s,
                                    float* out, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) out[i] = idemnet_math::corrector_element(a[i], b[i], c[i], s);
}

IDEMNET_CLONES double corrector_loss_chunk(const float* a, const float* b, const float* c, float s,
                                           float* out, int64_t i0, int64_t i1) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = i0; i < i1; ++i) {
    out[i] = idemnet_math::corrector_element(a[i], b[i], c[i], s);
    acc += idemnet_math::corrector_sq_diff(a[i], c[i]);
  }
  return acc;
}

}  // namespace

extern "C" {

int idemnet_fill(idemnet_context* ctx, float* x, int64_t n, float value) {
  return idemnet::with_context(ctx, "fill", [&] {
    IDEMNET_REQUIRE(n >= 0, "fill", "negative size");
    IDEMNET_REQUIRE(n == 0 || x, "fill", "null buffer");
    parallel_for(n, [&](int64_t b, int64_t e) { fill_chunk(x, value, b, e); });
    return IDEMNET_OK;
  });
}

int idemnet_copy(idemnet_context* ctx, const float* src, float* dst, int64_t n) {
  return idemnet::with_context(ctx, "copy", [&] {
    IDEMNET_REQUIRE(n >= 0, "copy", "negative size");
    IDEMNET_REQUIRE(n == 0 || (src && dst), "copy", "null buffer");
    if (n > 0 && src != dst) std::memmove(dst, src, (size_t)n * sizeof(float));
    return IDEMNET_OK;
  });
}

int idemnet_add_bias(idemnet_context* ctx, const float* x, const float* bias, float* out,
                     int64_t rows, int64_t cols) {
  return idemnet::with_context(ctx, "add_bias", [&] {
    IDEMNET_REQUIRE(rows >= 0 && cols >= 0, "add_bias", "negative size");
    IDEMNET_REQUIRE(rows * cols == 0 || (x && bias && out), "add_bias", "null buffer");
    // Split the rows * cols elements into chunks and give each chunk the rows whose index
    // b / cols falls in it: consecutive chunks share borders, so every row is done exactly once.
    int64_t len = cols > 0 ? cols : 1;
    parallel_for(rows * len, [&](int64_t b, int64_t e) {
      add_bias_rows(x, bias, out, cols, b / len, e / len);
    });
    return IDEMNET_OK;
  });
}

int idemnet_binary(idemnet_context* ctx, int op, const float* a, const float* b, float* out,
                   int64_t n) {
  return idemnet::with_context(ctx, "binary", [&] {
    IDEMNET_REQUIRE(n >= 0, "binary", "negative size");
    IDEMNET_REQUIRE(n == 0 || (a && b && out), "binary", "null buffer");
    switch (op) {
      case IDEMNET_ADD: parallel_for(n, [&](int64_t s, int64_t e) { add_chunk(a, b, out, s, e); }); break;
      case IDEMNET_SUB: parallel_for(n, [&](int64_t s, int64_t e) { sub_chunk(a, b, out, s, e); }); break;
      case IDEMNET_MUL: parallel_for(n, [&](int64_t s, int64_t e) { mul_chunk(a, b, out, s, e); }); break;
      default: return invalid("binary", "unknown op " + std::to_string(op));
    }
    return IDEMNET_OK;
  });
}

int idemnet_scale(idemnet_context* ctx, const float* x, float alpha, float* out, int64_t n) {
  return idemnet::with_context(ctx, "scale", [&] {
    IDEMNET_REQUIRE(n >= 0, "scale", "negative size");
    IDEMNET_REQUIRE(n == 0 || (x && out), "scale", "null buffer");
    parallel_for(n, [&](int64_t s, int64_t e) { scale_chunk(x, alpha, out, s, e); });
    return IDEMNET_OK;
  });
}

int idemnet_axpy(idemnet_context* ctx, float alpha, const float* x, float* y, int64_t n) {
  return idemnet::with_context(ctx, "axpy", [&] {
    IDEMNET_REQUIRE(n >= 0, "axpy", "negative size");
    IDEMNET_REQUIRE(n == 0 || (x && y), "axpy", "null buffer");
    parallel_for(n, [&](int64_t s, int64_t e) { axpy_chunk(alpha, x, y, s, e); });
    return IDEMNET_OK;
  });
}

int idemnet_activation_forward(idemnet_context* ctx, int act, float param, const float* x, float* y,
                               int64_t n) {
  return idemnet::with_context(ctx, "activation_forward", [&] {
    const char* op = "activation_forward";
    IDEMNET_REQUIRE(n >= 0, op, "negative size");
    IDEMNET_REQUIRE(n == 0 || (x && y), op, "null buffer");
    switch (act) {
      case IDEMNET_IDENTITY:
        if (x != y) std::memmove(y, x, (size_t)n * sizeof(float));
        break;
      case IDEMNET_RELU: parallel_for(n, [&](int64_t s, int64_t e) { relu_chunk(x, y, s, e); }); break;
      case IDEMNET_LEAKY_RELU:
        parallel_for(n, [&](int64_t s, int64_t e) { leaky_chunk(x, param, y, s, e); });
        break;
      case IDEMNET_TANH: parallel_for(n, [&](int64_t s, int64_t e) { tanh_chunk(x, y, s, e); }); break;
      case IDEMNET_SIGMOID:
        parallel_for(n, [&](int64_t s, int64_t e) { sigmoid_chunk(x, y, s, e); });
        break;
      default: return invalid(op, "unknown activation " + std::to_string(act));
    }
    return IDEMNET_OK;
  });
}

int idemnet_activation_backward(idemnet_context* ctx, int act, float param, const float* x,
                                const float* y, const float* dy, float* dx, int64_t n) {
  return idemnet::with_context(ctx, "activation_backward", [&] {
    const char* op = "activation_backward";
    IDEMNET_REQUIRE(n >= 0, op, "negative size");
    IDEMNET_REQUIRE(n == 0 || (dy && dx), op, "null gradient buffer");
    bool needs_x = act == IDEMNET_RELU || act == IDEMNET_LEAKY_RELU;
    bool needs_y = act == IDEMNET_TANH || act == IDEMNET_SIGMOID;
    IDEMNET_REQUIRE(n == 0 || !needs_x || x, op, "this activation needs its input x");
    IDEMNET_REQUIRE(n == 0 || !needs_y || y, op, "this activation needs its output y");
    switch (act) {
      case IDEMNET_IDENTITY:
        if (dx != dy) std::memmove(dx, dy, (size_t)n * sizeof(float));
        break;
      case IDEMNET_RELU: parallel_for(n, [&](int64_t s, int64_t e) { relu_back(x, dy, dx, s, e); }); break;
      case IDEMNET_LEAKY_RELU:
        parallel_for(n, [&](int64_t s, int64_t e) { leaky_back(x, param, dy, dx, s, e); });
        break;
      case IDEMNET_TANH: parallel_for(n, [&](int64_t s, int64_t e) { tanh_back(y, dy, dx, s, e); }); break;
      case IDEMNET_SIGMOID:
        parallel_for(n, [&](int64_t s, int64_t e) { sigmoid_back(y, dy, dx, s, e); });
        break;
      default: return invalid(op, "unknown activation " + std::to_string(act));
    }
    return IDEMNET_OK;
  });
}

int idemnet_corrector(idemnet_context* ctx, const float* a, const float* b, const float* c, float s,
                      float* out, int64_t n, double* sum_sq_diff) {
  return idemnet::with_context(ctx, "corrector", [&] {
    IDEMNET_REQUIRE(n >= 0, "corrector", "negative size");
    IDEMNET_REQUIRE(n == 0 || (a && b && c && out), "corrector", "null buffer");
    if (sum_sq_diff == nullptr) {
      parallel_for(n, [&](int64_t i0, int64_t i1) { corrector_chunk(a, b, c, s, out, i0, i1); });
    } else {
      *sum_sq_diff = idemnet::parallel_sum(
          n, [&](int64_t i0, int64_t i1) { return corrector_loss_chunk(a, b, c, s, out, i0, i1); });
    }
    return IDEMNET_OK;
  });
}

}  // extern "C"
