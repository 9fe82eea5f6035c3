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

constexpr Migration kMigrations[] = {
    {1, "tables", kTables},
    {2, "indexes and views", kIndexesAndViews},
    {3, "job holds, dependencies and arrays", kHoldsDependenciesArrays},
    {4, "gang jobs, runtime estimates and node domains", kGangsEstimatesDomains},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace berth::store
