#include "server/views.h"

#include "common/limits.h"
#include "common/money.h"
#include "common/timefmt.h"
#include "server/statement_views.h"

namespace berth::server {

using core::Engine;

// One pass, left to right, as Slurm does: what a placeholder inserts (a job name may hold "%x")
// is never read again. The result stops growing past PATH_MAX bytes (4096): no longer path can be
// opened, so the job then fails with "File name too long" instead of costing berthd memory.
std::string expand_job_pattern(const std::string& pattern, const core::Job& job) {
  const std::string array =
      job.array_id.valid() ? std::to_string(job.array_id.value) : std::to_string(job.id.value);
  const std::string index = job.array_index >= 0 ? std::to_string(job.array_index) : "0";
  std::string out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size() && out.size() <= kMaxPathBytes; ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    switch (pattern[i + 1]) {
      case 'j':
        out += std::to_string(job.id.value);
        break;
      case 'x':
        out += job.name;
        break;
      case 'A':
        out += array;
        break;
      case 'a':
        out += index;
        break;
      case '%':
        out += '%';
        break;
      default:
        out += pattern.substr(i, 2);
        break;  // not a placeholder berth knows: kept as written
    }
    ++i;
  }
  return out;
}

json time_json(int64_t ms) { return ms == 0 ? json(nullptr) : json(format_time_ms(ms)); }

json org_json(const core::Org& o) {
  const core::OrgRegistration& r = o.registration;
  return {{"id", o.id.value},
          {"name", o.name},
          {"kind", core::org_kind_name(o.kind)},
          {"created", time_json(o.created_ms)},
          {"registration_number", r.number},
          {"address", r.address},
          {"contact_name", r.contact_name},
          {"contact_email", r.contact_email},
          {"jurisdiction", r.jurisdiction},
          {"updated", time_json(o.updated_ms)}};
}

json project_json(const Engine& e, const core::Project& p) {
  return {{"id", p.id.value},
          {"name", p.name},
          {"org_id", p.org.value},
          {"org", e.funding().org(p.org)->name},
          {"wallet_account", p.wallet.value},
          {"created", time_json(p.created_ms)}};
}

json scheme_json(const Engine& e, const core::Scheme& s) {
  json kinds = json::array();
  for (int k = 0; k < core::kOrgKindCount; ++k)
    if (s.eligible(static_cast<core::OrgKind>(k)))
      kinds.push_back(core::org_kind_name(static_cast<core::OrgKind>(k)));
  const core::Account* fund = e.ledger().account(s.fund);
  return {{"id", s.id.value},
          {"name", s.name},
          {"rate_bps", s.rate_bps},
          {"eligible_kinds", kinds},
          {"shortfall", core::shortfall_name(s.shortfall)},
          {"fund_account", s.fund.value},
          {"fund_balance", format_amount(fund->balance())},
          {"fund_available", format_amount(fund->available())},
          {"exceptional_rate_bps", s.exceptional_rate_bps},
          {"cap_per_project",
           s.cap_per_project_minor > 0 ? json(format_amount(s.cap_per_project_minor)) : json()},
          {"window_open", time_json(s.window_open_ms)},
          {"window_close", time_json(s.window_close_ms)},
          {"award_validity_days", s.award_validity_days}};
}

json audit_json(const core::AuditRecord& r) {
  return {{"seq", r.seq},
          {"at", time_json(r.at_ms)},
          {"user", r.user},
          {"action", r.action},
          {"subject", r.subject},
          {"amount", format_amount(r.amount_minor)},
          {"transfer_id", r.transfer.valid() ? json(r.transfer.value) : json()},
          {"note", r.note},
          {"reference", r.reference.empty() ? json() : json(r.reference)}};
}

json criteria_json(const std::vector<core::Criterion>& criteria) {
  json list = json::array();
  for (const core::Criterion& c : criteria)
    list.push_back({{"name", c.name}, {"weight_bps", c.weight_bps}});
  return {{"criteria", list}};
}

