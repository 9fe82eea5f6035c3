#include "agent/link_policy.h"

#include <algorithm>

namespace berth::agent {
namespace {

// A refusal's wait when berthd names none, and the bounds of one it names: a standby's, and
// any other.
constexpr int64_t kNotLeaderRetryMs = 500;
constexpr int64_t kMinNotLeaderRetryMs = 100;
constexpr int64_t kMaxNotLeaderRetryMs = 10'000;
constexpr int64_t kRefusedRetryMs = 60'000;
constexpr int64_t kMinRefusedRetryMs = 1'000;
constexpr int64_t kMaxRefusedRetryMs = 600'000;

}  // namespace

ServerChoice::ServerChoice(std::vector<std::string> servers)
    : servers_(std::move(servers)), current_(servers_.empty() ? "" : servers_.front()) {}

void ServerChoice::ended(const std::string& leader) {
  if (servers_.empty()) return;
  const auto listed = [this](const std::string& address) {
    return std::find(servers_.begin(), servers_.end(), address);
  };
  if (!leader.empty() && leader != current_) {
    if (auto it = listed(leader); it != servers_.end())
      listed_ = static_cast<size_t>(it - servers_.begin());
    current_ = leader;
    return;
  }
  if (auto it = listed(current_); it != servers_.end())
    listed_ = static_cast<size_t>(it - servers_.begin());
  listed_ = (listed_ + 1) % servers_.size();
  current_ = servers_[listed_];
}

int64_t refused_wait_ms(bool not_leader, int64_t retry_ms) {
  if (not_leader)
    return std::clamp(retry_ms > 0 ? retry_ms : kNotLeaderRetryMs, kMinNotLeaderRetryMs,
                      kMaxNotLeaderRetryMs);
  return std::clamp(retry_ms > 0 ? retry_ms : kRefusedRetryMs, kMinRefusedRetryMs,
                    kMaxRefusedRetryMs);
}

// splitmix64: a small, good generator; the jitter need not be secret, only spread.
uint64_t Backoff::random() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t Backoff::next_ms() {
  base_ms_ = base_ms_ == 0 ? first_ms_ : std::min(max_ms_, base_ms_ * 2);
  const int64_t spread = base_ms_ / 5;  // ±20%
  if (spread == 0) return base_ms_;
  const int64_t jitter = static_cast<int64_t>(random() % static_cast<uint64_t>(2 * spread + 1));
  return base_ms_ - spread + jitter;
}

}  // namespace berth::agent
