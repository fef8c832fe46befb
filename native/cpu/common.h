// Internal helpers shared by the CPU kernels (not part of the ABI).
#pragma once
#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "idemnet.h"

namespace idemnet {

void set_error(const std::string& message);
void clear_error();

// Runs `body` and turns any C++ exception into a status code plus message, so nothing throws
// across the C ABI.
template <class F>
int guarded(const char* op, F&& body) {
  try {
    clear_error();
    return body();
  } catch (const std::bad_alloc&) {
    set_error(std::string(op) + ": out of memory");
    return IDEMNET_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_error(std::string(op) + ": " + e.what());
    return IDEMNET_ERR_INTERNAL;
  } catch (...) {
    set_error(std::string(op) + ": unknown C++ exception");
    return IDEMNET_ERR_INTERNAL;
  }
}

int invalid(const char* op, const std::string& what);

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
