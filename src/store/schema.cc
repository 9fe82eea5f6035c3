#include "store/schema.h"

namespace berth::store {

namespace {

// Conventions: money is INTEGER minor units (*_minor), times are INTEGER milliseconds since
// the epoch (*_ms), enums are TEXT names ('RUNNING', 'university', 'wallet'), booleans are
// INTEGER 0/1, ids are INTEGER. An optional reference to another row is NULL when absent,
// so that foreign keys hold. 64-bit unsigned ids (transfer ids) are stored bit for bit.
constexpr const char* kTables = R"sql(
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

CREATE TABLE orgs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  no_overdraft INTEGER NOT NULL CHECK (no_overdraft IN (0, 1)),
  owner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  debits_pending_minor INTEGER NOT NULL,
  debits_posted_minor INTEGER NOT NULL,
  credits_pending_minor INTEGER NOT NULL,
  credits_posted_minor INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL REFERENCES orgs(id),
  name TEXT NOT NULL UNIQUE,
  wallet_account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_ms INTEGER NOT NULL
);

CREATE TABLE schemes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  rate_bps INTEGER NOT NULL,
  eligible_kinds INTEGER NOT NULL,
  eligible_kinds_text TEXT NOT NULL,
  shortfall TEXT NOT NULL,
  fund_account_id INTEGER NOT NULL REFERENCES accounts(id),
  created_ms INTEGER NOT NULL
);

CREATE TABLE awards (
  id INTEGER PRIMARY KEY,
  scheme_id INTEGER NOT NULL REFERENCES schemes(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount_minor INTEGER NOT NULL,
  gpu_level INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);

-- Append-only, in the order applied (seq). pending_state is NULL for a transfer that is not
-- a pending one, and 'pending', 'posted', 'voided' or 'expired' for a pending one, with
-- posted_minor the amount posted from it.
CREATE TABLE transfers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id INTEGER NOT NULL UNIQUE,
  debit_account_id INTEGER NOT NULL REFERENCES accounts(id),
  credit_account_id INTEGER NOT NULL REFERENCES accounts(id),
  amount_minor INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  flags_text TEXT NOT NULL,
  pending_id INTEGER REFERENCES transfers(id),
  timeout_ms INTEGER NOT NULL,
  code INTEGER NOT NULL,
  code_name TEXT NOT NULL,
  ref INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  pending_state TEXT,
  posted_minor INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE topups (
  transfer_id INTEGER PRIMARY KEY REFERENCES transfers(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  amount_minor INTEGER NOT NULL,
  reference TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  user_name TEXT NOT NULL,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  org_id INTEGER NOT NULL REFERENCES orgs(id),
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  tier TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  gpu_model TEXT NOT NULL,
  partition_name TEXT NOT NULL,
  time_limit_s INTEGER NOT NULL,
  requeue INTEGER NOT NULL CHECK (requeue IN (0, 1)),
  restarts INTEGER NOT NULL,
  submit_ms INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  node_id INTEGER,
  gpu_ids TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  term_signal INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL CHECK (cancel_requested IN (0, 1)),
  award_id INTEGER REFERENCES awards(id),
  rate_bps INTEGER NOT NULL,
  price_per_gpu_hour_minor INTEGER NOT NULL,
  max_cost_minor INTEGER NOT NULL,
  subsidy_held_minor INTEGER NOT NULL,
  copay_held_minor INTEGER NOT NULL,
  cost_minor INTEGER NOT NULL,
  subsidy_minor INTEGER NOT NULL,
  copay_minor INTEGER NOT NULL,
  launch TEXT NOT NULL
);

-- Informational: the nodes of the running configuration, replaced at each start.
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  gpu_model TEXT NOT NULL,
  gpus INTEGER NOT NULL,
  cpus INTEGER NOT NULL,
  memory_mb INTEGER NOT NULL,
  state TEXT NOT NULL
);

-- API tokens: only the SHA-256 of a token is stored. org_id is 0 for none.
CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  role TEXT NOT NULL,
  org_id INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql";

// What operators query most, and a readable view of balances.
constexpr const char* kIndexesAndViews = R"sql(
CREATE INDEX jobs_by_state ON jobs(state);
CREATE INDEX jobs_by_project ON jobs(project_id);
CREATE INDEX transfers_by_ref ON transfers(ref);
CREATE INDEX awards_by_project ON awards(project_id);
CREATE UNIQUE INDEX topups_by_reference ON topups(reference) WHERE reference <> '';

CREATE VIEW account_balances AS
  SELECT id, kind, name, owner_id,
         credits_posted_minor - debits_posted_minor AS balance_minor,
         credits_posted_minor - debits_posted_minor - debits_pending_minor AS available_minor,
         debits_pending_minor AS held_minor
  FROM accounts;
)sql";

