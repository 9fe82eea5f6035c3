#include "server/agents/step_book.h"

#include <algorithm>

#include "server/agents/gang_book.h"

namespace berth::server {

namespace pb = ::berth::agent::v1;

uint32_t StepBook::open(uint64_t job, std::vector<std::string> nodes, std::string requester,
                        uint64_t request) {
  const uint32_t step = ++last_step_[job];
  steps_[{job, step}] = Step{std::move(nodes), std::move(requester), request, {}};
  return step;
}

void StepBook::saw(uint64_t job, uint32_t step) {
  uint32_t& last = last_step_[job];
  last = std::max(last, step);
}

pb::StepDone StepBook::answer(const Step& s, uint32_t step, const pb::JobEnded& end) {
  pb::StepDone d;
  d.set_request(s.request);
  d.set_step(step);
  d.set_exit_code(end.exit_code());
  d.set_signal(end.signal());
  d.set_launch_failed(end.launch_failed());
  d.set_ranks(static_cast<uint32_t>(s.nodes.size()));
  if (end.launch_failed() || end.lost() || !end.reason().empty()) {
    const uint32_t rank = end.id().rank();
    d.set_reason("rank " + std::to_string(rank) + " on " +
                 (rank < s.nodes.size() ? s.nodes[rank] : std::string("?")) + ": " +
                 (end.reason().empty() ? std::string("lost") : end.reason()));
  }
  return d;
}

StepBook::Verdict StepBook::on_end(const pb::JobEnded& end) {
  Verdict v;
  const std::pair<uint64_t, uint32_t> key{end.id().job(), end.id().step()};
  auto it = steps_.find(key);
  if (it == steps_.end()) return v;
  Step& s = it->second;
  s.ended.emplace(end.id().rank(), end);  // a repeated end keeps the first
  if (end.launch_failed() || end.lost()) {
    for (uint32_t r = 0; r < s.nodes.size(); ++r)
      if (!s.ended.count(r)) v.stop.emplace_back(s.nodes[r], r);
    v.done.emplace(s.requester, answer(s, key.second, end));
  } else if (s.ended.size() >= s.nodes.size()) {
    v.done.emplace(s.requester, answer(s, key.second, combined_end(s.ended)));
  }
  if (v.done) steps_.erase(it);
  return v;
}

std::vector<std::pair<std::string, pb::StepDone>> StepBook::close_job(uint64_t job,
                                                                      const std::string& why) {
  std::vector<std::pair<std::string, pb::StepDone>> answers;
  for (auto it = steps_.lower_bound({job, 0}); it != steps_.end() && it->first.first == job;) {
    pb::StepDone d;
    d.set_request(it->second.request);
    d.set_step(it->first.second);
    d.set_launch_failed(true);
    d.set_reason(why);
    d.set_ranks(static_cast<uint32_t>(it->second.nodes.size()));
    answers.emplace_back(it->second.requester, std::move(d));
    it = steps_.erase(it);
  }
  last_step_.erase(job);
  return answers;
}

}  // namespace berth::server
