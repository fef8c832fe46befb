// The fused Modified Backpropagation corrector: out = s * (3a - 2b - c), and optionally
// sum (a - c)^2 (the idempotent loss numerator) in the same pass over memory.
#include <cstdint>

#include "common.cuh"

namespace {

constexpr int kThreads = 256;

__global__ void corrector_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                 const float* __restrict__ c, float s, float* __restrict__ out,
                                 int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    out[i] = s * (3.0f * a[i] - 2.0f * b[i] - c[i]);
  }
}

// Each block reduces its partial sum in shared memory and adds it to *sum with one atomic.
__global__ void corrector_loss_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                      const float* __restrict__ c, float s,
                                      float* __restrict__ out, int64_t n, double* sum) {
  __shared__ double partial[kThreads];
  double acc = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    float ai = a[i], ci = c[i];
    out[i] = s * (3.0f * ai - 2.0f * b[i] - ci);
    double d = (double)ai - (double)ci;
    acc += d * d;
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(sum, partial[0]);
}

int grid_for(int64_t n) {
  int64_t blocks = (n + kThreads - 1) / kThreads;
  return (int)(blocks < 4096 ? (blocks > 0 ? blocks : 1) : 4096);
}

}  // namespace

extern "C" int idemnet_cuda_corrector(const float* a, const float* b, const float* c, float s,
                                      float* out, int64_t n, double* sum_sq_diff_device,
                                      void* stream) {
  idemnet_cuda::clear_error();
  const char* op = "cuda_corrector";
  if (n < 0) return idemnet_cuda::invalid(op, "negative size");
  if (n > 0 && (!a || !b || !c || !out)) return idemnet_cuda::invalid(op, "null buffer");
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  if (sum_sq_diff_device != nullptr) {
    cudaError_t err = cudaMemsetAsync(sum_sq_diff_device, 0, sizeof(double), st);
    if (err != cudaSuccess) return idemnet_cuda::fail(op, err);
  }
  if (n == 0) return IDEMNET_OK;
  if (sum_sq_diff_device == nullptr) {
    corrector_kernel<<<grid_for(n), kThreads, 0, st>>>(a, b, c, s, out, n);
  } else {
    corrector_loss_kernel<<<grid_for(n), kThreads, 0, st>>>(a, b, c, s, out, n,
                                                            sum_sq_diff_device);
  }
  cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? IDEMNET_OK : idemnet_cuda::fail(op, err);
}