// Holds, dependencies and job arrays. dependencies is the --dependency text
// ("afterok:12:13,afterany:14", '' for none). array_id is the array's first task's id, NULL for
// a job that is not an array task; it has no foreign key, because the tasks of one array are
// written in the same batch in no particular order. array_index is -1 for a job that is not an
// array task; array_throttle 0 means no cap ("%N" of --array).
constexpr const char* kHoldsDependenciesArrays = R"sql(
ALTER TABLE jobs ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
ALTER TABLE jobs ADD COLUMN dependencies TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN array_id INTEGER;
ALTER TABLE jobs ADD COLUMN array_index INTEGER NOT NULL DEFAULT -1;
ALTER TABLE jobs ADD COLUMN array_throttle INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_array ON jobs(array_id) WHERE array_id IS NOT NULL;
)sql";

// Gang jobs, runtime estimates and node topology. nodes is a job's node count (1 unless a gang
// job); more_nodes a running gang job's nodes after its first, as text "4:0,1,2,3;7:0,1,2,3"
// (node id, ':', its GPU ids; ';' between nodes; '' for none), the first staying in node_id and
// gpu_ids. estimate_s is the runtime backfill plans with, 0 for the time limit. A node's domain
// is its rack or NVLink domain, '' for none.
constexpr const char* kGangsEstimatesDomains = R"sql(
ALTER TABLE jobs ADD COLUMN nodes INTEGER NOT NULL DEFAULT 1 CHECK (nodes >= 1);
ALTER TABLE jobs ADD COLUMN more_nodes TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN estimate_s INTEGER NOT NULL DEFAULT 0 CHECK (estimate_s >= 0);
ALTER TABLE nodes ADD COLUMN domain TEXT NOT NULL DEFAULT '';
)sql";

