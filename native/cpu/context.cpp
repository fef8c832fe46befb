// Contexts of the CPU library: the thread count, applied to the calling thread by every kernel.
#include <cblas.h>
#include <omp.h>

#include "common.h"

namespace {

// OpenMP's team size when the library was loaded (OMP_NUM_THREADS when set, else all cores): the
// count of a context created with threads <= 0. Read once, before any context changed the
// calling thread's setting.
const int kDefaultThreads = omp_get_max_threads();

int threads_or_default(int threads) { return threads > 0 ? threads : kDefaultThreads; }

}  // namespace

namespace idemnet {

void use_threads(const idemnet_context& ctx) {
  int n = ctx.threads.load(std::memory_order_relaxed);
  // omp_set_num_threads sets the calling thread's own team size. OpenBLAS's count is one per
  // process (its pthreads build), so contexts with different counts in concurrent threads see
  // each other's count in GEMMs; one context, or equal counts, is exact.
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
  if (openblas_get_num_threads() != n) openblas_set_num_threads(n);
}

}  // namespace idemnet

extern "C" {

int idemnet_context_create(int threads, idemnet_context** out) {
  return idemnet::guarded("context_create", [&] {
    IDEMNET_REQUIRE(out, "context_create", "null output");
    *out = nullptr;
    auto* ctx = new idemnet_context();
    ctx->threads.store(threads_or_default(threads));
    *out = ctx;
    return IDEMNET_OK;
  });
}

int idemnet_context_destroy(idemnet_context* ctx) {
  return idemnet::guarded("context_destroy", [&] {
    IDEMNET_REQUIRE(ctx, "context_destroy", "null context");
    delete ctx;
    return IDEMNET_OK;
  });
}

int idemnet_context_set_threads(idemnet_context* ctx, int threads) {
  return idemnet::guarded("context_set_threads", [&] {
    IDEMNET_REQUIRE(ctx, "context_set_threads", "null context");
    ctx->threads.store(threads_or_default(threads));
    return IDEMNET_OK;
  });
}

int idemnet_context_threads(idemnet_context* ctx, int* threads) {
  return idemnet::guarded("context_threads", [&] {
    IDEMNET_REQUIRE(ctx, "context_threads", "null context");
    IDEMNET_REQUIRE(threads, "context_threads", "null output");
    *threads = ctx->threads.load();
    return IDEMNET_OK;
  });
}

}  // extern "C"
