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
// Least attained service may stop only jobs on one node (scheduler.h), so its distribution is
// theirs: a gang's long run says nothing about what stopping a small job would gain. The
// profile keeps counts and sums in buckets a factor sqrt(2) apart, so the residual at a
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
  // all its runs; on one node, or a gang of several.
  void record(int gpus, int64_t run_s, bool gang = false);
  // Jobs recorded, gangs included.
  double jobs() const { return all_count_; }
  // E[S] in GPU-seconds over the jobs on one node; 0 without any.
  double mean_gpu_s() const { return count_ > 0 ? sum_gpu_s_ / count_ : 0; }
  // The mean run in seconds over all jobs; 0 without any.
  double mean_run_s() const { return all_count_ > 0 ? all_run_s_ / all_count_ : 0; }
  // A job that ran `run_s` would have been predicted `predicted_s` (> 0).
  void record_prediction(int64_t run_s, int64_t predicted_s);
  // The predictions' mean absolute log error over that of predicting the mean run for the same
  // jobs: under 1 where they do better than knowing nothing of the job. 1 without any.
  double prediction_error_ratio() const {
    return baseline_error_ > 0 ? prediction_error_ / baseline_error_ : 1;
  }
  // The coefficient of variation (standard deviation / mean) of all jobs' GPU-seconds; 0
  // without any.
  double all_cv() const;
  // The share of all GPU-seconds that jobs on one node had (1 without any job).
  double single_node_share() const {
    return all_gpu_s_ > 0 ? 1 - gang_gpu_s_ / all_gpu_s_ : 1;
  }
  // E[S - a | S > a] over the jobs on one node, at the highest bucket edge a at or below
  // `attained`; nullopt when fewer than kMinTail of them are at or past that edge.
  std::optional<double> mean_residual_gpu_s(int64_t attained) const;
  // The least attained service threshold this history supports: the lowest bucket edge at or
  // above `at_least` where the mean residual service is at least `gain` x E[S]; 0 (do not
  // demote) where no edge is. nullopt before `min_jobs` jobs (gangs included) were recorded:
  // too little to say.
  std::optional<int64_t> demote_threshold_gpu_s(int64_t at_least, double gain,
                                                double min_jobs) const;

  static int64_t edge_gpu_s(int bucket);  // the lower edge of a bucket
  static int bucket_of(int64_t gpu_s);    // the bucket holding gpu_s (< 1 counts as 1)

 private:
  std::array<double, kBuckets> counts_{};
  std::array<double, kBuckets> sums_{};
  double count_ = 0, sum_gpu_s_ = 0;  // jobs on one node
  double prediction_error_ = 0, baseline_error_ = 0;
  double all_count_ = 0, all_run_s_ = 0, all_gpu_s_ = 0, all_gpu_s2_ = 0, gang_gpu_s_ = 0;
};

}  // namespace berth::core
