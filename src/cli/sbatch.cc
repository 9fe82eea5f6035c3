#include "cli/sbatch.h"
#include "common/strings.h"

#include <algorithm>
#include <array>

#include "common/strings.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

// What an option does once its value is known.
enum class Effect {
  kGres, kGpus, kGpusPerNode, kTime, kName, kAccount, kPartition, kOutput, kError, kNodes,
  kRequeue, kNoRequeue, kConstraint, kHold, kDependency, kArray,
  kIgnored,  // accepted for compatibility, changes nothing, warns
};

struct OptionSpec {
  std::string_view long_name;
  char short_name;  // '\0' when there is none
  bool takes_value;
  Effect effect;
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
    // Harmless for berth: they neither change what runs nor what it costs.
    OptionSpec{"mail-type", '\0', true, Effect::kIgnored},
    OptionSpec{"mail-user", '\0', true, Effect::kIgnored},
    OptionSpec{"ntasks", 'n', true, Effect::kIgnored},
    OptionSpec{"ntasks-per-node", '\0', true, Effect::kIgnored},
    OptionSpec{"cpus-per-task", 'c', true, Effect::kIgnored},
    OptionSpec{"cpus-per-gpu", '\0', true, Effect::kIgnored},
    OptionSpec{"mem", '\0', true, Effect::kIgnored},
    OptionSpec{"mem-per-cpu", '\0', true, Effect::kIgnored},
    OptionSpec{"mem-per-gpu", '\0', true, Effect::kIgnored},
    OptionSpec{"exclusive", '\0', false, Effect::kIgnored},
    OptionSpec{"export", '\0', true, Effect::kIgnored},
    OptionSpec{"open-mode", '\0', true, Effect::kIgnored},
    OptionSpec{"comment", '\0', true, Effect::kIgnored},
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

// Applies one option's value to `options`.
Status apply(Effect effect, std::string_view value, JobOptions* options) {
  switch (effect) {
    case Effect::kGres: return set_gpus(parse_gres(value), true, options);
    case Effect::kGpus: return set_gpus(parse_gpus(value), false, options);
    case Effect::kGpusPerNode: return set_gpus(parse_gpus(value), true, options);
    case Effect::kTime: return set_count(parse_time_limit_s(value), &options->time_limit_s);
    case Effect::kName: return require_nonempty(value, &options->name);
    case Effect::kAccount: return require_nonempty(value, &options->project);
    case Effect::kPartition: return require_nonempty(value, &options->partition);
    case Effect::kOutput: return require_nonempty(value, &options->output);
    case Effect::kError: return require_nonempty(value, &options->error);
    case Effect::kNodes: return set_count(parse_node_count(value), &options->nodes);
    case Effect::kRequeue: options->requeue = true; return Status::Ok();
    case Effect::kNoRequeue: options->requeue = false; return Status::Ok();
    case Effect::kConstraint: {
      Result<std::string> model = parse_gpu_model(value);
      if (!model.ok()) return model.status();
      options->gpu_model = *model;
      return Status::Ok();
    }
    case Effect::kHold: options->hold = true; return Status::Ok();
    case Effect::kDependency: {
      Result<std::string> dependency = parse_dependency(value);
      if (!dependency.ok()) return dependency.status();
      options->dependency = *dependency;
      return Status::Ok();
    }
    case Effect::kArray: {
      Result<std::string> array = parse_array(value);
      if (!array.ok()) return array.status();
      options->array = *array;
      return Status::Ok();
    }
    case Effect::kIgnored: return Status::Ok();
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
    Result<const OptionSpec*> spec = find_long(name);
    if (!spec.ok()) return spec.status();
    found.spec = *spec;
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

// Applies every option on one #SBATCH line.
Status parse_line(std::string_view rest, size_t line_number, SbatchScript* out) {
  Result<std::vector<std::string>> tokens = tokenize(rest);
  if (!tokens.ok()) return Status::Invalid(at_line(line_number) + tokens.status().message());
  for (size_t i = 0; i < tokens->size(); ++i) {
    Result<Found> found = next_option(*tokens, &i);
    if (!found.ok()) return Status::Invalid(at_line(line_number) + found.status().message());
    if (found->spec->effect == Effect::kIgnored) {
      out->warnings.push_back(at_line(line_number) + found->spelled + " is not used by berth; ignored");
      continue;
    }
    Status st = apply(found->spec->effect, found->value, &out->options);
    if (!st.ok()) return Status::Invalid(at_line(line_number) + found->spelled + ": " + st.message());
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
  return base;
}

Result<SbatchScript> parse_sbatch(std::string_view script) {
  SbatchScript out;
  size_t line_number = 0;
  size_t start = 0;
  while (start < script.size()) {
    const size_t end = script.find('\n', start);
    std::string_view line = script.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? script.size() : end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool magic = line.starts_with(kMagic) && (line.size() == kMagic.size() || is_blank(line[kMagic.size()]));
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
  if (count > kMaxCount) return Status::Invalid("GPU count " + std::string(value) + " is too large");
  return count;
}

// One model, or several that will all do separated by '|' (Slurm's --constraint "H100|A100").
Result<std::string> parse_gpu_model(std::string_view value) {
  if (value.empty()) return Status::Invalid("GPU model is empty");
  for (std::string_view name : split(value, '|')) {
    bool ok = !name.empty();
    for (char ch : name)
      ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_' || ch == '.');
    if (!ok)
      return Status::Invalid("'" + std::string(value) + "' is not a GPU model or a list of models such as H100|A100 " +
                             "(berth takes model names, not other constraint expressions)");
  }
  return std::string(value);
}

Result<GpuRequest> parse_gpus(std::string_view value) {
  GpuRequest request;
  const size_t colon = value.rfind(':');
  if (colon != std::string_view::npos) {
    Result<std::string> model = parse_gpu_model(value.substr(0, colon));
    if (!model.ok()) return model.status();
    request.model = *model;
  }
  Result<int64_t> count = parse_gpu_count(colon == std::string_view::npos ? value : value.substr(colon + 1));
  if (!count.ok()) return count.status();
  request.count = *count;
  return request;
}

Result<GpuRequest> parse_gres(std::string_view value) {
  const std::string shown(value);
  if (value.find(',') != std::string_view::npos)
    return Status::Invalid("gres '" + shown + "' names several resources; berth schedules only gpu");
  if (value == "gpu") return GpuRequest{1, std::nullopt};
  if (!value.starts_with("gpu:")) return Status::Invalid("gres '" + shown + "' is not a GPU request (use gpu:N or gpu:MODEL:N)");
  Result<GpuRequest> request = parse_gpus(value.substr(4));
  if (!request.ok()) return Status::Invalid("gres '" + shown + "': " + request.status().message());
  return request;
}

Result<int64_t> parse_time_limit_s(std::string_view value) {
  Result<int64_t> seconds = parse_duration_s(value);
  if (!seconds.ok()) return seconds.status();
  if (*seconds == 0)
    return Status::Invalid("time limit 0 means no limit in Slurm; berth needs a limit to hold money");
  return seconds;
}

Result<int64_t> parse_node_count(std::string_view value) {
  if (!all_digits(value) || value.size() > 7)
    return Status::Invalid("node count '" + std::string(value) + "' is not a whole number (ranges are not supported)");
  const int64_t count = std::stoll(std::string(value));
  if (count < 1) return Status::Invalid("node count must be at least 1");
  return count;
}

namespace {


// A whole number of at most `max_digits` digits.
bool read_number(std::string_view text, size_t max_digits, int64_t* out) {
  if (!all_digits(text) || text.size() > max_digits) return false;
  *out = std::stoll(std::string(text));
  return true;
}

}  // namespace

Result<std::string> parse_dependency(std::string_view value) {
  const std::string shown(value);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("dependency '" + shown + "' " + why +
                           " (write TYPE:ID[:ID...][,TYPE:ID...] with TYPE afterok, afterany or afternotok)");
  };
  if (value.empty()) return bad("is empty");
  if (value.find('?') != std::string_view::npos) return bad("uses '?' (either-of), which berth does not support");
  for (std::string_view part : split(value, ',')) {
    const std::vector<std::string_view> fields = split(part, ':');
    const std::string_view type = fields.front();
    if (type != "afterok" && type != "afterany" && type != "afternotok") {
      if (type.empty()) return bad("has an empty part");
      return bad("has type '" + std::string(type) + "', which berth does not support");
    }
    if (fields.size() < 2) return bad("names no job for " + std::string(type));
    for (size_t i = 1; i < fields.size(); ++i) {
      int64_t id = 0;
      if (!read_number(fields[i], 15, &id) || id < 1)
        return bad("has '" + std::string(fields[i]) + "', which is not a job id");
    }
  }
  return shown;
}

Result<std::string> parse_array(std::string_view value) {
  const std::string shown(value);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("array '" + shown + "' " + why + " (write e.g. 0-15, 1,3,5, 0-99:10 or 0-9%2)");
  };
  std::string_view indexes = value;
  const size_t percent = value.find('%');
  if (percent != std::string_view::npos) {
    indexes = value.substr(0, percent);
    int64_t throttle = 0;
    if (!read_number(value.substr(percent + 1), 7, &throttle) || throttle < 1)
      return bad("has a throttle that is not a whole number of tasks >= 1 after %");
  }
  if (indexes.empty()) return bad("has no indexes");
  std::vector<int64_t> all;
  for (std::string_view item : split(indexes, ',')) {
    const size_t colon = item.find(':');
    const std::string_view range = item.substr(0, colon);
    const size_t dash = range.find('-');
    int64_t first = 0, last = 0, step = 1;
    if (!read_number(range.substr(0, dash), 7, &first))
      return bad("has '" + std::string(item) + "', which is not an index or a range");
    last = first;
    if (dash != std::string_view::npos && !read_number(range.substr(dash + 1), 7, &last))
      return bad("has '" + std::string(item) + "', which is not an index or a range");
    if (colon != std::string_view::npos && (!read_number(item.substr(colon + 1), 7, &step) || step < 1))
      return bad("has a step in '" + std::string(item) + "' that is not a whole number >= 1");
    if (last < first) return bad("has the range '" + std::string(item) + "', which ends before it starts");
    if (last > kMaxArrayIndex) return bad("has an index above " + std::to_string(kMaxArrayIndex));
    for (int64_t i = first; i <= last; i += step) {
      all.push_back(i);
      if (static_cast<int64_t>(all.size()) > kMaxArrayTasks)
        return bad("has more than " + std::to_string(kMaxArrayTasks) + " tasks");
    }
  }
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) return bad("repeats an index");
  return shown;
}

}  // namespace berth::cli
