// 2-D convolution (NCHW, dilation 1, groups 1) by im2col / col2im and SGEMM, plus per-channel
// sums (the bias gradient). Per sample, with K = c*kh*kw and P = ho*wo:
//   forward:          y_n [o, P]  = W [o, K] * col(x_n) [K, P]        (+ bias[o])
//   backward data:    col [K, P]  = W^T [K, o] * dy_n [o, P];  dx_n = col2im(col) (+ bias[c])
//   backward weight:  dW [o, K]  += dy_n [o, P] * col(x_n)^T [P, K]
// col(x_n)[(ch*kh + i)*kw + j, oh*wo + ow] = x_n[ch, oh*sh - ph + i, ow*sw - pw + j] (0 outside).
// A 1x1 kernel with stride 1 and no padding needs no col buffer: col(x_n) is x_n itself.
//
// Threads: when the batch has enough samples (or each sample's GEMM is too small to be worth
// BLAS threads), samples are spread over the OpenMP team, each thread with its own col buffer
// and single-threaded GEMMs; the weight gradient then sums per-thread partials in thread order
// (deterministic for a given thread count). Otherwise samples go one by one with a threaded GEMM
// and im2col / col2im split over channels.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "common.h"
#include "parallel.h"

namespace {

using idemnet::invalid;

struct Geometry {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo;

  int64_t k() const { return c * kh * kw; }      // GEMM depth of the forward pass
  int64_t p() const { return ho * wo; }          // output positions per channel
  int64_t image() const { return c * h * w; }    // elements of one input sample
  int64_t output() const { return o * ho * wo; } // elements of one output sample
  bool direct() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

int check(const char* op, const Geometry& g) {
  if (g.n < 0 || g.h < 0 || g.w < 0) return invalid(op, "negative size");
  if (g.c < 1 || g.o < 1) return invalid(op, "channel counts must be positive");
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1) return invalid(op, "kernel and stride must be positive");
  if (g.ph < 0 || g.pw < 0) return invalid(op, "negative padding");
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw) return invalid(op, "kernel larger than the padded image");
  if (g.ho != (g.h + 2 * g.ph - g.kh) / g.sh + 1 || g.wo != (g.w + 2 * g.pw - g.kw) / g.sw + 1)
    return invalid(op, "output size does not match (h + 2p - k) / s + 1");
  if (g.k() > INT_MAX || g.p() > INT_MAX || g.o > INT_MAX)
    return invalid(op, "sizes exceed the 32-bit BLAS interface");
  return IDEMNET_OK;
}

// Below this many multiply-adds a GEMM runs on the calling thread (as in blas.cpp).
constexpr int64_t kSingleThreadMacs = 64 * 64 * 64;

// Row-major C = alpha op(A) op(B) + beta C; `single` keeps OpenBLAS on the calling thread.
void gemm(bool single, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  int previous = single ? openblas_set_num_threads_local(1) : 0;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
              (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
  if (single) openblas_set_num_threads_local(previous);
}

// ceil(a / b) and floor(a / b) for b > 0 and any sign of a.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Output columns ow whose input column ow*sw - pw + j lies inside [0, w): [lo, hi).
inline void valid_columns(const Geometry& g, int64_t j, int64_t& lo, int64_t& hi) {
  lo = std::max<int64_t>(0, ceil_div(g.pw - j, g.sw));
  hi = std::min<int64_t>(g.wo, floor_div(g.w - 1 + g.pw - j, g.sw) + 1);
  if (hi < lo) hi = lo;
}

// Rows of col(x_n) for channels [c0, c1).
IDEMNET_CLONES void im2col(const float* x, const Geometry& g, float* col, int64_t c0, int64_t c1) {
  for (int64_t ch = c0; ch < c1; ++ch) {
    const float* xc = x + ch * g.h * g.w;
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j = 0; j < g.kw; ++j) {
        float* dst = col + ((ch * g.kh + i) * g.kw + j) * g.p();
        int64_t lo, hi;
        valid_columns(g, j, lo, hi);
        for (int64_t oh = 0; oh < g.ho; ++oh) {
          float* row = dst + oh * g.wo;
          int64_t ih = oh * g.sh - g.ph + i;
          if (ih < 0 || ih >= g.h) {
            for (int64_t ow = 0; ow < g.wo; ++ow) row[ow] = 0.0f;
            continue;
          }
          const float* src = xc + ih * g.w - g.pw + j;
          for (int64_t ow = 0; ow < lo; ++ow) row[ow] = 0.0f;
          if (g.sw == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) row[ow] = src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) row[ow] = src[ow * g.sw];
          }
          for (int64_t ow = hi; ow < g.wo; ++ow) row[ow] = 0.0f;
        }
      }
    }
  }
}

