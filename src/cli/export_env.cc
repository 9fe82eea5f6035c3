#include "cli/export_env.h"

#include "common/limits.h"
#include "common/strings.h"

namespace berth::cli {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_'))
      return false;
  }
  return true;
}

// Never passed, whatever --export says: the submitter's credentials and what describes the
// submitting session rather than the job (berth sets the job's own BERTH_* and SLURM_*).
bool never_exported(std::string_view name) {
  return name.starts_with("BERTH_") || name.starts_with("SLURM_");
}

// Left out of ALL: who and where the submitting shell is. The job gets its own from the Unix
// user it runs as (which may not be the submitter's) and its workdir. Named, they pass.
bool describes_the_session(std::string_view name) {
  for (std::string_view session :
       {"HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "SHLVL", "_"})
    if (name == session) return true;
  return false;
}

bool denied(std::string_view name, const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns)
    if (glob_match(pattern, name)) return true;
  return false;
}

}  // namespace

Result<ExportRequest> parse_export(std::string_view value) {
  const std::string shown(value);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("export '" + shown + "' " + why +
                           " (write ALL, NONE, or VAR1,VAR2=value[,...])");
  };
  ExportRequest out;
  if (value == "NONE" || value == "NIL") {
    out.all = false;
    return out;
  }
  if (value.empty()) return bad("is empty");
  out.all = false;
  for (std::string_view item : split(value, ',')) {
    if (item == "ALL") {
      out.all = true;
      continue;
    }
    const size_t eq = item.find('=');
    const std::string name(item.substr(0, eq));
    if (name == "NONE" || name == "NIL") return bad("mixes " + name + " with other variables");
    if (!valid_name(name)) return bad("names '" + name + "', which is not a variable name");
    if (name == "BERTH_TOKEN") return bad("names BERTH_TOKEN, which berth never passes to a job");
    if (never_exported(name))
      return bad("names " + name + "; berth sets the job's own BERTH_* and SLURM_* variables");
    std::optional<std::string> given;
    if (eq != std::string_view::npos) given = std::string(item.substr(eq + 1));
    out.variables.emplace_back(name, std::move(given));
  }
  return out;
}

std::vector<std::string> export_deny_patterns(const std::optional<std::string>& configured) {
  std::vector<std::string> out;
  for (std::string_view pattern :
       split(configured ? std::string_view(*configured) : kDefaultExportDeny, ',')) {
    while (!pattern.empty() && pattern.front() == ' ') pattern.remove_prefix(1);
    while (!pattern.empty() && pattern.back() == ' ') pattern.remove_suffix(1);
    if (!pattern.empty()) out.emplace_back(pattern);
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative matching with one backtrack point for the last '*': linear in practice.
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<std::map<std::string, std::string>> exported_environment(
    const std::optional<std::string>& request,
    const std::map<std::string, std::string>& environment,
    const std::vector<std::string>& deny_patterns) {
  ExportRequest wanted;
  if (request) {
    BERTH_ASSIGN_OR_RETURN(ExportRequest parsed, parse_export(*request));
    wanted = std::move(parsed);
  }
  std::map<std::string, std::string> out;
  if (wanted.all) {
    for (const auto& [name, value] : environment)
      if (!never_exported(name) && !describes_the_session(name) && !denied(name, deny_patterns))
        out[name] = value;
  }
  for (const auto& [name, given] : wanted.variables) {
    if (given) {
      out[name] = *given;
    } else if (auto it = environment.find(name); it != environment.end()) {
      out[name] = it->second;
    }
  }
  size_t bytes = 0;
  for (const auto& [name, value] : out) bytes += name.size() + value.size();
  if (out.size() > kMaxEnvVariables || bytes > kMaxEnvBytes)
    return Status::Invalid(
        "the environment to pass to the job has " + std::to_string(out.size()) + " variables, " +
        std::to_string(bytes) + " bytes; the limit is " + std::to_string(kMaxEnvVariables) +
        " variables, " + std::to_string(kMaxEnvBytes) +
        " bytes (name only what the job needs with --export=VAR1,VAR2, or --export=NONE)");
  return out;
}

}  // namespace berth::cli
