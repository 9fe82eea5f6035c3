#include "core/policy/blocked_job.h"

namespace berth::core {

namespace {

class NoBackfill final : public BlockedJobPolicy {
 public:
  explicit NoBackfill(bool ask_every) : ask_every_(ask_every) {}
  bool plans(bool first) const override { return first || ask_every_; }
  bool reserves() const override { return false; }
  bool ends_pass() const override { return false; }
  const char* name() const override { return "none"; }

 private:
  bool ask_every_;
};

}  // namespace

std::unique_ptr<BlockedJobPolicy> no_backfill(bool ask_every) {
  return std::make_unique<NoBackfill>(ask_every);
}

}  // namespace berth::core
