// Fused optimizer updates (one pass over weights, gradients and state); the element formulas
// are idemnet_math.h's, shared with the CUDA kernels.
#include "common.h"
#include "../shared/idemnet_math.h"
#include "parallel.h"

namespace {

IDEMNET_CLONES void sgd_plain(float* w, const float* g, int64_t b, int64_t e, float lr, float wd) {
  for (int64_t i = b; i < e; ++i) w[i] = idemnet_math::sgd_element(w[i], g[i], lr, wd);
}

IDEMNET_CLONES void sgd_momentum(float* w, const float* g, float* v, int64_t b, int64_t e, float lr,
                                 float momentum, float wd) {
  for (int64_t i = b; i < e; ++i) idemnet_math::sgd_momentum_element(w[i], g[i], v[i], lr, momentum, wd);
}

IDEMNET_CLONES void adam_chunk(float* w, const float* g, float* m, float* v, int64_t b, int64_t e,
                               idemnet_math::AdamScalars s, float beta1, float beta2, float eps,
                               float wd) {
  for (int64_t i = b; i < e; ++i) idemnet_math::adam_element(w[i], g[i], m[i], v[i], s, beta1, beta2, eps, wd);
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
    idemnet_math::AdamScalars s = idemnet_math::adam_scalars(lr, beta1, beta2, step);
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      adam_chunk(w, g, m, v, b, e, s, beta1, beta2, eps, weight_decay);
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
    idemnet_math::AdamScalars s{coefficients[0], coefficients[1]};
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) { adam_chunk(w, g, m, v, b, e, s, beta1, beta2, eps, weight_decay); });
    return IDEMNET_OK;
  });
}

}  // extern "C"
