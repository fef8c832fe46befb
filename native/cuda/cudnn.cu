// Convolutions through cuDNN 9, opened at run time with dlopen (no cuDNN headers or link-time
// dependency, as for cuBLAS in blas.cu). The im2col + GEMM path of conv.cu stays the fallback: it
// runs when no libcudnn.so.9 can be opened, when IDEMNET_CUDA_CONV=im2col is set, and for a
// shape cuDNN has no deterministic algorithm for (or whose sizes exceed its int interface).
//
// Determinism rule: only algorithms that cuDNN reports as CUDNN_DETERMINISTIC are used, and the
// algorithm is cuDNN's heuristic choice (cudnnGet*Algorithm_v7, no timing), so it is a function of
// the shape, the GPU and the cuDNN version only. The same inputs then give the same bits on every
// run (no benchmarking race picks a different algorithm from one run to the next).
// Accuracy rule: of those, only direct-sum algorithms (see direct_sum), so the componentwise error
// bound of a float32 dot product holds, as for im2col + GEMM.
//
// A plan (descriptors and one algorithm per direction) is chosen on a shape's first use and
// cached on the context. Choosing happens outside any CUDA graph capture: a shape first met inside
// a capture is an error that says so. The workspace is a block of the context's caching allocator
// that grows when a plan needs more; a replaced block stays allocated until the context is
// destroyed, because a captured graph may still use it.
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>

#include "common.cuh"
#include "../shared/idemnet_math.h"

using idemnet_cuda::invalid;

namespace {

// ------------------------------------------------------------------ the cuDNN entry points we use
// Declared by hand from the cuDNN 9 API (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h): handles and
// descriptors are opaque pointers, enums are ints.

typedef int Status;  // cudnnStatus_t, 0 = CUDNN_STATUS_SUCCESS
constexpr Status kSuccess = 0;
constexpr int kTensorNchw = 0;          // cudnnTensorFormat_t
constexpr int kDataFloat = 0;           // cudnnDataType_t
constexpr int kCrossCorrelation = 1;    // cudnnConvolutionMode_t (PyTorch's conv2d)
constexpr int kDefaultMath = 0;         // cudnnMathType_t
constexpr int kTensorOpMath = 1;
constexpr int kTensorOpMathAllowConversion = 2;
constexpr int kFmaMath = 3;
constexpr int kDeterministic = 1;       // cudnnDeterminism_t
// The algorithms whose result is a sum of the direct formula's products (implicit or explicit
// GEMM, direct kernels), so a float32 dot product's componentwise error bound holds as for
// im2col + GEMM. FFT and Winograd algorithms (whose errors are bounded only normwise) are not used.
// Enumerators of cudnnConvolutionFwdAlgo_t, ...BwdDataAlgo_t, ...BwdFilterAlgo_t.
bool direct_sum(int direction, int algo) {
  switch (direction) {
    case 0: return algo >= 0 && algo <= 3;  // IMPLICIT_GEMM, IMPLICIT_PRECOMP_GEMM, GEMM, DIRECT
    case 1: return algo == 0 || algo == 1;  // BWD_DATA_ALGO_0, _1
    default: return algo == 0 || algo == 1 || algo == 3;  // BWD_FILTER_ALGO_0, _1, _3
  }
}
constexpr int kMajorVersion = 0, kMinorVersion = 1, kPatchLevel = 2;  // libraryPropertyType
// Algorithm counts of cuDNN 9 (CUDNN_CONVOLUTION_*_ALGO_COUNT); asking for more is harmless.
constexpr int kMaxAlgos = 16;
// Workspace above this is not worth it for our shapes: such algorithms are skipped.
constexpr size_t kWorkspaceLimit = size_t{1} << 30;

// cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout.
struct AlgoPerf {
  int algo;
  Status status;
  float time;
  size_t memory;
  int determinism;
  int math_type;
  int reserved[3];
};

typedef size_t (*GetVersionFn)(void);
typedef Status (*GetPropertyFn)(int type, int* value);
typedef const char* (*GetErrorStringFn)(Status status);
typedef Status (*CreateFn)(void** handle);
typedef Status (*DestroyFn)(void* handle);
typedef Status (*SetStreamFn)(void* handle, cudaStream_t stream);
typedef Status (*CreateDescFn)(void** desc);
typedef Status (*DestroyDescFn)(void* desc);
typedef Status (*SetTensor4dFn)(void* desc, int format, int type, int n, int c, int h, int w);
typedef Status (*SetFilter4dFn)(void* desc, int type, int format, int k, int c, int h, int w);
typedef Status (*SetConv2dFn)(void* desc, int pad_h, int pad_w, int u, int v, int dil_h, int dil_w, int mode,
                              int compute_type);
typedef Status (*SetConvMathFn)(void* desc, int math_type);
// The three heuristics: (handle, first desc, second desc, conv desc, third desc, requested,
// returned, results); the descriptor roles differ per direction (see choose_*).
typedef Status (*GetAlgoV7Fn)(void* handle, void* a, void* b, void* conv, void* c, int requested, int* returned,
                              AlgoPerf* results);
typedef Status (*WorkspaceSizeFn)(void* handle, void* a, void* b, void* conv, void* c, int algo, size_t* bytes);
typedef Status (*ForwardFn)(void* handle, const void* alpha, void* x_desc, const void* x, void* w_desc,
                            const void* w, void* conv, int algo, void* ws, size_t ws_bytes, const void* beta,
                            void* y_desc, void* y);
typedef Status (*BackwardDataFn)(void* handle, const void* alpha, void* w_desc, const void* w, void* dy_desc,
                                 const void* dy, void* conv, int algo, void* ws, size_t ws_bytes, const void* beta,
                                 void* dx_desc, void* dx);
typedef Status (*BackwardFilterFn)(void* handle, const void* alpha, void* x_desc, const void* x, void* dy_desc,
                                   const void* dy, void* conv, int algo, void* ws, size_t ws_bytes,
                                   const void* beta, void* dw_desc, void* dw);

struct Cudnn {
  bool loaded = false;
  std::string detail;  // what was opened (name and version), or why nothing was
  GetErrorStringFn error_string = nullptr;
  CreateFn create = nullptr;
  DestroyFn destroy = nullptr;
  SetStreamFn set_stream = nullptr;
  CreateDescFn create_tensor = nullptr, create_filter = nullptr, create_conv = nullptr;
  DestroyDescFn destroy_tensor = nullptr, destroy_filter = nullptr, destroy_conv = nullptr;
  SetTensor4dFn set_tensor = nullptr;
  SetFilter4dFn set_filter = nullptr;
  SetConv2dFn set_conv = nullptr;
  SetConvMathFn set_conv_math = nullptr;
  GetAlgoV7Fn forward_algos = nullptr, data_algos = nullptr, filter_algos = nullptr;
  WorkspaceSizeFn forward_ws = nullptr, data_ws = nullptr, filter_ws = nullptr;
  ForwardFn forward = nullptr;
  BackwardDataFn backward_data = nullptr;
  BackwardFilterFn backward_filter = nullptr;
};

template <class F>
bool bind(void* lib, const char* name, F& fn, std::string& missing) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
  return fn != nullptr;
}

