// A job's JSON view (docs/api.md), written straight into text with rapidjson's Writer: a listing
// writes a page of up to 1,000 jobs per request, and a DOM of ~50 keys per job cost more than
// everything else in serving it. job_json() parses that text for the routes that extend it.
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/money.h"
#include "common/timefmt.h"
#include "server/views.h"

namespace berth::server {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// A job's node by name. A finished job may have run on a node since removed from the
// configuration (Engine::Restore keeps or sets aside such jobs): it is named by its old id.
std::string node_name(const core::Engine& e, NodeId id) {
  const core::Node* n = e.cluster().node(id);
  return n != nullptr ? n->name : "(removed node " + std::to_string(id.value) + ")";
}

void put(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void put(Writer& w, const char* s) { w.String(s); }
void put(Writer& w, int64_t v) { w.Int64(v); }
void put(Writer& w, int v) { w.Int(v); }
void put(Writer& w, uint64_t v) { w.Uint64(v); }
void put(Writer& w, bool v) { w.Bool(v); }

// A key and its value, or null when `present` is false.
template <typename T>
void field(Writer& w, const char* key, const T& value, bool present = true) {
  w.Key(key);
  if (present)
    put(w, value);
  else
    w.Null();
}
void time_field(Writer& w, const char* key, int64_t ms) {
  field(w, key, ms ? format_time_ms(ms) : "", ms != 0);
}
// A list of names, only when there is one (the nodes a job's user chose).
void names_field(Writer& w, const char* key, const std::vector<std::string>& names) {
  if (names.empty()) return;
  w.Key(key);
  w.StartArray();
  for (const std::string& n : names) put(w, n);
  w.EndArray();
}

void amount_field(Writer& w, const char* key, Minor amount, bool present = true) {
  field(w, key, present ? format_amount(amount) : "", present);
}

// What a listing shows of the launch description: its top-level "workdir", "stdout" and
// "stderr" strings ("" when absent or not strings), read with rapidjson's SAX reader, as a
// DOM per job costs more than the rest of the job's view.
struct LaunchPaths : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, LaunchPaths> {
  std::string workdir, stdout_pattern, stderr_pattern;
  int depth = 0;
  std::string* target = nullptr;  // where the value of the top-level key just read goes

  bool StartObject() { return ++depth, target = nullptr, true; }
  bool EndObject(rapidjson::SizeType) { return --depth, true; }
  bool StartArray() { return ++depth, target = nullptr, true; }
  bool EndArray(rapidjson::SizeType) { return --depth, true; }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth != 1) return true;
    const std::string_view key(s, n);
    target = key == "workdir"  ? &workdir
             : key == "stdout" ? &stdout_pattern
             : key == "stderr" ? &stderr_pattern
                               : nullptr;
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1 && target != nullptr) target->assign(s, n);
    return Default();
  }
  bool Default() { return target = nullptr, true; }

  static LaunchPaths of(const std::string& launch) {
    LaunchPaths paths;
    if (launch.empty()) return paths;
    rapidjson::Reader reader;
    rapidjson::StringStream in(launch.c_str());
    if (reader.Parse(in, paths).IsError()) return LaunchPaths();
    return paths;
  }
};