// Funding applications, the rules of schemes, the life of awards and the audit record
// (docs/funding.md). Awards are now upserted: supplements change amount_minor and end_ms, an
// early closure sets closed_ms and end_ms, the return of the remainder returned_ms and
// returned_minor. audit is append-only: who changed money or an award, what, when and why.
// funding_order is the order a project's awards pay in, where one was stated (replaced whole).
// Scheme rules default to none (no exceptional rate, no cap, always open, awards as long as asked);
// an award's rate is its scheme's for older rows. applications holds the terms asked and granted
// (upserted); application_reviews one row per reviewer in the order they first reviewed (scores in
// the order of the scheme's criteria, "80,70,90"); scheme_criteria a scheme's criteria in order;
// application_events the append-only history. An award's application_id has no foreign key:
// an award is written before the application that names it, in the same batch.
constexpr const char* kApplications = R"sql(
ALTER TABLE schemes ADD COLUMN exceptional_rate_bps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schemes ADD COLUMN cap_per_project_minor INTEGER NOT NULL DEFAULT 0 CHECK (cap_per_project_minor >= 0);
ALTER TABLE schemes ADD COLUMN window_open_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schemes ADD COLUMN window_close_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schemes ADD COLUMN award_validity_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE awards ADD COLUMN rate_bps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE awards ADD COLUMN application_id INTEGER;
ALTER TABLE awards ADD COLUMN closed_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE awards ADD COLUMN returned_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE awards ADD COLUMN returned_minor INTEGER NOT NULL DEFAULT 0 CHECK (returned_minor >= 0);
UPDATE awards SET rate_bps = (SELECT rate_bps FROM schemes WHERE schemes.id = awards.scheme_id);
CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  scheme_id INTEGER NOT NULL REFERENCES schemes(id),
  project_id INTEGER NOT NULL REFERENCES projects(id),
  org_id INTEGER NOT NULL REFERENCES orgs(id),
  state TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  gpu_level INTEGER NOT NULL,
  gpu_model TEXT NOT NULL,
  duration_days INTEGER NOT NULL,
  justification TEXT NOT NULL,
  planned_work TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  submitted_ms INTEGER NOT NULL,
  submitted_by TEXT NOT NULL,
  decided_ms INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  weighted_score_e4 INTEGER NOT NULL,
  approved_minor INTEGER NOT NULL,
  approved_gpu_level INTEGER NOT NULL,
  approved_duration_days INTEGER NOT NULL,
  approved_rate_bps INTEGER NOT NULL,
  rejection_reason TEXT NOT NULL,
  withdrawal_note TEXT NOT NULL,
  award_id INTEGER REFERENCES awards(id)
);
CREATE INDEX applications_by_project ON applications(project_id);
CREATE TABLE application_reviews (
  application_id INTEGER NOT NULL REFERENCES applications(id),
  position INTEGER NOT NULL,
  reviewer TEXT NOT NULL,
  scores TEXT NOT NULL,
  weighted_score_e4 INTEGER NOT NULL,
  comment TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (application_id, position)
);
CREATE TABLE scheme_criteria (
  scheme_id INTEGER NOT NULL REFERENCES schemes(id),
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  weight_bps INTEGER NOT NULL CHECK (weight_bps > 0),
  PRIMARY KEY (scheme_id, position)
);
CREATE TABLE funding_order (
  project_id INTEGER NOT NULL REFERENCES projects(id),
  position INTEGER NOT NULL,
  award_id INTEGER NOT NULL REFERENCES awards(id),
  PRIMARY KEY (project_id, position)
);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  transfer_id INTEGER REFERENCES transfers(id),
  note TEXT NOT NULL
);
CREATE TABLE application_events (
  seq INTEGER PRIMARY KEY,
  application_id INTEGER REFERENCES applications(id),
  scheme_id INTEGER NOT NULL REFERENCES schemes(id),
  at_ms INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT NOT NULL
);
)sql";

// Migration 6: wallets. accounts.credit_limit_minor is how far below zero a wallet may go (0:
// not at all, as for every older row); jobs.refunded_minor is what has been refunded of a
// job's charge in all (0 for older rows), never more than its cost.
constexpr const char* kWallets = R"sql(
ALTER TABLE accounts ADD COLUMN credit_limit_minor INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit_minor >= 0);
ALTER TABLE jobs ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= cost_minor);
)sql";

// Progress reports (core/progress.h): the award's rule, each period's latest report, and the
// append-only history of who submitted, accepted or returned which.
constexpr const char* kProgressReports = R"sql(
ALTER TABLE awards ADD COLUMN report_every_months INTEGER NOT NULL DEFAULT 0 CHECK (report_every_months >= 0);
ALTER TABLE awards ADD COLUMN report_grace_days INTEGER NOT NULL DEFAULT 0 CHECK (report_grace_days >= 0);
CREATE TABLE progress_reports (
  award_id INTEGER NOT NULL REFERENCES awards(id),
  period INTEGER NOT NULL CHECK (period >= 1),
  due_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  text TEXT NOT NULL,
  submitted_ms INTEGER NOT NULL,
  submitted_by TEXT NOT NULL,
  decided_ms INTEGER NOT NULL,
  decided_by TEXT NOT NULL,
  return_reason TEXT NOT NULL,
  submissions INTEGER NOT NULL,
  PRIMARY KEY (award_id, period)
);
CREATE TABLE progress_report_events (
  seq INTEGER PRIMARY KEY,
  award_id INTEGER NOT NULL REFERENCES awards(id),
  period INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT NOT NULL
);
)sql";

