#include "core/reconcile.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/engine.h"

namespace berth::core {

const char* difference_kind_name(DifferenceKind kind) { return kDifferenceKindNames.name(kind); }

const char* entity_kind_name(EntityKind kind) { return kEntityKindNames.name(kind); }

namespace {

// Sums are kept in 128 bits, so that rows tampered with to huge amounts are reported rather
// than overflowing; they are shown clamped to 64 bits.
using Wide = __int128;
int64_t clamp64(Wide v) {
  constexpr Wide lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::clamp(v, lo, hi));
}

struct WideBalances {
  Wide debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
};

bool is_protected_kind(AccountKind kind) {
  return kind == AccountKind::kFund || kind == AccountKind::kAward || kind == AccountKind::kWallet;
}

int resolution_flag_count(uint32_t flags) {
  return ((flags & kPending) ? 1 : 0) + ((flags & kPostPending) ? 1 : 0) +
         ((flags & kVoidPending) ? 1 : 0);
}

std::string tid(uint64_t id) { return "transfer " + std::to_string(id); }
std::string jid(uint64_t id) { return "job " + std::to_string(id); }

// The money of one run of a job, as recomputed.
struct Run {
  const Transfer* subsidy_hold = nullptr;
  const Transfer* copay_hold = nullptr;
  const Transfer* subsidy_post = nullptr;
  const Transfer* copay_post = nullptr;
  Minor max_cost_minor = 0;
  int64_t rate_bps = 0;
  int64_t start_ms = 0, end_ms = 0;
  bool price_known = true;
};

class Reconciler {
 public:
  Reconciler(const ChangeSet& rows, const ReconcileOptions& options, ReconcileReport* report)
      : rows_(rows), options_(options), report_(report) {}

  void run() {
    report_->accounts_checked = rows_.accounts.size();
    report_->transfers_checked = rows_.transfers.size();
    report_->jobs_checked = rows_.jobs.size();
    report_->topups_checked = rows_.topups.size();
    index();
    replay_transfers();
    check_accounts();
    check_pending_states();
    for (const Job& job : rows_.jobs) check_job(job);
    check_unclaimed_job_transfers();
    check_unclaimed_refunds();
    check_topups();
    check_awards();
  }

 private:
  void add(DifferenceKind kind, EntityKind entity, uint64_t id, std::string field, bool money,
           int64_t expected, int64_t found, std::string message) {
    ++report_->differences_found;
    if (report_->differences.size() >= options_.max_listed) return;
    report_->differences.push_back(
        Difference{kind, entity, id, std::move(field), money, expected, found, std::move(message)});
  }
  void add_money(DifferenceKind kind, EntityKind entity, uint64_t id, std::string field,
                 int64_t expected, int64_t found, const std::string& what) {
    add(kind, entity, id, std::move(field), true, expected, found,
        what + ": expected " + format_amount(expected) + ", found " + format_amount(found) + ".");
  }

  void index() {
    for (size_t i = 0; i < rows_.accounts.size(); ++i)
      account_pos_.emplace(rows_.accounts[i].id.value, i);
    for (size_t i = 0; i < rows_.transfers.size(); ++i) {
      const Transfer& t = rows_.transfers[i];
      if (!transfer_pos_.emplace(t.id.value, i).second)
        add(DifferenceKind::kDuplicateTransfer, EntityKind::kTransfer, t.id.value, "id", false, 1,
            2, tid(t.id.value) + " appears more than once.");
    }
    for (const PendingUpdate& u : rows_.pending) stored_state_[u.id.value] = &u;
    for (const Award& a : rows_.awards) award_by_account_[a.account.value] = &a;
    for (const Award& a : rows_.awards) award_by_id_[a.id.value] = &a;
    for (const Scheme& s : rows_.schemes) fund_accounts_.insert(s.fund.value);
    for (const Project& p : rows_.projects) project_by_id_[p.id.value] = &p;
    for (const Transfer& t : rows_.transfers)
      if (t.code == kCodeRefund) refunds_by_job_[t.ref].push_back(&t);
    for (const Job& j : rows_.jobs) job_ids_.insert(j.id.value);
    resolved_by_.assign(rows_.transfers.size(), kNone);
    balances_.assign(rows_.accounts.size(), WideBalances{});
  }

  const Transfer* transfer(TransferId id) const {
    auto it = transfer_pos_.find(id.value);
    return it == transfer_pos_.end() ? nullptr : &rows_.transfers[it->second];
  }
  WideBalances* balances(AccountId id) {
    auto it = account_pos_.find(id.value);
    return it == account_pos_.end() ? nullptr : &balances_[it->second];
  }

