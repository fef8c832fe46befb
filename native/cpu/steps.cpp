// Operations that keep a training step on the device: losses and norms written to one-element
// tensors, scaling by a tensor-held factor, learning rates and random counters read from memory.
// Where an operation is an existing kernel with a scalar moved into memory, it calls that kernel,
// so both give the same bits.
#include <cmath>
#include <vector>

#include "common.h"
#include "../shared/idemnet_math.h"
#include "parallel.h"

namespace {

// sign(a - b) * grad_scale into grad (when not null) and sum |a - b| over [i0, i1).
IDEMNET_CLONES double l1_chunk(const float* a, const float* b, float grad_scale, float* grad, int64_t i0,
                               int64_t i1) {
  double acc = 0.0;
  for (int64_t i = i0; i < i1; ++i) {
    double d = (double)a[i] - (double)b[i];
    acc += std::fabs(d);
    if (grad) grad[i] = d > 0.0 ? grad_scale : (d < 0.0 ? -grad_scale : 0.0f);
  }
  return acc;
}

// images[slot] = t and residuals[slot] = t - u over [i0, i1) of one slot's elements.
IDEMNET_CLONES void anderson_record_chunk(const float* u, const float* t, float* image, float* residual, int64_t i0,
                                          int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    float ti = t[i];
    image[i] = ti;
    residual[i] = idemnet_math::sub_rn(ti, u[i]);
  }
}

// sum a[c] b[c] over [0, n) in double with four partial sums ((s0 + s1) + (s2 + s3)), the
// summation order of the Gram products on the host.
IDEMNET_CLONES double anderson_dot(const float* a, const float* b, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t c = 0;
  for (; c + 3 < n; c += 4) {
    s0 += (double)a[c] * (double)b[c];
    s1 += (double)a[c + 1] * (double)b[c + 1];
    s2 += (double)a[c + 2] * (double)b[c + 2];
    s3 += (double)a[c + 3] * (double)b[c + 3];
  }
  for (; c < n; ++c) s0 += (double)a[c] * (double)b[c];
  return (s0 + s1) + (s2 + s3);
}

// next[0, cols) = sum_i alpha[i] images[i * stride + c], slot 0 first (the per-element order of
// the device kernel, written slot by slot so that each loop is contiguous).
IDEMNET_CLONES void anderson_combine_row(const float* images, int64_t stride, const float* alpha, int k, int64_t cols,
                                         float* next) {
  float a0 = alpha[0];
  for (int64_t c = 0; c < cols; ++c) next[c] = idemnet_math::mul_rn(a0, images[c]);
  for (int i = 1; i < k; ++i) {
    float ai = alpha[i];
    const float* img = images + i * stride;
    for (int64_t c = 0; c < cols; ++c) next[c] = idemnet_math::axpy_element(ai, img[c], next[c]);
  }
}


}  // namespace

