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
#include "../shared/idemnet_math.h"
#include "parallel.h"

namespace {

using idemnet::invalid;

// The geometry and its validation are shared with the CUDA library (idemnet_math.h).
using Geometry = idemnet_math::ConvGeometry;

int check(const char* op, const Geometry& g) {
  const char* problem = idemnet_math::conv_geometry_problem(g, INT_MAX);
  return problem ? invalid(op, problem) : IDEMNET_OK;
}

// Row-major C = op(A) op(B) + beta C; `single` keeps OpenBLAS on the calling thread (used inside
// our own parallel region; openblas_set_num_threads_local affects only the calling thread).
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

// One col row for stride 1 when output and input rows have the same width (e.g. 3x3, padding 1):
// dst[d] = x[d + delta] with delta = (i - ph) w + (j - pw) is then one contiguous copy, zero where
// d + delta leaves the image; only the edge columns ow outside [lo, hi), which read the
// neighbouring row, are zeroed afterwards.
IDEMNET_CLONES void shifted_copy(const float* xc, const Geometry& g, int64_t i, int64_t j, int64_t lo,
                                 int64_t hi, float* dst) {
  int64_t p = g.p(), delta = (i - g.ph) * g.w + (j - g.pw);
  int64_t b = std::min(p, std::max<int64_t>(0, -delta));
  int64_t e = std::max(b, std::min(p, g.h * g.w - delta));
  for (int64_t d = 0; d < b; ++d) dst[d] = 0.0f;
  for (int64_t d = b; d < e; ++d) dst[d] = xc[d + delta];
  for (int64_t d = e; d < p; ++d) dst[d] = 0.0f;
  if (lo > 0 || hi < g.wo) {
    for (int64_t oh = 0; oh < g.ho; ++oh) {
      float* row = dst + oh * g.wo;
      for (int64_t ow = 0; ow < lo; ++ow) row[ow] = 0.0f;
      for (int64_t ow = hi; ow < g.wo; ++ow) row[ow] = 0.0f;
    }
  }
}

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
        if (g.sh == 1 && g.sw == 1 && g.wo == g.w) {
          shifted_copy(xc, g, i, j, lo, hi, dst);
          continue;
        }
        for (int64_t oh = 0; oh < g.ho; ++oh) {
          float* row = dst + oh * g.wo;
          int64_t ih = idemnet_math::conv_source(oh, g.sh, g.ph, i);
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
          int64_t ih = idemnet_math::conv_source(oh, g.sh, g.ph, i);
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

IDEMNET_CLONES void add_partial(const float* part, float* out, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; ++i) out[i] += part[i];
}

// Copies `len` floats from src to dst, adding `add`.
IDEMNET_CLONES void copy_add(const float* src, float add, int64_t len, float* dst) {
  for (int64_t e = 0; e < len; ++e) dst[e] = src[e] + add;
}

// Calls fn(channel, sb, se) for every (channel, sample block) item of `channels` x `nb` samples,
// spread over the OpenMP team unless `single`; `work` (elements) decides whether threads are
// worth waking.
template <class F>
void for_channel_blocks(bool single, int64_t channels, int64_t nb, int64_t work, F&& fn) {
  int64_t blocks = sample_blocks(nb);
  idemnet::parallel_items(channels * blocks, single ? 0 : work, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) {
      int64_t ch = item / blocks, sb = (item % blocks) * kSampleBlock;
      fn(ch, sb, std::min(nb, sb + kSampleBlock));
    }
  });
}

// Grow-only scratch memory per calling thread, so the hot path does not allocate (and fault in)
// megabytes per call. It is kept until the thread ends (OpenMP's threads persist): per thread at
// most twice its share of the chunk budget below, plus the weight-gradient partials.
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
thread_local Scratch scratch_col, scratch_rows, scratch_partials;

