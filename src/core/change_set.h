// ChangeSet: the rows the Engine hands its owner to persist, and the rows Restore reads back.
//
// Engine::drain_changes() returns what was created or changed since the last drain;
// Engine::snapshot() returns everything. The store writes one in a single transaction and
// loads one for Engine::Restore(); reconcile reads a whole one. Plain data: it includes only
// the headers of the rows it carries, so the store and reconcile need not include the Engine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/applications.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/progress.h"
#include "core/submit_keys.h"

namespace berth::core {

// What was wrong with a stored job row that the store could read only in part: a field it
// could not understand was given a safe default (src/store/README.md, "Rows that cannot be
// read"), and Restore decides what becomes of the job.
struct JobRowProblem {
  std::string what;            // "unknown state 'X'; unreadable gpu_ids 'a,b'"
  bool state_unknown = false;  // the state itself was not understood (read as FAILED)
};

struct PendingUpdate {
  TransferId id;
  PendingState state;
  Minor posted_minor;
};

// Rows to write: everything created or changed since the last drain (or, from snapshot(),
// everything). Counters let restore continue the id sequences.
struct ChangeSet {
  std::vector<Org> orgs;  // upserted: created or amended
  std::vector<Project> projects;
  std::vector<Scheme> schemes;
  std::vector<Award> awards;  // upserted: granted or changed
  std::vector<TopUp> topups;
  std::vector<AuditRecord> audit;                       // appended, in seq order
  std::vector<Application> applications;                // upserted: created or changed
  std::vector<ApplicationEvent> application_events;     // appended, in seq order
  std::map<uint64_t, std::vector<Criterion>> criteria;  // scheme -> criteria, replaced whole
  std::map<uint64_t, std::vector<AwardId>>
      funding_orders;                      // project -> stated order, replaced whole
  std::vector<ProgressReport> reports;     // upserted: submitted or decided
  std::vector<ReportEvent> report_events;  // appended, in seq order
  std::vector<Job> jobs;
  std::vector<Account> accounts;
  std::vector<Transfer> transfers;  // in the order applied
  std::vector<PendingUpdate> pending;
  std::vector<SubmitKey> submit_keys;  // appended (a key reused after expiry replaces its row)
  // Loaded rows only: job id -> what could not be read of its row. Never written.
  std::map<uint64_t, JobRowProblem> job_problems;
  uint64_t next_job_id = 1;
  uint64_t next_account_id = 4;
  uint64_t next_transfer_seq = 1;
  bool empty() const {
    return orgs.empty() && projects.empty() && schemes.empty() && awards.empty() &&
           topups.empty() && audit.empty() && funding_orders.empty() && applications.empty() &&
           application_events.empty() && criteria.empty() && reports.empty() &&
           report_events.empty() && jobs.empty() && accounts.empty() && transfers.empty() &&
           pending.empty() && submit_keys.empty();
  }
};

}  // namespace berth::core
