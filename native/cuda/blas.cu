// GEMM on a context: cuBLAS opened at run time with dlopen (no cuBLAS headers or link-time
// dependency, so the library builds with the CUDA runtime alone), or the library's own tiled
// kernel when no libcublas can be opened (or IDEMNET_CUDA_GEMM=builtin).
#include <dlfcn.h>

#include <climits>
#include <cstdlib>

#include "common.cuh"

using idemnet_cuda::fail;
using idemnet_cuda::invalid;

namespace {

// The few cuBLAS v2 entry points we use, declared by hand (cublas_api.h is not needed). These are
// the exported symbol names (cublas_v2.h maps cublasCreate to cublasCreate_v2, and so on).
typedef int (*CreateFn)(void** handle);
typedef int (*DestroyFn)(void* handle);
typedef int (*SetStreamFn)(void* handle, cudaStream_t stream);
typedef int (*SetMathModeFn)(void* handle, int mode);
typedef int (*SetWorkspaceFn)(void* handle, void* workspace, size_t bytes);
typedef int (*GetVersionFn)(void* handle, int* version);
typedef int (*GetPropertyFn)(int type, int* value);
typedef int (*SgemmFn)(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                       const float* a, int lda, const float* b, int ldb, const float* beta, float* c, int ldc);
typedef int (*SgemmBatchedFn)(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* a, int lda, long long stride_a, const float* b, int ldb,
                              long long stride_b, const float* beta, float* c, int ldc, long long stride_c,
                              int batch);

constexpr int kOpN = 0, kOpT = 1;                         // cublasOperation_t
constexpr int kDefaultMath = 0, kTf32TensorOpMath = 3;    // cublasMath_t
constexpr size_t kCublasWorkspace = size_t{32} << 20;     // NVIDIA's advice for Hopper and graph capture
constexpr int kMajorVersion = 0, kMinorVersion = 1, kPatchLevel = 2;  // libraryPropertyType

struct Cublas {
  bool loaded = false;
  std::string detail;
  CreateFn create = nullptr;
  DestroyFn destroy = nullptr;
  SetStreamFn set_stream = nullptr;
  SetMathModeFn set_math_mode = nullptr;
  SetWorkspaceFn set_workspace = nullptr;
  GetVersionFn get_version = nullptr;
  GetPropertyFn get_property = nullptr;
  SgemmFn sgemm = nullptr;
  SgemmBatchedFn sgemm_batched = nullptr;
};

Cublas& cublas() {
  static Cublas api;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* gemm = std::getenv("IDEMNET_CUDA_GEMM");
    if (gemm && std::string(gemm) == "builtin") {
      api.detail = "builtin GEMM kernel (IDEMNET_CUDA_GEMM=builtin)";
      return;
    }
    // An explicit path first, then the sonames of CUDA 13 and 12 (found through LD_LIBRARY_PATH,
    // the loader cache, or a copy that a JVM library already loaded).
    std::vector<std::string> names;
    if (const char* path = std::getenv("IDEMNET_CUBLAS_LIBRARY")) names.emplace_back(path);
    names.insert(names.end(), {"libcublas.so.13", "libcublas.so.12", "libcublas.so"});
    std::string tried;
    void* lib = nullptr;
    for (const std::string& name : names) {
      lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) {
        api.detail = "cuBLAS from " + name;
        break;
      }
      const char* why = dlerror();
      tried += "\n  " + name + ": " + (why ? why : "not found");
    }
    if (!lib) {
      api.detail = "builtin GEMM kernel (no cuBLAS could be opened:" + tried + ")";
      return;
    }
    api.create = (CreateFn)dlsym(lib, "cublasCreate_v2");
    api.destroy = (DestroyFn)dlsym(lib, "cublasDestroy_v2");
    api.set_stream = (SetStreamFn)dlsym(lib, "cublasSetStream_v2");
    api.set_math_mode = (SetMathModeFn)dlsym(lib, "cublasSetMathMode");
    api.set_workspace = (SetWorkspaceFn)dlsym(lib, "cublasSetWorkspace_v2");  // optional (CUDA 11.3+)
    api.get_version = (GetVersionFn)dlsym(lib, "cublasGetVersion_v2");
    api.get_property = (GetPropertyFn)dlsym(lib, "cublasGetProperty");
    api.sgemm = (SgemmFn)dlsym(lib, "cublasSgemm_v2");
    api.sgemm_batched = (SgemmBatchedFn)dlsym(lib, "cublasSgemmStridedBatched");
    if (!api.create || !api.destroy || !api.set_stream || !api.set_math_mode || !api.get_version ||
        !api.get_property || !api.sgemm || !api.sgemm_batched) {
      api.detail += " lacks a needed symbol; using the builtin GEMM kernel";
      return;
    }
    int major = 0, minor = 0, patch = 0;
    if (api.get_property(kMajorVersion, &major) != 0 || api.get_property(kMinorVersion, &minor) != 0 ||
        api.get_property(kPatchLevel, &patch) != 0) {
      api.detail += " does not report its version; using the builtin GEMM kernel";
      return;
    }
    api.detail = "cuBLAS " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) +
                 api.detail.substr(std::string("cuBLAS").size());  // "cuBLAS x.y.z from <name>"
    api.loaded = true;
  });
  return api;
}

