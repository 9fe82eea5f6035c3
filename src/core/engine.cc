// The Engine's frame: construction, the scheduling configuration's shares and limits, the
// ledger helpers every area uses (accounts, transfers, holds, posts, the inflow bound), and
// administration (organisations, projects, schemes, top-ups, expiry). The other areas live
// beside it: job_table.cc, job_lifecycle.cc, scheduling.cc, pricing.cc, awards.cc,
// paperwork.cc, wallets.cc, audit_log.cc, node_agents.cc, persistence.cc and restore_jobs.cc.
#include <algorithm>
#include <limits>

#include "common/limits.h"
#include "common/timefmt.h"
#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

namespace {
constexpr uint64_t kSequenceTransferBit = uint64_t{1} << 62;
}  // namespace

TransferId Engine::job_transfer_id(JobId job, int restarts, int phase) {
  BERTH_CHECK(job.value < kMaxJobIdForTransfers && restarts >= 0 && restarts < kMaxRestarts,
              "job transfer id range");
  return TransferId(job.value << 16 | static_cast<uint64_t>(restarts) << 3 |
                    static_cast<uint64_t>(phase));
}

Engine::Engine(Cluster cluster, SchedulerConfig scheduling)
    : cluster_(std::move(cluster)),
      scheduling_(std::move(scheduling)),
      scheduler_(Scheduler::Options{.backfill = scheduling_.backfill,
                                    .conservative = scheduling_.conservative,
                                    .strict = scheduling_.strict,
                                    .preemption = scheduling_.preemption,
                                    .depth = scheduling_.backfill_depth,
                                    .demote_after_gpu_s = scheduling_.demote_after_gpu_s,
                                    .preempt_exempt_s = scheduling_.preempt_exempt_s}),
      fairshare_(scheduling_.usage_half_life_s) {
  // A learned threshold starts at "none" until enough jobs have finished to say.
  if (scheduling_.adapt_demotion) scheduling_.demote_after_gpu_s = 0;
  adapt_order_ = scheduling_.adapt_demotion && scheduling_.order == QueueOrder::kShortest;
  scheduler_.set_limits(scheduling_.demote_after_gpu_s, scheduling_.starve_after_s);
}

void Engine::apply_shares() {
  for (const Org& o : funding_.orgs())
    if (auto it = scheduling_.org_shares.find(o.name); it != scheduling_.org_shares.end())
      fairshare_.set_shares(o.id, it->second);
  for (const Project& p : funding_.projects())
    if (auto it = scheduling_.project_shares.find(p.name); it != scheduling_.project_shares.end())
      fairshare_.set_shares(p.id, it->second);
}

const Limit* Engine::org_limit(OrgId org) const {
  if (scheduling_.org_limits.empty()) return nullptr;
  auto it = scheduling_.org_limits.find(funding_.org(org)->name);
  return it == scheduling_.org_limits.end() ? nullptr : &it->second;
}

const Limit* Engine::project_limit(ProjectId project) const {
  if (scheduling_.project_limits.empty()) return nullptr;
  auto it = scheduling_.project_limits.find(funding_.project(project)->name);
  return it == scheduling_.project_limits.end() ? nullptr : &it->second;
}

Account Engine::new_account(AccountKind kind, uint64_t owner, const std::string& name) {
  Account a;
  a.id = AccountId(next_account_id_++);
  a.kind = kind;
  a.no_overdraft = true;
  a.owner = owner;
  a.name = name;
  return a;
}

TransferId Engine::next_transfer_id() {
  return TransferId(kSequenceTransferBit | next_transfer_seq_++);
}

Transfer Engine::new_transfer(AccountId debit, AccountId credit, Minor amount_minor, uint32_t code,
                              uint64_t ref) {
  Transfer t;
  t.id = next_transfer_id();
  t.debit = debit;
  t.credit = credit;
  t.amount = amount_minor;
  t.code = code;
  t.ref = ref;
  return t;
}

