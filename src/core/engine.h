// The Engine: berth's one deterministic state machine (ledger, funding, cluster, scheduler).
//
// berthd, berth sim and the tests all drive an Engine. It takes commands with the time
// `now_ms` passed in, returns results, and records what changed so the owner can persist
// it (drain_changes) before acknowledging anything. No I/O, no clock, no randomness.
// Not thread-safe: one thread owns it.
//
// A job's money (DESIGN.md "Money and the ledger"):
//   start  -> two linked pending transfers: award -> revenue for S = floor(r*M) and
//             wallet -> revenue for M - S, where M = price * GPUs * time limit;
//   end    -> post s = min(floor(r*C), S) and C - s, C the cost of the time it ran (<= M);
//   never ran -> nothing was held; a requeued job is held afresh on its next start.
// Hold ids are derived from the job id, its restart count and the phase, so a replayed
// command can never hold or charge twice.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/enum_names.h"
#include "common/status.h"
#include "core/applications.h"
#include "core/change_set.h"
#include "core/cluster.h"
#include "core/funding.h"
#include "core/job_table.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/node_choice.h"
#include "core/predictor.h"
#include "core/priority.h"
#include "core/progress.h"
#include "core/scheduler.h"
#include "core/service_profile.h"
#include "core/submit_keys.h"

namespace berth::core {

// The accounts every centre has.
inline constexpr AccountId kProgrammeSourceAccount{1};  // where public funding enters
inline constexpr AccountId kExternalAccount{2};         // where tenants' payments enter
inline constexpr AccountId kRevenueAccount{3};          // the centre's revenue

// A new scheme's terms (Scheme's fields that its creator chooses).
struct SchemeSpec {
  std::string name;
  int64_t rate_bps = 0;
  uint32_t eligible_kinds = 0;  // bit (1 << OrgKind)
  Shortfall shortfall = Shortfall::kWallet;
  int64_t exceptional_rate_bps = 0;  // 0: none
  Minor cap_per_project_minor = 0;   // 0: no cap
  int64_t window_open_ms = 0;        // applications are submitted in [open, close)
  int64_t window_close_ms = 0;       // 0: no end
  int award_validity_days = 0;       // 0: as long as asked
};

// What a reviewer grants on approval (ApprovalTerms, plus whether the scheme's exceptional
// rate applies).
struct Approval {
  Minor amount_minor = 0;  // 0: as asked
  int gpu_level = 0;       // 0: as asked
  int duration_days = 0;   // 0: as asked (capped by the scheme's award validity)
  bool exceptional_rate = false;
  // Progress reports the award requires (core/progress.h): every this many months (0: none),
  // overdue this many days after each due date.
  int report_every_months = 0;
  int report_grace_days = 0;
  std::string note;
};

struct JobRequest {
  std::string name;
  std::string user;
  ProjectId project;
  int gpus = 1;  // in all; with nodes > 1, an equal share on each node
  int nodes = 1;
  std::string gpu_model;     // "" = any
  std::string partition;     // "" = the default partition
  NodeNames node_names;      // the nodes asked for or ruled out (--nodelist, --exclude)
  int64_t time_limit_s = 0;  // 0 = the partition's default
  int64_t estimate_s = 0;    // a runtime for backfill to plan with (<= limit); 0 = predict or limit
  int64_t hold_s = 0;        // the run time its money hold covers, if shorter than its limit
                             // (Job::hold_s: berth sim's jobs without a limit); 0 = the limit
  Tier tier = Tier::kNormal;
  bool requeue = false;
  bool hold = false;                     // submit held: not scheduled until released
  std::vector<Dependency> dependencies;  // jobs that must end (as each type asks) first
  std::string launch;                    // opaque to the core
  BoxRequest box;                        // the CPUs and memory it asked for (core/job_box.h)
  // Makes the submit idempotent (core/submit_keys.h): "" for none. The digest is the owner's
  // digest of everything the request asked, so that a key reused for another request is caught.
  std::string idempotency_key;
  std::string request_digest;
};

struct Quote {
  Minor max_cost_minor = 0;
  Minor subsidy_minor = 0;
  Minor copay_minor = 0;
  int64_t rate_bps = 0;
  AwardId award;
  Minor price_per_gpu_hour_minor = 0;
  std::string gpu_model;  // the model priced
  int64_t time_limit_s = 0;
  bool affordable = false;
  PendingReason reason = PendingReason::kNone;  // why not affordable
  // The project's award has an overdue progress report, so it pays no subsidy now (the
  // scheme's shortfall rule decides: the wallet pays all, or the job waits).
  AwardId report_overdue_award;
  // The earliest it could start if it were first in line (running jobs ending at their time
  // limits); 0 when no node will have room. Jobs ahead of it in the queue may delay it.
  int64_t earliest_start_ms = 0;
};

// How a running job ended, as the executor saw it.
struct JobEnd {
  int exit_code = 0;
  int term_signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  bool lost = false;   // the node or berthd lost it: NODE_FAIL, or requeued if asked
  std::string reason;  // why, when known (e.g. it could not start); kept as Job::end_reason
  bool oom = false;    // the OOM killer killed in its cgroup: OUT_OF_MEMORY
};

// What an agent says about its node when it registers.
struct AgentHello {
  std::string agent_version;
  std::string address;
  std::string isolation;
  std::string gpu_model;  // "" = not discovered (the configured model stands)
  int gpus = 0;
  int cpus = 0;
  int64_t memory_mb = 0;
};

// A job Restore could not take back as it was stored, and what it did about it.
struct SetAsideJob {
  JobId job;
  std::string problem;
  bool was_running = false;  // it may still have processes of its own to stop
  bool kept = false;         // a finished job kept as it was, the unreadable field defaulted
};

class Engine {
 public:
  // ==== Construction and persistence (persistence.cc) ====
  // A fresh centre: creates the system accounts.
  static Result<std::unique_ptr<Engine>> Create(ClusterConfig cluster, int64_t now_ms,
                                                SchedulerConfig scheduling = {});
  // A centre reloaded from its rows (as written from drain_changes). Verifies the books and
  // re-allocates the GPUs of running jobs; running jobs stay RUNNING for the owner to settle
  // (job_ended with lost) once it knows their processes are gone.
  // A job it cannot take back as stored never refuses the start (set_aside_at_restore): one
  // that was PENDING or RUNNING, or whose state is unknown, ends FAILED with an end_reason
  // saying why, its holds released (posted at 0: charged nothing) and its GPUs not taken; a
  // finished one is kept with the unreadable field at its default. Such jobs are marked
  // changed, so the next commit writes them back readable. The books are never guessed:
  // accounts and transfers that do not verify still refuse.
  static Result<std::unique_ptr<Engine>> Restore(ClusterConfig cluster, const ChangeSet& rows,
                                                 SchedulerConfig scheduling = {});

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Rows to persist: changed since the last drain, or all of them.
  ChangeSet drain_changes();
  ChangeSet snapshot() const;
  // Full check of the books (ledger verify + every settled job's split). O(n).
  Status verify() const;