Cudnn& cudnn() {
  static Cudnn api;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* conv = std::getenv("IDEMNET_CUDA_CONV");
    if (conv && std::string(conv) == "im2col") {
      api.detail = "im2col + GEMM (IDEMNET_CUDA_CONV=im2col)";
      return;
    }
    // An explicit path first, then the soname of cuDNN 9 (found through LD_LIBRARY_PATH, the
    // loader cache, or a copy that a JVM library already loaded).
    std::vector<std::string> names;
    if (const char* path = std::getenv("IDEMNET_CUDNN_LIBRARY")) names.emplace_back(path);
    names.emplace_back("libcudnn.so.9");
    std::string tried, opened;
    void* lib = nullptr;
    for (const std::string& name : names) {
      lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) {
        opened = name;
        break;
      }
      const char* why = dlerror();
      tried += "\n  " + name + ": " + (why ? why : "not found");
    }
    if (!lib) {
      api.detail = "im2col + GEMM (no cuDNN 9 could be opened:" + tried + ")";
      return;
    }
    std::string missing;
    GetVersionFn get_version = nullptr;
    GetPropertyFn get_property = nullptr;
    bind(lib, "cudnnGetVersion", get_version, missing);
    bind(lib, "cudnnGetProperty", get_property, missing);
    bind(lib, "cudnnGetErrorString", api.error_string, missing);
    bind(lib, "cudnnCreate", api.create, missing);
    bind(lib, "cudnnDestroy", api.destroy, missing);
    bind(lib, "cudnnSetStream", api.set_stream, missing);
    bind(lib, "cudnnCreateTensorDescriptor", api.create_tensor, missing);
    bind(lib, "cudnnDestroyTensorDescriptor", api.destroy_tensor, missing);
    bind(lib, "cudnnSetTensor4dDescriptor", api.set_tensor, missing);
    bind(lib, "cudnnCreateFilterDescriptor", api.create_filter, missing);
    bind(lib, "cudnnDestroyFilterDescriptor", api.destroy_filter, missing);
    bind(lib, "cudnnSetFilter4dDescriptor", api.set_filter, missing);
    bind(lib, "cudnnCreateConvolutionDescriptor", api.create_conv, missing);
    bind(lib, "cudnnDestroyConvolutionDescriptor", api.destroy_conv, missing);
    bind(lib, "cudnnSetConvolution2dDescriptor", api.set_conv, missing);
    bind(lib, "cudnnSetConvolutionMathType", api.set_conv_math, missing);
    bind(lib, "cudnnGetConvolutionForwardAlgorithm_v7", api.forward_algos, missing);
    bind(lib, "cudnnGetConvolutionBackwardDataAlgorithm_v7", api.data_algos, missing);
    bind(lib, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", api.filter_algos, missing);
    bind(lib, "cudnnGetConvolutionForwardWorkspaceSize", api.forward_ws, missing);
    bind(lib, "cudnnGetConvolutionBackwardDataWorkspaceSize", api.data_ws, missing);
    bind(lib, "cudnnGetConvolutionBackwardFilterWorkspaceSize", api.filter_ws, missing);
    bind(lib, "cudnnConvolutionForward", api.forward, missing);
    bind(lib, "cudnnConvolutionBackwardData", api.backward_data, missing);
    bind(lib, "cudnnConvolutionBackwardFilter", api.backward_filter, missing);
    if (!missing.empty()) {
      api.detail = "im2col + GEMM (" + opened + " lacks " + missing + ")";
      return;
    }
    size_t version = get_version();
    int major = 0, minor = 0, patch = 0;
    if (get_property(kMajorVersion, &major) != kSuccess || get_property(kMinorVersion, &minor) != kSuccess ||
        get_property(kPatchLevel, &patch) != kSuccess) {
      api.detail = "im2col + GEMM (" + opened + " does not report its version)";
      return;
    }
    std::string named = "cuDNN " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) +
                        " (cudnnGetVersion " + std::to_string(version) + ") from " + opened;
    if (major != 9) {
      api.detail = "im2col + GEMM (" + named + " is not cuDNN 9)";
      return;
    }
    api.detail = named + ", deterministic algorithms";
    api.loaded = true;
  });
  return api;
}

