// JSON views of the core's entities, as docs/api.md describes them.
#pragma once

#include <nlohmann/json.hpp>

#include "core/engine.h"
#include "core/reconcile.h"
#include "wire/reconcile_json.h"

namespace berth::server {

using json = nlohmann::json;

json time_json(int64_t ms);  // null for 0
json org_json(const core::Org& o);
json project_json(const core::Engine& e, const core::Project& p);
json scheme_json(const core::Engine& e, const core::Scheme& s);
// An award as of now_ms, with where it stands with its progress reports.
json award_json(const core::Engine& e, const core::Award& a, int64_t now_ms);
// An award's progress reports: the award, its due dates, each period's latest report and the
// history of who submitted, accepted or returned which.
json report_json(const core::ProgressReport& r);
json reports_json(const core::Engine& e, const core::Award& a, int64_t now_ms);
// An application; with_detail adds its reviews and its history.
json application_json(const core::Engine& e, const core::Application& a, bool with_detail);
json audit_json(const core::AuditRecord& r);
json criteria_json(const std::vector<core::Criterion>& criteria);
json job_json(const core::Engine& e, const core::Job& j);
// What job_json needs of the engine besides the job itself. Taken on the core thread with a
// copy of the job, it lets a listing make its JSON on an HTTP thread, off the core.
struct JobNames {
  std::string project;
  std::vector<std::string> nodes;  // the first (where the script runs) first; empty unless placed
  core::NodeNames chosen;          // the nodes its user asked for or ruled out
};
JobNames job_names(const core::Engine& e, const core::Job& j);
json job_json(const core::Job& j, const JobNames& names);
// The same view as text, with no DOM in between (server/job_json.cc): a listing's page is
// {"jobs":[...],"next":ID or null}.
std::string job_text(const core::Job& j, const JobNames& names);
std::string jobs_page_text(const std::vector<std::pair<core::Job, JobNames>>& page, JobId next);
json account_json(const core::Account& a);
json transfer_json(const core::Ledger& l, const core::Transfer& t);
// `jobs`: the ids of the jobs running on the node.
json node_json(const core::Engine& e, const core::Node& n, const std::vector<JobId>& jobs);
json quote_json(const core::Quote& q);
// GET /v1/reconcile's body, which `berth reconcile --state-dir` writes too (src/wire).
using wire::reconcile_json;
// The wallet, and each award with its rate of spending and when it runs out (core/statements.h).
json balance_json(const core::Engine& e, const core::Project& p, int64_t now_ms);
// An output path pattern with Slurm's %j (job id), %x (job name), %A (array job id), %a (array
// index) filled in, in one pass; %% is a literal %. At most a little over 4096 bytes long.
std::string expand_job_pattern(const std::string& pattern, const core::Job& job);

}  // namespace berth::server
