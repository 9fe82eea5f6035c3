// Nodes and their agents (engine.h, "Nodes and their agents"): a node's state set by an
// administrator, by its agent registering, or by its agent's silence. Decisions the header
// leaves open:
// - Every change of state goes through apply_node_change, so the audit note reads the same
//   whoever made it: what the node was, the jobs it ended, then why.
// - What an agent reports never changes what is scheduled: a node's configured GPUs, CPUs and
//   memory stand, and a node with less is drained (its running jobs go on) rather than shrunk,
//   so that no placement or hold made on the configured figures is ever wrong.
// - An agent's texts are bounded here (kMaxAgentTextBytes), as every text the core keeps is.
// - A node silent for the timeout ends its jobs at its last heartbeat, the last moment they were
//   known to run; a job that started after it is charged nothing.
// - Only silence is undone by the agent's return: a node goes back to the state it had when
//   its agent went silent (kept in the node, so stored with it), so an administrator's drain
//   and its reason survive the silence. An administrator's change to a silent node is what it
//   returns to instead: a still silent node is put down again by the next pass over the
//   timeouts, with that change kept under its silence (a down stays down).
#include <algorithm>

#include "common/limits.h"
#include "common/timefmt.h"
#include "core/applications.h"
#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

namespace {

// An agent's version, address or isolation: a short label, never free text.
constexpr size_t kMaxAgentTextBytes = 256;

constexpr const char* kStateActions[] = {"node.resume", "node.drain", "node.down"};
constexpr const char* kStateWas[] = {"was up", "was drained", "was down"};
constexpr const char* kStateStill[] = {"still up", "still drained", "still down"};

// What an agent reports that falls short of its node's configuration, "" when nothing does:
// "agent reports 4 GPUs, configured 8; agent reports GPU model A100, configured H100".
std::string shortfall(const Node& n, const AgentHello& hello) {
  std::string out;
  auto add = [&out](const std::string& what) { out += (out.empty() ? "" : "; ") + what; };
  auto fewer = [&add](int64_t reported, int64_t configured, const char* unit) {
    if (reported < configured)
      add("agent reports " + std::to_string(reported) + " " + unit + ", configured " +
          std::to_string(configured));
  };
  fewer(hello.gpus, n.gpus, "GPUs");
  fewer(hello.cpus, n.cpus, "CPUs");
  fewer(hello.memory_mb, n.memory_mb, "MB of memory");
  if (!hello.gpu_model.empty() && hello.gpu_model != n.gpu_model)
    add("agent reports GPU model " + hello.gpu_model + ", configured " + n.gpu_model);
  return out;
}

Status check_hello(const AgentHello& hello) {
  for (const auto& [field, text] :
       {std::pair{"agent version", &hello.agent_version},
        std::pair{"agent address", &hello.address}, std::pair{"agent isolation", &hello.isolation},
        std::pair{"agent GPU model", &hello.gpu_model}})
    BERTH_RETURN_IF_ERROR(check_free_text(field, *text, kMaxAgentTextBytes, false));
  return Status::Ok();
}

// Why a silent node whose agent registered takes its state before the silence again:
// "agent registered; still drained: disk swap".
std::string back_from_silence(const Node& n) {
  std::string why = "agent registered";
  if (n.state_before_silence == NodeState::kUp) return why;
  why += std::string("; ") + kStateStill[static_cast<int>(n.state_before_silence)];
  if (!n.reason_before_silence.empty()) why += ": " + n.reason_before_silence;
  return why;
}

Status node_not_found(NodeId node) {
  return Status::NotFound("node " + std::to_string(node.value) + " not found");
}

}  // namespace

std::vector<JobId> Engine::end_jobs_on(NodeId node, int64_t lost_at_ms, const std::string& reason,
                                       int64_t now_ms) {
  std::vector<JobId> ended;
  for (const Job& j : jobs_.all())
    if (j.state == JobState::kRunning && j.runs_on(node)) ended.push_back(j.id);
  JobEnd lost;
  lost.lost = true;
  lost.reason = reason;
  for (JobId id : ended)
    BERTH_CHECK(job_ended(id, lost, lost_at_ms, now_ms).ok(), "end a running job");
  return ended;
}

struct Engine::NodeChange {
  NodeState state = NodeState::kUp;
  std::string reason;  // kept as state_reason (cleared when the node comes up)
  bool silent_down = false;
  int64_t lost_at_ms = 0;  // going down: its running jobs are charged up to here
  std::string job_reason;  // going down: its running jobs' end reason
  std::string why;         // after the audit note
  bool by_system = false;  // berth's own step, whichever request's pass it fell in
};

