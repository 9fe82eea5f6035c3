// Reconciliation: recomputes the books from the rows as persisted and reports every difference.
//
// Contract
// - reconcile(rows) reads a ChangeSet holding the whole state (Engine::snapshot(), or
//   SqliteStore::load()) and changes nothing. It is pure: no I/O, no clock, no randomness.
// - It recomputes on its own, from the transfers, without calling the Ledger or the Engine's
//   settlement code:
//   * every account's four balance columns, from the transfers and the state of each hold
//     (pending: its amount is pending; posted: the amount posted; voided or expired: nothing),
//     compared with the account rows; total debits equal total credits, posted and pending;
//     fund, award and wallet accounts are protected and none is below zero counting holds;
//   * each transfer: known accounts, a positive amount (single-phase and holds), each hold
//     resolved at most once, by a later transfer on the same accounts, posting at most its
//     amount, and the stored state of every hold agreeing with the transfer that resolved it;
//   * each job, run by run (a requeued job is held afresh for each run, its ids derived from
//     Engine::job_transfer_id with its restart count): its holds are the split of its maximum
//     cost M = gpu_cost_minor(price, GPUs, time limit); a finished run costs
//     C = min(gpu_cost_minor(price, GPUs, end - start), M), its subsidy is
//     s = min(subsidy_share_minor(C, rate), subsidy held) and its co-payment C - s, and the
//     posts of its two holds are s and C - s; the job's cost, subsidy and co-payment are the
//     sums over its runs, and subsidy + co-payment = cost; a subsidy hold lies within its
//     award's validity dates; a running job's holds of this run are pending and match it;
//   * each job's refunds (kCodeRefund, ref = the job): single-phase transfers from the
//     centre's revenue summing to the job's refunded_minor, at most its cost; the ones to its
//     project's wallet sum to refunded - floor(refunded * subsidy / cost) and the others go
//     to an award or a scheme's fund; a refund naming no job is a difference. A wallet's
//     credit limit counts in its floor; no other account may have one;
//   * each top-up has its transfer, external account to the project's wallet, of the same
//     amount, and every top-up transfer has its top-up row.
// - Limit: a job row keeps the price and the times of its last run only. An earlier run's
//   times are the timestamps of its hold (its start) and of its posts (its end); its price is
//   taken to be the last run's when that price reproduces the earlier run's held maximum (the
//   same GPU model and tier), and otherwise that run's charge cannot be recomputed from the
//   rows: its split, its bounds and the job's totals are still checked, and the run is counted
//   in runs_not_recomputed. A run that held nothing (a maximum cost of 0) leaves no rows and
//   costs nothing.
// - The report lists at most max_listed differences (the first found) and counts all of
//   them. ok() when there is none. Work is O(rows), memory O(rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "core/change_set.h"

