// Arithmetic that both native libraries compute, written once for the host (libidemnet_cpu, and
// the host side of libidemnet_cuda) and the device (libidemnet_cuda's kernels). It is internal: not
// part of the C ABI (that is native/include), and it is C++ (namespaces, references).
//
// Rounding rule. Every formula here rounds each operation as written, in the order written: no
// operation is fused into a fused multiply-add. On the device that is spelled out with the
// round-to-nearest intrinsics (__fmul_rn, __dadd_rn, ...), which nvcc never contracts; on the
// host the CPU library is compiled with -ffp-contract=off (CMakeLists.txt), so its AVX2/AVX-512
// clones (which have FMA) round exactly as the baseline clone and as the device. With that, the
// elementwise results below are the same bits on every CPU clone, on the GPU and in a plain Java
// float evaluation of the same expression (SharedArithmeticTest checks the CPU side against Java;
// the gpu tests check the GPU against the CPU). Functions of libm (tanhf, expf, log, cos) are the
// exception: the CPU uses glibc's, the GPU CUDA's, which may differ in the last bit.
#pragma once

#include <math.h>
#include <stdint.h>

#include "idemnet_common.h"

#if defined(__CUDACC__)
#define IDEMNET_HD __host__ __device__ inline
#else
#define IDEMNET_HD inline
#endif

namespace idemnet_math {

// ------------------------------------------------------------------ rounded operations (no FMA)

IDEMNET_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
IDEMNET_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
IDEMNET_HD float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
IDEMNET_HD float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
IDEMNET_HD float sqrt_rn(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return sqrtf(a);
#endif
}
IDEMNET_HD double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
IDEMNET_HD double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
IDEMNET_HD double sub_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
IDEMNET_HD double div_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}

// ------------------------------------------------------------------ convolution geometry

// 2-D convolution, NCHW, dilation 1, groups 1: image [n, c, h, w], weights [o, c, kh, kw],
// output [n, o, ho, wo]; output position (oh, ow) with tap (i, j) reads image row
// oh*sh - ph + i and column ow*sw - pw + j (zero outside the image).
struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, ho, wo;

  IDEMNET_HD int64_t k() const { return c * kh * kw; }       // GEMM depth of the forward pass
  IDEMNET_HD int64_t p() const { return ho * wo; }           // output positions per channel
  IDEMNET_HD int64_t image() const { return c * h * w; }     // elements of one input sample
  IDEMNET_HD int64_t output() const { return o * ho * wo; }  // elements of one output sample
};

// The kernels' geometry from the ABI's (idemnet_conv_geometry, idemnet_common.h): the same
// thirteen sizes; check it with conv_geometry_problem before use.
IDEMNET_HD ConvGeometry conv_geometry_of(const idemnet_conv_geometry& a) {
  return ConvGeometry{a.n, a.c, a.h, a.w, a.o, a.kh, a.kw, a.sh, a.sw, a.ph, a.pw, a.ho, a.wo};
}

// Output extent along one axis: (in + 2 pad - kernel) / stride + 1.
IDEMNET_HD int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

// The input coordinate that output coordinate `out` reads with tap `tap`.
IDEMNET_HD int64_t conv_source(int64_t out, int64_t stride, int64_t pad, int64_t tap) {
  return out * stride - pad + tap;
}

// Why g is not a valid convolution (a message), or nullptr when it is. `index_limit` bounds
// K = c kh kw, P = ho wo and o (the 32-bit GEMM interfaces: INT_MAX).
IDEMNET_HD const char* conv_geometry_problem(const ConvGeometry& g, int64_t index_limit) {
  if (g.n < 0 || g.h < 0 || g.w < 0) return "negative size";
  if (g.c < 1 || g.o < 1) return "channel counts must be positive";
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1) return "kernel and stride must be positive";
  if (g.ph < 0 || g.pw < 0) return "negative padding";
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw) return "kernel larger than the padded image";
  if (g.ho != conv_output_size(g.h, g.kh, g.sh, g.ph) || g.wo != conv_output_size(g.w, g.kw, g.sw, g.pw))
    return "output size does not match (h + 2p - k) / s + 1";
  if (g.k() > index_limit || g.p() > index_limit || g.o > index_limit)
    return "sizes exceed the 32-bit GEMM interface";
  return nullptr;
}

// ------------------------------------------------------------------ counter-based random numbers
// idemnet.h defines the stream; every backend (Java, C++, CUDA) computes exactly this.

