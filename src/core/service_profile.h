// What finished jobs received: the workload's distribution of service (GPU-seconds per job,
// over all its runs), from which the scheduler's default policy learns whether and when
// demoting a job pays, and how long a job may wait before it goes first.
//
// Least attained service (Tiresias) wins where a job that has already run long is likely to
// run much longer: a heavy-tailed workload, where a new job is, on average, far shorter than
// what a long-running one has left. Where jobs are alike (say all 1-GPU, a few hours each) the
// opposite holds, and demoting and preempting them only makes them take turns. The measure is
// the mean residual service, E[S - a | S > a]: what a job that has had a GPU-seconds can still
// be expected to need. Demotion at a pays when that is well above what a new job needs, E[S].
//
// The profile keeps counts and sums in buckets a factor sqrt(2) apart, so the residual at a
// bucket's lower edge is exact; when kHalveAfter jobs are held the history is halved, so that
// it follows a workload that changes. Deterministic: a pure function of what was recorded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace berth::core {

class ServiceProfile {
 public:
  static constexpr int kBuckets = 72;  // lower edges 1 .. 2^35.5 GPU-s, a factor sqrt(2) apart
  static constexpr double kHalveAfter = 20'000;
  // A residual is trusted only over this many recorded jobs that got past its point.
  static constexpr double kMinTail = 20;

  // A job ended on its own (or at its limit) after running `run_s` seconds on `gpus` GPUs, over
  // all its runs.
  void record(int gpus, int64_t run_s);
  double jobs() const { return count_; }
  // E[S] in GPU-seconds, and the mean run in seconds, over the recorded jobs; 0 without any.
  double mean_gpu_s() const { return count_ > 0 ? sum_gpu_s_ / count_ : 0; }
  double mean_run_s() const { return count_ > 0 ? sum_run_s_ / count_ : 0; }
  // E[S - a | S > a] at the highest bucket edge a at or below `attained`; nullopt when fewer
  // than kMinTail recorded jobs are at or past that edge.
  std::optional<double> mean_residual_gpu_s(int64_t attained) const;
  // The least attained service threshold this history supports: the lowest bucket edge at or
  // above `at_least` where the mean residual service is at least `gain` x E[S]; 0 (do not
  // demote) where no edge is. nullopt before `min_jobs` jobs were recorded: too little to say.
  std::optional<int64_t> demote_threshold_gpu_s(int64_t at_least, double gain,
                                                double min_jobs) const;

  static int64_t edge_gpu_s(int bucket);  // the lower edge of a bucket
  static int bucket_of(int64_t gpu_s);    // the bucket holding gpu_s (< 1 counts as 1)

 private:
  std::array<double, kBuckets> counts_{};
  std::array<double, kBuckets> sums_{};
  double count_ = 0, sum_gpu_s_ = 0, sum_run_s_ = 0;
};

}  // namespace berth::core
