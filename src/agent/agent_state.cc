#include "agent/agent_state.h"

#include <algorithm>

namespace berth::agent {

std::string to_string(const LaunchKey& k) {
  return "job " + std::to_string(k.job) + " attempt " + std::to_string(k.attempt) + " rank " +
         std::to_string(k.rank) + " step " + std::to_string(k.step);
}

bool AgentState::accept_epoch(uint64_t epoch) {
  if (epoch < max_epoch_) return false;
  max_epoch_ = epoch;
  return true;
}

LaunchDecision AgentState::on_launch(const LaunchKey& key, uint64_t epoch, bool fenceable) {
  if (!accept_epoch(epoch)) return LaunchDecision::kStaleEpoch;
  if (launches_.count(key)) return LaunchDecision::kHeld;
  LaunchRecord r;
  r.key = key;
  r.epoch = epoch;
  r.fenceable = fenceable;
  launches_.emplace(key, r);
  return LaunchDecision::kStart;
}

void AgentState::started(const LaunchKey& key, int64_t started_unix_ms, int pgid) {
  auto it = launches_.find(key);
  if (it == launches_.end() || it->second.end) return;
  it->second.running = true;
  it->second.started_unix_ms = started_unix_ms;
  it->second.pgid = pgid;
}

uint64_t AgentState::ended(const LaunchKey& key, const EndReport& end) {
  auto it = launches_.find(key);
  if (it == launches_.end()) return 0;
  LaunchRecord& r = it->second;
  if (r.end) return r.end_seq;
  r.running = false;
  r.end = end;
  r.end_seq = ++last_end_seq_;
  return r.end_seq;
}

std::vector<const LaunchRecord*> AgentState::unacked_ends() const {
  std::vector<const LaunchRecord*> out;
  for (const auto& [key, r] : launches_)
    if (r.end) out.push_back(&r);
  std::sort(out.begin(), out.end(),
            [](const LaunchRecord* a, const LaunchRecord* b) { return a->end_seq < b->end_seq; });
  return out;
}

void AgentState::acked(uint64_t end_seq) {
  std::erase_if(launches_, [end_seq](const auto& entry) {
    return entry.second.end && entry.second.end_seq <= end_seq;
  });
}

std::vector<const LaunchRecord*> AgentState::inventory() const {
  std::vector<const LaunchRecord*> out;
  for (const auto& [key, r] : launches_) out.push_back(&r);
  return out;
}

std::vector<LaunchKey> AgentState::to_kill(const std::vector<LaunchKey>& ended_there) const {
  std::vector<LaunchKey> out;
  for (const LaunchKey& k : ended_there) {
    const LaunchRecord* r = find(k);
    if (r != nullptr && !r->end) out.push_back(k);
  }
  return out;
}

std::vector<LaunchKey> AgentState::fenced() const {
  std::vector<LaunchKey> out;
  for (const auto& [key, r] : launches_)
    if (r.fenceable && !r.end) out.push_back(key);
  return out;
}

const LaunchRecord* AgentState::find(const LaunchKey& key) const {
  auto it = launches_.find(key);
  return it == launches_.end() ? nullptr : &it->second;
}

void AgentState::restore(std::vector<LaunchRecord> records, uint64_t max_epoch,
                         uint64_t last_end_seq) {
  launches_.clear();
  max_epoch_ = max_epoch;
  last_end_seq_ = last_end_seq;
  for (LaunchRecord& r : records) {
    max_epoch_ = std::max(max_epoch_, r.epoch);
    if (r.end) last_end_seq_ = std::max(last_end_seq_, r.end_seq);
    launches_.emplace(r.key, std::move(r));
  }
}

}  // namespace berth::agent
