#include "cli/sbatch.h"

#include <algorithm>
#include <array>

#include "cli/export_env.h"
#include "cli/hostlist.h"
#include "cli/request.h"
#include "common/strings.h"
#include "common/timefmt.h"
#include "core/job_text.h"
#include "executor/job_signal.h"

namespace berth::cli {
namespace {

// What an option does once its value is known.
enum class Effect {
  kGres,
  kGpus,
  kGpusPerNode,
  kTime,
  kName,
  kAccount,
  kPartition,
  kOutput,
  kError,
  kNodes,
  kRequeue,
  kNoRequeue,
  kConstraint,
  kHold,
  kDependency,
  kArray,
  kQos,
  kChdir,
  kSignal,
  kExport,
  kNodelist,
  kExclude,
  kMem,
  kMemPerCpu,
  kMemPerGpu,
  kCpusPerTask,
  kCpusPerGpu,
  kNtasks,
  kNtasksPerNode,  // recorded
  kIgnored,        // accepted for compatibility, changes nothing, warns
  kRefused,        // a Slurm option berth does not do: an error with the reason
};

struct OptionSpec {
  std::string_view long_name;
  char short_name;  // '\0' when there is none
  bool takes_value;
  Effect effect;
  std::string_view refusal = {};  // for kRefused: why berth does not do it
};

constexpr std::array kOptions = {
    OptionSpec{"gres", '\0', true, Effect::kGres},
    OptionSpec{"gpus", 'G', true, Effect::kGpus},
    OptionSpec{"gpus-per-node", '\0', true, Effect::kGpusPerNode},
    OptionSpec{"time", 't', true, Effect::kTime},
    OptionSpec{"job-name", 'J', true, Effect::kName},
    OptionSpec{"account", 'A', true, Effect::kAccount},
    OptionSpec{"partition", 'p', true, Effect::kPartition},
    OptionSpec{"output", 'o', true, Effect::kOutput},
    OptionSpec{"error", 'e', true, Effect::kError},
    OptionSpec{"nodes", 'N', true, Effect::kNodes},
    OptionSpec{"requeue", '\0', false, Effect::kRequeue},
    OptionSpec{"no-requeue", '\0', false, Effect::kNoRequeue},
    OptionSpec{"constraint", 'C', true, Effect::kConstraint},
    OptionSpec{"hold", 'H', false, Effect::kHold},
    OptionSpec{"dependency", 'd', true, Effect::kDependency},
    OptionSpec{"array", 'a', true, Effect::kArray},
    OptionSpec{"qos", 'q', true, Effect::kQos},
    OptionSpec{"chdir", 'D', true, Effect::kChdir},
    OptionSpec{"workdir", '\0', true, Effect::kChdir},  // Slurm's name for --chdir before 17.11
    OptionSpec{"signal", '\0', true, Effect::kSignal},
    OptionSpec{"export", '\0', true, Effect::kExport},
    OptionSpec{"nodelist", 'w', true, Effect::kNodelist},
    OptionSpec{"exclude", 'x', true, Effect::kExclude},
    // Recorded with the job for the node agents; berth schedules and charges GPUs only.
    OptionSpec{"mem", '\0', true, Effect::kMem},
    OptionSpec{"mem-per-cpu", '\0', true, Effect::kMemPerCpu},
    OptionSpec{"mem-per-gpu", '\0', true, Effect::kMemPerGpu},
    OptionSpec{"cpus-per-task", 'c', true, Effect::kCpusPerTask},
    OptionSpec{"cpus-per-gpu", '\0', true, Effect::kCpusPerGpu},
    OptionSpec{"ntasks", 'n', true, Effect::kNtasks},
    OptionSpec{"ntasks-per-node", '\0', true, Effect::kNtasksPerNode},
    OptionSpec{"tasks-per-node", '\0', true, Effect::kNtasksPerNode},  // Slurm's other spelling
    // Harmless for berth: they neither change what runs nor what it costs.
    OptionSpec{"mail-type", '\0', true, Effect::kIgnored},
    OptionSpec{"mail-user", '\0', true, Effect::kIgnored},
    OptionSpec{"exclusive", '\0', false, Effect::kIgnored},
    OptionSpec{"open-mode", '\0', true, Effect::kIgnored},
    OptionSpec{"comment", '\0', true, Effect::kIgnored},
    // Slurm options berth does not do: refused, never silently dropped.
    OptionSpec{"begin", 'b', true, Effect::kRefused,
               "jobs start as soon as they fit; submit it held (--hold) and release it later"},
    OptionSpec{"reservation", '\0', true, Effect::kRefused, "berth has no reservations"},
    OptionSpec{"licenses", 'L', true, Effect::kRefused, "berth does not track licences"},
    OptionSpec{"deadline", '\0', true, Effect::kRefused,
               "berth has no deadlines; give a time limit with --time"},
    OptionSpec{"oversubscribe", 's', false, Effect::kRefused,
               "berth never shares a GPU between jobs"},
    OptionSpec{
        "gpus-per-task", '\0', true, Effect::kRefused,
        "berth has no job steps; give the GPUs in all (--gpus) or per node (--gpus-per-node)"},
    OptionSpec{"nice", '\0', true, Effect::kRefused,
               "a job's priority comes from its tier (--qos) and fair share"},
    OptionSpec{"priority", '\0', true, Effect::kRefused,
               "a job's priority comes from its tier (--qos) and fair share"},
    OptionSpec{"clusters", 'M', true, Effect::kRefused,
               "one berthd serves one cluster; point --server at another"},
    OptionSpec{"test-only", '\0', false, Effect::kRefused,
               "use berth quote to price a job and see when it could start"},
    OptionSpec{"mincpus", '\0', true, Effect::kRefused,
               "berth schedules GPUs; ask for CPUs with --cpus-per-task"},
    OptionSpec{"tmp", '\0', true, Effect::kRefused, "berth does not track local disk"},
    OptionSpec{"distribution", 'm', true, Effect::kRefused,
               "berth has no job steps; the job places its own tasks"},
    OptionSpec{"cpu-bind", '\0', true, Effect::kRefused,
               "berth has no job steps; the job binds its own tasks"},
    OptionSpec{"mem-bind", '\0', true, Effect::kRefused,
               "berth has no job steps; the job binds its own tasks"},
    OptionSpec{"gpu-bind", '\0', true, Effect::kRefused,
               "berth has no job steps; the job binds its own tasks"},
};

// Bounds on what one script may hold, so a runaway file cannot make the parser grow without end.
constexpr size_t kMaxTokensPerLine = 256;
constexpr int64_t kMaxCount = 1'000'000;

constexpr std::string_view kMagic = "#SBATCH";

const OptionSpec* find_short(char letter) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.short_name == letter) return &spec;
  }
  return nullptr;
}

