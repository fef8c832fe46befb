// Contexts (device + stream), the caching device allocator, host copies and CUDA graphs.
#include <new>

#include "common.cuh"

using idemnet_cuda::fail;
using idemnet_cuda::invalid;

namespace {

constexpr size_t kSmallLimit = size_t{1} << 20;  // 1 MiB
constexpr size_t kSmallStep = 512;

// The size class of a request: 512-byte steps up to 1 MiB, then 8 steps per power of two (so at
// most 12.5% of a block is unused).
size_t size_class(int64_t bytes) {
  size_t b = bytes > 0 ? (size_t)bytes : 1;
  if (b <= kSmallLimit) return (b + kSmallStep - 1) / kSmallStep * kSmallStep;
  size_t p = size_t{1} << (63 - __builtin_clzll((unsigned long long)b));
  size_t step = p / 8;
  return (b + step - 1) / step * step;
}

// Frees every cached block; the caller holds ctx->mutex.
void release_cached(idemnet_cuda_context* ctx) {
  for (auto& entry : ctx->free_blocks) {
    for (void* p : entry.second) cudaFree(p);
  }
  ctx->free_blocks.clear();
  ctx->bytes_cached = 0;
}

bool capturing(idemnet_cuda_context* ctx) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(ctx->stream, &status) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return status != cudaStreamCaptureStatusNone;
}

// Frees what a context holds besides the allocator's blocks and the cuBLAS handle, and the context.
void discard(idemnet_cuda_context* ctx) {
  if (ctx->reduce_workspace) cudaFree(ctx->reduce_workspace);
  if (ctx->stream) cudaStreamDestroy(ctx->stream);
  delete ctx;
}

}  // namespace

namespace idemnet_cuda {

int scratch(idemnet_cuda_context* ctx, size_t bytes, float** out) {
  if (ctx->scratch_bytes < bytes) {
    // Room to retire the old buffer, made before cudaMalloc so that a failing allocation here
    // cannot leak the new one.
    if (ctx->scratch) ctx->retired_scratch.reserve(ctx->retired_scratch.size() + 1);
    size_t grown = bytes > 2 * ctx->scratch_bytes ? bytes : 2 * ctx->scratch_bytes;
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, grown);
    if (err != cudaSuccess) {
      cudaGetLastError();
      // Retry with exactly what is needed after giving the allocator's cache back.
      {
        std::lock_guard<std::mutex> lock(ctx->mutex);
        if (!capturing(ctx)) release_cached(ctx);
      }
      grown = bytes;
      err = cudaMalloc(&p, grown);
      if (err != cudaSuccess) return fail("conv scratch", err);
    }
    if (ctx->scratch) ctx->retired_scratch.push_back(ctx->scratch);
    ctx->scratch = static_cast<float*>(p);
    ctx->scratch_bytes = grown;
  }
  *out = ctx->scratch;
  return IDEMNET_OK;
}

}  // namespace idemnet_cuda

