// Turning what the user typed into API request bodies (docs/api.md), without any I/O.
//
// The commands collect options from several layers (defaults < #SBATCH lines < flags), overlay
// them and hand the result here. Everything that can be checked locally is checked here, so bad
// input is refused before the server is contacted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/sbatch.h"
#include "common/status.h"

namespace berth::cli {

// Scripts above this size are refused locally; the server refuses bodies over 1 MiB anyway.
inline constexpr size_t kMaxScriptBytes = 512 * 1024;

// The body of POST /v1/jobs. Requires a project, a GPU count, a script that starts with "#!"
// (as sbatch does) and the absolute directory it is submitted from (`submit_dir`), which is
// also the job's workdir unless --chdir names another (relative to it). Carries "hold",
// "dependency", "array", "signal", "resources" (CPU, memory and task requests) when set, and
// `env`, the variables the job receives (export_env.h).
Result<nlohmann::json> build_submit_request(const JobOptions& options, const std::string& script,
                                            const std::vector<std::string>& args,
                                            const std::string& submit_dir,
                                            const std::map<std::string, std::string>& env = {});

// The body of POST /v1/quote. Requires a project and a GPU count.
Result<nlohmann::json> build_quote_request(const JobOptions& options);

// The script that `--wrap "cmd"` submits: "#!/bin/sh\ncmd\n".
std::string wrap_command(std::string_view command);

// A subsidy rate as "70%", "70.5%", "7000bps" or a fraction "0.7", in basis points (0..10000).
Result<int64_t> parse_rate_bps(std::string_view text);

// An organisation, project or scheme reference: all digits means an id (a JSON number),
// anything else a name (a JSON string).
nlohmann::json name_or_id(std::string_view ref);

// Checks that `text` is an amount the API accepts (at most 4 decimals; negative only where
// allow_negative, for an adjustment) and
// returns it in the API's canonical form ("12.5" -> "12.5000"; ".5" and "+5" normalised too).
Result<std::string> checked_amount(std::string_view text, bool allow_negative = false);

// "normal", "high" or "spot".
Status check_tier(std::string_view tier);

}  // namespace berth::cli