// The caller's reference that makes a refund or an adjustment idempotent ('' for none, as for
// every older record); unique where given.
constexpr const char* kMoneyReferences = R"sql(
ALTER TABLE audit ADD COLUMN reference TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_by_reference ON audit(reference) WHERE reference != '';
)sql";

// Organisations' registration records (core::OrgRegistration): '' for a field not recorded, as
// for every older row; updated_ms is when an admin last amended the record (0: never). Orgs are
// upserted from here on, since the record can change.
constexpr const char* kOrgRegistration = R"sql(
ALTER TABLE orgs ADD COLUMN registration_number TEXT NOT NULL DEFAULT '' CHECK (length(CAST(registration_number AS BLOB)) <= 64);
ALTER TABLE orgs ADD COLUMN registered_address TEXT NOT NULL DEFAULT '' CHECK (length(CAST(registered_address AS BLOB)) <= 512);
ALTER TABLE orgs ADD COLUMN contact_name TEXT NOT NULL DEFAULT '' CHECK (length(CAST(contact_name AS BLOB)) <= 128);
ALTER TABLE orgs ADD COLUMN contact_email TEXT NOT NULL DEFAULT '' CHECK (length(CAST(contact_email AS BLOB)) <= 254);
ALTER TABLE orgs ADD COLUMN jurisdiction TEXT NOT NULL DEFAULT '' CHECK (length(CAST(jurisdiction AS BLOB)) <= 64);
ALTER TABLE orgs ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0 CHECK (updated_ms >= 0);
)sql";

// How long a requeued job's earlier attempts ran: its attained service, for least attained
// service scheduling, and its whole runtime, for prediction.
constexpr const char* kAttainedService = R"sql(
ALTER TABLE jobs ADD COLUMN ran_ms INTEGER NOT NULL DEFAULT 0;
)sql";

// Why a job's last run ended, when berth knows more than its exit status (it could not start:
// its output could not be opened, its user does not exist); '' for every older row.
constexpr const char* kJobEndReasons = R"sql(
ALTER TABLE jobs ADD COLUMN end_reason TEXT NOT NULL DEFAULT '' CHECK (length(CAST(end_reason AS BLOB)) <= 1024);
)sql";

// Migration 12: tokens that can be revoked and expire and that map to a Unix user, and the
// idempotency keys of job submits. It touches only the tokens table and a new table of its own,
// so it is independent of migration 11's change to the jobs. A token's public id is not stored:
// it is "tok_" and the first 12 hex digits of token_hash. created_by is who made it ('' for
// older rows, 'berthd' for the admin token berthd writes to admin.token: older rows of user and
// role admin were made so); expires_ms and revoked_ms are 0 for never; unix_user '' for the
// configured default job user. submit_keys holds one row per key and its first job, replaced
// when the key is used again after it expired (core/submit_keys.h).
constexpr const char* kTokensAndSubmitKeys = R"sql(
ALTER TABLE tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0 CHECK (expires_ms >= 0);
ALTER TABLE tokens ADD COLUMN revoked_ms INTEGER NOT NULL DEFAULT 0 CHECK (revoked_ms >= 0);
ALTER TABLE tokens ADD COLUMN unix_user TEXT NOT NULL DEFAULT '' CHECK (length(CAST(unix_user AS BLOB)) <= 64);
UPDATE tokens SET created_by = 'berthd' WHERE user_name = 'admin' AND role = 'admin';
CREATE TABLE submit_keys (
  user_name TEXT NOT NULL,
  org_id INTEGER NOT NULL REFERENCES orgs(id),
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  digest TEXT NOT NULL,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (user_name, org_id, key)
);
)sql";

