#include "server/statement_views.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <vector>

#include "common/civil.h"
#include "common/money.h"
#include "common/strings.h"
#include "common/timefmt.h"
#include "server/views.h"

namespace berth::server {
namespace {

using json = nlohmann::json;

json id_or_null(uint64_t id) { return id == 0 ? json(nullptr) : json(id); }

std::string time_text(int64_t ms) { return ms == 0 ? "" : format_time_ms(ms); }

// The columns of a statement's line items, shared by the CSV and the HTML page; the CSV has
// those before kAwardName, the page names the award by its scheme too.
enum Column : size_t {
  kType,
  kTime,
  kReference,
  kDescription,
  kUser,
  kState,
  kGpus,
  kStart,
  kEnd,
  kGpuHours,
  kGpuMs,
  kGross,
  kSubsidy,
  kCopay,
  kHeld,
  kWallet,
  kBalance,
  kAward,
  kAwardName,
  kColumns
};
constexpr size_t kCsvColumns = kAwardName;
constexpr std::array<const char*, kCsvColumns> kHeaders = {
    "type",    "time",  "reference", "description", "user",    "state",
    "gpus",    "start", "end",       "gpu_hours",   "gpu_ms",  "gross",
    "subsidy", "copay", "held",      "wallet",      "balance", "award_id"};
using Row = std::array<std::string, kColumns>;

// "3 (ai-subsidy)": the award that paid, as the page names it.
std::string award_name(AwardId award, const std::string& scheme) {
  if (!award.valid()) return "";
  return std::to_string(award.value) + (scheme.empty() ? "" : " (" + scheme + ")");
}

// A wallet movement other than a top-up or a co-payment, in words. Refunds name their job and
// reason, adjustments their reason; never a transfer's internal id.
std::string movement_description(const core::WalletMovement& m) {
  const std::string why = m.reason.empty() ? "" : ": " + m.reason;
  if (m.code == core::kCodeRefund && m.job.valid())
    return "refund of job " + std::to_string(m.job.value) + why;
  if (m.code == core::kCodeAdjustment) return "adjustment" + why;
  return std::string(m.amount_minor > 0 ? "credit (" : "debit (") +
         core::transfer_code_name(m.code) + ")" + why;
}

// A job's charge as a line item (its time and wallet columns are the caller's).
Row job_row(const core::JobCharge& j) {
  Row r;
  r[kType] = "job";
  r[kReference] = std::to_string(j.job.value) + (j.run > 0 ? "." + std::to_string(j.run) : "");
  r[kDescription] = j.name;
  r[kUser] = j.user;
  r[kState] = j.state;
  r[kGpus] = std::to_string(j.gpus);
  r[kStart] = time_text(j.start_ms);
  r[kEnd] = time_text(j.end_ms);
  r[kGpuHours] = format_gpu_hours(j.gpu_ms);
  r[kGpuMs] = std::to_string(j.gpu_ms);
  r[kGross] = format_amount(j.cost_minor);
  r[kSubsidy] = format_amount(j.subsidy_minor);
  r[kCopay] = format_amount(j.copay_minor);
  r[kAward] = j.award.valid() ? std::to_string(j.award.value) : "";
  r[kAwardName] = award_name(j.award, j.award_scheme);
  return r;
}

// A run still going at the statement's close (`close_ms`), with the co-payment it holds.
Row held_row(const core::HeldRun& h, int64_t close_ms) {
  Row r;
  r[kType] = "held";
  r[kTime] = time_text(close_ms);
  r[kReference] = std::to_string(h.job.value) + (h.run > 0 ? "." + std::to_string(h.run) : "");
  r[kDescription] = h.name + " (running at the close)";
  r[kGpus] = std::to_string(h.gpus);
  r[kStart] = time_text(h.start_ms);
  r[kHeld] = format_amount(h.copay_held_minor);
  r[kAward] = h.award.valid() ? std::to_string(h.award.value) : "";
  r[kAwardName] = award_name(h.award, h.award_scheme);
  return r;
}

// The closing line: the month's totals and the balance at its close.
Row closing_row(const core::ProjectStatement& st) {
  Row closing;
  closing[kType] = "closing";
  closing[kTime] = time_text(st.to_ms);
  closing[kDescription] = "closing balance";
  closing[kGpuHours] = format_gpu_hours(st.jobs_gpu_ms);
  closing[kGpuMs] = std::to_string(st.jobs_gpu_ms);
  closing[kGross] = format_amount(st.jobs_cost_minor);
  closing[kSubsidy] = format_amount(st.jobs_subsidy_minor);
  closing[kCopay] = format_amount(st.jobs_copay_minor);
  closing[kHeld] = format_amount(st.held_at_close_minor);
  closing[kWallet] = format_amount(st.closing_minor - st.opening_minor);
  closing[kBalance] = format_amount(st.closing_minor);
  return closing;
}

// Every line item in the order the CSV and the page print them, with the running balance.
std::vector<Row> statement_rows(const core::ProjectStatement& st) {
  struct Dated {
    int64_t time_ms;
    int order;  // ties: top-ups, then jobs, then other movements
    Row row;
    Minor wallet_minor;
  };
  std::vector<Dated> dated;
  for (const core::WalletMovement& m : st.topups) {
    Row r;
    r[kType] = "topup";
    r[kReference] = m.reference;
    r[kDescription] = "top-up";
    dated.push_back({m.time_ms, 0, r, m.amount_minor});
  }
  for (const core::JobCharge& j : st.jobs)
    dated.push_back({j.end_ms, 1, job_row(j), -j.copay_minor});
  for (const core::WalletMovement& m : st.other) {
    Row r;
    r[kType] = core::transfer_code_name(m.code);
    r[kReference] = !m.reference.empty() ? m.reference
                    : m.job.valid()      ? "job " + std::to_string(m.job.value)
                                         : "";
    r[kDescription] = movement_description(m);
    dated.push_back({m.time_ms, 2, r, m.amount_minor});
  }
  std::stable_sort(dated.begin(), dated.end(), [](const Dated& a, const Dated& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.order < b.order;
  });
  std::vector<Row> rows;
  Row opening;
  opening[kType] = "opening";
  opening[kTime] = time_text(st.from_ms);
  opening[kDescription] = "opening balance";
  opening[kBalance] = format_amount(st.opening_minor);
  rows.push_back(opening);
  Minor balance = st.opening_minor;
  for (Dated& d : dated) {
    balance += d.wallet_minor;
    d.row[kTime] = time_text(d.time_ms);
    d.row[kWallet] = format_amount(d.wallet_minor);
    d.row[kBalance] = format_amount(balance);
    rows.push_back(std::move(d.row));
  }
  for (const core::HeldRun& h : st.held_at_close) rows.push_back(held_row(h, st.to_ms));
  rows.push_back(closing_row(st));
  return rows;
}

const char kPageStyle[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#111}"
    "header{display:flex;justify-content:space-between;align-items:flex-start;margin-bottom:1.5em}"
    "h1{font-size:1.5em;margin:0}h2{font-size:1.15em;margin:0 0 .3em}"
    "address{font-style:normal;color:#444;margin-top:.2em}"
    "dl.meta{display:grid;grid-template-columns:auto auto;gap:.15em .8em;margin:0}dl.meta "
    "dt{color:#555}"
    "dl.meta dd{margin:0;text-align:right;white-space:nowrap}"
    "p.sub{margin:0 0 1.2em;color:#444}"
    "table{border-collapse:collapse;width:100%;font-size:.8em;margin-bottom:1.2em}"
    "th,td{border-bottom:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-"
    "space:nowrap}"
    "td.d{white-space:nowrap}"
    "tr.total td{font-weight:bold;border-top:2px solid #111}"
    "table.summary{width:auto}"
    "@media print{body{margin:0}th{background:none}}";

// How a cell is laid out: text wraps; numbers are right-aligned; neither numbers nor dates,
// references and awards wrap.
enum class Kind { kText, kNumber, kNoWrap };

std::string html_cell(const std::string& text, Kind kind, const char* tag = "td") {
  const char* cls = kind == Kind::kNumber   ? " class=\"n\""
                    : kind == Kind::kNoWrap ? " class=\"d\""
                                            : "";
  return std::string("<") + tag + cls + ">" + html_escape(text) + "</" + tag + ">";
}

// A time as the page shows it: "2026-11-05 12:00" (UTC, said once in the page's note).
std::string page_time(const std::string& iso) {
  if (iso.size() < 16) return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

// The period as people date it: its first day to its last (the day before to_ms).
std::string page_period(const core::ProjectStatement& st) {
  return format_time_ms(st.from_ms).substr(0, 10) + " to " +
         format_time_ms(st.to_ms - 1).substr(0, 10);
}

// The centre's name and address, and the statement's number, date and account.
std::string page_header(const core::ProjectStatement& st, const DaemonConfig& config) {
  std::string address = html_escape(config.centre.address);
  for (size_t at = address.find('\n'); at != std::string::npos; at = address.find('\n', at))
    address.replace(at, 1, "<br>");
  std::string out = "<header><div><h1>" + html_escape(config.centre.name) + "</h1>";
  if (!address.empty()) out += "<address>" + address + "</address>";
  out += "</div><dl class=\"meta\">";
  const std::pair<const char*, std::string> meta[] = {{"Statement", statement_number(st)},
                                                      {"Period", page_period(st)},
                                                      {"Organisation", st.org_name},
                                                      {"Project", st.project_name},
                                                      {"Currency", config.currency}};
  for (const auto& [label, value] : meta)
    out += "<dt>" + std::string(label) + "</dt><dd>" + html_escape(value) + "</dd>";
  return out + "</dl></header>\n";
}

// A row's type as the page names it: "topup" -> "Top-up", "job_copay" -> "Job copay".
std::string item_label(std::string type) {
  if (type == "topup") return "Top-up";
  if (type == "held") return "Running";
  for (char& ch : type)
    if (ch == '_') ch = ' ';
  if (!type.empty()) type[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(type[0])));
  return type;
}

// An exact amount of a row ("1234.5000") as the page shows it: "1,234.50"; "" stays "".
std::string page_amount(const std::string& exact) {
  Result<Minor> amount = parse_amount(exact, /*allow_negative=*/true);
  return amount.ok() ? format_money(*amount, "") : exact;
}

// The page's items: each line item in time order, with the award that paid, what it moved in
// the wallet and the running balance.
std::string page_items(const core::ProjectStatement& st) {
  static constexpr std::array<Column, 13> kShown = {
      kTime,      kType,  kReference, kDescription, kUser,   kState,  kGpuHours,
      kAwardName, kGross, kSubsidy,   kCopay,       kWallet, kBalance};
  static constexpr std::array<const char*, 13> kShownHeaders = {
      "Date",  "Item",  "Ref",     "Description", "User",   "State",  "GPU-hours",
      "Award", "Gross", "Subsidy", "Co-pay",      "Amount", "Balance"};
  auto is_money = [](Column c) { return c >= kGross && c < kAward; };
  auto kind = [&is_money](Column c) {
    if (c == kTime || c == kReference || c == kAwardName) return Kind::kNoWrap;
    return c == kGpus || c == kGpuHours || is_money(c) ? Kind::kNumber : Kind::kText;
  };
  std::string out = "<table><thead><tr>";
  for (size_t i = 0; i < kShown.size(); ++i)
    out += html_cell(kShownHeaders[i], kind(kShown[i]), "th");
  out += "</tr></thead><tbody>\n";
  for (Row r : statement_rows(st)) {
    // The opening and closing rows are dated by day: the period's first and its last.
    if (r[kType] == "opening")
      r[kTime] = format_time_ms(st.from_ms).substr(0, 10);
    else if (r[kType] == "closing")
      r[kTime] = format_time_ms(st.to_ms - 1).substr(0, 10);
    else
      r[kTime] = page_time(r[kTime]);
    const std::string type = r[kType];
    out += type == "closing" ? "<tr class=\"total\">" : "<tr>";
    r[kType] = item_label(type);
    for (Column c : kShown) {
      std::string text = is_money(c) ? page_amount(r[c]) : r[c];
      if (c == kCopay && type == "held") text = page_amount(r[kHeld]) + " held";
      out += html_cell(text, kind(c));
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

}  // namespace

std::string format_gpu_hours(int64_t gpu_ms) {
  // Hours with 4 decimals are the same digits as an amount of 1/10,000 units.
  return format_amount(gpu_ms < 0 ? -mul_div_floor(-gpu_ms, 10'000, kMsPerHour)
                                  : mul_div_floor(gpu_ms, 10'000, kMsPerHour));
}

json statement_json(const core::ProjectStatement& st) {
  json jobs = json::array();
  for (const core::JobCharge& j : st.jobs) {
    jobs.push_back({{"job_id", j.job.value},
                    {"run", j.run},
                    {"name", j.name},
                    {"user", j.user},
                    {"state", j.state},
                    {"gpus", j.gpus},
                    {"start", time_json(j.start_ms)},
                    {"end", time_json(j.end_ms)},
                    {"gpu_ms", j.gpu_ms},
                    {"gpu_hours", format_gpu_hours(j.gpu_ms)},
                    {"cost", format_amount(j.cost_minor)},
                    {"subsidy", format_amount(j.subsidy_minor)},
                    {"copay", format_amount(j.copay_minor)},
                    {"award_id", id_or_null(j.award.value)},
                    {"award_scheme", j.award_scheme}});
  }
  json topups = json::array();
  for (const core::WalletMovement& m : st.topups)
    topups.push_back({{"transfer_id", m.transfer.value},
                      {"time", time_json(m.time_ms)},
                      {"amount", format_amount(m.amount_minor)},
                      {"reference", m.reference}});
  json other = json::array();
  for (const core::WalletMovement& m : st.other)
    other.push_back({{"transfer_id", m.transfer.value},
                     {"time", time_json(m.time_ms)},
                     {"code", core::transfer_code_name(m.code)},
                     {"amount", format_amount(m.amount_minor)},
                     {"job_id", id_or_null(m.job.value)},
                     {"reason", m.reason},
                     {"description", movement_description(m)}});
  json held = json::array();
  for (const core::HeldRun& h : st.held_at_close)
    held.push_back({{"job_id", h.job.value},
                    {"run", h.run},
                    {"name", h.name},
                    {"gpus", h.gpus},
                    {"start", time_json(h.start_ms)},
                    {"copay_held", format_amount(h.copay_held_minor)},
                    {"subsidy_held", format_amount(h.subsidy_held_minor)},
                    {"award_id", id_or_null(h.award.value)},
                    {"award_scheme", h.award_scheme}});
  return {{"number", statement_number(st)},
          {"project_id", st.project.value},
          {"project", st.project_name},
          {"org_id", st.org.value},
          {"org", st.org_name},
          {"from", time_json(st.from_ms)},
          {"to", time_json(st.to_ms)},
          {"opening_balance", format_amount(st.opening_minor)},
          {"closing_balance", format_amount(st.closing_minor)},
          {"credits", format_amount(st.credits_minor())},
          {"debits", format_amount(st.debits_minor())},
          {"held_at_close", format_amount(st.held_at_close_minor)},
          {"totals",
           {{"jobs", st.jobs.size()},
            {"gpu_ms", st.jobs_gpu_ms},
            {"gpu_hours", format_gpu_hours(st.jobs_gpu_ms)},
            {"cost", format_amount(st.jobs_cost_minor)},
            {"subsidy", format_amount(st.jobs_subsidy_minor)},
            {"copay", format_amount(st.jobs_copay_minor)},
            {"topups", format_amount(st.topups_minor)},
            {"other_credits", format_amount(st.other_credits_minor)},
            {"other_debits", format_amount(st.other_debits_minor)}}},
          {"jobs", jobs},
          {"topups", topups},
          {"other", other},
          {"held", held}};
}

// The columns that hold numbers (amounts, counts, ids); the others hold text that users chose
// (a payment reference, a job's name, a user) and are written so that no spreadsheet runs
// them as a formula (csv_text_field). Numbers keep their sign: "-3.5000" stays a number.
static bool numeric_column(size_t c) {
  return c == kGpus || c == kGpuHours || c == kGpuMs || (c >= kGross && c <= kBalance) ||
         c == kAward;
}

std::string statement_csv(const core::ProjectStatement& st) {
  std::string out;
  auto line = [&out](const auto& cells, bool header) {
    for (size_t i = 0; i < kCsvColumns; ++i)
      out += (i ? "," : "") +
             (header || numeric_column(i) ? csv_field(cells[i]) : csv_text_field(cells[i]));
    out += "\r\n";  // RFC 4180 line ends
  };
  line(kHeaders, true);
  for (const Row& r : statement_rows(st)) line(r, false);
  return out;
}

std::string statement_number(const core::ProjectStatement& st) {
  char number[32];
  std::snprintf(number, sizeof number, "ST-%04llu-",
                static_cast<unsigned long long>(st.project.value));
  return number + format_month(st.from_ms);
}

std::string statement_html(const core::ProjectStatement& st, const DaemonConfig& config) {
  const std::string currency = currency_shown(config);
  const std::string title = "Statement " + statement_number(st) + ": " + st.project_name + " (" +
                            st.org_name + "), " + page_period(st);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                    html_escape(title) + "</title><style>" + kPageStyle + "</style></head><body>\n";
  out += page_header(st, config);
  out += "<h2>Statement of account: " + html_escape(st.project_name) + " (" +
         html_escape(st.org_name) + ")</h2>\n";
  out += "<p class=\"sub\">" + html_escape(page_period(st)) + ". Amounts in " +
         html_escape(config.currency) +
         (currency == config.currency ? "" : " (" + html_escape(currency) + ")") +
         ", rounded to the cent (the CSV statement has them exact); times in UTC. A job is charged "
         "when it ends; "
         "money held by jobs running at the close is shown, not deducted.</p>\n";
  const std::pair<const char*, Minor> summary[] = {
      {"Opening balance", st.opening_minor},     {"Top-ups", st.topups_minor},
      {"Other credits", st.other_credits_minor}, {"Co-payments", st.copay_debits_minor},
      {"Other debits", st.other_debits_minor},   {"Closing balance", st.closing_minor},
      {"Held at close", st.held_at_close_minor}, {"Gross cost of jobs", st.jobs_cost_minor},
      {"Subsidy", st.jobs_subsidy_minor}};
  out += "<table class=\"summary\">";
  for (const auto& [label, amount] : summary)
    out += "<tr>" + html_cell(label, Kind::kText, "th") +
           html_cell(format_money(amount, currency), Kind::kNumber) + "</tr>";
  out += "<tr>" + html_cell("GPU-hours", Kind::kText, "th") +
         html_cell(format_gpu_hours(st.jobs_gpu_ms), Kind::kNumber) + "</tr></table>\n";
  out += page_items(st);
  out += "</body></html>\n";
  return out;
}

// Applications by state ("draft": 1, "submitted": 2, ...), their total, and the money asked
// (by applications past draft) and granted.
static json applications_json(const core::SchemeReport& r) {
  json by_state = json::object();
  for (int i = 0; i < core::kApplicationStateCount; ++i) {
    const auto state = static_cast<core::ApplicationState>(i);
    by_state[core::application_state_name(state)] = r.applications.of(state);
  }
  return {{"total", r.applications.total()},
          {"by_state", by_state},
          {"applied", format_amount(r.applied_minor)},
          {"approved", format_amount(r.approved_minor)}};
}

json scheme_report_json(const core::SchemeReport& r) {
  return {{"scheme_id", r.scheme.value},
          {"scheme", r.name},
          {"rate_bps", r.rate_bps},
          {"as_of", time_json(r.now_ms)},
          {"funded", format_amount(r.funded_minor)},
          {"granted", format_amount(r.granted_minor)},
          {"returned", format_amount(r.returned_minor)},
          {"committed", format_amount(r.committed_minor)},
          {"spent", format_amount(r.spent_minor)},
          {"refunded", format_amount(r.refunded_minor)},
          {"held", format_amount(r.held_minor)},
          {"unspent_in_awards", format_amount(r.unspent_minor)},
          {"remaining", format_amount(r.remaining_minor)},
          {"awards",
           {{"total", r.awards},
            {"active", r.awards_active},
            {"expired", r.awards_expired},
            {"upcoming", r.awards_upcoming}}},
          {"organisations", {{"awarded", r.orgs_awarded}, {"subsidised", r.orgs_subsidised}}},
          {"projects", {{"awarded", r.projects_awarded}, {"subsidised", r.projects_subsidised}}},
          {"subsidised_runs", r.subsidised_runs},
          {"subsidised_gpu_ms", r.subsidised_gpu_ms},
          {"subsidised_gpu_hours", format_gpu_hours(r.subsidised_gpu_ms)},
          {"capacity",
           {{"from", time_json(r.period_from_ms)},
            {"to", time_json(r.now_ms)},
            {"gpu_ms", r.capacity_gpu_ms},
            {"gpu_hours", format_gpu_hours(r.capacity_gpu_ms)},
            {"subsidised_gpu_ms", r.period_subsidised_gpu_ms},
            {"subsidised_gpu_hours", format_gpu_hours(r.period_subsidised_gpu_ms)},
            {"share_bps", r.capacity_share_bps}}},
          {"applications", applications_json(r)}};
}

json award_balance_json(const core::AwardBalance& b) {
  const bool dated = b.run_out == core::RunOut::kRunsOut || b.run_out == core::RunOut::kEndsFirst;
  return {{"active", b.active},
          {"spent_window_from", time_json(b.window_from_ms)},
          {"spent_in_window", format_amount(b.window_spent_minor)},
          {"spent_per_day", format_amount(b.spent_per_day_minor)},
          {"run_out", core::run_out_name(b.run_out)},
          {"runs_out_at",
           b.run_out == core::RunOut::kRunsOut ? time_json(b.run_out_ms) : json(nullptr)},
          {"would_run_out_at", dated ? time_json(b.run_out_ms) : json(nullptr)}};
}

}  // namespace berth::server
