// Multifactor priority, Slurm's model: a weighted sum of factors in [0, 1].
//
//   priority = w_age * min(age, max_age) / max_age
//            + w_fairshare * F
//            + w_tier * (high 1, normal 0.5, spot 0)
//            + w_size * GPUs / GPUs in the cluster
//
// F, the fair-share factor, is the mean of the organisation's and the project's
// 2^(-U/S), where U is its share of all decayed past usage (GPU-seconds, halving every
// half-life) and S its share of all shares (configured; 1 by default). A tenant that used
// less than its share gets F near 1; one that used far more gets F near 0.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "common/civil.h"
#include "common/enum_names.h"
#include "common/ids.h"
#include "core/model.h"

namespace berth::core {

struct PriorityWeights {
  int64_t age = 1'000;
  int64_t fairshare = 10'000;
  int64_t tier = 100'000;
  int64_t size = 0;  // > 0 favours large jobs, as Slurm's PriorityWeightJobSize
  int64_t max_age_s = kSecondsPerWeek;
};

// Caps on an organisation or project (Slurm's GrpTRES=gres/gpu and MaxSubmitJobs).
struct Limit {
  int64_t max_gpus = -1;     // GPUs in use at once; -1 = no cap
  int64_t max_pending = -1;  // jobs waiting at once; further submits are refused; -1 = no cap
};

// The order pending jobs are considered in.
enum class QueueOrder : uint8_t {
  kPriority = 0,  // multifactor priority (then submit time)
  kFifo,          // submit time only
  kShortest,      // smallest planned GPU-time (GPUs x planned runtime) first
};
inline constexpr auto kQueueOrderNames =
    enum_names<QueueOrder>("queue order", {{QueueOrder::kPriority, "priority"},
                                           {QueueOrder::kFifo, "fifo"},
                                           {QueueOrder::kShortest, "shortest"}});
const char* queue_order_name(QueueOrder o);
bool parse_queue_order(const std::string& text, QueueOrder* out);

// Least attained service's learned threshold (SchedulerConfig::adapt_demotion): never below
// kAdaptFloorGpuS; where a job that reached it can be expected to need at least kAdaptGain x
// what a new job needs; learned only once kAdaptMinJobs jobs have finished.
inline constexpr int64_t kAdaptFloorGpuS = kSecondsPerHour;
inline constexpr double kAdaptGain = 2.0;
inline constexpr double kAdaptMinJobs = 100;
// ... and only where jobs on one node (which alone it may stop) had at least this share of the
// GPU-seconds.
inline constexpr double kAdaptMinSingleNodeShare = 0.1;
// Jobs whose GPU-seconds vary less than this (standard deviation / mean; 1 for exponential
// sizes) are alike: the shortest-first order becomes submit order.
inline constexpr double kAdaptAlikeCv = 1.0;
// ... and where predictions miss by at least this share of what the mean run would have
// (their mean absolute log error over the mean run's), they do not tell jobs apart either.
inline constexpr double kAdaptPredictionGain = 0.8;
// A learned starvation limit is this many mean runs.
inline constexpr double kStarveMeanRuns = 10;

struct SchedulerConfig {
  PriorityWeights weights;
  QueueOrder order = QueueOrder::kPriority;
  bool conservative = false;        // every blocked job gets a reservation, not just the first
  bool strict = false;              // the first job that cannot start blocks all behind it (FIFO)
  bool predict_runtimes = true;     // jobs without a time limit: plan with the project's history
  bool predict_with_limit = false;  // and jobs with one too (the prediction is capped by it)
  int64_t usage_half_life_s = kSecondsPerWeek;
  int64_t priority_recalc_ms =
      kMsPerMinute;                // priorities are recomputed this often (and on submit)
  bool backfill = true;            // EASY: the top blocked job gets a reservation
  int backfill_depth = 10'000;     // pending jobs examined per pass after that reservation
  int64_t spot_price_bps = 5'000;  // spot jobs pay this share of the list price
  bool preemption = true;          // normal and high jobs may preempt spot jobs
  // Least attained service (0: off). A job that has had this many GPU-seconds, over all its
  // attempts, is demoted: it queues behind every job of its tier that has not, and while it
  // runs, if it asked to be requeued, a job that has not may preempt it (see scheduler.h).
  int64_t demote_after_gpu_s = 0;
  int64_t preempt_exempt_s =
      0;  // no job is preempted in its first seconds of a run (Slurm's PreemptExemptTime)
  // Learn from the jobs that finished (ServiceProfile, service_profile.h), at each
  // recomputation of priorities once kAdaptMinJobs have: least attained service's threshold
  // becomes the lowest, from kAdaptFloorGpuS up, where a job can still be expected to need
  // kAdaptGain x what a new job needs, or 0 where none is (nothing is demoted or preempted for
  // it: jobs alike would only take turns); until then it is 0. Least attained service must be
  // on (demote_after_gpu_s > 0). A starvation limit that is on becomes kStarveMeanRuns x the
  // mean run of the finished jobs; and a shortest-first order becomes submit order while jobs
  // are alike or predictions miss (kAdaptAlikeCv, kAdaptPredictionGain), and back.
  bool adapt_demotion = false;
  // Starvation (Tiresias's STARVELIMIT): a job that has waited this long since its submission
  // without starting goes ahead of every job of its tier that has not, oldest first, so that it
  // is the first blocked and gets a reservation. 0: off. Only the shortest-first order, which
  // alone can starve a job that way, honours it. (Jobs that have run are not promoted: least
  // attained service means to make them wait, and promoting them was measured to make them
  // take turns with the jobs they then preempt.)
  int64_t starve_after_s = 0;
  std::unordered_map<std::string, Limit> org_limits;        // by name
  std::unordered_map<std::string, Limit> project_limits;    // by name
  std::unordered_map<std::string, int64_t> org_shares;      // by name; 1 when absent
  std::unordered_map<std::string, int64_t> project_shares;  // by name; 1 when absent
};

// Decayed usage per organisation and project, and the fair-share factor from it.
class FairShare {
 public:
  explicit FairShare(int64_t half_life_s = kSecondsPerWeek) : half_life_s_(half_life_s) {}
  void set_shares(OrgId org, int64_t shares);
  void set_shares(ProjectId project, int64_t shares);
  // Records usage; call decay(now) first so it is added at the current scale.
  void add_usage(OrgId org, ProjectId project, double gpu_seconds);
  // Decays every usage to now_ms.
  void decay(int64_t now_ms);
  double factor(OrgId org, ProjectId project) const;
  double usage(OrgId org) const;
  double usage(ProjectId project) const;

