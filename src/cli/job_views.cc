#include "cli/job_views.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "cli/table.h"
#include "cli/views.h"
#include "common/civil.h"
#include "common/strings.h"
#include "common/timefmt.h"

namespace berth::cli {

using nlohmann::json;

std::string job_id_cell(const json& job) {
  const int64_t array_id = int_field(job, "array_id", 0);
  const int64_t index = int_field(job, "array_index", -1);
  if (array_id > 0 && index >= 0) return std::to_string(array_id) + "_" + std::to_string(index);
  return cell(job, "id");
}

int64_t job_elapsed_s(const json& job, int64_t now_ms) {
  const int64_t runtime = int_field(job, "runtime_s", -1);
  if (runtime >= 0) return runtime;
  if (string_field(job, "state") != "RUNNING") return 0;
  Result<int64_t> start = parse_time_ms(string_field(job, "start_time"));
  return start.ok() ? (now_ms - *start) / 1000 : 0;
}

namespace {

std::string lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// Slurm's exit code: "status:signal"; "-" before the job has run and ended.
std::string exit_code(const json& job) {
  if (int_field(job, "exit_code", -1) < 0) return "-";
  return cell(job, "exit_code") + ":" + std::to_string(int_field(job, "signal", 0));
}

// The names of a list field, comma separated; "" when there is none.
std::string joined(const json& job, const char* key) {
  std::string out;
  for (const json& n : items(job, key)) out += (out.empty() ? "" : ",") + cell(n);
  return out;
}

std::string node_list(const json& job) {
  const std::string out = joined(job, "node_list");
  return out.empty() ? "-" : out;
}

// A list of names as scontrol shows one: comma separated, "(null)" when there is none.
std::string names_of(const json& job, const char* key) {
  const std::string out = joined(job, key);
  return out.empty() ? "(null)" : out;
}

// GPU-hours to four decimals, as statements give them, from whole GPU-seconds (exact).
std::string gpu_hours(const json& job, int64_t now_ms) {
  const int64_t gpu_s = int_field(job, "gpus", 0) * job_elapsed_s(job, now_ms);
  const int64_t ten_thousandths = gpu_s * 10'000 / kSecondsPerHour;
  std::string fraction = std::to_string(ten_thousandths % 10'000);
  return std::to_string(ten_thousandths / 10'000) + "." + std::string(4 - fraction.size(), '0') +
         fraction;
}

#define FIELD(key) [](const json& j, int64_t) { return cell(j, key); }

// sacct's names for what berth records of a job (Account: the project, QOS: the tier).
constexpr std::array kHistoryColumns = {
    HistoryColumn{"JobID", false, [](const json& j, int64_t) { return job_id_cell(j); }},
    HistoryColumn{"JobIDRaw", true, FIELD("id")},
    HistoryColumn{"JobName", false, FIELD("name")},
    HistoryColumn{"User", false, FIELD("user")},
    HistoryColumn{"Account", false, FIELD("project")},
    HistoryColumn{"Partition", false, FIELD("partition")},
    HistoryColumn{"QOS", false, FIELD("tier")},
    HistoryColumn{"State", false, FIELD("state")},
    HistoryColumn{"ExitCode", false, [](const json& j, int64_t) { return exit_code(j); }},
    HistoryColumn{"Reason", false,
                  [](const json& j, int64_t) {
                    return cell(j, string_field(j, "state") == "PENDING" ? "reason" : "end_reason");
                  }},
    HistoryColumn{"Submit", false, FIELD("submit_time")},
    HistoryColumn{"Start", false, FIELD("start_time")},
    HistoryColumn{"End", false, FIELD("end_time")},
    HistoryColumn{
        "Elapsed", true,
        [](const json& j, int64_t now) { return format_duration(job_elapsed_s(j, now)); }},
    HistoryColumn{
        "Timelimit", true,
        [](const json& j, int64_t) { return format_duration(int_field(j, "time_limit_s", 0)); }},
    HistoryColumn{"NNodes", true, FIELD("nodes")},
    HistoryColumn{"NodeList", false, [](const json& j, int64_t) { return node_list(j); }},
    HistoryColumn{"AllocGPUS", true, FIELD("gpus")},
    HistoryColumn{"GPUModel", false, FIELD("gpu_model")},
    HistoryColumn{"GPUHours", true, gpu_hours},
    HistoryColumn{"Cost", true, FIELD("cost"), true},
    HistoryColumn{"Subsidy", true, FIELD("subsidy"), true},
    HistoryColumn{"CoPay", true, FIELD("copay"), true},
    HistoryColumn{"Refunded", true, FIELD("refunded"), true},
    HistoryColumn{"Award", true, FIELD("award_id")},
    HistoryColumn{"WorkDir", false, FIELD("workdir")},
};

#undef FIELD

// Other names Slurm users type for the same columns.
constexpr std::array<std::pair<const char*, const char*>, 4> kColumnAliases = {
    {{"gpus", "AllocGPUS"}, {"reqgpus", "AllocGPUS"}, {"name", "JobName"}, {"tier", "QOS"}}};

const HistoryColumn* column_named(const std::string& name) {
  std::string wanted = lower(name);
  for (const auto& [alias, column] : kColumnAliases)
    if (wanted == alias) wanted = lower(column);
  for (const HistoryColumn& c : kHistoryColumns)
    if (lower(c.name) == wanted) return &c;
  return nullptr;
}

std::string known_columns() {
  std::string out;
  for (const HistoryColumn& c : kHistoryColumns)
    out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out + " (also GPUs, Name, Tier)";
}

}  // namespace

const char kDefaultHistoryFormat[] =
    "JobID,JobName,Account,User,State,Start,End,Elapsed,AllocGPUS,ExitCode,GPUHours,Cost,Subsidy";

Result<std::vector<const HistoryColumn*>> history_columns(const std::string& format) {
  std::vector<const HistoryColumn*> columns;
  for (std::string_view part : split(format, ',')) {
    const size_t percent = part.find('%');
    const std::string_view width =
        percent == std::string_view::npos ? "" : part.substr(percent + 1);
    const std::string name(part.substr(0, percent));
    if (width.find_first_not_of("0123456789") != std::string_view::npos)
      return Status::Invalid("--format column '" + std::string(part) +
                             "' has a width that is not a number");
    const HistoryColumn* column = column_named(name);
    if (!column)
      return Status::Invalid("unknown --format column '" + name + "'; known: " + known_columns());
    columns.push_back(column);
  }
  return columns;
}

std::string render_history(const json& jobs, const std::vector<const HistoryColumn*>& columns,
                           int64_t now_ms, const std::string& currency) {
  std::vector<std::string> headers;
  for (const HistoryColumn* c : columns) headers.push_back(c->name);
  Table table(headers);
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i]->right) table.align_right(i);
  for (const json& job : jobs) {
    std::vector<std::string> row;
    for (const HistoryColumn* c : columns) {
      std::string value = c->value(job, now_ms);
      row.push_back(c->money ? money_cell(json(std::move(value)), currency) : std::move(value));
    }
    table.add_row(std::move(row));
  }
  return table.render();
}

std::string history_csv(const json& jobs, const std::vector<const HistoryColumn*>& columns,
                        int64_t now_ms) {
  const auto line = [](const std::vector<std::string>& cells) {
    std::string out;
    for (const std::string& c : cells) out += (out.empty() ? "" : ",") + csv_text_field(c);
    return out + "\n";
  };
  std::vector<std::string> headers;
  for (const HistoryColumn* c : columns) headers.push_back(c->name);
  std::string out = line(headers);
  for (const json& job : jobs) {
    std::vector<std::string> row;
    for (const HistoryColumn* c : columns) row.push_back(c->value(job, now_ms));
    out += line(row);
  }
  return out;
}

namespace {

// scontrol prints "(null)" for a string it does not have and "Unknown" for such a time.
std::string value_or(const json& job, const char* key, const char* missing) {
  const std::string text = cell(job, key);
  return text == "-" ? missing : text;
}
std::string text_of(const json& job, const char* key) { return value_or(job, key, "(null)"); }
std::string time_of(const json& job, const char* key) { return value_or(job, key, "Unknown"); }

// The keys that render_job_scontrol names itself; the rest follow under their own names.
const std::set<std::string>& scontrol_keys() {
  static const std::set<std::string> kKeys = {"id",
                                              "array_id",
                                              "array_index",
                                              "name",
                                              "user",
                                              "project",
                                              "project_id",
                                              "org_id",
                                              "tier",
                                              "priority",
                                              "state",
                                              "reason",
                                              "end_reason",
                                              "dependency",
                                              "held",
                                              "requeue",
                                              "restarts",
                                              "exit_code",
                                              "signal",
                                              "runtime_s",
                                              "runtime_ms",
                                              "ran_s",
                                              "time_limit_s",
                                              "planned_runtime_s",
                                              "submit_time",
                                              "start_time",
                                              "end_time",
                                              "expected_start",
                                              "partition",
                                              "node",
                                              "node_list",
                                              "nodes",
                                              "gpus",
                                              "gpus_per_node",
                                              "gpu_model",
                                              "gpu_ids",
                                              "workdir",
                                              "stdout",
                                              "stderr",
                                              "max_cost",
                                              "subsidy_held",
                                              "copay_held",
                                              "cost",
                                              "subsidy",
                                              "copay",
                                              "refunded",
                                              "award_id",
                                              "rate_bps",
                                              "cancel_requested",
                                              "required_nodes",
                                              "excluded_nodes"};
  return kKeys;
}

}  // namespace

std::string render_job_scontrol(const json& job, int64_t now_ms) {
  if (!job.is_object()) return cell(job) + "\n";
  const std::string state = string_field(job, "state");
  const bool array_task = int_field(job, "array_index", -1) >= 0;
  const int64_t rate_bps = int_field(job, "rate_bps", 0);
  const std::vector<std::string> lines = {
      "JobId=" + cell(job, "id") +
          (array_task
               ? " ArrayJobId=" + cell(job, "array_id") + " ArrayTaskId=" + cell(job, "array_index")
               : "") +
          " JobName=" + text_of(job, "name"),
      "UserId=" + text_of(job, "user") + " Account=" + text_of(job, "project") +
          " QOS=" + text_of(job, "tier") +
          (state == "PENDING" ? " Priority=" + text_of(job, "priority") : ""),
      "JobState=" + text_of(job, "state") +
          " Reason=" + (state == "PENDING" ? text_of(job, "reason") : "None") +
          " Dependency=" + text_of(job, "dependency"),
      "Held=" + cell(job, "held") +
          " Requeue=" + std::string(cell(job, "requeue") == "yes" ? "1" : "0") +
          " Restarts=" + cell(job, "restarts") + " ExitCode=" + exit_code(job),
      "RunTime=" + format_duration(job_elapsed_s(job, now_ms)) +
          " TimeLimit=" + format_duration(int_field(job, "time_limit_s", 0)) +
          " PlannedRunTime=" + format_duration(int_field(job, "planned_runtime_s", 0)) +
          " EarlierRunsTime=" + format_duration(int_field(job, "ran_s", 0)),
      "SubmitTime=" + time_of(job, "submit_time") + " StartTime=" + time_of(job, "start_time") +
          " EndTime=" + time_of(job, "end_time") +
          (state == "PENDING" ? " ExpectedStart=" + time_of(job, "expected_start") : ""),
      "Partition=" + text_of(job, "partition") +
          " NodeList=" + (node_list(job) == "-" ? "(null)" : node_list(job)) + " ReqNodeList=" +
          names_of(job, "required_nodes") + " ExcNodeList=" + names_of(job, "excluded_nodes"),
      "NumNodes=" + cell(job, "nodes") + " GPUs=" + cell(job, "gpus") +
          " GPUsPerNode=" + cell(job, "gpus_per_node") + " GPUModel=" + text_of(job, "gpu_model") +
          " GPUIds=" + (items(job, "gpu_ids").empty() ? "(null)" : cell(job, "gpu_ids")),
      "WorkDir=" + text_of(job, "workdir"),
      "StdOut=" + text_of(job, "stdout"),
      "StdErr=" + text_of(job, "stderr"),
      "Cost=" + text_of(job, "cost") + " Subsidy=" + text_of(job, "subsidy") +
          " CoPay=" + text_of(job, "copay") + " Refunded=" + text_of(job, "refunded"),
      "MaxCost=" + text_of(job, "max_cost") + " SubsidyHeld=" + text_of(job, "subsidy_held") +
          " CoPayHeld=" + text_of(job, "copay_held"),
      "Award=" + text_of(job, "award_id") +
          " SubsidyRate=" + (rate_bps > 0 ? format_rate(rate_bps) : "0%"),
  };
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "   " : "") + lines[i] + "\n";
  if (job.contains("end_reason") && !job["end_reason"].is_null())
    out += "   EndReason=" + cell(job, "end_reason") + "\n";
  // Fields a newer server adds are shown too, under their own names.
  for (const auto& [key, value] : job.items()) {
    if (!scontrol_keys().contains(key)) out += "   " + key + "=" + cell(value) + "\n";
  }
  return out;
}

