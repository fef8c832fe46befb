#include <omp.h>

#include "common.h"

namespace idemnet {

namespace {
thread_local std::string last_error;
}

void set_error(const std::string& message) { last_error = message; }
void clear_error() { last_error.clear(); }

int invalid(const char* op, const std::string& what) {
  set_error(std::string(op) + ": " + what);
  return IDEMNET_ERR_INVALID_ARGUMENT;
}

}  // namespace idemnet

extern "C" {

// Declared by OpenBLAS (cblas.h pulls in more than we need here).
void openblas_set_num_threads(int num_threads);

const char* idemnet_last_error(void) { return idemnet::last_error.c_str(); }

int idemnet_abi_version(void) { return IDEMNET_ABI_VERSION; }

int idemnet_set_num_threads(int n) {
  return idemnet::guarded("set_num_threads", [&] {
    int threads = n > 0 ? n : omp_get_num_procs();
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    return IDEMNET_OK;
  });
}

int idemnet_get_num_threads(int* threads) {
  return idemnet::guarded("get_num_threads", [&] {
    IDEMNET_REQUIRE(threads, "get_num_threads", "null output");
    *threads = omp_get_max_threads();
    return IDEMNET_OK;
  });
}

}  // extern "C"
