// How statements, scheme reports and balances are shown: JSON (docs/api.md), CSV (one row per
// line item, after a header row) and a printable HTML page. Pure functions of the core's
// statement structs; the HTML page is self-contained (inline style, no scripts, no external
// assets) and escapes every text it shows.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/statements.h"
#include "config/config.h"

namespace berth::server {

// GPU-milliseconds as GPU-hours with 4 decimals, floored: 18000000 -> "5.0000".
std::string format_gpu_hours(int64_t gpu_ms);

nlohmann::json statement_json(const core::ProjectStatement& st);
// Columns: type,time,reference,description,user,state,gpus,start,end,gpu_hours,gpu_ms,gross,
// subsidy,copay,held,wallet,balance,award_id. A refund's reference is its job ("job 12") and
// its description names the job and the reason. Rows: opening, then top-ups, job charges and
// other movements in time order (wallet: the signed change, balance: after it), then runs
// holding money at the close (held), then closing.
std::string statement_csv(const core::ProjectStatement& st);
// A page a funder can be sent: the centre's name and address ([centre] in the configuration),
// the statement's number, period and account, a summary, then every line item with the award
// that paid and the running balance. Money rounded to the cent with the centre's currency
// symbol; the closing row dated the period's last day.
std::string statement_html(const core::ProjectStatement& st, const DaemonConfig& config);
// The statement's number, stable for a project and month: "ST-0003-2026-11".
std::string statement_number(const core::ProjectStatement& st);

nlohmann::json scheme_report_json(const core::SchemeReport& r);
// The run-out fields of one award in a balance, to merge into its award_json.
nlohmann::json award_balance_json(const core::AwardBalance& b);

}  // namespace berth::server
