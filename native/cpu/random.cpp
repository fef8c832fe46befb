// Counter-based random numbers and dropout: the element formulas are idemnet_math.h's (the
// definition in idemnet.h, shared with Java and CUDA).
#include "common.h"
#include "../shared/idemnet_math.h"
#include "parallel.h"

extern "C" {

int idemnet_rand_uniform(idemnet_context* ctx, float* x, int64_t n, uint64_t seed, float low,
                         float high) {
  return idemnet::with_context(ctx, "rand_uniform", [&] {
    IDEMNET_REQUIRE(n >= 0, "rand_uniform", "negative size");
    IDEMNET_REQUIRE(n == 0 || x, "rand_uniform", "null buffer");
    double lo = low, width = (double)high - (double)low;
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] = idemnet_math::uniform_element(seed, (uint64_t)i, lo, width);
    });
    return IDEMNET_OK;
  });
}

int idemnet_rand_normal(idemnet_context* ctx, float* x, int64_t n, uint64_t seed, float mean,
                        float std) {
  return idemnet::with_context(ctx, "rand_normal", [&] {
    IDEMNET_REQUIRE(n >= 0, "rand_normal", "negative size");
    IDEMNET_REQUIRE(n == 0 || x, "rand_normal", "null buffer");
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] = idemnet_math::normal_element(seed, (uint64_t)i, mean, std);
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"

extern "C" {

int idemnet_dropout(idemnet_context* ctx, const float* x, float* y, int64_t n, uint64_t seed,
                    float p) {
  return idemnet::with_context(ctx, "dropout", [&] {
    IDEMNET_REQUIRE(n >= 0, "dropout", "negative size");
    IDEMNET_REQUIRE(p >= 0.0f && p <= 1.0f, "dropout", "p must lie in [0, 1]");
    IDEMNET_REQUIRE(n == 0 || (x && y), "dropout", "null buffer");
    idemnet_math::Dropout d = idemnet_math::dropout_params(p);
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = idemnet_math::dropout_element(x[i], seed, (uint64_t)i, d);
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