  // Replays every transfer onto zero balances: a single-phase transfer posts, a hold is pending
  // until a later transfer posts (part of) it or voids it; a hold that expired has no
  // transfer, only its stored state.
  void replay_transfers() {
    for (size_t i = 0; i < rows_.transfers.size(); ++i) {
      const Transfer& t = rows_.transfers[i];
      if (transfer_pos_.at(t.id.value) != i) continue;  // a duplicate: reported, not applied
      if (resolution_flag_count(t.flags) > 1) {
        add(DifferenceKind::kBadResolution, EntityKind::kTransfer, t.id.value, "flags", false, 0,
            t.flags, tid(t.id.value) + " is marked as more than one of pending, post and void.");
        continue;
      }
      WideBalances* debit = balances(t.debit);
      WideBalances* credit = balances(t.credit);
      if (!debit || !credit) {
        add(DifferenceKind::kUnknownAccount, EntityKind::kTransfer, t.id.value,
            debit ? "credit" : "debit", false, 0,
            static_cast<int64_t>(debit ? t.credit.value : t.debit.value),
            tid(t.id.value) + " names account " +
                std::to_string(debit ? t.credit.value : t.debit.value) + ", which has no row.");
        continue;
      }
      if (t.flags & (kPostPending | kVoidPending)) {
        replay_resolution(t, i);
      } else if (t.amount <= 0) {
        add(DifferenceKind::kBadAmount, EntityKind::kTransfer, t.id.value, "amount", true, 1,
            t.amount,
            tid(t.id.value) + " moves " + format_amount(t.amount) + ", not a positive amount.");
      } else if (t.flags & kPending) {
        debit->debits_pending += t.amount;
        credit->credits_pending += t.amount;
      } else {
        debit->debits_posted += t.amount;
        credit->credits_posted += t.amount;
      }
    }
    // Holds still pending are released if their stored state says they expired.
    for (size_t i = 0; i < rows_.transfers.size(); ++i) {
      const Transfer& t = rows_.transfers[i];
      if (!(t.flags & kPending) || resolved_by_[i] != kNone ||
          resolution_flag_count(t.flags) != 1 || t.amount <= 0 || t.timeout_ms <= 0)
        continue;
      auto it = stored_state_.find(t.id.value);
      if (it == stored_state_.end() || it->second->state != PendingState::kExpired) continue;
      WideBalances* debit = balances(t.debit);
      WideBalances* credit = balances(t.credit);
      if (!debit || !credit || transfer_pos_.at(t.id.value) != i) continue;
      debit->debits_pending -= t.amount;
      credit->credits_pending -= t.amount;
    }
  }

  void replay_resolution(const Transfer& t, size_t i) {
    auto it = transfer_pos_.find(t.pending_id.value);
    if (it == transfer_pos_.end() || it->second >= i ||
        !(rows_.transfers[it->second].flags & kPending)) {
      add(DifferenceKind::kBadResolution, EntityKind::kTransfer, t.id.value, "pending_id", false, 0,
          static_cast<int64_t>(t.pending_id.value),
          tid(t.id.value) + " resolves " + tid(t.pending_id.value) +
              ", which is not an earlier hold.");
      return;
    }
    const size_t h = it->second;
    const Transfer& hold = rows_.transfers[h];
    if (resolved_by_[h] != kNone) {
      add(DifferenceKind::kHoldResolvedTwice, EntityKind::kTransfer, hold.id.value, "resolutions",
          false, 1, 2,
          tid(hold.id.value) + " is resolved again by " + tid(t.id.value) +
              "; a hold is resolved at most once.");
      return;
    }
    resolved_by_[h] = i;
    if (hold.debit != t.debit || hold.credit != t.credit)
      add(DifferenceKind::kBadResolution, EntityKind::kTransfer, t.id.value, "accounts", false,
          static_cast<int64_t>(hold.debit.value), static_cast<int64_t>(t.debit.value),
          tid(t.id.value) + " resolves " + tid(hold.id.value) +
              " on other accounts than the hold's.");
    const bool post = t.flags & kPostPending;
    if (post ? (t.amount < 0 || t.amount > hold.amount)
             : (t.amount != 0 && t.amount != hold.amount))
      add(DifferenceKind::kPostExceedsHold, EntityKind::kTransfer, t.id.value, "amount", true,
          hold.amount, t.amount,
          tid(t.id.value) + (post ? " posts " : " voids ") + format_amount(t.amount) +
              " of a hold of " + format_amount(hold.amount) + ".");
    // The hold's accounts, as the ledger applies it.
    WideBalances* debit = balances(hold.debit);
    WideBalances* credit = balances(hold.credit);
    if (!debit || !credit || hold.amount <= 0) return;  // the hold itself was reported
    debit->debits_pending -= hold.amount;
    credit->credits_pending -= hold.amount;
    if (post) {
      debit->debits_posted += t.amount;
      credit->credits_posted += t.amount;
    }
  }

