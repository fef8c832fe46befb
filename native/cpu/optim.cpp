// Fused optimizer updates (one pass over weights, gradients and state).
#include <cmath>

#include "common.h"
#include "parallel.h"

namespace {

IDEMNET_CLONES void sgd_plain(float* w, const float* g, int64_t b, int64_t e, float lr, float wd) {
  for (int64_t i = b; i < e; ++i) w[i] -= lr * (g[i] + wd * w[i]);
}

IDEMNET_CLONES void sgd_momentum(float* w, const float* g, float* v, int64_t b, int64_t e, float lr,
                                 float momentum, float wd) {
  for (int64_t i = b; i < e; ++i) {
    float vi = momentum * v[i] + (g[i] + wd * w[i]);
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

IDEMNET_CLONES void adam_chunk(float* w, const float* g, float* m, float* v, int64_t b, int64_t e,
                               float step_size, float beta1, float beta2, float inv_sqrt_bc2,
                               float eps, float wd) {
  for (int64_t i = b; i < e; ++i) {
    float d = g[i] + wd * w[i];
    float mi = beta1 * m[i] + (1.0f - beta1) * d;
    float vi = beta2 * v[i] + (1.0f - beta2) * d * d;
    m[i] = mi;
    v[i] = vi;
    w[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace

extern "C" {

int idemnet_sgd_update(idemnet_context* ctx, float* w, const float* g, float* v, int64_t n,
                       float lr, float momentum, float weight_decay) {
  return idemnet::with_context(ctx, "sgd_update", [&] {
    IDEMNET_REQUIRE(n >= 0, "sgd_update", "negative size");
    IDEMNET_REQUIRE(n == 0 || (w && g), "sgd_update", "null buffer");
    IDEMNET_REQUIRE(momentum == 0.0f || n == 0 || v, "sgd_update", "momentum needs a velocity buffer");
    if (momentum == 0.0f) {
      idemnet::parallel_for(n, [&](int64_t b, int64_t e) { sgd_plain(w, g, b, e, lr, weight_decay); });
    } else {
      idemnet::parallel_for(
          n, [&](int64_t b, int64_t e) { sgd_momentum(w, g, v, b, e, lr, momentum, weight_decay); });
    }
    return IDEMNET_OK;
  });
}

int idemnet_adam_update(idemnet_context* ctx, float* w, const float* g, float* m, float* v,
                        int64_t n, float lr, float beta1, float beta2, float eps,
                        float weight_decay, int64_t step) {
  return idemnet::with_context(ctx, "adam_update", [&] {
    IDEMNET_REQUIRE(n >= 0, "adam_update", "negative size");
    IDEMNET_REQUIRE(step >= 1, "adam_update", "step must be >= 1");
    IDEMNET_REQUIRE(n == 0 || (w && g && m && v), "adam_update", "null buffer");
    // Bias corrections in double, as the optimizer's scalar bookkeeping.
    double bc1 = 1.0 - std::pow((double)beta1, (double)step);
    double bc2 = 1.0 - std::pow((double)beta2, (double)step);
    float step_size = (float)(lr / bc1);
    float inv_sqrt_bc2 = (float)(1.0 / std::sqrt(bc2));
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      adam_chunk(w, g, m, v, b, e, step_size, beta1, beta2, inv_sqrt_bc2, eps, weight_decay);
    });
    return IDEMNET_OK;
  });
}

int idemnet_adam_update_scheduled(idemnet_context* ctx, float* w, const float* g, float* m, float* v,
                                  int64_t n, const float* coefficients, float beta1, float beta2,
                                  float eps, float weight_decay) {
  return idemnet::with_context(ctx, "adam_update_scheduled", [&] {
    IDEMNET_REQUIRE(n >= 0, "adam_update_scheduled", "negative size");
    IDEMNET_REQUIRE(coefficients && (n == 0 || (w && g && m && v)), "adam_update_scheduled", "null buffer");
    float step_size = coefficients[0], inv_sqrt_bc2 = coefficients[1];
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      adam_chunk(w, g, m, v, b, e, step_size, beta1, beta2, inv_sqrt_bc2, eps, weight_decay);
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
