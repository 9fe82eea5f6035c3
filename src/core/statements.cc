#include "core/statements.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace berth::core {
namespace {

// What a transfer moved between posted balances: a single-phase transfer its amount, a post
// what it posted; a pending hold and a void move nothing posted.
Minor posted_by(const Transfer& t) {
  if (t.flags & (kPending | kVoidPending)) return 0;
  return t.amount;
}

bool is_subsidy_post(const Transfer& t) {
  return (t.flags & kPostPending) && t.code == kCodeJobSubsidy;
}

// The awards of a project (or a scheme) by their ledger account.
using AwardsByAccount = std::unordered_map<uint64_t, const Award*>;

AwardsByAccount awards_of_project(const Funding& funding, ProjectId project) {
  AwardsByAccount out;
  for (AwardId id : funding.awards_of(project)) {
    const Award* a = funding.award(id);
    out[a->account.value] = a;
  }
  return out;
}

const Award* award_at(const AwardsByAccount& awards, AccountId account) {
  auto it = awards.find(account.value);
  return it == awards.end() ? nullptr : it->second;
}

// The award whose account a subsidy hold debited, and its scheme's name, into a line.
template <typename Line>
void name_award(const Engine& engine, const AwardsByAccount& awards, const Transfer* subsidy_hold,
                Line* line) {
  const Award* a = subsidy_hold ? award_at(awards, subsidy_hold->debit) : nullptr;
  if (!a) return;
  line->award = a->id;
  if (const Scheme* s = engine.funding().scheme(a->scheme)) line->award_scheme = s->name;
}

// One run's four transfers (any may be missing).
struct RunTransfers {
  const Transfer* subsidy_hold = nullptr;
  const Transfer* copay_hold = nullptr;
  const Transfer* subsidy_post = nullptr;
  const Transfer* copay_post = nullptr;
  const Transfer* hold() const { return subsidy_hold ? subsidy_hold : copay_hold; }
  const Transfer* post() const { return subsidy_post ? subsidy_post : copay_post; }
};

RunTransfers run_transfers(const Ledger& ledger, JobId job, int run) {
  RunTransfers r;
  r.subsidy_hold = ledger.transfer(Engine::job_transfer_id(job, run, Engine::kPhaseSubsidyHold));
  r.copay_hold = ledger.transfer(Engine::job_transfer_id(job, run, Engine::kPhaseCopayHold));
  r.subsidy_post = ledger.transfer(Engine::job_transfer_id(job, run, Engine::kPhaseSubsidyPost));
  r.copay_post = ledger.transfer(Engine::job_transfer_id(job, run, Engine::kPhaseCopayPost));
  return r;
}

// A hold still reserving money, or posted later: in both cases it held money at any time after
// it was placed and before its post. A voided or expired hold is left out: the engine never
// voids or times out a job's hold, and the ledger keeps no time for an expiry.
bool held_until_posted(const Ledger& ledger, const Transfer* hold) {
  if (!hold) return false;
  const PendingState state = ledger.pending_state(hold->id);
  return state == PendingState::kPending || state == PendingState::kPosted;
}

// A run's line without its money: the job's own fields and the run's times.
JobCharge charge_of(const Job& job, int run, int64_t start_ms, int64_t end_ms) {
  JobCharge c;
  c.job = job.id;
  c.run = run;
  c.name = job.name;
  c.user = job.user;
  c.state = run == job.restarts ? job_state_name(job.state) : "REQUEUED";
  c.gpus = job.gpus;
  c.start_ms = start_ms;
  c.end_ms = end_ms;
  c.gpu_ms = static_cast<int64_t>(job.gpus) * (end_ms - start_ms);
  return c;
}

// Adds the lines of one run of `job` to the statement: a charge when its settlement falls in
// the period, a held run when it held money at the close.
void add_run(const Engine& engine, const AwardsByAccount& awards, const Job& job, int run,
             ProjectStatement* st) {
  const Ledger& ledger = engine.ledger();
  const RunTransfers r = run_transfers(ledger, job.id, run);
  const bool last = run == job.restarts;
  const Transfer* hold = r.hold();
  if (!hold) {
    // A run that cost nothing left no transfers; only the job's last run is in its record.
    if (last && is_final(job.state) && job.start_ms > 0 && job.end_ms >= st->from_ms &&
        job.end_ms < st->to_ms)
      st->jobs.push_back(charge_of(job, run, job.start_ms, job.end_ms));
    return;
  }
  const Transfer* post = r.post();
  if (!post || post->timestamp_ms >= st->to_ms) {
    if (hold->timestamp_ms >= st->to_ms || !held_until_posted(ledger, hold)) return;
    HeldRun h;
    h.job = job.id;
    h.run = run;
    h.name = job.name;
    h.gpus = job.gpus;
    h.start_ms = hold->timestamp_ms;
    h.copay_held_minor = held_until_posted(ledger, r.copay_hold) ? r.copay_hold->amount : 0;
    h.subsidy_held_minor = held_until_posted(ledger, r.subsidy_hold) ? r.subsidy_hold->amount : 0;
    name_award(engine, awards, r.subsidy_hold, &h);
    st->held_at_close.push_back(std::move(h));
    return;
  }
  if (post->timestamp_ms < st->from_ms) return;
  JobCharge c = charge_of(job, run, hold->timestamp_ms, post->timestamp_ms);
  c.subsidy_minor = r.subsidy_post ? r.subsidy_post->amount : 0;
  c.copay_minor = r.copay_post ? r.copay_post->amount : 0;
  c.cost_minor = c.subsidy_minor + c.copay_minor;
  name_award(engine, awards, r.subsidy_hold, &c);
  st->jobs.push_back(std::move(c));
}

// The wallet's posted movements: the balances at both ends of the period, and what moved in it.
void add_wallet_movements(const Engine& engine, const Project& p, ProjectStatement* st) {
  std::unordered_map<uint64_t, const std::string*> references;  // top-up transfer -> its reference
  for (const TopUp& t : engine.topups())
    if (t.project == p.id) references[t.transfer.value] = &t.reference;
  std::unordered_map<uint64_t, const AuditRecord*>
      why;  // refund or adjustment transfer -> its record
  for (const AuditRecord& r : engine.audit())
    if (r.transfer.valid() && (r.action == "wallet.refund" || r.action == "wallet.adjust"))
      why[r.transfer.value] = &r;
  for (const Transfer& t : engine.ledger().transfers_in_order()) {
    if (t.debit != p.wallet && t.credit != p.wallet) continue;
    const Minor moved = posted_by(t);
    if (moved == 0) continue;
    const Minor signed_minor = t.credit == p.wallet ? moved : -moved;
    if (t.timestamp_ms < st->from_ms) st->opening_minor += signed_minor;
    if (t.timestamp_ms < st->to_ms) st->closing_minor += signed_minor;
    if (t.timestamp_ms < st->from_ms || t.timestamp_ms >= st->to_ms) continue;
    if (t.code == kCodeJobCopay && signed_minor < 0) {
      st->copay_debits_minor -= signed_minor;
      continue;
    }
    WalletMovement m{t.id, t.timestamp_ms, t.code, signed_minor, ""};
    if (auto it = references.find(t.id.value); it != references.end()) m.reference = *it->second;
    if (t.code == kCodeRefund) m.job = JobId(t.ref);
    if (auto it = why.find(t.id.value); it != why.end())
      m.reason = t.code == kCodeRefund ? Engine::refund_reason(it->second->note) : it->second->note;
    if (t.code == kCodeTopUp && signed_minor > 0) {
      st->topups_minor += signed_minor;
      st->topups.push_back(std::move(m));
    } else {
      if (signed_minor > 0)
        st->other_credits_minor += signed_minor;
      else
        st->other_debits_minor -= signed_minor;
      st->other.push_back(std::move(m));
    }
  }
}

}  // namespace

