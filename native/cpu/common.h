// Internal helpers shared by the CPU kernels (not part of the ABI).
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "../shared/status.h"
#include "idemnet.h"

// The CPU library's context: the thread count its kernels and GEMMs use (idemnet.h).
struct idemnet_context {
  std::atomic<int> threads{1};
};

namespace idemnet {

// Applies ctx's thread count to the calling thread's OpenMP team size and to OpenBLAS.
void use_threads(const idemnet_context& ctx);

// The entry of every kernel: guarded (no exception crosses the ABI), the context checked and its
// thread count applied to the calling thread.
template <class F>
int with_context(idemnet_context* ctx, const char* op, F&& body) noexcept {
  return guarded(op, [&]() -> int {
    if (ctx == nullptr) return invalid(op, "null context");
    use_threads(*ctx);
    return body();
  });
}

// Below this many elements an elementwise loop runs on one thread: waking the OpenMP team
// costs more than the work.
constexpr int64_t kParallelThreshold = 1 << 15;

}  // namespace idemnet

// Compiles a function three times (AVX-512, AVX2+FMA, baseline x86-64) and picks one at load
// time, so one portable binary still uses the machine's vector width.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define IDEMNET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define IDEMNET_CLONES
#endif

#define IDEMNET_REQUIRE(cond, op, msg) \
  do {                                 \
    if (!(cond)) return ::idemnet::invalid(op, msg); \
  } while (0)
