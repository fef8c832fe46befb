// Counter-based random numbers (see idemnet.h for the exact definition, shared with Java and CUDA).
#include <cmath>

#include "common.h"
#include "parallel.h"

namespace {

inline uint64_t bits(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline double uniform(uint64_t seed, uint64_t i) {
  return (double)(bits(seed, i) >> 40) * (1.0 / 16777216.0);
}

}  // namespace

extern "C" {

int idemnet_rand_uniform(idemnet_context* ctx, float* x, int64_t n, uint64_t seed, float low,
                         float high) {
  return idemnet::with_context(ctx, "rand_uniform", [&] {
    IDEMNET_REQUIRE(n >= 0, "rand_uniform", "negative size");
    IDEMNET_REQUIRE(n == 0 || x, "rand_uniform", "null buffer");
    double lo = low, width = (double)high - (double)low;
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] = (float)(lo + width * uniform(seed, (uint64_t)i));
    });
    return IDEMNET_OK;
  });
}

int idemnet_rand_normal(idemnet_context* ctx, float* x, int64_t n, uint64_t seed, float mean,
                        float std) {
  return idemnet::with_context(ctx, "rand_normal", [&] {
    IDEMNET_REQUIRE(n >= 0, "rand_normal", "negative size");
    IDEMNET_REQUIRE(n == 0 || x, "rand_normal", "null buffer");
    const double two_pi = 6.283185307179586;
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double u1 = uniform(seed, 2 * (uint64_t)i), u2 = uniform(seed, 2 * (uint64_t)i + 1);
        double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(two_pi * u2);
        x[i] = (float)((double)mean + (double)std * z);
      }
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
    double threshold = p, scale = p < 1.0f ? 1.0 / (1.0 - (double)p) : 0.0;
    idemnet::parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        y[i] = uniform(seed, (uint64_t)i) >= threshold ? (float)((double)x[i] * scale) : 0.0f;
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
