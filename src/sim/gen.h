// Synthetic traces for `berth sim gen`: a seeded generator of job streams of a few known shapes,
// so that a policy can be tried on loads no real log has (more gangs, burstier arrivals, a given
// offered load) and any result reproduced from its seed.
//
// A trace is a pure function of its GenOptions: the random numbers come from a generator written
// out here (SplitMix64 to seed xoshiro256**, Box-Muller for normals), not from <random>'s
// distributions, whose output differs between standard libraries; the same seed gives the same
// trace on every machine. (The draws go through log, exp, sin and cos, which IEEE 754 does not
// require to be correctly rounded; an ulp's difference in a libm could move a value by a second
// only where it falls within an ulp of a half second, which a test pins against: gen_test.cc.)
//
// Classes (sizes in GPUs, runtimes in seconds; a log-normal is given by its median m and sigma s,
// runtime = m * exp(s * z) for a standard normal z, at least 1 s, whole seconds):
//   homogeneous   every job 1 GPU; runtime log-normal, median 3 h, s = ln 2 / 1.2816 (so the
//                 90th percentile is 6 h); Poisson arrivals.
//   heavy-tailed  mostly small: 1 GPU 70%, 2: 10%, 4: 8%, 8: 8%, and gangs of 16: 3%, 32: 1%;
//                 runtime log-normal, median 15 min, s = 2, at most 30 days; Poisson arrivals.
//   gangs         small jobs (1 GPU 70%, 2 GPUs 30%; runtime log-normal, median 1 h, s = 1) and,
//                 with probability 1/200 each, a 64-GPU gang (median 24 h, s = 0.5); Poisson.
//   bursty        sizes and runtimes as heavy-tailed; arrivals from a two-state modulated Poisson
//                 process: quiet periods (mean length 200 mean gaps) and busy ones (mean 50 mean
//                 gaps) at 10 times the quiet rate, so about 70% of jobs come in bursts.
//
// Offered load: the arrival rate is set from the trace's own mean GPU-time, and the arrival span
// stretched to match, so that sum(gpus x runtime) / (nodes x gpus_per_node x (last submit -
// first submit)) is `load` up to the rounding of submits to whole seconds. Tenants are "t1" ..
// "tN", each job's drawn uniformly by the generator. Ids are "1".."jobs" in submit order; the
// first job is submitted at 0.
#pragma once

#include <cstdint>
#include <string>

#include "common/enum_names.h"
#include "common/status.h"
#include "sim/trace.h"

namespace berth::sim {

enum class GenClass { kHomogeneous, kHeavyTailed, kGangs, kBursty };
inline constexpr auto kGenClassNames =
    enum_names<GenClass>("trace class", {{GenClass::kHomogeneous, "homogeneous"},
                                         {GenClass::kHeavyTailed, "heavy-tailed"},
                                         {GenClass::kGangs, "gangs"},
                                         {GenClass::kBursty, "bursty"}});

inline constexpr int64_t kMaxGenJobs = 10'000'000;
inline constexpr int kMaxGenTenants = 100'000;
inline constexpr double kMaxGenLoad = 100;

struct GenOptions {
  GenClass cls = GenClass::kHomogeneous;
  int64_t jobs = 2000;
  uint64_t seed = 1;
  int nodes = 16;  // the cluster the load is computed for
  int gpus_per_node = 8;
  double load = 0.8;  // offered load: sum(gpus x runtime) / (cluster GPUs x span of arrivals)
  int tenants = 4;    // tenants "t1".."tN", each job's drawn by the generator
};

// Errors: Invalid naming the option for jobs outside [1, kMaxGenJobs], load not in
// (0, kMaxGenLoad], nodes or gpus_per_node < 1, tenants outside [1, kMaxGenTenants]; Invalid
// when the load is so low that the arrivals would span more than kMaxTraceSeconds.
Result<Trace> generate_trace(const GenOptions& options);

// The trace as berth's CSV, "id,submit_s,runtime_s,gpus,tenant" and a row per job in trace order
// (fields quoted as RFC 4180 where needed), which read_trace(kCsv) reads back into the same jobs.
// Errors: Invalid for a job that breaks TraceJob's promises (runtime < 0, gpus < 1).
Result<std::string> write_trace_csv(const Trace& trace);

}  // namespace berth::sim