extern "C" {

int idemnet_cuda_context_create(int device, idemnet_cuda_context** out) {
  return idemnet::guarded("context_create", [&]() -> int {
    const char* op = "context_create";
    if (out == nullptr) return invalid(op, "null output");
    *out = nullptr;
    int count = 0;
    int status = idemnet_cuda_device_count(&count);
    if (status != IDEMNET_OK) return status;
    if (count == 0) {
      idemnet::set_error(op, "the CUDA driver reports no device");
      return IDEMNET_ERR_NO_DEVICE;
    }
    if (device < 0 || device >= count) {
      return invalid(op, "device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                             " found)");
    }
    cudaError_t err = cudaSetDevice(device);
    if (err != cudaSuccess) return fail(op, err);
    auto* ctx = new idemnet_cuda_context();
    ctx->device = device;
    err = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking);
    size_t workspace_bytes = (idemnet_cuda::kReduceBlocks + 1) * sizeof(double);
    if (err == cudaSuccess) err = cudaMalloc(&ctx->reduce_workspace, workspace_bytes);
    if (err == cudaSuccess) err = cudaMemsetAsync(ctx->reduce_workspace, 0, workspace_bytes, ctx->stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(ctx->stream);
    if (err != cudaSuccess) {
      int code = fail(op, err);
      discard(ctx);
      return code;
    }
    try {
      idemnet_cuda::gemm_init(ctx);
      idemnet_cuda::conv_init(ctx);
    } catch (...) {
      idemnet_cuda::conv_release(ctx);
      idemnet_cuda::gemm_release(ctx);
      discard(ctx);
      throw;
    }
    *out = ctx;
    return IDEMNET_OK;
  });
}

int idemnet_cuda_context_destroy(idemnet_cuda_context* ctx) {
  return idemnet_cuda::with_context(ctx, "context_destroy", [&]() -> int {
    cudaError_t err = cudaStreamSynchronize(ctx->stream);
    idemnet_cuda::conv_release(ctx);
    idemnet_cuda::gemm_release(ctx);
    {
      std::lock_guard<std::mutex> lock(ctx->mutex);
      release_cached(ctx);
      for (auto& entry : ctx->live) cudaFree(entry.first);
      ctx->live.clear();
    }
    if (ctx->scratch) cudaFree(ctx->scratch);
    for (void* p : ctx->retired_scratch) cudaFree(p);
    discard(ctx);
    return err == cudaSuccess ? IDEMNET_OK : fail("context_destroy", err);
  });
}

int idemnet_cuda_synchronize(idemnet_cuda_context* ctx) {
  return idemnet_cuda::with_context(ctx, "synchronize", [&]() -> int {
    cudaError_t err = cudaStreamSynchronize(ctx->stream);
    return err == cudaSuccess ? IDEMNET_OK : fail("synchronize", err);
  });
}

// ------------------------------------------------------------------------------- allocator

int idemnet_cuda_malloc(idemnet_cuda_context* ctx, int64_t bytes, void** out) {
  return idemnet_cuda::with_context(ctx, "malloc", [&]() -> int {
    if (out == nullptr) return invalid("malloc", "null output");
    if (bytes < 0) return invalid("malloc", "negative size");
    *out = nullptr;
    size_t cls = size_class(bytes);
    std::lock_guard<std::mutex> lock(ctx->mutex);
    auto it = ctx->free_blocks.find(cls);
    void* p = nullptr;
    if (it != ctx->free_blocks.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      ctx->bytes_cached -= (int64_t)cls;
      ctx->cache_hits++;
    } else {
      cudaError_t err = cudaMalloc(&p, cls);
      if (err == cudaErrorMemoryAllocation && !capturing(ctx)) {
        cudaGetLastError();
        release_cached(ctx);
        err = cudaMalloc(&p, cls);
      }
      if (err != cudaSuccess) {
        cudaGetLastError();
        int code = fail("malloc", err);
        idemnet::set_error("malloc", "of " + std::to_string(bytes) + " bytes failed (" +
                                         std::to_string(ctx->bytes_in_use) + " bytes in use): " +
                                         cudaGetErrorString(err));
        return code;
      }
      ctx->device_mallocs++;
    }
    try {
      ctx->live.emplace(p, cls);
    } catch (...) {
      cudaFree(p);  // the block would be unknown to the allocator: give it back to the driver
      throw;
    }
    ctx->bytes_in_use += (int64_t)cls;
    *out = p;
    return IDEMNET_OK;
  });
}

int idemnet_cuda_free(idemnet_cuda_context* ctx, void* ptr) {
  return idemnet_cuda::with_context(ctx, "free", [&]() -> int {
    if (ptr == nullptr) return IDEMNET_OK;
    std::lock_guard<std::mutex> lock(ctx->mutex);
    auto it = ctx->live.find(ptr);
    if (it == ctx->live.end()) return invalid("free", "pointer was not allocated by this context");
    size_t cls = it->second;
    ctx->free_blocks[cls].push_back(ptr);  // may throw; nothing has changed yet then
    ctx->live.erase(it);
    ctx->bytes_in_use -= (int64_t)cls;
    ctx->bytes_cached += (int64_t)cls;
    return IDEMNET_OK;
  });
}

int idemnet_cuda_empty_cache(idemnet_cuda_context* ctx) {
  return idemnet_cuda::with_context(ctx, "empty_cache", [&]() -> int {
    std::lock_guard<std::mutex> lock(ctx->mutex);
    if (capturing(ctx)) return invalid("empty_cache", "not allowed while a CUDA graph is being captured");
    cudaError_t err = cudaStreamSynchronize(ctx->stream);
    if (err != cudaSuccess) return fail("empty_cache", err);
    release_cached(ctx);
    return IDEMNET_OK;
  });
}

int idemnet_cuda_allocator_stats(idemnet_cuda_context* ctx, int64_t* stats) {
  return idemnet_cuda::with_context(ctx, "allocator_stats", [&]() -> int {
    if (stats == nullptr) return invalid("allocator_stats", "null output");
    std::lock_guard<std::mutex> lock(ctx->mutex);
    stats[0] = ctx->bytes_in_use;
    stats[1] = ctx->bytes_cached;
    stats[2] = ctx->device_mallocs;
    stats[3] = ctx->cache_hits;
    stats[4] = (int64_t)ctx->live.size();
    return IDEMNET_OK;
  });
}

int idemnet_cuda_host_alloc(idemnet_cuda_context* ctx, int64_t bytes, void** out) {
  return idemnet_cuda::with_context(ctx, "host_alloc", [&]() -> int {
    if (out == nullptr) return invalid("host_alloc", "null output");
    if (bytes < 0) return invalid("host_alloc", "negative size");
    *out = nullptr;
    cudaError_t err = cudaMallocHost(out, bytes > 0 ? (size_t)bytes : 1);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return fail("host_alloc", err);
    }
    return IDEMNET_OK;
  });
}