// dx_n[c0:c1] = (bias[c] or 0) + the col entries that im2col would have read from each element.
IDEMNET_CLONES void col2im(const float* col, const float* bias, const Geometry& g, float* dx,
                           int64_t c0, int64_t c1) {
  for (int64_t ch = c0; ch < c1; ++ch) {
    float* xc = dx + ch * g.h * g.w;
    float init = bias ? bias[ch] : 0.0f;
    for (int64_t e = 0; e < g.h * g.w; ++e) xc[e] = init;
    for (int64_t i = 0; i < g.kh; ++i) {
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* src = col + ((ch * g.kh + i) * g.kw + j) * g.p();
        int64_t lo, hi;
        valid_columns(g, j, lo, hi);
        for (int64_t oh = 0; oh < g.ho; ++oh) {
          int64_t ih = oh * g.sh - g.ph + i;
          if (ih < 0 || ih >= g.h) continue;
          const float* row = src + oh * g.wo;
          float* dst = xc + ih * g.w - g.pw + j;
          if (g.sw == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] += row[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.sw] += row[ow];
          }
        }
      }
    }
  }
}

// y_n[o, :] = bias[o], the starting value of a GEMM with beta = 1.
IDEMNET_CLONES void fill_bias(const float* bias, int64_t channels, int64_t len, float* y) {
  for (int64_t ch = 0; ch < channels; ++ch) {
    float* yc = y + ch * len;
    for (int64_t e = 0; e < len; ++e) yc[e] = bias[ch];
  }
}

IDEMNET_CLONES void add_partial(const float* part, float* out, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) out[i] += part[i];
}

// Spread samples over threads?
bool by_sample(const Geometry& g) {
  int threads = omp_get_max_threads();
  int64_t macs = g.o * g.k() * g.p();
  return threads > 1 && g.n > 1 && (g.n >= threads || macs <= kSingleThreadMacs);
}

// Samples handled by thread t of `threads` (static, contiguous).
inline void sample_range(const Geometry& g, int threads, int t, int64_t& b, int64_t& e) {
  int64_t per = (g.n + threads - 1) / threads;
  b = std::min(g.n, t * per);
  e = std::min(g.n, b + per);
}

// ---------------------------------------------------------------------------- per-sample steps

void forward_sample(const Geometry& g, bool single, const float* xn, const float* weight,
                    const float* bias, float* yn, float* col) {
  const float* cols = xn;
  if (!g.direct()) {
    if (single) {
      im2col(xn, g, col, 0, g.c);
    } else {
      idemnet::parallel_items(g.c, g.k() * g.p(), [&](int64_t c0, int64_t c1) { im2col(xn, g, col, c0, c1); });
    }
    cols = col;
  }
  if (bias) fill_bias(bias, g.o, g.p(), yn);
  bool small = single || g.o * g.k() * g.p() <= kSingleThreadMacs;
  gemm(small, false, false, g.o, g.p(), g.k(), weight, g.k(), cols, g.p(), bias ? 1.0f : 0.0f, yn, g.p());
}