// ------------------------------------------------------------------ builtin tiled SGEMM (row-major)

constexpr int kTile = 16;

// C[b] = alpha op(A[b]) op(B[b]) + beta C[b]; beta == 0 ignores C's old contents (BLAS semantics).
__global__ void sgemm_tiled(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                            int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta,
                            float* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  __shared__ float as[kTile][kTile + 1];
  __shared__ float bs[kTile][kTile + 1];
  int64_t row = blockIdx.y * (int64_t)kTile + threadIdx.y, col = blockIdx.x * (int64_t)kTile + threadIdx.x;
  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
    const float* az = a + z * stride_a;
    const float* bz = b + z * stride_b;
    float acc = 0.0f;
    for (int64_t p0 = 0; p0 < k; p0 += kTile) {
      int64_t pa = p0 + threadIdx.x, pb = p0 + threadIdx.y;
      as[threadIdx.y][threadIdx.x] = row < m && pa < k ? (ta ? az[pa * lda + row] : az[row * lda + pa]) : 0.0f;
      bs[threadIdx.y][threadIdx.x] = pb < k && col < n ? (tb ? bz[col * ldb + pb] : bz[pb * ldb + col]) : 0.0f;
      __syncthreads();
      for (int q = 0; q < kTile; ++q) acc += as[threadIdx.y][q] * bs[q][threadIdx.x];
      __syncthreads();
    }
    if (row < m && col < n) {
      float* cz = c + z * stride_c + row * ldc + col;
      *cz = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cz;
    }
  }
}

int builtin_gemm(idemnet_cuda_context* ctx, const char* op, int ta, int tb, int64_t m, int64_t n, int64_t k,
                 float alpha, const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb, int64_t sb,
                 float beta, float* c, int64_t ldc, int64_t sc, int64_t batch) {
  int64_t gx = (n + kTile - 1) / kTile, gy = (m + kTile - 1) / kTile;
  if (gx > INT_MAX || gy > 65535) return invalid(op, "matrix too large for the builtin GEMM kernel");
  dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)(batch < 65535 ? batch : 65535));
  sgemm_tiled<<<grid, dim3(kTile, kTile), 0, ctx->stream>>>(ta != 0, tb != 0, m, n, k, alpha, a, lda, sa, b, ldb, sb,
                                                             beta, c, ldc, sc, batch);
  return idemnet_cuda::launched(op);
}

int cublas_status(const char* op, int status) {
  if (status == 0) return IDEMNET_OK;
  return idemnet_cuda::backend_error(op, "cuBLAS status " + std::to_string(status));
}

// Row-major C = alpha op(A) op(B) + beta C through column-major cuBLAS: C^T = op(B)^T op(A)^T,
// i.e. the same call with A and B (and m and n) exchanged.
int gemm(idemnet_cuda_context* ctx, const char* op, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
         const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb, int64_t sb, float beta, float* c,
         int64_t ldc, int64_t sc, int64_t batch) {
  if (ctx == nullptr) return invalid(op, "null context");
  if (m < 0 || n < 0 || k < 0 || batch < 0) return invalid(op, "negative size");
  if (m == 0 || n == 0 || batch == 0) return IDEMNET_OK;
  if (!c || (k > 0 && (!a || !b))) return invalid(op, "null buffer");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX ||
      batch > INT_MAX)
    return invalid(op, "sizes exceed the 32-bit cuBLAS interface");
  if (ldc < (n > 1 ? n : 1) || lda < ((ta ? m : k) > 1 ? (ta ? m : k) : 1) ||
      ldb < ((tb ? k : n) > 1 ? (tb ? k : n) : 1))
    return invalid(op, "leading dimension smaller than a row");
  // k == 0 (C = beta C) also takes the builtin kernel, whose semantics there are plain.
  if (ctx->cublas == nullptr || k == 0) return builtin_gemm(ctx, op, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
  Cublas& api = cublas();
  int opa = ta ? kOpT : kOpN, opb = tb ? kOpT : kOpN;
  if (batch == 1) {
    return cublas_status(op, api.sgemm(ctx->cublas, opb, opa, (int)n, (int)m, (int)k, &alpha, b, (int)ldb, a,
                                       (int)lda, &beta, c, (int)ldc));
  }
  return cublas_status(op, api.sgemm_batched(ctx->cublas, opb, opa, (int)n, (int)m, (int)k, &alpha, b, (int)ldb, sb,
                                             a, (int)lda, sa, &beta, c, (int)ldc, sc, (int)batch));
}

}  // namespace

