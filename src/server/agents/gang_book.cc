#include "server/agents/gang_book.h"

#include <algorithm>

namespace berth::server {

namespace pb = ::berth::agent::v1;

namespace {

bool failed(const pb::JobEnded& e) {
  return e.exit_code() != 0 || e.signal() != 0 || e.timed_out() || e.oom() || e.launch_failed() ||
         e.lost();
}

}  // namespace

pb::JobEnded combined_end(const std::map<uint32_t, pb::JobEnded>& ends) {
  if (ends.empty()) return pb::JobEnded();
  const pb::JobEnded* pick = &ends.begin()->second;
  for (const auto& [rank, e] : ends)
    if (failed(e)) {
      pick = &e;
      break;
    }
  pb::JobEnded out = *pick;
  int64_t runtime = 0;
  for (const auto& [rank, e] : ends) runtime = std::max(runtime, e.runtime_ms());
  out.set_runtime_ms(runtime);
  return out;
}

void GangBook::sent(uint64_t job, uint32_t attempt, std::vector<std::string> nodes, bool every_node,
                    std::optional<int64_t> sent_ms) {
  Gang& g = jobs_[job];
  if (g.attempt != attempt || g.nodes.size() != nodes.size()) {
    g.ended.clear();
    g.started.clear();
  }
  g.attempt = attempt;
  g.nodes = std::move(nodes);
  g.every_node = every_node;
  g.awaited_since = sent_ms;
  if (sent_ms)
    awaited_.insert(job);
  else
    awaited_.erase(job);
  if (!sent_ms)
    for (uint32_t r = 0; r < g.nodes.size(); ++r) g.started.insert(r);
}

void GangBook::started(uint64_t job, uint32_t attempt, uint32_t rank) {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || it->second.attempt != attempt) return;
  Gang& g = it->second;
  g.started.insert(rank);
  if (g.started.size() >= g.nodes.size()) {
    g.awaited_since.reset();
    awaited_.erase(job);
  }
}

std::vector<std::pair<uint64_t, uint32_t>> GangBook::overdue(int64_t now_ms, int64_t timeout_ms) {
  std::vector<std::pair<uint64_t, uint32_t>> late;
  for (auto it = awaited_.begin(); it != awaited_.end();) {
    const uint64_t job = *it;
    Gang& g = jobs_.at(job);
    if (now_ms - *g.awaited_since < timeout_ms) {
      ++it;
      continue;
    }
    for (uint32_t r = 0; r < g.nodes.size(); ++r)
      if (!g.started.count(r) && !g.ended.count(r)) {
        late.emplace_back(job, r);
        break;
      }
    g.awaited_since.reset();  // reported once
    it = awaited_.erase(it);
  }
  return late;
}

GangBook::Verdict GangBook::on_end(uint64_t job, const pb::JobEnded& end) {
  Verdict v;
  auto it = jobs_.find(job);
  if (it == jobs_.end()) {  // a launch this book never saw: its end is the job's
    v.end_job = end;
    return v;
  }
  Gang& g = it->second;
  const uint32_t rank = end.id().rank();
  g.ended.emplace(rank, end);  // a repeated end keeps the first
  if (end.launch_failed() || end.lost()) {
    v.end_job = end;  // all or none: one rank missing ends the job
  } else if (g.every_node) {
    if (g.ended.size() >= g.nodes.size())
      v.end_job = combined_end(g.ended);
    else
      v.hold = true;
  } else if (rank == 0) {
    v.end_job = end;
  } else {
    v.hold = true;  // a rank holding its node ended; the job goes on with rank 0
  }
  return v;
}

uint64_t GangBook::next_ack(NodeAcks& n) {
  const uint64_t ack = n.held.empty() ? n.committed : std::min(n.committed, *n.held.begin() - 1);
  if (ack <= n.sent) return 0;
  n.sent = ack;
  return ack;
}

uint64_t GangBook::received(const std::string& node, uint64_t seq, bool hold, uint64_t job) {
  NodeAcks& n = nodes_[node];
  n.committed = std::max(n.committed, seq);
  if (hold && seq > n.sent) {
    n.held.insert(seq);
    held_[job].emplace_back(node, seq);
  }
  return next_ack(n);
}

std::vector<std::pair<std::string, uint64_t>> GangBook::release(uint64_t job) {
  std::vector<std::pair<std::string, uint64_t>> acks;
  auto it = held_.find(job);
  if (it == held_.end()) return acks;
  std::set<std::string> touched;
  for (const auto& [node, seq] : it->second) {
    nodes_[node].held.erase(seq);
    touched.insert(node);
  }
  held_.erase(it);
  for (const std::string& node : touched)
    if (const uint64_t ack = next_ack(nodes_[node])) acks.emplace_back(node, ack);
  return acks;
}

std::vector<uint64_t> GangBook::holding() const {
  std::vector<uint64_t> jobs;
  for (const auto& [job, held] : held_) jobs.push_back(job);
  return jobs;
}

void GangBook::node_registered(const std::string& node) {
  nodes_.erase(node);
  for (auto it = held_.begin(); it != held_.end();) {
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const auto& held) { return held.first == node; }),
               list.end());
    it = list.empty() ? held_.erase(it) : std::next(it);
  }
}

std::vector<std::pair<std::string, uint32_t>> GangBook::live_ranks(uint64_t job) const {
  std::vector<std::pair<std::string, uint32_t>> live;
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return live;
  for (uint32_t r = 0; r < it->second.nodes.size(); ++r)
    if (!it->second.ended.count(r)) live.emplace_back(it->second.nodes[r], r);
  return live;
}

uint32_t GangBook::attempt(uint64_t job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? 0 : it->second.attempt;
}

}  // namespace berth::server