  // ==== Who acts, and the audit log (audit_log.cc) ====
  // Who the next commands act for, as the audit record names them (the owner sets it per
  // request; "system" by default, and for berth's own steps).
  void set_actor(std::string user) { actor_ = user.empty() ? "system" : std::move(user); }
  const std::string& actor() const { return actor_; }
  // The append-only record of who changed money or awards, and why.
  const std::vector<AuditRecord>& audit() const { return audit_; }
  // Access control lives outside the core (berthd's API tokens), but its changes belong in the
  // one audit record with the rest: each is recorded under the actor set by set_actor, with
  // its subject (a token's public id) and a note. No money moves.
  // kNodeCert: berthd's CA signed a node agent's certificate (its subject "node NAME").
  // kTakeover: a berthd took the lead of those sharing the store (its subject "berthd NAME").
  enum class AccessAction {
    kTokenCreate,
    kTokenRevoke,
    kAdminTokenRotate,
    kAdminTokenRecover,
    kNodeCert,
    kTakeover
  };
  static constexpr auto kAccessActionNames = enum_names<AccessAction>(
      "access action", {{AccessAction::kTokenCreate, "token.create"},
                        {AccessAction::kTokenRevoke, "token.revoke"},
                        {AccessAction::kAdminTokenRotate, "token.rotate_admin"},
                        {AccessAction::kAdminTokenRecover, "token.recover_admin"},
                        {AccessAction::kNodeCert, "node.cert"},
                        {AccessAction::kTakeover, "berthd.takeover"}});
  static const char* access_action_name(AccessAction action);  // "token.create", ...
  void record_access(AccessAction action, const std::string& subject, std::string note,
                     int64_t now_ms);