namespace {
// A job's money in each phase is its subsidy (from an award) or its co-payment (from a wallet).
uint32_t job_phase_code(int phase) {
  const bool subsidy = phase == Engine::kPhaseSubsidyHold || phase == Engine::kPhaseSubsidyPost;
  return subsidy ? kCodeJobSubsidy : kCodeJobCopay;
}
}  // namespace

Transfer Engine::job_hold(const Job& job, int hold_phase, AccountId debit, Minor amount_minor) {
  Transfer t;
  t.id = job_transfer_id(job.id, job.restarts, hold_phase);
  t.debit = debit;
  t.credit = kRevenueAccount;
  t.amount = amount_minor;
  t.flags = kPending;
  t.code = job_phase_code(hold_phase);
  t.ref = job.id.value;
  return t;
}

Transfer Engine::job_post(const Job& job, int hold_phase, Minor amount_minor) {
  Transfer t;
  const int post_phase = hold_phase == kPhaseSubsidyHold ? kPhaseSubsidyPost : kPhaseCopayPost;
  t.id = job_transfer_id(job.id, job.restarts, post_phase);
  t.pending_id = job_transfer_id(job.id, job.restarts, hold_phase);
  t.amount = amount_minor;
  t.flags = kPostPending;
  t.code = job_phase_code(hold_phase);
  t.ref = job.id.value;
  return t;
}

Status Engine::apply_transfer(const Transfer& t, int64_t now_ms) {
  const TransferResult r = ledger_.create_transfer(t, now_ms);
  if (r == TransferResult::kOk) return Status::Ok();
  if (r == TransferResult::kExceedsCredits) {
    const Account* a = ledger_.account(t.debit);
    return Status::Funds("account " + std::to_string(t.debit.value) + " (" + (a ? a->name : "?") +
                         ") has " + format_amount(a ? a->spendable() : 0) + " available" +
                         (a && a->credit_limit_minor > 0 ? " counting its credit limit" : "") +
                         ", " + format_amount(t.amount) + " needed");
  }
  if (r == TransferResult::kOverflow) {
    // Amounts are bounded only by int64_t, so a large enough amount (a top-up of 2^63 - 1 twice)
    // would take a balance past what berth can hold: the caller's amount is refused.
    return Status::Invalid(
        "amount " + format_amount(t.amount) + " would take an account's balance past the largest " +
        "berth can hold (" + format_amount(std::numeric_limits<Minor>::max()) + ")");
  }
  return Status::Internal(std::string("transfer refused: ") + transfer_result_name(r));
}

Status Engine::check_inflow(Minor amount_minor) const {
  constexpr Minor kMaxInflowTurnover = std::numeric_limits<Minor>::max() / 2;
  const __int128 turnover =
      static_cast<__int128>(ledger_.total_credits_posted()) + ledger_.total_credits_pending();
  if (amount_minor > kMaxInflowTurnover || turnover + amount_minor > kMaxInflowTurnover)
    return Status::Invalid(
        "amount " + format_amount(amount_minor) + " is too large: the books can take in at most " +
        format_amount(static_cast<Minor>(std::max<__int128>(kMaxInflowTurnover - turnover, 0))) +
        " more");
  return Status::Ok();
}

// ---- administration ----

Result<Org> Engine::create_org(const std::string& name, OrgKind kind, int64_t now_ms) {
  return create_org(name, kind, RegistrationChange{}, now_ms);
}

