#include "cli/views.h"

#include <algorithm>
#include <set>

#include "cli/job_views.h"
#include "cli/table.h"
#include "common/timefmt.h"

namespace berth::cli {

using nlohmann::json;

int64_t int_field(const json& object, const char* key, int64_t fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  const json& value = object[key];
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) return static_cast<int64_t>(value.get<double>());
  return fallback;
}

std::string string_field(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string())
    return object[key].get<std::string>();
  return "";
}

namespace {

// The first of several keys that is present, for fields whose name may differ between versions.
std::string first_cell(const json& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (object.is_object() && object.contains(key) && !object[key].is_null())
      return cell(object, key);
  }
  return "-";
}

// A date in a column of dates: "2026-01-01T09:30:00Z" -> "2026-01-01", so that no row shows a
// time where the others show days; what is not a time is shown as it is.
std::string date_cell(const json& object, const char* key) {
  const std::string text = cell(object, key);
  return parse_time_ms(text).ok() ? text.substr(0, 10) : text;
}

// "2026-01-01T00:00:00Z" -> "2026-01-01"; other times unchanged.
std::string short_date(const json& object, const char* key) {
  std::string text = cell(object, key);
  if (text.size() == 20 && text.ends_with("T00:00:00Z")) text.resize(10);
  return text;
}

// The last day of a period that ends (exclusive) at midnight: "2026-12-01T00:00:00Z" ->
// "2026-11-30", as a statement for November is dated; other times unchanged.
std::string last_day(const json& object, const char* key) {
  const std::string text = cell(object, key);
  Result<int64_t> ms = parse_time_ms(text);
  if (!ms.ok() || text.size() != 20 || !text.ends_with("T00:00:00Z")) return text;
  return format_time_ms(*ms - 1).substr(0, 10);
}

// The award that paid a job line's subsidy: "3 (ai-subsidy)", "-" when none.
std::string award_cell(const json& line) {
  const std::string id = cell(line, "award_id");
  const std::string scheme = string_field(line, "award_scheme");
  return id == "-" || scheme.empty() ? id : id + " (" + scheme + ")";
}

std::string rate_cell(const json& object) {
  if (object.is_object() && object.contains("rate_bps") && object["rate_bps"].is_number_integer())
    return format_rate(object["rate_bps"].get<int64_t>());
  return "-";
}

// When an award runs out at its recent rate: a date, or why there is none.
std::string run_out_cell(const json& award) {
  const std::string state = string_field(award, "run_out");
  if (state == "runs_out") return short_date(award, "runs_out_at").substr(0, 10);
  if (state == "ends_first") return "ends before running out";
  if (state == "no_spending") return "no spending";
  if (state.empty()) return "-";
  return state;  // exhausted, inactive, or a state a newer server knows
}

// A two-column sheet without its header row; amounts read better right-aligned.
std::string sheet(const std::vector<std::pair<std::string, std::string>>& rows,
                  bool align_values_right = false) {
  Table table({"FIELD", "VALUE"});
  if (align_values_right) table.align_right(1);
  for (const auto& [label, value] : rows) table.add_row({label, value});
  const std::string text = table.render();
  return text.substr(text.find('\n') + 1);
}

// A run of a job as the statement names it: "12", or "12.1" for its second run.
std::string run_cell(const json& line) {
  const int64_t run = int_field(line, "run", 0);
  return cell(line, "job_id") + (run > 0 ? "." + std::to_string(run) : "");
}

std::string job_gpus(const json& job) {
  const std::string count = cell(job, "gpus");
  const std::string model = string_field(job, "gpu_model");
  return model.empty() ? count : model + ":" + count;
}

// squeue's NODELIST(REASON): the nodes a running gang holds, comma-separated.
std::string job_where(const json& job) {
  if (string_field(job, "state") == "PENDING") return "(" + first_cell(job, {"reason"}) + ")";
  if (job.contains("node_list") && job["node_list"].is_array() && job["node_list"].size() > 1) {
    std::string out;
    for (const json& n : job["node_list"])
      out += (out.empty() ? "" : ",") + (n.is_string() ? n.get<std::string>() : "?");
    return out;
  }
  return cell(job, "node");
}

}  // namespace