Result<ProjectStatement> project_statement(const Engine& engine, ProjectId project, int64_t from_ms,
                                           int64_t to_ms) {
  const Project* p = engine.funding().project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  if (to_ms <= from_ms) return Status::Invalid("a statement's period must end after it starts");
  ProjectStatement st;
  st.project = p->id;
  st.project_name = p->name;
  st.org = p->org;
  st.org_name = engine.funding().org(p->org)->name;
  st.from_ms = from_ms;
  st.to_ms = to_ms;
  add_wallet_movements(engine, *p, &st);
  const AwardsByAccount awards = awards_of_project(engine.funding(), p->id);
  for (const Job& job : engine.jobs()) {
    if (job.project != p->id) continue;
    for (int run = 0; run <= job.restarts; ++run) add_run(engine, awards, job, run, &st);
  }
  std::sort(st.jobs.begin(), st.jobs.end(), [](const JobCharge& a, const JobCharge& b) {
    return std::tie(a.end_ms, a.job, a.run) < std::tie(b.end_ms, b.job, b.run);
  });
  std::sort(st.held_at_close.begin(), st.held_at_close.end(),
            [](const HeldRun& a, const HeldRun& b) {
              return std::tie(a.start_ms, a.job, a.run) < std::tie(b.start_ms, b.job, b.run);
            });
  for (const JobCharge& c : st.jobs) {
    st.jobs_cost_minor += c.cost_minor;
    st.jobs_subsidy_minor += c.subsidy_minor;
    st.jobs_copay_minor += c.copay_minor;
    st.jobs_gpu_ms += c.gpu_ms;
  }
  for (const HeldRun& h : st.held_at_close) st.held_at_close_minor += h.copay_held_minor;
  return st;
}

