// The CUDA library's error statuses (the message is kept by native/shared/errors.cpp) and device
// queries.
#include <cstdio>

#include "common.cuh"

namespace idemnet_cuda {

int fail(const char* op, cudaError_t err) {
  // Reset the thread's last-error slot. A non-sticky error returned by a call (cudaMemcpyAsync,
  // cudaMemsetAsync, cudaStreamBeginCapture, cudaMalloc, ...) stays there otherwise, and the next
  // launch check (cudaGetLastError after a kernel launch) would report it against that kernel. A
  // sticky error (a corrupted context) is not cleared by this: every later call reports it anyway.
  cudaGetLastError();
  idemnet::set_error(op, std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err));
  // No driver / no device are expected on CPU-only machines: report them as such, not as a bug.
  if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice) return IDEMNET_ERR_NO_DEVICE;
  if (err == cudaErrorMemoryAllocation) return IDEMNET_ERR_OUT_OF_MEMORY;
  return IDEMNET_ERR_BACKEND;
}

int backend_error(const char* op, const std::string& what) {
  idemnet::set_error(op, what);
  return IDEMNET_ERR_BACKEND;
}

}  // namespace idemnet_cuda

using idemnet_cuda::fail;
using idemnet_cuda::invalid;

extern "C" {

const char* idemnet_cuda_last_error(void) { return idemnet::last_error_message(); }

int idemnet_cuda_abi_version(void) { return IDEMNET_ABI_VERSION; }

int idemnet_cuda_device_count(int* count) {
  return idemnet::guarded("device_count", [&]() -> int {
    if (count == nullptr) return invalid("device_count", "null output");
    *count = 0;
    cudaError_t err = cudaGetDeviceCount(count);
    if (err != cudaSuccess) {
      *count = 0;
      cudaGetLastError();  // clear the error so later calls start clean
      return fail("device_count", err);
    }
    return IDEMNET_OK;
  });
}

int idemnet_cuda_device_name(int device, char* buf, int len) {
  return idemnet::guarded("device_name", [&]() -> int {
    if (buf == nullptr || len <= 0) return invalid("device_name", "null or empty buffer");
    cudaDeviceProp prop;
    cudaError_t err = cudaGetDeviceProperties(&prop, device);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return fail("device_name", err);
    }
    std::snprintf(buf, (size_t)len, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                  (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return IDEMNET_OK;
  });
}

int idemnet_cuda_versions(int* runtime, int* driver) {
  return idemnet::guarded("versions", [&]() -> int {
    if (runtime) *runtime = CUDART_VERSION;
    if (driver) {
      *driver = 0;
      cudaError_t err = cudaDriverGetVersion(driver);
      if (err != cudaSuccess) {
        cudaGetLastError();
        return fail("versions", err);
      }
    }
    return IDEMNET_OK;
  });
}

}  // extern "C"