const json& items(const json& reply, const char* key) {
  static const json kEmpty = json::array();
  if (reply.is_object() && reply.contains(key) && reply[key].is_array()) return reply[key];
  return kEmpty;
}

std::string render_jobs(const json& jobs, int64_t now_ms) {
  Table table({"JOBID", "PARTITION", "PROJECT", "NAME", "USER", "ST", "TIME", "NODES", "GPUS",
               "NODELIST(REASON)"});
  table.align_right(0).align_right(6).align_right(7).align_right(8);
  for (const json& job : jobs) {
    table.add_row({job_id_cell(job), cell(job, "partition"), cell(job, "project"),
                   cell(job, "name"), cell(job, "user"), state_code(cell(job, "state")),
                   format_elapsed(job_elapsed_s(job, now_ms)), cell(job, "nodes"), job_gpus(job),
                   job_where(job)});
  }
  return table.render();
}

std::string render_fields(const json& object, const std::vector<std::string>& first) {
  if (!object.is_object()) return cell(object) + "\n";
  std::vector<std::string> keys;
  for (const std::string& key : first) {
    if (object.contains(key)) keys.push_back(key);
  }
  const std::set<std::string> named(first.begin(), first.end());
  for (const auto& [key, value] : object.items()) {
    if (!named.contains(key)) keys.push_back(key);  // json objects iterate in sorted order
  }
  size_t width = 0;
  for (const std::string& key : keys) width = std::max(width, key.size());
  std::string out;
  for (const std::string& key : keys) {
    out += key + ":" + std::string(width - key.size() + 1, ' ') + cell(object, key.c_str()) + "\n";
  }
  return out;
}

std::string render_quote(const json& quote, const std::string& currency) {
  std::string affordable = cell(quote, "affordable");
  if (affordable == "no" && !string_field(quote, "reason").empty())
    affordable += " (" + cell(quote, "reason") + ")";
  std::vector<std::pair<std::string, std::string>> rows = {
      {"max cost", money_cell(quote, "max_cost", currency)},
      {"subsidy", money_cell(quote, "subsidy", currency)},
      {"co-payment", money_cell(quote, "copay", currency)},
      {"rate", rate_cell(quote)},
      {"award", cell(quote, "award_id")},
      {"price per GPU-hour", money_cell(quote, "price_per_gpu_hour", currency)},
      {"affordable", affordable}};
  if (quote.contains("earliest_start"))
    rows.push_back({"earliest start", cell(quote, "earliest_start")});
  return sheet(rows);
}

std::string render_balances(const std::vector<json>& balances, const std::string& currency) {
  Table wallets({"PROJECT", "BALANCE", "HELD", "AVAILABLE", "CREDIT_LIMIT", "SPENDABLE"});
  for (size_t c : {1, 2, 3, 4, 5}) wallets.align_right(c);
  Table awards({"PROJECT", "AWARD", "SCHEME", "RATE", "GPUS", "START", "END", "GRANTED", "HELD",
                "SPENT", "REFUNDED", "LEFT", "PER_DAY", "RUNS_OUT"});
  for (size_t c : {1, 3, 4, 7, 8, 9, 10, 11, 12}) awards.align_right(c);
  for (const json& balance : balances) {
    const std::string project = first_cell(balance, {"project", "project_id"});
    const json wallet =
        balance.is_object() && balance.contains("wallet") ? balance["wallet"] : json::object();
    wallets.add_row(
        {project, money_cell(wallet, "balance", currency), money_cell(wallet, "held", currency),
         money_cell(wallet, "available", currency), money_cell(wallet, "credit_limit", currency),
         money_cell(wallet, "spendable", currency)});
    for (const json& award : items(balance, "awards")) {
      awards.add_row({project, cell(award, "id"), cell(award, "scheme"), rate_cell(award),
                      cell(award, "gpu_level"), date_cell(award, "start"), date_cell(award, "end"),
                      money_cell(award, "granted", currency), money_cell(award, "held", currency),
                      money_cell(award, "spent", currency), money_cell(award, "refunded", currency),
                      money_cell(award, "left", currency),
                      money_cell(award, "spent_per_day", currency), run_out_cell(award)});
    }
  }
  std::string out = wallets.render();
  out += "\n";
  out += awards.rows() > 0 ? awards.render() : "No awards.\n";
  return out;
}

