// The error rule of idemnet_common.h, shared by both libraries' sources (not part of the ABI).
// Each library keeps its own per-thread message (native/shared/errors.cpp, compiled into each),
// read through its <prefix>last_error().
#pragma once
#include <exception>
#include <new>
#include <string>

#include "idemnet_common.h"

namespace idemnet {

// Sets this thread's message to "op: what".
void set_error(const char* op, const std::string& what);
// The same without allocating a new string where it can: used when memory ran out; never throws
// (the message is dropped if even that fails).
void set_error_noexcept(const char* op, const char* what) noexcept;
void clear_error() noexcept;

// Records "op: what" and returns IDEMNET_ERR_INVALID_ARGUMENT.
int invalid(const char* op, const std::string& what);

// This thread's message ("" when the last call succeeded); valid until the thread's next call.
const char* last_error_message() noexcept;

// Every entry point runs its body through guarded(): the message is cleared, and a C++ exception
// (std::bad_alloc from a container, anything else) becomes a status plus message instead of
// crossing extern "C".
template <class F>
int guarded(const char* op, F&& body) noexcept {
  try {
    clear_error();
    return body();
  } catch (const std::bad_alloc&) {
    set_error_noexcept(op, "out of memory");
    return IDEMNET_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_error_noexcept(op, e.what());
    return IDEMNET_ERR_INTERNAL;
  } catch (...) {
    set_error_noexcept(op, "unknown C++ exception");
    return IDEMNET_ERR_INTERNAL;
  }
}

}  // namespace idemnet
