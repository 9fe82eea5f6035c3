#include "server/request_fields.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "common/limits.h"
#include "common/strings.h"
#include "common/timefmt.h"
#include "core/model.h"
#include "executor/job_signal.h"
#include "server/lookups.h"

namespace berth::server {

std::optional<uint64_t> digits_id(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

namespace {

std::string field_error(const char* key, const std::string& what) {
  return std::string("field '") + key + "' " + what;
}

}  // namespace

Status body_too_large(size_t max_body_bytes) {
  return Status(Code::kPayloadTooLarge,
                "request body is larger than " + std::to_string(max_body_bytes) + " bytes");
}

Result<json> body_object(const std::string& body, size_t max_body_bytes) {
  if (body.size() > max_body_bytes) return body_too_large(max_body_bytes);
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return Status::Invalid("request body is not valid JSON");
  if (!parsed.is_object()) return Status::Invalid("request body must be a JSON object");
  return parsed;
}

// Field readers: a missing required field or a wrong type is a 400 naming the field.
Result<std::string> str_field(const json& b, const char* key, bool required,
                              const std::string& def) {
  if (!b.contains(key) || b[key].is_null()) {
    if (required) return Status::Invalid(std::string("field '") + key + "' is required");
    return def;
  }
  if (!b[key].is_string())
    return Status::Invalid(std::string("field '") + key + "' must be a string");
  return b[key].get<std::string>();
}

Result<std::string> name_field(const json& b, const char* key, bool required,
                               const std::string& def) {
  auto s = str_field(b, key, required, def);
  if (s.ok() && has_control_chars(*s))
    return Status::Invalid(field_error(key, "must not hold control characters"));
  return s;
}

Result<int64_t> int_field(const json& b, const char* key, bool required, int64_t def) {
  if (!b.contains(key) || b[key].is_null()) {
    if (required) return Status::Invalid(field_error(key, "is required"));
    return def;
  }
  if (!b[key].is_number_integer()) return Status::Invalid(field_error(key, "must be an integer"));
  // nlohmann keeps integers above INT64_MAX as unsigned: get<int64_t> would wrap them.
  if (b[key].is_number_unsigned() &&
      b[key].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Status::Invalid(field_error(key, "is too large: " + b[key].dump()));
  return b[key].get<int64_t>();
}

// A money field: a decimal string (or an integer) in currency units; a sign only where
// allow_negative (an adjustment).
Result<Minor> amount_field(const json& b, const char* key, bool allow_negative) {
  if (!b.contains(key) || b[key].is_null()) return Status::Invalid(field_error(key, "is required"));
  // An integer's digits as JSON wrote them (dump), so that one above INT64_MAX is "too large",
  // not wrapped to a negative amount.
  const bool integer = b[key].is_number_integer();
  if (!integer && !b[key].is_string())
    return Status::Invalid(field_error(key, "must be a decimal string like \"12.50\""));
  auto a = parse_amount(integer ? b[key].dump() : b[key].get<std::string>(), allow_negative);
  if (!a.ok()) return Status::Invalid(std::string("field '") + key + "': " + a.status().message());
  if (*a > kMaxRequestAmountMinor || *a < -kMaxRequestAmountMinor)
    return Status::Invalid(
        field_error(key, "is too large: at most " + format_amount(kMaxRequestAmountMinor)));
  return a;
}

Result<int64_t> date_field(const json& b, const char* key) {
  BERTH_ASSIGN_OR_RETURN(auto s, str_field(b, key, true));
  auto t = parse_time_ms(s);
  if (!t.ok()) return Status::Invalid(std::string("field '") + key + "': " + t.status().message());
  return t;
}

// An id in a path: 1 to 18 digits, else a 400 naming what it should have been.
Result<uint64_t> path_id(const std::string& id_text, const char* what) {
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid(std::string(what) + " id '" + id_text + "' is not a number");
  return *digits_id(id_text);  // at most 18 digits: always fits
}

// The core's view of who acts: a member of their organisation, or a reviewer (an admin acts
// as the centre's first scheme officer).
core::Actor actor_of(const Principal& who) {
  core::Actor a;
  a.user = who.user;
  a.role = who.role == Role::kMember ? core::FundingRole::kMember : core::FundingRole::kReviewer;
  a.org = who.org;
  a.admin = who.admin();
  return a;
}

// A report rule from a request's fields, in range for the core to judge further.
Result<std::pair<int, int>> report_rule(int64_t every_months, int64_t grace_days) {
  // Narrowed so that a huge number is still out of the core's range, not wrapped into it.
  const auto narrow = [](int64_t v) {
    return static_cast<int>(std::clamp<int64_t>(v, -1, 1'000'000));
  };
  BERTH_RETURN_IF_ERROR(core::check_report_rule(narrow(every_months), narrow(grace_days)));
  return std::make_pair(narrow(every_months), narrow(grace_days));
}

// The terms of an application: every field is required for a new one; an update (base given)
// keeps the fields it does not name.
Result<core::ApplicationTerms> terms_field(const json& b, const core::ApplicationTerms* base) {
  core::ApplicationTerms t;
  if (base) t = *base;
  const bool required = base == nullptr;
  if (required || (b.contains("amount") && !b["amount"].is_null())) {
    BERTH_ASSIGN_OR_RETURN(t.amount_minor, amount_field(b, "amount"));
  }
  BERTH_ASSIGN_OR_RETURN(auto level, int_field(b, "gpu_level", required, t.gpu_level));
  BERTH_ASSIGN_OR_RETURN(auto days, int_field(b, "duration_days", required, t.duration_days));
  if (level < 0 || level > core::kMaxGpuLevel)
    return Status::Invalid("field 'gpu_level' must be 1 to " + std::to_string(core::kMaxGpuLevel));
  if (days < 0 || days > core::kMaxDurationDays)
    return Status::Invalid("field 'duration_days' must be 1 to " +
                           std::to_string(core::kMaxDurationDays));
  t.gpu_level = static_cast<int>(level);
  t.duration_days = static_cast<int>(days);
  BERTH_ASSIGN_OR_RETURN(t.gpu_model, str_field(b, "gpu_model", false, t.gpu_model));
  BERTH_ASSIGN_OR_RETURN(t.justification, str_field(b, "justification", required, t.justification));
  BERTH_ASSIGN_OR_RETURN(t.planned_work, str_field(b, "planned_work", false, t.planned_work));
  return t;
}

// [{"name": "impact", "weight_bps": 4000}, ...]
Result<std::vector<core::Criterion>> criteria_field(const json& b) {
  if (!b.contains("criteria") || !b["criteria"].is_array())
    return Status::Invalid("field 'criteria' must be a list of {\"name\", \"weight_bps\"}");
  std::vector<core::Criterion> out;
  for (const json& c : b["criteria"]) {
    if (!c.is_object())
      return Status::Invalid("each criterion must be an object with 'name' and 'weight_bps'");
    BERTH_ASSIGN_OR_RETURN(auto name, name_field(c, "name", true));
    BERTH_ASSIGN_OR_RETURN(auto weight, int_field(c, "weight_bps", true));
    out.push_back({name, weight});
  }
  return out;
}

// The registration record's fields a request gives (POST /v1/orgs and its update): each a
// string when present; null or absent leaves it out.
Result<core::RegistrationChange> registration_fields(const json& b) {
  core::RegistrationChange change;
  const std::pair<const char*, std::optional<std::string>*> fields[] = {
      {"registration_number", &change.number},
      {"address", &change.address},
      {"contact_name", &change.contact_name},
      {"contact_email", &change.contact_email},
      {"jurisdiction", &change.jurisdiction}};
  for (auto [key, out] : fields) {
    if (!b.contains(key) || b[key].is_null()) continue;
    BERTH_ASSIGN_OR_RETURN(*out, str_field(b, key, true));
  }
  return change;
}

namespace {

// A list of node names: an array of strings, absent or null for none.
Result<std::vector<std::string>> node_names_field(const json& b, const char* key) {
  std::vector<std::string> names;
  if (!b.contains(key) || b[key].is_null()) return names;
  const std::string bad = std::string("field '") + key + "' must be a list of node names";
  if (!b[key].is_array()) return Status::Invalid(bad);
  if (b[key].size() > core::kMaxChosenNodes)
    return Status::Invalid(std::string("field '") + key + "' names more than " +
                           std::to_string(core::kMaxChosenNodes) + " nodes");
  for (const json& name : b[key]) {
    if (!name.is_string() || name.get_ref<const std::string&>().empty())
      return Status::Invalid(bad);
    names.push_back(name.get<std::string>());
  }
  return names;
}

}  // namespace

// Reads the fields of a job request (submit and quote). Resolution of names happens here
// too, on the core thread.
Result<core::JobRequest> job_request(const core::Engine& e, const json& b, const Principal& who,
                                     bool for_submit) {
  core::JobRequest r;
  if (!b.contains("project")) return Status::Invalid("field 'project' is required");
  BERTH_ASSIGN_OR_RETURN(auto p, find_project(e, b["project"], who));
  r.project = p->id;
  // Nodes chosen by name (Slurm's --nodelist and --exclude); the job runs on exactly the
  // required nodes, so "nodes" defaults to how many there are.
  for (auto [key, out] : {std::pair{"required_nodes", &r.node_names.required},
                          std::pair{"excluded_nodes", &r.node_names.excluded}}) {
    BERTH_ASSIGN_OR_RETURN(*out, node_names_field(b, key));
  }
  const int64_t default_nodes =
      r.node_names.required.empty() ? 1 : static_cast<int64_t>(r.node_names.required.size());
  // GPUs: "gpus" in all, or "gpus_per_node" on each of "nodes" (Slurm's --gpus and
  // --gpus-per-node); when both are given they must agree.
  BERTH_ASSIGN_OR_RETURN(auto nodes, int_field(b, "nodes", false, default_nodes));
  if (nodes < 1 || nodes > 100'000)
    return Status::Invalid("field 'nodes' must be 1 to 100000, got " + std::to_string(nodes));
  BERTH_ASSIGN_OR_RETURN(auto per_node, int_field(b, "gpus_per_node", false, 0));
  if (per_node < 0 || per_node > 64)
    return Status::Invalid("field 'gpus_per_node' must be 1 to 64, got " +
                           std::to_string(per_node));
  BERTH_ASSIGN_OR_RETURN(auto gpus, int_field(b, "gpus", per_node == 0, per_node * nodes));
  if (gpus < 1 || gpus > 1'000'000)
    return Status::Invalid("field 'gpus' must be at least 1, got " + std::to_string(gpus));
  if (per_node > 0 && gpus != per_node * nodes)
    return Status::Invalid("field 'gpus' is " + std::to_string(gpus) +
                           " but 'gpus_per_node' x 'nodes' is " + std::to_string(per_node * nodes));
  r.gpus = static_cast<int>(gpus);
  r.nodes = static_cast<int>(nodes);
  BERTH_ASSIGN_OR_RETURN(auto limit, int_field(b, "time_limit_s", false, 0));
  if (limit < 0) return Status::Invalid("field 'time_limit_s' must not be negative");
  r.time_limit_s = limit;
  BERTH_ASSIGN_OR_RETURN(r.gpu_model, str_field(b, "gpu_model", false));
  BERTH_ASSIGN_OR_RETURN(r.partition, str_field(b, "partition", false));
  BERTH_ASSIGN_OR_RETURN(const std::string tier, str_field(b, "tier", false, "normal"));
  if (!core::parse_tier(tier, &r.tier))
    return Status::Invalid("tier must be one of " + core::kTierNames.list() + ", got '" + tier +
                           "'");
  if (!for_submit) return r;
  BERTH_ASSIGN_OR_RETURN(r.name, name_field(b, "name", false, "job"));
  r.user = who.user;
  for (auto [key, flag] :
       {std::pair<const char*, bool*>{"requeue", &r.requeue}, {"hold", &r.hold}}) {
    if (!b.contains(key) || b[key].is_null()) continue;
    if (!b[key].is_boolean())
      return Status::Invalid(std::string("field '") + key + "' must be true or false");
    *flag = b[key].get<bool>();
  }
  BERTH_ASSIGN_OR_RETURN(auto dependency, str_field(b, "dependency", false));
  if (!dependency.empty() && !core::parse_dependencies(dependency, &r.dependencies))
    return Status::Invalid(
        "field 'dependency' must look like afterok:12[:13][,afterany:14] (afterok, afterany, "
        "afternotok)");
  // A job of another organisation is as absent to a member here as everywhere else: its
  // outcome would otherwise show in the state of the member's own job.
  for (const core::Dependency& d : r.dependencies) {
    const core::Job* other = e.job(d.job);
    if (!other || !who.sees(other->org))
      return Status::NotFound("dependency job " + std::to_string(d.job.value) + " not found");
  }
  return r;
}

namespace {

// The launch description's Slurm fields: the directory submitted from (SLURM_SUBMIT_DIR), the
// warning signal before the time limit, and the CPU, memory and task requests kept for the node
// agents (berth schedules GPUs only).
Status slurm_launch_fields(const json& b, const std::string& workdir, json* l) {
  BERTH_ASSIGN_OR_RETURN(auto submit_dir, str_field(b, "submit_dir", false, workdir));
  if (submit_dir.empty() || submit_dir[0] != '/' || submit_dir.size() > kMaxPathBytes ||
      submit_dir.find('\0') != std::string::npos)
    return Status::Invalid("field 'submit_dir' must be an absolute path");
  (*l)["submit_dir"] = submit_dir;
  // srun's way rather than sbatch's: the script runs on every node of the job (berth run).
  if (b.contains("every_node") && !b["every_node"].is_null()) {
    if (!b["every_node"].is_boolean())
      return Status::Invalid("field 'every_node' must be true or false");
    if (b["every_node"].get<bool>()) (*l)["every_node"] = true;
  }
  BERTH_ASSIGN_OR_RETURN(auto signal, str_field(b, "signal", false));
  if (!signal.empty()) {
    auto parsed = executor::parse_job_signal(signal);
    if (!parsed.ok()) return Status::Invalid("field 'signal': " + parsed.status().message());
    (*l)["signal"] = executor::format_job_signal(*parsed);
  }
  if (!b.contains("resources") || b["resources"].is_null()) return Status::Ok();
  if (!b["resources"].is_object()) return Status::Invalid("field 'resources' must be an object");
  json resources = json::object();
  for (const char* key : kResourceFields) {
    auto value = int_field(b["resources"], key, false, -1);
    if (!value.ok()) return Status::Invalid("field 'resources': " + value.status().message());
    if (*value == -1 && !b["resources"].contains(key)) continue;
    if (*value < 0 || *value > kMaxResourceValue)
      return Status::Invalid("field 'resources': '" + std::string(key) + "' must be 0 to " +
                             std::to_string(kMaxResourceValue));
    resources[key] = *value;
  }
  for (const auto& [key, value] : b["resources"].items())
    if (!resources.contains(key))
      return Status::Invalid("field 'resources' has unknown key '" + key + "'");
  (*l)["resources"] = resources;
  return Status::Ok();
}

}  // namespace

// The launch description kept with the job: where it runs and where its output goes.
Result<json> launch_json(const json& b) {
  BERTH_ASSIGN_OR_RETURN(auto workdir, str_field(b, "workdir", true));
  if (workdir.empty() || workdir[0] != '/')
    return Status::Invalid("field 'workdir' must be an absolute path");
  BERTH_ASSIGN_OR_RETURN(auto out, str_field(b, "output", false, "berth-%j.out"));
  BERTH_ASSIGN_OR_RETURN(auto err, str_field(b, "error", false, ""));
  // Whether the directory exists, and whether the job's user may enter it, is the kernel's to
  // say when the job starts, as that user; here only what no file system accepts is refused.
  for (const auto& [field, path] :
       {std::pair{"workdir", &workdir}, std::pair{"output", &out}, std::pair{"error", &err}}) {
    if (path->find('\0') != std::string::npos)
      return Status::Invalid(std::string("field '") + field + "' contains a NUL byte");
    if (path->size() > kMaxPathBytes)
      return Status::Invalid(std::string("field '") + field + "' is longer than " +
                             std::to_string(kMaxPathBytes) + " bytes");
  }
  auto absolute = [&](const std::string& p) {
    return p.empty() || p[0] == '/' ? p : workdir + "/" + p;
  };
  json l = {{"workdir", workdir},
            {"stdout", absolute(out)},
            {"stderr", absolute(err.empty() ? out : err)}};
  json args = json::array();
  if (b.contains("args") && !b["args"].is_null()) {
    if (!b["args"].is_array()) return Status::Invalid("field 'args' must be an array of strings");
    for (const auto& a : b["args"]) {
      if (!a.is_string()) return Status::Invalid("field 'args' must be an array of strings");
      args.push_back(a);
    }
  }
  l["args"] = args;
  json env = json::object();
  if (b.contains("env") && !b["env"].is_null()) {
    if (!b["env"].is_object()) return Status::Invalid("field 'env' must be an object of strings");
    if (b["env"].size() > kMaxEnvVariables)
      return Status::Invalid("field 'env' has more than " + std::to_string(kMaxEnvVariables) +
                             " variables");
    size_t bytes = 0;
    for (const auto& [k, v] : b["env"].items())
      bytes += k.size() + (v.is_string() ? v.get_ref<const std::string&>().size() : 0);
    if (bytes > kMaxEnvBytes)
      return Status::Invalid("field 'env' is larger than " + std::to_string(kMaxEnvBytes) +
                             " bytes");
    for (const auto& [k, v] : b["env"].items()) {
      if (!v.is_string() || k.empty() || k.find('=') != std::string::npos ||
          k.find('\0') != std::string::npos)
        return Status::Invalid("field 'env' must map names to strings");
      if (v.get_ref<const std::string&>().find('\0') != std::string::npos)
        return Status::Invalid("field 'env': the value of " + k + " contains a NUL byte");
      env[k] = v;
    }
  }
  l["env"] = env;
  BERTH_RETURN_IF_ERROR(slurm_launch_fields(b, workdir, &l));
  return l;
}

}  // namespace berth::server