  // ==== Administration: organisations, projects, schemes, top-ups (engine.cc) ====
  Result<Org> create_org(const std::string& name, OrgKind kind, int64_t now_ms);
  // The same with its registration record: the fields given are trimmed and checked
  // (check_registration in funding.h); a given field that is empty is Invalid. Audited as
  // "org.create".
  Result<Org> create_org(const std::string& name, OrgKind kind,
                         const RegistrationChange& registration, int64_t now_ms);
  // Amends an organisation's registration record: the fields given replace those recorded, each
  // checked as on creation, and the rest stay. Audited as "org.update", naming each field that
  // changed from what to what, with the note (at most 2000 bytes). Nothing given is Invalid; an
  // unknown organisation NotFound; a refusal changes nothing. An amendment that leaves every
  // field as it was changes and records nothing, so a retried request is harmless.
  Result<Org> update_org(OrgId org, const RegistrationChange& change, const std::string& note,
                         int64_t now_ms);
  Result<Project> create_project(OrgId org, const std::string& name, int64_t now_ms);
  // Creates a scheme with its fund account, funded with `fund_minor` from the programme source.
  Result<Scheme> create_scheme(const SchemeSpec& spec, Minor fund_minor, int64_t now_ms);
  Result<Scheme> create_scheme(const std::string& name, int64_t rate_bps, uint32_t eligible_kinds,
                               Shortfall shortfall, Minor fund_minor, int64_t now_ms);
  Status fund_scheme(SchemeId scheme, Minor amount_minor, int64_t now_ms);
  // Pays into a project's wallet. A reference seen before returns the first top-up when the
  // project and amount agree (replayed = true), and a Conflict otherwise.
  Result<TopUp> top_up(ProjectId project, Minor amount_minor, const std::string& reference,
                       int64_t now_ms, bool* replayed = nullptr);
  // Expires pending transfers whose timeout passed, and returns to its fund what is left of each
  // award that has ended once no hold on it is open. Returns the transfers expired.
  size_t expire(int64_t now_ms);

  // ==== Nodes and their agents (node_agents.cc) ====
  // Marks a node up, drained (runs what it has, takes nothing new) or down. Going down ends
  // its running jobs as lost: NODE_FAIL, or requeued if they asked, charged up to now.
  // Returns the jobs that ended (the owner stops their processes). Records nothing, and leaves
  // the node's state_reason and silent_down as they were.
  Result<std::vector<JobId>> set_node_state(NodeId node, NodeState state, int64_t now_ms);
  // The same, asked for by someone (the actor set by set_actor): recorded in the audit record as
  // "node.drain", "node.down" or "node.resume" on "node NAME", with the jobs it ended and the
  // reason. Drain and down keep `reason` (free text of at most kMaxReasonBytes, else Invalid) as
  // the node's state_reason; resume clears it. Any of them clears silent_down: an
  // administrator's down stays down when the agent registers.
  Result<std::vector<JobId>> change_node_state(NodeId node, NodeState state, int64_t now_ms,
                                               const std::string& reason = "");
  // A stored node's state and what its agent last said (state, state_reason, silent_down,
  // agent_version, address, isolation, last_heartbeat_ms) given to the configured node of the
  // same name, as the owner does at start and after reloading the engine. Records nothing; a
  // node stored down ends its running jobs as set_node_state does (none, when the rows were
  // written together). NotFound when no configured node has that name.
  Status restore_node(const Node& stored, int64_t now_ms);
  // The agent of `node` registered at now_ms: records version, address, isolation and the
  // heartbeat. A node down for silence (silent_down) comes back up (audit "node.resume", note
  // "agent registered"). An agent reporting fewer GPUs, CPUs or memory than configured, or another
  // (non-empty) GPU model, puts an up node in DRAIN with a reason naming what differs
  // ("agent reports 4 GPUs, configured 8"; audit "node.drain"); the configured figures stay what
  // is scheduled. An administrator's drain or down is left as it is. NotFound for an unknown id.
  // Both audit records are berth's own steps, by "system".
  Status agent_registered(NodeId node, const AgentHello& hello, int64_t now_ms);
  // A heartbeat from the node's agent: last_heartbeat_ms = now_ms. NotFound for an unknown id.
  Status node_heard(NodeId node, int64_t now_ms);
  // Every node that has had an agent (last_heartbeat_ms > 0), is not down, and was last heard
  // before now_ms - timeout_ms -- silence counted from max(last_heartbeat_ms, since_ms), since_ms
  // being when this berthd opened, so each node gets a full timeout after a restart -- goes down:
  // silent_down = true, state_reason "agent silent since 2026-12-05T10:04:05Z" (UTC, seconds),
  // audit "node.down" by the system naming the jobs it ended, as change_node_state notes them.
  // Its running jobs end lost (NODE_FAIL, or requeued if they asked), charged up to the last
  // heartbeat (never before the job's start). Returns the jobs ended.
  // With every_node (agents run every job), a node whose agent has never registered counts as
  // silent since since_ms too ("no agent since ..."); its jobs are charged up to since_ms.
  std::vector<JobId> expire_silent_nodes(int64_t now_ms, int64_t timeout_ms, int64_t since_ms,
                                         bool every_node = false);
  // When agents run every job: each up node whose agent has never registered goes down, as
  // Slurm keeps a node whose slurmd never answered out of service, with silent_down and the
  // reason "no agent has registered yet", so that its agent's registration brings it up. Jobs
  // running there (from before agents ran them) end lost at now_ms. Returns them.
  std::vector<JobId> await_agents(int64_t now_ms);

