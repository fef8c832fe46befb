// Batch normalization over x [n, c, hw] per channel; see idemnet.h for the formulas. Channels are
// independent, so threads take disjoint channel ranges and every statistic is a double sum in a
// fixed order (the result does not depend on the thread count).
#include <cmath>

#include "common.h"
#include "parallel.h"

namespace {

using idemnet::invalid;

struct Dims {
  int64_t n, c, hw;
  int64_t m() const { return n * hw; }
  const float* at(const float* x, int64_t s, int64_t ch) const { return x + (s * c + ch) * hw; }
  float* at(float* x, int64_t s, int64_t ch) const { return x + (s * c + ch) * hw; }
};

IDEMNET_CLONES double channel_sum(const float* x, const Dims& d, int64_t ch) {
  double acc = 0.0;
  for (int64_t s = 0; s < d.n; ++s) {
    const float* xs = d.at(x, s, ch);
    double part = 0.0;
#pragma omp simd reduction(+ : part)
    for (int64_t e = 0; e < d.hw; ++e) part += (double)xs[e];
    acc += part;
  }
  return acc;
}

// sum (x - mean)^2 (the second pass of a two-pass variance).
IDEMNET_CLONES double channel_sq_dev(const float* x, const Dims& d, int64_t ch, double mean) {
  double acc = 0.0;
  for (int64_t s = 0; s < d.n; ++s) {
    const float* xs = d.at(x, s, ch);
    double part = 0.0;
#pragma omp simd reduction(+ : part)
    for (int64_t e = 0; e < d.hw; ++e) {
      double v = (double)xs[e] - mean;
      part += v * v;
    }
    acc += part;
  }
  return acc;
}

// sum dy and sum dy * (x - mean), both in double.
IDEMNET_CLONES void channel_grad_sums(const float* x, const float* dy, const Dims& d, int64_t ch,
                                      double mean, double& sum_dy, double& sum_dy_dev) {
  double a = 0.0, b = 0.0;
  for (int64_t s = 0; s < d.n; ++s) {
    const float* xs = d.at(x, s, ch);
    const float* gs = d.at(dy, s, ch);
    double pa = 0.0, pb = 0.0;
#pragma omp simd reduction(+ : pa, pb)
    for (int64_t e = 0; e < d.hw; ++e) {
      pa += (double)gs[e];
      pb += (double)gs[e] * ((double)xs[e] - mean);
    }
    a += pa;
    b += pb;
  }
  sum_dy = a;
  sum_dy_dev = b;
}

// y = (x - mean) * scale + shift over one channel.
IDEMNET_CLONES void normalize_channel(const float* x, float* y, const Dims& d, int64_t ch, float mean,
                                      float scale, float shift) {
  for (int64_t s = 0; s < d.n; ++s) {
    const float* xs = d.at(x, s, ch);
    float* ys = d.at(y, s, ch);
    for (int64_t e = 0; e < d.hw; ++e) ys[e] = (xs[e] - mean) * scale + shift;
  }
}

// dx = k * (dy - c1 - (x - mean) * c2) over one channel.
IDEMNET_CLONES void dx_channel(const float* x, const float* dy, float* dx, const Dims& d, int64_t ch,
                               float mean, float k, float c1, float c2) {
  for (int64_t s = 0; s < d.n; ++s) {
    const float* xs = d.at(x, s, ch);
    const float* gs = d.at(dy, s, ch);
    float* out = d.at(dx, s, ch);
    for (int64_t e = 0; e < d.hw; ++e) out[e] = k * (gs[e] - c1 - (xs[e] - mean) * c2);
  }
}

// dx = k * dy over one channel (evaluation mode: the statistics are constants).
IDEMNET_CLONES void scale_channel(const float* dy, float* dx, const Dims& d, int64_t ch, float k) {
  for (int64_t s = 0; s < d.n; ++s) {
    const float* gs = d.at(dy, s, ch);
    float* out = d.at(dx, s, ch);
    for (int64_t e = 0; e < d.hw; ++e) out[e] = k * gs[e];
  }
}

}  // namespace

