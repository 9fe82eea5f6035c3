#include "sim/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>

#include "common/money.h"

namespace berth::sim {
namespace {

// Sums for one group of jobs (all of them, or one tenant's).
struct Group {
  std::vector<int64_t> jct_s, wait_s, delay_s;
  double slowdown_sum = 0;
  int64_t gpu_seconds = 0;
  int64_t cost_minor = 0, subsidy_minor = 0;
  int64_t waited_for_funds = 0;

  void add(const JobOutcome& j) {
    assert(j.submit_s <= j.start_s && j.start_s <= j.end_s && j.gpus >= 0);
    const int64_t wait = j.start_s - j.submit_s;
    const int64_t run = j.run_s();
    const int64_t jct = j.end_s - j.submit_s;
    jct_s.push_back(jct);
    wait_s.push_back(wait);
    delay_s.push_back(jct - run);
    slowdown_sum += std::max(
        1.0, static_cast<double>(jct) / static_cast<double>(std::max(run, kSlowdownFloorS)));
    gpu_seconds += run * j.gpus;
    cost_minor += j.cost_minor;
    subsidy_minor += j.subsidy_minor;
    waited_for_funds += j.waited_for_funds ? 1 : 0;
  }

  double avg_slowdown() const {
    return jct_s.empty() ? 0.0 : slowdown_sum / static_cast<double>(jct_s.size());
  }

  // The fields shared by the whole and each tenant.
  nlohmann::json to_json(bool with_money) {
    const auto n = static_cast<double>(jct_s.size());
    auto mean = [n](const std::vector<int64_t>& v) {
      double sum = 0;
      for (int64_t x : v) sum += static_cast<double>(x);
      return v.empty() ? 0.0 : sum / n;
    };
    nlohmann::json out;
    out["jobs"] = jct_s.size();
    out["gpu_seconds"] = gpu_seconds;
    out["avg_jct_s"] = mean(jct_s);
    out["p50_jct_s"] = percentile_nearest_rank(&jct_s, 50);
    out["p99_jct_s"] = percentile_nearest_rank(&jct_s, 99);
    out["avg_wait_s"] = mean(wait_s);
    out["p50_wait_s"] = percentile_nearest_rank(&wait_s, 50);
    out["p99_wait_s"] = percentile_nearest_rank(&wait_s, 99);
    out["avg_bounded_slowdown"] = avg_slowdown();
    out["avg_delay_s"] = mean(delay_s);
    out["max_delay_s"] = delay_s.empty() ? 0 : *std::max_element(delay_s.begin(), delay_s.end());
    out["p99_delay_s"] = percentile_nearest_rank(&delay_s, 99);
    if (with_money) {
      out["cost_minor"] = cost_minor;
      out["subsidy_minor"] = subsidy_minor;
      out["copay_minor"] = cost_minor - subsidy_minor;
      out["cost"] = format_amount(cost_minor);
      out["subsidy"] = format_amount(subsidy_minor);
      out["copay"] = format_amount(cost_minor - subsidy_minor);
      out["jobs_waited_for_funds"] = waited_for_funds;
    }
    return out;
  }
};

}  // namespace

const char* size_class(int gpus) {
  if (gpus <= 1) return kSizeClasses[0];
  if (gpus <= 8) return kSizeClasses[1];
  if (gpus <= 32) return kSizeClasses[2];
  return kSizeClasses[3];
}

int64_t percentile_nearest_rank(std::vector<int64_t>* values, double p) {
  if (values->empty()) return 0;
  std::sort(values->begin(), values->end());
  const auto n = static_cast<double>(values->size());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * n));
  rank = std::clamp<size_t>(rank, 1, values->size());
  return (*values)[rank - 1];
}

double jain_index(const std::vector<double>& values) {
  double sum = 0, sum_sq = 0;
  for (double x : values) {
    sum += x;
    sum_sq += x * x;
  }
  if (values.size() <= 1 || sum_sq == 0) return 1.0;
  return sum * sum / (static_cast<double>(values.size()) * sum_sq);
}

