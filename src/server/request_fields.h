// The API's request fields: readers that turn a request's JSON into the core's types, and the
// lookups of the entities a request names, as the caller may see them. Pure functions of the
// request and the engine (no I/O), so the routes, the tests and the fuzzers share them.
//
// Every reader returns kInvalidArgument naming the field for a missing required field, a wrong
// type or a value out of range; lookups return kNotFound for what the caller may not see.
#pragma once

#include <cstdint>
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

Result<std::string> str_field(const json& b, const char* key, bool required, const std::string& def = "");
// A name people choose and others read on a terminal (a job's, project's, organisation's,
// scheme's, user's): a string with no control characters (common/strings.h).
Result<std::string> name_field(const json& b, const char* key, bool required, const std::string& def = "");
// An integer that fits in int64_t (a larger one is refused, not wrapped).
Result<int64_t> int_field(const json& b, const char* key, bool required, int64_t def = 0);
// The largest amount a request may name (a trillion currency units): far above any real
// payment, and far enough below int64_t that sums of amounts are not near overflowing.
inline constexpr Minor kMaxRequestAmountMinor = 1'000'000'000'000 * kMinorPerUnit;
// A money field: a decimal string (or an integer) in currency units, at most
// kMaxRequestAmountMinor either way; a sign only where allow_negative (an adjustment).
Result<Minor> amount_field(const json& b, const char* key, bool allow_negative = false);
Result<int64_t> date_field(const json& b, const char* key);

// An id (number, or a string of digits) or a name, as the caller may see it.
Result<const core::Org*> find_org(const core::Engine& e, const json& ref, const Principal& who);
Result<const core::Project*> find_project(const core::Engine& e, const json& ref, const Principal& who);
Result<const core::Scheme*> find_scheme(const core::Engine& e, const json& ref);
// An id in a path: 1 to 18 digits, else a 400 naming what it should have been.
Result<uint64_t> path_id(const std::string& id_text, const char* what);
// A job by its id ("12") or, for a task of a job array, by ARRAYID_INDEX ("12_3": the task with
// index 3 of the array whose id, its first task's, is 12), as squeue shows it.
Result<const core::Job*> find_job(const core::Engine& e, const std::string& id_text, const Principal& who);
// What cancel, hold and release act on: as find_job, except that an array's own id ("12", bare)
// names every task of the array, as scancel's does.
Result<std::vector<const core::Job*>> find_jobs(const core::Engine& e, const std::string& id_text, const Principal& who);
// The tasks of the job array whose id is `array_id`, in id order; empty when it is none.
std::vector<const core::Job*> array_tasks(const core::Engine& e, JobId array_id);
Result<const core::Award*> find_award(const core::Engine& e, const std::string& id_text);
// An award the caller may see: a member sees their organisation's only.
Result<const core::Award*> find_visible_award(const core::Engine& e, const std::string& id_text, const Principal& who);
Result<const core::Application*> find_application(const core::Engine& e, const std::string& id_text,
                                                  const Principal& who);

// The core's view of who acts.
core::Actor actor_of(const Principal& who);
Status need_admin(const Principal& who);

Result<std::pair<int, int>> report_rule(int64_t every_months, int64_t grace_days);
Result<core::ApplicationTerms> terms_field(const json& b, const core::ApplicationTerms* base);
Result<std::vector<core::Criterion>> criteria_field(const json& b);
Result<core::RegistrationChange> registration_fields(const json& b);
// The fields of a job request (submit and quote), names resolved against the engine.
Result<core::JobRequest> job_request(const core::Engine& e, const json& b, const Principal& who, bool for_submit);
// The launch description kept with the job: where it runs (workdir, and submit_dir, where it
// was submitted from), where its output goes, its arguments and environment (at most
// kMaxEnvVariables, kMaxEnvBytes in all), its warning signal ("signal": "[B:]SIG@SECS") and
// its CPU, memory and task requests ("resources": kResourceFields, each 0 to
// kMaxResourceValue), kept for the node agents to enforce.
inline constexpr const char* kResourceFields[] = {"mem_mb", "mem_per_cpu_mb", "mem_per_gpu_mb", "cpus_per_task",
                                                  "cpus_per_gpu", "ntasks", "ntasks_per_node"};
inline constexpr int64_t kMaxResourceValue = 1'000'000'000;
Result<json> launch_json(const json& b);

}  // namespace berth::server
