// The Engine's wallet commands: credit limits, refunds of a job's charge and adjustments.
// The rules are in engine.h and docs/wallets.md.
#include <algorithm>
#include <cctype>
#include <functional>
#include <string_view>
#include <vector>

#include "common/limits.h"
#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

namespace {

Status check_reason(const std::string& reason, const char* what) {
  if (reason.empty()) return Status::Invalid(std::string(what) + " needs a reason");
  if (reason.size() > kMaxReasonBytes)
    return Status::Invalid("reason is longer than " + std::to_string(kMaxReasonBytes) +
                           " characters");
  return Status::Ok();
}
}  // namespace

Status Engine::set_credit_limit(ProjectId project, Minor credit_limit_minor,
                                const std::string& note, int64_t now_ms) {
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  if (credit_limit_minor < 0 || credit_limit_minor > kMaxCreditLimitMinor)
    return Status::Invalid("a credit limit is 0 to " + format_amount(kMaxCreditLimitMinor) +
                           ", not " + format_amount(credit_limit_minor));
  if (note.size() > kMaxReasonBytes)
    return Status::Invalid("note is longer than " + std::to_string(kMaxReasonBytes) +
                           " characters");
  const Minor before = ledger_.account(p->wallet)->credit_limit_minor;
  if (Status s = ledger_.set_credit_limit(p->wallet, credit_limit_minor); !s.ok()) {
    if (s.code() != Code::kConflict) return s;
    return Status::Conflict("project " + p->name + "'s wallet already uses " +
                            format_amount(-ledger_.account(p->wallet)->available()) +
                            " of credit (holds count); its credit limit cannot go below that");
  }
  const std::string what =
      "from " + format_amount(before) + " to " + format_amount(credit_limit_minor);
  record_audit("wallet.credit_limit", "project " + std::to_string(project.value),
               credit_limit_minor, TransferId(), note.empty() ? what : what + ": " + note, now_ms);
  return Status::Ok();
}

Minor Engine::refundable_minor(const Job& job) const {
  return is_final(job.state) ? job.cost_minor - job.refunded_minor : 0;
}

Status Engine::split_refunded_subsidy(const Job& job, Minor from_minor, Minor until_minor,
                                      const std::function<void(const Award&, Minor)>& each) const {
  Minor paid_before = 0;  // subsidy paid by the runs before run k
  for (int k = 0; k <= job.restarts && paid_before < until_minor; ++k) {
    const TransferId hold_id = job_transfer_id(job.id, k, kPhaseSubsidyHold);
    const Transfer* hold = ledger_.transfer(hold_id);
    if (!hold) continue;
    const Minor paid = ledger_.posted_amount(hold_id);
    const Minor lo = std::max(paid_before, from_minor),
                hi = std::min(paid_before + paid, until_minor);
    paid_before += paid;
    if (hi <= lo) continue;
    const Account* award_account = ledger_.account(hold->debit);
    const Award* award = award_account ? funding_.award(AwardId(award_account->owner)) : nullptr;
    if (!award || award->account != award_account->id)
      return Status::Internal("job " + std::to_string(job.id.value) + "'s subsidy hold " +
                              std::to_string(hold_id.value) + " is not on an award's account");
    each(*award, hi - lo);
  }
  if (paid_before < until_minor)
    return Status::Internal("job " + std::to_string(job.id.value) + "'s refunded subsidy " +
                            format_amount(until_minor) + " is more than its runs' awards paid (" +
                            format_amount(paid_before) + ")");
  return Status::Ok();
}

Minor Engine::subsidy_refunded(AwardId award) const {
  auto it = subsidy_refunded_.find(award.value);
  return it == subsidy_refunded_.end() ? 0 : it->second;
}

