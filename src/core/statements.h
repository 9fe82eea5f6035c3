// Statements: what the books say about one project over a period, one scheme for its funder,
// and one project's balance now. Read-only views computed from an Engine; pure like the rest
// of the core (no I/O, no clock: the caller passes the period and now_ms).
//
// Contract
// - Money is exact integers of minor units, time integers of ms, usage integers of
//   GPU-milliseconds; nothing is rounded except where a comment says floor.
// - A job run is charged when it ends: its co-payment hold is posted at the run's end, so a
//   statement lists each run whose settlement falls in [from_ms, to_ms), for the whole run,
//   even when it started in an earlier period. A run still holding money at to_ms is listed
//   under `held_at_close`, not as a charge; its hold does not lower the closing balance
//   (holds never change a balance, only what is available).
// - A requeued job (preempted, or lost with --requeue) ran more than once: each run is its own
//   line, told apart by `run` (0 for the first); every run but the last has state "REQUEUED".
//   Runs found through their ledger transfers (Engine::job_transfer_id); a run that cost
//   nothing left none, and is listed only when it is the job's last.
// - Wallet balances come from the ledger's posted transfers alone: opening = the posted sum
//   before from_ms, closing = before to_ms, and opening + credits - debits = closing exactly.
//   Top-ups (kCodeTopUp into the wallet) and job co-payments (kCodeJobCopay out of it) have
//   their own sections; every other posted movement of the wallet (refunds, adjustments,
//   codes not yet known) is listed under `other` with its code and sign.
// - Performance: each function scans Ledger::transfers_in_order() once, O(transfers), and a
//   statement also walks Engine::jobs(), O(jobs x runs). Fine for a reply now and then; a
//   ledger of many millions of transfers wants an index by account and time first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/civil.h"
#include "common/enum_names.h"
#include "common/ids.h"
#include "common/money.h"
#include "core/engine.h"

namespace berth::core {

// How far back the run-out estimate looks for an award's rate of spending.
inline constexpr int64_t kSpendingWindowMs = 30 * kMsPerDay;

// One settled run of a job.
struct JobCharge {
  JobId job;
  int run = 0;  // 0 for the first run; a requeued job's later runs count up
  std::string name;
  std::string user;
  std::string state;  // the job's final state ("COMPLETED", ...), "REQUEUED" for an earlier run
  int gpus = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;    // when it was charged
  int64_t gpu_ms = 0;    // gpus x (end - start)
  Minor cost_minor = 0;  // gross: subsidy + co-payment, exactly
  Minor subsidy_minor = 0;
  Minor copay_minor = 0;
  AwardId award;             // the award that paid the subsidy (0: none)
  std::string award_scheme;  // that award's scheme, by name ("" when none)
};

// A run that still held money at the end of the period (running then).
struct HeldRun {
  JobId job;
  int run = 0;
  std::string name;
  int gpus = 0;
  int64_t start_ms = 0;
  Minor copay_held_minor = 0;    // held from the wallet
  Minor subsidy_held_minor = 0;  // held from the award
  AwardId award;
  std::string award_scheme;
};

// A posted movement of the wallet other than a job's co-payment.
struct WalletMovement {
  TransferId transfer;
  int64_t time_ms = 0;
  uint32_t code = 0;       // TransferCode
  Minor amount_minor = 0;  // signed: > 0 into the wallet, < 0 out of it
  std::string reference;   // a top-up's payment reference ("" when none)
  JobId job;               // a refund's job (0: not a refund)
  std::string reason;  // a refund's or adjustment's reason, from its audit record ("" when none)
};

struct ProjectStatement {
  ProjectId project;
  std::string project_name;
  OrgId org;
  std::string org_name;
  int64_t from_ms = 0;  // the period [from_ms, to_ms)
  int64_t to_ms = 0;

  Minor opening_minor = 0;             // wallet balance at from_ms
  Minor closing_minor = 0;             // wallet balance at to_ms
  std::vector<JobCharge> jobs;         // by end, then job id, then run
  std::vector<WalletMovement> topups;  // in the order applied
  std::vector<WalletMovement> other;   // in the order applied
  std::vector<HeldRun> held_at_close;  // by start, then job id

  // Totals. Wallet credits = topups_minor + other_credits_minor; wallet debits =
  // copay_debits_minor + other_debits_minor. copay_debits_minor comes from the wallet's
  // transfers, the job totals from the job lines: they agree (the tests check it).
  Minor topups_minor = 0;
  Minor other_credits_minor = 0;
  Minor copay_debits_minor = 0;
  Minor other_debits_minor = 0;
  Minor jobs_cost_minor = 0;
  Minor jobs_subsidy_minor = 0;
  Minor jobs_copay_minor = 0;
  int64_t jobs_gpu_ms = 0;
  Minor held_at_close_minor = 0;  // co-payments held from the wallet at to_ms