  // ==== Awards and the order they pay in (awards.cc) ====
  // Grants an award: moves `amount_minor` from the scheme's fund to a new award account. It
  // requires a progress report every report_every_months months (0: none; at most 120),
  // overdue report_grace_days days (0..365) after each due date.
  Result<Award> create_award(SchemeId scheme, ProjectId project, Minor amount_minor, int gpu_level,
                             int64_t start_ms, int64_t end_ms, int64_t now_ms,
                             int report_every_months = 0, int report_grace_days = 0);
  // Adds money (from the scheme's fund, within its cap) and optionally time (new_end_ms later
  // than the award's end; 0 keeps it) to an award that has not ended.
  Result<Award> supplement_award(AwardId award, Minor amount_minor, int64_t new_end_ms,
                                 const std::string& note, int64_t now_ms);
  // Ends an award now: it holds nothing for new jobs; its running jobs settle on their holds,
  // and then what is left returns to the fund.
  Result<Award> close_award(AwardId award, const std::string& reason, int64_t now_ms);
  // States the order in which a project's funding sources (its awards) pay for its jobs: a job's
  // subsidy comes from the first active source in that order that can cover its share, at that
  // source's rate; when none can, the first active source's scheme rule decides (the wallet pays
  // all, or the job waits). Awards not named follow in the order granted; an empty list returns
  // to that default.
  Status set_funding_order(ProjectId project, const std::vector<AwardId>& order, int64_t now_ms);

  // ==== Progress reports and applications (paperwork.cc) ====
  // Progress reports (core/progress.h, docs/funding.md): a member of the project's organisation
  // submits the report for a period; a reviewer accepts it or returns it with a reason. While
  // any report of an award is overdue, the award pays for no new job: each falls back to the
  // scheme's shortfall rule (the wallet pays all, or it waits with ProgressReportOverdue).
  // Running jobs keep their holds. Refused commands change nothing.
  Status submit_report(const Actor& actor, AwardId award, int period, const std::string& text,
                       int64_t now_ms);
  Status accept_report(const Actor& actor, AwardId award, int period, int64_t now_ms);
  Status return_report(const Actor& actor, AwardId award, int period, const std::string& reason,
                       int64_t now_ms);
  const ProgressReports& reports() const { return reports_; }
  // Where an award stands with its reports at now_ms (all zero for an unknown award).
  ReportStanding report_standing(AwardId award, int64_t now_ms) const;
  // The first moment after after_ms at which any award's report becomes overdue; 0 when none
  // will. An owner that runs scheduling passes only at events (berth sim) adds it to them.
  int64_t next_report_overdue_ms(int64_t after_ms) const;

  // Applications (docs/funding.md): the paperwork lives in Applications; the Engine supplies
  // what it cannot know (the project's organisation and kind, the scheme's rules) and moves
  // the money on approval.
  Status set_criteria(const Actor& actor, SchemeId scheme, const std::vector<Criterion>& criteria,
                      int64_t now_ms);
  Result<ApplicationId> draft_application(const Actor& actor, SchemeId scheme, ProjectId project,
                                          const ApplicationTerms& terms, int64_t now_ms);
  Status update_application(const Actor& actor, ApplicationId id, const ApplicationTerms& terms,
                            int64_t now_ms);
  Status submit_application(const Actor& actor, ApplicationId id, int64_t now_ms);
  Status review_application(const Actor& actor, ApplicationId id,
                            const std::vector<CriterionScore>& scores, const std::string& comment,
                            int64_t now_ms);
  Status reject_application(const Actor& actor, ApplicationId id, const std::string& reason,
                            int64_t now_ms);
  Status withdraw_application(const Actor& actor, ApplicationId id, const std::string& note,
                              int64_t now_ms);
  // Approves a submitted, reviewed application and, in the same command, moves the granted
  // amount from the scheme's fund to a new award valid from now for the granted days. Refused
  // (nothing changed) when it asks more than the fund has left or than the scheme's cap per
  // project leaves the project, or an exceptional rate the scheme does not have.
  Result<Award> approve_application(const Actor& actor, ApplicationId id, const Approval& approval,
                                    int64_t now_ms);
  const Applications& applications() const { return applications_; }

