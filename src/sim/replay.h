// Replay: a trace's jobs through the real core on a virtual clock (berth sim).
//
// Each trace job becomes a JobRequest submitted at its submit time to a VirtualCluster (the
// same Engine berthd runs); its simulated process runs for the trace's runtime. Tenants become
// an organisation and a project each. Nothing is sampled or randomised: a replay is a pure
// function of the trace and the configuration.
//
// Policies map onto the scheduler's objects (one table: policy_table.cc):
//   fifo         strict submit order: the first job that cannot start blocks all behind it
//   easy         submit order with EASY backfill
//   multifactor  Slurm-like multifactor priority (age, fair share) with EASY backfill
//   sjf          smallest GPU-time first using the true runtimes, with backfill (a reference
//                no real scheduler can reach: it knows the future)
//   default      berth's best without an oracle: least attained service over smallest planned
//                GPU-time first (planned = the estimate chosen by --estimates), with EASY
//                backfill. A job that has had demote_after_gpu_s GPU-seconds is demoted behind
//                the jobs that have not, and they may preempt it (scheduler.h), once it has
//                run preempt_exempt_s since it last started. Every trace job
//                is taken to checkpoint, as deep-learning training does (Tiresias and Gandiva
//                assume the same): preempted, it is requeued and later resumes with the work it
//                had left, after restart_overhead_s of loading its checkpoint.
// Estimates (what backfill and shortest-first plan with): limit (the trace's time limits; none
// known: the partition's), predict (the engine's own prediction from each tenant's finished
// jobs, capped by the limit), oracle (the true runtime).
//
// The cluster: the given nodes, or with tenant pools one cluster per tenant of that many nodes
// like the first configured node (Helios's replay of Philly gives each virtual cluster its own
// nodes); jobs of tenants without a pool are skipped and counted. A job that could never be
// placed (more GPUs or nodes than its cluster) is skipped and counted (too_large); one the engine
// refuses for another reason is skipped and counted apart (refused), noting why. A job larger than
// a node is a gang of ceil(gpus / GPUs per node) nodes, its GPUs rounded up to fill them evenly
// (counted). The replay has one partition whose longest time is above every job's runtime and
// limit.
//
// Money (optional): prices per GPU-hour, a scheme (rate, fund, shortfall rule) and per tenant
// an award (amount, GPU level, days) and a wallet; the engine holds and settles every job
// exactly as berthd does, except that a job without a time limit holds money for the scheme's
// hold_hours rather than the replay's longest time. Without economics every price is zero.
// Money never changes the scheduler's passes: with money that no job is short of, every job
// starts and ends exactly as without it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/civil.h"
#include "common/enum_names.h"
#include "common/money.h"
#include "common/status.h"
#include "core/cluster.h"
#include "core/model.h"
#include "sim/metrics.h"
#include "sim/report.h"
#include "sim/trace.h"

namespace berth::sim {

enum class Policy { kFifo, kEasy, kMultifactor, kSjf, kDefault };
inline constexpr auto kPolicyNames =
    enum_names<Policy>("policy", {{Policy::kFifo, "fifo"},
                                  {Policy::kEasy, "easy"},
                                  {Policy::kMultifactor, "multifactor"},
                                  {Policy::kSjf, "sjf"},
                                  {Policy::kDefault, "default"}});
enum class Estimates { kLimit, kPredict, kOracle };
inline constexpr auto kEstimatesNames =
    enum_names<Estimates>("estimates", {{Estimates::kLimit, "limit"},
                                        {Estimates::kPredict, "predict"},
                                        {Estimates::kOracle, "oracle"}});
// default's starvation limit: hours of delay after which a waiting job goes first.
inline constexpr int64_t kDefaultStarveAfterHours = 24;

const char* policy_name(Policy p);
bool parse_policy(const std::string& text, Policy* out);
// "fifo,easy,sjf" -> policies in that order; "all" -> all five. Error names the bad word.
Result<std::vector<Policy>> parse_policies(const std::string& text);
const char* estimates_name(Estimates e);
bool parse_estimates(const std::string& text, Estimates* out);

struct TenantMoney {
  Minor award_minor = 0;    // 0: no award
  int gpu_level = 1 << 20;  // the award's GPU level
  int64_t award_days = 365;
  Minor wallet_minor = 0;
};

struct Economics {
  std::vector<core::GpuPrice> prices;  // per GPU model of the cluster
  int64_t rate_bps = 7000;
  Minor fund_minor = 0;
  core::Shortfall shortfall = core::Shortfall::kWallet;
  std::map<std::string, TenantMoney> tenants;
  TenantMoney others;  // tenants not listed
  // The run time a trace job without a time limit holds money for (price x GPUs x this); it
  // still runs as long as it ran, and is charged at most what it held (core::Job::hold_s).
  int64_t hold_hours = kDefaultHoldHours;
  static constexpr int64_t kDefaultHoldHours = 24;
};

struct ReplayConfig {
  core::ClusterConfig cluster;  // its nodes (its partitions and prices are replaced)
  std::vector<std::pair<std::string, int>> pools;  // tenant -> nodes; empty: one shared cluster
  Policy policy = Policy::kDefault;
  Estimates estimates = Estimates::kPredict;
  int64_t demote_after_gpu_s = kSecondsPerHour;  // default's least attained service (0: off)
  bool adapt_demotion = true;  // default: learn the threshold, starting at demote_after_gpu_s
  int64_t starve_after_s = kDefaultStarveAfterHours * kSecondsPerHour;  // default (0: off)
  int64_t restart_overhead_s = 30;               // a preempted job's restart from its checkpoint
  int64_t preempt_exempt_s = 900;        // default: a run is not preempted in its first 15 minutes
  const Economics* economics = nullptr;  // optional
  std::function<void(int64_t done, int64_t total)> progress;  // called at most ~100 times
};

struct ReplayResult {
  std::vector<JobOutcome> jobs;  // every job that ran, in trace order
  int64_t total_gpus = 0;
  int64_t skipped_no_pool = 0;    // tenant without a pool
  int64_t skipped_too_large = 0;  // more GPUs (or nodes) than its cluster has
  int64_t skipped_refused = 0;    // refused at submit for another reason (the first in notes)
  int64_t gpus_rounded_up = 0;    // gangs whose GPUs were rounded up to fill whole nodes
  int64_t never_started = 0;      // jobs still pending at the end (e.g. never affordable)
  int64_t preemptions = 0;        // jobs stopped to make room, and requeued
  // Jobs that waited for money (for any reason of delayed_by), those that never started too.
  int64_t jobs_delayed_by_funds = 0;
  // Jobs that waited for money, by the reason they waited for (core::waits_for_money: the
  // PendingReason's name); a job that waited for two reasons counts under each.
  std::map<std::string, int64_t> delayed_by;
  std::vector<std::string> notes;  // for the user: refused submits
  nlohmann::json money;  // per tenant: cost, subsidy, copay, award_ran_out (null if never)
  std::vector<AwardSeries> awards;  // award money left over time, per tenant with an award
  int64_t start_epoch_s = 0;
};

// Replays `trace`. Errors: a configuration the engine refuses (e.g. no nodes).
Result<ReplayResult> replay(const Trace& trace, const ReplayConfig& config);

}  // namespace berth::sim
