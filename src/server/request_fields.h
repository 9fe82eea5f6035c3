// The API's request fields: readers that turn a request's JSON into the core's types. Pure
// functions of the request and the engine (no I/O), so the routes, the tests and the fuzzers
// share them. The entities a request names are found by the lookups (server/lookups.h), and
// its query string is read by server/query_fields.h.
//
// Every reader returns kInvalidArgument naming the field for a missing required field, a wrong
// type or a value out of range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/limits.h"
#include "common/money.h"
#include "common/status.h"
#include "core/engine.h"
#include "server/auth.h"

namespace berth::server {

using json = nlohmann::json;

// A request's body: a JSON object of at most max_body_bytes; a 400 saying it is not valid JSON
// or not an object, a 413 (body_too_large) when larger.
Result<json> body_object(const std::string& body, size_t max_body_bytes);
Status body_too_large(size_t max_body_bytes);

Result<std::string> str_field(const json& b, const char* key, bool required,
                              const std::string& def = "");
// A name people choose and others read on a terminal (a job's, project's, organisation's,
// scheme's, user's): a string with no control characters (common/strings.h).
Result<std::string> name_field(const json& b, const char* key, bool required,
                               const std::string& def = "");
// An integer that fits in int64_t (a larger one is refused, not wrapped).
Result<int64_t> int_field(const json& b, const char* key, bool required, int64_t def = 0);
// The largest amount a request may name (a trillion currency units): far above any real
// payment, and far enough below int64_t that sums of amounts are not near overflowing.
inline constexpr Minor kMaxRequestAmountMinor = 1'000'000'000'000 * kMinorPerUnit;
// A money field: a decimal string (or an integer) in currency units, at most
// kMaxRequestAmountMinor either way; a sign only where allow_negative (an adjustment).
Result<Minor> amount_field(const json& b, const char* key, bool allow_negative = false);
Result<int64_t> date_field(const json& b, const char* key);

// Digits as an id; nullopt when they are not all digits or do not fit in 64 bits.
std::optional<uint64_t> digits_id(const std::string& s);
// An id in a path: 1 to 18 digits, else a 400 naming what it should have been.
Result<uint64_t> path_id(const std::string& id_text, const char* what);

// The core's view of who acts.
core::Actor actor_of(const Principal& who);

Result<std::pair<int, int>> report_rule(int64_t every_months, int64_t grace_days);
Result<core::ApplicationTerms> terms_field(const json& b, const core::ApplicationTerms* base);
Result<std::vector<core::Criterion>> criteria_field(const json& b);
Result<core::RegistrationChange> registration_fields(const json& b);
// The fields of a job request (submit and quote), names resolved against the engine as `who`
// sees them. Who may submit or price a job at all is the route's to decide (server/routes.h).
Result<core::JobRequest> job_request(const core::Engine& e, const json& b, const Principal& who,
                                     bool for_submit);
// The launch description kept with the job: where it runs (workdir, and submit_dir, where it
// was submitted from), where its output goes, its arguments and environment (at most
// kMaxEnvVariables, kMaxEnvBytes in all), its warning signal ("signal": "[B:]SIG@SECS") and
// its CPU, memory and task requests ("resources": kResourceFields, each 0 to
// kMaxResourceValue), kept for the node agents to enforce.
inline constexpr const char* kResourceFields[] = {
    "mem_mb",       "mem_per_cpu_mb", "mem_per_gpu_mb", "cpus_per_task",
    "cpus_per_gpu", "ntasks",         "ntasks_per_node"};
inline constexpr int64_t kMaxResourceValue = core::kMaxBoxValue;  // core/job_box.h
Result<json> launch_json(const json& b);

}  // namespace berth::server