std::string render_statement(const json& st, const std::string& currency) {
  const json totals = st.is_object() && st.contains("totals") ? st["totals"] : json::object();
  const auto money = [&currency](const json& object, const char* key) {
    return money_cell(object, key, currency);
  };
  const std::string number = string_field(st, "number");
  std::string out = "Statement " + (number.empty() ? "" : cell(st, "number") + " ") + "of " +
                    cell(st, "project") + " (" + cell(st, "org") + ") for " +
                    short_date(st, "from") + " to " + last_day(st, "to") + ", in " +
                    cell(st, "currency") + "\n\n";
  out += sheet({{"opening balance", money(st, "opening_balance")},
                {"top-ups", money(totals, "topups")},
                {"other credits", money(totals, "other_credits")},
                {"co-payments", money(totals, "copay")},
                {"other debits", money(totals, "other_debits")},
                {"closing balance", money(st, "closing_balance")},
                {"held at close", money(st, "held_at_close")},
                {"jobs", cell(totals, "jobs")},
                {"GPU-hours", cell(totals, "gpu_hours")},
                {"gross cost", money(totals, "cost")},
                {"subsidy", money(totals, "subsidy")}},
               /*align_values_right=*/true);
  Table jobs({"JOBID", "NAME", "USER", "STATE", "GPUS", "START", "END", "GPU_HOURS", "GROSS",
              "SUBSIDY", "COPAY", "AWARD"});
  for (size_t c : {0, 4, 7, 8, 9, 10, 11}) jobs.align_right(c);
  for (const json& j : items(st, "jobs")) {
    jobs.add_row({run_cell(j), cell(j, "name"), cell(j, "user"), cell(j, "state"), cell(j, "gpus"),
                  cell(j, "start"), cell(j, "end"), cell(j, "gpu_hours"), money(j, "cost"),
                  money(j, "subsidy"), money(j, "copay"), award_cell(j)});
  }
  out += "\n" + (jobs.rows() > 0 ? "Jobs charged (each when it ended):\n" + jobs.render()
                                 : "No jobs charged.\n");
  Table topups({"TIME", "REFERENCE", "AMOUNT"});
  topups.align_right(2);
  for (const json& t : items(st, "topups"))
    topups.add_row({cell(t, "time"), cell(t, "reference"), money(t, "amount")});
  out += "\n" + (topups.rows() > 0 ? "Top-ups:\n" + topups.render() : "No top-ups.\n");
  Table other({"TIME", "CODE", "DESCRIPTION", "AMOUNT"});
  other.align_right(3);
  for (const json& m : items(st, "other"))
    other.add_row(
        {cell(m, "time"), cell(m, "code"), first_cell(m, {"description"}), money(m, "amount")});
  if (other.rows() > 0) out += "\nOther movements (refunds, adjustments):\n" + other.render();
  Table held({"JOBID", "NAME", "GPUS", "START", "COPAY_HELD", "SUBSIDY_HELD"});
  for (size_t c : {0, 2, 4, 5}) held.align_right(c);
  for (const json& h : items(st, "held"))
    held.add_row({run_cell(h), cell(h, "name"), cell(h, "gpus"), cell(h, "start"),
                  money(h, "copay_held"), money(h, "subsidy_held")});
  if (held.rows() > 0) out += "\nRunning at the close (held, not yet charged):\n" + held.render();
  return out;
}

