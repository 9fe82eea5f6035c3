// Metrics of a replay: what happened to each job, summed up the way scheduling papers report it.
//
// All times are seconds on the replay's clock (the trace's submit_s base). For a job,
//   wait = first start - submit,  run = end - start (or, for a job preempted and requeued,
//   the sum of its runs),  JCT (job completion time) = end - submit,
//   bounded slowdown = max(1, JCT / max(run, 10 s)),  delay = JCT - run (the time it was not
//   holding GPUs: its wait, and for a preempted job the time between its runs as well; what a
//   starved job shows however long it runs).
// Size classes group jobs by their GPUs: "1", "2-8", "9-32", "33+".
// Percentiles use the nearest-rank definition: the p-th percentile of n sorted values is the
// value at 1-based rank ceil(p / 100 * n) (at least 1), so it is always one of the values.
// Jain's fairness index over tenants' average bounded slowdowns x_i is
//   (sum x_i)^2 / (n * sum x_i^2): 1 when all tenants fare alike, 1/n when one takes all the
// slowdown; 1 with one tenant (or none).
//
// Preconditions (programmer errors, not checked in release builds): submit <= start <= end and
// gpus >= 0 for every outcome. Pure functions: no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::sim {

struct JobOutcome {
  std::string id;  // the trace's job id, as text
  std::string tenant;
  int64_t submit_s = 0, start_s = 0, end_s = 0;  // start_s: its first start
  int gpus = 0;
  int64_t cost_minor = 0, subsidy_minor = 0;
  bool waited_for_funds = false;
  // The (start, end) of each time it held GPUs, when it ran more than once (it was preempted
  // and requeued); empty: once, from start_s to end_s.
  std::vector<std::pair<int64_t, int64_t>> runs_s;
  // How long it held GPUs, over all its runs.
  int64_t run_s() const {
    if (runs_s.empty()) return end_s - start_s;
    int64_t sum = 0;
    for (const auto& [from, to] : runs_s) sum += to - from;
    return sum;
  }
};

inline constexpr int64_t kSlowdownFloorS = 10;  // the "bounded" in bounded slowdown

// The size classes' labels, smallest first, and the class of a job of `gpus` GPUs.
inline constexpr const char* kSizeClasses[] = {"1", "2-8", "9-32", "33+"};
const char* size_class(int gpus);

// The nearest-rank percentile (0 < p <= 100) of `values`, which it sorts; 0 when empty.
int64_t percentile_nearest_rank(std::vector<int64_t>* values, double p);

// Jain's index of `values`: 1.0 for none, one, or all zeros.
double jain_index(const std::vector<double>& values);

// A JSON object with:
//   jobs, gpu_seconds, makespan_s (last end - first submit), utilization (GPU-seconds run /
//   (total_gpus * makespan); 0 when either is 0), avg_jct_s, p50_jct_s, p99_jct_s, avg_wait_s,
//   p50_wait_s, p99_wait_s, avg_bounded_slowdown, avg_delay_s, p99_delay_s, max_delay_s,
//   jain_fairness, "tenants": {name: {jobs, gpu_seconds, avg_jct_s, p50_jct_s, p99_jct_s,
//   avg_wait_s, p50_wait_s, p99_wait_s, avg_bounded_slowdown, avg_delay_s, p99_delay_s,
//   max_delay_s}} (a job with no tenant is under the name ""), and "size_classes": {label:
//   {jobs, avg_jct_s, p99_jct_s, avg_bounded_slowdown, avg_delay_s, p99_delay_s, max_delay_s}}
//   for each size class with jobs.
// When any job cost money: cost_minor, subsidy_minor, copay_minor (= cost - subsidy) as
// integers and cost, subsidy, copay as decimal strings (format_amount), overall and per
// tenant, and jobs_waited_for_funds overall and per tenant.
nlohmann::json compute_metrics(const std::vector<JobOutcome>& jobs, int64_t total_gpus);

// Utilisation over time: [first submit, last end] cut into `buckets` equal intervals, and for
// each the average number of busy GPUs over it divided by total_gpus. Empty when there are no
// jobs or buckets <= 0; all zeros when the span is empty or total_gpus <= 0.
std::vector<double> utilization_series(const std::vector<JobOutcome>& jobs, int64_t total_gpus,
                                       int buckets);

// The same over a given span [from_s, to_s) (from_s < to_s), so that several runs can be drawn
// on one time axis. Time outside the span is not counted.
std::vector<double> utilization_series_between(const std::vector<JobOutcome>& jobs,
                                               int64_t total_gpus, int64_t from_s, int64_t to_s,
                                               int buckets);

}  // namespace berth::sim