  // ==== Wallets (wallets.cc) ====
  // Wallets (docs/wallets.md). Each is refused with nothing changed when the project or job is
  // unknown (NotFound), an amount or reason is bad (Invalid), or the money is not there
  // (Conflict / InsufficientFunds), and is audited ("wallet.credit_limit", "wallet.refund",
  // "wallet.adjust") under the actor set by set_actor.
  //
  // Sets how far below zero the project's wallet may go (0..kMaxCreditLimitMinor; 0: not at
  // all). Holds count: a job is held only while the wallet plus its credit covers its
  // co-payment. A limit below what the wallet already uses is a Conflict.
  Status set_credit_limit(ProjectId project, Minor credit_limit_minor, const std::string& note,
                          int64_t now_ms);
  // Refunds part of an ended job's charge (amount_minor > 0, at most what was charged less what
  // was refunded before). The refund splits as the charge did: of the job's refunds in all,
  // floor(refunded * subsidy / cost) returns to the funder and the rest to the wallet; this
  // refund's subsidy part is that floor after it less the floor before it, so the funder never
  // gets back more than it paid, the wallet never more than its co-payment, and a refund of
  // the whole charge returns each exactly. The subsidy part goes to the award that paid it
  // while the award has not ended (end_ms > now), else to its scheme's fund; never to the
  // wallet. Transfers from the centre's revenue (kCodeRefund, ref = the job), linked: all or
  // nothing. A reason is required. Returns the amount refunded.
  Result<Minor> refund_job(JobId job, Minor amount_minor, const std::string& reason,
                           int64_t now_ms);
  // A refund's audit note is its reason, then how it was split: "GPU fault (2.0000 to the
  // wallet, ...)". refund_reason reads the reason back from such a note (the note itself when
  // it is not one).
  static std::string refund_note(const std::string& reason, const std::string& split);
  static std::string refund_reason(const std::string& audit_note);
  // What can still be refunded of a job: its cost less its refunds (0 for a job not ended).
  Minor refundable_minor(const Job& job) const;
  // The subsidy part of refunds of the jobs an award paid for, in all: paid back into the award
  // while it had not ended, or to its scheme's fund after (docs/funding.md: an award's spent is
  // net of it).
  Minor subsidy_refunded(AwardId award) const;
  // Moves money between the centre's revenue and a project's wallet (kCodeAdjustment, ref =
  // the project): a positive amount is a credit to the wallet (goodwill), a negative one a
  // debit (a correction), never taking the wallet below its floor (0 less its credit limit,
  // counting holds). A reason is required. Returns the transfer.
  Result<TransferId> adjust_wallet(ProjectId project, Minor signed_amount_minor,
                                   const std::string& reason, int64_t now_ms);
  // The same, made idempotent by the caller's reference (1..128 characters), as a top-up's
  // payment reference is: a reference seen before with the same action, subject and amount
  // returns the first result (*replayed = true) and changes nothing; with anything else it is a
  // Conflict. A refund's amount 0 means the whole refundable rest (and replays any amount).
  // The audit record keeps the reference, so it outlives a restart.
  Result<Minor> refund_job(JobId job, Minor amount_minor, const std::string& reason,
                           const std::string& reference, int64_t now_ms, bool* replayed);
  Result<TransferId> adjust_wallet(ProjectId project, Minor signed_amount_minor,
                                   const std::string& reason, const std::string& reference,
                                   int64_t now_ms, bool* replayed);
  // The audit record of a refund or adjustment made with `reference`; nullptr when none.
  const AuditRecord* money_reference(const std::string& reference) const;

  // ==== Pricing (pricing.cc) ====
  // What a job like `request` would cost at most at the dearest GPU model it may run on, who
  // would pay, and the earliest it could start. Refused like submit when the request is bad.
  Result<Quote> quote(const JobRequest& request, int64_t now_ms) const;