Result<Minor> Engine::refund_job(JobId id, Minor amount_minor, const std::string& reason,
                                 int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto found, jobs_.get(id));
  Job& job = *found;
  const std::string name = "job " + std::to_string(id.value);
  BERTH_RETURN_IF_ERROR(check_reason(reason, "a refund"));
  if (amount_minor <= 0)
    return Status::Invalid("a refund's amount must be positive, not " +
                           format_amount(amount_minor));
  if (!is_final(job.state))
    return Status::Conflict(name + " is " + job_state_name(job.state) +
                            ": only a job that has ended can be refunded");
  if (job.cost_minor == 0)
    return Status::Conflict(name + " was charged nothing: there is nothing to refund");
  const Minor refundable = refundable_minor(job);
  if (amount_minor > refundable)
    return Status::Conflict(name + " was charged " + format_amount(job.cost_minor) +
                            " and refunded " + format_amount(job.refunded_minor) +
                            " before: at most " + format_amount(refundable) +
                            " can be refunded, not " + format_amount(amount_minor));

  // The subsidy part, cumulative over the job's refunds so that rounding never gives the
  // funder more than it paid nor the wallet more than its co-payment.
  const Minor after = job.refunded_minor + amount_minor;
  const Minor subsidy_before = mul_div_floor(job.refunded_minor, job.subsidy_minor, job.cost_minor);
  const Minor subsidy_after = mul_div_floor(after, job.subsidy_minor, job.cost_minor);
  BERTH_CHECK(
      subsidy_before >= 0 && subsidy_after >= subsidy_before && subsidy_after <= job.subsidy_minor,
      "refund's subsidy part");
  const Minor copay_part = amount_minor - (subsidy_after - subsidy_before);

  // Each run's subsidy came from the award it was held on. Refunded subsidy is taken from the
  // runs in order: the refunds' cumulative subsidy [subsidy_before, subsidy_after) is split
  // over the runs' cumulative payments, so no award gets back more than it paid.
  std::vector<std::pair<AccountId, Minor>> to;  // credited account -> amount, in order
  auto credit = [&to](AccountId account, Minor amount) {
    if (amount <= 0) return;
    for (auto& [a, m] : to)
      if (a == account) {
        m += amount;
        return;
      }
    to.emplace_back(account, amount);
  };
  const Project& project = *funding_.project(job.project);
  credit(project.wallet, copay_part);
  std::vector<std::pair<AwardId, Minor>>
      by_award;  // this refund's subsidy by the award that paid it
  const Status covered = split_refunded_subsidy(
      job, subsidy_before, subsidy_after, [&](const Award& award, Minor part) {
        // An award that has ended has returned (or will return) its remainder to the fund; money
        // refunded after its end goes to the fund directly, so the return stays exactly once.
        credit(award.end_ms > now_ms ? award.account : funding_.scheme(award.scheme)->fund, part);
        by_award.emplace_back(award.id, part);
      });
  BERTH_CHECK(covered.ok(), "the job's subsidy posts cover its subsidy");

  std::vector<Transfer> batch;
  for (size_t i = 0; i < to.size(); ++i) {
    Transfer t =
        new_transfer(kRevenueAccount, to[i].first, to[i].second, kCodeRefund, job.id.value);
    t.flags = i + 1 < to.size() ? uint32_t{kLinked} : 0u;
    batch.push_back(t);
  }
  const auto results = ledger_.create_transfers(batch, now_ms);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i] == TransferResult::kOk) continue;
    next_transfer_seq_ -= batch.size();  // nothing was applied: the ids were not used
    if (results[i] == TransferResult::kExceedsCredits)
      return Status::Funds("the centre's revenue has " +
                           format_amount(ledger_.account(kRevenueAccount)->available()) +
                           " available, the refund needs " + format_amount(amount_minor));
    if (results[i] != TransferResult::kLinkedEventFailed)
      return Status::Internal(std::string("refund transfer refused: ") +
                              transfer_result_name(results[i]));
  }
  job.refunded_minor = after;
  touch(job);
  for (const auto& [award, part] : by_award) subsidy_refunded_[award.value] += part;
  std::string split = format_amount(copay_part) + " to the wallet";
  for (size_t i = 0; i < to.size(); ++i)
    if (to[i].first != project.wallet)
      split += ", " + format_amount(to[i].second) + " to account " +
               std::to_string(to[i].first.value) + " (" + ledger_.account(to[i].first)->name + ")";
  record_audit("wallet.refund", name, amount_minor, batch.front().id, refund_note(reason, split),
               now_ms);
  return amount_minor;
}

namespace {
constexpr std::string_view kToTheWallet = " to the wallet";
}  // namespace

std::string Engine::refund_note(const std::string& reason, const std::string& split) {
  return reason + " (" + split + ")";
}

// The split starts with "<amount> to the wallet"; the last such phrase is the split's, since
// the split follows the reason.
std::string Engine::refund_reason(const std::string& note) {
  const size_t phrase = note.rfind(kToTheWallet);
  if (phrase == std::string::npos) return note;
  size_t start = phrase;
  while (start > 0 &&
         (std::isdigit(static_cast<unsigned char>(note[start - 1])) || note[start - 1] == '.'))
    --start;
  if (start == phrase || start < 2 || note.compare(start - 2, 2, " (") != 0) return note;
  return note.substr(0, start - 2);
}

