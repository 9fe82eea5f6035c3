// The robustness suite of berth's default policy: every real trace in ../shared/traces at two
// loads, and the four synthetic classes of `berth sim gen` at two loads, each replayed under
// every policy. robustness_test.cc asserts default's bars on each; bench/sim_robust.sh prints
// the whole table (robustness_test.cc writes it where BERTH_ROBUST_TABLE names a file).
//
// A load is the offered load: the trace's GPU-seconds over (the cluster's GPUs x the span of its
// submissions). The cluster is sized for it, but never smaller than the widest job needs, so a
// trace whose widest job fills the machine at a lower load (KTH) is replayed at that load.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/gen.h"
#include "sim/replay.h"
#include "sim_testing.h"

namespace berth::sim::testing {

struct Workload {
  std::string name;                    // e.g. "philly"
  std::function<Result<Trace>()> read;  // the trace
  int gpus_per_node = 8;
  std::vector<double> loads;  // offered loads to size the cluster for
};

// gtest prints a workload by its name.
inline void PrintTo(const Workload& w, std::ostream* os) { *os << w.name; }

inline constexpr double kRobustLoads[] = {0.7, 0.9};

inline std::vector<Workload> robustness_workloads() {
  const auto traces = real_traces();
  const auto window = [](const char* from, const char* to) {
    TraceOptions o;
    o.from_epoch_s = *parse_utc_timestamp_s(from);
    o.to_epoch_s = *parse_utc_timestamp_s(to);
    return o;
  };
  const std::vector<double> loads(std::begin(kRobustLoads), std::end(kRobustLoads));
  std::vector<Workload> out = {
      {"philly",
       [=] {
         return read_trace((traces / "philly" / "jobs.csv").string(), TraceFormat::kPhilly,
                           window("2017-10-01 00:00:00", "2017-12-01 00:00:00"));
       },
       8, loads},
      // KTH's SP2 had 100 one-processor nodes and jobs as wide as all of them: load 0.7 at most.
      {"kth-sp2",
       [=] {
         return read_trace((traces / "swf" / "KTH-SP2-1996-2.1-cln.swf").string(),
                           TraceFormat::kSwf, {});
       },
       1, {0.5, 0.7}},
      {"lublin-256",
       [=] {
         return read_trace((traces / "swf" / "lublin_256.swf").string(), TraceFormat::kSwf, {});
       },
       8, loads},
      {"pai-openb",
       [=] {
         return read_trace((traces / "pai-openb" / "openb_pod_list_default.csv").string(),
                           TraceFormat::kPai, {});
       },
       8, loads},
  };
  for (const auto& c : kGenClassNames.entries()) {
    const GenClass cls = c.value;
    out.push_back({std::string("gen-") + c.name,
                   [cls] {
                     // 32 nodes of 8 GPUs, 3,000 jobs; the load is set by the cluster size below.
                     return generate_trace(GenOptions{
                         .cls = cls, .jobs = 3'000, .seed = 1, .nodes = 32, .gpus_per_node = 8,
                         .load = 1.0, .tenants = 8});
                   },
                   8, loads});
  }
  // Jobs alike on a small cluster (32 GPUs): where a fixed least attained service threshold
  // made them take turns (1.9x fifo's average JCT), and a queue forms at these loads.
  out.push_back({"gen-homogeneous-small",
                 [] {
                   return generate_trace(GenOptions{.cls = GenClass::kHomogeneous,
                                                    .jobs = 3'000,
                                                    .seed = 1,
                                                    .nodes = 4,
                                                    .gpus_per_node = 8,
                                                    .load = 1.0,
                                                    .tenants = 8});
                 },
                 8, loads});
  return out;
}

// The nodes that give `trace` the offered load `load` on nodes of `gpus_per_node`, at least
// enough for its widest job.
inline int nodes_for_load(const Trace& trace, int gpus_per_node, double load) {
  double gpu_s = 0;
  int64_t first = INT64_MAX, last = 0;
  int widest = 1;
  for (const TraceJob& j : trace.jobs) {
    gpu_s += static_cast<double>(j.gpus) * static_cast<double>(j.runtime_s);
    first = std::min(first, j.submit_s);
    last = std::max(last, j.submit_s);
    widest = std::max(widest, (j.gpus + gpus_per_node - 1) / gpus_per_node);
  }
  const double span = std::max<double>(1, static_cast<double>(last - first));
  const int nodes = static_cast<int>(std::lround(gpu_s / (span * gpus_per_node * load)));
  return std::max(nodes, widest);
}

// One replay's figures, from compute_metrics.
struct PolicyFigures {
  Policy policy;
  double avg_jct_s = 0, p99_jct_s = 0, avg_bounded_slowdown = 0;
  std::string largest_class;   // the largest size class with jobs
  double largest_delay_s = 0;  // its average delay
  int64_t preemptions = 0;
  int64_t never_started = 0;
};

struct Cell {
  std::string workload;
  double load = 0;
  int nodes = 0;
  std::vector<PolicyFigures> policies;  // in kPolicyNames order
  const PolicyFigures& of(Policy p) const {
    return *std::find_if(policies.begin(), policies.end(),
                         [p](const PolicyFigures& f) { return f.policy == p; });
  }
};

inline Result<Cell> replay_cell(const Workload& w, const Trace& trace, double load) {
  Cell cell{w.name, load, nodes_for_load(trace, w.gpus_per_node, load), {}};
  for (const auto& p : kPolicyNames.entries()) {
    ReplayConfig config;
    for (int i = 0; i < cell.nodes; ++i) {
      core::Node n;
      n.name = "n" + std::to_string(i + 1);
      n.gpu_model = "GPU";
      n.gpus = w.gpus_per_node;
      config.cluster.nodes.push_back(n);
    }
    config.policy = p.value;
    config.estimates = Estimates::kPredict;
    BERTH_ASSIGN_OR_RETURN(auto r, replay(trace, config));
    const nlohmann::json m = compute_metrics(r.jobs, r.total_gpus);
    PolicyFigures f{p.value};
    f.avg_jct_s = m["avg_jct_s"].get<double>();
    f.p99_jct_s = m["p99_jct_s"].get<double>();
    f.avg_bounded_slowdown = m["avg_bounded_slowdown"].get<double>();
    for (const char* label : {"1", "2-8", "9-32", "33+"})
      if (m["size_classes"].contains(label)) {
        f.largest_class = label;
        f.largest_delay_s = m["size_classes"][label]["avg_delay_s"].get<double>();
      }
    f.preemptions = r.preemptions;
    f.never_started = r.never_started;
    cell.policies.push_back(f);
  }
  return cell;
}

}  // namespace berth::sim::testing