 private:
  struct Entry {
    double usage = 0;
    int64_t shares = 1;
  };
  static double part(const std::unordered_map<uint64_t, Entry>& all, uint64_t id,
                     double total_usage, int64_t total_shares);
  int64_t half_life_s_;
  int64_t decayed_to_ms_ = 0;
  std::unordered_map<uint64_t, Entry> orgs_, projects_;
  double org_usage_ = 0, project_usage_ = 0;
  int64_t org_shares_ = 0, project_shares_ = 0;
};

int64_t job_priority(const Job& job, const PriorityWeights& w, double fairshare, int total_gpus,
                     int64_t now_ms);

// The priority that orders the queue under config.order (policy/queue_order.h): the
// multifactor priority; 0 for FIFO (submit time decides); or, for shortest-first, tier first
// (high, normal, spot), then the smallest planned GPU-time (GPUs x planned runtime). With
// demote_after_gpu_s, a demoted job comes after every job that is not: of its tier under
// shortest-first, of any tier under the other orders (where tier is only a weight or nothing).
bool demoted(const Job& job, const SchedulerConfig& config, int64_t now_ms);
// Whether a pending job that never started has waited config.starve_after_s (0: never).
bool starving(const Job& job, const SchedulerConfig& config, int64_t now_ms);
int64_t queue_priority(const Job& job, const SchedulerConfig& config, double fairshare,
                       int total_gpus, int64_t now_ms);

}  // namespace berth::core