void data_sample(const Geometry& g, bool single, const float* dyn, const float* weight,
                 const float* bias, float* dxn, float* col) {
  bool small = single || g.o * g.k() * g.p() <= kSingleThreadMacs;
  if (g.direct()) {
    if (bias) fill_bias(bias, g.c, g.p(), dxn);
    gemm(small, true, false, g.k(), g.p(), g.o, weight, g.k(), dyn, g.p(), bias ? 1.0f : 0.0f, dxn, g.p());
    return;
  }
  gemm(small, true, false, g.k(), g.p(), g.o, weight, g.k(), dyn, g.p(), 0.0f, col, g.p());
  if (single) {
    col2im(col, bias, g, dxn, 0, g.c);
  } else {
    idemnet::parallel_items(g.c, g.k() * g.p(), [&](int64_t c0, int64_t c1) { col2im(col, bias, g, dxn, c0, c1); });
  }
}

void weight_sample(const Geometry& g, bool single, const float* xn, const float* dyn, float beta,
                   float* dw, float* col) {
  const float* cols = xn;
  if (!g.direct()) {
    if (single) {
      im2col(xn, g, col, 0, g.c);
    } else {
      idemnet::parallel_items(g.c, g.k() * g.p(), [&](int64_t c0, int64_t c1) { im2col(xn, g, col, c0, c1); });
    }
    cols = col;
  }
  bool small = single || g.o * g.k() * g.p() <= kSingleThreadMacs;
  gemm(small, false, true, g.o, g.k(), g.p(), dyn, g.p(), cols, g.p(), beta, dw, g.k());
}

size_t col_size(const Geometry& g) { return g.direct() ? 0 : (size_t)(g.k() * g.p()); }

// Per-channel sums of x [n, c, hw] for channels [c0, c1).
IDEMNET_CLONES void channel_sums_chunk(const float* x, int64_t n, int64_t c, int64_t hw, float beta,
                                       float* out, int64_t c0, int64_t c1) {
  for (int64_t ch = c0; ch < c1; ++ch) {
    double acc = 0.0;
    for (int64_t s = 0; s < n; ++s) {
      const float* xs = x + (s * c + ch) * hw;
      double part = 0.0;
#pragma omp simd reduction(+ : part)
      for (int64_t e = 0; e < hw; ++e) part += (double)xs[e];
      acc += part;
    }
    out[ch] = (float)((beta == 0.0f ? 0.0 : (double)beta * out[ch]) + acc);
  }
}

}  // namespace

extern "C" {

int idemnet_conv2d_forward(const float* x, const float* weight, const float* bias, float* y,
                           int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh,
                           int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t ho,
                           int64_t wo) {
  return idemnet::guarded("conv2d_forward", [&] {
    const char* op = "conv2d_forward";
    Geometry g{n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo};
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    if (n == 0 || g.p() == 0) return IDEMNET_OK;
    IDEMNET_REQUIRE(x && weight && y, op, "null buffer");
    if (by_sample(g)) {
      int threads = omp_get_max_threads();
      std::vector<float> cols(col_size(g) * threads);  // allocated outside the parallel region
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num();
        int64_t b, e;
        sample_range(g, omp_get_num_threads(), t, b, e);
        for (int64_t s = b; s < e; ++s)
          forward_sample(g, true, x + s * g.image(), weight, bias, y + s * g.output(),
                         cols.data() + col_size(g) * t);
      }
    } else {
      std::vector<float> col(col_size(g));
      for (int64_t s = 0; s < n; ++s)
        forward_sample(g, false, x + s * g.image(), weight, bias, y + s * g.output(), col.data());
    }
    return IDEMNET_OK;
  });
}