// Exact long name first, then a unique prefix as getopt_long accepts.
Result<const OptionSpec*> find_long(std::string_view name) {
  const OptionSpec* prefix_match = nullptr;
  int prefix_matches = 0;
  for (const OptionSpec& spec : kOptions) {
    if (spec.long_name == name) return &spec;
    if (!name.empty() && spec.long_name.substr(0, name.size()) == name) {
      prefix_match = &spec;
      ++prefix_matches;
    }
  }
  if (prefix_matches == 1) return prefix_match;
  const std::string shown = "--" + std::string(name);
  if (prefix_matches > 1) return Status::Invalid("option " + shown + " is ambiguous");
  return Status::Invalid("unknown option " + shown);
}

bool is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

// Splits the text after "#SBATCH" into arguments as sbatch does: blanks separate, double quotes
// group, a backslash escapes the next character, an unquoted '#' ends the line.
Result<std::vector<std::string>> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  bool in_token = false, quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (!quoted && is_blank(ch)) {
      if (in_token) tokens.push_back(std::move(current));
      current.clear();
      in_token = false;
      continue;
    }
    if (!quoted && ch == '#') break;
    in_token = true;
    if (ch == '"') {
      quoted = !quoted;
    } else if (ch == '\\' && i + 1 < text.size()) {
      current += text[++i];
    } else {
      current += ch;
    }
    if (tokens.size() >= kMaxTokensPerLine) return Status::Invalid("too many arguments");
  }
  if (quoted) return Status::Invalid("unterminated double quote");
  if (in_token) tokens.push_back(std::move(current));
  return tokens;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