// Keys in byte order, as nlohmann::json writes an object: the text is the same whichever way
// a job's view is made (tests/server/job_json_test.cc checks it).
void write_job(Writer& w, const core::Job& j, const JobNames& names) {
  const bool pending = j.state == core::JobState::kPending;
  const bool running = j.state == core::JobState::kRunning;
  const bool ended = core::is_final(j.state);
  const bool charged = ended || j.restarts;
  const LaunchPaths launch = LaunchPaths::of(j.launch);
  w.StartObject();
  field(w, "array_id", j.array_id.value, j.array_id.valid());
  field(w, "array_index", j.array_index, j.array_index >= 0);
  field(w, "award_id", j.award.value, j.award.valid());
  field(w, "cancel_requested", j.cancel_requested);
  amount_field(w, "copay", j.copay_minor, charged);
  amount_field(w, "copay_held", j.copay_held_minor, running);
  amount_field(w, "cost", j.cost_minor, charged);
  field(w, "cpus_per_node", j.cpus_per_node, j.cpus_per_node > 0);  // its box; null: no limit
  field(w, "dependency", j.dependencies.empty() ? "" : core::format_dependencies(j.dependencies),
        !j.dependencies.empty());
  field(w, "end_reason", j.end_reason, !j.end_reason.empty());
  time_field(w, "end_time", j.end_ms);
  names_field(w, "excluded_nodes", names.chosen.excluded);
  field(w, "exit_code", j.exit_code, ended && j.start_ms);
  time_field(w, "expected_start", pending ? j.expected_start_ms : 0);
  w.Key("gpu_ids");
  w.StartArray();
  for (int g : j.gpu_ids) w.Int(g);
  w.EndArray();
  field(w, "gpu_model", j.gpu_model, !j.gpu_model.empty());
  field(w, "gpus", j.gpus);
  field(w, "gpus_per_node", j.gpus_per_node());
  field(w, "held", j.held);
  field(w, "id", j.id.value);
  field(w, "max_cost", format_amount(j.max_cost_minor), running);
  field(w, "memory_per_node_mb", j.memory_per_node_mb, j.memory_per_node_mb > 0);
  field(w, "name", j.name);
  field(w, "node", names.nodes.empty() ? "" : names.nodes.front(),
        j.node.valid() && !names.nodes.empty());
  w.Key("node_list");
  w.StartArray();
  for (const std::string& n : names.nodes) put(w, n);
  w.EndArray();
  field(w, "nodes", j.nodes);
  field(w, "org_id", j.org.value);
  field(w, "partition", j.partition);
  field(w, "planned_runtime_s", j.planned_s());
  field(w, "priority", j.priority, pending);
  field(w, "project", names.project, !names.project.empty());
  field(w, "project_id", j.project.value);
  field(w, "ran_s", j.ran_ms / 1000);
  field(w, "rate_bps", j.rate_bps);
  field(w, "reason", core::pending_reason_name(j.reason), pending);
  amount_field(w, "refunded", j.refunded_minor);
  field(w, "requeue", j.requeue);
  names_field(w, "required_nodes", names.chosen.required);
  field(w, "restarts", j.restarts);
  const bool ran = j.start_ms && j.end_ms;
  field(w, "runtime_ms", j.end_ms - j.start_ms, ran);
  field(w, "runtime_s", (j.end_ms - j.start_ms) / 1000, ran);
  field(w, "signal", j.term_signal, ended && j.term_signal);
  time_field(w, "start_time", j.start_ms);
  field(w, "state", core::job_state_name(j.state));
  field(w, "stderr", expand_job_pattern(launch.stderr_pattern, j));
  field(w, "stdout", expand_job_pattern(launch.stdout_pattern, j));
  time_field(w, "submit_time", j.submit_ms);
  amount_field(w, "subsidy", j.subsidy_minor, charged);
  amount_field(w, "subsidy_held", j.subsidy_held_minor, running);
  field(w, "tier", core::tier_name(j.tier));
  field(w, "time_limit_s", j.time_limit_s);
  field(w, "user", j.user);
  field(w, "workdir", launch.workdir);
  w.EndObject();
}

}  // namespace

JobNames job_names(const core::Engine& e, const core::Job& j) {
  JobNames names;
  // A set-aside job may name a project that is gone (Engine::Restore): shown as null.
  if (const core::Project* p = e.funding().project(j.project)) names.project = p->name;
  if (j.node.valid()) names.nodes.push_back(node_name(e, j.node));
  for (const core::Placement& p : j.more_nodes) names.nodes.push_back(node_name(e, p.node));
  if (!j.node_choice.empty()) names.chosen = core::node_choice_names(e.cluster(), j.node_choice);
  return names;
}

std::string job_text(const core::Job& j, const JobNames& names) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  write_job(w, j, names);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string jobs_page_text(const std::vector<std::pair<core::Job, JobNames>>& page, JobId next) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("jobs");
  w.StartArray();
  for (const auto& [job, names] : page) write_job(w, job, names);
  w.EndArray();
  field(w, "next", next.value, next.valid());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

json job_json(const core::Job& j, const JobNames& names) { return json::parse(job_text(j, names)); }

json job_json(const core::Engine& e, const core::Job& j) { return job_json(j, job_names(e, j)); }

}  // namespace berth::server
