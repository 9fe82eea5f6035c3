// The report of a `berth sim` run: machine-readable files and one self-contained HTML page.
//
// write_report(dir, ...) creates `dir` if missing and writes, replacing earlier files:
//   metrics.json  the given object, pretty-printed;
//   jobs.csv      one row per job per policy: policy,id,tenant,submit_s,start_s,end_s,gpus,
//                 wait_s,cost,subsidy (money as format_amount decimals; fields quoted as RFC 4180
//                 when they hold a comma, quote or newline);
//   index.html    one page with no external scripts, styles, fonts or images: a summary table of
//                 each policy's headline metrics, delays and preemptions (read from
//                 PolicyRun::metrics, as compute_metrics and berth sim make them), a sentence
//                 per policy saying what it does, a table per size class and policy (slowdown
//                 and delay, from metrics' size_classes), and inline SVG charts drawn from the
//                 jobs: utilisation over time per policy (lines), the wait-time distribution per
//                 policy (CDF, log time axis), average JCT per tenant per policy (grouped bars;
//                 the 20 tenants with the most jobs when there are more), and, when `awards` is
//                 not empty, each tenant's award money left over time.
// Times in JobOutcome and AwardSeries share one clock (seconds, the trace's submit_s base);
// charts show time since the earliest submit.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "sim/metrics.h"

namespace berth::sim {

struct PolicyRun {
  std::string policy;
  nlohmann::json metrics;  // compute_metrics() of `jobs` (the summary table reads it)
  std::vector<JobOutcome> jobs;
  std::string description;  // one sentence saying what the policy does (policy_description)
};

struct AwardSeries {
  std::string tenant;
  std::vector<std::pair<int64_t, int64_t>>
      left_minor;  // (time s, award money left) points, by time
};

inline constexpr int kReportMaxTenantBars = 20;
inline constexpr int kReportUtilizationBuckets = 200;

// Errors: Internal naming the path when a directory or file cannot be made or written.
Status write_report(const std::string& dir, const nlohmann::json& metrics,
                    const std::vector<PolicyRun>& runs, int64_t total_gpus,
                    const std::vector<AwardSeries>& awards);

// The page write_report writes as index.html (exposed for tests and for callers that serve it).
std::string report_html(const std::vector<PolicyRun>& runs, int64_t total_gpus,
                        const std::vector<AwardSeries>& awards);

}  // namespace berth::sim