std::string render_scheme_report(const json& r, const std::string& currency) {
  const auto money = [&currency](const json& object, const char* key) {
    return money_cell(object, key, currency);
  };
  const json awards = r.is_object() && r.contains("awards") ? r["awards"] : json::object();
  const json orgs =
      r.is_object() && r.contains("organisations") ? r["organisations"] : json::object();
  const json projects = r.is_object() && r.contains("projects") ? r["projects"] : json::object();
  const json capacity = r.is_object() && r.contains("capacity") ? r["capacity"] : json::object();
  const json apps =
      r.is_object() && r.contains("applications") ? r["applications"] : json::object();
  std::string by_state;
  if (apps.contains("by_state") && apps["by_state"].is_object())
    for (const auto& [state, n] : apps["by_state"].items())
      if (n.is_number_integer() && n.get<int64_t>() > 0)
        by_state += (by_state.empty() ? "" : ", ") + cell(n) + " " + state;
  std::string share = "-";
  if (capacity.contains("share_bps") && capacity["share_bps"].is_number_integer())
    share = format_rate(capacity["share_bps"].get<int64_t>());
  std::string out = "Scheme " + cell(r, "scheme") + " (" + rate_cell(r) + "), as of " +
                    cell(r, "as_of") + ", in " + cell(r, "currency") + "\n\n";
  out += sheet(
      {{"funded", money(r, "funded")},
       {"committed to awards", money(r, "committed")},
       {"spent (subsidy paid, net of refunds)", money(r, "spent")},
       {"subsidy refunded", money(r, "refunded")},
       {"held by running jobs", money(r, "held")},
       {"unspent in awards", money(r, "unspent_in_awards")},
       {"remaining in the fund", money(r, "remaining")},
       {"awards", cell(awards, "total") + " (" + cell(awards, "active") + " active, " +
                      cell(awards, "expired") + " expired, " + cell(awards, "upcoming") +
                      " upcoming)"},
       {"organisations",
        cell(orgs, "awarded") + " awarded, " + cell(orgs, "subsidised") + " with usage"},
       {"projects",
        cell(projects, "awarded") + " awarded, " + cell(projects, "subsidised") + " with usage"},
       {"applications", cell(apps, "total") + (by_state.empty() ? "" : " (" + by_state + ")")},
       {"asked / granted", money(apps, "applied") + " / " + money(apps, "approved")},
       {"GPU-hours subsidised", cell(r, "subsidised_gpu_hours")},
       {"share of capacity", share + " of " + cell(capacity, "gpu_hours") + " GPU-hours from " +
                                 short_date(capacity, "from") + " to " +
                                 short_date(capacity, "to")}});
  return out;
}

namespace {

// "3s ago", "2h 5m ago": how long before now_ms a node's agent was last heard; "-" for never.
std::string heartbeat_age(const json& node, int64_t now_ms) {
  const Result<int64_t> heard = parse_time_ms(string_field(node, "last_heartbeat"));
  if (!heard.ok()) return "-";
  return format_human_duration(std::max<int64_t>(now_ms - *heard, 0) / 1000) + " ago";
}

}  // namespace

std::string render_nodes(const json& nodes, int64_t now_ms) {
  Table table({"NAME", "STATE", "MODEL", "GPUS", "FREE", "CPUS", "MEMORY_MB", "JOBS", "AGENT",
               "HEARTBEAT", "REASON"});
  for (size_t c : {3, 4, 5, 6}) table.align_right(c);
  for (const json& node : nodes) {
    // A member is shown only their organisation's job ids, and how many others' run there.
    std::string jobs = cell(node, "jobs");
    const int64_t others = int_field(node, "other_jobs", 0);
    if (others > 0)
      jobs = (jobs == "-" ? "" : jobs + " ") + "+" + std::to_string(others) + " other" +
             (others == 1 ? "" : "s");
    const std::string agent = string_field(node, "agent_version");
    const std::string reason = string_field(node, "reason");
    table.add_row({cell(node, "name"), cell(node, "state"), cell(node, "gpu_model"),
                   cell(node, "gpus"), cell(node, "gpus_free"), cell(node, "cpus"),
                   cell(node, "memory_mb"), jobs, agent.empty() ? "-" : agent,
                   heartbeat_age(node, now_ms), reason.empty() ? "-" : reason});
  }
  return table.render();
}

