// The entities of berth's core: organisations, projects, schemes, awards, nodes, jobs.
// Plain structs; the rules that govern them live in funding, cluster, scheduler and engine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/money.h"
#include "core/job_box.h"

namespace berth::core {

enum class OrgKind : uint8_t { kStartup = 0, kEnterprise, kUniversity, kInstitute, kOther };
inline constexpr int kOrgKindCount = 5;
inline constexpr auto kOrgKindNames =
    enum_names<OrgKind>("organisation kind", {{OrgKind::kStartup, "startup"},
                                              {OrgKind::kEnterprise, "enterprise"},
                                              {OrgKind::kUniversity, "university"},
                                              {OrgKind::kInstitute, "institute"},
                                              {OrgKind::kOther, "other"}});
const char* org_kind_name(OrgKind kind);
bool parse_org_kind(const std::string& text, OrgKind* out);

// An organisation's registration record: where it is registered and whom the centre writes to.
// Every field is optional ("" = not recorded); one that is recorded has no leading or trailing
// space, is at most its limit below, and holds no control characters. A contact email has one
// '@' with text on both sides, a '.' in the domain, and no spaces.
struct OrgRegistration {
  std::string number;   // e.g. a Hong Kong Business Registration number, a company number
  std::string address;  // the registered address
  std::string contact_name;
  std::string contact_email;
  std::string jurisdiction;  // the country or jurisdiction of registration
  bool operator==(const OrgRegistration&) const = default;
};
inline constexpr size_t kMaxRegistrationNumberBytes = 64;
inline constexpr size_t kMaxAddressBytes = 512;
inline constexpr size_t kMaxContactNameBytes = 128;
inline constexpr size_t kMaxContactEmailBytes = 254;
inline constexpr size_t kMaxJurisdictionBytes = 64;

// Fields of a registration record given by a request (an organisation's creation or an
// admin's amendment): each given one is trimmed and must then be non-empty and valid; one not
// given is left as it was (not recorded, for a new organisation).
struct RegistrationChange {
  std::optional<std::string> number, address, contact_name, contact_email, jurisdiction;
  bool empty() const {
    return !number && !address && !contact_name && !contact_email && !jurisdiction;
  }
};

struct Org {
  OrgId id;
  std::string name;
  OrgKind kind = OrgKind::kOther;
  int64_t created_ms = 0;
  OrgRegistration registration;
  int64_t updated_ms = 0;  // when an admin last amended its registration record (0: never)
};

struct Project {
  ProjectId id;
  OrgId org;
  std::string name;
  AccountId wallet;
  int64_t created_ms = 0;
};

// What happens when an award cannot cover a job's subsidy share.
enum class Shortfall : uint8_t { kWallet = 0, kWait = 1 };
inline constexpr auto kShortfallNames = enum_names<Shortfall>(
    "shortfall", {{Shortfall::kWallet, "wallet"}, {Shortfall::kWait, "wait"}});
const char* shortfall_name(Shortfall s);
bool parse_shortfall(const std::string& text, Shortfall* out);

struct Scheme {
  SchemeId id;
  std::string name;
  int64_t rate_bps = 0;         // subsidy rate, 0..10000
  uint32_t eligible_kinds = 0;  // bit (1 << OrgKind)
  Shortfall shortfall = Shortfall::kWallet;
  AccountId fund;
  int64_t created_ms = 0;
  // The rules of its applications (docs/funding.md). A reviewer may grant the exceptional rate
  // (0: none; else above rate_bps, at most 10000) when approving; the cap bounds what one
  // project may be awarded from the scheme in all (0: no cap); applications are submitted in
  // [window_open_ms, window_close_ms) (0 close: no end); an award lasts at most
  // award_validity_days (0: as long as was asked).
  int64_t exceptional_rate_bps = 0;
  Minor cap_per_project_minor = 0;
  int64_t window_open_ms = 0;
  int64_t window_close_ms = 0;
  int award_validity_days = 0;
  bool eligible(OrgKind kind) const { return (eligible_kinds >> static_cast<int>(kind)) & 1u; }
};

struct Award {
  AwardId id;
  SchemeId scheme;
  ProjectId project;
  AccountId account;
  Minor amount_minor = 0;  // granted
  int gpu_level = 0;       // cap on the project's concurrently held GPUs while active
  int64_t start_ms = 0;    // valid in [start_ms, end_ms)
  int64_t end_ms = 0;
  int64_t created_ms = 0;
  int64_t rate_bps = 0;       // its subsidy rate: the scheme's, or the exceptional one granted
  ApplicationId application;  // the application it was granted on (0: awarded directly)
  int64_t closed_ms = 0;      // closed early at (its end_ms was brought forward to it); 0: not
  // Once it has ended and every hold on it is settled, what was left went back to the fund.
  int64_t returned_ms = 0;  // 0: not yet
  Minor returned_minor = 0;
  // Progress reports (core/progress.h): one is due every report_every_months calendar months
  // from start_ms while before end_ms (0: none required); a report not accepted by its due date
  // plus report_grace_days is overdue, and while one is, the award pays for no new job.
  int report_every_months = 0;
  int report_grace_days = 0;
  bool active_at(int64_t now_ms) const { return start_ms <= now_ms && now_ms < end_ms; }
};

// One step of the audit record: who changed money or an award, what, when and why. Job holds
// and settlements are not here: their transfers name the job, and the job its user.
struct AuditRecord {
  uint64_t seq = 0;  // 1, 2, ...
  int64_t at_ms = 0;
  std::string user;        // who acted ("system" for berth's own steps, such as an award's return)
  std::string action;      // "scheme.create", "scheme.fund", "award.grant", "award.supplement",
                           // "award.close", "award.return", "wallet.topup", ...
  std::string subject;     // what it changed: "scheme 1", "award 3", "project 2"
  Minor amount_minor = 0;  // the money moved (0: none)
  TransferId transfer;     // the transfer that moved it (0: none)
  std::string note;        // why
  std::string reference;   // the caller's idempotency key, for refunds and adjustments ("" none)
  bool operator==(const AuditRecord&) const = default;
};

struct TopUp {
  TransferId transfer;
  ProjectId project;
  Minor amount_minor = 0;
  std::string reference;
  int64_t created_ms = 0;
};

enum class NodeState : uint8_t { kUp = 0, kDrain, kDown };
inline constexpr auto kNodeStateNames = enum_names<NodeState>(
    "node state",
    {{NodeState::kUp, "up"}, {NodeState::kDrain, "drain"}, {NodeState::kDown, "down"}});
const char* node_state_name(NodeState s);

struct Node {
  NodeId id;
  std::string name;
  std::string gpu_model;
  int gpus = 0;  // at most 64
  int cpus = 0;
  int64_t memory_mb = 0;
  NodeState state = NodeState::kUp;
  std::string domain;  // topology: its rack or NVLink domain ("" = none); a gang job is
                       // kept within one domain where possible
  // What its agent last said (issue 13); empty / 0 while no agent has ever registered for it.
  std::string agent_version;
  std::string address;            // where its agent is reached (rank 0's MASTER_ADDR, later)
  std::string isolation;          // how its agent boxes jobs ("cgroup1", "none (not root)")
  int64_t last_heartbeat_ms = 0;  // last time its agent was heard (registration or heartbeat)
  std::string state_reason;  // why it is drained or down ("agent silent since ...", an admin's)
  bool silent_down = false;  // down because its agent went silent: back when it registers
  // While silent_down: the state it had when its agent went silent (an administrator's drain
  // or down, or a drain berth made), with its reason, which it takes again when its agent
  // registers. Silence is undone by the agent's return; what was set for another reason stays.
  NodeState state_before_silence = NodeState::kUp;
  std::string reason_before_silence;
  bool operator==(const Node&) const = default;
};

struct Partition {
  std::string name;
  int64_t max_time_s = 0;
  int64_t default_time_s = 0;
  bool is_default = false;
  std::vector<std::string> allowed_orgs;  // organisation names; empty = open to all
  BoxDefaults box_defaults;               // CPUs and memory of a job that asks none
};

struct GpuPrice {
  std::string gpu_model;
  Minor per_gpu_hour_minor = 0;
};

enum class JobState : uint8_t {
  kPending = 0,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kPreempted,
  kNodeFail,
  kOutOfMemory  // the OOM killer killed in its cgroup (Slurm's OUT_OF_MEMORY); stored: add after
};
inline constexpr auto kJobStateNames =
    enum_names<JobState>("job state", {{JobState::kPending, "PENDING"},
                                       {JobState::kRunning, "RUNNING"},
                                       {JobState::kCompleted, "COMPLETED"},
                                       {JobState::kFailed, "FAILED"},
                                       {JobState::kCancelled, "CANCELLED"},
                                       {JobState::kTimeout, "TIMEOUT"},
                                       {JobState::kPreempted, "PREEMPTED"},
                                       {JobState::kNodeFail, "NODE_FAIL"},
                                       {JobState::kOutOfMemory, "OUT_OF_MEMORY"}});
const char* job_state_name(JobState s);
bool parse_job_state(const std::string& text, JobState* out);
inline bool is_final(JobState s) { return s != JobState::kPending && s != JobState::kRunning; }

enum class PendingReason : uint8_t {
  kNone = 0,
  kPriority,
  kResources,
  kInsufficientFunds,
  kAwardCap,
  kQuotaLimit,
  kJobHeldUser,
  kDependency,
  kDependencyNeverSatisfied,
  kJobArrayTaskLimit,
  kProgressReportOverdue  // its project's award has an overdue progress report and the scheme waits
};
inline constexpr int kPendingReasonCount = 11;
inline constexpr auto kPendingReasonNames = enum_names<PendingReason>(
    "pending reason", {{PendingReason::kNone, "None"},
                       {PendingReason::kPriority, "Priority"},
                       {PendingReason::kResources, "Resources"},
                       {PendingReason::kInsufficientFunds, "InsufficientFunds"},
                       {PendingReason::kAwardCap, "AwardCap"},
                       {PendingReason::kQuotaLimit, "QuotaLimit"},
                       {PendingReason::kJobHeldUser, "JobHeldUser"},
                       {PendingReason::kDependency, "Dependency"},
                       {PendingReason::kDependencyNeverSatisfied, "DependencyNeverSatisfied"},
                       {PendingReason::kJobArrayTaskLimit, "JobArrayTaskLimit"},
                       {PendingReason::kProgressReportOverdue, "ProgressReportOverdue"}});
static_assert(kPendingReasonNames.entries().size() == kPendingReasonCount);
const char* pending_reason_name(PendingReason r);
bool parse_pending_reason(const std::string& text, PendingReason* out);
// Whether a job waiting for this reason waits for money (its wallet, its award's money or GPU
// level, an overdue progress report) rather than for the cluster, a hold or a dependency.
constexpr bool waits_for_money(PendingReason r) {
  return r == PendingReason::kInsufficientFunds || r == PendingReason::kAwardCap ||
         r == PendingReason::kProgressReportOverdue;
}

enum class Tier : uint8_t { kHigh = 0, kNormal = 1, kSpot = 2 };
inline constexpr auto kTierNames = enum_names<Tier>(
    "tier", {{Tier::kHigh, "high"}, {Tier::kNormal, "normal"}, {Tier::kSpot, "spot"}});

// A dependency on another job, as Slurm's --dependency=afterok:ID etc.
enum class DependencyType : uint8_t { kAfterOk = 0, kAfterAny, kAfterNotOk };
inline constexpr auto kDependencyTypeNames =
    enum_names<DependencyType>("dependency type", {{DependencyType::kAfterOk, "afterok"},
                                                   {DependencyType::kAfterAny, "afterany"},
                                                   {DependencyType::kAfterNotOk, "afternotok"}});
struct Dependency {
  DependencyType type = DependencyType::kAfterOk;
  JobId job;
  bool operator==(const Dependency&) const = default;
};
const char* dependency_type_name(DependencyType t);
// "afterok:12:13,afterany:14" <-> dependencies. parse returns false on malformed text.
bool parse_dependencies(const std::string& text, std::vector<Dependency>* out);
std::string format_dependencies(const std::vector<Dependency>& deps);

// Slurm's --array: "0-15", "1,3,5", "0-99:10", each optionally ending in "%N" (at most N tasks
// running at once). At most kMaxArrayTasks indices, each 0..kMaxArrayIndex, no duplicates.
inline constexpr int kMaxArrayTasks = 10'000;
inline constexpr int kMaxArrayIndex = 1'000'000;
bool parse_array_spec(const std::string& text, std::vector<int>* indices, int* throttle,
                      std::string* error);
const char* tier_name(Tier t);
bool parse_tier(const std::string& text, Tier* out);

// Where a running job's GPUs are on one node.
struct Placement {
  NodeId node;
  std::vector<int> gpu_ids;
  bool operator==(const Placement&) const = default;
};

// The nodes a job's user chose (Slurm's --nodelist and --exclude): a job with required nodes runs
// on exactly those, all at once; it never runs on an excluded node. Both empty: the scheduler
// chooses. Sorted by id (core/node_choice.h makes them from names and checks them).
struct NodeChoice {
  std::vector<NodeId> required;
  std::vector<NodeId> excluded;
  bool empty() const { return required.empty() && excluded.empty(); }
  bool allows(NodeId n) const {
    if (!required.empty() && !std::binary_search(required.begin(), required.end(), n)) return false;
    return !std::binary_search(excluded.begin(), excluded.end(), n);
  }
  bool operator==(const NodeChoice&) const = default;
};

struct Job {
  JobId id;
  std::string name;
  std::string user;
  ProjectId project;
  OrgId org;
  JobState state = JobState::kPending;
  PendingReason reason = PendingReason::kNone;
  Tier tier = Tier::kNormal;
  int gpus = 1;           // in all; a gang job has gpus / nodes on each of its nodes
  int nodes = 1;          // a gang job starts on all of its nodes at once or not at all
  std::string gpu_model;  // empty: any
  std::string partition;
  int64_t time_limit_s = 0;
  int64_t estimate_s = 0;  // the runtime backfill plans with (<= time limit; 0: the time limit):
                           // predicted from the project's history when no limit was given
  // The run time its money hold covers when shorter than its time limit (0: the time limit).
  // Only `berth sim` sets it, for trace jobs without a limit that must still run as long as they
  // ran (berthd stops a job at its limit, so it always holds the limit; not stored). A job is
  // charged at most what it held, so one that runs past this is charged for this long.
  int64_t hold_s = 0;
  bool requeue = false;
  int restarts = 0;    // times requeued; part of its hold ids
  int64_t ran_ms = 0;  // how long its earlier attempts ran (those before a requeue)
  int64_t submit_ms = 0;
  int64_t start_ms = 0;               // 0 until started
  int64_t end_ms = 0;                 // 0 until ended
  NodeId node;                        // its (first) node while running: where its batch script runs
  std::vector<int> gpu_ids;           // the GPUs it holds there
  std::vector<Placement> more_nodes;  // a gang job's other nodes and GPUs, in node order
  NodeChoice node_choice;             // the nodes its user asked for or ruled out
  // Its box on each of its nodes (core/job_box.h), decided at submit from what it asked and
  // its partition's defaults: what its cgroup allows (0: no limit). Not scheduled: berth
  // places GPUs, and a node's CPUs and memory are shared by the boxes of its jobs.
  int64_t cpus_per_node = 0;
  int64_t memory_per_node_mb = 0;
  int exit_code = 0;
  int term_signal = 0;
  std::string end_reason;  // why its last run ended, when known ("" otherwise): shown to its user
  bool cancel_requested = false;
  // Scheduling state derived afresh after a restart (not stored).
  int64_t priority = 0;
  int64_t expected_start_ms = 0;  // where backfill reserved resources for it; 0 = not planned
  bool preempt_requested =
      false;  // a spot job being stopped for a higher tier; requeued when it ends
  bool estimate_from_history = false;  // estimate_s is predicted, and refreshed while it waits
  // Holds, dependencies and arrays.
  bool held = false;                     // held by a user or admin: not scheduled until released
  std::vector<Dependency> dependencies;  // all must be satisfied before it is scheduled
  JobId array_id;                        // the first task's id, for a task of a job array
  int array_index = -1;                  // its index in the array (-1: not an array task)
  int array_throttle = 0;  // at most this many of the array's tasks run at once (0: no cap)
  // Money, in minor units. Holds are placed at start and settled at end.
  AwardId award;                       // the award holding the subsidy share (0: none)
  int64_t rate_bps = 0;                // the subsidy rate applied
  Minor price_per_gpu_hour_minor = 0;  // the price when it started
  Minor max_cost_minor = 0;
  Minor subsidy_held_minor = 0;
  Minor copay_held_minor = 0;
  Minor cost_minor = 0;
  Minor subsidy_minor = 0;
  Minor copay_minor = 0;
  // Refunded after it ended (Engine::refund_job), in all: at most cost_minor. Of it, the
  // subsidy part floor(refunded * subsidy / cost) went back to the funder, the rest to the wallet.
  Minor refunded_minor = 0;
  int gpus_per_node() const { return gpus / nodes; }
  bool runs_on(NodeId n) const {
    if (node == n) return true;
    for (const Placement& p : more_nodes)
      if (p.node == n) return true;
    return false;
  }
  // The time backfill expects it to run for.
  int64_t planned_s() const { return estimate_s > 0 ? estimate_s : time_limit_s; }
  // The run time its money hold covers: its time limit, or hold_s when shorter.
  int64_t held_s() const { return hold_s > 0 && hold_s < time_limit_s ? hold_s : time_limit_s; }
  // The GPU-seconds it has had so far, over every attempt (its attained service).
  int64_t attained_gpu_s(int64_t now_ms) const {
    const int64_t running_ms =
        state == JobState::kRunning && now_ms > start_ms ? now_ms - start_ms : 0;
    return int64_t{gpus} * ((ran_ms + running_ms) / 1000);
  }
  // Whether it has had `after_gpu_s` GPU-seconds (least attained service demotes it; 0: never).
  bool demoted(int64_t after_gpu_s, int64_t now_ms) const {
    return after_gpu_s > 0 && attained_gpu_s(now_ms) >= after_gpu_s;
  }
  // Starvation (Tiresias's STARVELIMIT): it waited after_s or longer for its first start, and
  // has not been stopped since (after_s 0: never).
  bool starving(int64_t after_s, int64_t now_ms) const {
    if (after_s <= 0 || ran_ms > 0) return false;
    const int64_t until = state == JobState::kRunning ? start_ms : now_ms;
    return until - submit_ms >= after_s * 1000;
  }
  // How to run it (workdir, script, outputs, env) as JSON; opaque to the core.
  std::string launch;
};

}  // namespace berth::core
