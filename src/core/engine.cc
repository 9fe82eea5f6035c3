#include "core/engine.h"

#include <algorithm>
#include <limits>
#include <cmath>
#include <unordered_map>

#include "common/timefmt.h"
#include "core/check.h"
#include "core/model_names.h"

namespace berth::core {

namespace {
constexpr uint64_t kSequenceTransferBit = uint64_t{1} << 62;
constexpr size_t kMaxJobNameChars = 256;
}  // namespace

TransferId Engine::job_transfer_id(JobId job, int restarts, int phase) {
  BERTH_CHECK(job.value < kMaxJobIdForTransfers && restarts >= 0 && restarts < kMaxRestarts, "job transfer id range");
  return TransferId(job.value << 16 | static_cast<uint64_t>(restarts) << 3 | static_cast<uint64_t>(phase));
}

Engine::Engine(Cluster cluster, SchedulerConfig scheduling)
    : cluster_(std::move(cluster)),
      scheduling_(std::move(scheduling)),
      scheduler_(Scheduler::Options{.backfill = scheduling_.backfill,
                                    .conservative = scheduling_.conservative,
                                    .strict = scheduling_.strict,
                                    .preemption = scheduling_.preemption,
                                    .depth = scheduling_.backfill_depth,
                                    .demote_after_gpu_s = scheduling_.demote_after_gpu_s,
                                    .preempt_exempt_s = scheduling_.preempt_exempt_s}),
      fairshare_(scheduling_.usage_half_life_s) {}

void Engine::apply_shares() {
  for (const Org& o : funding_.orgs())
    if (auto it = scheduling_.org_shares.find(o.name); it != scheduling_.org_shares.end()) fairshare_.set_shares(o.id, it->second);
  for (const Project& p : funding_.projects())
    if (auto it = scheduling_.project_shares.find(p.name); it != scheduling_.project_shares.end())
      fairshare_.set_shares(p.id, it->second);
}

const Limit* Engine::org_limit(OrgId org) const {
  if (scheduling_.org_limits.empty()) return nullptr;
  auto it = scheduling_.org_limits.find(funding_.org(org)->name);
  return it == scheduling_.org_limits.end() ? nullptr : &it->second;
}

const Limit* Engine::project_limit(ProjectId project) const {
  if (scheduling_.project_limits.empty()) return nullptr;
  auto it = scheduling_.project_limits.find(funding_.project(project)->name);
  return it == scheduling_.project_limits.end() ? nullptr : &it->second;
}

void Engine::count_pending(const Job& job, int delta) {
  project_pending_[job.project.value] += delta;
  org_pending_[job.org.value] += delta;
}

void Engine::count_running(const Job& job, int sign) {
  project_gpus_[job.project.value] += sign * job.gpus;
  org_gpus_[job.org.value] += sign * job.gpus;
  if (job.array_id.valid()) array_running_[job.array_id.value] += sign;
}

Engine::DepState Engine::dependency_state(const Job& job) const {
  DepState state = DepState::kMet;
  for (const Dependency& d : job.dependencies) {
    const Job& other = jobs_[d.job.value - 1];
    if (!is_final(other.state)) {
      state = DepState::kWaiting;
      continue;
    }
    const bool ok = other.state == JobState::kCompleted;
    if ((d.type == DependencyType::kAfterOk && !ok) || (d.type == DependencyType::kAfterNotOk && ok)) return DepState::kNever;
  }
  return state;
}

void Engine::queue_or_park(Job& job, int64_t now_ms) {
  PendingReason reason = PendingReason::kNone;
  if (job.held) {
    reason = PendingReason::kJobHeldUser;
  } else if (!job.dependencies.empty()) {
    const DepState d = dependency_state(job);
    if (d == DepState::kWaiting) reason = PendingReason::kDependency;
    if (d == DepState::kNever) reason = PendingReason::kDependencyNeverSatisfied;
  }
  if (reason == PendingReason::kNone) {
    enqueue(job, now_ms);
    // A reason from the last pass (Resources, InsufficientFunds, ...) stands until the next.
    const bool was_parked = job.reason == PendingReason::kJobHeldUser || job.reason == PendingReason::kDependency ||
                            job.reason == PendingReason::kDependencyNeverSatisfied;
    if (!was_parked) return;
  } else {
    job.expected_start_ms = 0;
  }
  if (job.reason != reason) {
    job.reason = reason;
    touch(job);
  }
}

void Engine::resolve_dependents(const Job& job, int64_t now_ms) {
  auto it = dependents_.find(job.id.value);
  if (it == dependents_.end()) return;
  const std::vector<uint64_t> waiting = std::move(it->second);
  dependents_.erase(it);
  for (uint64_t id : waiting) {
    Job& d = jobs_[id - 1];
    if (d.state == JobState::kPending && !d.held && d.reason != PendingReason::kNone) queue_or_park(d, now_ms);
  }
}

void Engine::enqueue(Job& job, int64_t now_ms) {
  job.priority = queue_priority(job, scheduling_, fairshare_.factor(job.org, job.project), cluster_.total_gpus(), now_ms);
  job.expected_start_ms = 0;
  scheduler_.enqueue(job);
}

// Priorities change with age and usage; like Slurm, they are recomputed periodically rather
// than continuously, which keeps the queue's order fixed between recomputations.
void Engine::recompute_priorities(int64_t now_ms) {
  fairshare_.decay(now_ms);
  std::unordered_map<uint64_t, double> factor;  // per project: the same for all its jobs
  scheduler_.rekey([this](JobId id) -> Job& { return jobs_[id.value - 1]; }, [&](Job& job) {
    // A job submitted before its project had any history gets a prediction once it has one.
    // (Re-predicting every waiting job from the latest runtimes was measured worse: the jobs
    // that finish first are the short ones, so predictions drift short.)
    if (job.estimate_from_history && job.estimate_s == 0) {
      const int64_t planned = predicted_s(job.project, job.gpus, job.time_limit_s);
      if (planned != job.estimate_s) {
        job.estimate_s = planned;
        touch(job);
      }
    }
    auto [it, fresh] = factor.try_emplace(job.project.value, 0.0);
    if (fresh) it->second = fairshare_.factor(job.org, job.project);
    job.priority = queue_priority(job, scheduling_, it->second, cluster_.total_gpus(), now_ms);
  });
  priorities_at_ms_ = now_ms;
}

Result<std::unique_ptr<Engine>> Engine::Create(ClusterConfig config, int64_t now_ms, SchedulerConfig scheduling) {
  auto cluster = Cluster::Create(std::move(config));
  if (!cluster.ok()) return cluster.status();
  std::unique_ptr<Engine> e(new Engine(std::move(*cluster), std::move(scheduling)));
  e->priorities_at_ms_ = now_ms;
  const struct { AccountId id; AccountKind kind; bool no_overdraft; const char* name; } system[] = {
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
  auto cluster = Cluster::Create(std::move(config));
  if (!cluster.ok()) return cluster.status();
  std::unique_ptr<Engine> e(new Engine(std::move(*cluster), std::move(scheduling)));
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
    return Status(books.code(), "the books do not verify, so berthd will not start on them (restore the database "
                                "from a backup): " + books.message());
  for (const TopUp& t : rows.topups) {
    if (!t.reference.empty()) e->topup_refs_[t.reference] = e->topups_.size();
    e->topups_.push_back(t);
  }
  BERTH_RETURN_IF_ERROR(e->applications_.restore(rows.applications, rows.criteria, rows.application_events));
  for (const Application& a : rows.applications)
    if (a.award.valid() && !e->funding_.award(a.award))
      return Status::Internal("application " + std::to_string(a.id.value) + " names award " +
                              std::to_string(a.award.value) + ", which does not exist");
  e->application_events_saved_ = rows.application_events.size();
  for (const auto& [project, order] : rows.funding_orders)
    BERTH_RETURN_IF_ERROR(e->funding_.set_funding_order(ProjectId(project), order));
  for (const ProgressReport& r : rows.reports)
    if (!e->funding_.award(r.award))
      return Status::Internal("a progress report names award " + std::to_string(r.award.value) + ", which does not exist");
  BERTH_RETURN_IF_ERROR(e->reports_.restore(rows.reports, rows.report_events));
  e->report_events_saved_ = rows.report_events.size();
  for (size_t i = 0; i < rows.audit.size(); ++i)
    if (rows.audit[i].seq != i + 1) return Status::Internal("audit records are not in sequence at " + std::to_string(i + 1));
  e->audit_ = rows.audit;
  e->audit_saved_ = rows.audit.size();
  for (size_t i = 0; i < e->audit_.size(); ++i)
    if (!e->audit_[i].reference.empty()) e->money_refs_[e->audit_[i].reference] = i;
  for (const Award& a : rows.awards)
    if (a.returned_ms == 0) e->unreturned_awards_.insert({a.end_ms, a.id.value});
  e->apply_shares();
  // Fair share: past usage from the jobs' own records, decayed to the latest moment recorded.
  int64_t latest_ms = 0;
  for (const Job& j : rows.jobs) latest_ms = std::max({latest_ms, j.submit_ms, j.start_ms, j.end_ms});
  for (const Job& j : rows.jobs) {
    if (j.id.value != e->jobs_.size() + 1) return Status::Internal("job ids are not in sequence at " + std::to_string(j.id.value));
    e->jobs_.push_back(j);
    if (j.start_ms > 0 && j.end_ms > j.start_ms) {
      const double age_s = static_cast<double>(latest_ms - j.end_ms) / 1000.0;
      const double k = scheduling.usage_half_life_s > 0 ? std::exp2(-age_s / static_cast<double>(scheduling.usage_half_life_s)) : 1;
      e->fairshare_.add_usage(j.org, j.project, k * j.gpus * static_cast<double>(j.end_ms - j.start_ms) / 1000.0);
    }
  }
  // A job that cannot be taken back as stored is set aside, never a refused start (restore_jobs.cc).
  std::map<uint64_t, uint64_t> busy_gpus;  // node id -> GPUs of the running jobs taken back
  for (Job& job : e->jobs_) {
    const std::string problem = e->restore_problem(job, rows, &busy_gpus);
    if (problem.empty()) continue;
    auto it = rows.job_problems.find(job.id.value);
    e->set_aside(job, problem, it != rows.job_problems.end() && it->second.state_unknown, latest_ms);
  }
  e->fairshare_.decay(std::max<int64_t>(latest_ms, 1));
  // Each award's share of its jobs' refunded subsidy, split as refund_job split it.
  for (const Job& j : e->jobs_) {
    if (j.refunded_minor <= 0 || j.cost_minor <= 0) continue;
    const Minor refunded_subsidy = mul_div_floor(j.refunded_minor, j.subsidy_minor, j.cost_minor);
    BERTH_RETURN_IF_ERROR(e->split_refunded_subsidy(
        j, 0, refunded_subsidy, [&](const Award& a, Minor part) { e->subsidy_refunded_[a.id.value] += part; }));
  }
  // The runtime history, replayed in the order jobs ended.
  std::vector<const Job*> by_end;
  for (const Job& j : e->jobs_)
    if (j.start_ms > 0 && j.end_ms > 0 && is_final(j.state)) by_end.push_back(&j);
  std::sort(by_end.begin(), by_end.end(), [](const Job* a, const Job* b) {
    return a->end_ms != b->end_ms ? a->end_ms < b->end_ms : a->id < b->id;
  });
  for (const Job* j : by_end) e->learn_runtime(*j);
  e->priorities_at_ms_ = latest_ms;
  for (Job& job : e->jobs_) {
    if (job.state != JobState::kPending) continue;
    for (const Dependency& d : job.dependencies) {
      if (d.job.value == 0 || d.job.value > rows.jobs.size())
        return Status::Internal("job " + std::to_string(job.id.value) + " depends on a job that does not exist");
      if (!is_final(e->jobs_[d.job.value - 1].state)) e->dependents_[d.job.value].push_back(job.id.value);
    }
    // Not stored: a waiting job with a predicted runtime goes on being re-predicted.
    job.estimate_from_history = scheduling.predict_runtimes && job.estimate_s > 0;
    e->queue_or_park(job, latest_ms);
    e->count_pending(job, +1);
  }
  for (const SubmitKey& k : rows.submit_keys) {
    if (!k.job.valid() || k.job.value > e->jobs_.size())
      return Status::Internal("idempotency key '" + k.key + "' names job " + std::to_string(k.job.value) +
                              ", which does not exist");
    e->submit_keys_.add(k);
  }
  e->dirty_jobs_.clear();  // restoring changes nothing that needs writing
  for (Job& job : e->jobs_) {
    if (job.state == JobState::kRunning) {
      BERTH_RETURN_IF_ERROR(e->cluster_.reserve(job.node, job.gpu_ids));
      for (const Placement& p : job.more_nodes) BERTH_RETURN_IF_ERROR(e->cluster_.reserve(p.node, p.gpu_ids));
      e->count_running(job, +1);
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
  BERTH_RETURN_IF_ERROR(e->release_set_aside_holds());  // after the drain: these are changes to write
  BERTH_RETURN_IF_ERROR(e->verify());
  return e;
}

Account Engine::new_account(AccountKind kind, uint64_t owner, const std::string& name) {
  Account a;
  a.id = AccountId(next_account_id_++);
  a.kind = kind;
  a.no_overdraft = true;
  a.owner = owner;
  a.name = name;
  return a;
}

TransferId Engine::next_transfer_id() { return TransferId(kSequenceTransferBit | next_transfer_seq_++); }

Status Engine::apply_transfer(const Transfer& t, int64_t now_ms) {
  const TransferResult r = ledger_.create_transfer(t, now_ms);
  if (r == TransferResult::kOk) return Status::Ok();
  if (r == TransferResult::kExceedsCredits) {
    const Account* a = ledger_.account(t.debit);
    return Status::Funds("account " + std::to_string(t.debit.value) + " (" + (a ? a->name : "?") + ") has " +
                         format_amount(a ? a->spendable() : 0) + " available" +
                         (a && a->credit_limit_minor > 0 ? " counting its credit limit" : "") + ", " +
                         format_amount(t.amount) + " needed");
  }
  if (r == TransferResult::kOverflow) {
    // Amounts are bounded only by int64_t, so a large enough amount (a top-up of 2^63 - 1 twice)
    // would take a balance past what berth can hold: the caller's amount is refused.
    return Status::Invalid("amount " + format_amount(t.amount) + " would take an account's balance past the largest " +
                           "berth can hold (" + format_amount(std::numeric_limits<Minor>::max()) + ")");
  }
  return Status::Internal(std::string("transfer refused: ") + transfer_result_name(r));
}

Status Engine::check_inflow(Minor amount_minor) const {
  constexpr Minor kMaxInflowTurnover = std::numeric_limits<Minor>::max() / 2;
  const __int128 turnover = static_cast<__int128>(ledger_.total_credits_posted()) + ledger_.total_credits_pending();
  if (amount_minor > kMaxInflowTurnover || turnover + amount_minor > kMaxInflowTurnover)
    return Status::Invalid("amount " + format_amount(amount_minor) + " is too large: the books can take in at most " +
                           format_amount(static_cast<Minor>(std::max<__int128>(kMaxInflowTurnover - turnover, 0))) +
                           " more");
  return Status::Ok();
}

// ---- administration ----

Result<Org> Engine::create_org(const std::string& name, OrgKind kind, int64_t now_ms) {
  return create_org(name, kind, RegistrationChange{}, now_ms);
}

namespace {
// "registration_number 'A' -> 'B'; contact_email (none) -> 'x@y.org'" for the audit record.
std::string registration_changes(const OrgRegistration& from, const OrgRegistration& to) {
  const struct {
    const char* name;
    std::string OrgRegistration::*field;
  } fields[] = {{"registration_number", &OrgRegistration::number},
                {"address", &OrgRegistration::address},
                {"contact_name", &OrgRegistration::contact_name},
                {"contact_email", &OrgRegistration::contact_email},
                {"jurisdiction", &OrgRegistration::jurisdiction}};
  auto shown = [](const std::string& v) { return v.empty() ? std::string("(none)") : "'" + v + "'"; };
  std::string out;
  for (const auto& f : fields) {
    if (from.*f.field == to.*f.field) continue;
    out += (out.empty() ? "" : "; ") + std::string(f.name) + " " + shown(from.*f.field) + " -> " + shown(to.*f.field);
  }
  return out;
}
}  // namespace

Result<Org> Engine::create_org(const std::string& name, OrgKind kind, const RegistrationChange& registration,
                               int64_t now_ms) {
  Org o{OrgId(funding_.orgs().size() + 1), name, kind, now_ms};
  BERTH_RETURN_IF_ERROR(apply_registration(registration, &o.registration));
  BERTH_RETURN_IF_ERROR(funding_.add_org(o));
  if (auto it = scheduling_.org_shares.find(name); it != scheduling_.org_shares.end()) fairshare_.set_shares(o.id, it->second);
  const std::string recorded = registration_changes(OrgRegistration{}, o.registration);
  record_audit("org.create", "org " + std::to_string(o.id.value), 0, TransferId(),
               std::string(org_kind_name(kind)) + " '" + name + "'" +
                   (recorded.empty() ? ", no registration record" : ": " + recorded),
               now_ms);
  return o;
}

Result<Org> Engine::update_org(OrgId id, const RegistrationChange& change, const std::string& note, int64_t now_ms) {
  Org* o = funding_.mutable_org(id);
  if (!o) return Status::NotFound("organisation " + std::to_string(id.value) + " not found");
  if (change.empty()) return Status::Invalid("an update of a registration record gives at least one field");
  if (note.size() > 2000) return Status::Invalid("note is longer than 2000 characters");
  OrgRegistration amended = o->registration;
  BERTH_RETURN_IF_ERROR(apply_registration(change, &amended));
  const std::string changes = registration_changes(o->registration, amended);
  if (changes.empty()) return *o;  // as recorded already: nothing to change or audit
  o->registration = std::move(amended);
  o->updated_ms = now_ms;
  dirty_orgs_.insert(id.value);
  record_audit("org.update", "org " + std::to_string(id.value), 0, TransferId(),
               note.empty() ? changes : changes + ": " + note, now_ms);
  return *o;
}

Result<Project> Engine::create_project(OrgId org, const std::string& name, int64_t now_ms) {
  Project p{ProjectId(funding_.projects().size() + 1), org, name, AccountId(next_account_id_), now_ms};
  BERTH_RETURN_IF_ERROR(funding_.check_project(p));
  const Account wallet = new_account(AccountKind::kWallet, p.id.value, "wallet of " + name);
  BERTH_CHECK(ledger_.create_account(wallet, now_ms).ok(), "create wallet account");
  BERTH_CHECK(funding_.add_project(p).ok(), "add checked project");
  if (auto it = scheduling_.project_shares.find(name); it != scheduling_.project_shares.end())
    fairshare_.set_shares(p.id, it->second);
  return p;
}

Result<Scheme> Engine::create_scheme(const std::string& name, int64_t rate_bps, uint32_t eligible_kinds,
                                     Shortfall shortfall, Minor fund_minor, int64_t now_ms) {
  SchemeSpec spec;
  spec.name = name;
  spec.rate_bps = rate_bps;
  spec.eligible_kinds = eligible_kinds;
  spec.shortfall = shortfall;
  return create_scheme(spec, fund_minor, now_ms);
}

Result<Scheme> Engine::create_scheme(const SchemeSpec& spec, Minor fund_minor, int64_t now_ms) {
  Scheme s;
  s.id = SchemeId(funding_.schemes().size() + 1);
  s.name = spec.name;
  s.rate_bps = spec.rate_bps;
  s.eligible_kinds = spec.eligible_kinds;
  s.shortfall = spec.shortfall;
  s.fund = AccountId(next_account_id_);
  s.created_ms = now_ms;
  s.exceptional_rate_bps = spec.exceptional_rate_bps;
  s.cap_per_project_minor = spec.cap_per_project_minor;
  s.window_open_ms = spec.window_open_ms;
  s.window_close_ms = spec.window_close_ms;
  s.award_validity_days = spec.award_validity_days;
  BERTH_RETURN_IF_ERROR(funding_.check_scheme(s));
  if (fund_minor < 0) return Status::Invalid("fund must not be negative");
  if (fund_minor > 0) BERTH_RETURN_IF_ERROR(check_inflow(fund_minor));  // before anything is created
  const Account fund = new_account(AccountKind::kFund, s.id.value, "fund of " + spec.name);
  BERTH_CHECK(ledger_.create_account(fund, now_ms).ok(), "create fund account");
  BERTH_CHECK(funding_.add_scheme(s).ok(), "add checked scheme");
  record_audit("scheme.create", "scheme " + std::to_string(s.id.value), 0, TransferId(),
               "'" + s.name + "' at " + std::to_string(s.rate_bps) + " bps", now_ms);
  if (fund_minor > 0) BERTH_RETURN_IF_ERROR(fund_scheme(s.id, fund_minor, now_ms));
  return s;
}

Status Engine::fund_scheme(SchemeId scheme, Minor amount_minor, int64_t now_ms) {
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  if (amount_minor <= 0) return Status::Invalid("amount must be positive");
  BERTH_RETURN_IF_ERROR(check_inflow(amount_minor));
  Transfer t;
  t.id = next_transfer_id();
  t.debit = kProgrammeSourceAccount;
  t.credit = s->fund;
  t.amount = amount_minor;
  t.code = kCodeFundScheme;
  t.ref = scheme.value;
  BERTH_RETURN_IF_ERROR(apply_transfer(t, now_ms));
  record_audit("scheme.fund", "scheme " + std::to_string(scheme.value), amount_minor, t.id,
               "from the programme source", now_ms);
  return Status::Ok();
}

Minor Engine::awarded_minor(SchemeId scheme, ProjectId project) const {
  Minor total = 0;
  for (AwardId id : funding_.awards_of(project)) {
    const Award* a = funding_.award(id);
    if (a->scheme == scheme) total += a->amount_minor;
  }
  return total;
}

Status Engine::check_cap(const Scheme& s, ProjectId project, Minor more_minor) const {
  if (s.cap_per_project_minor == 0) return Status::Ok();
  const Minor already = awarded_minor(s.id, project);
  if (already + more_minor <= s.cap_per_project_minor) return Status::Ok();
  return Status::Conflict("scheme '" + s.name + "' caps a project at " + format_amount(s.cap_per_project_minor) +
                          "; project " + funding_.project(project)->name + " has been awarded " + format_amount(already) +
                          " and this would add " + format_amount(more_minor));
}

Result<Award> Engine::grant_award(const Scheme& s, ProjectId project, Minor amount_minor, int gpu_level,
                                  int64_t start_ms, int64_t end_ms, int64_t rate_bps, ApplicationId application,
                                  int report_every_months, int report_grace_days, int64_t now_ms) {
  Award a{AwardId(funding_.awards().size() + 1), s.id, project, AccountId(next_account_id_), amount_minor,
          gpu_level, start_ms, end_ms, now_ms};
  a.rate_bps = rate_bps;
  a.application = application;
  a.report_every_months = report_every_months;
  a.report_grace_days = report_grace_days;
  BERTH_RETURN_IF_ERROR(funding_.check_award(a));
  BERTH_RETURN_IF_ERROR(check_cap(s, project, amount_minor));
  const Minor left = ledger_.account(s.fund)->available();
  if (left < amount_minor)
    return Status::Funds("scheme '" + s.name + "' has " + format_amount(left) + " left in its fund, the award asks " +
                         format_amount(amount_minor));
  const Account acct = new_account(AccountKind::kAward, a.id.value,
                                   "award " + std::to_string(a.id.value) + " of " + funding_.project(project)->name);
  BERTH_CHECK(ledger_.create_account(acct, now_ms).ok(), "create award account");
  Transfer t;
  t.id = next_transfer_id();
  t.debit = s.fund;
  t.credit = acct.id;
  t.amount = amount_minor;
  t.code = kCodeAwardGrant;
  t.ref = a.id.value;
  BERTH_CHECK(apply_transfer(t, now_ms).ok(), "grant a checked award");
  BERTH_CHECK(funding_.add_award(a).ok(), "add checked award");
  unreturned_awards_.insert({a.end_ms, a.id.value});
  record_audit("award.grant", "award " + std::to_string(a.id.value), amount_minor, t.id,
               (application.valid() ? "on application " + std::to_string(application.value) : std::string("directly")) +
                   " to project " + funding_.project(project)->name + " for " + std::to_string(gpu_level) + " GPUs at " +
                   std::to_string(rate_bps) + " bps" +
                   (report_every_months > 0 ? ", a progress report every " + std::to_string(report_every_months) +
                                                  " months"
                                            : std::string()),
               now_ms);
  return a;
}

Status Engine::set_funding_order(ProjectId project, const std::vector<AwardId>& order, int64_t now_ms) {
  BERTH_RETURN_IF_ERROR(funding_.set_funding_order(project, order));
  dirty_funding_orders_.insert(project.value);
  std::string text;
  for (AwardId id : order) text += (text.empty() ? "award " : ", award ") + std::to_string(id.value);
  record_audit("project.funding_order", "project " + std::to_string(project.value), 0, TransferId(),
               order.empty() ? "back to the order granted" : "pays in the order " + text + ", then the rest as granted",
               now_ms);
  return Status::Ok();
}

Result<Award*> Engine::open_award(AwardId id, const char* what, int64_t now_ms) {
  Award* a = funding_.mutable_award(id);
  if (!a) return Status::NotFound("award " + std::to_string(id.value) + " not found");
  if (a->end_ms <= now_ms)
    return Status::Conflict("award " + std::to_string(id.value) + " ended at " + format_time_ms(a->end_ms) +
                            "; an award that has ended cannot be " + what);
  return a;
}

Result<Award> Engine::supplement_award(AwardId id, Minor amount_minor, int64_t new_end_ms, const std::string& note,
                                       int64_t now_ms) {
  auto found = open_award(id, "supplemented", now_ms);
  if (!found.ok()) return found.status();
  Award& a = **found;
  if (amount_minor < 0) return Status::Invalid("a supplement's amount must not be negative");
  if (new_end_ms != 0 && new_end_ms <= a.end_ms)
    return Status::Invalid("a supplement may only move the award's end later, not to or before its current end");
  if (amount_minor == 0 && new_end_ms == 0) return Status::Invalid("a supplement adds money, time or both");
  if (note.size() > 2000) return Status::Invalid("note is longer than 2000 characters");
  const Scheme& s = *funding_.scheme(a.scheme);
  BERTH_RETURN_IF_ERROR(check_cap(s, a.project, amount_minor));
  const Minor left = ledger_.account(s.fund)->available();
  if (left < amount_minor)
    return Status::Funds("scheme '" + s.name + "' has " + format_amount(left) + " left in its fund, the supplement asks " +
                         format_amount(amount_minor));
  TransferId moved;
  if (amount_minor > 0) {
    Transfer t;
    t.id = next_transfer_id();
    t.debit = s.fund;
    t.credit = a.account;
    t.amount = amount_minor;
    t.code = kCodeAwardGrant;
    t.ref = a.id.value;
    BERTH_CHECK(apply_transfer(t, now_ms).ok(), "supplement a checked award");
    a.amount_minor += amount_minor;
    moved = t.id;
  }
  if (new_end_ms != 0) {
    unreturned_awards_.erase({a.end_ms, a.id.value});
    a.end_ms = new_end_ms;
    unreturned_awards_.insert({a.end_ms, a.id.value});
  }
  touch_award(a.id);
  std::string what = amount_minor > 0 ? "added " + format_amount(amount_minor) : std::string("no money");
  if (new_end_ms != 0) what += "; ends at " + format_time_ms(new_end_ms);
  record_audit("award.supplement", "award " + std::to_string(a.id.value), amount_minor, moved,
               note.empty() ? what : what + ": " + note, now_ms);
  return a;
}

Result<Award> Engine::close_award(AwardId id, const std::string& reason, int64_t now_ms) {
  auto found = open_award(id, "closed", now_ms);
  if (!found.ok()) return found.status();
  if (reason.empty()) return Status::Invalid("closing an award early needs a reason");
  if (reason.size() > 2000) return Status::Invalid("reason is longer than 2000 characters");
  Award& a = **found;
  unreturned_awards_.erase({a.end_ms, a.id.value});
  a.end_ms = std::max(now_ms, a.start_ms + 1);
  a.closed_ms = now_ms;
  unreturned_awards_.insert({a.end_ms, a.id.value});
  touch_award(a.id);
  record_audit("award.close", "award " + std::to_string(a.id.value), 0, TransferId(), reason, now_ms);
  return_ended_awards(now_ms);
  return *funding_.award(id);
}

void Engine::return_ended_awards(int64_t now_ms) {
  for (auto it = unreturned_awards_.begin(); it != unreturned_awards_.end() && it->first <= now_ms;) {
    Award& a = *funding_.mutable_award(AwardId(it->second));
    const Account& acct = *ledger_.account(a.account);
    if (acct.debits_pending > 0) {  // a running job still holds on it: wait for its settlement
      ++it;
      continue;
    }
    const Minor left = acct.balance();
    TransferId moved;
    if (left > 0) {
      Transfer t;
      t.id = next_transfer_id();
      t.debit = a.account;
      t.credit = funding_.scheme(a.scheme)->fund;
      t.amount = left;
      t.code = kCodeAwardReturn;
      t.ref = a.id.value;
      BERTH_CHECK(apply_transfer(t, now_ms).ok(), "return an award's remainder");
      moved = t.id;
    }
    a.returned_ms = now_ms;
    a.returned_minor = left;
    touch_award(a.id);
    record_audit("award.return", "award " + std::to_string(a.id.value), left, moved,
                 "ended with every hold settled: the unspent remainder returns to the fund", now_ms);
    audit_.back().user = "system";  // berth's own step, whichever request's pass it fell in
    it = unreturned_awards_.erase(it);
  }
}

void Engine::record_audit(const std::string& action, const std::string& subject, Minor amount_minor,
                          TransferId transfer, std::string note, int64_t now_ms) {
  AuditRecord r;
  r.seq = audit_.size() + 1;
  r.at_ms = now_ms;
  r.user = actor_;
  r.action = action;
  r.subject = subject;
  r.amount_minor = amount_minor;
  r.transfer = transfer;
  r.note = std::move(note);
  audit_.push_back(std::move(r));
}

Result<Award> Engine::create_award(SchemeId scheme, ProjectId project, Minor amount_minor, int gpu_level,
                                   int64_t start_ms, int64_t end_ms, int64_t now_ms, int report_every_months,
                                   int report_grace_days) {
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  return grant_award(*s, project, amount_minor, gpu_level, start_ms, end_ms, s->rate_bps, ApplicationId(),
                     report_every_months, report_grace_days, now_ms);
}

// ---- progress reports ----

Result<ReportTerms> Engine::report_terms(AwardId id) const {
  const Award* a = funding_.award(id);
  if (!a) return Status::NotFound("award " + std::to_string(id.value) + " not found");
  return ReportTerms::of(*a, funding_.project(a->project)->org);
}

Status Engine::submit_report(const Actor& actor, AwardId award, int period, const std::string& text, int64_t now_ms) {
  auto terms = report_terms(award);
  if (!terms.ok()) return terms.status();
  return reports_.submit(actor, *terms, period, text, now_ms);
}

Status Engine::accept_report(const Actor& actor, AwardId award, int period, int64_t now_ms) {
  if (!funding_.award(award)) return Status::NotFound("award " + std::to_string(award.value) + " not found");
  return reports_.accept(actor, award, period, now_ms);
}

Status Engine::return_report(const Actor& actor, AwardId award, int period, const std::string& reason,
                             int64_t now_ms) {
  if (!funding_.award(award)) return Status::NotFound("award " + std::to_string(award.value) + " not found");
  return reports_.return_report(actor, award, period, reason, now_ms);
}

ReportStanding Engine::report_standing(AwardId award, int64_t now_ms) const {
  auto terms = report_terms(award);
  return terms.ok() ? reports_.standing(*terms, now_ms) : ReportStanding{};
}

int64_t Engine::next_report_overdue_ms(int64_t after_ms) const {
  int64_t next = 0;
  for (const Award& a : funding_.awards()) {
    if (a.report_every_months == 0 || a.end_ms <= after_ms) continue;
    const int64_t at = reports_.next_overdue_ms(ReportTerms::of(a, funding_.project(a.project)->org), after_ms);
    if (at != 0 && (next == 0 || at < next)) next = at;
  }
  return next;
}

// ---- applications ----

Result<Applicant> Engine::applicant(ProjectId project) const {
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  return Applicant{p->org, funding_.org(p->org)->kind};
}

SchemeRules Engine::rules(SchemeId scheme) const {
  SchemeRules r;
  const Scheme* s = funding_.scheme(scheme);
  if (!s) return r;
  r.eligible_kinds = s->eligible_kinds;
  r.window_open_ms = s->window_open_ms;
  if (s->window_close_ms != 0) r.window_close_ms = s->window_close_ms;
  r.cap_per_project_minor = s->cap_per_project_minor;
  return r;
}

Status Engine::set_criteria(const Actor& actor, SchemeId scheme, const std::vector<Criterion>& criteria,
                            int64_t now_ms) {
  if (!funding_.scheme(scheme)) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  BERTH_RETURN_IF_ERROR(applications_.set_criteria(actor, scheme, criteria, now_ms));
  touch_criteria(scheme);
  return Status::Ok();
}

Result<ApplicationId> Engine::draft_application(const Actor& actor, SchemeId scheme, ProjectId project,
                                                const ApplicationTerms& terms, int64_t now_ms) {
  if (!funding_.scheme(scheme)) return Status::NotFound("scheme " + std::to_string(scheme.value) + " not found");
  auto who = applicant(project);
  if (!who.ok()) return who.status();
  return applications_.draft(actor, scheme, project, *who, rules(scheme), terms, now_ms);
}

Status Engine::update_application(const Actor& actor, ApplicationId id, const ApplicationTerms& terms,
                                  int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  return applications_.update(actor, id, rules(app->scheme), terms, now_ms);
}

Status Engine::submit_application(const Actor& actor, ApplicationId id, int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  auto who = applicant(app->project);
  if (!who.ok()) return who.status();
  // The cap counts what the project has been awarded already, not only this application.
  if (actor.role == FundingRole::kMember && actor.org == app->org)
    BERTH_RETURN_IF_ERROR(check_cap(*funding_.scheme(app->scheme), app->project, app->terms.amount_minor));
  return applications_.submit(actor, id, *who, rules(app->scheme), now_ms);
}

Status Engine::review_application(const Actor& actor, ApplicationId id, const std::vector<CriterionScore>& scores,
                                  const std::string& comment, int64_t now_ms) {
  return applications_.review(actor, id, scores, comment, now_ms);
}

Status Engine::reject_application(const Actor& actor, ApplicationId id, const std::string& reason, int64_t now_ms) {
  return applications_.reject(actor, id, reason, now_ms);
}

Status Engine::withdraw_application(const Actor& actor, ApplicationId id, const std::string& note, int64_t now_ms) {
  return applications_.withdraw(actor, id, note, now_ms);
}

Result<Award> Engine::approve_application(const Actor& actor, ApplicationId id, const Approval& approval,
                                          int64_t now_ms) {
  const Application* app = applications_.get(id);
  if (!app) return Status::NotFound("application " + std::to_string(id.value) + " not found");
  const Scheme& s = *funding_.scheme(app->scheme);
  ApprovalTerms terms;
  terms.amount_minor = approval.amount_minor > 0 ? approval.amount_minor : app->terms.amount_minor;
  terms.gpu_level = approval.gpu_level;
  terms.duration_days = approval.duration_days;
  terms.note = approval.note;
  if (approval.amount_minor < 0) return Status::Invalid("approved amount must be positive");
  BERTH_RETURN_IF_ERROR(check_report_rule(approval.report_every_months, approval.report_grace_days));
  if (approval.exceptional_rate && s.exceptional_rate_bps == 0)
    return Status::Invalid("scheme '" + s.name + "' has no exceptional rate to grant");
  terms.rate_bps = approval.exceptional_rate ? s.exceptional_rate_bps : s.rate_bps;
  const Minor fund_left = ledger_.account(s.fund)->available();
  BERTH_RETURN_IF_ERROR(applications_.check_approve(actor, id, terms, fund_left));
  BERTH_RETURN_IF_ERROR(check_cap(s, app->project, terms.amount_minor));
  int days = terms.duration_days > 0 ? terms.duration_days : app->terms.duration_days;
  if (s.award_validity_days > 0) days = std::min(days, s.award_validity_days);
  terms.duration_days = days;
  const int level = terms.gpu_level > 0 ? terms.gpu_level : app->terms.gpu_level;
  const int64_t end_ms = now_ms + static_cast<int64_t>(days) * 86'400'000;
  // Everything that could refuse has been checked: the award is granted, then recorded.
  auto award = grant_award(s, app->project, terms.amount_minor, level, now_ms, end_ms, terms.rate_bps, id,
                           approval.report_every_months, approval.report_grace_days, now_ms);
  BERTH_CHECK(award.ok(), "grant a checked approval");
  BERTH_CHECK(applications_.approve(actor, id, terms, fund_left, now_ms).ok(), "approve a checked application");
  BERTH_CHECK(applications_.record_award(id, award->id, now_ms).ok(), "record a new award");
  return award;
}

Result<TopUp> Engine::top_up(ProjectId project, Minor amount_minor, const std::string& reference, int64_t now_ms,
                             bool* replayed) {
  if (replayed) *replayed = false;
  const Project* p = funding_.project(project);
  if (!p) return Status::NotFound("project " + std::to_string(project.value) + " not found");
  if (amount_minor <= 0) return Status::Invalid("top-up amount must be positive");
  if (reference.size() > 128) return Status::Invalid("payment reference is longer than 128 characters");
  if (!reference.empty()) {
    if (auto it = topup_refs_.find(reference); it != topup_refs_.end()) {
      const TopUp& first = topups_[it->second];
      if (first.project != project || first.amount_minor != amount_minor)
        return Status::Conflict("payment reference '" + reference + "' was already used for " +
                                format_amount(first.amount_minor) + " to project " + std::to_string(first.project.value));
      if (replayed) *replayed = true;
      return first;
    }
  }
  BERTH_RETURN_IF_ERROR(check_inflow(amount_minor));
  Transfer t;
  t.id = next_transfer_id();
  t.debit = kExternalAccount;
  t.credit = p->wallet;
  t.amount = amount_minor;
  t.code = kCodeTopUp;
  t.ref = project.value;
  BERTH_RETURN_IF_ERROR(apply_transfer(t, now_ms));
  TopUp topup{t.id, project, amount_minor, reference, now_ms};
  if (!reference.empty()) topup_refs_[reference] = topups_.size();
  topups_.push_back(topup);
  record_audit("wallet.topup", "project " + std::to_string(project.value), amount_minor, t.id,
               reference.empty() ? "no payment reference" : "payment reference " + reference, now_ms);
  return topup;
}

// ---- jobs ----

Status Engine::validate_request(const JobRequest& r, const Partition** partition) const {
  const Project* p = funding_.project(r.project);
  if (!p) return Status::NotFound("project " + std::to_string(r.project.value) + " not found");
  if (r.gpus < 1) return Status::Invalid("a job needs at least 1 GPU, got " + std::to_string(r.gpus));
  if (r.nodes < 1) return Status::Invalid("a job needs at least 1 node, got " + std::to_string(r.nodes));
  if (r.gpus % r.nodes != 0)
    return Status::Invalid("a job on " + std::to_string(r.nodes) + " nodes needs the same GPUs on each: " +
                           std::to_string(r.gpus) + " GPUs do not divide evenly");
  if (r.name.size() > kMaxJobNameChars) return Status::Invalid("job name is longer than 256 characters");
  if (!r.gpu_model.empty() && !cluster_.has_model(r.gpu_model))
    return Status::Invalid("no node has GPU model '" + r.gpu_model + "'");
  const int per_node = r.gpus / r.nodes;
  const int largest = cluster_.max_gpus_per_node(r.gpu_model);
  if (per_node > largest)
    return Status::Invalid("the job asks for " + std::to_string(per_node) + " GPUs per node but the largest node" +
                           (r.gpu_model.empty() ? "" : " of model " + r.gpu_model) + " has " + std::to_string(largest));
  if (r.nodes > 1) {
    const int suitable = cluster_.gang_capacity(r.gpu_model, per_node);
    if (r.nodes > suitable)
      return Status::Invalid("the job asks for " + std::to_string(r.nodes) + " nodes with " + std::to_string(per_node) +
                             " GPUs but the cluster has " + std::to_string(suitable) +
                             (r.gpu_model.empty() ? "" : " of model " + r.gpu_model));
  }
  BERTH_RETURN_IF_ERROR(resolve_node_choice(cluster_, r.node_names, r.gpu_model, r.nodes, per_node).status());
  if (r.estimate_s < 0) return Status::Invalid("runtime estimate must not be negative");
  const Partition* part = cluster_.partition(r.partition);
  if (!part) return Status::Invalid("partition '" + r.partition + "' does not exist");
  if (r.time_limit_s < 0) return Status::Invalid("time limit must not be negative");
  if (r.time_limit_s > part->max_time_s)
    return Status::Invalid("time limit " + std::to_string(r.time_limit_s) + " s is over partition '" + part->name +
                           "' limit of " + std::to_string(part->max_time_s) + " s");
  // The most the job could cost, at the dearest price, must be an amount the ledger can hold.
  const int64_t limit_s = r.time_limit_s > 0 ? r.time_limit_s : part->default_time_s;
  Minor dearest = 0;
  for (const GpuPrice& p : cluster_.prices()) dearest = std::max(dearest, p.per_gpu_hour_minor);
  if (r.tier == Tier::kSpot) dearest = mul_div_floor(dearest, scheduling_.spot_price_bps, 10'000);  // as price() does
  if (dearest < 0 || limit_s > std::numeric_limits<int64_t>::max() / 1000 || gpu_cost_minor(dearest, r.gpus, limit_s * 1000) < 0)
    return Status::Invalid("the job's maximum cost (" + std::to_string(r.gpus) + " GPUs for " + std::to_string(limit_s) +
                           " s) is too large to hold");
  *partition = part;
  return Status::Ok();
}

Quote Engine::price(const Job& job, const std::string& gpu_model, int64_t now_ms) const {
  Quote q;
  q.gpu_model = gpu_model;
  q.time_limit_s = job.time_limit_s;
  q.price_per_gpu_hour_minor = cluster_.price(gpu_model).value_or(0);
  if (job.tier == Tier::kSpot) q.price_per_gpu_hour_minor = mul_div_floor(q.price_per_gpu_hour_minor, scheduling_.spot_price_bps, 10'000);
  q.max_cost_minor = gpu_cost_minor(q.price_per_gpu_hour_minor, job.gpus, job.time_limit_s * 1000);
  BERTH_CHECK(q.max_cost_minor >= 0, "max cost overflow");
  const Project* p = funding_.project(job.project);
  // The wallet's credit limit counts: a job is held while the wallet plus its credit covers it.
  const Minor wallet_left = ledger_.account(p->wallet)->spendable();
  q.subsidy_minor = 0;
  // The sources in the project's order: the first that can cover its share pays it.
  const Award* first = nullptr;
  auto try_source = [&](const Award* a) {
    if (!first) first = a;
    const Minor share = subsidy_share_minor(q.max_cost_minor, a->rate_bps);
    // An overdue progress report withholds the award's subsidy exactly as an award that
    // cannot cover the share does: the next source is tried, then the first's scheme rule.
    if (a->report_every_months > 0 && report_standing(a->id, now_ms).overdue()) {
      if (!q.report_overdue_award.valid()) q.report_overdue_award = a->id;
      return false;
    }
    if (ledger_.account(a->account)->available() < share) return false;
    q.award = a->id;
    q.rate_bps = a->rate_bps;
    q.subsidy_minor = share;
    return true;
  };
  bool paid = false;
  if (funding_.funding_order(job.project).empty()) {  // the common case, without building a list
    for (AwardId id : funding_.awards_of(job.project)) {
      const Award* a = funding_.award(id);
      if (a->active_at(now_ms) && try_source(a)) {
        paid = true;
        break;
      }
    }
  } else {
    for (const Award* a : funding_.active_sources(job.project, now_ms))
      if (try_source(a)) {
        paid = true;
        break;
      }
  }
  if (!paid && first && funding_.scheme(first->scheme)->shortfall == Shortfall::kWait)
    q.reason = q.report_overdue_award == first->id ? PendingReason::kProgressReportOverdue
                                                   : PendingReason::kInsufficientFunds;
  q.copay_minor = q.max_cost_minor - q.subsidy_minor;
  if (q.reason == PendingReason::kNone && wallet_left < q.copay_minor) q.reason = PendingReason::kInsufficientFunds;
  q.affordable = q.reason == PendingReason::kNone;
  return q;
}

namespace {

// `request` with its GPU model as the cluster spells it (core/model_names.h): itself when it
// already is, else a copy kept in `storage`.
Result<const JobRequest*> with_canonical_model(const Cluster& cluster, const JobRequest& request, JobRequest* storage) {
  if (request.gpu_model.empty()) return &request;
  Result<std::string> model = canonical_model_constraint(cluster, request.gpu_model);
  if (!model.ok()) return model.status();
  if (*model == request.gpu_model) return &request;
  *storage = request;
  storage->gpu_model = std::move(*model);
  return storage;
}

}  // namespace

Result<Quote> Engine::quote(const JobRequest& asked, int64_t now_ms) const {
  JobRequest storage;
  Result<const JobRequest*> canonical = with_canonical_model(cluster_, asked, &storage);
  if (!canonical.ok()) return canonical.status();
  const JobRequest& request = **canonical;
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(validate_request(request, &part));
  Job job;
  job.project = request.project;
  job.gpus = request.gpus;
  job.nodes = request.nodes;
  job.time_limit_s = request.time_limit_s > 0 ? request.time_limit_s : part->default_time_s;
  job.estimate_s = estimate(request, job.time_limit_s);
  job.tier = request.tier;
  job.node_choice = resolve_node_choice(cluster_, request.node_names, request.gpu_model, request.nodes,
                                        request.gpus / request.nodes).value();
  // Quote the dearest model the job could run on (of those its constraint and chosen nodes allow).
  const std::vector<int>& allowed = cluster_.models_for(request.gpu_model);
  const bool any = allowed.size() == 1 && allowed[0] < 0;
  std::string model = any || allowed.empty() ? std::string() : cluster_.model_name(allowed.back());
  Minor best = -1;
  for (const Node& n : cluster_.nodes()) {
    const Minor p = cluster_.price(n.gpu_model).value_or(0);
    const bool ok = any || std::find(allowed.begin(), allowed.end(), cluster_.model_index(n.gpu_model)) != allowed.end();
    if (ok && job.node_choice.allows(n.id) && n.gpus >= request.gpus / request.nodes && n.state != NodeState::kDown &&
        p > best) {
      best = p;
      model = n.gpu_model;
    }
  }
  job.gpu_model = request.gpu_model;
  Quote q = price(job, model, now_ms);
  int64_t at = 0;
  if (scheduler_.earliest_start(cluster_, job, now_ms, [this](JobId id) -> const Job& { return jobs_[id.value - 1]; }, &at))
    q.earliest_start_ms = at;
  return q;
}

Result<JobId> Engine::submit(const JobRequest& asked, int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  JobRequest storage;
  Result<const JobRequest*> canonical = with_canonical_model(cluster_, asked, &storage);
  if (!canonical.ok()) return canonical.status();
  const JobRequest& r = **canonical;
  auto first = replayed_submit(r, now_ms);
  if (!first.ok()) return first.status();
  if (first->valid()) {
    if (replayed) *replayed = true;
    return *first;
  }
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(check_submit(r, &part, now_ms, 1));
  auto id = accept(r, *part, now_ms);
  if (id.ok()) remember_submit_key(r, *id, now_ms);
  return id;
}

Result<std::vector<JobId>> Engine::submit_array(const JobRequest& asked, const std::vector<int>& indices, int throttle,
                                                int64_t now_ms, bool* replayed) {
  if (replayed) *replayed = false;
  JobRequest storage;
  Result<const JobRequest*> canonical = with_canonical_model(cluster_, asked, &storage);
  if (!canonical.ok()) return canonical.status();
  const JobRequest& r = **canonical;
  auto replay = replayed_submit(r, now_ms);
  if (!replay.ok()) return replay.status();
  if (replay->valid()) {
    // The tasks of one array are accepted together, so they are the jobs from its first on
    // that name it as their array.
    std::vector<JobId> ids;
    for (size_t i = replay->value - 1; i < jobs_.size() && jobs_[i].array_id == *replay; ++i) ids.push_back(jobs_[i].id);
    if (ids.empty()) ids.push_back(*replay);
    if (replayed) *replayed = true;
    return ids;
  }
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(check_submit(r, &part, now_ms, static_cast<int64_t>(indices.size())));
  if (indices.empty() || indices.size() > static_cast<size_t>(kMaxArrayTasks))
    return Status::Invalid("an array needs 1 to " + std::to_string(kMaxArrayTasks) + " tasks");
  if (throttle < 0) return Status::Invalid("array throttle must not be negative");
  std::vector<JobId> ids;
  const JobId first(jobs_.size() + 1);
  for (int index : indices) {
    auto id = accept(r, *part, now_ms);
    BERTH_CHECK(id.ok(), "accept a checked array task");
    Job& task = jobs_[id->value - 1];
    task.array_id = first;
    task.array_index = index;
    task.array_throttle = throttle;
    ids.push_back(*id);
  }
  remember_submit_key(r, first, now_ms);
  return ids;
}

Result<JobId> Engine::replayed_submit(const JobRequest& r, int64_t now_ms) const {
  if (r.idempotency_key.empty()) return JobId();
  BERTH_RETURN_IF_ERROR(SubmitKeys::check_key(r.idempotency_key));
  const Project* project = funding_.project(r.project);
  if (!project) return JobId();  // check_submit refuses it
  const SubmitKey* k = submit_keys_.find(r.user, project->org, r.idempotency_key, now_ms);
  if (!k) return JobId();
  if (k->digest != r.request_digest)
    return Status::Conflict("idempotency key '" + r.idempotency_key + "' was already used for another request (job " +
                            std::to_string(k->job.value) + ")");
  return k->job;
}

void Engine::remember_submit_key(const JobRequest& r, JobId first, int64_t now_ms) {
  if (r.idempotency_key.empty()) return;
  SubmitKey k{r.user, funding_.project(r.project)->org, r.idempotency_key, r.request_digest, first, now_ms};
  submit_keys_.add(k);
  unsaved_submit_keys_.push_back(std::move(k));
}

void Engine::forget_submit_key(JobId first) {
  submit_keys_.forget(first);
  std::erase_if(unsaved_submit_keys_, [first](const SubmitKey& k) { return k.job == first; });
}

const char* Engine::access_action_name(AccessAction action) {
  switch (action) {
    case AccessAction::kTokenCreate: return "token.create";
    case AccessAction::kTokenRevoke: return "token.revoke";
    case AccessAction::kAdminTokenRotate: return "token.rotate_admin";
    case AccessAction::kAdminTokenRecover: return "token.recover_admin";
  }
  return "token.create";
}

void Engine::record_access(AccessAction action, const std::string& subject, std::string note, int64_t now_ms) {
  record_audit(access_action_name(action), subject, 0, TransferId(), std::move(note), now_ms);
}

Status Engine::check_submit(const JobRequest& r, const Partition** out, int64_t now_ms, int64_t jobs) {
  const Partition* part = nullptr;
  BERTH_RETURN_IF_ERROR(validate_request(r, &part));
  *out = part;
  for (const Dependency& d : r.dependencies)
    if (d.job.value == 0 || d.job.value > jobs_.size())
      return Status::NotFound("dependency job " + std::to_string(d.job.value) + " not found");
  if (r.dependencies.size() > 64) return Status::Invalid("a job may depend on at most 64 jobs");
  const Project* project = funding_.project(r.project);
  const Org* org = funding_.org(project->org);
  if (!part->allowed_orgs.empty() &&
      std::find(part->allowed_orgs.begin(), part->allowed_orgs.end(), org->name) == part->allowed_orgs.end())
    return Status::Denied("partition '" + part->name + "' is not open to organisation '" + org->name + "'");
  const struct {
    const Limit* limit;
    std::string who;
    int64_t waiting;
  } caps[] = {{project_limit(project->id), "project '" + project->name + "'", project_pending_[project->id.value]},
              {org_limit(org->id), "organisation '" + org->name + "'", org_pending_[org->id.value]}};
  for (const auto& cap : caps) {
    if (!cap.limit) continue;
    if (cap.limit->max_gpus >= 0 && r.gpus > cap.limit->max_gpus)
      return Status::Invalid("the job asks for " + std::to_string(r.gpus) + " GPUs but " + cap.who +
                             " may use at most " + std::to_string(cap.limit->max_gpus) + " at once");
    if (cap.limit->max_pending >= 0 && cap.waiting + jobs > cap.limit->max_pending)
      return Status::Conflict("QuotaLimit: " + cap.who + " has " + std::to_string(cap.waiting) + " pending jobs; " +
                              std::to_string(jobs) + " more would exceed its limit of " +
                              std::to_string(cap.limit->max_pending));
  }
  if (const Award* a = funding_.active_award(r.project, now_ms); a && r.gpus > a->gpu_level)
    return Status::Invalid("the job asks for " + std::to_string(r.gpus) + " GPUs but the project's award caps it at " +
                           std::to_string(a->gpu_level));
  return Status::Ok();
}

Result<JobId> Engine::accept(const JobRequest& r, const Partition& partition, int64_t now_ms) {
  const Partition* part = &partition;
  Job job;
  job.id = JobId(jobs_.size() + 1);
  job.name = r.name.empty() ? "job" : r.name;
  job.user = r.user;
  job.project = r.project;
  job.org = funding_.project(r.project)->org;
  job.tier = r.tier;
  job.gpus = r.gpus;
  job.nodes = r.nodes;
  job.gpu_model = r.gpu_model;
  job.node_choice = resolve_node_choice(cluster_, r.node_names, r.gpu_model, r.nodes, r.gpus / r.nodes).value();
  job.partition = part->name;
  job.time_limit_s = r.time_limit_s > 0 ? r.time_limit_s : part->default_time_s;
  job.estimate_s = estimate(r, job.time_limit_s);
  job.estimate_from_history = r.estimate_s == 0 && predicts(r);
  job.requeue = r.requeue;
  job.submit_ms = now_ms;
  job.reason = PendingReason::kNone;
  job.launch = r.launch;
  job.held = r.hold;
  job.dependencies = r.dependencies;
  jobs_.push_back(std::move(job));
  Job& added = jobs_.back();
  for (const Dependency& d : added.dependencies) dependents_[d.job.value].push_back(added.id.value);
  queue_or_park(added, now_ms);
  // Until a pass looks at it (a bounded pass may not reach it at once), a job queued behind
  // others waits for Priority.
  if (added.reason == PendingReason::kNone && scheduler_.pending() > 1) added.reason = PendingReason::kPriority;
  count_pending(added, +1);
  touch(added);
  return added.id;
}

Result<bool> Engine::cancel(JobId id, int64_t now_ms) {
  if (id.value == 0 || id.value > jobs_.size()) return Status::NotFound("job " + std::to_string(id.value) + " not found");
  Job& job = jobs_[id.value - 1];
  if (job.state == JobState::kPending) {
    scheduler_.dequeue(job);
    count_pending(job, -1);
    job.state = JobState::kCancelled;
    job.reason = PendingReason::kNone;
    job.end_ms = now_ms;
    touch(job);
    resolve_dependents(job, now_ms);
    return false;
  }
  if (job.state == JobState::kRunning) {
    job.cancel_requested = true;
    touch(job);
    return true;
  }
  return Status::Conflict("job " + std::to_string(id.value) + " already ended (" + job_state_name(job.state) + ")");
}

Status Engine::hold(JobId id, int64_t now_ms) {
  if (id.value == 0 || id.value > jobs_.size()) return Status::NotFound("job " + std::to_string(id.value) + " not found");
  Job& job = jobs_[id.value - 1];
  if (job.state != JobState::kPending)
    return Status::Conflict("job " + std::to_string(id.value) + " is " + job_state_name(job.state) + ": only a pending job can be held");
  if (job.held) return Status::Ok();
  scheduler_.dequeue(job);
  job.held = true;
  queue_or_park(job, now_ms);
  touch(job);
  return Status::Ok();
}

Status Engine::release(JobId id, int64_t now_ms) {
  if (id.value == 0 || id.value > jobs_.size()) return Status::NotFound("job " + std::to_string(id.value) + " not found");
  Job& job = jobs_[id.value - 1];
  if (job.state != JobState::kPending || !job.held)
    return Status::Conflict("job " + std::to_string(id.value) + " is not held");
  job.held = false;
  queue_or_park(job, now_ms);
  touch(job);
  return Status::Ok();
}

PendingReason Engine::cap_reason(const Job& job, int64_t now_ms) const {
  if (job.array_throttle > 0) {
    auto it = array_running_.find(job.array_id.value);
    if (it != array_running_.end() && it->second >= job.array_throttle) return PendingReason::kJobArrayTaskLimit;
  }
  const Award* award = funding_.active_award(job.project, now_ms);
  if (award && project_gpus_in_use(job.project) + job.gpus > award->gpu_level) return PendingReason::kAwardCap;
  if (const Limit* l = project_limit(job.project); l && l->max_gpus >= 0 && project_gpus_in_use(job.project) + job.gpus > l->max_gpus)
    return PendingReason::kQuotaLimit;
  if (const Limit* l = org_limit(job.org); l && l->max_gpus >= 0) {
    auto it = org_gpus_.find(job.org.value);
    if ((it == org_gpus_.end() ? 0 : it->second) + job.gpus > l->max_gpus) return PendingReason::kQuotaLimit;
  }
  return PendingReason::kNone;
}

PendingReason Engine::refusal(const Job& job, int64_t now_ms) const {
  if (const PendingReason r = cap_reason(job, now_ms); r != PendingReason::kNone) return r;
  // Money, at the cheapest model it may run on: if even that is unaffordable, it must wait.
  const int cheapest = cluster_.models_for(job.gpu_model).front();  // validated: not empty
  const Quote q = price(job, cluster_.model_name(cheapest < 0 ? 0 : cheapest), now_ms);
  return q.affordable ? PendingReason::kNone : q.reason;
}

PendingReason Engine::admit(Job& job, const std::vector<NodeId>& nodes, int64_t now_ms) {
  const Node& node = *cluster_.node(nodes.front());  // a gang's nodes are all of one model
  if (const PendingReason r = cap_reason(job, now_ms); r != PendingReason::kNone) return r;
  const Quote q = price(job, node.gpu_model, now_ms);
  if (!q.affordable) return q.reason;
  const Project* p = funding_.project(job.project);
  Transfer holds[2];
  size_t n = 0;
  if (q.subsidy_minor > 0) {
    Transfer& t = holds[n++];
    t.id = job_transfer_id(job.id, job.restarts, kPhaseSubsidyHold);
    t.debit = funding_.award(q.award)->account;
    t.credit = kRevenueAccount;
    t.amount = q.subsidy_minor;
    t.flags = kPending;
    t.code = kCodeJobSubsidy;
    t.ref = job.id.value;
  }
  if (q.copay_minor > 0) {
    Transfer& t = holds[n++];
    t.id = job_transfer_id(job.id, job.restarts, kPhaseCopayHold);
    t.debit = p->wallet;
    t.credit = kRevenueAccount;
    t.amount = q.copay_minor;
    t.flags = kPending;
    t.code = kCodeJobCopay;
    t.ref = job.id.value;
  }
  if (n == 2) holds[0].flags |= kLinked;
  if (n > 0) {
    const auto results = ledger_.create_transfers(std::span<const Transfer>(holds, n), now_ms);
    for (TransferResult r : results)
      if (r != TransferResult::kOk) return PendingReason::kInsufficientFunds;
  }
  job.state = JobState::kRunning;
  job.reason = PendingReason::kNone;
  job.start_ms = now_ms;
  job.node = node.id;
  job.gpu_ids = cluster_.allocate(node.id, job.gpus_per_node());
  job.more_nodes.clear();
  for (size_t i = 1; i < nodes.size(); ++i)
    job.more_nodes.push_back(Placement{nodes[i], cluster_.allocate(nodes[i], job.gpus_per_node())});
  job.award = q.award;
  job.rate_bps = q.rate_bps;
  job.price_per_gpu_hour_minor = q.price_per_gpu_hour_minor;
  job.max_cost_minor = q.max_cost_minor;
  job.subsidy_held_minor = q.subsidy_minor;
  job.copay_held_minor = q.copay_minor;
  job.expected_start_ms = 0;
  count_running(job, +1);
  count_pending(job, -1);
  scheduler_.running(job);
  touch(job);
  return PendingReason::kNone;
}

std::vector<JobId> Engine::schedule(int64_t now_ms) {
  if (now_ms - priorities_at_ms_ >= scheduling_.priority_recalc_ms) recompute_priorities(now_ms);
  scheduler_.replan_overdue(now_ms, [this](JobId id) -> Job& { return jobs_[id.value - 1]; },
                            [this](const Job& job) { touch(job); });
  // The Engine as the pass's host: a local class, so it may use the Engine's private parts.
  class Host final : public SchedulerHost {
   public:
    Host(Engine& engine, int64_t now_ms) : e_(engine), now_ms_(now_ms) {}
    Job& job(JobId id) override { return e_.jobs_[id.value - 1]; }
    PendingReason admit(Job& job, const std::vector<NodeId>& nodes) override {
      return e_.admit(job, nodes, now_ms_);
    }
    void wait(Job& job, PendingReason reason, int64_t expected_start_ms) override {
      job.expected_start_ms = expected_start_ms;
      if (job.reason != reason) {
        job.reason = reason;
        e_.touch(job);
      }
    }
    PendingReason refusal(const Job& job) override { return e_.refusal(job, now_ms_); }
    bool can_preempt() const override { return true; }
    void preempt(Job& victim) override {
      victim.preempt_requested = true;
      e_.preemptions_.push_back(victim.id);
    }

   private:
    Engine& e_;
    int64_t now_ms_;
  } host(*this, now_ms);
  return scheduler_.pass(cluster_, now_ms, host);
}

std::vector<JobId> Engine::take_preemptions() {
  std::vector<JobId> out;
  out.swap(preemptions_);
  return out;
}

void Engine::settle(Job& job, int64_t runtime_ms) {
  Minor cost = gpu_cost_minor(job.price_per_gpu_hour_minor, job.gpus, runtime_ms);
  BERTH_CHECK(cost >= 0, "cost overflow");
  cost = std::min(cost, job.max_cost_minor);
  const Minor subsidy = std::min(subsidy_share_minor(cost, job.rate_bps), job.subsidy_held_minor);
  const Minor copay = cost - subsidy;
  BERTH_CHECK(copay >= 0 && copay <= job.copay_held_minor, "co-payment exceeds its hold");
  Transfer posts[2];
  size_t n = 0;
  if (job.subsidy_held_minor > 0) {
    Transfer& t = posts[n++];
    t.id = job_transfer_id(job.id, job.restarts, kPhaseSubsidyPost);
    t.pending_id = job_transfer_id(job.id, job.restarts, kPhaseSubsidyHold);
    t.amount = subsidy;
    t.flags = kPostPending;
    t.code = kCodeJobSubsidy;
    t.ref = job.id.value;
  }
  if (job.copay_held_minor > 0) {
    Transfer& t = posts[n++];
    t.id = job_transfer_id(job.id, job.restarts, kPhaseCopayPost);
    t.pending_id = job_transfer_id(job.id, job.restarts, kPhaseCopayHold);
    t.amount = copay;
    t.flags = kPostPending;
    t.code = kCodeJobCopay;
    t.ref = job.id.value;
  }
  if (n == 2) posts[0].flags |= kLinked;
  if (n > 0) {
    const auto results = ledger_.create_transfers(std::span<const Transfer>(posts, n), job.start_ms + runtime_ms);
    for (TransferResult r : results) BERTH_CHECK(r == TransferResult::kOk, transfer_result_name(r));
  }
  job.cost_minor += cost;
  job.subsidy_minor += subsidy;
  job.copay_minor += copay;
}

Status Engine::job_ended(JobId id, const JobEnd& end, int64_t end_ms, int64_t now_ms) {
  if (id.value == 0 || id.value > jobs_.size()) return Status::NotFound("job " + std::to_string(id.value) + " not found");
  Job& job = jobs_[id.value - 1];
  if (job.state != JobState::kRunning)
    return Status::Conflict("job " + std::to_string(id.value) + " is not running (" + job_state_name(job.state) + ")");
  end_ms = std::clamp(end_ms, job.start_ms, std::max(job.start_ms, now_ms));
  settle(job, end_ms - job.start_ms);
  scheduler_.ended(job);
  fairshare_.decay(now_ms);
  fairshare_.add_usage(job.org, job.project, job.gpus * static_cast<double>(end_ms - job.start_ms) / 1000.0);
  cluster_.release(job.node, job.gpu_ids);
  for (const Placement& p : job.more_nodes) cluster_.release(p.node, p.gpu_ids);
  count_running(job, -1);
  job.exit_code = end.exit_code;
  job.term_signal = end.term_signal;
  job.end_reason = end.reason;
  job.end_ms = end_ms;
  // A preempted job is requeued when it was stopped; one that ended on its own during its
  // grace period simply ended.
  const bool requeue = (end.lost && job.requeue) || (job.preempt_requested && (end.cancelled || end.lost));
  job.preempt_requested = false;
  if (requeue && !job.cancel_requested && job.restarts + 1 < kMaxRestarts) {
    job.restarts += 1;
    job.ran_ms += end_ms - job.start_ms;
    job.state = JobState::kPending;
    job.reason = PendingReason::kNone;
    job.start_ms = job.end_ms = 0;
    job.node = NodeId();
    job.gpu_ids.clear();
    job.more_nodes.clear();
    job.award = AwardId();
    job.max_cost_minor = job.subsidy_held_minor = job.copay_held_minor = 0;
    enqueue(job, now_ms);
    count_pending(job, +1);
  } else if (end.cancelled || job.cancel_requested) {
    job.state = JobState::kCancelled;
  } else if (end.lost) {
    job.state = JobState::kNodeFail;
  } else if (end.timed_out) {
    job.state = JobState::kTimeout;
  } else if (end.exit_code == 0 && end.term_signal == 0) {
    job.state = JobState::kCompleted;
  } else {
    job.state = JobState::kFailed;
  }
  touch(job);
  learn_runtime(job);
  if (is_final(job.state)) resolve_dependents(job, now_ms);
  return Status::Ok();
}

Result<std::vector<JobId>> Engine::set_node_state(NodeId node, NodeState state, int64_t now_ms) {
  if (!cluster_.node(node)) return Status::NotFound("node " + std::to_string(node.value) + " not found");
  std::vector<JobId> ended;
  if (state == NodeState::kDown) {
    for (const Job& j : jobs_)
      if (j.state == JobState::kRunning && j.runs_on(node)) ended.push_back(j.id);
    JobEnd lost;
    lost.lost = true;
    for (JobId id : ended) BERTH_CHECK(job_ended(id, lost, now_ms, now_ms).ok(), "end a running job");
  }
  cluster_.set_state(node, state);
  return ended;
}

Result<std::vector<JobId>> Engine::change_node_state(NodeId node, NodeState state, int64_t now_ms) {
  const Node* n = cluster_.node(node);
  if (!n) return Status::NotFound("node " + std::to_string(node.value) + " not found");
  const std::string subject = "node " + n->name;
  const NodeState before = n->state;
  auto ended = set_node_state(node, state, now_ms);
  if (!ended.ok()) return ended;
  static constexpr const char* kActions[] = {"node.resume", "node.drain", "node.down"};
  static constexpr const char* kWas[] = {"was up", "was drained", "was down"};
  std::string note = kWas[static_cast<int>(before)];
  if (!ended->empty()) {
    note += "; ended jobs";
    for (size_t i = 0; i < ended->size(); ++i) note += (i ? ", " : " ") + std::to_string((*ended)[i].value);
  }
  record_audit(kActions[static_cast<int>(state)], subject, 0, TransferId(), note, now_ms);
  return ended;
}

bool Engine::predicts(const JobRequest& r) const {
  return scheduling_.predict_runtimes && (r.time_limit_s == 0 || scheduling_.predict_with_limit);
}

int64_t Engine::predicted_s(ProjectId project, int gpus, int64_t time_limit_s) const {
  const auto p = predictor_.predict(project, gpus);
  return p && *p < time_limit_s ? *p : 0;
}

int64_t Engine::estimate(const JobRequest& r, int64_t time_limit_s) const {
  if (r.estimate_s > 0) return r.estimate_s < time_limit_s ? r.estimate_s : 0;
  return predicts(r) ? predicted_s(r.project, r.gpus, time_limit_s) : 0;
}

void Engine::learn_runtime(const Job& job) {
  const bool own_end = job.state == JobState::kCompleted || job.state == JobState::kFailed || job.state == JobState::kTimeout;
  // A job requeued before (preempted, or its node lost) ran for all its attempts together.
  if (own_end && job.end_ms > job.start_ms && job.start_ms > 0)
    predictor_.record(job.project, job.gpus, (job.ran_ms + job.end_ms - job.start_ms + 999) / 1000);
}

size_t Engine::expire(int64_t now_ms) {
  const size_t expired = ledger_.expire_pending(now_ms);
  return_ended_awards(now_ms);
  return expired;
}

// ---- queries ----

const Job* Engine::job(JobId id) const {
  if (id.value == 0 || id.value > jobs_.size()) return nullptr;
  return &jobs_[id.value - 1];
}

std::vector<JobId> Engine::running_jobs() const {
  std::vector<JobId> out;
  for (const Job& j : jobs_)
    if (j.state == JobState::kRunning) out.push_back(j.id);
  return out;
}

int Engine::project_gpus_in_use(ProjectId project) const {
  auto it = project_gpus_.find(project.value);
  return it == project_gpus_.end() ? 0 : it->second;
}

// ---- persistence ----

ChangeSet Engine::drain_changes() {
  ChangeSet c;
  for (uint64_t id : dirty_orgs_)
    if (id <= orgs_saved_) c.orgs.push_back(*funding_.org(OrgId(id)));
  std::sort(c.orgs.begin(), c.orgs.end(), [](const Org& a, const Org& b) { return a.id < b.id; });
  dirty_orgs_.clear();
  c.orgs.insert(c.orgs.end(), funding_.orgs().begin() + static_cast<long>(orgs_saved_), funding_.orgs().end());
  c.projects.assign(funding_.projects().begin() + static_cast<long>(projects_saved_), funding_.projects().end());
  c.schemes.assign(funding_.schemes().begin() + static_cast<long>(schemes_saved_), funding_.schemes().end());
  for (uint64_t id : dirty_awards_)
    if (id <= awards_saved_) c.awards.push_back(*funding_.award(AwardId(id)));
  std::sort(c.awards.begin(), c.awards.end(), [](const Award& a, const Award& b) { return a.id < b.id; });
  c.awards.insert(c.awards.end(), funding_.awards().begin() + static_cast<long>(awards_saved_), funding_.awards().end());
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
  for (uint64_t scheme : dirty_criteria_) c.criteria[scheme] = applications_.criteria(SchemeId(scheme));
  dirty_criteria_.clear();
  for (uint64_t project : dirty_funding_orders_) c.funding_orders[project] = funding_.funding_order(ProjectId(project));
  dirty_funding_orders_.clear();
  std::vector<uint64_t> ids(dirty_jobs_.begin(), dirty_jobs_.end());
  std::sort(ids.begin(), ids.end());
  c.jobs.reserve(ids.size());
  for (uint64_t id : ids) c.jobs.push_back(jobs_[id - 1]);
  dirty_jobs_.clear();
  LedgerChanges lc = ledger_.drain_changes();
  std::sort(lc.accounts.begin(), lc.accounts.end());
  lc.accounts.erase(std::unique(lc.accounts.begin(), lc.accounts.end()), lc.accounts.end());
  for (AccountId id : lc.accounts) c.accounts.push_back(*ledger_.account(id));
  for (TransferId id : lc.transfers) c.transfers.push_back(*ledger_.transfer(id));
  std::sort(lc.pending_states.begin(), lc.pending_states.end());
  lc.pending_states.erase(std::unique(lc.pending_states.begin(), lc.pending_states.end()), lc.pending_states.end());
  for (TransferId id : lc.pending_states) c.pending.push_back({id, ledger_.pending_state(id), ledger_.posted_amount(id)});
  c.submit_keys = std::move(unsaved_submit_keys_);
  unsaved_submit_keys_.clear();
  c.next_job_id = jobs_.size() + 1;
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
  c.jobs.assign(jobs_.begin(), jobs_.end());
  c.submit_keys = submit_keys_.all();
  for (const Account* a : ledger_.accounts()) c.accounts.push_back(*a);
  c.transfers = ledger_.transfers_in_order();
  for (const Transfer& t : c.transfers)
    if (t.flags & kPending) c.pending.push_back({t.id, ledger_.pending_state(t.id), ledger_.posted_amount(t.id)});
  c.next_job_id = jobs_.size() + 1;
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
      return Status::Internal("award " + std::to_string(a.id.value) + ": refunds paid into it (" + format_amount(into) +
                              "), subsidy refunded of its jobs (" + format_amount(refunded) + ") and subsidy charged (" +
                              format_amount(charged) + ") disagree");
  }
  for (const Job& j : jobs_) {
    const std::string name = "job " + std::to_string(j.id.value);
    if (j.subsidy_minor + j.copay_minor != j.cost_minor) return Status::Internal(name + ": subsidy + co-payment != cost");
    if (j.refunded_minor < 0 || j.refunded_minor > j.cost_minor) return Status::Internal(name + ": refunded more than its cost");
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
      const bool valid_then = a && a->start_ms <= j.start_ms &&
                              (j.start_ms < a->end_ms || (a->closed_ms != 0 && j.start_ms <= a->closed_ms));
      if (!valid_then) return Status::Internal(name + ": held outside its award's dates");
    }
  }
  return Status::Ok();
}

}  // namespace berth::core