int cudnn_error(const char* op, const char* what, Status status) {
  const char* text = cudnn().error_string ? cudnn().error_string(status) : nullptr;
  return idemnet_cuda::backend_error(op, std::string(what) + ": cuDNN status " + std::to_string(status) +
                                             (text ? std::string(" (") + text + ")" : std::string()));
}

#define CUDNN_TRY(op, what, call)                                  \
  do {                                                             \
    Status status_ = (call);                                       \
    if (status_ != kSuccess) return cudnn_error(op, what, status_); \
  } while (0)

#define TRY(expr)                              \
  do {                                         \
    int status_ = (expr);                      \
    if (status_ != IDEMNET_OK) return status_; \
  } while (0)

// ------------------------------------------------------------------ plans and the context's state

enum Direction { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };

struct Choice {
  bool chosen = false;
  bool usable = false;  // false: no deterministic algorithm fits, the im2col path runs this shape
  int algo = 0;
  int math_type = kFmaMath;
  size_t workspace = 0;
};

// Descriptors of one shape (image x [n, c, h, w], filter [o, c, kh, kw], output y [n, o, ho, wo])
// and one algorithm per direction.
struct Plan {
  void* x = nullptr;
  void* y = nullptr;
  void* w = nullptr;
  void* conv = nullptr;
  Choice choice[3];

  ~Plan() {
    Cudnn& api = cudnn();
    if (x) api.destroy_tensor(x);
    if (y) api.destroy_tensor(y);
    if (w) api.destroy_filter(w);
    if (conv) api.destroy_conv(conv);
  }
};

struct Key {
  int64_t dims[13];
  bool tf32;
  bool operator<(const Key& other) const {
    for (int i = 0; i < 13; ++i) {
      if (dims[i] != other.dims[i]) return dims[i] < other.dims[i];
    }
    return tf32 < other.tf32;
  }
};

}  // namespace

