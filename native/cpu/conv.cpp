// 2-D convolution (NCHW, dilation 1, groups 1) by im2col / col2im and SGEMM, plus per-channel
// sums (the bias gradient). Per sample, with K = c*kh*kw and P = ho*wo:
//   forward:          y_n [o, P]  = W [o, K] * col(x_n) [K, P]        (+ bias[o])
//   backward data:    col [K, P]  = W^T [K, o] * dy_n [o, P];  dx_n = col2im(col) (+ bias[c])
//   backward weight:  dW [o, K]  += dy_n [o, P] * col(x_n)^T [P, K]
// col(x_n)[(ch*kh + i)*kw + j, oh*wo + ow] = x_n[ch, oh*sh - ph + i, ow*sw - pw + j] (0 outside).
// Samples are processed in chunks (one GEMM per chunk, see `lower` below); threads come from
// OpenBLAS inside the GEMM and from OpenMP over (sample, channel) items in the copies.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
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

// Row-major C = op(A) op(B) + beta C, threaded by OpenBLAS.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
              (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
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

// A chunk of `nb` samples is lowered to one GEMM: the col matrix is [K, nb*P] (row stride
// ld = nb*P), sample s of the chunk owning columns [s*P, (s+1)*P). One GEMM per chunk instead of
// one per sample matters for the deep layers, whose P is 1..9: per sample those GEMMs are
// matrix-vector products that read the whole weight matrix for a handful of outputs.
// Each work item is done by one thread, so results do not depend on the thread count except
// through OpenBLAS's own (fixed) partitioning.

// Work items below are (channel, block of up to kSampleBlock samples) with the samples innermost,
// so that each col row (or each row of `rows`) is written front to back: per (sample, channel)
// items would write P floats to each of kh*kw rows ld floats apart, touching a new page per row.
constexpr int64_t kSampleBlock = 16;

inline int64_t sample_blocks(int64_t nb) { return (nb + kSampleBlock - 1) / kSampleBlock; }

// The rows of channel ch for chunk samples [sb, se) (chunk sample s is x + s * image), at column
// offset s*P of a col matrix with row stride ld.
IDEMNET_CLONES void im2col_channel(const float* x, const Geometry& g, int64_t ch, int64_t sb, int64_t se,
                                   float* col, int64_t ld) {
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      int64_t lo, hi;
      valid_columns(g, j, lo, hi);
      for (int64_t s = sb; s < se; ++s) {
        const float* xc = x + s * g.image() + ch * g.h * g.w;
        float* dst = col + ((ch * g.kh + i) * g.kw + j) * ld + s * g.p();
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

// dx_s[ch] = (bias[ch] or 0) + every col entry that im2col would have read from each element, for
// chunk samples [sb, se) (chunk sample s is dx + s * image).
IDEMNET_CLONES void col2im_channel(const float* col, int64_t ld, const float* bias, const Geometry& g,
                                   int64_t ch, int64_t sb, int64_t se, float* dx) {
  float init = bias ? bias[ch] : 0.0f;
  for (int64_t s = sb; s < se; ++s) {
    float* xc = dx + s * g.image() + ch * g.h * g.w;
    for (int64_t e = 0; e < g.h * g.w; ++e) xc[e] = init;
  }
  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      int64_t lo, hi;
      valid_columns(g, j, lo, hi);
      for (int64_t s = sb; s < se; ++s) {
        float* xc = dx + s * g.image() + ch * g.h * g.w;
        const float* src = col + ((ch * g.kh + i) * g.kw + j) * ld + s * g.p();
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

// Copies `len` floats from src to dst, adding `add`.
IDEMNET_CLONES void copy_add(const float* src, float add, int64_t len, float* dst) {
  for (int64_t e = 0; e < len; ++e) dst[e] = src[e] + add;
}

// Calls fn(channel, sb, se) for every (channel, sample block) item of `channels` x `nb` samples,
// spread over the OpenMP team; `work` (elements) decides whether threads are worth waking.
template <class F>
void for_channel_blocks(int64_t channels, int64_t nb, int64_t work, F&& fn) {
  int64_t blocks = sample_blocks(nb);
  idemnet::parallel_items(channels * blocks, work, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      int64_t ch = item / blocks, sb = (item % blocks) * kSampleBlock;
      fn(ch, sb, std::min(nb, sb + kSampleBlock));
    }
  });
}

// Grow-only scratch memory per calling thread, so the hot path does not allocate (and fault in)
// megabytes per call. It is kept until the thread ends: at most the chunk budget below, twice.
struct Scratch {
  std::unique_ptr<float[]> data;
  size_t size = 0;
  float* get(size_t n) {
    if (n > size) {
      data.reset();  // release before allocating the larger buffer
      data.reset(new float[n]);
      size = n;
    }
    return data.get();
  }
};
thread_local Scratch scratch_col, scratch_rows;

// Floats per scratch buffer a chunk may use (32 MiB); a chunk has at least one sample.
constexpr int64_t kChunkFloats = int64_t{8} << 20;

int64_t chunk_samples(const Geometry& g) {
  int64_t per_sample = std::max<int64_t>(std::max(g.k(), g.o) * g.p(), 1);
  return std::max<int64_t>(1, std::min<int64_t>(g.n, kChunkFloats / per_sample));
}

// col [K, nb*P] for samples [s0, s0 + nb) of x.
void lower(const float* x, const Geometry& g, int64_t s0, int64_t nb, float* col) {
  int64_t ld = nb * g.p();
  const float* xs = x + s0 * g.image();
  for_channel_blocks(g.c, nb, g.k() * ld, [&](int64_t ch, int64_t sb, int64_t se) {
    im2col_channel(xs, g, ch, sb, se, col, ld);
  });
}

// rows [o, nb*P] from dy [nb, o, P] (samples [s0, s0 + nb)).
void gather_rows(const float* dy, const Geometry& g, int64_t s0, int64_t nb, float* rows) {
  int64_t ld = nb * g.p();
  for_channel_blocks(g.o, nb, g.o * ld, [&](int64_t oc, int64_t sb, int64_t se) {
    for (int64_t s = sb; s < se; ++s)
      copy_add(dy + (s0 + s) * g.output() + oc * g.p(), 0.0f, g.p(), rows + oc * ld + s * g.p());
  });
}

// y [nb, o, P] (samples [s0, s0 + nb)) = rows [o, nb*P] + bias[o].
void scatter_rows(const float* rows, const float* bias, const Geometry& g, int64_t s0, int64_t nb,
                  float* y) {
  int64_t ld = nb * g.p();
  for_channel_blocks(g.o, nb, g.o * ld, [&](int64_t oc, int64_t sb, int64_t se) {
    for (int64_t s = sb; s < se; ++s)
      copy_add(rows + oc * ld + s * g.p(), bias ? bias[oc] : 0.0f, g.p(), y + (s0 + s) * g.output() + oc * g.p());
  });
}

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
    int64_t chunk = chunk_samples(g);
    float* col = scratch_col.get((size_t)(g.k() * chunk * g.p()));
    float* rows = scratch_rows.get((size_t)(g.o * chunk * g.p()));
    for (int64_t s0 = 0; s0 < n; s0 += chunk) {
      int64_t nb = std::min(chunk, n - s0), ld = nb * g.p();
      lower(x, g, s0, nb, col);
      gemm(false, false, g.o, ld, g.k(), weight, g.k(), col, ld, 0.0f, rows, ld);
      scatter_rows(rows, bias, g, s0, nb, y);
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
    int64_t chunk = chunk_samples(g);
    float* col = scratch_col.get((size_t)(g.k() * chunk * g.p()));
    float* rows = scratch_rows.get((size_t)(g.o * chunk * g.p()));
    for (int64_t s0 = 0; s0 < n; s0 += chunk) {
      int64_t nb = std::min(chunk, n - s0), ld = nb * g.p();
      gather_rows(dy, g, s0, nb, rows);
      gemm(true, false, g.k(), ld, g.o, weight, g.k(), rows, ld, 0.0f, col, ld);
      for_channel_blocks(g.c, nb, g.k() * ld, [&](int64_t ch, int64_t sb, int64_t se) {
        col2im_channel(col, ld, bias, g, ch, sb, se, dx + s0 * g.image());
      });
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
    int64_t chunk = chunk_samples(g);
    float* col = scratch_col.get((size_t)(g.k() * chunk * g.p()));
    float* rows = scratch_rows.get((size_t)(g.o * chunk * g.p()));
    for (int64_t s0 = 0; s0 < n; s0 += chunk) {
      int64_t nb = std::min(chunk, n - s0), ld = nb * g.p();
      lower(x, g, s0, nb, col);
      gather_rows(dy, g, s0, nb, rows);
      gemm(false, true, g.o, g.k(), ld, rows, ld, col, ld, s0 == 0 ? beta : 1.0f, dweight, g.k());
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
