#include "core/policy/blocked_job.h"

namespace berth::core {

namespace {

class StrictOrder final : public BlockedJobPolicy {
 public:
  explicit StrictOrder(bool reserve) : reserve_(reserve) {}
  bool plans(bool first) const override { return first; }
  bool reserves() const override { return reserve_; }
  bool ends_pass() const override { return true; }
  const char* name() const override { return "strict"; }

 private:
  bool reserve_;
};

}  // namespace

std::unique_ptr<BlockedJobPolicy> strict_order(bool reserve) {
  return std::make_unique<StrictOrder>(reserve);
}

}  // namespace berth::core