// Below this many multiply-adds (~0.1 ms on one core) a conv with fewer samples than threads
// runs on the calling thread (e.g. the FPN's power iteration on one feature map per step).
constexpr int64_t kSingleThreadMacs = int64_t{1} << 22;

// Floats per scratch buffer that the chunks in flight may use together (4 MiB): each thread's col
// chunk then stays in cache between im2col and the GEMM. On the 2-vCPU dev VM (2026-11-23),
// 3x3 convs on 128 x 48 x 7 x 7 and 64 x 64 x 28 x 28 ran 8-15 % faster than with 32 MiB.
constexpr int64_t kChunkFloats = int64_t{1} << 20;

// A chunk keeps at least this many GEMM columns (samples x output positions) whatever its size:
// narrower GEMMs tend to matrix-vector products (a 64 -> 128 conv onto 7 x 7 took 2x as long
// with one sample a chunk).
constexpr int64_t kMinChunkColumns = 512;

// Samples per chunk when the chunks in flight share `budget` floats of scratch.
int64_t chunk_samples(const Geometry& g, int64_t budget) {
  int64_t per_sample = std::max<int64_t>(std::max(g.k(), g.o) * g.p(), 1);
  int64_t floor = (kMinChunkColumns + g.p() - 1) / std::max<int64_t>(g.p(), 1);
  return std::max<int64_t>({int64_t{1}, budget / per_sample, floor});
}

// Whether for_chunks spreads samples over the OpenMP team.
bool splits_samples(const Geometry& g) {
  int threads = omp_get_max_threads();
  return threads > 1 && g.n >= threads && !omp_in_parallel();
}

// Runs body(t, team, s0, nb, single) over chunks [s0, s0 + nb) covering [0, n). With at least as many
// samples as threads, OpenMP thread t takes the contiguous range [n t / T, n (t+1) / T) and runs
// its chunks with single-threaded BLAS and copies (`single`): no hand-offs between our threads
// and OpenBLAS's, whose spinning would otherwise compete with ours. With fewer samples, chunks
// go one by one (t = 0, team = 1) with threaded BLAS and copies (single-threaded for convs of at
// most kSingleThreadMacs, or when called from inside a parallel region). Returns the team size.
template <class F>
int for_chunks(const Geometry& g, F&& body) {
  int threads = omp_get_max_threads();
  if (splits_samples(g)) {
    int64_t chunk = chunk_samples(g, kChunkFloats / threads);
    int used = threads;
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), team = omp_get_num_threads();
#pragma omp single
      used = team;
      int64_t b = g.n * t / team, e = g.n * (t + 1) / team;
      for (int64_t s0 = b; s0 < e; s0 += chunk) body(t, team, s0, std::min(chunk, e - s0), true);
    }
    return used;
  }
  // Small work stays on this thread: waking threads costs more than it saves, and a woken
  // OpenBLAS pool keeps spinning against our OpenMP threads for a while afterwards.
  int64_t chunk = chunk_samples(g, kChunkFloats);
  bool small = g.n * g.o * g.k() * g.p() <= kSingleThreadMacs;
  for (int64_t s0 = 0; s0 < g.n; s0 += chunk)
    body(0, 1, s0, std::min(chunk, g.n - s0), small || omp_in_parallel() != 0);
  return 1;
}

// col [K, nb*P] for samples [s0, s0 + nb) of x.
void lower(bool single, const float* x, const Geometry& g, int64_t s0, int64_t nb, float* col) {
  int64_t ld = nb * g.p();
  const float* xs = x + s0 * g.image();
  for_channel_blocks(single, g.c, nb, g.k() * ld, [&](int64_t ch, int64_t sb, int64_t se) {
    im2col_channel(xs, g, ch, sb, se, col, ld);
  });
}

