// GEMM through CBLAS (OpenBLAS from the JavaCPP preset).
#include <cblas.h>

#include <climits>

#include "common.h"

namespace {

using idemnet::invalid;

int check_gemm(const char* op, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
               const float* a, int64_t lda, const float* b, int64_t ldb, const float* c,
               int64_t ldc) {
  if (m < 0 || n < 0 || k < 0) return invalid(op, "negative size");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
    return invalid(op, "size exceeds the 32-bit BLAS interface");
  if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1))
    return invalid(op, "trans flags must be 0 or 1");
  // Row-major: A is stored m x k (k x m when transposed), so its row length is k (or m).
  int64_t min_lda = trans_a ? m : k, min_ldb = trans_b ? k : n;
  if (lda < (min_lda > 1 ? min_lda : 1) || ldb < (min_ldb > 1 ? min_ldb : 1) ||
      ldc < (n > 1 ? n : 1))
    return invalid(op, "leading dimension too small");
  if (m > 0 && n > 0 && c == nullptr) return invalid(op, "null output");
  if (m > 0 && n > 0 && k > 0 && (a == nullptr || b == nullptr)) return invalid(op, "null input");
  return IDEMNET_OK;
}

// Below this many multiply-adds a GEMM runs on the calling thread: waking OpenBLAS's sleeping
// threads costs more than the work (B1's 1000x5x5 products spent most of their time there).
constexpr int64_t kSingleThreadMacs = 64 * 64 * 64;

// Runs one cblas_sgemm, single-threaded when small (openblas_set_num_threads_local only affects
// the calling thread and is restored afterwards).
void sgemm_call(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
  bool small = m * n * k <= kSingleThreadMacs;
  int previous = small ? openblas_set_num_threads_local(1) : 0;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
              (int)ldb, beta, c, (int)ldc);
  if (small) openblas_set_num_threads_local(previous);
}

}  // namespace

extern "C" {

int idemnet_sgemm(idemnet_context* ctx, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                  float* c, int64_t ldc) {
  return idemnet::with_context(ctx, "sgemm", [&] {
    int status = check_gemm("sgemm", trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if (status != IDEMNET_OK || m == 0 || n == 0) return status;
    sgemm_call(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return IDEMNET_OK;
  });
}

int idemnet_sgemm_strided_batched(idemnet_context* ctx, int trans_a, int trans_b, int64_t m,
                                  int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                                  int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b,
                                  float beta, float* c, int64_t ldc, int64_t stride_c,
                                  int64_t batch) {
  return idemnet::with_context(ctx, "sgemm_strided_batched", [&] {
    const char* op = "sgemm_strided_batched";
    int status = check_gemm(op, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    if (status != IDEMNET_OK) return status;
    if (batch < 0 || stride_a < 0 || stride_b < 0 || stride_c < 0)
      return invalid(op, "negative batch or stride");
    if (m == 0 || n == 0) return IDEMNET_OK;
    for (int64_t i = 0; i < batch; ++i) {
      sgemm_call(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb,
                 beta, c + i * stride_c, ldc);
    }
    return IDEMNET_OK;
  });
}

}  // extern "C"