std::vector<JobId> Engine::apply_node_change(const Node& node, const NodeChange& change,
                                             int64_t now_ms) {
  const NodeState before = node.state;
  std::vector<JobId> ended;
  if (change.state == NodeState::kDown)
    ended = end_jobs_on(node.id, change.lost_at_ms, change.job_reason, now_ms);
  cluster_.set_state(node.id, change.state);
  Node record = node;
  record.state_reason = change.state == NodeState::kUp ? "" : change.reason;
  record.silent_down = change.silent_down;
  if (change.silent_down && !node.silent_down) {
    record.state_before_silence = before;
    record.reason_before_silence = node.state_reason;
  } else if (!change.silent_down) {
    record.state_before_silence = NodeState::kUp;
    record.reason_before_silence.clear();
  }
  cluster_.set_agent_record(node.id, record);

  std::string note = kStateWas[static_cast<int>(before)];
  if (!ended.empty()) {
    note += "; ended jobs";
    for (size_t i = 0; i < ended.size(); ++i)
      note += (i ? ", " : " ") + std::to_string(ended[i].value);
  }
  if (!change.why.empty()) note += "; " + change.why;
  record_audit(kStateActions[static_cast<int>(change.state)], "node " + node.name, 0, TransferId(),
               note, now_ms);
  if (change.by_system) audit_.back().user = "system";
  return ended;
}

Result<std::vector<JobId>> Engine::set_node_state(NodeId node, NodeState state, int64_t now_ms) {
  if (!cluster_.node(node)) return node_not_found(node);
  std::vector<JobId> ended;
  if (state == NodeState::kDown) ended = end_jobs_on(node, now_ms, "", now_ms);
  cluster_.set_state(node, state);
  return ended;
}

Result<std::vector<JobId>> Engine::change_node_state(NodeId node, NodeState state, int64_t now_ms,
                                                     const std::string& reason) {
  const Node* n = cluster_.node(node);
  if (!n) return node_not_found(node);
  BERTH_RETURN_IF_ERROR(check_free_text("reason", reason, kMaxReasonBytes, false));
  NodeChange change{.state = state, .reason = reason, .lost_at_ms = now_ms};
  if (!reason.empty()) change.why = "reason: " + reason;
  return apply_node_change(*n, change, now_ms);
}

Status Engine::restore_node(const Node& stored, int64_t now_ms) {
  const Node* n = cluster_.node_by_name(stored.name);
  if (!n) return Status::NotFound("node '" + stored.name + "' is not configured");
  const NodeId id = n->id;
  if (n->state != stored.state)
    BERTH_RETURN_IF_ERROR(set_node_state(id, stored.state, now_ms).status());
  cluster_.set_agent_record(id, stored);
  return Status::Ok();
}

Status Engine::agent_registered(NodeId node, const AgentHello& hello, int64_t now_ms) {
  const Node* n = cluster_.node(node);
  if (!n) return node_not_found(node);
  BERTH_RETURN_IF_ERROR(check_hello(hello));
  Node record = *n;
  record.agent_version = hello.agent_version;
  record.address = hello.address;
  record.isolation = hello.isolation;
  record.last_heartbeat_ms = now_ms;
  cluster_.set_agent_record(node, record);
  if (n->silent_down)
    apply_node_change(*n,
                      NodeChange{.state = n->state_before_silence,
                                 .reason = n->reason_before_silence,
                                 .why = back_from_silence(*n),
                                 .by_system = true},
                      now_ms);
  const std::string short_of = shortfall(*n, hello);
  if (!short_of.empty() && n->state == NodeState::kUp)
    apply_node_change(
        *n,
        NodeChange{
            .state = NodeState::kDrain, .reason = short_of, .why = short_of, .by_system = true},
        now_ms);
  return Status::Ok();
}

Status Engine::node_heard(NodeId node, int64_t now_ms) {
  const Node* n = cluster_.node(node);
  if (!n) return node_not_found(node);
  Node record = *n;
  record.last_heartbeat_ms = now_ms;
  cluster_.set_agent_record(node, record);
  return Status::Ok();
}

std::vector<JobId> Engine::expire_silent_nodes(int64_t now_ms, int64_t timeout_ms,
                                               int64_t since_ms, bool every_node) {
  std::vector<JobId> ended;
  for (const Node& n : cluster_.nodes()) {
    const bool never_heard = n.last_heartbeat_ms == 0;
    if ((never_heard && !every_node) || n.state == NodeState::kDown) continue;
    if (std::max(n.last_heartbeat_ms, since_ms) >= now_ms - timeout_ms) continue;
    const std::string silent = never_heard
                                   ? "no agent since " + format_time_ms(since_ms)
                                   : "agent silent since " + format_time_ms(n.last_heartbeat_ms);
    NodeChange change{.state = NodeState::kDown,
                      .reason = silent,
                      .silent_down = true,
                      .lost_at_ms = never_heard ? since_ms : n.last_heartbeat_ms,
                      .job_reason = "node " + n.name + " went down: " + silent,
                      .why = silent,
                      .by_system = true};
    for (JobId id : apply_node_change(n, change, now_ms)) ended.push_back(id);
  }
  return ended;
}

std::vector<JobId> Engine::await_agents(int64_t now_ms) {
  std::vector<JobId> ended;
  for (const Node& n : cluster_.nodes()) {
    if (n.last_heartbeat_ms != 0 || n.state != NodeState::kUp) continue;
    const std::string why = "no agent has registered yet";
    NodeChange change{.state = NodeState::kDown,
                      .reason = why,
                      .silent_down = true,
                      .lost_at_ms = now_ms,
                      .job_reason = "node " + n.name + " went down: " + why,
                      .why = why,
                      .by_system = true};
    for (JobId id : apply_node_change(n, change, now_ms)) ended.push_back(id);
  }
  return ended;
}

}  // namespace berth::core