extern "C" {

int idemnet_scale_by(idemnet_context* ctx, const float* x, const float* factor, float alpha, float* out,
                     int64_t n) {
  return idemnet::with_context(ctx, "scale_by", [&] {
    IDEMNET_REQUIRE(factor, "scale_by", "null factor");
    return idemnet_scale(ctx, x, alpha * factor[0], out, n);
  });
}

int idemnet_sum_squares_to(idemnet_context* ctx, const float* x, int64_t n, double scale, float* out) {
  return idemnet::with_context(ctx, "sum_squares_to", [&] {
    IDEMNET_REQUIRE(out, "sum_squares_to", "null output");
    double sum = 0.0;
    int status = idemnet_sum_squares(ctx, x, n, &sum);
    if (status == IDEMNET_OK) out[0] = (float)(scale * sum);
    return status;
  });
}

int idemnet_corrector_to(idemnet_context* ctx, const float* a, const float* b, const float* c, float s, float* out,
                         int64_t n, double loss_scale, float* loss) {
  return idemnet::with_context(ctx, "corrector_to", [&] {
    IDEMNET_REQUIRE(loss, "corrector_to", "null loss");
    double sum = 0.0;
    int status = idemnet_corrector(ctx, a, b, c, s, out, n, &sum);
    if (status == IDEMNET_OK) loss[0] = (float)(loss_scale * sum);
    return status;
  });
}

int idemnet_l1_loss(idemnet_context* ctx, const float* a, const float* b, int64_t n, float grad_scale, float* grad,
                    double loss_scale, float* loss) {
  return idemnet::with_context(ctx, "l1_loss", [&] {
    IDEMNET_REQUIRE(n >= 0, "l1_loss", "negative size");
    IDEMNET_REQUIRE(loss && (n == 0 || (a && b)), "l1_loss", "null buffer");
    double sum = idemnet::parallel_sum(n, [&](int64_t i0, int64_t i1) { return l1_chunk(a, b, grad_scale, grad, i0, i1); });
    loss[0] = (float)(loss_scale * sum);
    return IDEMNET_OK;
  });
}

int idemnet_softmax_cross_entropy(idemnet_context* ctx, const float* logits, const float* labels, int64_t rows,
                                  int64_t classes, float* loss, float* grad) {
  return idemnet::with_context(ctx, "softmax_cross_entropy", [&] {
    const char* op = "softmax_cross_entropy";
    IDEMNET_REQUIRE(rows >= 0 && classes >= 0, op, "negative size");
    IDEMNET_REQUIRE(loss && (rows == 0 || (logits && labels)), op, "null buffer");
    std::vector<double> row_loss(rows);
    idemnet::parallel_items(rows, rows * classes, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* z = logits + r * classes;
        double label = labels[r];
        bool valid = label >= 0.0 && label < (double)classes && label == std::floor(label);
        double max = -INFINITY;
        for (int64_t j = 0; j < classes; ++j) max = std::fmax(max, (double)z[j]);
        double sum = 0.0;
        for (int64_t j = 0; j < classes; ++j) sum += std::exp((double)z[j] - max);
        double log_sum = max + std::log(sum);
        int64_t k = valid ? (int64_t)label : -1;
        row_loss[r] = valid ? log_sum - (double)z[k] : NAN;
        if (!grad) continue;
        float* g = grad + r * classes;
        for (int64_t j = 0; j < classes; ++j)
          g[j] = valid ? (float)((std::exp((double)z[j] - log_sum) - (j == k ? 1.0 : 0.0)) / (double)rows) : NAN;
      }
    });
    double total = 0.0;
    for (double v : row_loss) total += v;  // row order: the same result for any thread count
    loss[0] = rows == 0 ? NAN : (float)(total / (double)rows);
    return IDEMNET_OK;
  });
}

int idemnet_max_row_norm(idemnet_context* ctx, const float* x, int64_t rows, int64_t cols, float* out) {
  return idemnet::with_context(ctx, "max_row_norm", [&] {
    IDEMNET_REQUIRE(rows >= 0 && cols >= 0, "max_row_norm", "negative size");
    IDEMNET_REQUIRE(out && (rows * cols == 0 || x), "max_row_norm", "null buffer");
    std::vector<double> norms(rows);
    idemnet::parallel_items(rows, rows * cols, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + r * cols;
        double sq = 0.0;
        for (int64_t c = 0; c < cols; ++c) sq += (double)xr[c] * (double)xr[c];
        norms[r] = std::sqrt(sq);
      }
    });
    double max = 0.0;
    for (double v : norms) max = (std::isnan(v) || std::isnan(max)) ? NAN : std::fmax(max, v);
    out[0] = (float)max;
    return IDEMNET_OK;
  });
}

int idemnet_anderson_record(idemnet_context* ctx, const float* u, const float* t, int64_t rows, int64_t cols,
                            int64_t slot, float* images, float* residuals, float* norm) {
  return idemnet::with_context(ctx, "anderson_record", [&] {
    const char* op = "anderson_record";
    IDEMNET_REQUIRE(rows >= 0 && cols >= 0 && slot >= 0 && slot < IDEMNET_ANDERSON_MAX_MEMORY, op,
                    "negative size or slot out of range");
    int64_t n = rows * cols;
    IDEMNET_REQUIRE(norm && images && residuals && (n == 0 || (u && t)), op, "null buffer");
    float* image = images + slot * n;
    float* residual = residuals + slot * n;
    idemnet::parallel_for(n, [&](int64_t i0, int64_t i1) { anderson_record_chunk(u, t, image, residual, i0, i1); });
    return idemnet_max_row_norm(ctx, residual, rows, cols, norm);
  });
}