Status require_nonempty(std::string_view value, std::optional<std::string>* field) {
  if (value.empty()) return Status::Invalid("needs a value");
  *field = std::string(value);
  return Status::Ok();
}

// A host list, checked here so that a script's mistake names its line; sent expanded.
Status set_node_list(std::string_view value, std::optional<std::string>* field) {
  BERTH_RETURN_IF_ERROR(expand_hostlist(value).status());
  *field = std::string(value);
  return Status::Ok();
}

// Slurm's --gpus counts GPUs in all; --gres=gpu:N and --gpus-per-node count them per node.
Status set_gpus(Result<GpuRequest> request, bool per_node, JobOptions* options) {
  if (!request.ok()) return request.status();
  options->gpus = request->count;
  options->gpus_per_node = per_node;
  if (request->model) options->gpu_model = request->model;
  return Status::Ok();
}

Status set_count(Result<int64_t> count, std::optional<int64_t>* field) {
  if (!count.ok()) return count.status();
  *field = *count;
  return Status::Ok();
}

// A whole number >= 1 of something ("CPU count", "task count").
Result<int64_t> parse_positive(std::string_view value, const std::string& what) {
  if (!all_digits(value) || value.size() > 7)
    return Status::Invalid(what + " '" + std::string(value) + "' is not a whole number");
  const int64_t count = std::stoll(std::string(value));
  if (count < 1) return Status::Invalid(what + " must be at least 1");
  return count;
}

// Applies one option's value to `options`.
Status apply(Effect effect, std::string_view value, JobOptions* options) {
  switch (effect) {
    case Effect::kGres:
      return set_gpus(parse_gres(value), true, options);
    case Effect::kGpus:
      return set_gpus(parse_gpus(value), false, options);
    case Effect::kGpusPerNode:
      return set_gpus(parse_gpus(value), true, options);
    case Effect::kTime:
      return set_count(parse_time_limit_s(value), &options->time_limit_s);
    case Effect::kName:
      return require_nonempty(value, &options->name);
    case Effect::kAccount:
      return require_nonempty(value, &options->project);
    case Effect::kPartition:
      return require_nonempty(value, &options->partition);
    case Effect::kOutput:
      return require_nonempty(value, &options->output);
    case Effect::kError:
      return require_nonempty(value, &options->error);
    case Effect::kNodes:
      return set_count(parse_node_count(value), &options->nodes);
    case Effect::kRequeue:
      options->requeue = true;
      return Status::Ok();
    case Effect::kNoRequeue:
      options->requeue = false;
      return Status::Ok();
    case Effect::kConstraint: {
      BERTH_ASSIGN_OR_RETURN(std::string model, parse_gpu_model(value));
      options->gpu_model = model;
      return Status::Ok();
    }
    case Effect::kHold:
      options->hold = true;
      return Status::Ok();
    case Effect::kDependency: {
      BERTH_ASSIGN_OR_RETURN(std::string dependency, parse_dependency(value));
      options->dependency = dependency;
      return Status::Ok();
    }
    case Effect::kArray: {
      BERTH_ASSIGN_OR_RETURN(std::string array, parse_array(value));
      options->array = array;
      return Status::Ok();
    }
    case Effect::kQos: {
      BERTH_RETURN_IF_ERROR(check_tier(value));
      options->tier = std::string(value);
      return Status::Ok();
    }
    case Effect::kChdir:
      return require_nonempty(value, &options->workdir);
    case Effect::kSignal: {
      BERTH_RETURN_IF_ERROR(executor::parse_job_signal(value).status());  // checked, kept as typed
      options->signal = std::string(value);
      return Status::Ok();
    }
    case Effect::kExport: {
      BERTH_RETURN_IF_ERROR(parse_export(value).status());  // checked, kept as typed
      options->export_env = std::string(value);
      return Status::Ok();
    }
    case Effect::kNodelist:
      return set_node_list(value, &options->nodelist);
    case Effect::kExclude:
      return set_node_list(value, &options->exclude);
    case Effect::kMem:
      return set_count(parse_memory_mb(value), &options->resources.mem_mb);
    case Effect::kMemPerCpu:
      return set_count(parse_memory_mb(value), &options->resources.mem_per_cpu_mb);
    case Effect::kMemPerGpu:
      return set_count(parse_memory_mb(value), &options->resources.mem_per_gpu_mb);
    case Effect::kCpusPerTask:
      return set_count(parse_positive(value, "CPU count"), &options->resources.cpus_per_task);
    case Effect::kCpusPerGpu:
      return set_count(parse_positive(value, "CPU count"), &options->resources.cpus_per_gpu);
    case Effect::kNtasks:
      return set_count(parse_positive(value, "task count"), &options->resources.ntasks);
    case Effect::kNtasksPerNode:
      return set_count(parse_positive(value, "task count"), &options->resources.ntasks_per_node);
    case Effect::kIgnored:
    case Effect::kRefused:
      return Status::Ok();
  }
  return Status::Internal("unhandled option");
}

