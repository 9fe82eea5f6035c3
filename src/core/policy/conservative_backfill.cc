#include "core/policy/blocked_job.h"

namespace berth::core {

namespace {

class ConservativeBackfill final : public BlockedJobPolicy {
 public:
  bool plans(bool) const override { return true; }
  bool reserves() const override { return true; }
  bool ends_pass() const override { return false; }
  const char* name() const override { return "conservative"; }
};

}  // namespace

std::unique_ptr<BlockedJobPolicy> conservative_backfill() {
  return std::make_unique<ConservativeBackfill>();
}

}  // namespace berth::core