namespace idemnet_cuda {

struct CudnnState {
  void* handle = nullptr;
  std::map<Key, std::unique_ptr<Plan>> plans;
  void* workspace = nullptr;  // a block of the context's caching allocator
  size_t workspace_bytes = 0;
  std::vector<void*> retired;  // replaced workspaces, kept until the context is destroyed
};

}  // namespace idemnet_cuda

namespace {

using idemnet_cuda::CudnnState;
using idemnet_cuda::Geometry;

CudnnState* state(idemnet_cuda_context* ctx) { return static_cast<CudnnState*>(ctx->cudnn); }

bool capturing(idemnet_cuda_context* ctx) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(ctx->stream, &status) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return status != cudaStreamCaptureStatusNone;
}

// cuDNN's 4-d descriptors take int sizes, and its kernels index tensors with 32-bit ints.
bool fits_cudnn(const Geometry& g) {
  const int64_t limit = INT_MAX;
  return g.n * g.image() <= limit && g.n * g.output() <= limit && g.o * g.k() <= limit;
}

int make_plan(const char* op, const Geometry& g, Plan& plan) {
  Cudnn& api = cudnn();
  CUDNN_TRY(op, "create tensor descriptor", api.create_tensor(&plan.x));
  CUDNN_TRY(op, "create tensor descriptor", api.create_tensor(&plan.y));
  CUDNN_TRY(op, "create filter descriptor", api.create_filter(&plan.w));
  CUDNN_TRY(op, "create convolution descriptor", api.create_conv(&plan.conv));
  CUDNN_TRY(op, "image descriptor",
            api.set_tensor(plan.x, kTensorNchw, kDataFloat, (int)g.n, (int)g.c, (int)g.h, (int)g.w));
  CUDNN_TRY(op, "output descriptor",
            api.set_tensor(plan.y, kTensorNchw, kDataFloat, (int)g.n, (int)g.o, (int)g.ho, (int)g.wo));
  CUDNN_TRY(op, "filter descriptor",
            api.set_filter(plan.w, kDataFloat, kTensorNchw, (int)g.o, (int)g.c, (int)g.kh, (int)g.kw));
  CUDNN_TRY(op, "convolution descriptor",
            api.set_conv(plan.conv, (int)g.ph, (int)g.pw, (int)g.sh, (int)g.sw, 1, 1, kCrossCorrelation, kDataFloat));
  return IDEMNET_OK;
}

// The math type a run uses. Without TF32 always CUDNN_FMA_MATH: plain float32 FMA kernels, no
// tensor cores (CUDNN_DEFAULT_MATH would let cuDNN use TF32 on Ampere and newer). With TF32 the
// math type the heuristic reported for its algorithm.
int run_math_type(bool tf32, const AlgoPerf& perf) { return tf32 ? perf.math_type : kFmaMath; }

bool acceptable(int direction, bool tf32, const AlgoPerf& perf) {
  if (perf.status != kSuccess || perf.determinism != kDeterministic || perf.memory > kWorkspaceLimit) return false;
  if (!direct_sum(direction, perf.algo)) return false;
  // Without TF32, an algorithm that exists only as a tensor-core variant is not float32 math.
  return tf32 || (perf.math_type != kTensorOpMath && perf.math_type != kTensorOpMathAllowConversion);
}