// The nodes a job's user asked for (--nodelist) and ruled out (--exclude): node ids, comma
// separated and sorted ("3,5"); '' for none, as for every older row.
constexpr const char* kChosenNodes = R"sql(
ALTER TABLE jobs ADD COLUMN required_nodes TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN excluded_nodes TEXT NOT NULL DEFAULT '';
)sql";

// Node agents (issue 13): what each node's agent last said (its version, the address it is
// reached at, how it isolates jobs, when it was last heard: 0 for never), why the node is in
// its state (an administrator's reason, or "agent silent since ...") and whether it is down
// because its agent went silent (silent_down, 0/1). Older rows read as nodes no agent has
// registered for, with no reason.
constexpr const char* kNodeAgents = R"sql(
ALTER TABLE nodes ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN isolation TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN last_heartbeat_ms INTEGER NOT NULL DEFAULT 0 CHECK (last_heartbeat_ms >= 0);
ALTER TABLE nodes ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN silent_down INTEGER NOT NULL DEFAULT 0 CHECK (silent_down IN (0, 1));
)sql";

// A node down for its agent's silence keeps the state it had before (an administrator's drain
// and its reason) to take again when its agent registers. Older rows read as up before.
constexpr const char* kStateBeforeSilence = R"sql(
ALTER TABLE nodes ADD COLUMN state_before_silence TEXT NOT NULL DEFAULT 'up';
ALTER TABLE nodes ADD COLUMN reason_before_silence TEXT NOT NULL DEFAULT '';
)sql";

// A job's box on each node (core/job_box.h): the CPUs and memory its cgroup allows, decided at
// submit. 0 (no limit) for older rows, whose launch description still says what they asked.
constexpr const char* kJobBoxes = R"sql(
ALTER TABLE jobs ADD COLUMN cpus_per_node INTEGER NOT NULL DEFAULT 0 CHECK (cpus_per_node >= 0);
ALTER TABLE jobs ADD COLUMN memory_per_node_mb INTEGER NOT NULL DEFAULT 0 CHECK (memory_per_node_mb >= 0);
)sql";

// Issue 14: berthds sharing one PostgreSQL store. `leader` is the lease (store/lease.h), one
// row (id 1) from the start, epoch 0: no berthd has ever led; holder_id is the holder's random
// id, name, http_address and agents_address what clients and agents are told, since_ms and
// expires_ms by the database's clock. `job_scripts` holds submitted batch scripts by their
// SHA-256, where every berthd can read them (store/script_store.h).
constexpr const char* kLeaderAndScripts = R"sql(
CREATE TABLE leader (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL CHECK (epoch >= 0),
  holder_id TEXT NOT NULL,
  name TEXT NOT NULL,
  http_address TEXT NOT NULL,
  agents_address TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
INSERT INTO leader (id, epoch, holder_id, name, http_address, agents_address, since_ms, expires_ms)
  VALUES (1, 0, '', '', '', '', 0, 0);
CREATE TABLE job_scripts (
  sha256 TEXT PRIMARY KEY,
  script TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql";

constexpr Migration kMigrations[] = {
    {1, "tables", kTables},
    {2, "indexes and views", kIndexesAndViews},
    {3, "job holds, dependencies and arrays", kHoldsDependenciesArrays},
    {4, "gang jobs, runtime estimates and node domains", kGangsEstimatesDomains},
    {5, "funding applications and scheme rules", kApplications},
    {6, "wallet credit limits and job refunds", kWallets},
    {7, "progress reports", kProgressReports},
    {8, "refund and adjustment references", kMoneyReferences},
    {9, "organisation registration records", kOrgRegistration},
    {10, "attained service of requeued jobs", kAttainedService},
    {11, "job end reasons", kJobEndReasons},
    {12, "revocable tokens and idempotent submits", kTokensAndSubmitKeys},
    {13, "nodes chosen by a job's user", kChosenNodes},
    {14, "node agents", kNodeAgents},
    {15, "a node's state before its agent's silence", kStateBeforeSilence},
    {16, "job boxes", kJobBoxes},
    {17, "the leader's lease and job scripts", kLeaderAndScripts},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace berth::store