std::string transfer_state(const json& t) {
  const auto flagged = [&t](const char* flag) {
    return t.contains("flags") && t["flags"].is_array() &&
           std::find(t["flags"].begin(), t["flags"].end(), flag) != t["flags"].end();
  };
  if (flagged("post_pending")) return "settles " + cell(t, "pending_id");
  if (flagged("void_pending")) return "voids " + cell(t, "pending_id");
  if (!flagged("pending")) return "posted";
  const std::string state = string_field(t, "state");
  if (state == "pending") return "held";
  if (state == "posted") return "settled";
  return state.empty() ? "held" : state;  // voided, expired, or a state a newer server knows
}

std::string render_transfers(const json& transfers, const std::string& currency) {
  Table table({"ID", "TIME", "FROM", "TO", "AMOUNT", "CODE", "REF", "STATE"});
  table.align_right(0).align_right(4);
  const auto account = [](const json& t, const char* name, const char* id) {
    const std::string named = string_field(t, name);
    return named.empty() ? "account " + cell(t, id) : named;
  };
  for (const json& t : transfers) {
    table.add_row({cell(t, "id"), cell(t, "time"), account(t, "debit_name", "debit"),
                   account(t, "credit_name", "credit"), money_cell(t, "amount", currency),
                   cell(t, "code"), cell(t, "ref"), transfer_state(t)});
  }
  return table.render();
}

std::string render_reconcile(const json& reply) {
  const json empty = json::object();
  const json& checked = reply.is_object() && reply.contains("checked") ? reply["checked"] : empty;
  auto counted = [&](const char* key, const std::string& noun) {
    const std::string n = cell(checked, key);
    return n + " " + noun + (n == "1" ? "" : "s");
  };
  std::string out = "Reconciled " + counted("accounts", "account") + ", " +
                    counted("transfers", "transfer") + ", " + counted("jobs", "job") + " and " +
                    counted("topups", "top-up");
  const json& differences = items(reply, "differences");
  const int64_t found =
      int_field(reply, "differences_found", static_cast<int64_t>(differences.size()));
  if (found == 0 && reply.is_object() && reply.value("ok", false))
    return out + ": no differences.\n";
  out += ": " + std::to_string(found) + (found == 1 ? " difference" : " differences");
  if (static_cast<int64_t>(differences.size()) < found)
    out += " (" + std::to_string(differences.size()) + " listed)";
  out += ".\n";
  Table table({"SOURCE", "KIND", "ENTITY", "ID", "FIELD", "EXPECTED", "FOUND", "MESSAGE"});
  for (size_t c : {3, 5, 6}) table.align_right(c);
  for (const json& d : differences)
    table.add_row({cell(d, "source"), cell(d, "kind"), cell(d, "entity"), cell(d, "id"),
                   cell(d, "field"), cell(d, "expected"), cell(d, "found"), cell(d, "message")});
  return out + table.render();
}

namespace {
// A registration field, "-" when not recorded.
std::string recorded_cell(const json& org, const char* key) {
  const std::string text = string_field(org, key);
  return text.empty() ? "-" : text;
}

// "Ann Lee <ann@hku.hk>", either part alone, or "-".
std::string contact_cell(const json& org) {
  const std::string name = string_field(org, "contact_name"),
                    email = string_field(org, "contact_email");
  if (name.empty() && email.empty()) return "-";
  if (email.empty()) return name;
  return name.empty() ? email : name + " <" + email + ">";
}
}  // namespace

std::string render_orgs(const json& orgs) {
  Table table({"ID", "NAME", "KIND", "REG_NUMBER", "JURISDICTION", "CONTACT"});
  table.align_right(0);
  for (const json& org : orgs)
    table.add_row({cell(org, "id"), cell(org, "name"), cell(org, "kind"),
                   recorded_cell(org, "registration_number"), recorded_cell(org, "jurisdiction"),
                   contact_cell(org)});
  return table.render();
}

