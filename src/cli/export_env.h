// Slurm's --export: which of the submitter's environment variables a job receives.
//
//   ALL (the default)        every variable of the submitter's environment, less the deny list
//   NONE                     none (berth's and Slurm's own variables are still set)
//   VAR1,VAR2=value          only those: VAR1 with the submitter's value, VAR2 with the one given
//   ALL,VAR2=value           everything, with VAR2 set as given
//
// BERTH_TOKEN never reaches a job, nor do the submitter's own BERTH_* and SLURM_* variables
// (they describe the submitting session or job, not the new one; the job gets its own). ALL
// also leaves out HOME, USER, LOGNAME, SHELL, PWD, OLDPWD, SHLVL and _: the job's come from
// the Unix user it runs as and its workdir. Under ALL, variables whose names match the deny list
// (cli.toml's `export_deny`, comma-separated glob patterns; kDefaultExportDeny when unset) are left
// out: secrets in a shell's environment should not be copied into a job's launch description. A
// variable named explicitly is the user's choice and passes. Pure functions, no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace berth::cli {

inline constexpr std::string_view kDefaultExportDeny =
    "*TOKEN*,*SECRET*,*PASSWORD*,*PASSWD*,*CREDENTIAL*,*API_KEY*,*PRIVATE_KEY*,AWS_*,AZURE_*,"
    "GOOGLE_APPLICATION_*,"
    "SSH_AUTH_SOCK,SSH_AGENT_PID,GPG_AGENT_INFO,KRB5CCNAME";

struct ExportRequest {
  bool all = true;
  std::vector<std::pair<std::string, std::optional<std::string>>> variables;  // in the order given
};

// Parses an --export value. Names must be shell-like (letters, digits, '_', not starting with a
// digit); "NONE" and "NIL" stand alone; BERTH_TOKEN is refused.
Result<ExportRequest> parse_export(std::string_view value);

// The deny list's patterns from cli.toml's `export_deny` value (nullopt: the default).
std::vector<std::string> export_deny_patterns(const std::optional<std::string>& configured);

// Whether `name` matches a glob `pattern` ('*' any run of characters, '?' one character).
bool glob_match(std::string_view pattern, std::string_view name);

// The variables a job gets from `request` (nullopt: ALL) given the submitter's `environment`.
// A named variable that is not set and given no value is left unset, as Slurm does. Errors:
// more than the bounds above.
Result<std::map<std::string, std::string>> exported_environment(
    const std::optional<std::string>& request,
    const std::map<std::string, std::string>& environment,
    const std::vector<std::string>& deny_patterns);

}  // namespace berth::cli