  void check_accounts() {
    Wide stored_dp = 0, stored_dq = 0, stored_cp = 0, stored_cq = 0;  // posted (p) and pending (q)
    for (size_t i = 0; i < rows_.accounts.size(); ++i) {
      const Account& a = rows_.accounts[i];
      const WideBalances& b = balances_[i];
      const struct {
        const char* field;
        Wide expected;
        Minor found;
      } columns[] = {
          {"debits_pending", b.debits_pending, a.debits_pending},
          {"debits_posted", b.debits_posted, a.debits_posted},
          {"credits_pending", b.credits_pending, a.credits_pending},
          {"credits_posted", b.credits_posted, a.credits_posted},
      };
      for (const auto& c : columns)
        if (c.expected != c.found)
          add_money(DifferenceKind::kAccountBalance, EntityKind::kAccount, a.id.value, c.field,
                    clamp64(c.expected), c.found,
                    "account " + std::to_string(a.id.value) + " (" + a.name + ") " + c.field);
      if (is_protected_kind(a.kind) && !a.no_overdraft)
        add(DifferenceKind::kUnprotectedAccount, EntityKind::kAccount, a.id.value, "no_overdraft",
            false, 1, 0,
            "account " + std::to_string(a.id.value) + " (" + account_kind_name(a.kind) +
                ") may be overdrawn; fund, award and wallet accounts never may.");
      // Only a wallet may have a credit limit; funds and awards never go below zero.
      const bool limit_allowed = a.kind == AccountKind::kWallet && a.no_overdraft;
      if (a.credit_limit_minor < 0 || a.credit_limit_minor > kMaxCreditLimitMinor ||
          (!limit_allowed && a.credit_limit_minor != 0))
        add_money(DifferenceKind::kUnprotectedAccount, EntityKind::kAccount, a.id.value,
                  "credit_limit", 0, a.credit_limit_minor,
                  "account " + std::to_string(a.id.value) + " (" + account_kind_name(a.kind) +
                      ") has a credit limit only a wallet may have, within 0.." +
                      format_amount(kMaxCreditLimitMinor));
      const Wide floor_credit = limit_allowed ? Wide{a.credit_limit_minor} : Wide{0};
      if (a.no_overdraft && b.debits_posted + b.debits_pending > b.credits_posted + floor_credit)
        add_money(DifferenceKind::kOverdraft, EntityKind::kAccount, a.id.value, "debits",
                  clamp64(b.credits_posted + floor_credit),
                  clamp64(b.debits_posted + b.debits_pending),
                  "account " + std::to_string(a.id.value) + " (" + a.name +
                      ") owes more than it holds, counting holds: debits at most its credits and "
                      "its credit limit");
      stored_dp += a.debits_posted;
      stored_dq += a.debits_pending;
      stored_cp += a.credits_posted;
      stored_cq += a.credits_pending;
    }
    if (stored_dp != stored_cp)
      add_money(DifferenceKind::kUnbalancedTotals, EntityKind::kLedger, 0, "posted",
                clamp64(stored_dp), clamp64(stored_cp),
                "total credits posted should equal total debits posted");
    if (stored_dq != stored_cq)
      add_money(DifferenceKind::kUnbalancedTotals, EntityKind::kLedger, 0, "pending",
                clamp64(stored_dq), clamp64(stored_cq),
                "total credits pending should equal total debits pending");
  }

  // The stored state of each hold against the transfer that resolved it (or none).
  void check_pending_states() {
    for (size_t i = 0; i < rows_.transfers.size(); ++i) {
      const Transfer& t = rows_.transfers[i];
      if (transfer_pos_.at(t.id.value) != i) continue;
      auto it = stored_state_.find(t.id.value);
      const PendingUpdate* stored = it == stored_state_.end() ? nullptr : it->second;
      if (!(t.flags & kPending)) {
        if (stored && stored->state != PendingState::kNone)
          add_state(t, PendingState::kNone, stored->state, "is not a hold but has a hold's state");
        continue;
      }
      PendingState expected = PendingState::kPending;
      Minor posted = 0;
      if (resolved_by_[i] != kNone) {
        const Transfer& r = rows_.transfers[resolved_by_[i]];
        expected = (r.flags & kPostPending) ? PendingState::kPosted : PendingState::kVoided;
        posted = expected == PendingState::kPosted ? r.amount : 0;
      } else if (stored && stored->state == PendingState::kExpired && t.timeout_ms > 0) {
        expected = PendingState::kExpired;
      }
      const PendingState found = stored ? stored->state : PendingState::kNone;
      if (found != expected) {
        add_state(t, expected, found, "has a stored state that its transfers do not give");
      } else if (stored->posted_minor != posted) {
        add_money(DifferenceKind::kPendingState, EntityKind::kTransfer, t.id.value, "posted",
                  posted, stored->posted_minor, "hold " + tid(t.id.value) + " posted amount");
      }
    }
    for (const PendingUpdate& u : rows_.pending)
      if (!transfer_pos_.count(u.id.value))
        add(DifferenceKind::kPendingState, EntityKind::kTransfer, u.id.value, "state", false, 0,
            static_cast<int64_t>(u.state),
            "a hold state is stored for " + tid(u.id.value) + ", which does not exist.");
  }
  void add_state(const Transfer& t, PendingState expected, PendingState found, const char* what) {
    add(DifferenceKind::kPendingState, EntityKind::kTransfer, t.id.value, "state", false,
        static_cast<int64_t>(expected), static_cast<int64_t>(found),
        tid(t.id.value) + " " + what + ": expected " + pending_state_name(expected) + ", found " +
            pending_state_name(found) + ".");
  }

