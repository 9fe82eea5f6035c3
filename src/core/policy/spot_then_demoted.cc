#include <algorithm>

#include "core/policy/preemption.h"

namespace berth::core {

namespace {

class SpotThenDemoted final : public PreemptionPolicy {
 public:
  SpotThenDemoted(int64_t demote_after_gpu_s, int64_t exempt_s)
      : least_attained_(demote_after_gpu_s > 0),
        demote_after_gpu_s_(demote_after_gpu_s),
        exempt_s_(exempt_s) {}

  const char* name() const override { return "spot-then-demoted"; }

  // A gang is never stopped for least attained service: it could start again only on as many
  // whole nodes, which a stream of small jobs may not leave free for days.
  bool demotable(const Job& job) const override {
    return least_attained_ && job.requeue && job.nodes == 1;
  }

  void set_limits(int64_t demote_after_gpu_s, int64_t starve_after_s) override {
    if (least_attained_) demote_after_gpu_s_ = demote_after_gpu_s;
    starve_after_s_ = starve_after_s;
  }

  // The first blocked job of tier normal or high may preempt; with least attained service, so
  // may every later one not demoted: a short new job should not wait behind a large one that
  // finds nothing to stop.
  bool may_preempt(const Job& job, bool after_blocked, int64_t now_ms) const override {
    if (job.tier == Tier::kSpot) return false;
    return !after_blocked || (demote_after_gpu_s_ > 0 && !demoted(job, now_ms));
  }

  // The youngest spot jobs first; then, for a job not demoted itself, demoted jobs of no higher
  // tier, the fewest GPUs first (stopping a large job for a small one would leave most of its
  // GPUs to jobs that need no preemption, and a large job finds a whole node again only with
  // difficulty), then the most attained; high-tier jobs last, as only a high-tier job may stop
  // them. Jobs in their first exempt_s seconds of a run are left alone.
  void list_victims(const RunningSet& spot, const RunningSet& demotable,
                    const std::function<const Job&(JobId)>& lookup, int64_t now_ms,
                    Victims* out) const override {
    auto& order = out->order;
    order.clear();
    for (auto it = spot.rbegin(); it != spot.rend(); ++it)
      if (!exempt(lookup(JobId(it->second)), now_ms)) order.push_back({0, it->second});
    out->spot = order.size();
    for (auto it = demotable.rbegin(); it != demotable.rend(); ++it) {
      const Job& r = lookup(JobId(it->second));
      if (demoted(r, now_ms) && !exempt(r, now_ms) &&
          !r.starving(starve_after_s_, now_ms))
        order.push_back({victim_key(r, now_ms), it->second});
    }
    const auto low_end = order.begin() + static_cast<std::ptrdiff_t>(out->spot);
    const auto high = std::stable_partition(low_end, order.end(), [&](const auto& v) {
      return lookup(JobId(v.second)).tier != Tier::kHigh;
    });
    out->low = static_cast<size_t>(high - order.begin());
    std::stable_sort(low_end, high);
    std::stable_sort(high, order.end());
  }

  // Demoted jobs are victims only of jobs not demoted, of their tier or higher.
  size_t usable(const Job& job, const Victims& victims, int64_t now_ms) const override {
    if (job.tier == Tier::kSpot || demoted(job, now_ms)) return victims.spot;
    return job.tier == Tier::kHigh ? victims.order.size() : victims.low;
  }

 private:
  bool demoted(const Job& job, int64_t now_ms) const {
    return job.demoted(demote_after_gpu_s_, now_ms);
  }
  bool exempt(const Job& job, int64_t now_ms) const {
    return exempt_s_ > 0 && now_ms - job.start_ms < exempt_s_ * 1000;
  }
  // Orders demoted victims: fewest GPUs first, then the most attained.
  static int64_t victim_key(const Job& job, int64_t now_ms) {
    constexpr int64_t kAttained = (int64_t{1} << 40) - 1;
    return int64_t{job.gpus} << 40 | (kAttained - std::min(kAttained, job.attained_gpu_s(now_ms)));
  }

  bool least_attained_;  // configured: only then is any job demotable
  int64_t demote_after_gpu_s_;
  int64_t exempt_s_;
  int64_t starve_after_s_ = 0;  // a job that started late is left alone in its first run
};

}  // namespace

std::unique_ptr<PreemptionPolicy> spot_then_demoted(int64_t demote_after_gpu_s, int64_t exempt_s) {
  return std::make_unique<SpotThenDemoted>(demote_after_gpu_s, exempt_s);
}

}  // namespace berth::core