// The first acceptable algorithm of cuDNN's heuristic ranking for `dir`, with its workspace,
// which the context's workspace then holds. Runs outside captures only.
int choose(idemnet_cuda_context* ctx, const char* op, CudnnState* st, Plan& plan, Direction dir) {
  Cudnn& api = cudnn();
  bool tf32 = ctx->tf32;
  Choice& choice = plan.choice[dir];
  // The heuristics see the math type the run will use.
  CUDNN_TRY(op, "set math type", api.set_conv_math(plan.conv, tf32 ? kDefaultMath : kFmaMath));
  AlgoPerf perf[kMaxAlgos] = {};
  int returned = 0;
  Status status;
  switch (dir) {
    case kForward: status = api.forward_algos(st->handle, plan.x, plan.w, plan.conv, plan.y, kMaxAlgos, &returned, perf); break;
    case kBackwardData: status = api.data_algos(st->handle, plan.w, plan.y, plan.conv, plan.x, kMaxAlgos, &returned, perf); break;
    default: status = api.filter_algos(st->handle, plan.x, plan.y, plan.conv, plan.w, kMaxAlgos, &returned, perf); break;
  }
  if (status != kSuccess) return cudnn_error(op, "algorithm heuristics", status);
  Choice found;
  found.chosen = true;
  for (int i = 0; i < returned && i < kMaxAlgos && !found.usable; ++i) {
    if (!acceptable(dir, tf32, perf[i])) continue;
    int math = run_math_type(tf32, perf[i]);
    CUDNN_TRY(op, "set math type", api.set_conv_math(plan.conv, math));
    size_t bytes = 0;
    switch (dir) {
      case kForward: status = api.forward_ws(st->handle, plan.x, plan.w, plan.conv, plan.y, perf[i].algo, &bytes); break;
      case kBackwardData: status = api.data_ws(st->handle, plan.w, plan.y, plan.conv, plan.x, perf[i].algo, &bytes); break;
      default: status = api.filter_ws(st->handle, plan.x, plan.y, plan.conv, plan.w, perf[i].algo, &bytes); break;
    }
    if (status != kSuccess || bytes > kWorkspaceLimit) continue;
    found.usable = true;
    found.algo = perf[i].algo;
    found.math_type = math;
    found.workspace = bytes > perf[i].memory ? bytes : perf[i].memory;
  }
  if (found.usable && found.workspace > st->workspace_bytes) {
    void* block = nullptr;
    TRY(idemnet_cuda_malloc(ctx, (int64_t)found.workspace, &block));
    if (st->workspace) st->retired.push_back(st->workspace);
    st->workspace = block;
    st->workspace_bytes = found.workspace;
  }
  choice = found;
  return IDEMNET_OK;
}

// The plan of g for `dir`, chosen on first use; *plan stays null when the im2col path must run.
int plan_for(idemnet_cuda_context* ctx, const char* op, const Geometry& g, Direction dir, Plan** out) {
  *out = nullptr;
  CudnnState* st = state(ctx);
  if (st == nullptr || !ctx->use_cudnn || !fits_cudnn(g)) return IDEMNET_OK;
  Key key{{g.n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.ho, g.wo}, ctx->tf32};
  auto it = st->plans.find(key);
  Plan* plan = it == st->plans.end() ? nullptr : it->second.get();
  if (plan == nullptr || !plan->choice[dir].chosen) {
    if (capturing(ctx)) {
      return invalid(op, "this convolution shape is first met inside a CUDA graph capture, but cuDNN's algorithm "
                         "is chosen outside captures: run the step once before capturing it");
    }
    if (plan == nullptr) {
      auto made = std::make_unique<Plan>();
      TRY(make_plan(op, g, *made));
      plan = made.get();
      st->plans.emplace(key, std::move(made));
    }
    TRY(choose(ctx, op, st, *plan, dir));
  }
  const Choice& choice = plan->choice[dir];
  if (!choice.usable) return IDEMNET_OK;
  CUDNN_TRY(op, "set math type", cudnn().set_conv_math(plan->conv, choice.math_type));
  *out = plan;
  return IDEMNET_OK;
}

// t[i] += bias[(i / inner) % channels] over t [n, channels, inner].
__global__ void add_channel_bias(float* __restrict__ t, const float* __restrict__ bias, int64_t total,
                                 int64_t channels, int64_t inner) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
    t[i] = t[i] + bias[(i / inner) % channels];
}

int add_bias(idemnet_cuda_context* ctx, const char* op, float* t, const float* bias, int64_t n, int64_t channels,
             int64_t inner) {
  int64_t total = n * channels * inner;
  if (bias == nullptr || total == 0) return IDEMNET_OK;
  add_channel_bias<<<idemnet_cuda::grid_for(total), idemnet_cuda::kThreads, 0, ctx->stream>>>(t, bias, total,
                                                                                              channels, inner);
  return idemnet_cuda::launched(op);
}

}  // namespace