namespace {
// "registration_number 'A' -> 'B'; contact_email (none) -> 'x@y.org'" for the audit record.
std::string registration_changes(const OrgRegistration& from, const OrgRegistration& to) {
  const struct {
    const char* name;
    std::string OrgRegistration::*field;
  } fields[] = {{"registration_number", &OrgRegistration::number},
                {"address", &OrgRegistration::address},
                {"contact_name", &OrgRegistration::contact_name},
                {"contact_email", &OrgRegistration::contact_email},
                {"jurisdiction", &OrgRegistration::jurisdiction}};
  auto shown = [](const std::string& v) {
    return v.empty() ? std::string("(none)") : "'" + v + "'";
  };
  std::string out;
  for (const auto& f : fields) {
    if (from.*f.field == to.*f.field) continue;
    out += (out.empty() ? "" : "; ") + std::string(f.name) + " " + shown(from.*f.field) + " -> " +
           shown(to.*f.field);
  }
  return out;
}
}  // namespace

Result<Org> Engine::create_org(const std::string& name, OrgKind kind,
                               const RegistrationChange& registration, int64_t now_ms) {
  Org o{OrgId(funding_.orgs().size() + 1), name, kind, now_ms};
  BERTH_RETURN_IF_ERROR(apply_registration(registration, &o.registration));
  BERTH_RETURN_IF_ERROR(funding_.add_org(o));
  if (auto it = scheduling_.org_shares.find(name); it != scheduling_.org_shares.end())
    fairshare_.set_shares(o.id, it->second);
  const std::string recorded = registration_changes(OrgRegistration{}, o.registration);
  record_audit("org.create", "org " + std::to_string(o.id.value), 0, TransferId(),
               std::string(org_kind_name(kind)) + " '" + name + "'" +
                   (recorded.empty() ? ", no registration record" : ": " + recorded),
               now_ms);
  return o;
}

Result<Org> Engine::update_org(OrgId id, const RegistrationChange& change, const std::string& note,
                               int64_t now_ms) {
  Org* o = funding_.mutable_org(id);
  if (!o) return Status::NotFound("organisation " + std::to_string(id.value) + " not found");
  if (change.empty())
    return Status::Invalid("an update of a registration record gives at least one field");
  if (note.size() > kMaxReasonBytes)
    return Status::Invalid("note is longer than " + std::to_string(kMaxReasonBytes) +
                           " characters");
  OrgRegistration amended = o->registration;
  BERTH_RETURN_IF_ERROR(apply_registration(change, &amended));
  const std::string changes = registration_changes(o->registration, amended);
  if (changes.empty()) return *o;  // as recorded already: nothing to change or audit
  o->registration = std::move(amended);
  o->updated_ms = now_ms;
  dirty_orgs_.insert(id.value);
  record_audit("org.update", "org " + std::to_string(id.value), 0, TransferId(),
               note.empty() ? changes : changes + ": " + note, now_ms);
  return *o;
}

Result<Project> Engine::create_project(OrgId org, const std::string& name, int64_t now_ms) {
  Project p{ProjectId(funding_.projects().size() + 1), org, name, AccountId(next_account_id_),
            now_ms};
  BERTH_RETURN_IF_ERROR(funding_.check_project(p));
  const Account wallet = new_account(AccountKind::kWallet, p.id.value, "wallet of " + name);
  BERTH_CHECK(ledger_.create_account(wallet, now_ms).ok(), "create wallet account");
  BERTH_CHECK(funding_.add_project(p).ok(), "add checked project");
  if (auto it = scheduling_.project_shares.find(name); it != scheduling_.project_shares.end())
    fairshare_.set_shares(p.id, it->second);
  return p;
}

Result<Scheme> Engine::create_scheme(const std::string& name, int64_t rate_bps,
                                     uint32_t eligible_kinds, Shortfall shortfall, Minor fund_minor,
                                     int64_t now_ms) {
  SchemeSpec spec;
  spec.name = name;
  spec.rate_bps = rate_bps;
  spec.eligible_kinds = eligible_kinds;
  spec.shortfall = shortfall;
  return create_scheme(spec, fund_minor, now_ms);
}