nlohmann::json compute_metrics(const std::vector<JobOutcome>& jobs, int64_t total_gpus) {
  Group all;
  std::map<std::string, Group> tenants;
  std::map<std::string, Group> classes;
  bool with_money = false;
  int64_t first_submit_s = 0, last_end_s = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobOutcome& j = jobs[i];
    all.add(j);
    tenants[j.tenant].add(j);
    classes[size_class(j.gpus)].add(j);
    with_money = with_money || j.cost_minor > 0;
    first_submit_s = i == 0 ? j.submit_s : std::min(first_submit_s, j.submit_s);
    last_end_s = i == 0 ? j.end_s : std::max(last_end_s, j.end_s);
  }
  const int64_t makespan_s = last_end_s - first_submit_s;
  std::vector<double> slowdowns;
  for (const auto& [name, group] : tenants) slowdowns.push_back(group.avg_slowdown());

  nlohmann::json out = all.to_json(with_money);
  out["makespan_s"] = makespan_s;
  out["total_gpus"] = total_gpus;
  out["utilization"] = makespan_s > 0 && total_gpus > 0
                           ? static_cast<double>(all.gpu_seconds) /
                                 (static_cast<double>(total_gpus) * static_cast<double>(makespan_s))
                           : 0.0;
  out["jain_fairness"] = jain_index(slowdowns);
  nlohmann::json per_tenant = nlohmann::json::object();
  for (auto& [name, group] : tenants) per_tenant[name] = group.to_json(with_money);
  out["tenants"] = std::move(per_tenant);
  nlohmann::json per_class = nlohmann::json::object();
  for (auto& [label, group] : classes) {
    const nlohmann::json g = group.to_json(false);
    nlohmann::json& c = per_class[label];
    for (const char* key : {"jobs", "avg_jct_s", "p99_jct_s", "avg_bounded_slowdown", "avg_delay_s",
                            "p99_delay_s", "max_delay_s"})
      c[key] = g[key];
  }
  out["size_classes"] = std::move(per_class);
  return out;
}

std::vector<double> utilization_series_between(const std::vector<JobOutcome>& jobs,
                                               int64_t total_gpus, int64_t from_s, int64_t to_s,
                                               int buckets) {
  if (buckets <= 0) return {};
  std::vector<double> partial(static_cast<size_t>(buckets), 0.0);
  if (to_s <= from_s || total_gpus <= 0) return partial;
  // Busy GPUs integrated over each bucket, in units of one bucket's length: a job's first and
  // last buckets get their fractions directly, the whole buckets between through a difference
  // array, so the cost is O(jobs + buckets) however long the jobs run.
  std::vector<double> whole(static_cast<size_t>(buckets) + 1, 0.0);
  const double width_s = static_cast<double>(to_s - from_s) / buckets;
  auto add = [&](const JobOutcome& j, int64_t start_s, int64_t end_s) {
    const int64_t s = std::max(start_s, from_s), e = std::min(end_s, to_s);
    if (e <= s || j.gpus <= 0) return;
    const double x = static_cast<double>(s - from_s) / width_s;
    const double y = static_cast<double>(e - from_s) / width_s;
    const int b0 = std::min(static_cast<int>(x), buckets - 1);
    const int b1 = std::min(static_cast<int>(y), buckets - 1);
    const double g = j.gpus;
    if (b0 == b1) {
      partial[b0] += g * (y - x);
      return;
    }
    partial[b0] += g * (b0 + 1 - x);
    partial[b1] += g * (y - b1);
    whole[b0 + 1] += g;
    whole[b1] -= g;
  };
  for (const JobOutcome& j : jobs) {
    if (j.runs_s.empty()) add(j, j.start_s, j.end_s);
    for (const auto& [start_s, end_s] : j.runs_s) add(j, start_s, end_s);
  }
  double running = 0;
  for (int i = 0; i < buckets; ++i) {
    running += whole[i];
    partial[i] = (partial[i] + running) / static_cast<double>(total_gpus);
  }
  return partial;
}

std::vector<double> utilization_series(const std::vector<JobOutcome>& jobs, int64_t total_gpus,
                                       int buckets) {
  if (jobs.empty() || buckets <= 0) return {};
  int64_t from_s = jobs.front().submit_s, to_s = jobs.front().end_s;
  for (const JobOutcome& j : jobs) {
    from_s = std::min(from_s, j.submit_s);
    to_s = std::max(to_s, j.end_s);
  }
  return utilization_series_between(jobs, total_gpus, from_s, to_s, buckets);
}

}  // namespace berth::sim