json application_json(const core::Engine& e, const core::Application& a, bool with_detail) {
  const core::Scheme* s = e.funding().scheme(a.scheme);
  json out = {{"id", a.id.value},
              {"scheme_id", a.scheme.value},
              {"scheme", s->name},
              {"project_id", a.project.value},
              {"project", e.funding().project(a.project)->name},
              {"org_id", a.org.value},
              {"org", e.funding().org(a.org)->name},
              {"state", core::application_state_name(a.state)},
              {"amount", format_amount(a.terms.amount_minor)},
              {"gpu_level", a.terms.gpu_level},
              {"gpu_model", a.terms.gpu_model},
              {"duration_days", a.terms.duration_days},
              {"justification", a.terms.justification},
              {"planned_work", a.terms.planned_work},
              {"created", time_json(a.created_ms)},
              {"created_by", a.created_by},
              {"updated", time_json(a.updated_ms)},
              {"submitted", time_json(a.submitted_ms)},
              {"submitted_by", a.submitted_by},
              {"decided", time_json(a.decided_ms)},
              {"decided_by", a.decided_by},
              {"reviews_count", a.reviews.size()},
              {"score", core::format_score(a.weighted_score_e4)}};
  if (a.state == core::ApplicationState::kApproved) {
    out["approved_amount"] = format_amount(a.approved_minor);
    out["approved_gpu_level"] = a.approved_gpu_level;
    out["approved_duration_days"] = a.approved_duration_days;
    out["approved_rate_bps"] = a.approved_rate_bps;
  }
  if (a.state == core::ApplicationState::kRejected) out["rejection_reason"] = a.rejection_reason;
  if (a.state == core::ApplicationState::kWithdrawn) out["withdrawal_note"] = a.withdrawal_note;
  out["award_id"] = a.award.valid() ? json(a.award.value) : json();
  if (!with_detail) return out;
  const std::vector<core::Criterion>& criteria = e.applications().criteria(a.scheme);
  json reviews = json::array();
  for (const core::Review& r : a.reviews) {
    json scores = json::object();
    for (size_t i = 0; i < r.scores.size() && i < criteria.size(); ++i)
      scores[criteria[i].name] = r.scores[i];
    reviews.push_back({{"reviewer", r.reviewer},
                       {"scores", scores},
                       {"score", core::format_score(r.weighted_score_e4)},
                       {"comment", r.comment},
                       {"at", time_json(r.at_ms)}});
  }
  out["reviews"] = reviews;
  json history = json::array();
  for (const core::ApplicationEvent& ev : e.applications().events())
    if (ev.application == a.id)
      history.push_back({{"seq", ev.seq},
                         {"at", time_json(ev.at_ms)},
                         {"user", ev.user},
                         {"action", core::application_action_name(ev.action)},
                         {"note", ev.note}});
  out["history"] = history;
  return out;
}

json award_json(const Engine& e, const core::Award& a, int64_t now_ms) {
  const core::ReportStanding reports = e.report_standing(a.id, now_ms);
  const core::Scheme* s = e.funding().scheme(a.scheme);
  const core::AwardMoney money =
      core::award_money(e, a);  // granted = held + spent + left + returned
  return {{"id", a.id.value},
          {"scheme_id", a.scheme.value},
          {"scheme", s->name},
          {"rate_bps", a.rate_bps},
          {"application_id", a.application.valid() ? json(a.application.value) : json()},
          {"project_id", a.project.value},
          {"project", e.funding().project(a.project)->name},
          {"account", a.account.value},
          {"gpu_level", a.gpu_level},
          {"start", time_json(a.start_ms)},
          {"end", time_json(a.end_ms)},
          {"granted", format_amount(a.amount_minor)},
          {"held", format_amount(money.held_minor)},
          {"spent", format_amount(money.spent_minor)},
          {"refunded", format_amount(money.refunded_minor)},
          {"left", format_amount(money.left_minor)},
          {"closed", time_json(a.closed_ms)},
          {"returned", time_json(a.returned_ms)},
          {"returned_amount", format_amount(money.returned_minor)},
          {"report_every_months", a.report_every_months},
          {"report_grace_days", a.report_grace_days},
          {"next_report_period", reports.next_period == 0 ? json() : json(reports.next_period)},
          {"next_report_due", time_json(reports.next_due_ms)},
          {"reports_overdue", reports.overdue()},
          {"overdue_report_period", reports.overdue() ? json(reports.overdue_period) : json()}};
}

json report_json(const core::ProgressReport& r) {
  return {{"award_id", r.award.value},
          {"period", r.period},
          {"due", time_json(r.due_ms)},
          {"state", core::report_state_name(r.state)},
          {"text", r.text},
          {"submitted", time_json(r.submitted_ms)},
          {"submitted_by", r.submitted_by},
          {"decided", time_json(r.decided_ms)},
          {"decided_by", r.decided_by},
          {"return_reason", r.return_reason},
          {"submissions", r.submissions}};
}

json reports_json(const Engine& e, const core::Award& a, int64_t now_ms) {
  json due = json::array();
  for (int64_t at : core::report_due_dates(a.start_ms, a.end_ms, a.report_every_months))
    due.push_back(time_json(at));
  json reports = json::array();
  for (const core::ProgressReport* r : e.reports().of_award(a.id))
    reports.push_back(report_json(*r));
  json history = json::array();
  for (const core::ReportEvent& ev : e.reports().events())
    if (ev.award == a.id)
      history.push_back({{"seq", ev.seq},
                         {"period", ev.period},
                         {"at", time_json(ev.at_ms)},
                         {"user", ev.user},
                         {"action", core::report_action_name(ev.action)},
                         {"note", ev.note}});
  return {{"award", award_json(e, a, now_ms)},
          {"due", due},
          {"reports", reports},
          {"history", history}};
}