// rows [o, nb*P] from dy [nb, o, P] (samples [s0, s0 + nb)).
void gather_rows(bool single, const float* dy, const Geometry& g, int64_t s0, int64_t nb, float* rows) {
  int64_t ld = nb * g.p();
  for_channel_blocks(single, g.o, nb, g.o * ld, [&](int64_t oc, int64_t sb, int64_t se) {
    for (int64_t s = sb; s < se; ++s)
      copy_add(dy + (s0 + s) * g.output() + oc * g.p(), 0.0f, g.p(), rows + oc * ld + s * g.p());
  });
}

// y [nb, o, P] (samples [s0, s0 + nb)) = rows [o, nb*P] + bias[o].
void scatter_rows(bool single, const float* rows, const float* bias, const Geometry& g, int64_t s0, int64_t nb,
                  float* y) {
  int64_t ld = nb * g.p();
  for_channel_blocks(single, g.o, nb, g.o * ld, [&](int64_t oc, int64_t sb, int64_t se) {
    for (int64_t s = sb; s < se; ++s)
      copy_add(rows + oc * ld + s * g.p(), bias ? bias[oc] : 0.0f, g.p(), y + (s0 + s) * g.output() + oc * g.p());
  });
}

// Whether the forward GEMM of a chunk with ld = nb*P columns runs as [nb*P, o] = col^T W^T
// instead of [o, nb*P] = W col: with OpenBLAS on the dev VM that was faster when both the
// positions and the depth K exceed the output channels 8-fold (the FPN's 48 -> 48 3x3 conv on
// 7x7 maps: 7.4 vs 8.7 ms for 128 samples; 64 -> 64 on 28x28: 66 vs 72 ms), and up to 2x slower
// otherwise (64 -> 128 4x4 onto 7x7; 1 -> 64 with K = 16), where the first form stays.
bool positions_major(const Geometry& g, int64_t ld) { return ld >= 8 * g.o && g.k() >= 8 * g.o; }

