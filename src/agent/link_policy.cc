#include "agent/link_policy.h"

#include <algorithm>

namespace berth::agent {

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