namespace idemnet_cuda {

void gemm_init(idemnet_cuda_context* ctx) {
  Cublas& api = cublas();
  ctx->gemm_detail = api.detail;
  if (!api.loaded) return;
  void* handle = nullptr;
  int status = api.create(&handle);
  if (status != 0) {
    ctx->gemm_detail = api.detail + ", but cublasCreate failed (status " + std::to_string(status) +
                       "); using the builtin GEMM kernel";
    return;
  }
  // Every setup step is checked: a handle left on the legacy stream, in a math mode we did not ask
  // for, or allocating its own workspace inside graph captures is not one to compute with.
  std::string failed;
  int version = 0;
  if ((status = api.get_version(handle, &version)) != 0) failed = "cublasGetVersion";
  if (failed.empty() && (status = api.set_stream(handle, ctx->stream)) != 0) failed = "cublasSetStream";
  if (failed.empty() && (status = api.set_math_mode(handle, kDefaultMath)) != 0) failed = "cublasSetMathMode";
  // A workspace of our own keeps cuBLAS from allocating during graph capture.
  if (failed.empty() && api.set_workspace) {
    cudaError_t err = cudaMalloc(&ctx->cublas_workspace, kCublasWorkspace);
    if (err != cudaSuccess) {
      cudaGetLastError();
      ctx->cublas_workspace = nullptr;
      failed = std::string("cudaMalloc of the cuBLAS workspace (") + cudaGetErrorName(err) + ")";
      status = 0;
    } else if ((status = api.set_workspace(handle, ctx->cublas_workspace, kCublasWorkspace)) != 0) {
      failed = "cublasSetWorkspace";
    }
  }
  if (!failed.empty()) {
    api.destroy(handle);
    if (ctx->cublas_workspace) cudaFree(ctx->cublas_workspace);
    ctx->cublas_workspace = nullptr;
    ctx->gemm_detail = api.detail + ", but " + failed + " failed" +
                       (status != 0 ? " (status " + std::to_string(status) + ")" : std::string()) +
                       "; using the builtin GEMM kernel";
    return;
  }
  ctx->gemm_detail = api.detail + " (cublasGetVersion " + std::to_string(version) + ")";
  ctx->cublas = handle;
}

void gemm_release(idemnet_cuda_context* ctx) {
  if (ctx->cublas) cublas().destroy(ctx->cublas);
  ctx->cublas = nullptr;
  if (ctx->cublas_workspace) cudaFree(ctx->cublas_workspace);
  ctx->cublas_workspace = nullptr;
}

// Used by the convolutions (conv.cu): a plain row-major GEMM on the context.
int context_gemm(idemnet_cuda_context* ctx, const char* op, int ta, int tb, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return gemm(ctx, op, ta, tb, m, n, k, 1.0f, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

}  // namespace idemnet_cuda

extern "C" {

int idemnet_cuda_set_tf32(idemnet_cuda_context* ctx, int enabled) {
  return idemnet_cuda::with_context(ctx, "set_tf32", [&]() -> int {
    ctx->tf32 = enabled != 0;
    if (ctx->cublas) {
      int status = cublas().set_math_mode(ctx->cublas, ctx->tf32 ? kTf32TensorOpMath : kDefaultMath);
      return cublas_status("set_tf32", status);
    }
    return IDEMNET_OK;  // the builtin kernel always computes in float32
  });
}

int idemnet_cuda_gemm_engine(idemnet_cuda_context* ctx, int* is_cublas, const char** detail) {
  return idemnet_cuda::with_context(ctx, "gemm_engine", [&]() -> int {
    if (is_cublas) *is_cublas = ctx->cublas != nullptr ? 1 : 0;
    if (detail) *detail = ctx->gemm_detail.c_str();
    return IDEMNET_OK;
  });
}

int idemnet_cuda_sgemm(idemnet_cuda_context* ctx, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                       int64_t ldc) {
  return idemnet_cuda::with_context(ctx, "cuda_sgemm", [&] {
    return gemm(ctx, "cuda_sgemm", trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
  });
}

int idemnet_cuda_sgemm_strided_batched(idemnet_cuda_context* ctx, int trans_a, int trans_b, int64_t m, int64_t n,
                                       int64_t k, float alpha, const float* a, int64_t lda, int64_t stride_a,
                                       const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                                       int64_t ldc, int64_t stride_c, int64_t batch) {
  return idemnet_cuda::with_context(ctx, "cuda_sgemm_strided_batched", [&] {
    return gemm(ctx, "cuda_sgemm_strided_batched", trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                stride_b, beta, c, ldc, stride_c, batch);
  });
}

}  // extern "C"