// One option found on a line: which, how the user spelled it, and its value.
struct Found {
  const OptionSpec* spec = nullptr;
  std::string spelled;
  std::string value;
};

// Reads the option starting at tokens[*i], consuming its value token if it takes one separately.
Result<Found> next_option(const std::vector<std::string>& tokens, size_t* i) {
  const std::string& token = tokens[*i];
  Found found;
  std::optional<std::string> attached;
  if (token.size() > 2 && token.starts_with("--")) {
    const size_t eq = token.find('=');
    const std::string name = token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    BERTH_ASSIGN_OR_RETURN(const OptionSpec* spec, find_long(name));
    found.spec = spec;
    found.spelled = "--" + std::string(found.spec->long_name);
    if (eq != std::string::npos) attached = token.substr(eq + 1);
  } else if (token.size() >= 2 && token[0] == '-' && token[1] != '-') {
    found.spec = find_short(token[1]);
    if (found.spec == nullptr) return Status::Invalid("unknown option " + token.substr(0, 2));
    found.spelled = token.substr(0, 2);
    if (token.size() > 2) attached = token.substr(token[2] == '=' ? 3 : 2);
  } else {
    return Status::Invalid("unexpected argument '" + token + "' (expected an option)");
  }
  if (!found.spec->takes_value) {
    if (attached && found.spec->effect != Effect::kIgnored)
      return Status::Invalid(found.spelled + " takes no value");
    return found;
  }
  if (attached) {
    found.value = *attached;
  } else if (*i + 1 < tokens.size()) {
    found.value = tokens[++*i];
  } else {
    return Status::Invalid(found.spelled + " needs a value");
  }
  return found;
}

std::string at_line(size_t line_number) { return "line " + std::to_string(line_number) + ": "; }

// Applies one option as the user spelled it; errors and warnings start with that spelling.
Status apply_found(const OptionSpec& spec, const std::string& spelled, std::string_view value,
                   JobOptions* options, std::vector<std::string>* warnings) {
  if (spec.effect == Effect::kIgnored) {
    warnings->push_back(spelled + " is not used by berth; ignored");
    return Status::Ok();
  }
  if (spec.effect == Effect::kRefused)
    return Status::Invalid(spelled + " is not supported: " + std::string(spec.refusal));
  Status st = apply(spec.effect, value, options);
  if (!st.ok()) return Status::Invalid(spelled + ": " + st.message());
  return Status::Ok();
}