int idemnet_conv2d_backward_data(const float* dy, const float* weight, const float* bias,
                                 float* dx, int64_t n, int64_t c, int64_t h, int64_t w, int64_t o,
                                 int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                 int64_t pw, int64_t ho, int64_t wo) {
  return idemnet::guarded("conv2d_backward_data", [&] {
    const char* op = "conv2d_backward_data";
    Geometry g{n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo};
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    if (n == 0 || g.image() == 0) return IDEMNET_OK;
    IDEMNET_REQUIRE(dy && weight && dx, op, "null buffer");
    // The col buffer is always needed here unless the kernel is direct (1x1, stride 1, no pad).
    if (by_sample(g)) {
      int threads = omp_get_max_threads();
      std::vector<float> cols(col_size(g) * threads);
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num();
        int64_t b, e;
        sample_range(g, omp_get_num_threads(), t, b, e);
        for (int64_t s = b; s < e; ++s)
          data_sample(g, true, dy + s * g.output(), weight, bias, dx + s * g.image(),
                      cols.data() + col_size(g) * t);
      }
    } else {
      std::vector<float> col(col_size(g));
      for (int64_t s = 0; s < n; ++s)
        data_sample(g, false, dy + s * g.output(), weight, bias, dx + s * g.image(), col.data());
    }
    return IDEMNET_OK;
  });
}

int idemnet_conv2d_backward_weight(const float* x, const float* dy, float* dweight, float beta,
                                   int64_t n, int64_t c, int64_t h, int64_t w, int64_t o,
                                   int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                   int64_t pw, int64_t ho, int64_t wo) {
  return idemnet::guarded("conv2d_backward_weight", [&] {
    const char* op = "conv2d_backward_weight";
    Geometry g{n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo};
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    IDEMNET_REQUIRE(beta == 0.0f || beta == 1.0f, op, "beta must be 0 or 1");
    IDEMNET_REQUIRE(dweight, op, "null buffer");
    int64_t wsize = g.o * g.k();
    if (n == 0 || g.p() == 0) {
      if (beta == 0.0f) std::fill(dweight, dweight + wsize, 0.0f);
      return IDEMNET_OK;
    }
    IDEMNET_REQUIRE(x && dy, op, "null buffer");
    if (by_sample(g)) {
      int threads = omp_get_max_threads();
      std::vector<float> cols(col_size(g) * threads);
      std::vector<float> partials((size_t)wsize * threads, 0.0f);
      int used = 1;
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num();
#pragma omp single
        used = omp_get_num_threads();
        int64_t b, e;
        sample_range(g, omp_get_num_threads(), t, b, e);
        float* part = partials.data() + (size_t)wsize * t;
        for (int64_t s = b; s < e; ++s)
          weight_sample(g, true, x + s * g.image(), dy + s * g.output(), s == b ? 0.0f : 1.0f, part,
                        cols.data() + col_size(g) * t);
      }
      // dW = beta dW + partials in thread order (threads with no samples left theirs at zero).
      if (beta == 0.0f) std::memcpy(dweight, partials.data(), (size_t)wsize * sizeof(float));
      for (int t = beta == 0.0f ? 1 : 0; t < used; ++t) {
        const float* part = partials.data() + (size_t)wsize * t;
        idemnet::parallel_for(wsize, [&](int64_t b, int64_t e) { add_partial(part, dweight, b, e); });
      }
    } else {
      std::vector<float> col(col_size(g));
      for (int64_t s = 0; s < n; ++s)
        weight_sample(g, false, x + s * g.image(), dy + s * g.output(), s == 0 ? beta : 1.0f, dweight,
                      col.data());
    }
    return IDEMNET_OK;
  });
}

int idemnet_channel_sums(const float* x, int64_t n, int64_t c, int64_t hw, float beta, float* out) {
  return idemnet::guarded("channel_sums", [&] {
    const char* op = "channel_sums";
    IDEMNET_REQUIRE(n >= 0 && c >= 0 && hw >= 0, op, "negative size");
    IDEMNET_REQUIRE(c == 0 || (out && (n * hw == 0 || x)), op, "null buffer");
    idemnet::parallel_items(c, n * c * hw, [&](int64_t c0, int64_t c1) {
      channel_sums_chunk(x, n, c, hw, beta, out, c0, c1);
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
