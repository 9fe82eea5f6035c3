#include "core/service_profile.h"

#include <algorithm>
#include <cmath>

namespace berth::core {

namespace {

const std::array<int64_t, ServiceProfile::kBuckets>& edges() {
  static const auto table = [] {
    std::array<int64_t, ServiceProfile::kBuckets> t{};
    for (int b = 0; b < ServiceProfile::kBuckets; ++b)
      t[b] = static_cast<int64_t>(std::floor(std::pow(2.0, b / 2.0)));
    return t;
  }();
  return table;
}

}  // namespace

int64_t ServiceProfile::edge_gpu_s(int bucket) { return edges()[bucket]; }

int ServiceProfile::bucket_of(int64_t gpu_s) {
  const auto& e = edges();
  const auto it = std::upper_bound(e.begin(), e.end(), std::max<int64_t>(gpu_s, 1));
  return static_cast<int>(it - e.begin()) - 1;
}

void ServiceProfile::record(int gpus, int64_t run_s) {
  run_s = std::max<int64_t>(run_s, 0);
  const int64_t gpu_s = std::max<int64_t>(int64_t{std::max(gpus, 1)} * run_s, 1);
  if (count_ + 1 > kHalveAfter) {
    for (int b = 0; b < kBuckets; ++b) {
      counts_[b] /= 2;
      sums_[b] /= 2;
    }
    count_ /= 2;
    sum_gpu_s_ /= 2;
    sum_run_s_ /= 2;
  }
  const int b = bucket_of(gpu_s);
  counts_[b] += 1;
  sums_[b] += static_cast<double>(gpu_s);
  count_ += 1;
  sum_gpu_s_ += static_cast<double>(gpu_s);
  sum_run_s_ += static_cast<double>(run_s);
}

std::optional<double> ServiceProfile::mean_residual_gpu_s(int64_t attained) const {
  const int from = bucket_of(attained);
  double n = 0, s = 0;
  for (int b = from; b < kBuckets; ++b) {
    n += counts_[b];
    s += sums_[b];
  }
  if (n < kMinTail) return std::nullopt;
  return s / n - static_cast<double>(edge_gpu_s(from));
}

std::optional<int64_t> ServiceProfile::demote_threshold_gpu_s(int64_t at_least, double gain,
                                                              double min_jobs) const {
  if (count_ < min_jobs) return std::nullopt;
  const double mean = mean_gpu_s();
  for (int b = bucket_of(at_least); b < kBuckets; ++b) {
    if (edge_gpu_s(b) < at_least) continue;
    const auto residual = mean_residual_gpu_s(edge_gpu_s(b));
    if (!residual) break;  // too few jobs beyond: nothing higher is trusted either
    if (*residual >= gain * mean) return edge_gpu_s(b);
  }
  return int64_t{0};
}

}  // namespace berth::core
