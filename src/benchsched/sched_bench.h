// The scheduling benchmark behind `berth bench sched` (issue 3): how fast one thread drives
// core::Engine on a synthetic centre, and how much memory that state takes.
//
// run_sched_bench builds a centre deterministically from the seed (nodes, GPU models and
// prices, organisations, projects with wallets and awards, a few projects short of money) and
// a stream of jobs of mixed sizes, tiers and projects, then measures three things through the
// Engine's public API only:
//   burst  - all `jobs` submitted at once, then schedule passes at advancing virtual times,
//            ending jobs whose true runtime elapsed in between, until every job that can be
//            paid for has started (or a wall-time budget runs out: "truncated": true);
//   steady - a full cluster with ~`jobs` pending: one event (a job ends, or one arrives when
//            the queue got shorter), then one timed Engine::schedule call, repeated;
//   memory - the process's resident size and the heap the Engine holds.
// Like berthd, the bench drains the Engine's changes after each command and stops the spot
// jobs it is asked to preempt (take_preemptions), ending them after a 30 s grace.
//
// Wall time (std::chrono::steady_clock) is read here only, never inside the core. Every count
// in the result (refused, decisions, passes, ...) depends on the options alone, except where a
// budget cut a phase short ("truncated"), so two runs with the same seed agree on them.
// Not thread-safe; runs on the calling thread and may take minutes at full size.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace berth::benchsched {

struct SchedBenchOptions {
  int nodes = 10'000;
  int gpus_per_node = 8;  // 1..64, the core's limit per node
  int jobs = 100'000;
  uint64_t seed = 1;
  // Budgets, so the benchmark always finishes however slow the scheduler is.
  double burst_budget_s = 60;      // wall time for the burst phase
  int burst_max_passes = 100'000;  // schedule passes in the burst phase
  int steady_events = 1'000;       // single-event passes timed in the steady phase
  double steady_budget_s = 60;     // wall time for the steady phase
  int64_t tick_s = 60;             // virtual time between burst passes (at least)
};

// Runs the benchmark and returns one JSON object with: nodes, gpus_per_node, jobs, seed,
// refused, submit_per_s, decisions, decisions_per_s, passes, drain_wall_s, pass_ms_p50,
// pass_ms_p99, pass_ms_max, rss_mb, rss_mb_before, truncated, note, and more detail.
// InvalidArgument for options out of range; Internal if the Engine refuses the synthetic
// centre or its books do not verify at the end.
Result<nlohmann::json> run_sched_bench(const SchedBenchOptions& options);

}  // namespace berth::benchsched