// bits(i) = splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15), integer arithmetic mod 2^64.
IDEMNET_HD uint64_t rng_bits(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// uniform(i) = (bits(i) >> 40) * 2^-24 in [0, 1): exact (a 24-bit integer times a power of two).
IDEMNET_HD double rng_uniform(uint64_t seed, uint64_t i) {
  return (double)(rng_bits(seed, i) >> 40) * (1.0 / 16777216.0);
}

// Element i of a uniform fill: (float)(lo + width * uniform(i)), multiply and add rounded apart
// (lo = low, width = high - low, both in double).
IDEMNET_HD float uniform_element(uint64_t seed, uint64_t i, double lo, double width) {
  return (float)add_rn(lo, mul_rn(width, rng_uniform(seed, i)));
}

// Element i of a normal fill (Box-Muller in double):
// (float)(mean + std * sqrt(-2 ln(1 - uniform(2i))) * cos(2 pi uniform(2i + 1))).
IDEMNET_HD float normal_element(uint64_t seed, uint64_t i, double mean, double std) {
  const double two_pi = 6.283185307179586;
  double u1 = rng_uniform(seed, 2 * i), u2 = rng_uniform(seed, 2 * i + 1);
  double z = mul_rn(sqrt(mul_rn(-2.0, log(sub_rn(1.0, u1)))), cos(mul_rn(two_pi, u2)));
  return (float)add_rn(mean, mul_rn(std, z));
}

// Inverted dropout: element i is kept iff uniform(i) >= p, and then becomes
// (float)((double)x * scale) with scale = 1 / (1 - p) in double (0 when p = 1).
struct Dropout {
  double threshold, scale;
};
IDEMNET_HD Dropout dropout_params(float p) {
  return Dropout{(double)p, p < 1.0f ? 1.0 / (1.0 - (double)p) : 0.0};
}
IDEMNET_HD float dropout_element(float x, uint64_t seed, uint64_t i, const Dropout& d) {
  return rng_uniform(seed, i) >= d.threshold ? (float)mul_rn((double)x, d.scale) : 0.0f;
}

// ------------------------------------------------------------------ the MB corrector

// s (3a - 2b - c), evaluated as s * ((3a - 2b) - c).
IDEMNET_HD float corrector_element(float a, float b, float c, float s) {
  return mul_rn(s, sub_rn(sub_rn(mul_rn(3.0f, a), mul_rn(2.0f, b)), c));
}
// (a - c)^2 in double (a term of the idempotent loss's sum).
IDEMNET_HD double corrector_sq_diff(float a, float c) {
  double d = (double)a - (double)c;  // exact: the difference of two floats fits a double
  return mul_rn(d, d);
}

// ------------------------------------------------------------------ small elementwise forms

// y + alpha x (two roundings).
IDEMNET_HD float axpy_element(float alpha, float x, float y) { return add_rn(y, mul_rn(alpha, x)); }

// ------------------------------------------------------------------ activations
// `x < 0` is false for NaN, so NaN passes through ReLU and LeakyReLU (PyTorch's behaviour); the
// derivatives follow PyTorch at the kink: ReLU'(0) = 0, LeakyReLU'(0) = slope. Tanh and Sigmoid
// derivatives are written in terms of the output y.

IDEMNET_HD float relu(float x) { return x < 0.0f ? 0.0f : x; }
IDEMNET_HD float leaky_relu(float x, float slope) { return mul_rn(x, x < 0.0f ? slope : 1.0f); }
IDEMNET_HD float tanh_act(float x) { return tanhf(x); }
IDEMNET_HD float sigmoid(float x) { return div_rn(1.0f, add_rn(1.0f, expf(-x))); }

IDEMNET_HD float relu_grad(float x, float dy) { return x > 0.0f ? dy : 0.0f; }
IDEMNET_HD float leaky_relu_grad(float x, float slope, float dy) { return mul_rn(dy, x > 0.0f ? 1.0f : slope); }
IDEMNET_HD float tanh_grad(float y, float dy) { return mul_rn(dy, sub_rn(1.0f, mul_rn(y, y))); }
IDEMNET_HD float sigmoid_grad(float y, float dy) { return mul_rn(mul_rn(dy, y), sub_rn(1.0f, y)); }

// ------------------------------------------------------------------ optimizers (PyTorch's definitions)
// Weight decay is L2: d = g + wd w.

IDEMNET_HD float decayed_gradient(float g, float w, float wd) { return add_rn(g, mul_rn(wd, w)); }

// SGD without momentum: w - lr d.
IDEMNET_HD float sgd_element(float w, float g, float lr, float wd) {
  return sub_rn(w, mul_rn(lr, decayed_gradient(g, w, wd)));
}
// SGD with momentum: v = momentum v + d; w = w - lr v.
IDEMNET_HD void sgd_momentum_element(float& w, float g, float& v, float lr, float momentum, float wd) {
  float vi = add_rn(mul_rn(momentum, v), decayed_gradient(g, w, wd));
  v = vi;
  w = sub_rn(w, mul_rn(lr, vi));
}

// Adam's per-step scalars, in double as the optimizer's bookkeeping, rounded once to float:
// step_size = lr / (1 - beta1^t), inv_sqrt_bc2 = 1 / sqrt(1 - beta2^t), t = step >= 1.
// Computed on the host (glibc pow); a device evaluation (CUDA pow) could differ in the last bit.
struct AdamScalars {
  float step_size, inv_sqrt_bc2;
};
IDEMNET_HD AdamScalars adam_scalars(float lr, float beta1, float beta2, int64_t step) {
  double bc1 = 1.0 - pow((double)beta1, (double)step);
  double bc2 = 1.0 - pow((double)beta2, (double)step);
  return AdamScalars{(float)(lr / bc1), (float)(1.0 / sqrt(bc2))};
}

// m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2 (as ((1 - b2) d) d);
// w = w - step_size m / (sqrt(v) inv_sqrt_bc2 + eps).
IDEMNET_HD void adam_element(float& w, float g, float& m, float& v, const AdamScalars& s, float beta1,
                             float beta2, float eps, float wd) {
  float d = decayed_gradient(g, w, wd);
  float mi = add_rn(mul_rn(beta1, m), mul_rn(sub_rn(1.0f, beta1), d));
  float vi = add_rn(mul_rn(beta2, v), mul_rn(mul_rn(sub_rn(1.0f, beta2), d), d));
  m = mi;
  v = vi;
  w = sub_rn(w, div_rn(mul_rn(s.step_size, mi), add_rn(mul_rn(sqrt_rn(vi), s.inv_sqrt_bc2), eps)));
}

// ------------------------------------------------------------------ Anderson acceleration

// The weights of one row's Anderson mix (idemnet_anderson_mix): alpha = (H + lambda I)^{-1} 1 for
// the k x k Gram matrix h (row-major, 1 <= k <= IDEMNET_ANDERSON_MAX_MEMORY), lambda =
// 1e-10 trace(H) / k, then alpha /= sum(alpha). Gaussian elimination with partial pivoting (the
// first largest |pivot| of a column), in double. Returns false, with alpha unspecified, when
// there is no usable combination: trace(H) not > 0 or not finite, a zero pivot, or a sum of the
// solution that is 0 or not finite. h is not modified. One thread's work: a few hundred flops.
IDEMNET_HD bool anderson_weights(const double* h, int k, double* alpha) {
  const int kMax = IDEMNET_ANDERSON_MAX_MEMORY;
  if (k < 1 || k > kMax) return false;
  double trace = 0.0;
  for (int i = 0; i < k; ++i) trace = add_rn(trace, h[i * k + i]);
  if (!(trace > 0.0) || !isfinite(trace)) return false;
  double ridge = div_rn(mul_rn(1e-10, trace), (double)k);
  double a[kMax][kMax + 1];
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) a[i][j] = h[i * k + j];
    a[i][i] = add_rn(a[i][i], ridge);
    a[i][k] = 1.0;
  }
  for (int col = 0; col < k; ++col) {
    int pivot = col;
    for (int r = col + 1; r < k; ++r)
      if (fabs(a[r][col]) > fabs(a[pivot][col])) pivot = r;
    if (pivot != col) {
      for (int c = 0; c <= k; ++c) {
        double tmp = a[col][c];
        a[col][c] = a[pivot][c];
        a[pivot][c] = tmp;
      }
    }
    if (a[col][col] == 0.0) return false;
    for (int r = col + 1; r < k; ++r) {
      double f = div_rn(a[r][col], a[col][col]);
      for (int c = col; c <= k; ++c) a[r][c] = sub_rn(a[r][c], mul_rn(f, a[col][c]));
    }
  }
  double sum = 0.0;
  for (int i = k - 1; i >= 0; --i) {
    double s = a[i][k];
    for (int c = i + 1; c < k; ++c) s = sub_rn(s, mul_rn(a[i][c], alpha[c]));
    alpha[i] = div_rn(s, a[i][i]);
    sum = add_rn(sum, alpha[i]);
  }
  if (!isfinite(sum) || sum == 0.0) return false;
  for (int i = 0; i < k; ++i) alpha[i] = div_rn(alpha[i], sum);
  return true;
}

}  // namespace idemnet_math
