// How the CLI prints the server's replies as text. Pure functions from JSON (shaped as in
// docs/api.md) to text; they tolerate missing fields, printing "-", so that a newer or older
// server never makes a listing fail. Amounts are shown for people (`currency` before them,
// thousands separators, cents: table.h's money_cell); --json keeps them exact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::cli {

// An integer field; `fallback` when missing or not a number (a fraction is truncated).
int64_t int_field(const nlohmann::json& object, const char* key, int64_t fallback);
// A string field; "" when missing or not a string.
std::string string_field(const nlohmann::json& object, const char* key);

// The array under `key` in a listing reply such as {"jobs":[...]}; empty when absent.
const nlohmann::json& items(const nlohmann::json& reply, const char* key);

// squeue-like: JOBID PARTITION PROJECT NAME USER ST TIME NODES GPUS NODELIST(REASON) (squeue's
// default columns with berth's PROJECT and GPUS; NODES counts a job's nodes). A running job's TIME
// is counted up to `now_ms`; a finished job's is its runtime. An array task's JOBID is
// ARRAYID_INDEX ("12_3"), as squeue shows it.
std::string render_jobs(const nlohmann::json& jobs, int64_t now_ms);

// One object as "key: value" lines: the keys in `first` in that order, then the rest sorted.
std::string render_fields(const nlohmann::json& object, const std::vector<std::string>& first);

std::string render_quote(const nlohmann::json& quote, const std::string& currency);
// Replies of GET /v1/projects/{p}/balance: a wallet table, then an awards table with each
// award's spending per day and when it runs out at that rate.
std::string render_balances(const std::vector<nlohmann::json>& balances,
                            const std::string& currency);
// GET /v1/projects/{p}/statement: the balances, then the jobs, top-ups, other movements and
// the runs holding money at the close.
std::string render_statement(const nlohmann::json& statement, const std::string& currency);
// GET /v1/schemes/{s}/report, as a sheet of figures.
std::string render_scheme_report(const nlohmann::json& report, const std::string& currency);
// NAME STATE MODEL GPUS FREE CPUS MEMORY_MB JOBS AGENT HEARTBEAT REASON: AGENT is its agent's
// version, HEARTBEAT how long before `now_ms` it was last heard ("3s ago"; "-" for never),
// REASON why it is drained or down (last, as it may be long).
std::string render_nodes(const nlohmann::json& nodes, int64_t now_ms);
// ID TIME FROM TO AMOUNT CODE REF STATE: accounts by name (their id when the server names
// none), and one state per row (transfer_state).
std::string render_transfers(const nlohmann::json& transfers, const std::string& currency);
// What became of a transfer, in one word or two: "posted" for a plain one; a hold "held" while
// it holds, then "settled", "voided" or "expired"; "settles N" and "voids N" for the rows that
// end hold N.
std::string transfer_state(const nlohmann::json& transfer);
// ID NAME KIND REG_NUMBER JURISDICTION CONTACT ("-" for what is not recorded).
std::string render_orgs(const nlohmann::json& orgs);
std::string render_tokens(const nlohmann::json& tokens);
// One organisation with its whole registration record.
std::string render_org(const nlohmann::json& org);
std::string render_projects(const nlohmann::json& projects);
std::string render_schemes(const nlohmann::json& schemes, const std::string& currency);
std::string render_awards(const nlohmann::json& awards, const std::string& currency);
std::string render_whoami(const nlohmann::json& me);
// GET /v1/admin/leader as one row: STORE EPOCH LEADER HTTP AGENTS SINCE EXPIRES THIS (the
// berthd that answered, and whether it leads); LEADER "-" while none leads.
std::string render_leader(const nlohmann::json& reply);
std::string render_audit(const nlohmann::json& records, const std::string& currency);
std::string render_applications(const nlohmann::json& applications, const std::string& currency);
// One application: its fields, then its reviews and its history.
std::string render_application(const nlohmann::json& application);
// The reply of GET /v1/reconcile: a one-line summary, then a table of the differences listed.
std::string render_reconcile(const nlohmann::json& reply);

}  // namespace berth::cli