Result<Scheme> Engine::create_scheme(const SchemeSpec& spec, Minor fund_minor, int64_t now_ms) {
  Scheme s;
  s.id = SchemeId(funding_.schemes().size() + 1);
  s.name = spec.name;
  s.rate_bps = spec.rate_bps;
  s.eligible_kinds = spec.eligible_kinds;
  s.shortfall = spec.shortfall;
  s.fund = AccountId(next_account_id_);
  s.created_ms = now_ms;
  s.exceptional_rate_bps = spec.exceptional_rate_bps;
  s.cap_per_project_minor = spec.cap_per_project_minor;
  s.window_open_ms = spec.window_open_ms;
  s.window_close_ms = spec.window_close_ms;
  s.award_validity_days = spec.award_validity_days;
  BERTH_RETURN_IF_ERROR(funding_.check_scheme(s));
  if (fund_minor < 0) return Status::Invalid("fund must not be negative");
  if (fund_minor > 0)
    BERTH_RETURN_IF_ERROR(check_inflow(fund_minor));  // before anything is created
  const Account fund = new_account(AccountKind::kFund, s.id.value, "fund of " + spec.name);
  BERTH_CHECK(ledger_.create_account(fund, now_ms).ok(), "create fund account");
  BERTH_CHECK(funding_.add_scheme(s).ok(), "add checked scheme");
  record_audit("scheme.create", "scheme " + std::to_string(s.id.value), 0, TransferId(),
               "'" + s.name + "' at " + std::to_string(s.rate_bps) + " bps", now_ms);
  if (fund_minor > 0) BERTH_RETURN_IF_ERROR(fund_scheme(s.id, fund_minor, now_ms));
  return s;
}

Status Engine::fund_scheme(SchemeId scheme, Minor amount_minor, int64_t now_ms) {
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  if (amount_minor <= 0) return Status::Invalid("amount must be positive");
  BERTH_RETURN_IF_ERROR(check_inflow(amount_minor));
  const Transfer t =
      new_transfer(kProgrammeSourceAccount, s->fund, amount_minor, kCodeFundScheme, scheme.value);
  BERTH_RETURN_IF_ERROR(apply_transfer(t, now_ms));
  record_audit("scheme.fund", "scheme " + std::to_string(scheme.value), amount_minor, t.id,
               "from the programme source", now_ms);
  return Status::Ok();
}

Result<TopUp> Engine::top_up(ProjectId project, Minor amount_minor, const std::string& reference,
                             int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  if (amount_minor <= 0) return Status::Invalid("top-up amount must be positive");
  if (reference.size() > kMaxReferenceBytes)
    return Status::Invalid("payment reference is longer than " +
                           std::to_string(kMaxReferenceBytes) + " characters");
  if (!reference.empty()) {
    if (auto it = topup_refs_.find(reference); it != topup_refs_.end()) {
      const TopUp& first = topups_[it->second];
      if (first.project != project || first.amount_minor != amount_minor)
        return Status::Conflict("payment reference '" + reference + "' was already used for " +
                                format_amount(first.amount_minor) + " to project " +
                                std::to_string(first.project.value));
      if (replayed) *replayed = true;
      return first;
    }
  }
  BERTH_RETURN_IF_ERROR(check_inflow(amount_minor));
  const Transfer t =
      new_transfer(kExternalAccount, p->wallet, amount_minor, kCodeTopUp, project.value);
  BERTH_RETURN_IF_ERROR(apply_transfer(t, now_ms));
  TopUp topup{t.id, project, amount_minor, reference, now_ms};
  if (!reference.empty()) topup_refs_[reference] = topups_.size();
  topups_.push_back(topup);
  record_audit("wallet.topup", "project " + std::to_string(project.value), amount_minor, t.id,
               reference.empty() ? "no payment reference" : "payment reference " + reference,
               now_ms);
  return topup;
}

size_t Engine::expire(int64_t now_ms) {
  const size_t expired = ledger_.expire_pending(now_ms);
  return_ended_awards(now_ms);
  return expired;
}

}  // namespace berth::core