std::string render_tokens(const json& tokens) {
  Table table({"ID", "USER", "ROLE", "ORG", "UNIX_USER", "STATE", "CREATED", "EXPIRES", "REVOKED",
               "LAST_USED"});
  auto or_dash = [](const json& t, const char* key) {
    return t.contains(key) && !t[key].is_null() && t[key] != "" ? cell(t, key) : std::string("-");
  };
  for (const json& t : tokens)
    table.add_row({cell(t, "id"), cell(t, "user"), cell(t, "role"), or_dash(t, "org"),
                   or_dash(t, "unix_user"), cell(t, "state"), or_dash(t, "created"),
                   or_dash(t, "expires"), or_dash(t, "revoked"), or_dash(t, "last_used")});
  return table.render();
}

std::string render_org(const json& org) {
  json fields = org;
  for (const char* key :
       {"registration_number", "address", "contact_name", "contact_email", "jurisdiction"})
    if (fields.is_object() && fields.contains(key) && fields[key].is_string() &&
        fields[key].get<std::string>().empty())
      fields[key] = "-";
  return render_fields(fields,
                       {"id", "name", "kind", "registration_number", "address", "jurisdiction",
                        "contact_name", "contact_email", "created", "updated"});
}

std::string render_projects(const json& projects) {
  Table table({"ID", "NAME", "ORG", "WALLET_ACCOUNT"});
  table.align_right(0).align_right(3);
  for (const json& p : projects) {
    table.add_row({cell(p, "id"), cell(p, "name"), first_cell(p, {"org", "org_id"}),
                   cell(p, "wallet_account")});
  }
  return table.render();
}

std::string render_schemes(const json& schemes, const std::string& currency) {
  Table table({"ID", "NAME", "RATE", "ELIGIBLE", "SHORTFALL", "FUND_ACCOUNT", "FUND_BALANCE"});
  table.align_right(0).align_right(2).align_right(5).align_right(6);
  for (const json& s : schemes) {
    table.add_row({cell(s, "id"), cell(s, "name"), rate_cell(s), cell(s, "eligible_kinds"),
                   cell(s, "shortfall"), cell(s, "fund_account"),
                   money_cell(s, "fund_balance", currency)});
  }
  return table.render();
}

std::string render_awards(const json& awards, const std::string& currency) {
  Table table({"ID", "SCHEME", "PROJECT", "RATE", "GPUS", "START", "END", "GRANTED", "HELD",
               "SPENT", "REFUNDED", "LEFT", "REPORT DUE"});
  for (size_t c : {0, 3, 4, 7, 8, 9, 10, 11}) table.align_right(c);
  for (const json& a : awards) {
    // The next progress report's due date, and OVERDUE while one is (the award then pays nothing
    // new).
    std::string report = short_date(a, "next_report_due");
    if (a.is_object() && a.value("reports_overdue", false)) report += " OVERDUE";
    table.add_row({cell(a, "id"), first_cell(a, {"scheme", "scheme_id"}),
                   first_cell(a, {"project", "project_id"}), rate_cell(a), cell(a, "gpu_level"),
                   date_cell(a, "start"), date_cell(a, "end"),
                   money_cell(a, a.contains("granted") ? "granted" : "amount", currency),
                   money_cell(a, "held", currency), money_cell(a, "spent", currency),
                   money_cell(a, "refunded", currency), money_cell(a, "left", currency), report});
  }
  return table.render();
}

std::string render_whoami(const json& me) {
  return render_fields(me, {"user", "role", "org", "org_id", "unix_user", "token_id"});
}