int idemnet_anderson_mix(idemnet_context* ctx, const float* images, const float* residuals, int64_t rows, int64_t cols,
                         int64_t count, int64_t newest, float* next) {
  return idemnet::with_context(ctx, "anderson_mix", [&] {
    const char* op = "anderson_mix";
    IDEMNET_REQUIRE(rows >= 0 && cols >= 0, op, "negative size");
    IDEMNET_REQUIRE(count >= 1 && count <= IDEMNET_ANDERSON_MAX_MEMORY && newest >= 0 && newest < count, op,
                    "need 1 <= count <= IDEMNET_ANDERSON_MAX_MEMORY and 0 <= newest < count");
    int64_t n = rows * cols;
    if (n == 0) return IDEMNET_OK;
    IDEMNET_REQUIRE(images && residuals && next, op, "null buffer");
    int k = (int)count;
    // Rows are independent problems: each is done by one thread, whatever the thread count.
    idemnet::parallel_items(rows, n * k, [&](int64_t r0, int64_t r1) {
      double gram[IDEMNET_ANDERSON_MAX_MEMORY * IDEMNET_ANDERSON_MAX_MEMORY];
      double alpha[IDEMNET_ANDERSON_MAX_MEMORY];
      float alpha_f[IDEMNET_ANDERSON_MAX_MEMORY];
      for (int64_t r = r0; r < r1; ++r) {
        int64_t off = r * cols;
        for (int i = 0; i < k; ++i) {
          for (int j = 0; j <= i; ++j) {
            double d = anderson_dot(residuals + i * n + off, residuals + j * n + off, cols);
            gram[i * k + j] = d;
            gram[j * k + i] = d;
          }
        }
        if (!idemnet_math::anderson_weights(gram, k, alpha)) {  // no usable combination: the plain step
          const float* img = images + newest * n + off;
          for (int64_t c = 0; c < cols; ++c) next[off + c] = img[c];
          continue;
        }
        for (int i = 0; i < k; ++i) alpha_f[i] = (float)alpha[i];
        anderson_combine_row(images + off, n, alpha_f, k, cols, next + off);
      }
    });
    return IDEMNET_OK;
  });
}

int idemnet_sgd_update_scheduled(idemnet_context* ctx, float* w, const float* g, float* v, int64_t n, const float* lr,
                                 float momentum, float weight_decay) {
  return idemnet::with_context(ctx, "sgd_update_scheduled", [&] {
    IDEMNET_REQUIRE(lr, "sgd_update_scheduled", "null learning rate");
    return idemnet_sgd_update(ctx, w, g, v, n, lr[0], momentum, weight_decay);
  });
}

int idemnet_tight_clamp_weights(idemnet_context* ctx, const float* rec, const float* tight, float lambda_rec,
                                float lambda_tight, float clamp, float* w_rec, float* w_tight) {
  return idemnet::with_context(ctx, "tight_clamp_weights", [&] {
    IDEMNET_REQUIRE(rec && tight && w_rec && w_tight, "tight_clamp_weights", "null buffer");
    double r = rec[0], t = tight[0];
    if (clamp == 0.0f || !(r > 0.0)) {
      w_rec[0] = lambda_rec;
      w_tight[0] = lambda_tight;
      return IDEMNET_OK;
    }
    double u = t / ((double)clamp * r), th = std::tanh(u), sech2 = 1.0 - th * th;
    w_rec[0] = (float)((double)lambda_rec - (double)lambda_tight * clamp * (th - u * sech2));
    w_tight[0] = (float)((double)lambda_tight * sech2);
    return IDEMNET_OK;
  });
}

int idemnet_dropout_counted(idemnet_context* ctx, const float* x, float* y, int64_t n, uint64_t seed,
                            const float* counter, int64_t offset, float p) {
  return idemnet::with_context(ctx, "dropout_counted", [&] {
    IDEMNET_REQUIRE(counter && offset >= 0, "dropout_counted", "null counter or negative offset");
    uint64_t c = ((uint64_t)counter[0] << 24) + (uint64_t)counter[1];
    return idemnet_dropout(ctx, x, y, n, idemnet_math::rng_bits(seed, c + (uint64_t)offset), p);
  });
}

}  // extern "C"