  Minor credits_minor() const { return topups_minor + other_credits_minor; }
  Minor debits_minor() const { return copay_debits_minor + other_debits_minor; }
};

// The statement of `project` for [from_ms, to_ms). NotFound for an unknown project, Invalid
// when to_ms <= from_ms. A period reaching past now shows what is known so far.
Result<ProjectStatement> project_statement(const Engine& engine, ProjectId project, int64_t from_ms,
                                           int64_t to_ms);

// An award's money now. granted = held + spent + left + returned, exactly.
struct AwardMoney {
  Minor granted_minor = 0;  // its grant and supplements
  Minor held_minor = 0;     // held now by running jobs
  Minor spent_minor = 0;    // subsidy charged to its jobs, less the subsidy part of their refunds
  Minor refunded_minor =
      0;  // that subsidy part: paid back into the award, or to the fund once it had ended
  Minor left_minor = 0;  // what it can still pay (its available balance)
  // Back to the fund: the remainder returned at its end, and the subsidy part of refunds made
  // after it ended (which go to the fund, not into the award).
  Minor returned_minor = 0;
};
AwardMoney award_money(const Engine& engine, const Award& award);

// The funder's view of one scheme at now_ms.
struct SchemeReport {
  SchemeId scheme;
  std::string name;
  int64_t rate_bps = 0;
  int64_t now_ms = 0;

  Minor funded_minor = 0;     // paid into the fund from the programme (kCodeFundScheme)
  Minor granted_minor = 0;    // moved from the fund to awards
  Minor returned_minor = 0;   // back from awards to the fund (AwardMoney::returned_minor, summed)
  Minor committed_minor = 0;  // granted - returned = spent + held + unspent
  Minor spent_minor = 0;      // subsidy posted from its awards, less the subsidy part of refunds
  Minor refunded_minor = 0;   // that subsidy part of refunds of its awards' jobs
  Minor held_minor = 0;       // subsidy held now by running jobs
  Minor remaining_minor = 0;  // what the fund can still grant (its available balance)
  Minor unspent_minor = 0;    // in its awards, neither spent nor held nor returned

  int awards = 0;
  int awards_active = 0;        // valid at now_ms
  int awards_expired = 0;       // ended by now_ms
  int awards_upcoming = 0;      // not yet started
  int orgs_awarded = 0;         // distinct organisations with at least one award
  int projects_awarded = 0;     // distinct projects with at least one award
  int orgs_subsidised = 0;      // distinct organisations with subsidised usage
  int projects_subsidised = 0;  // distinct projects with subsidised usage

  // Settled runs whose subsidy came from this scheme's awards.
  int64_t subsidised_runs = 0;
  int64_t subsidised_gpu_ms = 0;
  // Share of the centre's capacity used by subsidised work over [period_from_ms, now_ms):
  // subsidised GPU-ms inside the period / (cluster GPUs x period ms), floored to a basis
  // point. The period is [scheme created, now) unless the caller gives another start.
  int64_t period_from_ms = 0;
  int64_t period_subsidised_gpu_ms = 0;
  int64_t capacity_gpu_ms = 0;
  int64_t capacity_share_bps = 0;

  // The scheme's applications by state (docs/funding.md), with the amounts asked and granted.
  ApplicationCounts applications;
  Minor applied_minor = 0;   // asked for by submitted or decided applications
  Minor approved_minor = 0;  // granted on approved applications
};

// NotFound for an unknown scheme; Invalid when period_from_ms is not before now_ms.
// period_from_ms = 0 means the scheme's creation.
Result<SchemeReport> scheme_report(const Engine& engine, SchemeId scheme, int64_t now_ms,
                                   int64_t period_from_ms = 0);

// When an award's money runs out at its recent rate of spending.
enum class RunOut : uint8_t {
  kInactive = 0,  // not valid at now (expired or not started): no estimate
  kExhausted,     // nothing left
  kNoSpending,    // nothing spent in the window: no date
  kRunsOut,       // at the rate, left runs out at run_out_ms, before the award ends
  kEndsFirst,     // at the rate, the award ends before its money runs out
};
inline constexpr auto kRunOutNames =
    enum_names<RunOut>("run-out estimate", {{RunOut::kInactive, "inactive"},
                                            {RunOut::kExhausted, "exhausted"},
                                            {RunOut::kNoSpending, "no_spending"},
                                            {RunOut::kRunsOut, "runs_out"},
                                            {RunOut::kEndsFirst, "ends_first"}});
const char* run_out_name(RunOut r);

// An award in a project's balance: its money (AwardMoney) and its rate of spending.
struct AwardBalance : AwardMoney {
  AwardId award;
  SchemeId scheme;
  std::string scheme_name;
  int64_t rate_bps = 0;
  int gpu_level = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool active = false;
  // The rate: subsidy posted from window_from_ms up to now (inclusive: a job charged at now
  // counts), over the last kSpendingWindowMs or since the award started if that is shorter.
  // Held money is not spending yet and does not count; nor do refunds, which do not slow the
  // pace at which jobs use the award.
  int64_t window_from_ms = 0;
  Minor window_spent_minor = 0;
  Minor spent_per_day_minor = 0;  // floor(window_spent x day / window)
  RunOut run_out = RunOut::kInactive;
  // For kRunsOut: now + floor(left x window / window_spent). For kEndsFirst: where the money
  // would run out, after end_ms. 0 otherwise.
  int64_t run_out_ms = 0;
};

struct ProjectBalance {
  ProjectId project;
  std::string project_name;
  int64_t now_ms = 0;
  Minor wallet_balance_minor = 0;
  Minor wallet_held_minor = 0;
  Minor wallet_available_minor = 0;
  std::vector<AwardBalance> awards;  // in the order granted
};

// NotFound for an unknown project.
Result<ProjectBalance> project_balance(const Engine& engine, ProjectId project, int64_t now_ms);

}  // namespace berth::core