Result<SchemeReport> scheme_report(const Engine& engine, SchemeId scheme, int64_t now_ms,
                                   int64_t period_from_ms) {
  const Funding& funding = engine.funding();
  const Scheme* s = funding.scheme(scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  if (period_from_ms != 0 && period_from_ms >= now_ms)
    return Status::Invalid("the report's period must start before now");
  const Ledger& ledger = engine.ledger();
  SchemeReport r;
  r.scheme = s->id;
  r.name = s->name;
  r.rate_bps = s->rate_bps;
  r.now_ms = now_ms;
  r.period_from_ms = period_from_ms != 0 ? period_from_ms : s->created_ms;

  AwardsByAccount awards;
  std::unordered_set<uint64_t> orgs_awarded, projects_awarded, orgs_used, projects_used;
  for (const Award& a : funding.awards()) {
    if (a.scheme != s->id) continue;
    awards[a.account.value] = &a;
    r.awards += 1;
    if (a.active_at(now_ms))
      r.awards_active += 1;
    else if (a.end_ms <= now_ms)
      r.awards_expired += 1;
    else
      r.awards_upcoming += 1;
    projects_awarded.insert(a.project.value);
    orgs_awarded.insert(funding.project(a.project)->org.value);
    const AwardMoney money = award_money(engine, a);
    r.held_minor += money.held_minor;
    r.unspent_minor += money.left_minor;
    r.spent_minor += money.spent_minor;
    r.refunded_minor += money.refunded_minor;
    r.returned_minor += money.returned_minor;
  }
  r.orgs_awarded = static_cast<int>(orgs_awarded.size());
  r.projects_awarded = static_cast<int>(projects_awarded.size());

  for (const Transfer& t : ledger.transfers_in_order()) {
    if (t.credit == s->fund) {  // returns and refunds to the fund are counted by award above
      if (t.code == kCodeFundScheme) r.funded_minor += posted_by(t);
      continue;
    }
    if (t.debit == s->fund) {
      if (t.code == kCodeAwardGrant) r.granted_minor += posted_by(t);
      continue;
    }
    if (!is_subsidy_post(t)) continue;
    const Award* a = award_at(awards, t.debit);
    if (!a) continue;
    r.subsidised_runs += 1;
    const Transfer* hold = ledger.transfer(t.pending_id);
    const Job* job = engine.job(JobId(t.ref));
    const int64_t gpus = job ? job->gpus : 0;
    const int64_t start_ms = hold ? hold->timestamp_ms : t.timestamp_ms;
    const int64_t gpu_ms = gpus * (t.timestamp_ms - start_ms);
    r.subsidised_gpu_ms += gpu_ms;
    const int64_t inside_ms =
        std::min(t.timestamp_ms, now_ms) - std::max(start_ms, r.period_from_ms);
    if (inside_ms > 0) r.period_subsidised_gpu_ms += gpus * inside_ms;
    if (gpu_ms > 0 || t.amount > 0) {
      projects_used.insert(a->project.value);
      orgs_used.insert(funding.project(a->project)->org.value);
    }
  }
  r.committed_minor = r.granted_minor - r.returned_minor;
  r.applications = engine.applications().counts(s->id);
  for (ApplicationId id : engine.applications().of_scheme(s->id)) {
    const Application& app = *engine.applications().get(id);
    if (app.state != ApplicationState::kDraft) r.applied_minor += app.terms.amount_minor;
    if (app.state == ApplicationState::kApproved) r.approved_minor += app.approved_minor;
  }
  r.remaining_minor = ledger.account(s->fund)->available();
  r.orgs_subsidised = static_cast<int>(orgs_used.size());
  r.projects_subsidised = static_cast<int>(projects_used.size());
  const int64_t period_ms = now_ms - r.period_from_ms;
  if (period_ms > 0) r.capacity_gpu_ms = mul_div_floor(engine.cluster().total_gpus(), period_ms, 1);
  if (r.capacity_gpu_ms > 0)
    r.capacity_share_bps = mul_div_floor(r.period_subsidised_gpu_ms, 10'000, r.capacity_gpu_ms);
  return r;
}

AwardMoney award_money(const Engine& engine, const Award& award) {
  const Account& acct = *engine.ledger().account(award.account);
  AwardMoney m;
  m.granted_minor = award.amount_minor;
  m.held_minor = acct.debits_pending;
  m.left_minor = acct.available();
  m.refunded_minor = engine.subsidy_refunded(award.id);
  // Its account is credited by its grants and by refunds made before it ended; it is debited by
  // its jobs' subsidy and by the return of its remainder.
  const Minor refunded_into = acct.credits_posted - award.amount_minor;
  m.spent_minor = acct.debits_posted - award.returned_minor - m.refunded_minor;
  m.returned_minor = award.returned_minor + (m.refunded_minor - refunded_into);
  return m;
}

const char* run_out_name(RunOut r) { return kRunOutNames.name(r, "inactive"); }

namespace {

// Fills in the rate of spending and the run-out estimate of an award whose window sums are known.
void estimate_run_out(int64_t now_ms, AwardBalance* b) {
  const int64_t window_ms = now_ms - b->window_from_ms;
  if (window_ms > 0)
    b->spent_per_day_minor = mul_div_floor(b->window_spent_minor, kMsPerDay, window_ms);
  if (!b->active) {
    b->run_out = RunOut::kInactive;
    return;
  }
  if (b->left_minor <= 0) {
    b->run_out = RunOut::kExhausted;
    return;
  }
  if (window_ms <= 0 || b->window_spent_minor <= 0) {
    b->run_out = RunOut::kNoSpending;
    return;
  }
  // At window_spent per window_ms, left lasts left x window / window_spent ms (floored).
  // mul_div_floor gives -1 when that does not fit in 64 bits: far beyond any award's end.
  const int64_t lasts_ms = mul_div_floor(b->left_minor, window_ms, b->window_spent_minor);
  const bool fits = lasts_ms >= 0 && lasts_ms <= std::numeric_limits<int64_t>::max() - now_ms;
  b->run_out_ms = fits ? now_ms + lasts_ms : 0;
  b->run_out = fits && b->run_out_ms < b->end_ms ? RunOut::kRunsOut : RunOut::kEndsFirst;
}

}  // namespace

Result<ProjectBalance> project_balance(const Engine& engine, ProjectId project, int64_t now_ms) {
  const Funding& funding = engine.funding();
  const Project* p = funding.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  const Ledger& ledger = engine.ledger();
  ProjectBalance out;
  out.project = p->id;
  out.project_name = p->name;
  out.now_ms = now_ms;
  const Account* wallet = ledger.account(p->wallet);
  out.wallet_balance_minor = wallet->balance();
  out.wallet_held_minor = wallet->debits_pending;
  out.wallet_available_minor = wallet->available();

  std::unordered_map<uint64_t, size_t> by_account;  // award account -> index in out.awards
  for (AwardId id : funding.awards_of(p->id)) {
    const Award* a = funding.award(id);
    const Scheme* s = funding.scheme(a->scheme);
    AwardBalance b;
    b.award = a->id;
    b.scheme = s->id;
    b.scheme_name = s->name;
    b.rate_bps = s->rate_bps;
    b.gpu_level = a->gpu_level;
    b.start_ms = a->start_ms;
    b.end_ms = a->end_ms;
    b.active = a->active_at(now_ms);
    static_cast<AwardMoney&>(b) = award_money(engine, *a);
    b.window_from_ms = std::max(now_ms - kSpendingWindowMs, a->start_ms);
    by_account[a->account.value] = out.awards.size();
    out.awards.push_back(std::move(b));
  }
  if (!by_account.empty()) {
    for (const Transfer& t : ledger.transfers_in_order()) {
      if (!is_subsidy_post(t)) continue;
      auto it = by_account.find(t.debit.value);
      if (it == by_account.end()) continue;
      AwardBalance& b = out.awards[it->second];
      if (t.timestamp_ms >= b.window_from_ms && t.timestamp_ms <= now_ms)
        b.window_spent_minor += t.amount;
    }
  }
  for (AwardBalance& b : out.awards) estimate_run_out(now_ms, &b);
  return out;
}

}  // namespace berth::core
