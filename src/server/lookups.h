// The lookups: the entities a request names (by id, or by name where they have one), found as
// the caller may see them. This is where the API's object-level visibility lives; who may call
// a route at all is the route table's (server/routes.h).
//
// A member sees their own organisation's organisation record, projects, wallets, jobs, awards
// and applications; reviewers and admins see every organisation's funding records (awards,
// applications); admins see everything. What the caller may not see is kNotFound, as if it did
// not exist — except jobs by id, which are kPermissionDenied, so that a user can tell a typo
// from someone else's job. Pure functions of the engine (no I/O), shared with the fuzzers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "core/engine.h"
#include "server/auth.h"

namespace berth::server {

// An id (a number, or a string of digits) or a name.
Result<const core::Org*> find_org(const core::Engine& e, const nlohmann::json& ref,
                                  const Principal& who);
Result<const core::Project*> find_project(const core::Engine& e, const nlohmann::json& ref,
                                          const Principal& who);
// Schemes are public: anyone sees each one.
Result<const core::Scheme*> find_scheme(const core::Engine& e, const nlohmann::json& ref);
// A job by its id ("12") or, for a task of a job array, by ARRAYID_INDEX ("12_3": the task with
// index 3 of the array whose id, its first task's, is 12), as squeue shows it.
Result<const core::Job*> find_job(const core::Engine& e, const std::string& id_text,
                                  const Principal& who);
// What cancel, hold and release act on: as find_job, except that an array's own id ("12", bare)
// names every task of the array, as scancel's does.
Result<std::vector<const core::Job*>> find_jobs(const core::Engine& e, const std::string& id_text,
                                                const Principal& who);
// The tasks of the job array whose id is `array_id`, in id order; empty when it is none.
std::vector<const core::Job*> array_tasks(const core::Engine& e, JobId array_id);
// Any award, whoever asks (for the routes only reviewers and admins may call).
Result<const core::Award*> find_award(const core::Engine& e, const std::string& id_text);
// An award the caller may see: a member sees their organisation's only.
Result<const core::Award*> find_visible_award(const core::Engine& e, const std::string& id_text,
                                              const Principal& who);
Result<const core::Application*> find_application(const core::Engine& e, const std::string& id_text,
                                                  const Principal& who);

// Whether the caller sees an award or an application (listings use them as the finders do): a
// member their organisation's, reviewers and admins every one.
bool sees_award(const core::Engine& e, const core::Award& award, const Principal& who);
bool sees_application(const core::Application& application, const Principal& who);
// Whether the caller sees a ledger account: an admin every one, a member their organisation's
// wallets and award accounts, a reviewer none.
bool sees_account(const core::Engine& e, const core::Account& account, const Principal& who);
// Whether the caller may list transfers filtered by job `job_id` (0: no filter): an admin may
// list any; anyone else the transfers of one of their organisation's jobs only.
Status may_list_transfers(const core::Engine& e, int64_t job_id, const Principal& who);

}  // namespace berth::server