std::string render_leader(const json& reply) {
  const json& leader = reply.is_object() ? reply.value("leader", json::object()) : json::object();
  const json& self = reply.is_object() ? reply.value("this", json::object()) : json::object();
  const auto time_cell = [&reply](const char* key) {
    const int64_t ms = int_field(reply, key, 0);
    return ms > 0 ? format_time_ms(ms) : std::string("-");
  };
  const auto text_cell = [](const json& object, const char* key) {
    const std::string text = string_field(object, key);
    return text.empty() ? std::string("-") : cell(object, key);
  };
  Table table({"STORE", "EPOCH", "LEADER", "HTTP", "AGENTS", "SINCE", "EXPIRES", "THIS"});
  table.align_right(1);
  table.add_row({cell(reply, "store"), cell(reply, "epoch"), text_cell(leader, "name"),
                 text_cell(leader, "http_address"), text_cell(leader, "agents_address"),
                 time_cell("since_ms"), time_cell("expires_ms"),
                 text_cell(self, "name") + " (" + text_cell(self, "role") + ")"});
  return table.render();
}

// An audit record that moved no money.
static bool no_money(const json& record) {
  return cell(record, "amount") == "0.0000" &&
         (!record.contains("transfer_id") || record["transfer_id"].is_null());
}

std::string render_audit(const json& records, const std::string& currency) {
  Table table({"SEQ", "AT", "USER", "ACTION", "SUBJECT", "AMOUNT", "TRANSFER", "NOTE"});
  for (size_t c : {0, 5, 6}) table.align_right(c);
  for (const json& r : records) {
    table.add_row(
        {cell(r, "seq"), cell(r, "at"), cell(r, "user"), cell(r, "action"), cell(r, "subject"),
         no_money(r) ? "-" : money_cell(r, "amount", currency),
         r.contains("transfer_id") && !r["transfer_id"].is_null() ? cell(r, "transfer_id") : "-",
         cell(r, "note")});
  }
  return table.render();
}

std::string render_applications(const json& applications, const std::string& currency) {
  Table table(
      {"ID", "SCHEME", "PROJECT", "STATE", "AMOUNT", "GPUS", "DAYS", "SCORE", "GRANTED", "AWARD"});
  for (size_t c : {0, 4, 5, 6, 7, 8, 9}) table.align_right(c);
  for (const json& a : applications) {
    table.add_row({cell(a, "id"), cell(a, "scheme"), cell(a, "project"), cell(a, "state"),
                   money_cell(a, "amount", currency), cell(a, "gpu_level"),
                   cell(a, "duration_days"), cell(a, "score"),
                   money_cell(a, "approved_amount", currency),
                   a.contains("award_id") && !a["award_id"].is_null() ? cell(a, "award_id") : "-"});
  }
  return table.render();
}

std::string render_application(const json& application) {
  json fields = application;
  fields.erase("reviews");
  fields.erase("history");
  std::string out =
      render_fields(fields, {"id", "scheme", "project", "org", "state", "amount", "gpu_level",
                             "gpu_model", "duration_days", "score", "approved_amount",
                             "approved_gpu_level", "approved_duration_days", "approved_rate_bps",
                             "award_id", "rejection_reason", "justification", "planned_work"});
  if (application.contains("reviews") && !application["reviews"].empty()) {
    Table reviews({"REVIEWER", "SCORE", "SCORES", "COMMENT"});
    reviews.align_right(1);
    for (const json& r : application["reviews"]) {
      std::string scores;
      for (const auto& [name, v] : r["scores"].items())
        scores += (scores.empty() ? "" : " ") + name + "=" + cell(v);
      reviews.add_row({cell(r, "reviewer"), cell(r, "score"), scores, cell(r, "comment")});
    }
    out += "\nReviews\n" + reviews.render();
  }
  if (application.contains("history")) {
    Table history({"SEQ", "AT", "USER", "ACTION", "NOTE"});
    history.align_right(0);
    for (const json& h : application["history"])
      history.add_row(
          {cell(h, "seq"), cell(h, "at"), cell(h, "user"), cell(h, "action"), cell(h, "note")});
    out += "\nHistory\n" + history.render();
  }
  return out;
}

}  // namespace berth::cli