json account_json(const core::Account& a) {
  return {{"id", a.id.value},
          {"kind", core::account_kind_name(a.kind)},
          {"name", a.name},
          {"owner", a.owner},
          {"balance", format_amount(a.balance())},
          {"held", format_amount(a.debits_pending)},
          {"available", format_amount(a.available())},
          {"debits_posted", format_amount(a.debits_posted)},
          {"credits_posted", format_amount(a.credits_posted)},
          {"credit_limit", format_amount(a.credit_limit_minor)}};
}

json transfer_json(const core::Ledger& l, const core::Transfer& t) {
  json flags = json::array();
  if (t.flags & core::kLinked) flags.push_back("linked");
  if (t.flags & core::kPending) flags.push_back("pending");
  if (t.flags & core::kPostPending) flags.push_back("post_pending");
  if (t.flags & core::kVoidPending) flags.push_back("void_pending");
  AccountId debit = t.debit, credit = t.credit;
  if ((t.flags & (core::kPostPending | core::kVoidPending)) && !debit.valid()) {
    if (const core::Transfer* p = l.transfer(t.pending_id)) {
      debit = p->debit;
      credit = p->credit;
    }
  }
  const auto name = [&l](AccountId id) {
    const core::Account* a = l.account(id);
    return a ? json(a->name) : json(nullptr);
  };
  json out = {{"id", t.id.value},
              {"debit", debit.value},
              {"credit", credit.value},
              {"debit_name", name(debit)},
              {"credit_name", name(credit)},
              {"amount", format_amount(t.amount)},
              {"flags", flags},
              {"pending_id", t.pending_id.valid() ? json(t.pending_id.value) : json(nullptr)},
              {"code", core::transfer_code_name(t.code)},
              {"ref", t.ref},
              {"time", time_json(t.timestamp_ms)}};
  if (t.flags & core::kPending) out["state"] = core::pending_state_name(l.pending_state(t.id));
  return out;
}

json node_json(const Engine& e, const core::Node& n, const std::vector<JobId>& running) {
  json jobs = json::array();
  for (JobId id : running) jobs.push_back(id.value);
  return {{"id", n.id.value},
          {"name", n.name},
          {"gpu_model", n.gpu_model},
          {"gpus", n.gpus},
          {"gpus_free", e.cluster().free_gpus(n.id)},
          {"cpus", n.cpus},
          {"memory_mb", n.memory_mb},
          {"state", core::node_state_name(n.state)},
          {"reason", n.state_reason},
          {"agent_version", n.agent_version},
          {"address", n.address},
          {"isolation", n.isolation},
          {"last_heartbeat", time_json(n.last_heartbeat_ms)},
          {"jobs", jobs}};
}

json quote_json(const core::Quote& q) {
  return {{"max_cost", format_amount(q.max_cost_minor)},
          {"subsidy", format_amount(q.subsidy_minor)},
          {"copay", format_amount(q.copay_minor)},
          {"rate_bps", q.rate_bps},
          {"award_id", q.award.valid() ? json(q.award.value) : json(nullptr)},
          {"price_per_gpu_hour", format_amount(q.price_per_gpu_hour_minor)},
          {"gpu_model", q.gpu_model},
          {"time_limit_s", q.time_limit_s},
          {"affordable", q.affordable},
          {"reason", q.affordable ? json(nullptr) : json(core::pending_reason_name(q.reason))},
          {"report_overdue_award_id",
           q.report_overdue_award.valid() ? json(q.report_overdue_award.value) : json()},
          {"earliest_start", time_json(q.earliest_start_ms)}};
}

json balance_json(const Engine& e, const core::Project& p, int64_t now_ms) {
  const core::Account* w = e.ledger().account(p.wallet);
  // The award entries are award_json's, with the rate of spending and the run-out estimate.
  auto balance = core::project_balance(e, p.id, now_ms);
  // In the order the sources pay (funding_order: 1 pays first).
  json awards = json::array();
  for (const core::Award* source : e.funding().funding_sources(p.id)) {
    const AwardId id = source->id;
    json award = award_json(e, *source, now_ms);
    award["funding_order"] = awards.size() + 1;
    if (balance.ok()) {
      for (const core::AwardBalance& b : balance->awards)
        if (b.award == id) award.update(award_balance_json(b));
    }
    awards.push_back(std::move(award));
  }
  return {{"project_id", p.id.value},
          {"project", p.name},
          {"wallet",
           {{"account", p.wallet.value},
            {"balance", format_amount(w->balance())},
            {"held", format_amount(w->debits_pending)},
            {"available", format_amount(w->available())},
            {"credit_limit", format_amount(w->credit_limit_minor)},
            {"spendable", format_amount(w->spendable())},
            {"spent", format_amount(w->debits_posted)}}},
          {"as_of", time_json(now_ms)},
          {"awards", awards}};
}

}  // namespace berth::server