  // ---- jobs ----

  // The job's transfer of `phase` in run `restarts`, if any; marks it as belonging to a run.
  const Transfer* job_transfer(const Job& job, int restarts, int phase) {
    const TransferId id = Engine::job_transfer_id(job.id, restarts, phase);
    const Transfer* t = transfer(id);
    if (!t) return nullptr;
    claimed_.insert(id.value);
    const bool hold = phase == Engine::kPhaseSubsidyHold || phase == Engine::kPhaseCopayHold;
    const bool subsidy = phase == Engine::kPhaseSubsidyHold || phase == Engine::kPhaseSubsidyPost;
    const uint32_t code = subsidy ? kCodeJobSubsidy : kCodeJobCopay;
    const TransferId pending =
        hold ? TransferId() : Engine::job_transfer_id(job.id, restarts, phase - 2);
    const uint32_t kind_flags = t->flags & (kPending | kPostPending | kVoidPending);
    if (t->code != code || t->ref != job.id.value ||
        kind_flags != (hold ? kPending : kPostPending) || t->pending_id != pending) {
      add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, t->id.value, "shape", false, 0, 0,
          tid(t->id.value) + " has the id of " + jid(job.id.value) + "'s " +
              (subsidy ? "subsidy " : "co-payment ") + (hold ? "hold" : "post") +
              " but not its code, reference, flags or hold.");
      return nullptr;
    }
    return t;
  }