// What --help says of an option the CLI takes through the table.
std::string help_for(const OptionSpec& spec) {
  switch (spec.effect) {
    case Effect::kChdir:
      return "the job's working directory (relative to here)";
    case Effect::kSignal:
      return "[B:]SIG[@SECS]: send SIG that long before the time limit";
    case Effect::kExport:
      return "ALL (default, less secrets), NONE, or VAR1,VAR2=value: the environment the job gets";
    case Effect::kNodelist:
      return "run on exactly these nodes, e.g. gpu-node-[01-02] (sets --nodes)";
    case Effect::kExclude:
      return "never run on these nodes, e.g. gpu-node-[03-04]";
    case Effect::kIgnored:
      return "Slurm's; ignored (berth does not use it)";
    case Effect::kRefused:
      return "Slurm's; not supported: " + std::string(spec.refusal);
    default:
      return "Slurm's; recorded with the job for the node agents (not yet enforced)";
  }
}

// Options the CLI takes through the table rather than flags of its own.
bool is_passthrough(Effect effect) { return effect >= Effect::kChdir; }

// Applies every option on one #SBATCH line.
Status parse_line(std::string_view rest, size_t line_number, SbatchScript* out) {
  Result<std::vector<std::string>> tokens = tokenize(rest);
  if (!tokens.ok()) return Status::Invalid(at_line(line_number) + tokens.status().message());
  for (size_t i = 0; i < tokens->size(); ++i) {
    Result<Found> found = next_option(*tokens, &i);
    if (!found.ok()) return Status::Invalid(at_line(line_number) + found.status().message());
    std::vector<std::string> warnings;
    Status st = apply_found(*found->spec, found->spelled, found->value, &out->options, &warnings);
    if (!st.ok()) return Status::Invalid(at_line(line_number) + st.message());
    for (std::string& warning : warnings) out->warnings.push_back(at_line(line_number) + warning);
  }
  return Status::Ok();
}

// True for a line that is blank or a comment; such lines do not end the #SBATCH block.
bool is_comment_or_blank(std::string_view line) {
  for (char ch : line) {
    if (is_blank(ch)) continue;
    return ch == '#';
  }
  return true;
}

}  // namespace

std::vector<SlurmOption> slurm_passthrough_options() {
  std::vector<SlurmOption> out;
  for (const OptionSpec& spec : kOptions)
    if (is_passthrough(spec.effect))
      out.push_back({spec.long_name, spec.short_name, spec.takes_value, help_for(spec)});
  return out;
}

Status apply_slurm_option(std::string_view long_name, std::string_view value, JobOptions* options,
                          std::vector<std::string>* warnings) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.long_name == long_name)
      return apply_found(spec, "--" + std::string(long_name), value, options, warnings);
  }
  return Status::Invalid("unknown option --" + std::string(long_name));
}

JobOptions overlay(JobOptions base, const JobOptions& top) {
  const auto take = [](auto& field, const auto& over) {
    if (over) field = over;
  };
  if (top.gpus) {  // a count and whether it is per node go together
    base.gpus = top.gpus;
    base.gpus_per_node = top.gpus_per_node;
  }
  take(base.gpu_model, top.gpu_model);
  take(base.time_limit_s, top.time_limit_s);
  take(base.name, top.name);
  take(base.project, top.project);
  take(base.partition, top.partition);
  take(base.output, top.output);
  take(base.error, top.error);
  take(base.nodes, top.nodes);
  take(base.requeue, top.requeue);
  take(base.tier, top.tier);
  take(base.hold, top.hold);
  take(base.dependency, top.dependency);
  take(base.array, top.array);
  take(base.workdir, top.workdir);
  take(base.signal, top.signal);
  take(base.export_env, top.export_env);
  take(base.nodelist, top.nodelist);
  take(base.exclude, top.exclude);
  JobResources& r = base.resources;
  const JobResources& t = top.resources;
  for (auto [field, over] : {std::pair{&r.mem_mb, &t.mem_mb},
                             {&r.mem_per_cpu_mb, &t.mem_per_cpu_mb},
                             {&r.mem_per_gpu_mb, &t.mem_per_gpu_mb},
                             {&r.cpus_per_task, &t.cpus_per_task},
                             {&r.cpus_per_gpu, &t.cpus_per_gpu},
                             {&r.ntasks, &t.ntasks},
                             {&r.ntasks_per_node, &t.ntasks_per_node}})
    take(*field, *over);
  return base;
}

