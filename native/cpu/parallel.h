// Splitting a range over the OpenMP team; called from inside a parallel region, the calling thread
// does all of it. Kernels are written as plain functions over a chunk [begin, end) so that
// target_clones applies to them (outlined OpenMP bodies are not cloned).
#pragma once
#include <omp.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace idemnet {

// Calls chunk(begin, end) over [0, n), in parallel when n is large enough. Chunk borders are
// multiples of 16 elements so that every thread starts on a cache-line boundary.
template <class F>
void parallel_for(int64_t n, F&& chunk) {
  if (n < kParallelThreshold || omp_get_max_threads() == 1 || omp_in_parallel()) {
    chunk(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t per = ((n + threads - 1) / threads + 15) / 16 * 16;
    int64_t begin = std::min(n, t * per), end = std::min(n, begin + per);
    if (begin < end) chunk(begin, end);
  }
}

// Calls chunk(begin, end) over [0, items) in contiguous ranges of whole items (channels,
// samples), one range per thread, when the total work (in elements) is large enough. Each item
// is done by exactly one thread, so per-item results do not depend on the thread count.
template <class F>
void parallel_items(int64_t items, int64_t work, F&& chunk) {
  if (work < kParallelThreshold || items < 2 || omp_get_max_threads() == 1 || omp_in_parallel()) {
    chunk(int64_t{0}, items);
    return;
  }
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t per = (items + threads - 1) / threads;
    int64_t begin = std::min(items, t * per), end = std::min(items, begin + per);
    if (begin < end) chunk(begin, end);
  }
}

// Sums partial(begin, end) over chunks of [0, n). Partials are added in thread order, so the
// result is deterministic for a given thread count.
template <class F>
double parallel_sum(int64_t n, F&& partial) {
  if (n < kParallelThreshold || omp_get_max_threads() == 1 || omp_in_parallel()) return partial(int64_t{0}, n);
  std::vector<double> partials(omp_get_max_threads(), 0.0);
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t per = ((n + threads - 1) / threads + 15) / 16 * 16;
    int64_t begin = std::min(n, t * per), end = std::min(n, begin + per);
    if (begin < end) partials[t] = partial(begin, end);
  }
  double total = 0.0;
  for (double p : partials) total += p;
  return total;
}

}  // namespace idemnet
