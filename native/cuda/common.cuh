// Internal helpers of the CUDA library (not part of the ABI).
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "idemnet.h"

namespace idemnet_cuda {

void set_error(const std::string& message);
void clear_error();

// Maps a CUDA error to a status code and records "op: cudaErrorName: description".
int fail(const char* op, cudaError_t err);
int invalid(const char* op, const std::string& what);

}  // namespace idemnet_cuda
