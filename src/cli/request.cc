#include "cli/request.h"

#include "cli/hostlist.h"
#include "common/money.h"
#include "core/model.h"

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr int64_t kFullRateBps = 10'000;

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// The fields both a quote and a job carry.
Result<json> job_shape(const JobOptions& options) {
  if (!options.project || options.project->empty())
    return Status::Invalid(
        "no project given: use --account/-A PROJECT or '#SBATCH --account=PROJECT'");
  if (!options.gpus)
    return Status::Invalid(
        "no GPU count given: use --gpus/-G N, --gres=gpu:N or '#SBATCH --gres=gpu:N'");
  if (*options.gpus < 1) return Status::Invalid("GPU count must be at least 1");
  if (options.time_limit_s && *options.time_limit_s <= 0)
    return Status::Invalid("time limit must be positive");
  if (options.nodes && *options.nodes < 1) return Status::Invalid("node count must be at least 1");
  if (options.tier) BERTH_RETURN_IF_ERROR(check_tier(*options.tier));
  json body = json::object();
  body["project"] = name_or_id(*options.project);
  body[options.gpus_per_node.value_or(false) ? "gpus_per_node" : "gpus"] = *options.gpus;
  if (options.nodes) body["nodes"] = *options.nodes;
  if (options.time_limit_s) body["time_limit_s"] = *options.time_limit_s;
  if (options.gpu_model) body["gpu_model"] = *options.gpu_model;
  if (options.partition) body["partition"] = *options.partition;
  if (options.tier) body["tier"] = *options.tier;
  for (auto [key, list] :
       {std::pair{"required_nodes", &options.nodelist}, {"excluded_nodes", &options.exclude}}) {
    if (!*list) continue;
    BERTH_ASSIGN_OR_RETURN(body[key], expand_hostlist(**list));
  }
  return body;
}

// The CPU, memory and task requests that were given, by their API names.
json resources_json(const JobResources& r) {
  json out = json::object();
  for (auto [key, value] : {std::pair{"mem_mb", r.mem_mb},
                            {"mem_per_cpu_mb", r.mem_per_cpu_mb},
                            {"mem_per_gpu_mb", r.mem_per_gpu_mb},
                            {"cpus_per_task", r.cpus_per_task},
                            {"cpus_per_gpu", r.cpus_per_gpu},
                            {"ntasks", r.ntasks},
                            {"ntasks_per_node", r.ntasks_per_node}})
    if (value) out[key] = *value;
  return out;
}

}  // namespace

Result<json> build_submit_request(const JobOptions& options, const std::string& script,
                                  const std::vector<std::string>& args,
                                  const std::string& submit_dir,
                                  const std::map<std::string, std::string>& env) {
  BERTH_ASSIGN_OR_RETURN(json shape, job_shape(options));
  if (script.empty()) return Status::Invalid("the batch script is empty");
  if (script.size() > kMaxScriptBytes)
    return Status::Invalid("the batch script is " + std::to_string(script.size()) +
                           " bytes; the limit is " + std::to_string(kMaxScriptBytes));
  if (!script.starts_with("#!"))
    return Status::Invalid(
        "this does not look like a batch script: the first line must start with #! "
        "followed by the path to an interpreter (for example #!/bin/bash)");
  if (submit_dir.empty() || submit_dir.front() != '/')
    return Status::Invalid("working directory '" + submit_dir + "' is not an absolute path");
  if (options.workdir && options.workdir->empty())
    return Status::Invalid("--chdir needs a directory");
  json body = std::move(shape);
  body["submit_dir"] = submit_dir;
  body["workdir"] = !options.workdir                  ? submit_dir
                    : options.workdir->front() == '/' ? *options.workdir
                                                      : submit_dir + "/" + *options.workdir;
  if (options.signal) body["signal"] = *options.signal;
  if (json resources = resources_json(options.resources); !resources.empty())
    body["resources"] = resources;
  if (!env.empty()) body["env"] = env;
  if (options.name) body["name"] = *options.name;
  body["script"] = script;
  body["args"] = args;
  if (options.output) body["output"] = *options.output;
  if (options.error) body["error"] = *options.error;
  if (options.requeue) body["requeue"] = *options.requeue;
  if (options.hold && *options.hold) body["hold"] = true;
  if (options.dependency) {
    BERTH_ASSIGN_OR_RETURN(std::string dependency, parse_dependency(*options.dependency));
    body["dependency"] = dependency;
  }
  if (options.array) {
    BERTH_ASSIGN_OR_RETURN(std::string array, parse_array(*options.array));
    body["array"] = array;
  }
  return body;
}

Result<json> build_quote_request(const JobOptions& options) { return job_shape(options); }

std::string wrap_command(std::string_view command) {
  return "#!/bin/sh\n" + std::string(command) + "\n";
}

Result<int64_t> parse_rate_bps(std::string_view text) {
  const std::string shown(text);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("rate '" + shown + "' " + why + " (write 70%, 7000bps or 0.7)");
  };
  int64_t bps = 0;
  if (text.ends_with("bps")) {
    const std::string_view digits = text.substr(0, text.size() - 3);
    if (!all_digits(digits) || digits.size() > 6)
      return bad("is not a whole number of basis points");
    bps = std::stoll(std::string(digits));
  } else if (text.ends_with("%")) {
    // Percent with at most two decimals is a whole number of basis points.
    Result<Minor> scaled = parse_amount(text.substr(0, text.size() - 1));
    if (!scaled.ok() || *scaled % 100 != 0)
      return bad("is not a percentage with at most 2 decimals");
    bps = *scaled / 100;
  } else {
    // A fraction with at most four decimals; 1 minor unit is 1/10,000, so minor units are bps.
    static_assert(kMinorPerUnit == kFullRateBps);
    Result<Minor> scaled = parse_amount(text);
    if (!scaled.ok()) return bad("is not a fraction with at most 4 decimals");
    bps = *scaled;
  }
  if (bps > kFullRateBps) return bad("is above 100%");
  return bps;
}

json name_or_id(std::string_view ref) {
  if (all_digits(ref) && ref.size() <= 18) return std::stoll(std::string(ref));
  return std::string(ref);
}

Result<std::string> checked_amount(std::string_view text, bool allow_negative) {
  BERTH_ASSIGN_OR_RETURN(Minor minor, parse_amount(text, allow_negative));
  return format_amount(minor);
}

Status check_tier(std::string_view tier) {
  core::Tier parsed;
  if (core::parse_tier(std::string(tier), &parsed)) return Status::Ok();
  return Status::Invalid("tier (qos) '" + std::string(tier) + "' is not one of " +
                         core::kTierNames.list());
}

}  // namespace berth::cli
