#include "core/policy/preemption.h"

namespace berth::core {

namespace {

class NoPreemption final : public PreemptionPolicy {
 public:
  const char* name() const override { return "none"; }
  bool demotable(const Job&) const override { return false; }
  bool may_preempt(const Job&, bool, int64_t) const override { return false; }
  void list_victims(const RunningSet&, const RunningSet&, const std::function<const Job&(JobId)>&,
                    int64_t, Victims* out) const override {
    *out = Victims{};
  }
  size_t usable(const Job&, const Victims&, int64_t) const override { return 0; }
};

}  // namespace

std::unique_ptr<PreemptionPolicy> no_preemption() { return std::make_unique<NoPreemption>(); }

}  // namespace berth::core
