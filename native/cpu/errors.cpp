// The per-thread error message of the CPU library (the rule of idemnet_common.h).
#include "common.h"

namespace idemnet {

namespace {
thread_local std::string last_error;
}

void set_error(const char* op, const std::string& what) { last_error = std::string(op) + ": " + what; }

void set_error_noexcept(const char* op, const char* what) noexcept {
  try {
    last_error.assign(op).append(": ").append(what);
  } catch (...) {
    last_error.clear();
  }
}

void clear_error() noexcept { last_error.clear(); }

int invalid(const char* op, const std::string& what) {
  set_error(op, what);
  return IDEMNET_ERR_INVALID_ARGUMENT;
}

}  // namespace idemnet

extern "C" {

const char* idemnet_last_error(void) { return idemnet::last_error.c_str(); }

int idemnet_abi_version(void) { return IDEMNET_ABI_VERSION; }

}  // extern "C"