  // ==== Job lifecycle: submit, hold, cancel, end (job_lifecycle.cc) ====
  // Accepts a job, or refuses one that is malformed or can never run. Returns its id.
  // With an idempotency key (core/submit_keys.h) that the same user and organisation used
  // before with the same digest, returns the first submission's job and sets *replayed,
  // changing nothing; with another digest it is a Conflict naming the key.
  Result<JobId> submit(const JobRequest& request, int64_t now_ms, bool* replayed = nullptr);
  // A job array: one job per index, all accepted or none; at most `throttle` (0: any number)
  // of its tasks run at once. Returns the tasks' ids in index order; the first is the array id.
  // An idempotency key replays as for submit, returning the first submission's tasks.
  Result<std::vector<JobId>> submit_array(const JobRequest& request,
                                          const std::vector<int>& indices, int throttle,
                                          int64_t now_ms, bool* replayed = nullptr);
  // Forgets the idempotency key of the submit that created `first`, which its owner undid
  // before acknowledging it (cancelled in the same batch), so that a retry submits afresh.
  void forget_submit_key(JobId first);
  const SubmitKeys& submit_keys() const { return submit_keys_; }
  // Holds a pending job (it is not scheduled until released) or releases it.
  Status hold(JobId job, int64_t now_ms);
  Status release(JobId job, int64_t now_ms);
  // Pending: CANCELLED at once. Running: marks cancel_requested and returns true, and the
  // owner terminates the process; the job ends through job_ended. Final: Conflict.
  Result<bool> cancel(JobId job, int64_t now_ms);
  // Ends a running job: frees its GPUs and settles its money for the time it ran, ending at
  // end_ms (clamped to [start, now]). A job that is not running: Conflict, nothing changes.
  Status job_ended(JobId job, const JobEnd& end, int64_t end_ms, int64_t now_ms);

  // ==== Scheduling (scheduling.cc) ====
  // Starts what can start; returns the jobs started (RUNNING, GPUs allocated, money held).
  std::vector<JobId> schedule(int64_t now_ms);
  // Spot jobs the last passes asked to stop for a higher tier: the owner terminates them
  // (TERM, grace, KILL); when they end (job_ended) they are charged and requeued.
  std::vector<JobId> take_preemptions();

  // ==== Queries ====
  const Job* job(JobId id) const { return jobs_.find(id); }
  // By id (index = id - 1), in a deque (core/job_table.h).
  const std::deque<Job>& jobs() const { return jobs_.all(); }
  std::vector<JobId> running_jobs() const { return jobs_.running(); }
  // The jobs Restore set aside or kept with a defaulted field, in id order (empty otherwise).
  const std::vector<SetAsideJob>& set_aside_at_restore() const { return set_aside_; }
  const Funding& funding() const { return funding_; }
  const Cluster& cluster() const { return cluster_; }
  const Ledger& ledger() const { return ledger_; }
  const std::vector<TopUp>& topups() const { return topups_; }
  // GPUs held by a project's running jobs.
  int project_gpus_in_use(ProjectId project) const { return jobs_.gpus_of(project); }
  const FairShare& fairshare() const { return fairshare_; }
  const Scheduler& scheduler() const { return scheduler_; }
  const RuntimePredictor& predictor() const { return predictor_; }
  const ServiceProfile& service_profile() const { return service_; }
  // Least attained service's threshold now (learned with adapt_demotion; 0: off).
  int64_t demote_after_gpu_s() const { return scheduling_.demote_after_gpu_s; }
  // The queue order now (with adapt_demotion, shortest-first may have become submit order).
  QueueOrder queue_order() const { return scheduling_.order; }

  // ==== A job's money in the ledger (engine.cc) ====
  // The phases of a job's money in each run (restarts): the two holds placed at its start and
  // the two posts that settle them at its end. job_transfer_id(job, restarts, phase) is the id
  // of each, so a replayed command can never hold or charge twice, and reconcile and
  // statements find them.
  static constexpr int kPhaseSubsidyHold = 1;
  static constexpr int kPhaseCopayHold = 2;
  static constexpr int kPhaseSubsidyPost = 3;
  static constexpr int kPhaseCopayPost = 4;
  static constexpr uint64_t kMaxJobIdForTransfers = uint64_t{1} << 46;  // ids below this
  static constexpr int kMaxRestarts = 1 << 13;                          // restarts below this
  static TransferId job_transfer_id(JobId job, int restarts, int phase);
  // The hold of a job's current run for `hold_phase` (kPhaseSubsidyHold or kPhaseCopayHold):
  // pending, from `debit` to the centre's revenue. job_post is the post that settles it at
  // `amount_minor` (0 releases it all).
  static Transfer job_hold(const Job& job, int hold_phase, AccountId debit, Minor amount_minor);
  static Transfer job_post(const Job& job, int hold_phase, Minor amount_minor);