namespace idemnet_cuda {

void conv_init(idemnet_cuda_context* ctx) {
  Cudnn& api = cudnn();
  ctx->conv_detail = api.detail;
  if (!api.loaded) return;
  void* handle = nullptr;
  Status status = api.create(&handle);
  if (status != kSuccess) {
    ctx->conv_detail = "im2col + GEMM (" + api.detail + ", but cudnnCreate failed with status " +
                       std::to_string(status) + ")";
    return;
  }
  status = api.set_stream(handle, ctx->stream);
  if (status != kSuccess) {
    api.destroy(handle);
    ctx->conv_detail = "im2col + GEMM (" + api.detail + ", but cudnnSetStream failed with status " +
                       std::to_string(status) + ")";
    return;
  }
  auto* st = new (std::nothrow) CudnnState();
  if (st == nullptr) {
    api.destroy(handle);
    ctx->conv_detail = "im2col + GEMM (out of host memory for the cuDNN state)";
    return;
  }
  st->handle = handle;
  ctx->cudnn = st;
  ctx->conv_off_detail = "im2col + GEMM (cuDNN switched off on this context; available: " + api.detail + ")";
}

void conv_release(idemnet_cuda_context* ctx) {
  CudnnState* st = state(ctx);
  if (st == nullptr) return;
  st->plans.clear();
  if (st->workspace) idemnet_cuda_free(ctx, st->workspace);
  for (void* p : st->retired) idemnet_cuda_free(ctx, p);
  cudnn().destroy(st->handle);
  delete st;
  ctx->cudnn = nullptr;
}

int cudnn_conv_forward(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* x,
                       const float* weight, const float* bias, float* y, bool* done) {
  *done = false;
  Plan* plan = nullptr;
  TRY(plan_for(ctx, op, g, kForward, &plan));
  if (plan == nullptr) return IDEMNET_OK;
  CudnnState* st = state(ctx);
  const Choice& c = plan->choice[kForward];
  float one = 1.0f, zero = 0.0f;
  CUDNN_TRY(op, "convolution forward",
            cudnn().forward(st->handle, &one, plan->x, x, plan->w, weight, plan->conv, c.algo, st->workspace,
                            c.workspace, &zero, plan->y, y));
  *done = true;
  return add_bias(ctx, op, y, bias, g.n, g.o, g.p());
}

int cudnn_conv_backward_data(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* dy,
                             const float* weight, const float* bias, float* dx, bool* done) {
  *done = false;
  Plan* plan = nullptr;
  TRY(plan_for(ctx, op, g, kBackwardData, &plan));
  if (plan == nullptr) return IDEMNET_OK;
  CudnnState* st = state(ctx);
  const Choice& c = plan->choice[kBackwardData];
  float one = 1.0f, zero = 0.0f;
  CUDNN_TRY(op, "convolution backward data",
            cudnn().backward_data(st->handle, &one, plan->w, weight, plan->y, dy, plan->conv, c.algo,
                                  st->workspace, c.workspace, &zero, plan->x, dx));
  *done = true;
  return add_bias(ctx, op, dx, bias, g.n, g.c, g.h * g.w);
}

int cudnn_conv_backward_weight(idemnet_cuda_context* ctx, const char* op, const Geometry& g, const float* x,
                               const float* dy, float* dweight, float beta, bool* done) {
  *done = false;
  Plan* plan = nullptr;
  TRY(plan_for(ctx, op, g, kBackwardFilter, &plan));
  if (plan == nullptr) return IDEMNET_OK;
  CudnnState* st = state(ctx);
  const Choice& c = plan->choice[kBackwardFilter];
  float one = 1.0f;
  // beta 0 overwrites dweight without reading it; 1 adds to it.
  CUDNN_TRY(op, "convolution backward filter",
            cudnn().backward_filter(st->handle, &one, plan->x, x, plan->y, dy, plan->conv, c.algo,
                                    st->workspace, c.workspace, &beta, plan->w, dweight));
  *done = true;
  return IDEMNET_OK;
}

}  // namespace idemnet_cuda

extern "C" {

int idemnet_cuda_conv_engine(idemnet_cuda_context* ctx, int* is_cudnn, const char** detail) {
  return idemnet_cuda::with_context(ctx, "conv_engine", [&]() -> int {
    bool on = ctx->cudnn != nullptr && ctx->use_cudnn;
    if (is_cudnn) *is_cudnn = on ? 1 : 0;
    if (detail) *detail = on || ctx->cudnn == nullptr ? ctx->conv_detail.c_str() : ctx->conv_off_detail.c_str();
    return IDEMNET_OK;
  });
}

int idemnet_cuda_set_conv_engine(idemnet_cuda_context* ctx, int cudnn) {
  return idemnet_cuda::with_context(ctx, "set_conv_engine", [&]() -> int {
    if (cudnn != 0 && ctx->cudnn == nullptr) {
      return invalid("set_conv_engine", "cuDNN is not available: " + ctx->conv_detail);
    }
    ctx->use_cudnn = cudnn != 0;
    return IDEMNET_OK;
  });
}

}  // extern "C"