extern "C" {

int idemnet_batch_norm2d_forward(idemnet_context* ctx, const float* x, const float* gamma,
                                 const float* beta, float* y, int64_t n, int64_t c, int64_t hw,
                                 int training, float eps, float momentum, float* running_mean,
                                 float* running_var, float* save_mean, float* save_invstd) {
  return idemnet::with_context(ctx, "batch_norm2d_forward", [&] {
    const char* op = "batch_norm2d_forward";
    Dims d{n, c, hw};
    IDEMNET_REQUIRE(n >= 0 && c >= 0 && hw >= 0, op, "negative size");
    IDEMNET_REQUIRE((gamma == nullptr) == (beta == nullptr), op, "gamma and beta must both be given or both NULL");
    IDEMNET_REQUIRE((running_mean == nullptr) == (running_var == nullptr), op,
                    "running_mean and running_var must both be given or both NULL");
    IDEMNET_REQUIRE(training || running_mean, op, "evaluation mode needs the running statistics");
    IDEMNET_REQUIRE(!training || d.m() > 1, op, "training needs more than one value per channel");
    IDEMNET_REQUIRE(eps > 0.0f, op, "eps must be positive");
    IDEMNET_REQUIRE(c == 0 || d.m() == 0 || (x && y), op, "null buffer");
    idemnet::parallel_items(c, n * c * hw, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        double mean, var;
        if (training) {
          mean = channel_sum(x, d, ch) / (double)d.m();
          var = channel_sq_dev(x, d, ch, mean) / (double)d.m();
          if (running_mean) {
            double mo = momentum, unbiased = var * (double)d.m() / (double)(d.m() - 1);
            running_mean[ch] = (float)((1.0 - mo) * running_mean[ch] + mo * mean);
            running_var[ch] = (float)((1.0 - mo) * running_var[ch] + mo * unbiased);
          }
        } else {
          mean = running_mean[ch];
          var = running_var[ch];
        }
        double invstd = 1.0 / std::sqrt(var + (double)eps);
        if (save_mean) save_mean[ch] = (float)mean;
        if (save_invstd) save_invstd[ch] = (float)invstd;
        double g = gamma ? gamma[ch] : 1.0, b = beta ? beta[ch] : 0.0;
        normalize_channel(x, y, d, ch, (float)mean, (float)(g * invstd), (float)b);
      }
    });
    return IDEMNET_OK;
  });
}

int idemnet_batch_norm2d_backward(idemnet_context* ctx, const float* x, const float* dy,
                                  const float* gamma, const float* save_mean,
                                  const float* save_invstd, int training, float* dx, float* dgamma,
                                  float acc_gamma, float* dbeta, float acc_beta, int64_t n,
                                  int64_t c, int64_t hw) {
  return idemnet::with_context(ctx, "batch_norm2d_backward", [&] {
    const char* op = "batch_norm2d_backward";
    Dims d{n, c, hw};
    IDEMNET_REQUIRE(n >= 0 && c >= 0 && hw >= 0, op, "negative size");
    IDEMNET_REQUIRE(c == 0 || (save_mean && save_invstd), op, "null statistics");
    IDEMNET_REQUIRE(c == 0 || d.m() == 0 || (x && dy), op, "null buffer");
    IDEMNET_REQUIRE((acc_gamma == 0.0f || acc_gamma == 1.0f) && (acc_beta == 0.0f || acc_beta == 1.0f), op,
                    "accumulate flags must be 0 or 1");
    idemnet::parallel_items(c, n * c * hw, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        double mean = save_mean[ch], invstd = save_invstd[ch];
        double sum_dy, sum_dy_dev;
        channel_grad_sums(x, dy, d, ch, mean, sum_dy, sum_dy_dev);
        double sum_dy_xhat = sum_dy_dev * invstd;
        if (dbeta) dbeta[ch] = (float)((acc_beta == 0.0f ? 0.0 : (double)dbeta[ch]) + sum_dy);
        if (dgamma) dgamma[ch] = (float)((acc_gamma == 0.0f ? 0.0 : (double)dgamma[ch]) + sum_dy_xhat);
        if (!dx) continue;
        double k = (gamma ? gamma[ch] : 1.0) * invstd;
        if (training) {
          double m = (double)d.m();
          // xhat * sum(dy xhat) / m = (x - mean) * invstd^2 * sum(dy (x - mean)) / m
          dx_channel(x, dy, dx, d, ch, (float)mean, (float)k, (float)(sum_dy / m),
                     (float)(invstd * sum_dy_xhat / m));
        } else {
          scale_channel(dy, dx, d, ch, (float)k);
        }
      }
    });
    return IDEMNET_OK;
  });
}

}  // extern "C"