namespace {

// sinfo's state of a node: what it is set to, and for one in service how busy it is.
std::string sinfo_state(const json& node) {
  const std::string state = string_field(node, "state");
  const int64_t gpus = int_field(node, "gpus", 0), free = int_field(node, "gpus_free", 0);
  if (state == "down") return "down";
  if (state == "drain") return free == gpus ? "drain" : "drng";
  if (free == gpus) return "idle";
  return free == 0 ? "alloc" : "mix";
}

struct NodeGroup {
  int nodes = 0;
  int64_t allocated = 0, idle = 0, other = 0, total = 0;
  std::string names;
};

}  // namespace

std::string render_partitions(const json& partitions, const json& nodes) {
  // Every partition may use every node, so the node groups are the same under each.
  std::map<std::tuple<std::string, std::string>, NodeGroup> groups;  // (state, model)
  for (const json& node : nodes) {
    const std::string state = sinfo_state(node);
    NodeGroup& g = groups[{state, string_field(node, "gpu_model")}];
    const int64_t gpus = int_field(node, "gpus", 0), free = int_field(node, "gpus_free", 0);
    ++g.nodes;
    g.total += gpus;
    g.allocated += gpus - free;
    (state == "drain" || state == "drng" || state == "down" ? g.other : g.idle) += free;
    g.names += (g.names.empty() ? "" : ",") + cell(node, "name");
  }
  Table table({"PARTITION", "AVAIL", "TIMELIMIT", "NODES", "STATE", "GPUS(A/I/O/T)", "GPU_MODEL",
               "NODELIST"});
  table.align_right(2).align_right(3);
  for (const json& p : partitions) {
    const std::string name = cell(p, "name") + (cell(p, "default") == "yes" ? "*" : "");
    const std::string limit = format_duration(int_field(p, "max_time_s", 0));
    if (groups.empty()) table.add_row({name, "up", limit, "0", "n/a", "0/0/0/0", "-", "-"});
    for (const auto& [key, g] : groups) {
      const auto& [state, model] = key;
      table.add_row({name, "up", limit, std::to_string(g.nodes), state,
                     std::to_string(g.allocated) + "/" + std::to_string(g.idle) + "/" +
                         std::to_string(g.other) + "/" + std::to_string(g.total),
                     model.empty() ? "-" : model, g.names});
    }
  }
  return table.render();
}

}  // namespace berth::cli