Result<TransferId> Engine::adjust_wallet(ProjectId project, Minor signed_amount_minor,
                                         const std::string& reason, int64_t now_ms) {
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  BERTH_RETURN_IF_ERROR(check_reason(reason, "an adjustment"));
  if (signed_amount_minor == 0) return Status::Invalid("an adjustment's amount must not be zero");
  if (signed_amount_minor == INT64_MIN)
    return Status::Invalid("an adjustment's amount is out of range");
  const bool to_wallet = signed_amount_minor > 0;
  if (to_wallet) BERTH_RETURN_IF_ERROR(check_inflow(signed_amount_minor));
  const Transfer t = new_transfer(
      to_wallet ? kRevenueAccount : p->wallet, to_wallet ? p->wallet : kRevenueAccount,
      to_wallet ? signed_amount_minor : -signed_amount_minor, kCodeAdjustment, project.value);
  if (Status s = apply_transfer(t, now_ms); !s.ok()) {
    --next_transfer_seq_;  // not applied: the id was not used
    return s;
  }
  record_audit(
      "wallet.adjust", "project " + std::to_string(project.value), signed_amount_minor, t.id,
      std::string(to_wallet ? "credit to the wallet: " : "debit from the wallet: ") + reason,
      now_ms);
  return t.id;
}

const AuditRecord* Engine::money_reference(const std::string& reference) const {
  auto it = money_refs_.find(reference);
  return it == money_refs_.end() ? nullptr : &audit_[it->second];
}

// The earlier record when `reference` replays the same action on the same subject for the same
// amount (amount 0: any), nullptr when the reference is new; a Conflict when it was used for
// something else.
Result<const AuditRecord*> Engine::check_money_reference(const std::string& reference,
                                                         const std::string& action,
                                                         const std::string& subject,
                                                         Minor amount_minor) const {
  if (reference.size() > kMaxReferenceBytes)
    return Status::Invalid("reference is longer than " + std::to_string(kMaxReferenceBytes) +
                           " characters");
  const AuditRecord* r = money_reference(reference);
  if (!r) return static_cast<const AuditRecord*>(nullptr);
  if (r->action == action && r->subject == subject &&
      (amount_minor == 0 || r->amount_minor == amount_minor))
    return r;
  return Status::Conflict("reference '" + reference + "' was already used for " + r->action +
                          " of " + format_amount(r->amount_minor) + " on " + r->subject);
}

void Engine::remember_money_reference(const std::string& reference) {
  audit_.back().reference = reference;
  money_refs_[reference] = audit_.size() - 1;
}

Result<Minor> Engine::refund_job(JobId id, Minor amount_minor, const std::string& reason,
                                 const std::string& reference, int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  if (!reference.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto earlier,
                           check_money_reference(reference, "wallet.refund",
                                                 "job " + std::to_string(id.value), amount_minor));
    if (earlier) {
      if (replayed) *replayed = true;
      return earlier->amount_minor;
    }
  }
  if (amount_minor == 0) {
    const Job* j = job(id);
    if (!j) return Status::NotFound("job " + std::to_string(id.value) + " not found");
    amount_minor = refundable_minor(*j);
    if (amount_minor == 0 && is_final(j->state))
      return Status::Conflict("job " + std::to_string(id.value) + " has nothing left to refund");
  }
  auto refunded = refund_job(id, amount_minor, reason, now_ms);
  if (refunded.ok() && !reference.empty()) remember_money_reference(reference);
  return refunded;
}

Result<TransferId> Engine::adjust_wallet(ProjectId project, Minor signed_amount_minor,
                                         const std::string& reason, const std::string& reference,
                                         int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  if (!reference.empty()) {
    if (signed_amount_minor == 0) return Status::Invalid("an adjustment's amount must not be zero");
    BERTH_ASSIGN_OR_RETURN(
        auto earlier,
        check_money_reference(reference, "wallet.adjust",
                              "project " + std::to_string(project.value), signed_amount_minor));
    if (earlier) {
      if (replayed) *replayed = true;
      return earlier->transfer;
    }
  }
  auto transfer = adjust_wallet(project, signed_amount_minor, reason, now_ms);
  if (transfer.ok() && !reference.empty()) remember_money_reference(reference);
  return transfer;
}

}  // namespace berth::core
