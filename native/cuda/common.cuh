// Internal helpers of the CUDA library (not part of the ABI).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "../shared/status.h"
#include "idemnet_cuda.h"
#include "../shared/idemnet_math.h"

struct idemnet_cuda_context;

namespace idemnet_cuda {

using idemnet::clear_error;
using idemnet::guarded;
using idemnet::invalid;

// Maps a CUDA error to a status code and records "op: cudaErrorName: description".
int fail(const char* op, cudaError_t err);
int backend_error(const char* op, const std::string& what);

// The entry of every operation on a context: guarded (no exception crosses the ABI) and the
// context checked.
template <class F>
int with_context(idemnet_cuda_context* ctx, const char* op, F&& body) noexcept {
  return guarded(op, [&]() -> int {
    if (ctx == nullptr) return invalid(op, "null context");
    return body();
  });
}

// Threads per block of the elementwise and reduction kernels.
constexpr int kThreads = 256;

// Doubles in a context's reduction workspace: the per-block partials of one reduction (followed
// by a counter).
constexpr int kReduceBlocks = 1024;

// Blocks for a grid-stride loop over n elements (at least 1; capped: each thread then loops).
inline int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return (int)(blocks < 8192 ? (blocks > 0 ? blocks : 1) : 8192);
}

// Blocks of a deterministic reduction over n elements: a function of n only (never of the
// device), so the summation order, and with it the result, is the same on every run and GPU.
inline int reduce_grid_for(int64_t n) {
  int64_t blocks = (n + 4 * kThreads - 1) / (4 * kThreads);
  return (int)(blocks < kReduceBlocks ? (blocks > 0 ? blocks : 1) : kReduceBlocks);
}

// Status of the launch just queued.
inline int launched(const char* op) {
  cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? IDEMNET_OK : fail(op, err);
}

// Sum of one double per thread over a block of THREADS threads, in a fixed tree order; every
// thread gets the total. `shared` holds THREADS doubles.
template <int THREADS>
__device__ inline double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int stride = THREADS / 2; stride > 0; stride >>= 1) {
    if ((int)threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  double total = shared[0];
  __syncthreads();  // shared may be reused by the caller
  return total;
}

// The end of a deterministic two-level reduction: block `blockIdx.x` stores its partial; the last
// block to finish (decided by an integer counter behind the partials) adds all partials in block
// order and hands the total to write(total) on thread 0. Call from every thread with the block's total.
template <class Write>
__device__ inline void finish_reduction_with(double block_total, double* workspace, Write write) {
  __shared__ bool last;
  __shared__ double lane[kThreads];
  unsigned int* counter = reinterpret_cast<unsigned int*>(workspace + kReduceBlocks);
  if (threadIdx.x == 0) {
    workspace[blockIdx.x] = block_total;
    __threadfence();
    unsigned int done = atomicAdd(counter, 1u);
    last = done == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  // Fixed order: thread t adds partials t, t + kThreads, ...; then the block tree.
  double acc = 0.0;
  for (unsigned int b = threadIdx.x; b < gridDim.x; b += kThreads) acc += ((volatile double*)workspace)[b];
  double total = block_sum<kThreads>(acc, lane);
  if (threadIdx.x == 0) {
    write(total);
    *counter = 0u;  // ready for the next reduction on this workspace
  }
}

// finish_reduction_with writing the double total to *out.
__device__ inline void finish_reduction(double block_total, double* workspace, double* out) {
  finish_reduction_with(block_total, workspace, [out](double total) { *out = total; });
}

// finish_reduction_with writing (float)(scale * total) to *out: a loss kept on the device.
__device__ inline void finish_reduction_to(double block_total, double* workspace, float* out, double scale) {
  finish_reduction_with(block_total, workspace, [out, scale](double total) { *out = (float)(scale * total); });
}

// cuBLAS entry points opened with dlopen (blas.cu).
struct CublasApi;

// A context's cuDNN handle, plans and workspace (cudnn.cu).
struct CudnnState;
using Geometry = idemnet_math::ConvGeometry;

}  // namespace idemnet_cuda

// One device, one stream, a caching allocator, a cuBLAS handle, scratch memory.
struct idemnet_cuda_context {
  int device = 0;
  cudaStream_t stream = nullptr;

  std::mutex mutex;  // guards the allocator
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live;                      // block -> its size class
  int64_t bytes_in_use = 0, bytes_cached = 0, device_mallocs = 0, cache_hits = 0;

  double* reduce_workspace = nullptr;  // kReduceBlocks doubles + a counter

  void* cublas = nullptr;  // cublasHandle_t, or null when the builtin GEMM is used
  void* cublas_workspace = nullptr;
  bool tf32 = false;
  std::string gemm_detail;

  idemnet_cuda::CudnnState* cudnn = nullptr;  // null when cuDNN is not available
  bool use_cudnn = true;                      // idemnet_cuda_set_conv_engine
  std::string conv_detail, conv_off_detail;

  // Convolution scratch: grows, and old buffers are kept until destroy because a captured graph
  // may still refer to them.
  float* scratch = nullptr;
  size_t scratch_bytes = 0;
  std::vector<void*> retired_scratch;
};

namespace idemnet_cuda {
// Scratch of at least `bytes` on ctx (blas.cu / conv.cu).
int scratch(idemnet_cuda_context* ctx, size_t bytes, float** out);
// cuBLAS setup for a new context and teardown (blas.cu).
void gemm_init(idemnet_cuda_context* ctx);
void gemm_release(idemnet_cuda_context* ctx);
// cuDNN setup for a new context (it may leave ctx->cudnn null) and teardown (cudnn.cu).
void conv_init(idemnet_cuda_context* ctx);
void conv_release(idemnet_cuda_context* ctx);
// Convolutions through cuDNN (cudnn.cu). *done = false, with nothing queued, when the context has
// no cuDNN or the shape has no deterministic cuDNN algorithm: the caller runs im2col + GEMM then.
// Called only inside an entry point's guard (with_context), which turns their exceptions into a status.
int cudnn_conv_forward(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* x,
                       const float* weight, const float* bias, float* y, bool* done);
int cudnn_conv_backward_data(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* dy,
                             const float* weight, const float* bias, float* dx, bool* done);
int cudnn_conv_backward_weight(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* x,
                               const float* dy, float* dweight, float beta, bool* done);
}  // namespace idemnet_cuda
