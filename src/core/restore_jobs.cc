// Restore's triage of stored jobs: a job berth cannot take back as it was stored is set aside
// rather than refusing the whole start, since one bad row must not keep every other user's
// work (and the daemon) down until someone edits the database by hand.
//
// Decision (src/core/README.md, "Jobs Restore cannot take back"): a job that was PENDING or
// RUNNING, or whose state is unknown, ends FAILED with end_reason "stored row could not be
// loaded: <what>"; its open holds are posted at 0 (charged nothing, the rest released), so no
// money is created or lost and reconcile still finds each run settled; its GPUs are not taken.
// A finished job is history: it is kept, the unreadable field at its default. The books
// themselves (accounts, transfers) are never guessed: those still refuse the start.
#include <algorithm>
#include <utility>

#include "core/engine.h"

namespace berth::core {

namespace {

void add_problem(std::string* problems, const std::string& problem) {
  if (problem.empty()) return;
  if (!problems->empty()) *problems += "; ";
  *problems += problem;
}

// Why a running job's GPUs cannot be taken back: a node no longer configured, a GPU id out of
// range or repeated, or a GPU an earlier running job already holds. Marks them in `busy` only
// when every one of its placements is sound, so a job set aside takes nothing.
std::string placement_problem(const Cluster& cluster, const Job& job,
                              std::map<uint64_t, uint64_t>* busy) {
  std::vector<Placement> placements = {Placement{job.node, job.gpu_ids}};
  placements.insert(placements.end(), job.more_nodes.begin(), job.more_nodes.end());
  if (static_cast<int>(placements.size()) != job.nodes)
    return "it runs on " + std::to_string(placements.size()) + " node(s), not the " +
           std::to_string(job.nodes) + " it asked for";
  std::map<uint64_t, uint64_t> want;
  for (const Placement& p : placements) {
    const Node* n = cluster.node(p.node);
    if (n == nullptr)
      return "node " + std::to_string(p.node.value) + ", where it ran, is not in the configuration";
    if (static_cast<int>(p.gpu_ids.size()) != job.gpus_per_node())
      return "it holds " + std::to_string(p.gpu_ids.size()) + " GPU(s) on node " + n->name +
             ", not " + std::to_string(job.gpus_per_node());
    for (int g : p.gpu_ids) {
      if (g < 0 || g >= n->gpus || g >= 64)
        return "GPU " + std::to_string(g) + " is not on node " + n->name;
      const uint64_t bit = uint64_t{1} << g;
      uint64_t& mine = want[p.node.value];
      auto taken = busy->find(p.node.value);
      if ((mine & bit) || (taken != busy->end() && (taken->second & bit)))
        return "GPU " + std::to_string(g) + " on node " + n->name + " is held twice";
      mine |= bit;
    }
  }
  for (const auto& [node, mask] : want) (*busy)[node] |= mask;
  return "";
}

}  // namespace

std::string Engine::restore_problem(const Job& job, const ChangeSet& rows,
                                    std::map<uint64_t, uint64_t>* busy) const {
  std::string problems;
  if (auto it = rows.job_problems.find(job.id.value); it != rows.job_problems.end())
    add_problem(&problems, it->second.what);
  if (is_final(job.state)) return problems;
  if (!funding_.project(job.project))
    add_problem(&problems, "project " + std::to_string(job.project.value) + " does not exist");
  if (job.gpus < 1 || job.nodes < 1 || job.gpus % job.nodes != 0)
    add_problem(&problems,
                std::to_string(job.gpus) + " GPU(s) on " + std::to_string(job.nodes) + " node(s)");
  if (job.id.value >= kMaxJobIdForTransfers || job.restarts < 0 || job.restarts >= kMaxRestarts)
    add_problem(&problems, "restart count " + std::to_string(job.restarts) + " out of range");
  if (job.state == JobState::kPending)
    for (const Dependency& d : job.dependencies)
      if (d.job.value == 0 || d.job.value > rows.jobs.size())
        add_problem(&problems,
                    "it depends on job " + std::to_string(d.job.value) + ", which does not exist");
  if (job.state == JobState::kPending)
    for (NodeId n : job.node_choice.required)
      if (cluster_.node(n) == nullptr)
        add_problem(&problems, "it asks for node " + std::to_string(n.value) +
                                   " (--nodelist), which is not in the configuration");
  if (job.state == JobState::kRunning && problems.empty())
    add_problem(&problems, placement_problem(cluster_, job, busy));
  return problems;
}

void Engine::set_aside(Job& job, const std::string& problem, bool state_unknown,
                       int64_t latest_ms) {
  SetAsideJob s;
  s.job = job.id;
  s.problem = problem;
  s.kept = !state_unknown && is_final(job.state);
  s.was_running =
      job.state == JobState::kRunning || (state_unknown && job.start_ms > 0 && job.end_ms == 0);
  set_aside_.push_back(s);
  if (s.kept) return;
  job.state = JobState::kFailed;
  job.reason = PendingReason::kNone;
  job.end_reason = "stored row could not be loaded: " + problem;
  // A run that never finished is charged nothing (release_set_aside_holds posts its holds at 0).
  if (job.end_ms == 0 || job.end_ms < job.start_ms)
    job.end_ms = job.start_ms > 0 ? job.start_ms : std::max(latest_ms, job.submit_ms);
}

Status Engine::release_set_aside_holds() {
  constexpr int kHoldPhases[] = {kPhaseSubsidyHold, kPhaseCopayHold};
  for (const SetAsideJob& s : set_aside_) {
    Job& job = jobs_.at(s.job);
    touch(job);  // written back readable, so it is set aside only once
    if (s.kept || job.id.value >= kMaxJobIdForTransfers || job.restarts < 0 ||
        job.restarts >= kMaxRestarts)
      continue;
    bool released = false;
    for (const int hold_phase : kHoldPhases) {
      const TransferId hold_id = job_transfer_id(job.id, job.restarts, hold_phase);
      if (ledger_.pending_state(hold_id) != PendingState::kPending) continue;
      const Transfer post = job_post(job, hold_phase, 0);
      const int64_t at_ms = std::max(job.start_ms, ledger_.transfer(hold_id)->timestamp_ms);
      const TransferResult r = ledger_.create_transfer(post, at_ms);
      if (r != TransferResult::kOk)
        return Status::Internal("job " + std::to_string(job.id.value) + ": its hold " +
                                std::to_string(hold_id.value) +
                                " could not be released: " + transfer_result_name(r));
      released = true;
    }
    if (released) job.end_ms = job.start_ms;
  }
  return Status::Ok();
}

}  // namespace berth::core