 private:
  Engine(Cluster cluster, SchedulerConfig scheduling);

  // ---- engine.cc: the configuration's shares and limits; the ledger helpers ----
  void apply_shares();
  const Limit* org_limit(OrgId org) const;
  const Limit* project_limit(ProjectId project) const;
  Account new_account(AccountKind kind, uint64_t owner, const std::string& name);
  TransferId next_transfer_id();
  // A single-phase transfer with the next sequence id (taken now, applied or not).
  Transfer new_transfer(AccountId debit, AccountId credit, Minor amount_minor, uint32_t code,
                        uint64_t ref);
  Status apply_transfer(const Transfer& t, int64_t now_ms);
  // Money coming into the books from outside (a top-up, a scheme's funding, a credit
  // adjustment) is refused once the ledger's turnover would pass half of int64_t, so that the
  // movements inside (holds, charges, refunds) always have room and never overflow.
  Status check_inflow(Minor amount_minor) const;

  // ---- node_agents.cc ----
  // Ends the running jobs on `node` as lost, each charged up to lost_at_ms (clamped to its
  // start), with `reason` as their end reason. Returns them.
  std::vector<JobId> end_jobs_on(NodeId node, int64_t lost_at_ms, const std::string& reason,
                                 int64_t now_ms);
  struct NodeChange;  // a node's new state, why, and how it is recorded
  // Sets the node's state, state_reason and silent_down as `change` says (going down ends its
  // running jobs as lost, charged up to change.lost_at_ms) and records it in the audit log.
  // Returns the jobs ended.
  std::vector<JobId> apply_node_change(const Node& node, const NodeChange& change, int64_t now_ms);

  // ---- audit_log.cc ----
  void record_audit(const std::string& action, const std::string& subject, Minor amount_minor,
                    TransferId transfer, std::string note, int64_t now_ms);

  // ---- job_lifecycle.cc ----
  Result<JobId> accept(const JobRequest& request, const Partition& partition, int64_t now_ms);
  // Everything that refuses a submit of `jobs` jobs like `request` (an array submits many).
  Status check_submit(const JobRequest& request, const Partition** partition, int64_t jobs);
  // The submission a request's idempotency key names: its first job, or an invalid id when the
  // key is new (or there is none). A Conflict when the key was used for another request.
  Result<JobId> replayed_submit(const JobRequest& request, int64_t now_ms) const;
  void remember_submit_key(const JobRequest& request, JobId first, int64_t now_ms);
  PendingReason admit(Job& job, const std::vector<NodeId>& nodes, int64_t now_ms);
  void settle(Job& job, int64_t runtime_ms);
  // A job reached a final state: the jobs waiting on it may now be ready, or never will be.
  void resolve_dependents(const Job& job, int64_t now_ms);
  void touch(const Job& job) { jobs_.touch(job); }

  // ---- scheduling.cc ----
  void enqueue(Job& job, int64_t now_ms);
  // Puts a pending job in the scheduler's queue if it is not held and its dependencies are
  // met; otherwise records why it waits.
  void queue_or_park(Job& job, int64_t now_ms);
  void recompute_priorities(int64_t now_ms);
  // Why a job could not start now whatever GPUs were free (array throttle, quotas), or kNone;
  // refusal() adds money (an award's GPU level among it: price()), priced at the cheapest model
  // the job may use.
  PendingReason cap_reason(const Job& job) const;
  PendingReason refusal(const Job& job, int64_t now_ms) const;
  // The runtime backfill plans a new job with: its request's estimate, or (without a time
  // limit) its project's history; 0 when that is its time limit.
  int64_t estimate(const JobRequest& r, int64_t time_limit_s) const;
  bool predicts(const JobRequest& r) const;  // whether its runtime is planned from history
  // The predicted runtime of a job of the project on `gpus`, 0 when none or not below the limit.
  int64_t predicted_s(ProjectId project, int gpus, int64_t time_limit_s) const;
  // Tells the runtime history how a job that started ended: its runtime when it ended on its
  // own, else to forget it.
  void learn_runtime(const Job& job);
  // With adapt_demotion: least attained service's threshold and the starvation limit from the
  // service profile.
  void learn_from_history();

  // ---- pricing.cc ----
  Status validate_request(const JobRequest& request, const Partition** partition) const;
  Quote price(const Job& job, const std::string& gpu_model, int64_t now_ms) const;
  // `request` with its GPU model as the cluster spells it (core/model_names.h): itself when it
  // already is, else a copy kept in `storage`.
  Result<const JobRequest*> with_canonical_model(const JobRequest& request,
                                                 JobRequest* storage) const;

