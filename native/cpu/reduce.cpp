// Reductions, accumulated in double.
#include <vector>

#include "common.h"
#include "parallel.h"

namespace {

IDEMNET_CLONES double sum_chunk(const float* x, int64_t b, int64_t e) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = b; i < e; ++i) acc += (double)x[i];
  return acc;
}

IDEMNET_CLONES double sum_sq_chunk(const float* x, int64_t b, int64_t e) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = b; i < e; ++i) acc += (double)x[i] * (double)x[i];
  return acc;
}

// Column sums of x[:, c0:c1], every row, into acc[0 : c1 - c0].
IDEMNET_CLONES void column_sums(const float* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1,
                                double* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (int64_t c = c0; c < c1; ++c) acc[c - c0] += (double)xr[c];
  }
}

}  // namespace

extern "C" {

int idemnet_sum(idemnet_context* ctx, const float* x, int64_t n, double* out) {
  return idemnet::with_context(ctx, "sum", [&] {
    IDEMNET_REQUIRE(n >= 0, "sum", "negative size");
    IDEMNET_REQUIRE(out && (n == 0 || x), "sum", "null buffer");
    *out = idemnet::parallel_sum(n, [&](int64_t b, int64_t e) { return sum_chunk(x, b, e); });
    return IDEMNET_OK;
  });
}

int idemnet_sum_squares(idemnet_context* ctx, const float* x, int64_t n, double* out) {
  return idemnet::with_context(ctx, "sum_squares", [&] {
    IDEMNET_REQUIRE(n >= 0, "sum_squares", "negative size");
    IDEMNET_REQUIRE(out && (n == 0 || x), "sum_squares", "null buffer");
    *out = idemnet::parallel_sum(n, [&](int64_t b, int64_t e) { return sum_sq_chunk(x, b, e); });
    return IDEMNET_OK;
  });
}

int idemnet_sum_rows(idemnet_context* ctx, const float* x, int64_t rows, int64_t cols, float beta,
                     float* out) {
  return idemnet::with_context(ctx, "sum_rows", [&] {
    IDEMNET_REQUIRE(rows >= 0 && cols >= 0, "sum_rows", "negative size");
    IDEMNET_REQUIRE(cols == 0 || (out && (rows == 0 || x)), "sum_rows", "null buffer");
    // Threads take disjoint column ranges (each walks all rows), so no partial sums need merging.
    idemnet::parallel_for(cols * (rows > 0 ? rows : 1), [&](int64_t b, int64_t e) {
      int64_t r = rows > 0 ? rows : 1;
      int64_t c0 = b / r, c1 = e / r;
      if (c0 >= c1) return;
      std::vector<double> acc(c1 - c0, 0.0);
      column_sums(x, rows, cols, c0, c1, acc.data());
      for (int64_t c = c0; c < c1; ++c)
        out[c] = (float)((beta == 0.0f ? 0.0 : (double)beta * out[c]) + acc[c - c0]);
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
