// Convolutions: through cuDNN when the context has it (cudnn.cu), else (and for shapes cuDNN has
// no deterministic algorithm for) as im2col + GEMM. For a chunk of nb samples the column matrix is
// col [K = c kh kw, L = nb ho wo] (column index = sample * ho wo + position), so one GEMM per
// chunk does the work of nb per-sample GEMMs:
//   forward:        Yt [o, L] = W [o, K] col            then y[s, o, p] = Yt[o, s, p] + bias[o]
//   input gradient: dcol [K, L] = W^T dYt, dYt[o, s, p] = dy[s, o, p]; dx = col2im(dcol) + bias[c]
//   weight grad.:   dW [o, K] (+)= dYt col^T, chunks added in sample order
// col2im is a gather (each image element sums its taps in a fixed order), so no float atomics.
#include <climits>

#include "common.cuh"
#include "../shared/idemnet_math.h"

using idemnet_cuda::grid_for;
using idemnet_cuda::invalid;
using idemnet_cuda::kThreads;
using idemnet_cuda::launched;

namespace idemnet_cuda {
int context_gemm(idemnet_cuda_context* ctx, const char* op, int ta, int tb, int64_t m, int64_t n, int64_t k,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
}

namespace {

#define GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

using idemnet_cuda::Geometry;  // shared with the CPU library (idemnet_math.h)

int check(const char* op, const Geometry& g) {
  const char* problem = idemnet_math::conv_geometry_problem(g, INT_MAX);
  return problem ? invalid(op, problem) : IDEMNET_OK;
}

// Samples per chunk: the scratch (col and a transposed output, K L + o L floats) stays under
// kScratchFloats when it can, at least one sample, and L fits the 32-bit GEMM interface.
constexpr int64_t kScratchFloats = int64_t{32} << 20;  // 128 MiB

int64_t chunk_samples(const Geometry& g) {
  int64_t per_sample = (g.k() + g.o) * g.p();
  int64_t nb = per_sample > 0 ? kScratchFloats / per_sample : g.n;
  if (nb < 1) nb = 1;
  if (nb * g.p() > INT_MAX) nb = INT_MAX / g.p();
  return nb < g.n ? nb : g.n;
}

__global__ void im2col_kernel(const float* __restrict__ x, float* __restrict__ col, int64_t s0, int64_t nb,
                              int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                              int64_t ph, int64_t pw, int64_t ho, int64_t wo) {
  int64_t p = ho * wo, L = nb * p, total = c * kh * kw * L;
  GRID_STRIDE(idx, total) {
    int64_t r = idx / L, l = idx - r * L;
    int64_t ci = r / (kh * kw), rem = r - ci * kh * kw, i = rem / kw, j = rem - i * kw;
    int64_t s = l / p, q = l - s * p, oh = q / wo, ow = q - oh * wo;
    int64_t y = idemnet_math::conv_source(oh, sh, ph, i), xx = idemnet_math::conv_source(ow, sw, pw, j);
    col[idx] = y >= 0 && y < h && xx >= 0 && xx < w ? x[(((s0 + s) * c + ci) * h + y) * w + xx] : 0.0f;
  }
}

__global__ void col2im_kernel(const float* __restrict__ col, const float* __restrict__ bias, float* __restrict__ dx,
                              int64_t s0, int64_t nb, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                              int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t ho, int64_t wo) {
  int64_t p = ho * wo, L = nb * p, total = nb * c * h * w;
  GRID_STRIDE(idx, total) {
    int64_t xx = idx % w, t = idx / w, y = t % h;
    t /= h;
    int64_t ci = t % c, s = t / c;
    float acc = 0.0f;
    for (int64_t i = 0; i < kh; ++i) {
      int64_t ny = y + ph - i;
      if (ny < 0 || ny % sh != 0) continue;
      int64_t oh = ny / sh;
      if (oh >= ho) continue;
      for (int64_t j = 0; j < kw; ++j) {
        int64_t nx = xx + pw - j;
        if (nx < 0 || nx % sw != 0) continue;
        int64_t ow = nx / sw;
        if (ow >= wo) continue;
        acc += col[((ci * kh + i) * kw + j) * L + s * p + oh * wo + ow];
      }
    }
    dx[(s0 + s) * c * h * w + (ci * h + y) * w + xx] = bias ? acc + bias[ci] : acc;
  }
}

// t [o, nb, p] <- y samples [s0, s0 + nb) of [n, o, p]
__global__ void gather_transpose(const float* __restrict__ y, float* __restrict__ t, int64_t s0, int64_t nb,
                                 int64_t o, int64_t p) {
  int64_t total = o * nb * p;
  GRID_STRIDE(idx, total) {
    int64_t q = idx % p, r = idx / p, s = r % nb, oc = r / nb;
    t[idx] = y[((s0 + s) * o + oc) * p + q];
  }
}

// y samples [s0, s0 + nb) of [n, o, p] <- t [o, nb, p] + bias[o]
__global__ void scatter_transpose(const float* __restrict__ t, const float* __restrict__ bias, float* __restrict__ y,
                                  int64_t s0, int64_t nb, int64_t o, int64_t p) {
  int64_t total = nb * o * p;
  GRID_STRIDE(idx, total) {
    int64_t q = idx % p, r = idx / p, oc = r % o, s = r / o;
    float v = t[(oc * nb + s) * p + q];
    y[(s0 * o + r) * p + q] = bias ? v + bias[oc] : v;
  }
}

int im2col(const float* x, float* col, int64_t s0, int64_t nb, const Geometry& g, cudaStream_t st) {
  int64_t total = g.k() * nb * g.p();
  if (total == 0) return IDEMNET_OK;
  im2col_kernel<<<grid_for(total), kThreads, 0, st>>>(x, col, s0, nb, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph,
                                                     g.pw, g.ho, g.wo);
  return launched("im2col");
}

int col2im(const float* col, const float* bias, float* dx, int64_t s0, int64_t nb, const Geometry& g,
           cudaStream_t st) {
  int64_t total = nb * g.c * g.h * g.w;
  if (total == 0) return IDEMNET_OK;
  col2im_kernel<<<grid_for(total), kThreads, 0, st>>>(col, bias, dx, s0, nb, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw,
                                                     g.ph, g.pw, g.ho, g.wo);
  return launched("col2im");
}

#define TRY(expr)                        \
  do {                                   \
    int status_ = (expr);                \
    if (status_ != IDEMNET_OK) return status_; \
  } while (0)

}  // namespace

extern "C" {

int idemnet_cuda_conv2d_forward(idemnet_cuda_context* ctx, const float* x, const float* weight, const float* bias,
                                float* y, const idemnet_conv_geometry* geometry) {
  const char* op = "cuda_conv2d_forward";
  return idemnet_cuda::with_context(ctx, op, [&]() -> int {
    if (geometry == nullptr) return invalid(op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    const int64_t n = g.n, o = g.o;
    TRY(check(op, g));
    if (n == 0) return IDEMNET_OK;
    if (!x || !weight || !y) return invalid(op, "null buffer");
    bool done = false;
    TRY(idemnet_cuda::cudnn_conv_forward(ctx, op, g, x, weight, bias, y, &done));
    if (done) return IDEMNET_OK;
    int64_t nb = chunk_samples(g), K = g.k(), P = g.p();
    float* scratch = nullptr;
    TRY(idemnet_cuda::scratch(ctx, (size_t)((K + o) * nb * P) * sizeof(float), &scratch));
    float* col = scratch;
    float* yt = scratch + K * nb * P;
    for (int64_t s0 = 0; s0 < n; s0 += nb) {
      int64_t cnt = n - s0 < nb ? n - s0 : nb, L = cnt * P;
      TRY(im2col(x, col, s0, cnt, g, ctx->stream));
      TRY(idemnet_cuda::context_gemm(ctx, op, 0, 0, o, L, K, weight, K, col, L, 0.0f, yt, L));
      scatter_transpose<<<grid_for(o * L), kThreads, 0, ctx->stream>>>(yt, bias, y, s0, cnt, o, P);
      TRY(launched(op));
    }
    return IDEMNET_OK;
  });
}

int idemnet_cuda_conv2d_backward_data(idemnet_cuda_context* ctx, const float* dy, const float* weight,
                                      const float* bias, float* dx, const idemnet_conv_geometry* geometry) {
  const char* op = "cuda_conv2d_backward_data";
  return idemnet_cuda::with_context(ctx, op, [&]() -> int {
    if (geometry == nullptr) return invalid(op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    const int64_t n = g.n, o = g.o;
    TRY(check(op, g));
    if (n == 0) return IDEMNET_OK;
    if (!dy || !weight || !dx) return invalid(op, "null buffer");
    bool done = false;
    TRY(idemnet_cuda::cudnn_conv_backward_data(ctx, op, g, dy, weight, bias, dx, &done));
    if (done) return IDEMNET_OK;
    int64_t nb = chunk_samples(g), K = g.k(), P = g.p();
    float* scratch = nullptr;
    TRY(idemnet_cuda::scratch(ctx, (size_t)((K + o) * nb * P) * sizeof(float), &scratch));
    float* dcol = scratch;
    float* dyt = scratch + K * nb * P;
    for (int64_t s0 = 0; s0 < n; s0 += nb) {
      int64_t cnt = n - s0 < nb ? n - s0 : nb, L = cnt * P;
      gather_transpose<<<grid_for(o * L), kThreads, 0, ctx->stream>>>(dy, dyt, s0, cnt, o, P);
      TRY(launched(op));
      TRY(idemnet_cuda::context_gemm(ctx, op, 1, 0, K, L, o, weight, K, dyt, L, 0.0f, dcol, L));
      TRY(col2im(dcol, bias, dx, s0, cnt, g, ctx->stream));
    }
    return IDEMNET_OK;
  });
}

int idemnet_cuda_conv2d_backward_weight(idemnet_cuda_context* ctx, const float* x, const float* dy, float* dweight,
                                        float beta, const idemnet_conv_geometry* geometry) {
  const char* op = "cuda_conv2d_backward_weight";
  return idemnet_cuda::with_context(ctx, op, [&]() -> int {
    if (geometry == nullptr) return invalid(op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    const int64_t n = g.n, o = g.o;
    TRY(check(op, g));
    if (!(beta == 0.0f || beta == 1.0f)) return invalid(op, "beta must be 0 or 1");
    if (!dweight) return invalid(op, "null buffer");
    int64_t K = g.k(), P = g.p();
    if (n == 0 || P == 0) {
      if (beta == 0.0f) {
        cudaError_t err = cudaMemsetAsync(dweight, 0, (size_t)(o * K) * sizeof(float), ctx->stream);
        if (err != cudaSuccess) return idemnet_cuda::fail(op, err);
      }
      return IDEMNET_OK;
    }
    if (!x || !dy) return invalid(op, "null buffer");
    bool done = false;
    TRY(idemnet_cuda::cudnn_conv_backward_weight(ctx, op, g, x, dy, dweight, beta, &done));
    if (done) return IDEMNET_OK;
    int64_t nb = chunk_samples(g);
    float* scratch = nullptr;
    TRY(idemnet_cuda::scratch(ctx, (size_t)((K + o) * nb * P) * sizeof(float), &scratch));
    float* col = scratch;
    float* dyt = scratch + K * nb * P;
    for (int64_t s0 = 0; s0 < n; s0 += nb) {
      int64_t cnt = n - s0 < nb ? n - s0 : nb, L = cnt * P;
      TRY(im2col(x, col, s0, cnt, g, ctx->stream));
      gather_transpose<<<grid_for(o * L), kThreads, 0, ctx->stream>>>(dy, dyt, s0, cnt, o, P);
      TRY(launched(op));
      float b = s0 == 0 ? beta : 1.0f;
      TRY(idemnet_cuda::context_gemm(ctx, op, 0, 1, o, K, L, dyt, L, col, L, b, dweight, K));
    }
    return IDEMNET_OK;
  });
}

}  // extern "C"