namespace berth::core {

enum class DifferenceKind : uint8_t {
  kAccountBalance = 0,  // an account row's balance column differs from its transfers
  kUnbalancedTotals,    // total debits differ from total credits (posted or pending)
  kOverdraft,           // a protected account below zero counting holds
  kUnprotectedAccount,  // a fund, award or wallet account that may be overdrawn
  kUnknownAccount,      // a transfer names an account that has no row
  kDuplicateTransfer,   // two transfers with one id
  kBadAmount,           // a single-phase or pending transfer whose amount is not positive
  kBadResolution,       // a post or void that resolves no earlier hold, or on other accounts
  kHoldResolvedTwice,   // a hold posted or voided more than once
  kPostExceedsHold,     // a post above its hold, or a void of another amount
  kPendingState,        // a hold's stored state or posted amount disagrees with its transfers
  kJobTransfer,         // a job's hold or post missing, unexpected, or of the wrong shape
  kJobHold,             // a hold's amount differs from the split of the job's maximum cost
  kJobPosting,          // a post differs from the charge recomputed for that run
  kJobCost,             // a job's cost differs from the sum of its runs' charges
  kJobSubsidy,          // likewise its subsidy
  kJobCopay,            // likewise its co-payment
  kJobSplit,            // a job's subsidy + co-payment differs from its cost
  kHoldOutsideAward,    // a subsidy hold placed outside its award's validity dates
  kTopUpTransfer,       // a top-up without its transfer, or with another amount or wallet
  kTopUpUnrecorded,     // a top-up transfer without its top-up row
  kJobRefund,           // a job's refunds disagree with its refunded amount, its cost or its split
  kAwardTotals,         // an award row's granted or returned amount differs from its transfers
};
inline constexpr auto kDifferenceKindNames = enum_names<DifferenceKind>(
    "difference kind", {{DifferenceKind::kAccountBalance, "account_balance"},
                        {DifferenceKind::kUnbalancedTotals, "unbalanced_totals"},
                        {DifferenceKind::kOverdraft, "overdraft"},
                        {DifferenceKind::kUnprotectedAccount, "unprotected_account"},
                        {DifferenceKind::kUnknownAccount, "unknown_account"},
                        {DifferenceKind::kDuplicateTransfer, "duplicate_transfer"},
                        {DifferenceKind::kBadAmount, "bad_amount"},
                        {DifferenceKind::kBadResolution, "bad_resolution"},
                        {DifferenceKind::kHoldResolvedTwice, "hold_resolved_twice"},
                        {DifferenceKind::kPostExceedsHold, "post_exceeds_hold"},
                        {DifferenceKind::kPendingState, "pending_state"},
                        {DifferenceKind::kJobTransfer, "job_transfer"},
                        {DifferenceKind::kJobHold, "job_hold"},
                        {DifferenceKind::kJobPosting, "job_posting"},
                        {DifferenceKind::kJobCost, "job_cost"},
                        {DifferenceKind::kJobSubsidy, "job_subsidy"},
                        {DifferenceKind::kJobCopay, "job_copay"},
                        {DifferenceKind::kJobSplit, "job_split"},
                        {DifferenceKind::kHoldOutsideAward, "hold_outside_award"},
                        {DifferenceKind::kTopUpTransfer, "topup_transfer"},
                        {DifferenceKind::kTopUpUnrecorded, "topup_unrecorded"},
                        {DifferenceKind::kJobRefund, "job_refund"},
                        {DifferenceKind::kAwardTotals, "award_totals"}});
const char* difference_kind_name(DifferenceKind kind);  // "account_balance", ...

// What a difference is about; with its id (0 for the whole ledger).
enum class EntityKind : uint8_t { kLedger = 0, kAccount, kTransfer, kJob, kTopUp, kAward };
inline constexpr auto kEntityKindNames =
    enum_names<EntityKind>("entity kind", {{EntityKind::kLedger, "ledger"},
                                           {EntityKind::kAccount, "account"},
                                           {EntityKind::kTransfer, "transfer"},
                                           {EntityKind::kJob, "job"},
                                           {EntityKind::kTopUp, "topup"},
                                           {EntityKind::kAward, "award"}});
const char* entity_kind_name(EntityKind kind);  // "ledger", "account", ...

struct Difference {
  DifferenceKind kind = DifferenceKind::kAccountBalance;
  EntityKind entity = EntityKind::kLedger;
  uint64_t id = 0;    // the account, transfer or job id; a top-up's transfer id
  std::string field;  // the column or quantity compared ("debits_posted", "cost", ...), may be ""
  bool money = true;  // expected and found are minor units (else counts or ids)
  int64_t expected = 0;  // what the rows recompute to
  int64_t found = 0;     // what the rows hold
  std::string message;   // one sentence
};

struct ReconcileOptions {
  size_t max_listed = 1000;  // differences listed in the report; all are counted
};

struct ReconcileReport {
  size_t accounts_checked = 0;
  size_t transfers_checked = 0;
  size_t jobs_checked = 0;
  size_t topups_checked = 0;
  size_t runs_not_recomputed = 0;  // earlier runs whose price the rows do not hold (see the header)
  uint64_t differences_found = 0;  // every difference, listed or not
  std::vector<Difference> differences;  // the first max_listed
  bool ok() const { return differences_found == 0; }
};

ReconcileReport reconcile(const ChangeSet& rows, const ReconcileOptions& options = {});

}  // namespace berth::core