  // ---- awards.cc ----
  Result<Award> grant_award(const Scheme& scheme, ProjectId project, Minor amount_minor,
                            int gpu_level, int64_t start_ms, int64_t end_ms, int64_t rate_bps,
                            ApplicationId application, int report_every_months,
                            int report_grace_days, int64_t now_ms);
  Minor awarded_minor(SchemeId scheme,
                      ProjectId project) const;  // all awards of the scheme to the project
  Status check_cap(const Scheme& scheme, ProjectId project, Minor more_minor) const;
  // Returns what is left of ended awards whose holds are all settled (see expire()).
  void return_ended_awards(int64_t now_ms);
  Result<Award*> open_award(AwardId id, const char* what, int64_t now_ms);
  void touch_award(AwardId award) { dirty_awards_.insert(award.value); }

  // ---- paperwork.cc ----
  Result<ReportTerms> report_terms(AwardId award) const;
  Result<Applicant> applicant(ProjectId project) const;
  SchemeRules rules(SchemeId scheme) const;
  void touch_criteria(SchemeId scheme) { dirty_criteria_.insert(scheme.value); }

  // ---- wallets.cc ----
  // Calls `each(award, part)` for the share of a job's refunded subsidy [from, until) (cumulative
  // over its refunds) that each run's award paid, taking the runs in order, so that no award gets
  // back more than it paid. Internal when a run's subsidy hold is not on an award, or the runs
  // paid less than `until`.
  Status split_refunded_subsidy(const Job& job, Minor from_minor, Minor until_minor,
                                const std::function<void(const Award&, Minor)>& each) const;
  Result<const AuditRecord*> check_money_reference(const std::string& reference,
                                                   const std::string& action,
                                                   const std::string& subject,
                                                   Minor amount_minor) const;
  void remember_money_reference(const std::string& reference);

  // ---- restore_jobs.cc: Restore's triage ----
  // Why a stored job cannot be taken back as it is ("" when it can); `busy` holds the GPUs of
  // the running jobs taken back so far, node id -> mask.
  std::string restore_problem(const Job& job, const ChangeSet& rows,
                              std::map<uint64_t, uint64_t>* busy) const;
  void set_aside(Job& job, const std::string& problem, bool state_unknown, int64_t latest_ms);
  Status release_set_aside_holds();

  // ==== State ====
  Cluster cluster_;
  Funding funding_;
  Ledger ledger_;
  JobTable jobs_;
  Applications applications_;
  ProgressReports reports_;
  SubmitKeys submit_keys_;
  std::vector<TopUp> topups_;
  std::unordered_map<std::string, size_t> topup_refs_;  // payment reference -> index in topups_
  std::string actor_ = "system";
  std::vector<AuditRecord> audit_;
  std::unordered_map<std::string, size_t>
      money_refs_;  // refund/adjustment reference -> audit index
  std::unordered_map<uint64_t, Minor>
      subsidy_refunded_;  // award id -> subsidy refunded of its jobs
  std::set<std::pair<int64_t, uint64_t>> unreturned_awards_;  // (end_ms, award id) not yet returned
  std::vector<SetAsideJob> set_aside_;

  // Scheduling.
  SchedulerConfig scheduling_;
  Scheduler scheduler_;
  FairShare fairshare_;
  RuntimePredictor predictor_;
  ServiceProfile service_;  // the GPU-seconds finished jobs had: least attained service learns
  // With adapt_demotion and the shortest-first order: it may become submit order and back
  // (an order the operator chose otherwise is left alone).
  bool adapt_order_ = false;
  int64_t priorities_at_ms_ = 0;
  std::vector<JobId> preemptions_;

  // Id sequences.
  uint64_t next_account_id_ = 4;
  uint64_t next_transfer_seq_ = 1;

  // Changes not yet drained (jobs keep theirs in jobs_).
  size_t orgs_saved_ = 0, projects_saved_ = 0, schemes_saved_ = 0, awards_saved_ = 0,
         topups_saved_ = 0;
  size_t audit_saved_ = 0;
  size_t application_events_saved_ = 0;
  size_t report_events_saved_ = 0;
  std::unordered_set<uint64_t> dirty_orgs_;  // organisations amended since the last drain
  std::unordered_set<uint64_t> dirty_funding_orders_;
  std::unordered_set<uint64_t> dirty_awards_;
  std::unordered_set<uint64_t> dirty_criteria_;
  std::vector<SubmitKey> unsaved_submit_keys_;  // added since the last drain
};

}  // namespace berth::core
