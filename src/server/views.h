// JSON views of the core's entities, as docs/api.md describes them.
#pragma once

#include <nlohmann/json.hpp>

#include "core/engine.h"

namespace berth::server {

using json = nlohmann::json;

json time_json(int64_t ms);  // null for 0
json org_json(const core::Org& o);
json project_json(const core::Engine& e, const core::Project& p);
json scheme_json(const core::Engine& e, const core::Scheme& s);
json award_json(const core::Engine& e, const core::Award& a);
json job_json(const core::Engine& e, const core::Job& j);
json account_json(const core::Account& a);
json transfer_json(const core::Ledger& l, const core::Transfer& t);
// `jobs`: the ids of the jobs running on the node.
json node_json(const core::Engine& e, const core::Node& n, const std::vector<JobId>& jobs);
json quote_json(const core::Quote& q);
// The wallet, and each award with its rate of spending and when it runs out (core/statements.h).
json balance_json(const core::Engine& e, const core::Project& p, int64_t now_ms);
// An output path pattern with Slurm's %j (job id) and %x (job name) filled in.
std::string expand_job_pattern(std::string pattern, const core::Job& job);

}  // namespace berth::server
