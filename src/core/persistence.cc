// The Engine's persistence: a fresh centre (Create), one rebuilt from its rows (Restore), the
// rows changed since the last drain (drain_changes), all of them (snapshot), and the full
// check of the books (verify). Restore's triage of unreadable jobs is in restore_jobs.cc.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/check.h"
#include "core/engine.h"

namespace berth::core {

Result<std::unique_ptr<Engine>> Engine::Create(ClusterConfig config, int64_t now_ms,
                                               SchedulerConfig scheduling) {
  BERTH_ASSIGN_OR_RETURN(auto cluster, Cluster::Create(std::move(config)));
  std::unique_ptr<Engine> e(new Engine(std::move(cluster), std::move(scheduling)));
  e->priorities_at_ms_ = now_ms;
  const struct {
    AccountId id;
    AccountKind kind;
    bool no_overdraft;
    const char* name;
  } system[] = {
      {kProgrammeSourceAccount, AccountKind::kSource, false, "programme source"},
      {kExternalAccount, AccountKind::kExternal, false, "external payments"},
      {kRevenueAccount, AccountKind::kRevenue, true, "centre revenue"},
  };
  for (const auto& s : system) {
    Account a;
    a.id = s.id;
    a.kind = s.kind;
    a.no_overdraft = s.no_overdraft;
    a.name = s.name;
    BERTH_RETURN_IF_ERROR(e->ledger_.create_account(a, now_ms));
  }
  return e;
}

Result<std::unique_ptr<Engine>> Engine::Restore(ClusterConfig config, const ChangeSet& rows,
                                                SchedulerConfig scheduling) {
  BERTH_ASSIGN_OR_RETURN(auto cluster, Cluster::Create(std::move(config)));
  std::unique_ptr<Engine> e(new Engine(std::move(cluster), std::move(scheduling)));
  for (const Org& o : rows.orgs) BERTH_RETURN_IF_ERROR(e->funding_.add_org(o));
  for (const Project& p : rows.projects) BERTH_RETURN_IF_ERROR(e->funding_.add_project(p));
  for (const Scheme& s : rows.schemes) BERTH_RETURN_IF_ERROR(e->funding_.add_scheme(s));
  for (const Award& a : rows.awards) BERTH_RETURN_IF_ERROR(e->funding_.add_award(a));
  for (const Account& a : rows.accounts) BERTH_RETURN_IF_ERROR(e->ledger_.restore_account(a));
  std::unordered_map<TransferId, const PendingUpdate*> states;
  for (const PendingUpdate& u : rows.pending) states[u.id] = &u;
  for (const Transfer& t : rows.transfers) {
    PendingState state = PendingState::kNone;
    Minor posted = 0;
    if (auto it = states.find(t.id); it != states.end()) {
      state = it->second->state;
      posted = it->second->posted_minor;
    }
    BERTH_RETURN_IF_ERROR(e->ledger_.restore_transfer(t, state, posted));
  }
  // Unlike a job, the books are never guessed: berth will not run on money it cannot account for.
  if (const Status books = e->ledger_.verify(); !books.ok())
    return Status(books.code(),
                  "the books do not verify, so berthd will not start on them (restore the database "
                  "from a backup): " +
                      books.message());
  for (const TopUp& t : rows.topups) {
    if (!t.reference.empty()) e->topup_refs_[t.reference] = e->topups_.size();
    e->topups_.push_back(t);
  }
  BERTH_RETURN_IF_ERROR(
      e->applications_.restore(rows.applications, rows.criteria, rows.application_events));
  for (const Application& a : rows.applications)
    if (a.award.valid() && !e->funding_.award(a.award))
      return Status::Internal("application " + std::to_string(a.id.value) + " names award " +
                              std::to_string(a.award.value) + ", which does not exist");
  e->application_events_saved_ = rows.application_events.size();
  for (const auto& [project, order] : rows.funding_orders)
    BERTH_RETURN_IF_ERROR(e->funding_.set_funding_order(ProjectId(project), order));
  for (const ProgressReport& r : rows.reports)
    if (!e->funding_.award(r.award))
      return Status::Internal("a progress report names award " + std::to_string(r.award.value) +
                              ", which does not exist");
  BERTH_RETURN_IF_ERROR(e->reports_.restore(rows.reports, rows.report_events));
  e->report_events_saved_ = rows.report_events.size();
  for (size_t i = 0; i < rows.audit.size(); ++i)
    if (rows.audit[i].seq != i + 1)
      return Status::Internal("audit records are not in sequence at " + std::to_string(i + 1));
  e->audit_ = rows.audit;
  e->audit_saved_ = rows.audit.size();
  for (size_t i = 0; i < e->audit_.size(); ++i)
    if (!e->audit_[i].reference.empty()) e->money_refs_[e->audit_[i].reference] = i;
  for (const Award& a : rows.awards)
    if (a.returned_ms == 0) e->unreturned_awards_.insert({a.end_ms, a.id.value});
  e->apply_shares();
  // Fair share: past usage from the jobs' own records, decayed to the latest moment recorded.
  int64_t latest_ms = 0;
  for (const Job& j : rows.jobs)
    latest_ms = std::max({latest_ms, j.submit_ms, j.start_ms, j.end_ms});
  for (const Job& j : rows.jobs) {
    BERTH_RETURN_IF_ERROR(e->jobs_.add(j).status());
    if (j.start_ms > 0 && j.end_ms > j.start_ms) {
      const double age_s = static_cast<double>(latest_ms - j.end_ms) / 1000.0;
      const double k = scheduling.usage_half_life_s > 0
                           ? std::exp2(-age_s / static_cast<double>(scheduling.usage_half_life_s))
                           : 1;
      e->fairshare_.add_usage(j.org, j.project,
                              k * j.gpus * static_cast<double>(j.end_ms - j.start_ms) / 1000.0);
    }
  }
  // A job that cannot be taken back as stored is set aside, never a refused start
  // (restore_jobs.cc).
  std::map<uint64_t, uint64_t> busy_gpus;  // node id -> GPUs of the running jobs taken back
  for (Job& job : e->jobs_.all()) {
    const std::string problem = e->restore_problem(job, rows, &busy_gpus);
    if (problem.empty()) continue;
    auto it = rows.job_problems.find(job.id.value);
    e->set_aside(job, problem, it != rows.job_problems.end() && it->second.state_unknown,
                 latest_ms);
  }
  e->fairshare_.decay(std::max<int64_t>(latest_ms, 1));
  // Each award's share of its jobs' refunded subsidy, split as refund_job split it.
  for (const Job& j : e->jobs_.all()) {
    if (j.refunded_minor <= 0 || j.cost_minor <= 0) continue;
    const Minor refunded_subsidy = mul_div_floor(j.refunded_minor, j.subsidy_minor, j.cost_minor);
    BERTH_RETURN_IF_ERROR(e->split_refunded_subsidy(
        j, 0, refunded_subsidy,
        [&](const Award& a, Minor part) { e->subsidy_refunded_[a.id.value] += part; }));
  }
  // The runtime history, replayed in the order jobs ended.
  std::vector<const Job*> by_end;
  for (const Job& j : e->jobs_.all())
    if (j.start_ms > 0 && j.end_ms > 0 && is_final(j.state)) by_end.push_back(&j);
  std::sort(by_end.begin(), by_end.end(), [](const Job* a, const Job* b) {
    return a->end_ms != b->end_ms ? a->end_ms < b->end_ms : a->id < b->id;
  });
  for (const Job* j : by_end) e->learn_runtime(*j);
  e->priorities_at_ms_ = latest_ms;
  for (Job& job : e->jobs_.all()) {
    if (job.state != JobState::kPending) continue;
    for (const Dependency& d : job.dependencies) {
      if (d.job.value == 0 || d.job.value > rows.jobs.size())
        return Status::Internal("job " + std::to_string(job.id.value) +
                                " depends on a job that does not exist");
      if (!is_final(e->jobs_.at(d.job).state)) e->jobs_.add_dependent(d.job, job.id);
    }
    // Not stored: a waiting job with a predicted runtime goes on being re-predicted.
    job.estimate_from_history = scheduling.predict_runtimes && job.estimate_s > 0;
    e->queue_or_park(job, latest_ms);
    e->jobs_.count_pending(job, +1);
  }
  for (const SubmitKey& k : rows.submit_keys) {
    if (!e->jobs_.exists(k.job))
      return Status::Internal("idempotency key '" + k.key + "' names job " +
                              std::to_string(k.job.value) + ", which does not exist");
    e->submit_keys_.add(k);
  }
  e->jobs_.forget_changed();  // restoring changes nothing that needs writing
  for (Job& job : e->jobs_.all()) {
    if (job.state == JobState::kRunning) {
      BERTH_RETURN_IF_ERROR(e->cluster_.reserve(job.node, job.gpu_ids));
      for (const Placement& p : job.more_nodes)
        BERTH_RETURN_IF_ERROR(e->cluster_.reserve(p.node, p.gpu_ids));
      e->jobs_.count_running(job, +1);
      e->scheduler_.running(job);
    }
  }
  e->next_account_id_ = rows.next_account_id;
  e->next_transfer_seq_ = rows.next_transfer_seq;
  e->orgs_saved_ = rows.orgs.size();
  e->projects_saved_ = rows.projects.size();
  e->schemes_saved_ = rows.schemes.size();
  e->awards_saved_ = rows.awards.size();
  e->topups_saved_ = rows.topups.size();
  e->ledger_.drain_changes();
  BERTH_RETURN_IF_ERROR(
      e->release_set_aside_holds());  // after the drain: these are changes to write
  BERTH_RETURN_IF_ERROR(e->verify());
  return e;
}

ChangeSet Engine::drain_changes() {
  ChangeSet c;
  for (uint64_t id : dirty_orgs_)
    if (id <= orgs_saved_) c.orgs.push_back(*funding_.org(OrgId(id)));
  std::sort(c.orgs.begin(), c.orgs.end(), [](const Org& a, const Org& b) { return a.id < b.id; });
  dirty_orgs_.clear();
  c.orgs.insert(c.orgs.end(), funding_.orgs().begin() + static_cast<long>(orgs_saved_),
                funding_.orgs().end());
  c.projects.assign(funding_.projects().begin() + static_cast<long>(projects_saved_),
                    funding_.projects().end());
  c.schemes.assign(funding_.schemes().begin() + static_cast<long>(schemes_saved_),
                   funding_.schemes().end());
  for (uint64_t id : dirty_awards_)
    if (id <= awards_saved_) c.awards.push_back(*funding_.award(AwardId(id)));
  std::sort(c.awards.begin(), c.awards.end(),
            [](const Award& a, const Award& b) { return a.id < b.id; });
  c.awards.insert(c.awards.end(), funding_.awards().begin() + static_cast<long>(awards_saved_),
                  funding_.awards().end());
  dirty_awards_.clear();
  c.audit.assign(audit_.begin() + static_cast<long>(audit_saved_), audit_.end());
  audit_saved_ = audit_.size();
  c.topups.assign(topups_.begin() + static_cast<long>(topups_saved_), topups_.end());
  orgs_saved_ = funding_.orgs().size();
  projects_saved_ = funding_.projects().size();
  schemes_saved_ = funding_.schemes().size();
  awards_saved_ = funding_.awards().size();
  topups_saved_ = topups_.size();
  c.application_events = applications_.events_since(application_events_saved_);
  for (ApplicationId id : applications_.changed_since(application_events_saved_))
    c.applications.push_back(*applications_.get(id));
  application_events_saved_ = applications_.events().size();
  c.report_events = reports_.events_since(report_events_saved_);
  c.reports = reports_.changed_since(report_events_saved_);
  report_events_saved_ = reports_.events().size();
  for (uint64_t scheme : dirty_criteria_)
    c.criteria[scheme] = applications_.criteria(SchemeId(scheme));
  dirty_criteria_.clear();
  for (uint64_t project : dirty_funding_orders_)
    c.funding_orders[project] = funding_.funding_order(ProjectId(project));
  dirty_funding_orders_.clear();
  const std::vector<JobId> ids = jobs_.take_changed();
  c.jobs.reserve(ids.size());
  for (JobId id : ids) c.jobs.push_back(jobs_.at(id));
  LedgerChanges lc = ledger_.drain_changes();
  std::sort(lc.accounts.begin(), lc.accounts.end());
  lc.accounts.erase(std::unique(lc.accounts.begin(), lc.accounts.end()), lc.accounts.end());
  for (AccountId id : lc.accounts) c.accounts.push_back(*ledger_.account(id));
  for (TransferId id : lc.transfers) c.transfers.push_back(*ledger_.transfer(id));
  std::sort(lc.pending_states.begin(), lc.pending_states.end());
  lc.pending_states.erase(std::unique(lc.pending_states.begin(), lc.pending_states.end()),
                          lc.pending_states.end());
  for (TransferId id : lc.pending_states)
    c.pending.push_back({id, ledger_.pending_state(id), ledger_.posted_amount(id)});
  c.submit_keys = std::move(unsaved_submit_keys_);
  unsaved_submit_keys_.clear();
  c.next_job_id = jobs_.next_id().value;
  c.next_account_id = next_account_id_;
  c.next_transfer_seq = next_transfer_seq_;
  return c;
}

ChangeSet Engine::snapshot() const {
  ChangeSet c;
  c.orgs = funding_.orgs();
  c.projects = funding_.projects();
  c.schemes = funding_.schemes();
  c.awards = funding_.awards();
  c.topups = topups_;
  c.audit = audit_;
  c.applications = applications_.all();
  c.application_events = applications_.events();
  c.criteria = applications_.all_criteria();
  for (const auto& [project, order] : funding_.funding_orders()) c.funding_orders[project] = order;
  c.reports = reports_.all();
  c.report_events = reports_.events();
  c.jobs.assign(jobs_.all().begin(), jobs_.all().end());
  c.submit_keys = submit_keys_.all();
  for (const Account* a : ledger_.accounts()) c.accounts.push_back(*a);
  c.transfers = ledger_.transfers_in_order();
  for (const Transfer& t : c.transfers)
    if (t.flags & kPending)
      c.pending.push_back({t.id, ledger_.pending_state(t.id), ledger_.posted_amount(t.id)});
  c.next_job_id = jobs_.next_id().value;
  c.next_account_id = next_account_id_;
  c.next_transfer_seq = next_transfer_seq_;
  return c;
}

Status Engine::verify() const {
  BERTH_RETURN_IF_ERROR(ledger_.verify());
  // An award is credited only by its grants and by refunds of its jobs' subsidy made before it
  // ended, so what refunds paid into it is at most the subsidy refunded of its jobs, which is
  // at most what its jobs were charged.
  for (const Award& a : funding_.awards()) {
    const Account* acct = ledger_.account(a.account);
    const Minor refunded = subsidy_refunded(a.id);
    const Minor into = acct ? acct->credits_posted - a.amount_minor : 0;
    const Minor charged = acct ? acct->debits_posted - a.returned_minor : 0;
    if (!acct || into < 0 || into > refunded || refunded > charged)
      return Status::Internal("award " + std::to_string(a.id.value) + ": refunds paid into it (" +
                              format_amount(into) + "), subsidy refunded of its jobs (" +
                              format_amount(refunded) + ") and subsidy charged (" +
                              format_amount(charged) + ") disagree");
  }
  for (const Job& j : jobs_.all()) {
    const std::string name = "job " + std::to_string(j.id.value);
    if (j.subsidy_minor + j.copay_minor != j.cost_minor)
      return Status::Internal(name + ": subsidy + co-payment != cost");
    if (j.refunded_minor < 0 || j.refunded_minor > j.cost_minor)
      return Status::Internal(name + ": refunded more than its cost");
    // The row keeps its last run's rate only: a requeued job's earlier runs may have been paid
    // at another rate, or by no award at all, so for it only 0 <= subsidy <= cost is known here
    // (reconcile judges each run at its own award's rate).
    const int64_t rate_bound_bps = j.restarts == 0 ? j.rate_bps : 10'000;
    if (j.subsidy_minor > subsidy_share_minor(j.cost_minor, rate_bound_bps) && j.subsidy_minor > 0)
      return Status::Internal(name + ": subsidy above floor(rate * cost)");
    if (j.subsidy_minor < 0) return Status::Internal(name + ": negative subsidy");
    if (j.state == JobState::kRunning && j.award.valid()) {
      const Award* a = funding_.award(j.award);
      // An award closed early may end at the moment a job on it started.
      const bool valid_then =
          a && a->start_ms <= j.start_ms &&
          (j.start_ms < a->end_ms || (a->closed_ms != 0 && j.start_ms <= a->closed_ms));
      if (!valid_then) return Status::Internal(name + ": held outside its award's dates");
    }
  }
  return Status::Ok();
}

}  // namespace berth::core