Result<SbatchScript> parse_sbatch(std::string_view script) {
  SbatchScript out;
  size_t line_number = 0;
  size_t start = 0;
  while (start < script.size()) {
    const size_t end = script.find('\n', start);
    std::string_view line =
        script.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? script.size() : end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool magic =
        line.starts_with(kMagic) && (line.size() == kMagic.size() || is_blank(line[kMagic.size()]));
    if (magic) {
      BERTH_RETURN_IF_ERROR(parse_line(line.substr(kMagic.size()), line_number, &out));
    } else if (!is_comment_or_blank(line)) {
      break;  // The first command ends the block, as in sbatch.
    }
  }
  return out;
}

Result<int64_t> parse_gpu_count(std::string_view value) {
  if (!all_digits(value) || value.size() > 7)
    return Status::Invalid("GPU count '" + std::string(value) + "' is not a whole number of GPUs");
  const int64_t count = std::stoll(std::string(value));
  if (count < 1) return Status::Invalid("GPU count must be at least 1");
  if (count > kMaxCount)
    return Status::Invalid("GPU count " + std::string(value) + " is too large");
  return count;
}

// One model, or several that will all do separated by '|' (Slurm's --constraint "H100|A100").
Result<std::string> parse_gpu_model(std::string_view value) {
  if (value.empty()) return Status::Invalid("GPU model is empty");
  for (std::string_view name : split(value, '|')) {
    bool ok = !name.empty();
    for (char ch : name)
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.');
    if (!ok)
      return Status::Invalid("'" + std::string(value) +
                             "' is not a GPU model or a list of models such as H100|A100 " +
                             "(berth takes model names, not other constraint expressions)");
  }
  return std::string(value);
}

Result<GpuRequest> parse_gpus(std::string_view value) {
  GpuRequest request;
  const size_t colon = value.rfind(':');
  if (colon != std::string_view::npos) {
    BERTH_ASSIGN_OR_RETURN(std::string model, parse_gpu_model(value.substr(0, colon)));
    request.model = model;
  }
  BERTH_ASSIGN_OR_RETURN(
      int64_t count,
      parse_gpu_count(colon == std::string_view::npos ? value : value.substr(colon + 1)));
  request.count = count;
  return request;
}

Result<GpuRequest> parse_gres(std::string_view value) {
  const std::string shown(value);
  if (value.find(',') != std::string_view::npos)
    return Status::Invalid("gres '" + shown +
                           "' names several resources; berth schedules only gpu");
  if (value == "gpu") return GpuRequest{1, std::nullopt};
  if (!value.starts_with("gpu:"))
    return Status::Invalid("gres '" + shown + "' is not a GPU request (use gpu:N or gpu:MODEL:N)");
  Result<GpuRequest> request = parse_gpus(value.substr(4));
  if (!request.ok()) return Status::Invalid("gres '" + shown + "': " + request.status().message());
  return request;
}

Result<int64_t> parse_time_limit_s(std::string_view value) {
  BERTH_ASSIGN_OR_RETURN(int64_t seconds, parse_duration_s(value));
  if (seconds == 0)
    return Status::Invalid(
        "time limit 0 means no limit in Slurm; berth needs a limit to hold money");
  return seconds;
}