// y [nb, o, P] (samples [s0, s0 + nb)) = positions [nb*P, o] (the transposed GEMM result) + bias[o].
void scatter_positions(bool single, const float* positions, const float* bias, const Geometry& g, int64_t s0,
                       int64_t nb, float* y) {
  for_channel_blocks(single, g.o, nb, g.o * nb * g.p(), [&](int64_t oc, int64_t sb, int64_t se) {
    float add = bias ? bias[oc] : 0.0f;
    for (int64_t s = sb; s < se; ++s) {
      const float* src = positions + s * g.p() * g.o + oc;
      float* dst = y + (s0 + s) * g.output() + oc * g.p();
      for (int64_t q = 0; q < g.p(); ++q) dst[q] = src[q * g.o] + add;
    }
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

int idemnet_conv2d_forward(idemnet_context* ctx, const float* x, const float* weight,
                           const float* bias, float* y, const idemnet_conv_geometry* geometry) {
  return idemnet::with_context(ctx, "conv2d_forward", [&] {
    const char* op = "conv2d_forward";
    IDEMNET_REQUIRE(geometry, op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    if (g.n == 0) return IDEMNET_OK;
    IDEMNET_REQUIRE(x && weight && y, op, "null buffer");
    for_chunks(g, [&](int, int, int64_t s0, int64_t nb, bool single) {
      int64_t ld = nb * g.p();
      float* col = scratch_col.get((size_t)(g.k() * ld));
      float* rows = scratch_rows.get((size_t)(g.o * ld));
      lower(single, x, g, s0, nb, col);
      if (positions_major(g, ld)) {
        gemm(single, true, true, ld, g.o, g.k(), col, ld, weight, g.k(), 0.0f, rows, g.o);
        scatter_positions(single, rows, bias, g, s0, nb, y);
      } else {
        gemm(single, false, false, g.o, ld, g.k(), weight, g.k(), col, ld, 0.0f, rows, ld);
        scatter_rows(single, rows, bias, g, s0, nb, y);
      }
    });
    return IDEMNET_OK;
  });
}

int idemnet_conv2d_backward_data(idemnet_context* ctx, const float* dy, const float* weight,
                                 const float* bias, float* dx,
                                 const idemnet_conv_geometry* geometry) {
  return idemnet::with_context(ctx, "conv2d_backward_data", [&] {
    const char* op = "conv2d_backward_data";
    IDEMNET_REQUIRE(geometry, op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    if (g.n == 0) return IDEMNET_OK;
    IDEMNET_REQUIRE(dy && weight && dx, op, "null buffer");
    for_chunks(g, [&](int, int, int64_t s0, int64_t nb, bool single) {
      int64_t ld = nb * g.p();
      float* col = scratch_col.get((size_t)(g.k() * ld));
      float* rows = scratch_rows.get((size_t)(g.o * ld));
      gather_rows(single, dy, g, s0, nb, rows);
      gemm(single, true, false, g.k(), ld, g.o, weight, g.k(), rows, ld, 0.0f, col, ld);
      for_channel_blocks(single, g.c, nb, g.k() * ld, [&](int64_t ch, int64_t sb, int64_t se) {
        col2im_channel(col, ld, bias, g, ch, sb, se, dx + s0 * g.image());
      });
    });
    return IDEMNET_OK;
  });
}

int idemnet_conv2d_backward_weight(idemnet_context* ctx, const float* x, const float* dy,
                                   float* dweight, float beta,
                                   const idemnet_conv_geometry* geometry) {
  return idemnet::with_context(ctx, "conv2d_backward_weight", [&] {
    const char* op = "conv2d_backward_weight";
    IDEMNET_REQUIRE(geometry, op, "null geometry");
    const Geometry g = idemnet_math::conv_geometry_of(*geometry);
    int status = check(op, g);
    if (status != IDEMNET_OK) return status;
    IDEMNET_REQUIRE(beta == 0.0f || beta == 1.0f, op, "beta must be 0 or 1");
    IDEMNET_REQUIRE(dweight, op, "null buffer");
    int64_t wsize = g.o * g.k();
    if (g.n == 0) {
      if (beta == 0.0f) std::fill(dweight, dweight + wsize, 0.0f);
      return IDEMNET_OK;
    }
    IDEMNET_REQUIRE(x && dy, op, "null buffer");
    // Each thread sums its samples into its own partial (thread 0's is dweight itself when the
    // chunks run one by one); partials are then added in thread order, so the result is
    // deterministic for a given thread count.
    float* partials = splits_samples(g) ? scratch_partials.get((size_t)(wsize * omp_get_max_threads())) : nullptr;
    int used = for_chunks(g, [&](int t, int team, int64_t s0, int64_t nb, bool single) {
      int64_t ld = nb * g.p();
      float* col = scratch_col.get((size_t)(g.k() * ld));
      float* rows = scratch_rows.get((size_t)(g.o * ld));
      lower(single, x, g, s0, nb, col);
      gather_rows(single, dy, g, s0, nb, rows);
      bool first = s0 == g.n * t / team;
      float* out = team > 1 ? partials + wsize * t : dweight;
      float b = first ? (team > 1 ? 0.0f : beta) : 1.0f;
      gemm(single, false, true, g.o, g.k(), ld, rows, ld, col, ld, b, out, g.k());
    });
    if (used > 1) {
      for (int t = 0; t < used; ++t) {
        const float* part = partials + wsize * t;
        if (t == 0 && beta == 0.0f) {
          std::memcpy(dweight, part, (size_t)wsize * sizeof(float));
        } else {
          idemnet::parallel_for(wsize, [&](int64_t b, int64_t e) { add_partial(part, dweight, b, e); });
        }
      }
    }
    return IDEMNET_OK;
  });
}

int idemnet_channel_sums(idemnet_context* ctx, const float* x, int64_t n, int64_t c, int64_t hw,
                         float beta, float* out) {
  return idemnet::with_context(ctx, "channel_sums", [&] {
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