  // The rate of a subsidy hold: its award's own; checks the award is the job's project's
  // and the hold lies within the award's dates.
  int64_t subsidy_rate(const Job& job, const Transfer& hold) {
    auto a = award_by_account_.find(hold.debit.value);
    if (a == award_by_account_.end() || a->second->project != job.project ||
        hold.credit != kRevenueAccount) {
      add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, hold.id.value, "debit", false, 0,
          static_cast<int64_t>(hold.debit.value),
          tid(hold.id.value) + " holds " + jid(job.id.value) + "'s subsidy from account " +
              std::to_string(hold.debit.value) +
              ", not an award of its project paying the centre's revenue.");
      return 0;
    }
    const Award& award = *a->second;
    // An award closed early ends at the moment it was closed, which may be the moment a job on
    // it started (Engine::verify allows the same): a hold placed up to then was placed in time.
    const bool before_closing = award.closed_ms != 0 && award.start_ms <= hold.timestamp_ms &&
                                hold.timestamp_ms <= award.closed_ms;
    if (!award.active_at(hold.timestamp_ms) && !before_closing)
      add(DifferenceKind::kHoldOutsideAward, EntityKind::kTransfer, hold.id.value, "timestamp_ms",
          false, award.start_ms, hold.timestamp_ms,
          tid(hold.id.value) + " holds subsidy of award " + std::to_string(award.id.value) +
              " outside its validity dates.");
    return award.rate_bps;  // the scheme's, or the exceptional rate granted on approval
  }

  void check_copay_hold(const Job& job, const Transfer& hold) {
    auto p = project_by_id_.find(job.project.value);
    const AccountId wallet = p == project_by_id_.end() ? AccountId() : p->second->wallet;
    if (hold.debit != wallet || hold.credit != kRevenueAccount)
      add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, hold.id.value, "debit", false,
          static_cast<int64_t>(wallet.value), static_cast<int64_t>(hold.debit.value),
          tid(hold.id.value) + " holds " + jid(job.id.value) +
              "'s co-payment from another account than its project's wallet, or pays another than "
              "the revenue.");
  }

  void check_job(const Job& job) {
    const std::string name = jid(job.id.value);
    if (job.subsidy_minor + job.copay_minor != job.cost_minor)
      add_money(DifferenceKind::kJobSplit, EntityKind::kJob, job.id.value, "subsidy+copay",
                job.cost_minor, job.subsidy_minor + job.copay_minor,
                name + ": subsidy + co-payment should equal its cost");
    if (job.id.value >= Engine::kMaxJobIdForTransfers || job.restarts < 0 ||
        job.restarts >= Engine::kMaxRestarts) {
      add(DifferenceKind::kJobTransfer, EntityKind::kJob, job.id.value, "restarts", false, 0,
          job.restarts,
          name +
              " has an id or restart count that no transfer id can carry; its money was not "
              "recomputed.");
      return;
    }
    Wide cost = 0, subsidy = 0, copay = 0;
    for (int k = 0; k <= job.restarts; ++k) {
      Run run;
      run.subsidy_hold = job_transfer(job, k, Engine::kPhaseSubsidyHold);
      run.copay_hold = job_transfer(job, k, Engine::kPhaseCopayHold);
      run.subsidy_post = job_transfer(job, k, Engine::kPhaseSubsidyPost);
      run.copay_post = job_transfer(job, k, Engine::kPhaseCopayPost);
      if (run.subsidy_hold) run.rate_bps = subsidy_rate(job, *run.subsidy_hold);
      if (run.copay_hold) check_copay_hold(job, *run.copay_hold);
      const bool finished = k == job.restarts ? current_run(job, &run) : earlier_run(job, k, &run);
      if (!finished) continue;
      Minor c = 0, s = 0, co = 0;
      settle_run(job, run, &c, &s, &co);
      cost += c;
      subsidy += s;
      copay += co;
    }
    const struct {
      DifferenceKind kind;
      const char* field;
      Wide expected;
      Minor found;
      const char* what;
    } totals[] = {
        {DifferenceKind::kJobCost, "cost", cost, job.cost_minor, "cost"},
        {DifferenceKind::kJobSubsidy, "subsidy", subsidy, job.subsidy_minor, "subsidy"},
        {DifferenceKind::kJobCopay, "copay", copay, job.copay_minor, "co-payment"},
    };
    for (const auto& t : totals)
      if (t.expected != t.found)
        add_money(t.kind, EntityKind::kJob, job.id.value, t.field, clamp64(t.expected), t.found,
                  name + " " + t.what + " against its runs' charges");
    check_refunds(job);
  }

  // A job's refunds: single-phase transfers from the centre's revenue (kCodeRefund, ref = the
  // job) summing to its refunded amount, at most its cost; of them, the wallet's share is the
  // rest of floor(refunded * subsidy / cost), which went to awards or funds, never to a wallet.
  void check_refunds(const Job& job) {
    const std::string name = jid(job.id.value);
    auto it = refunds_by_job_.find(job.id.value);
    Wide total = 0, to_wallet = 0;
    auto p = project_by_id_.find(job.project.value);
    const AccountId wallet = p == project_by_id_.end() ? AccountId() : p->second->wallet;
    if (it != refunds_by_job_.end()) {
      for (const Transfer* t : it->second) {
        total += t->amount;
        const bool to_funder =
            award_by_account_.count(t->credit.value) || fund_accounts_.count(t->credit.value);
        if (t->credit == wallet) {
          to_wallet += t->amount;
        } else if (!to_funder) {
          add(DifferenceKind::kJobRefund, EntityKind::kTransfer, t->id.value, "credit", false,
              static_cast<int64_t>(wallet.value), static_cast<int64_t>(t->credit.value),
              tid(t->id.value) + " refunds " + name + " to account " +
                  std::to_string(t->credit.value) +
                  ", neither its project's wallet nor an award or fund.");
        }
        if (t->debit != kRevenueAccount || (t->flags & ~uint32_t{kLinked}) != 0)
          add(DifferenceKind::kJobRefund, EntityKind::kTransfer, t->id.value, "debit", false,
              static_cast<int64_t>(kRevenueAccount.value), static_cast<int64_t>(t->debit.value),
              tid(t->id.value) + " refunds " + name +
                  " but is not a single-phase transfer from the centre's revenue.");
      }
    }
    if (total != job.refunded_minor)
      add_money(DifferenceKind::kJobRefund, EntityKind::kJob, job.id.value, "refunded",
                clamp64(total), job.refunded_minor,
                name + " refunded against its refund transfers");
    if (job.refunded_minor < 0 || job.refunded_minor > job.cost_minor)
      add_money(DifferenceKind::kJobRefund, EntityKind::kJob, job.id.value, "refunded",
                job.cost_minor, job.refunded_minor,
                name + " refunded more than it was charged (or a negative amount)");
    if (job.cost_minor <= 0 || total != job.refunded_minor || total > job.cost_minor || total < 0)
      return;
    const Wide subsidy = mul_div_floor(job.refunded_minor, job.subsidy_minor, job.cost_minor);
    if (subsidy >= 0 && to_wallet != total - subsidy)
      add_money(DifferenceKind::kJobRefund, EntityKind::kJob, job.id.value, "refunded_to_wallet",
                clamp64(total - subsidy), clamp64(to_wallet),
                name + " refunds paid to its wallet (the co-payment's share of what was refunded)");
  }

  // An award's row says what it was granted (its grant and supplements: kCodeAwardGrant into its
  // account) and what it returned to the fund at its end (kCodeAwardReturn out of it). Its spent
  // and returned figures (core::award_money) are read from these amounts and its balances.
  void check_awards() {
    std::unordered_map<uint64_t, Wide> granted, returned;  // award account -> sums
    for (const Transfer& t : rows_.transfers) {
      if (t.flags & (kPending | kPostPending | kVoidPending)) continue;
      if (t.code == kCodeAwardGrant && award_by_account_.count(t.credit.value))
        granted[t.credit.value] += t.amount;
      if (t.code == kCodeAwardReturn && award_by_account_.count(t.debit.value))
        returned[t.debit.value] += t.amount;
    }
    for (const Award& a : rows_.awards) {
      const std::string name = "award " + std::to_string(a.id.value);
      if (granted[a.account.value] != a.amount_minor)
        add_money(DifferenceKind::kAwardTotals, EntityKind::kAward, a.id.value, "amount",
                  clamp64(granted[a.account.value]), a.amount_minor,
                  name + "'s amount granted against its grant and supplement transfers");
      if (returned[a.account.value] != a.returned_minor)
        add_money(DifferenceKind::kAwardTotals, EntityKind::kAward, a.id.value, "returned",
                  clamp64(returned[a.account.value]), a.returned_minor,
                  name + "'s amount returned against its return transfers");
    }
  }

  void check_unclaimed_refunds() {
    for (const auto& [ref, transfers] : refunds_by_job_)
      if (!job_ids_.count(ref))
        for (const Transfer* t : transfers)
          add_money(DifferenceKind::kJobRefund, EntityKind::kTransfer, t->id.value, "ref", 0,
                    t->amount,
                    tid(t->id.value) + " is a refund of job " + std::to_string(ref) +
                        ", which has no row");
  }

  // The run the job row describes. Returns whether it finished (and is to be charged).
  bool current_run(const Job& job, Run* run) {
    const std::string name = jid(job.id.value);
    const bool started =
        job.state == JobState::kRunning || (is_final(job.state) && job.start_ms > 0);
    if (!started) {
      for (const Transfer* t :
           {run->subsidy_hold, run->copay_hold, run->subsidy_post, run->copay_post})
        if (t) unexpected(job, *t, "the job has not started since it was last requeued");
      if (job.max_cost_minor != 0 || job.subsidy_held_minor != 0 || job.copay_held_minor != 0)
        add_money(DifferenceKind::kJobHold, EntityKind::kJob, job.id.value, "max_cost", 0,
                  job.max_cost_minor, name + " is not running but its row holds money");
      return false;
    }
    if (run->subsidy_hold && run->rate_bps != job.rate_bps)
      add(DifferenceKind::kJobHold, EntityKind::kJob, job.id.value, "rate_bps", false,
          run->rate_bps, job.rate_bps, name + "'s subsidy rate is not its award's rate.");
    run->max_cost_minor = job.max_cost_minor;
    run->rate_bps = job.rate_bps;
    run->start_ms = job.start_ms;
    run->end_ms = job.end_ms;
    const Minor max_cost =
        gpu_cost_minor(job.price_per_gpu_hour_minor, job.gpus, job.held_s() * 1000);
    if (max_cost != job.max_cost_minor)
      add_money(DifferenceKind::kJobHold, EntityKind::kJob, job.id.value, "max_cost", max_cost,
                job.max_cost_minor,
                name + " maximum cost (price x GPUs x time limit or hold time)");
    if (job.subsidy_held_minor + job.copay_held_minor != job.max_cost_minor)
      add_money(DifferenceKind::kJobHold, EntityKind::kJob, job.id.value, "held",
                job.max_cost_minor, job.subsidy_held_minor + job.copay_held_minor,
                name + " holds should add up to its maximum cost");
    if (job.subsidy_held_minor > 0 &&
        job.subsidy_held_minor != subsidy_share_minor(job.max_cost_minor, job.rate_bps))
      add_money(DifferenceKind::kJobHold, EntityKind::kJob, job.id.value, "subsidy_held",
                subsidy_share_minor(job.max_cost_minor, job.rate_bps), job.subsidy_held_minor,
                name + " subsidy hold (rate x maximum cost)");
    if (run->subsidy_hold && job.award.valid()) {
      auto a = award_by_id_.find(job.award.value);
      if (a == award_by_id_.end() || a->second->account != run->subsidy_hold->debit)
        add(DifferenceKind::kJobTransfer, EntityKind::kJob, job.id.value, "award", false,
            static_cast<int64_t>(job.award.value), 0,
            name + "'s subsidy hold is not on the award its row names.");
    }
    expect_hold(job, run->subsidy_hold, job.subsidy_held_minor, "subsidy");
    expect_hold(job, run->copay_hold, job.copay_held_minor, "co-payment");
    if (job.state == JobState::kRunning) {
      for (const Transfer* t : {run->subsidy_post, run->copay_post})
        if (t) unexpected(job, *t, "the job is still running");
      return false;
    }
    expect_post(job, run->subsidy_hold, run->subsidy_post, "subsidy");
    expect_post(job, run->copay_hold, run->copay_post, "co-payment");
    return true;
  }

  // A run before the job's last requeue: everything about it is in its transfers, its price
  // only where the row's price reproduces its held maximum. Returns whether it is to be charged.
  bool earlier_run(const Job& job, int k, Run* run) {
    if (!run->subsidy_hold && !run->copay_hold) {
      for (const Transfer* t : {run->subsidy_post, run->copay_post})
        if (t) unexpected(job, *t, "its run held nothing");
      return false;  // it held nothing: a maximum cost of 0, charged nothing
    }
    run->max_cost_minor = (run->subsidy_hold ? run->subsidy_hold->amount : 0) +
                          (run->copay_hold ? run->copay_hold->amount : 0);
    run->start_ms = (run->subsidy_hold ? run->subsidy_hold : run->copay_hold)->timestamp_ms;
    expect_post(job, run->subsidy_hold, run->subsidy_post, "subsidy");
    expect_post(job, run->copay_hold, run->copay_post, "co-payment");
    const Transfer* post = run->subsidy_post ? run->subsidy_post : run->copay_post;
    run->end_ms = post ? post->timestamp_ms : run->start_ms;
    if (run->subsidy_hold &&
        run->subsidy_hold->amount != subsidy_share_minor(run->max_cost_minor, run->rate_bps))
      add_money(
          DifferenceKind::kJobHold, EntityKind::kTransfer, run->subsidy_hold->id.value, "amount",
          subsidy_share_minor(run->max_cost_minor, run->rate_bps), run->subsidy_hold->amount,
          jid(job.id.value) + " run " + std::to_string(k) + " subsidy hold (rate x maximum cost)");
    run->price_known = gpu_cost_minor(job.price_per_gpu_hour_minor, job.gpus,
                                      job.held_s() * 1000) == run->max_cost_minor;
    if (!run->price_known) ++report_->runs_not_recomputed;
    return true;
  }

  void expect_hold(const Job& job, const Transfer* hold, Minor held_minor, const char* what) {
    const Minor found = hold ? hold->amount : 0;
    if (found != held_minor)
      add_money(DifferenceKind::kJobHold, hold ? EntityKind::kTransfer : EntityKind::kJob,
                hold ? hold->id.value : job.id.value, "amount", held_minor, found,
                jid(job.id.value) + " " + what + " hold against its row");
  }
  void expect_post(const Job& job, const Transfer* hold, const Transfer* post, const char* what) {
    if (hold && !post)
      add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, hold->id.value, "post", false, 1, 0,
          jid(job.id.value) + "'s " + what + " hold " + tid(hold->id.value) +
              " was never settled though its run ended.");
    if (!hold && post) unexpected(job, *post, "it has no hold to settle");
  }
  void unexpected(const Job& job, const Transfer& t, const char* why) {
    add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, t.id.value, "id", false, 0,
        static_cast<int64_t>(t.id.value),
        tid(t.id.value) + " of " + jid(job.id.value) + " should not exist: " + why + ".");
  }

  // Recomputes a finished run's charge and split and compares them with its posts.
  void settle_run(const Job& job, const Run& run, Minor* cost, Minor* subsidy, Minor* copay) {
    const Minor posted = (run.subsidy_post ? run.subsidy_post->amount : 0) +
                         (run.copay_post ? run.copay_post->amount : 0);
    Minor c = posted;
    if (run.price_known) {
      c = gpu_cost_minor(job.price_per_gpu_hour_minor, job.gpus, run.end_ms - run.start_ms);
      if (c < 0) {
        add(DifferenceKind::kJobCost, EntityKind::kJob, job.id.value, "runtime_ms", false, 0,
            run.end_ms - run.start_ms,
            jid(job.id.value) +
                "'s run times and price give no cost (a negative runtime or an overflow).");
        c = posted;
      }
      c = std::min(c, run.max_cost_minor);
    }
    const Minor held_subsidy = run.subsidy_hold ? run.subsidy_hold->amount : 0;
    const Minor s = std::min(subsidy_share_minor(c, run.rate_bps), held_subsidy);
    const Minor co = c - s;
    if (run.subsidy_post && run.subsidy_post->amount != s)
      add_money(DifferenceKind::kJobPosting, EntityKind::kTransfer, run.subsidy_post->id.value,
                "amount", s, run.subsidy_post->amount,
                jid(job.id.value) + " subsidy posted for its run");
    if (run.copay_post && run.copay_post->amount != co)
      add_money(DifferenceKind::kJobPosting, EntityKind::kTransfer, run.copay_post->id.value,
                "amount", co, run.copay_post->amount,
                jid(job.id.value) + " co-payment posted for its run");
    if (!run.copay_hold && co != 0)
      add_money(DifferenceKind::kJobPosting, EntityKind::kJob, job.id.value, "copay", co, 0,
                jid(job.id.value) + " co-payment of a run that held none from the wallet");
    *cost = c;
    *subsidy = s;
    *copay = co;
  }

  void check_unclaimed_job_transfers() {
    for (const Transfer& t : rows_.transfers)
      if ((t.code == kCodeJobSubsidy || t.code == kCodeJobCopay) && !claimed_.count(t.id.value))
        add(DifferenceKind::kJobTransfer, EntityKind::kTransfer, t.id.value, "ref", false, 0,
            static_cast<int64_t>(t.ref),
            tid(t.id.value) + " is a job's money but belongs to no run of any job.");
  }

  // ---- top-ups ----

  void check_topups() {
    std::unordered_set<uint64_t> recorded;
    for (const TopUp& u : rows_.topups) {
      recorded.insert(u.transfer.value);
      const std::string name = "top-up " + tid(u.transfer.value);
      const Transfer* t = transfer(u.transfer);
      if (!t) {
        add(DifferenceKind::kTopUpTransfer, EntityKind::kTopUp, u.transfer.value, "transfer", false,
            1, 0, name + " of " + format_amount(u.amount_minor) + " has no transfer.");
        continue;
      }
      auto p = project_by_id_.find(u.project.value);
      const AccountId wallet = p == project_by_id_.end() ? AccountId() : p->second->wallet;
      if (t->amount != u.amount_minor)
        add_money(DifferenceKind::kTopUpTransfer, EntityKind::kTopUp, u.transfer.value, "amount",
                  u.amount_minor, t->amount, name + " amount in the ledger against its row");
      if (t->credit != wallet || t->debit != kExternalAccount || t->code != kCodeTopUp ||
          t->flags != 0)
        add(DifferenceKind::kTopUpTransfer, EntityKind::kTopUp, u.transfer.value, "wallet", false,
            static_cast<int64_t>(wallet.value), static_cast<int64_t>(t->credit.value),
            name + " does not pay the external account's money into project " +
                std::to_string(u.project.value) + "'s wallet.");
    }
    for (const Transfer& t : rows_.transfers)
      if (t.code == kCodeTopUp && !recorded.count(t.id.value))
        add_money(DifferenceKind::kTopUpUnrecorded, EntityKind::kTransfer, t.id.value, "amount", 0,
                  t.amount, tid(t.id.value) + " is a top-up without its top-up row");
  }

  static constexpr size_t kNone = std::numeric_limits<size_t>::max();

  const ChangeSet& rows_;
  const ReconcileOptions& options_;
  ReconcileReport* report_;
  std::unordered_map<uint64_t, size_t> account_pos_;   // account id -> position in rows_.accounts
  std::unordered_map<uint64_t, size_t> transfer_pos_;  // transfer id -> position of its first row
  std::unordered_map<uint64_t, const PendingUpdate*> stored_state_;  // hold id -> its stored state
  std::unordered_map<uint64_t, const Award*> award_by_account_, award_by_id_;
  std::unordered_map<uint64_t, const Project*> project_by_id_;
  std::unordered_set<uint64_t> fund_accounts_;  // scheme fund account ids
  std::unordered_set<uint64_t> job_ids_;
  std::unordered_map<uint64_t, std::vector<const Transfer*>>
      refunds_by_job_;                  // job id -> its refunds
  std::vector<WideBalances> balances_;  // recomputed, parallel to rows_.accounts
  std::vector<size_t> resolved_by_;  // per transfer: the position of the one resolving it, or kNone
  std::unordered_set<uint64_t> claimed_;  // job transfers found in some run of a job
};

}  // namespace

ReconcileReport reconcile(const ChangeSet& rows, const ReconcileOptions& options) {
  ReconcileReport report;
  Reconciler(rows, options, &report).run();
  return report;
}

}  // namespace berth::core
