#include "core/policy/blocked_job.h"

namespace berth::core {

namespace {

class EasyBackfill final : public BlockedJobPolicy {
 public:
  bool plans(bool first) const override { return first; }
  bool reserves() const override { return true; }
  bool ends_pass() const override { return false; }
  const char* name() const override { return "easy"; }
};

}  // namespace

std::unique_ptr<BlockedJobPolicy> easy_backfill() { return std::make_unique<EasyBackfill>(); }

}  // namespace berth::core