Result<int64_t> parse_memory_mb(std::string_view value) {
  const std::string shown(value);
  int64_t scale_kb = 1024;  // M is Slurm's default unit
  if (!value.empty()) {
    const char unit = value.back();
    const std::string_view units = "KkMmGgTt";
    if (const size_t at = units.find(unit); at != std::string_view::npos) {
      scale_kb = int64_t{1} << (10 * (at / 2));
      value.remove_suffix(1);
    }
  }
  if (!all_digits(value) || value.size() > 9)
    return Status::Invalid("memory '" + shown + "' is not a size such as 500, 32G or 4096M");
  const int64_t kb = std::stoll(std::string(value)) * scale_kb;
  if (kb > (int64_t{1} << 40))
    return Status::Invalid("memory '" + shown + "' is more than a node can have");
  return (kb + 1023) / 1024;  // whole MiB, rounded up
}

Result<int64_t> parse_node_count(std::string_view value) {
  if (!all_digits(value) || value.size() > 7)
    return Status::Invalid("node count '" + std::string(value) +
                           "' is not a whole number (ranges are not supported)");
  const int64_t count = std::stoll(std::string(value));
  if (count < 1) return Status::Invalid("node count must be at least 1");
  return count;
}

Result<std::string> parse_dependency(std::string_view value) {
  const std::string shown(value);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid(
        "dependency '" + shown + "' " + why +
        " (write TYPE:ID[:ID...][,TYPE:ID...] with TYPE afterok, afterany or afternotok)");
  };
  if (value.empty()) return bad("is empty");
  if (value.find('?') != std::string_view::npos)
    return bad("uses '?' (either-of), which berth does not support");
  std::vector<core::Dependency> deps;
  core::DependencyTextError error;
  if (!core::parse_dependency_text(value, &deps, &error)) {
    using Kind = core::DependencyTextError::Kind;
    switch (error.kind) {
      case Kind::kUnknownType:
        if (error.text.empty()) return bad("has an empty part");
        return bad("has type '" + error.text + "', which berth does not support");
      case Kind::kNoJob:
        return bad("names no job for " + error.text);
      case Kind::kNotAJobId:
        return bad("has '" + error.text + "', which is not a job id");
      case Kind::kTooMany:
        return bad("names more than " + std::to_string(core::kMaxDependencies) + " jobs");
    }
  }
  // berthd answers that job 0 is not found; no job has that id, so it is refused here.
  for (const core::Dependency& d : deps)
    if (d.job.value == 0) return bad("has '0', which is not a job id");
  return shown;
}

Result<std::string> parse_array(std::string_view value) {
  const std::string shown(value);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("array '" + shown + "' " + why +
                           " (write e.g. 0-15, 1,3,5, 0-99:10 or 0-9%2)");
  };
  core::ArraySpec spec;
  core::ArrayTextError error;
  if (core::parse_array_text(value, &spec, &error)) return shown;
  using Kind = core::ArrayTextError::Kind;
  switch (error.kind) {
    case Kind::kBadThrottle:
      return bad("has a throttle that is not a whole number of tasks >= 1 after %");
    case Kind::kNoIndexes:
      return bad("has no indexes");
    case Kind::kBadStep:
      return bad("has a step in '" + error.item + "' that is not a whole number >= 1");
    case Kind::kNotARange:
      return bad("has '" + error.item + "', which is not an index or a range");
    case Kind::kReversed:
      return bad("has the range '" + error.item + "', which ends before it starts");
    case Kind::kIndexTooHigh:
      return bad("has an index above " + std::to_string(core::kMaxArrayIndex));
    case Kind::kTooManyTasks:
      return bad("has more than " + std::to_string(core::kMaxArrayTasks) + " tasks");
    case Kind::kRepeats:
      return bad("repeats an index");
  }
  return bad("is not an array");
}

}  // namespace berth::cli