int idemnet_cuda_host_free(idemnet_cuda_context* ctx, void* ptr) {
  return idemnet_cuda::with_context(ctx, "host_free", [&]() -> int {
    if (ptr == nullptr) return IDEMNET_OK;
    cudaError_t err = cudaFreeHost(ptr);
    return err == cudaSuccess ? IDEMNET_OK : fail("host_free", err);
  });
}

// ------------------------------------------------------------------------------- copies

namespace {
int copy(idemnet_cuda_context* ctx, const char* op, void* dst, const void* src, int64_t bytes,
         cudaMemcpyKind kind, bool wait) {
  return idemnet_cuda::with_context(ctx, op, [&]() -> int {
    if (bytes < 0) return invalid(op, "negative size");
    if (bytes == 0 || (kind == cudaMemcpyDeviceToDevice && dst == src)) return IDEMNET_OK;
    if (dst == nullptr || src == nullptr) return invalid(op, "null buffer");
    if (wait && capturing(ctx))
      return invalid(op, "host copies are not allowed while a CUDA graph is being captured");
    cudaError_t err = cudaMemcpyAsync(dst, src, (size_t)bytes, kind, ctx->stream);
    if (err == cudaSuccess && wait) err = cudaStreamSynchronize(ctx->stream);
    return err == cudaSuccess ? IDEMNET_OK : fail(op, err);
  });
}
}  // namespace

int idemnet_cuda_copy_h2d(idemnet_cuda_context* ctx, void* dst, const void* src, int64_t bytes) {
  return copy(ctx, "copy_h2d", dst, src, bytes, cudaMemcpyHostToDevice, true);
}

int idemnet_cuda_copy_d2h(idemnet_cuda_context* ctx, void* dst, const void* src, int64_t bytes) {
  return copy(ctx, "copy_d2h", dst, src, bytes, cudaMemcpyDeviceToHost, true);
}

int idemnet_cuda_copy_d2d(idemnet_cuda_context* ctx, void* dst, const void* src, int64_t bytes) {
  return copy(ctx, "copy_d2d", dst, src, bytes, cudaMemcpyDeviceToDevice, false);
}

int idemnet_cuda_memset_zero(idemnet_cuda_context* ctx, void* dst, int64_t bytes) {
  return idemnet_cuda::with_context(ctx, "memset_zero", [&]() -> int {
    if (bytes < 0) return invalid("memset_zero", "negative size");
    if (bytes == 0) return IDEMNET_OK;
    if (dst == nullptr) return invalid("memset_zero", "null buffer");
    cudaError_t err = cudaMemsetAsync(dst, 0, (size_t)bytes, ctx->stream);
    return err == cudaSuccess ? IDEMNET_OK : fail("memset_zero", err);
  });
}

// ------------------------------------------------------------------------------- graphs

int idemnet_cuda_graph_begin(idemnet_cuda_context* ctx) {
  return idemnet_cuda::with_context(ctx, "graph_begin", [&]() -> int {
    if (capturing(ctx)) return invalid("graph_begin", "a capture is already in progress on this context");
    cudaError_t err = cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeRelaxed);
    return err == cudaSuccess ? IDEMNET_OK : fail("graph_begin", err);
  });
}

int idemnet_cuda_graph_end(idemnet_cuda_context* ctx, void** exec) {
  return idemnet_cuda::with_context(ctx, "graph_end", [&]() -> int {
    if (exec == nullptr) return invalid("graph_end", "null output");
    *exec = nullptr;
    cudaGraph_t graph = nullptr;
    cudaError_t err = cudaStreamEndCapture(ctx->stream, &graph);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return fail("graph_end (a call inside the capture was not capturable?)", err);
    }
    cudaGraphExec_t instance = nullptr;
    err = cudaGraphInstantiate(&instance, graph, 0);
    cudaGraphDestroy(graph);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return fail("graph_end: instantiate", err);
    }
    *exec = instance;
    return IDEMNET_OK;
  });
}

int idemnet_cuda_graph_launch(idemnet_cuda_context* ctx, void* exec) {
  return idemnet_cuda::with_context(ctx, "graph_launch", [&]() -> int {
    if (exec == nullptr) return invalid("graph_launch", "null graph");
    cudaError_t err = cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), ctx->stream);
    return err == cudaSuccess ? IDEMNET_OK : fail("graph_launch", err);
  });
}

int idemnet_cuda_graph_destroy(idemnet_cuda_context* ctx, void* exec) {
  return idemnet_cuda::with_context(ctx, "graph_destroy", [&]() -> int {
    if (exec == nullptr) return IDEMNET_OK;
    cudaError_t err = cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec));
    return err == cudaSuccess ? IDEMNET_OK : fail("graph_destroy", err);
  });
}

}  // extern "C"
