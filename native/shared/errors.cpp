// The per-thread error message (the rule of idemnet_common.h). Each library compiles this file
// into itself, so each keeps its own message, read through its <prefix>last_error().
#include "status.h"

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

const char* last_error_message() noexcept { return last_error.c_str(); }

}  // namespace idemnet
