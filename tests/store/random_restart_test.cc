// A randomized test of the whole core through the real SQLite store, with crashes.
//
// From a fixed seed it drives one Engine through thousands of mixed operations at an advancing
// virtual now_ms, in batches as berthd applies them: organisations (with registration records,
// some fields bad, amended now and then), projects and schemes with their rules (window, cap,
// exceptional rate, validity); applications drafted, updated, submitted, reviewed, approved,
// rejected and withdrawn; direct awards, supplements and early closure; top-ups with new and
// replayed payment references; refunds of ended jobs' charges (some above what is left to refund);
// jobs of every size, model and tier, held, released, dependent and in arrays; cancels, scheduling
// passes, ends (completed, failed, timed out, lost), preemptions, nodes going down and up, and
// expiry (where ended awards return their remainder). Deliberately invalid operations (over a cap,
// over a fund, unknown ids, wrong roles, bad fields) are mixed in: each must be refused and must
// change nothing. Every operation that fails, planned or not, is checked to have changed no
// balance, counter or record.
//
// After each batch the engine's changes are committed to a real database file, as berthd does.
// At random batches berth "crashes" instead: the engine is dropped without committing the
// batch, the store is reopened, the engine restored from load(), and the jobs that were
// running are settled as lost at the last commit, as berthd's recovery does. The rows read back
// must be exactly what was last committed, and everything acknowledged (committed) must still
// be there. After every restore, at checkpoints and at the end: Engine::verify() is Ok,
// core::reconcile() of the store's rows and of the engine's snapshot find nothing, total debits
// equal total credits, the store's rows equal the engine's, no project holds more than a
// scheme's cap, every ended award whose holds are settled has returned its remainder, and every
// award's figures (spent net of refunds, refunded, returned) are non-negative and add up to what
// it was granted.
//
// A failure names the seed, the batch and the operation. BERTH_RANDOM_SEED=<n> runs another
// seed and BERTH_RANDOM_OPS=<n> changes the number of operations.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/reconcile.h"
#include "core/statements.h"
#include "store/sqlite_store.h"

namespace berth::store {
namespace {

namespace fs = std::filesystem;
using core::ChangeSet;
using core::Engine;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = 1'800'000'000'000;  // the virtual clock's start
constexpr Minor kUnit = kMinorPerUnit;
constexpr int kDefaultOps = 3'000;

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// Two H100 nodes in one rack, one A100 node in another; a default and a short partition.
core::ClusterConfig cluster() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "h1", "H100", 8, 64, 512'000, core::NodeState::kUp, "rack-a"},
             core::Node{NodeId(), "h2", "H100", 8, 64, 512'000, core::NodeState::kUp, "rack-a"},
             core::Node{NodeId(), "a1", "A100", 4, 32, 256'000, core::NodeState::kUp, "rack-b"}};
  c.prices = {{"H100", 30 * kUnit}, {"A100", 12 * kUnit}};
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true, {}},
                  core::Partition{"short", 2 * 3600, 1800, false, {}}};
  return c;
}

// Limits that make some submits wait (QuotaLimit) and some be refused outright.
core::SchedulerConfig scheduling() {
  core::SchedulerConfig s;
  s.project_limits["p2"] = core::Limit{-1, 12};  // at most 12 jobs waiting
  s.org_limits["org3"] = core::Limit{6, -1};     // at most 6 GPUs at once
  return s;
}

// ---- the rows as text: equal texts mean equal stored state ----

template <typename... Fields>
void line(std::ostringstream& out, const char* what, const Fields&... fields) {
  out << what;
  ((out << ' ' << fields), ...);
  out << '\n';
}

// Every stored field of every row. A job's scheduling fields that are derived afresh after a
// restart (priority, expected start, preemption asked, estimate from history) are left out.
std::string rows_text(const ChangeSet& c) {
  std::ostringstream o;
  for (const core::Org& r : c.orgs)
    line(o, "org", r.id.value, r.name, int(r.kind), r.created_ms, r.registration.number,
         r.registration.address, r.registration.contact_name, r.registration.contact_email,
         r.registration.jurisdiction, r.updated_ms);
  for (const core::Project& r : c.projects)
    line(o, "project", r.id.value, r.org.value, r.name, r.wallet.value, r.created_ms);
  for (const core::Scheme& r : c.schemes)
    line(o, "scheme", r.id.value, r.name, r.rate_bps, r.eligible_kinds, int(r.shortfall),
         r.fund.value, r.created_ms, r.exceptional_rate_bps, r.cap_per_project_minor,
         r.window_open_ms, r.window_close_ms, r.award_validity_days);
  for (const core::Award& r : c.awards)
    line(o, "award", r.id.value, r.scheme.value, r.project.value, r.account.value, r.amount_minor,
         r.gpu_level, r.start_ms, r.end_ms, r.created_ms, r.rate_bps, r.application.value,
         r.closed_ms, r.returned_ms, r.returned_minor);
  for (const core::TopUp& r : c.topups)
    line(o, "topup", r.transfer.value, r.project.value, r.amount_minor, "[" + r.reference + "]",
         r.created_ms);
  for (const core::AuditRecord& r : c.audit)
    line(o, "audit", r.seq, r.at_ms, r.user, r.action, r.subject, r.amount_minor, r.transfer.value,
         r.note);
  for (const core::Application& r : c.applications) {
    line(o, "application", r.id.value, r.scheme.value, r.project.value, r.org.value, int(r.state),
         r.terms.amount_minor, r.terms.gpu_level, r.terms.duration_days, r.created_ms, r.updated_ms,
         r.submitted_ms, r.decided_ms, r.decided_by, r.weighted_score_e4, r.approved_minor,
         r.approved_gpu_level, r.approved_duration_days, r.approved_rate_bps, r.award.value,
         r.reviews.size());
    for (const core::Review& v : r.reviews)
      line(o, " review", v.reviewer, v.weighted_score_e4, v.at_ms, v.scores.size());
  }
  for (const core::ApplicationEvent& r : c.application_events)
    line(o, "event", r.seq, r.application.value, r.scheme.value, r.at_ms, r.user, int(r.action),
         r.note);
  for (const auto& [scheme, criteria] : c.criteria)
    for (const core::Criterion& r : criteria) line(o, "criterion", scheme, r.name, r.weight_bps);
  for (const core::Job& j : c.jobs) {
    line(o, "job", j.id.value, j.name, j.user, j.project.value, j.org.value, int(j.state),
         int(j.reason), int(j.tier), j.gpus, j.nodes, "[" + j.gpu_model + "]", j.partition,
         j.time_limit_s, j.estimate_s, j.requeue, j.restarts, j.ran_ms, j.submit_ms, j.start_ms,
         j.end_ms, j.node.value, j.gpu_ids.size(), j.more_nodes.size(), j.exit_code, j.term_signal,
         j.cancel_requested, j.held, core::format_dependencies(j.dependencies), j.array_id.value,
         j.array_index, j.array_throttle);
    line(o, " money", j.award.value, j.rate_bps, j.price_per_gpu_hour_minor, j.max_cost_minor,
         j.subsidy_held_minor, j.copay_held_minor, j.cost_minor, j.subsidy_minor, j.copay_minor,
         j.refunded_minor);
  }
  for (const core::Account& a : c.accounts)
    line(o, "account", a.id.value, int(a.kind), a.no_overdraft, a.owner, a.name, a.debits_pending,
         a.debits_posted, a.credits_pending, a.credits_posted, a.created_ms);
  for (const core::Transfer& t : c.transfers)
    line(o, "transfer", t.id.value, t.debit.value, t.credit.value, t.amount, t.flags,
         t.pending_id.value, t.timeout_ms, t.code, t.ref, t.timestamp_ms);
  for (const core::PendingUpdate& p : c.pending)
    line(o, "pending", p.id.value, int(p.state), p.posted_minor);
  line(o, "next", c.next_job_id, c.next_account_id, c.next_transfer_seq);
  return o.str();
}

// What changes with every accepted command, cheap enough to take around each one: the
// counters, the sizes of the append-only records, and every account's balances.
std::string quick_state(const Engine& e) {
  std::ostringstream o;
  line(o, "sizes", e.jobs().size(), e.topups().size(), e.audit().size(),
       e.applications().events().size(), e.funding().orgs().size(), e.funding().projects().size(),
       e.funding().schemes().size(), e.funding().awards().size(),
       e.ledger().transfers_in_order().size());
  for (const core::Account* a : e.ledger().accounts())
    line(o, "account", a->id.value, a->debits_pending, a->debits_posted, a->credits_pending,
         a->credits_posted);
  for (const core::Org& r : e.funding().orgs())  // few, and amended in place
    line(o, "org", r.id.value, r.registration.number, r.registration.address,
         r.registration.contact_name, r.registration.contact_email, r.registration.jurisdiction,
         r.updated_ms);
  return o.str();
}

// The first line where two texts differ, for a readable failure.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string lx, ly;
  for (int n = 1;; ++n) {
    const bool more_x = static_cast<bool>(std::getline(x, lx));
    const bool more_y = static_cast<bool>(std::getline(y, ly));
    if (!more_x && !more_y) return "no difference";
    if (!more_x || !more_y || lx != ly)
      return "line " + std::to_string(n) + ":\n  expected: " + (more_x ? lx : "<end>") +
             "\n  found:    " + (more_y ? ly : "<end>");
  }
}

std::string reconcile_text(const core::ReconcileReport& r) {
  std::string out = std::to_string(r.differences_found) + " difference(s)";
  for (size_t i = 0; i < r.differences.size() && i < 5; ++i) {
    const core::Difference& d = r.differences[i];
    out += "\n  " + std::string(core::difference_kind_name(d.kind)) + " " +
           core::entity_kind_name(d.entity) + " " + std::to_string(d.id) + " " + d.field +
           ": expected " + std::to_string(d.expected) + ", found " + std::to_string(d.found) +
           " (" + d.message + ")";
  }
  return out;
}

// ---- the driver ----

class RandomRestartTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    seed_ = env_or("BERTH_RANDOM_SEED", GetParam());
    rng_.seed(seed_);
    std::string tmpl = (fs::temp_directory_path() / "berth_random_restart_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (fs::path(dir_) / "berth.db").string();
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  // Where a failure happened: enough to replay it.
  std::string where() const {
    return "seed " + std::to_string(seed_) + ", batch " + std::to_string(batch_) + ", op " +
           std::to_string(op_) + " (" + what_ + ") at now " + std::to_string(now_ - kT0) +
           " ms after start";
  }

  // ---- randomness ----
  int64_t between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool chance(int percent) { return between(1, 100) <= percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(between(0, static_cast<int64_t>(v.size()) - 1))];
  }
  template <typename Id>
  Id random_id(size_t count) {
    return Id(static_cast<uint64_t>(between(1, static_cast<int64_t>(count))));
  }
  // A job in one of the given states, or none.
  std::optional<JobId> job_in(std::initializer_list<core::JobState> states) {
    std::vector<JobId> ids;
    for (const core::Job& j : engine_->jobs())
      if (std::find(states.begin(), states.end(), j.state) != states.end()) ids.push_back(j.id);
    if (ids.empty()) return std::nullopt;
    return pick(ids);
  }
  std::optional<ApplicationId> application_in(core::ApplicationState state) {
    const std::vector<ApplicationId> ids = engine_->applications().in_state(state);
    if (ids.empty()) return std::nullopt;
    return pick(ids);
  }

  // ---- actors ----
  core::Actor member_of(OrgId org) const {
    return core::Actor{"member" + std::to_string(org.value), core::FundingRole::kMember, org};
  }
  core::Actor member_of_project(ProjectId p) const {
    return member_of(engine_->funding().project(p)->org);
  }
  core::Actor reviewer() {
    return core::Actor{chance(50) ? "rita" : "victor", core::FundingRole::kReviewer, OrgId()};
  }

  // ---- the store ----
  void open_store() {
    auto s = SqliteStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // Commits the batch's changes, and the nodes whose state changed, as berthd does.
  void commit() {
    const Status st = store_->commit(engine_->drain_changes(), now_);
    ASSERT_TRUE(st.ok()) << where() << ": " << st.ToString();
    last_commit_ms_ = now_;
    for (const core::Node& n : engine_->cluster().nodes()) {
      if (stored_node_states_[n.id.value - 1] == n.state) continue;
      ASSERT_TRUE(store_->put_node(n).ok());
      stored_node_states_[n.id.value - 1] = n.state;
    }
    acknowledge();
  }
  // Remembers what the store now holds for good: every top-up, and every job that ended.
  void acknowledge() {
    acked_topups_ = engine_->topups();
    for (const core::Job& j : engine_->jobs())
      if (core::is_final(j.state) && !acked_final_jobs_.count(j.id.value))
        acked_final_jobs_[j.id.value] = j;
    acked_jobs_ = engine_->jobs().size();
    acked_awards_ = engine_->funding().awards().size();
    acked_applications_ = engine_->applications().all().size();
    acked_audit_ = engine_->audit().size();
  }

  // ---- checks ----

  // Nothing acknowledged is lost: every committed top-up and ended job is as it was.
  void check_acknowledged() {
    SCOPED_TRACE(where());
    ASSERT_GE(engine_->topups().size(), acked_topups_.size());
    for (size_t i = 0; i < acked_topups_.size(); ++i) {
      const core::TopUp& want = acked_topups_[i];
      const core::TopUp& got = engine_->topups()[i];
      ASSERT_EQ(got.transfer, want.transfer) << "top-up " << i << " reference " << want.reference;
      ASSERT_EQ(got.amount_minor, want.amount_minor);
      ASSERT_EQ(got.reference, want.reference);
      const core::Transfer* t = engine_->ledger().transfer(want.transfer);
      ASSERT_NE(t, nullptr) << "top-up transfer " << want.transfer.value << " lost";
      ASSERT_EQ(t->amount, want.amount_minor);
    }
    ASSERT_GE(engine_->jobs().size(), acked_jobs_);
    for (const auto& [id, want] : acked_final_jobs_) {
      const core::Job* got = engine_->job(JobId(id));
      ASSERT_NE(got, nullptr) << "job " << id;
      ASSERT_EQ(got->state, want.state) << "job " << id;
      ASSERT_EQ(got->end_ms, want.end_ms) << "job " << id;
      ASSERT_EQ(got->cost_minor, want.cost_minor) << "job " << id;
      ASSERT_EQ(got->subsidy_minor, want.subsidy_minor) << "job " << id;
    }
    ASSERT_GE(engine_->funding().awards().size(), acked_awards_);
    ASSERT_GE(engine_->applications().all().size(), acked_applications_);
    ASSERT_GE(engine_->audit().size(), acked_audit_);
  }

  // The books, from every side. `committed`: the engine has no uncommitted changes, so the
  // store's rows must equal its snapshot. `expired`: expire() has just run, after every
  // settlement, so every ended award with nothing held must have been returned.
  void check_books(bool committed, bool expired) {
    SCOPED_TRACE(where());
    const Status verified = engine_->verify();
    ASSERT_TRUE(verified.ok()) << verified.ToString();
    const ChangeSet snapshot = engine_->snapshot();
    const core::ReconcileReport of_engine = core::reconcile(snapshot);
    ASSERT_TRUE(of_engine.ok()) << "engine: " << reconcile_text(of_engine);
    int64_t alive_ms = 0;
    auto rows = store_->load(&alive_ms);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    const core::ReconcileReport of_store = core::reconcile(*rows);
    ASSERT_TRUE(of_store.ok()) << "store: " << reconcile_text(of_store);
    // Runs of a requeued job at another price than its last (it may run on either model)
    // cannot be recomputed from the rows (reconcile.h's limit); their splits are still checked.
    runs_not_recomputed_ = of_store.runs_not_recomputed;
    if (committed) {
      const std::string want = rows_text(snapshot), got = rows_text(*rows);
      ASSERT_EQ(want, got) << "the store's rows differ from the engine's: "
                           << first_difference(want, got);
    }
    // Double entry: total debits equal total credits, posted and pending.
    Minor debits_posted = 0, credits_posted = 0, debits_pending = 0, credits_pending = 0;
    for (const core::Account& a : snapshot.accounts) {
      debits_posted += a.debits_posted;
      credits_posted += a.credits_posted;
      debits_pending += a.debits_pending;
      credits_pending += a.credits_pending;
    }
    ASSERT_EQ(debits_posted, credits_posted);
    ASSERT_EQ(debits_pending, credits_pending);
    // Each award's figures, as billing reads them.
    for (const core::Award& a : engine_->funding().awards()) {
      const core::AwardMoney m = core::award_money(*engine_, a);
      ASSERT_GE(m.spent_minor, 0) << "award " << a.id.value;
      ASSERT_GE(m.refunded_minor, 0) << "award " << a.id.value;
      ASSERT_GE(m.returned_minor, a.returned_minor) << "award " << a.id.value;
      ASSERT_EQ(m.granted_minor, m.held_minor + m.spent_minor + m.left_minor + m.returned_minor)
          << "award " << a.id.value;
    }
    // No project holds more from a scheme than its cap, and approved applications have awards.
    std::map<std::pair<uint64_t, uint64_t>, Minor> awarded;
    for (const core::Award& a : snapshot.awards)
      awarded[{a.scheme.value, a.project.value}] += a.amount_minor;
    for (const auto& [key, amount] : awarded) {
      const core::Scheme* s = engine_->funding().scheme(SchemeId(key.first));
      if (s->cap_per_project_minor > 0) {
        ASSERT_LE(amount, s->cap_per_project_minor) << "scheme " << key.first;
      }
    }
    for (const core::Application& app : snapshot.applications) {
      if (app.state != core::ApplicationState::kApproved) continue;
      const core::Award* a = engine_->funding().award(app.award);
      ASSERT_NE(a, nullptr) << "application " << app.id.value;
      ASSERT_EQ(a->application, app.id);
      ASSERT_LE(app.approved_minor, a->amount_minor);
    }
    // Awards that ended with every hold settled have returned what was left (expire() ran at
    // the end of the batch); a returned award holds nothing.
    for (const core::Award& a : snapshot.awards) {
      const core::Account& acct = *engine_->ledger().account(a.account);
      if (a.returned_ms != 0) {
        ASSERT_EQ(acct.balance(), 0) << "award " << a.id.value;
        ASSERT_EQ(acct.debits_pending, 0) << "award " << a.id.value;
      } else if (expired && a.end_ms <= now_ && acct.debits_pending == 0) {
        FAIL() << "award " << a.id.value << " ended at " << a.end_ms
               << " with nothing held but was not returned";
      }
    }
  }

  // Runs a command that must be refused and must change nothing at all.
  template <typename Command>
  void refused(const std::string& what, Command command) {
    what_ = what;
    const std::string before = rows_text(engine_->snapshot());
    const Status st = command();
    ASSERT_FALSE(st.ok()) << where() << ": accepted";
    ASSERT_NE(st.code(), Code::kInternal) << where() << ": " << st.ToString();
    const std::string after = rows_text(engine_->snapshot());
    ASSERT_EQ(before, after) << where() << " was refused (" << st.ToString() << ") but changed "
                             << first_difference(before, after);
    ++refusals_;
  }

  // Runs a command that may be refused; if it is, it must have changed no balance or record.
  template <typename Command>
  void attempt(const std::string& what, Command command) {
    what_ = what;
    const std::string before = quick_state(*engine_);
    const Status st = command();
    if (st.ok()) {
      ++accepted_;
      return;
    }
    ASSERT_NE(st.code(), Code::kInternal) << where() << ": " << st.ToString();
    const std::string after = quick_state(*engine_);
    ASSERT_EQ(before, after) << where() << " failed (" << st.ToString() << ") but changed "
                             << first_difference(before, after);
  }

  // ---- the executor: running jobs end (time limit, their own end, a stop asked for) ----
  void executor_step() {
    for (JobId id : engine_->running_jobs()) {
      const core::Job& j = *engine_->job(id);
      core::JobEnd end;
      int64_t end_ms = now_;
      if (to_terminate_.count(id.value)) {
        end.cancelled = true;
        end.term_signal = 15;
      } else if (now_ >= j.start_ms + j.time_limit_s * 1000) {
        end.timed_out = true;
        end_ms = j.start_ms + j.time_limit_s * 1000;
      } else if (chance(25)) {
        end_ms = between(j.start_ms, now_);
        const int64_t how = between(1, 10);
        end.exit_code = how <= 7 ? 0 : 1;
        if (how == 10) end = core::JobEnd{0, 9, false, false, false};
      } else {
        continue;
      }
      to_terminate_.erase(id.value);
      attempt("job " + std::to_string(id.value) + " ends",
              [&] { return engine_->job_ended(id, end, end_ms, now_); });
      if (HasFatalFailure()) return;
    }
  }

  // ---- the operations ----

  void op_create_org() {
    const size_t n = engine_->funding().orgs().size();
    if (n >= 6) return;
    const auto kind = static_cast<core::OrgKind>(between(0, core::kOrgKindCount - 1));
    const core::RegistrationChange registration = random_registration();
    attempt("create org", [&] {
      return engine_->create_org("org" + std::to_string(n + 1), kind, registration, now_).status();
    });
  }

  // A registration record's fields, some of them bad (a refusal must change nothing).
  core::RegistrationChange random_registration() {
    core::RegistrationChange c;
    if (chance(50))
      c.number = chance(90) ? " BR-" + std::to_string(between(1, 99)) + " " : std::string("  ");
    if (chance(40))
      c.address = chance(90) ? "Unit " + std::to_string(between(1, 9)) + ", Hong Kong"
                             : std::string(600, 'a');
    if (chance(40)) c.contact_name = "Contact " + std::to_string(between(1, 9));
    if (chance(50))
      c.contact_email =
          chance(80) ? "c" + std::to_string(between(1, 9)) + "@org.hk" : std::string("no email");
    if (chance(30)) c.jurisdiction = "Hong Kong";
    return c;
  }

  void op_update_org() {
    const auto& orgs = engine_->funding().orgs();
    if (orgs.empty()) return;
    const OrgId org = chance(95) ? pick(orgs).id : OrgId(orgs.size() + 1);
    const core::RegistrationChange change = random_registration();
    attempt("update org", [&] { return engine_->update_org(org, change, "", now_).status(); });
  }

  void op_create_project() {
    const auto& orgs = engine_->funding().orgs();
    const size_t n = engine_->funding().projects().size();
    if (orgs.empty() || n >= 14) return;
    const OrgId org = pick(orgs).id;
    attempt("create project", [&] {
      return engine_->create_project(org, "p" + std::to_string(n + 1), now_).status();
    });
  }

  void op_create_scheme() {
    const size_t n = engine_->funding().schemes().size();
    if (n >= 5) return;
    core::SchemeSpec spec;
    spec.name = "s" + std::to_string(n + 1);
    spec.rate_bps = between(6, 16) * 500;
    spec.eligible_kinds =
        static_cast<uint32_t>(between(1, 31)) | 1u << static_cast<int>(core::OrgKind::kUniversity);
    spec.shortfall = chance(50) ? core::Shortfall::kWallet : core::Shortfall::kWait;
    if (chance(50))
      spec.exceptional_rate_bps = std::min<int64_t>(10'000, spec.rate_bps + between(1, 4) * 500);
    if (chance(50)) spec.cap_per_project_minor = between(20, 100) * 1'000 * kUnit;
    if (chance(50)) spec.window_open_ms = now_ + between(-kDay, kDay);
    if (chance(40)) spec.window_close_ms = now_ + between(2, 12) * kDay;
    if (chance(50)) spec.award_validity_days = static_cast<int>(between(1, 14));
    const Minor fund = chance(20) ? 0 : between(50, 500) * 1'000 * kUnit;
    attempt("create scheme", [&] { return engine_->create_scheme(spec, fund, now_).status(); });
  }

  void op_fund_scheme() {
    if (engine_->funding().schemes().empty()) return;
    const SchemeId s = random_id<SchemeId>(engine_->funding().schemes().size());
    attempt("fund scheme",
            [&] { return engine_->fund_scheme(s, between(10, 200) * 1'000 * kUnit, now_); });
  }

  void op_set_criteria() {
    if (engine_->funding().schemes().empty()) return;
    const SchemeId s = random_id<SchemeId>(engine_->funding().schemes().size());
    std::vector<core::Criterion> criteria = {{"impact", 6000}, {"plan", 4000}};
    if (chance(30)) criteria = {{"merit", 10'000}};
    attempt("set criteria", [&] { return engine_->set_criteria(reviewer(), s, criteria, now_); });
  }

  core::ApplicationTerms random_terms() {
    core::ApplicationTerms t;
    t.amount_minor = between(1, 60) * 1'000 * kUnit;
    t.gpu_level = static_cast<int>(between(1, 8));
    t.gpu_model = chance(30) ? "H100" : "";
    t.duration_days = static_cast<int>(between(1, 30));
    t.justification = "a model for the harbour";
    return t;
  }

  void op_draft_application() {
    if (engine_->funding().schemes().empty() || engine_->funding().projects().empty()) return;
    const SchemeId s = random_id<SchemeId>(engine_->funding().schemes().size());
    const ProjectId p = random_id<ProjectId>(engine_->funding().projects().size());
    const core::ApplicationTerms terms = random_terms();
    attempt("draft application", [&] {
      return engine_->draft_application(member_of_project(p), s, p, terms, now_).status();
    });
  }

  void op_update_application() {
    const auto id = application_in(core::ApplicationState::kDraft);
    if (!id) return;
    const core::Application& app = *engine_->applications().get(*id);
    const core::ApplicationTerms terms = random_terms();
    attempt("update application",
            [&] { return engine_->update_application(member_of(app.org), *id, terms, now_); });
  }

  void op_submit_application() {
    const auto id = application_in(core::ApplicationState::kDraft);
    if (!id) return;
    const core::Actor actor = member_of(engine_->applications().get(*id)->org);
    attempt("submit application", [&] { return engine_->submit_application(actor, *id, now_); });
  }

  void op_review_application() {
    const auto id = application_in(core::ApplicationState::kSubmitted);
    if (!id) return;
    std::vector<core::CriterionScore> scores;
    for (const core::Criterion& c :
         engine_->applications().criteria(engine_->applications().get(*id)->scheme))
      scores.push_back({c.name, static_cast<int>(between(0, 100))});
    attempt("review application",
            [&] { return engine_->review_application(reviewer(), *id, scores, "seen", now_); });
  }

  void op_approve_application() {
    const auto id = application_in(core::ApplicationState::kSubmitted);
    if (!id) return;
    const core::Application& app = *engine_->applications().get(*id);
    core::Approval approval;
    if (chance(50)) approval.amount_minor = between(1, app.terms.amount_minor / kUnit) * kUnit;
    if (chance(30)) approval.gpu_level = static_cast<int>(between(1, app.terms.gpu_level));
    if (chance(30)) approval.duration_days = static_cast<int>(between(1, app.terms.duration_days));
    approval.exceptional_rate = chance(30);
    attempt("approve application",
            [&] { return engine_->approve_application(reviewer(), *id, approval, now_).status(); });
  }

  void op_reject_or_withdraw() {
    if (chance(50)) {
      const auto id = application_in(core::ApplicationState::kSubmitted);
      if (!id) return;
      attempt("reject application",
              [&] { return engine_->reject_application(reviewer(), *id, "out of scope", now_); });
      return;
    }
    const auto id = application_in(chance(50) ? core::ApplicationState::kDraft
                                              : core::ApplicationState::kSubmitted);
    if (!id) return;
    const core::Actor actor = member_of(engine_->applications().get(*id)->org);
    attempt("withdraw application",
            [&] { return engine_->withdraw_application(actor, *id, "changed plans", now_); });
  }

  void op_direct_award() {
    if (engine_->funding().schemes().empty() || engine_->funding().projects().empty()) return;
    const SchemeId s = random_id<SchemeId>(engine_->funding().schemes().size());
    const ProjectId p = random_id<ProjectId>(engine_->funding().projects().size());
    const Minor amount = between(1, 40) * 1'000 * kUnit;
    const int level = static_cast<int>(between(2, 16));
    const int64_t start = now_ - between(0, kDay);
    const int64_t end = now_ + between(1, 240) * kHour;
    attempt("direct award",
            [&] { return engine_->create_award(s, p, amount, level, start, end, now_).status(); });
  }

  void op_supplement_award() {
    if (engine_->funding().awards().empty()) return;
    const core::Award& a =
        *engine_->funding().award(random_id<AwardId>(engine_->funding().awards().size()));
    const Minor amount = chance(70) ? between(1, 10) * 1'000 * kUnit : 0;
    const int64_t end = amount == 0 || chance(40) ? a.end_ms + between(1, 72) * kHour : 0;
    attempt("supplement award " + std::to_string(a.id.value), [&] {
      return engine_->supplement_award(a.id, amount, end, "more work", now_).status();
    });
  }

  void op_close_award() {
    if (engine_->funding().awards().empty()) return;
    const AwardId a = random_id<AwardId>(engine_->funding().awards().size());
    attempt("close award " + std::to_string(a.value),
            [&] { return engine_->close_award(a, "project ended early", now_).status(); });
  }

  void op_top_up() {
    if (engine_->funding().projects().empty()) return;
    const ProjectId p = random_id<ProjectId>(engine_->funding().projects().size());
    const std::string reference = chance(80) ? "pay-" + std::to_string(++references_) : "";
    const Minor amount = between(50, 3'000) * kUnit;
    attempt("top up", [&] { return engine_->top_up(p, amount, reference, now_).status(); });
  }

  // A refund of part (now and then more than the rest, refused) of an ended job's charge. Its
  // subsidy part goes back to each run's award, or to the fund once that award has ended.
  void op_refund() {
    std::vector<JobId> charged;
    for (const core::Job& j : engine_->jobs())
      if (engine_->refundable_minor(j) > 0) charged.push_back(j.id);
    if (charged.empty()) return;
    const JobId id = pick(charged);
    const Minor rest = engine_->refundable_minor(*engine_->job(id));
    const Minor amount = chance(90) ? between(1, rest) : rest + 1;
    attempt("refund job " + std::to_string(id.value),
            [&] { return engine_->refund_job(id, amount, "random refund", now_).status(); });
  }

  // The same payment reference again: the first top-up, and nothing new.
  void op_replay_top_up() {
    std::vector<core::TopUp> with_reference;
    for (const core::TopUp& t : engine_->topups())
      if (!t.reference.empty()) with_reference.push_back(t);
    if (with_reference.empty()) return;
    const core::TopUp first = pick(with_reference);
    what_ = "replay top-up " + first.reference;
    const std::string before = quick_state(*engine_);
    bool replayed = false;
    auto again =
        engine_->top_up(first.project, first.amount_minor, first.reference, now_, &replayed);
    ASSERT_TRUE(again.ok()) << where() << ": " << again.status().ToString();
    ASSERT_TRUE(replayed) << where();
    ASSERT_EQ(again->transfer, first.transfer) << where();
    ASSERT_EQ(quick_state(*engine_), before) << where() << ": a replayed top-up moved money";
    ++replays_;
  }

  core::JobRequest random_job() {
    core::JobRequest r;
    r.name = "job";
    r.user = "user" + std::to_string(between(1, 5));
    r.project = random_id<ProjectId>(engine_->funding().projects().size());
    static const std::vector<int> sizes = {1, 1, 1, 2, 2, 4, 4, 8};
    r.gpus = pick(sizes);
    static const std::vector<std::string> models = {"", "", "H100", "A100", "H100|A100"};
    r.gpu_model = r.gpus > 4 ? "" : pick(models);
    if (r.gpus > 4 && chance(40)) {  // a gang across both H100 nodes
      r.nodes = 2;
      r.gpus = 2 * static_cast<int>(between(1, 4));
    }
    r.partition = chance(20) ? "short" : "";
    r.time_limit_s = chance(15) ? 0 : between(10, r.partition == "short" ? 120 : 240) * 60;
    const int64_t tier = between(1, 10);
    r.tier = tier <= 2 ? core::Tier::kSpot : tier == 3 ? core::Tier::kHigh : core::Tier::kNormal;
    r.requeue = chance(20);
    r.hold = chance(8);
    if (!engine_->jobs().empty() && chance(10)) {
      const auto type = static_cast<core::DependencyType>(between(0, 2));
      r.dependencies.push_back({type, random_id<JobId>(engine_->jobs().size())});
    }
    r.launch = R"({"workdir":"/w"})";
    return r;
  }

  void op_submit_job() {
    if (engine_->funding().projects().empty()) return;
    const core::JobRequest r = random_job();
    if (chance(6)) {
      std::vector<int> indices;
      for (int i = 0, n = static_cast<int>(between(2, 4)); i < n; ++i) indices.push_back(i);
      const int throttle = static_cast<int>(between(0, 2));
      attempt("submit array",
              [&] { return engine_->submit_array(r, indices, throttle, now_).status(); });
      return;
    }
    attempt("submit job", [&] { return engine_->submit(r, now_).status(); });
  }

  void op_cancel() {
    const auto id = job_in({core::JobState::kPending, core::JobState::kRunning});
    if (!id) return;
    what_ = "cancel job " + std::to_string(id->value);
    auto running = engine_->cancel(*id, now_);
    ASSERT_TRUE(running.ok()) << where() << ": " << running.status().ToString();
    if (*running) to_terminate_.insert(id->value);  // the owner stops its process
  }

  void op_hold_or_release() {
    const auto id = job_in({core::JobState::kPending});
    if (!id) return;
    const bool held = engine_->job(*id)->held;
    attempt(held ? "release" : "hold",
            [&] { return held ? engine_->release(*id, now_) : engine_->hold(*id, now_); });
  }

  void op_lose_job() {
    const auto id = job_in({core::JobState::kRunning});
    if (!id) return;
    core::JobEnd lost;
    lost.lost = true;
    to_terminate_.erase(id->value);
    attempt("lose job " + std::to_string(id->value),
            [&] { return engine_->job_ended(*id, lost, now_, now_); });
  }

  void op_node() {
    const NodeId node = random_id<NodeId>(engine_->cluster().nodes().size());
    const int64_t roll = between(1, 10);
    const core::NodeState state = roll <= 3   ? core::NodeState::kDown
                                  : roll <= 5 ? core::NodeState::kDrain
                                              : core::NodeState::kUp;
    what_ = "node " + std::to_string(node.value) + " " + core::node_state_name(state);
    auto ended = engine_->set_node_state(node, state, now_);
    ASSERT_TRUE(ended.ok()) << where() << ": " << ended.status().ToString();
    for (JobId id : *ended) to_terminate_.erase(id.value);
  }

  void op_schedule() {
    what_ = "schedule";
    (void)engine_->schedule(now_);
    for (JobId id : engine_->take_preemptions()) to_terminate_.insert(id.value);
  }

  void op_expire() {
    what_ = "expire";
    (void)engine_->expire(now_);
  }

  // Operations that must be refused and change nothing.
  void op_invalid() {
    const auto& f = engine_->funding();
    const int64_t kind = between(0, 14);
    const ProjectId some_project =
        f.projects().empty() ? ProjectId(1) : random_id<ProjectId>(f.projects().size());
    switch (kind) {
      case 0:
        if (f.schemes().empty() || f.projects().empty()) return;
        refused("award over the fund", [&] {
          const core::Scheme& s = *f.scheme(random_id<SchemeId>(f.schemes().size()));
          const Minor over = engine_->ledger().account(s.fund)->available() + 1;
          return engine_->create_award(s.id, some_project, over, 4, now_, now_ + kDay, now_)
              .status();
        });
        return;
      case 1: {
        std::vector<SchemeId> capped;
        for (const core::Scheme& s : f.schemes())
          if (s.cap_per_project_minor > 0) capped.push_back(s.id);
        if (capped.empty() || f.projects().empty()) return;
        const core::Scheme& s = *f.scheme(pick(capped));
        Minor already = 0;
        for (AwardId a : f.awards_of(some_project))
          if (f.award(a)->scheme == s.id) already += f.award(a)->amount_minor;
        refused("award over the cap", [&] {
          return engine_
              ->create_award(s.id, some_project, s.cap_per_project_minor - already + 1, 4, now_,
                             now_ + kDay, now_)
              .status();
        });
        return;
      }
      case 2:
        refused("top up an unknown project", [&] {
          return engine_->top_up(ProjectId(f.projects().size() + 1), 10 * kUnit, "pay-x", now_)
              .status();
        });
        return;
      case 3: {
        std::vector<core::TopUp> with_reference;
        for (const core::TopUp& t : engine_->topups())
          if (!t.reference.empty()) with_reference.push_back(t);
        if (with_reference.empty()) return;
        const core::TopUp first = pick(with_reference);
        refused("reuse reference " + first.reference + " for another amount", [&] {
          return engine_->top_up(first.project, first.amount_minor + kUnit, first.reference, now_)
              .status();
        });
        return;
      }
      case 4:
        refused("cancel an unknown job", [&] {
          return engine_->cancel(JobId(chance(50) ? 0 : engine_->jobs().size() + 1), now_).status();
        });
        return;
      case 5: {
        const auto id =
            job_in({core::JobState::kCompleted, core::JobState::kFailed, core::JobState::kCancelled,
                    core::JobState::kTimeout, core::JobState::kNodeFail});
        if (!id) return;
        refused("cancel an ended job", [&] { return engine_->cancel(*id, now_).status(); });
        return;
      }
      case 6: {
        const auto id = job_in(
            {core::JobState::kPending, core::JobState::kCompleted, core::JobState::kCancelled});
        if (!id) return;
        refused("end a job that is not running",
                [&] { return engine_->job_ended(*id, core::JobEnd{}, now_, now_); });
        return;
      }
      case 7: {
        if (f.projects().empty()) return;
        core::JobRequest r = random_job();
        const int64_t how = between(0, 3);
        if (how == 0) r.gpus = 9;  // more than the largest node
        if (how == 1) r.project = ProjectId(f.projects().size() + 1);
        if (how == 2) r.time_limit_s = 25 * 3600;  // over the partition's limit
        if (how == 3) r.gpu_model = "V100";        // no such model
        if (how != 3) r.gpu_model = "";
        r.nodes = 1;
        refused("submit a job that can never run",
                [&] { return engine_->submit(r, now_).status(); });
        return;
      }
      case 8: {
        const auto id = application_in(core::ApplicationState::kSubmitted);
        if (!id) return;
        const core::Application& app = *engine_->applications().get(*id);
        refused("a member approves", [&] {
          return engine_->approve_application(member_of(app.org), *id, {}, now_).status();
        });
        return;
      }
      case 9: {
        const auto id = application_in(core::ApplicationState::kDraft);
        if (!id) return;
        refused("approve a draft",
                [&] { return engine_->approve_application(reviewer(), *id, {}, now_).status(); });
        return;
      }
      case 10: {
        const auto id = application_in(core::ApplicationState::kSubmitted);
        if (!id) return;
        const core::Application& app = *engine_->applications().get(*id);
        core::Approval more;
        more.amount_minor = app.terms.amount_minor + 1;
        refused("approve more than asked",
                [&] { return engine_->approve_application(reviewer(), *id, more, now_).status(); });
        return;
      }
      case 11:
        if (f.awards().empty()) return;
        refused("close an award without a reason", [&] {
          return engine_->close_award(random_id<AwardId>(f.awards().size()), "", now_).status();
        });
        return;
      case 12:
        refused("supplement an unknown award", [&] {
          return engine_->supplement_award(AwardId(f.awards().size() + 1), kUnit, 0, "", now_)
              .status();
        });
        return;
      case 13:
        refused("an unknown node goes down", [&] {
          return engine_
              ->set_node_state(NodeId(engine_->cluster().nodes().size() + 1),
                               core::NodeState::kDown, now_)
              .status();
        });
        return;
      default: {
        if (f.schemes().empty() || f.projects().empty()) return;
        core::ApplicationTerms terms = random_terms();
        terms.gpu_level = 0;
        refused("draft an application for no GPUs", [&] {
          return engine_
              ->draft_application(member_of_project(some_project),
                                  random_id<SchemeId>(f.schemes().size()), some_project, terms,
                                  now_)
              .status();
        });
        return;
      }
    }
  }

  // One random operation, by weight.
  void random_op() {
    using Op = void (RandomRestartTest::*)();
    static const std::vector<std::pair<int, Op>> ops = {
        {2, &RandomRestartTest::op_create_org},
        {3, &RandomRestartTest::op_create_project},
        {2, &RandomRestartTest::op_update_org},
        {1, &RandomRestartTest::op_create_scheme},
        {2, &RandomRestartTest::op_fund_scheme},
        {2, &RandomRestartTest::op_set_criteria},
        {5, &RandomRestartTest::op_draft_application},
        {2, &RandomRestartTest::op_update_application},
        {4, &RandomRestartTest::op_submit_application},
        {5, &RandomRestartTest::op_review_application},
        {4, &RandomRestartTest::op_approve_application},
        {2, &RandomRestartTest::op_reject_or_withdraw},
        {3, &RandomRestartTest::op_direct_award},
        {2, &RandomRestartTest::op_supplement_award},
        {1, &RandomRestartTest::op_close_award},
        {8, &RandomRestartTest::op_top_up},
        {3, &RandomRestartTest::op_replay_top_up},
        {3, &RandomRestartTest::op_refund},
        {30, &RandomRestartTest::op_submit_job},
        {5, &RandomRestartTest::op_cancel},
        {2, &RandomRestartTest::op_hold_or_release},
        {2, &RandomRestartTest::op_lose_job},
        {2, &RandomRestartTest::op_node},
        {6, &RandomRestartTest::op_schedule},
        {2, &RandomRestartTest::op_expire},
        {8, &RandomRestartTest::op_invalid},
    };
    static const int total = [] {
      int t = 0;
      for (const auto& [w, op] : ops) t += w;
      return t;
    }();
    int roll = static_cast<int>(between(1, total));
    for (const auto& [w, op] : ops) {
      if ((roll -= w) <= 0) return (this->*op)();
    }
  }

  // ---- crash and restart ----

  // The engine goes without committing its batch, as a crash before the commit would leave it;
  // berth starts again from the store, settling the jobs that were running as lost.
  void crash_and_restart(const std::string& committed_text) {
    what_ = "crash and restart";
    ++crashes_;
    engine_.reset();
    store_.reset();
    now_ += between(1, 5) * kMinute;  // the time it takes to start again
    open_store();
    if (HasFatalFailure()) return;
    int64_t alive_ms = 0;
    auto rows = store_->load(&alive_ms);
    ASSERT_TRUE(rows.ok()) << where() << ": " << rows.status().ToString();
    ASSERT_EQ(alive_ms, last_commit_ms_) << where();
    const std::string got = rows_text(*rows);
    ASSERT_EQ(committed_text, got) << where() << ": the store holds other than what was committed: "
                                   << first_difference(committed_text, got);
    auto restored = Engine::Restore(cluster(), *rows, scheduling());
    ASSERT_TRUE(restored.ok()) << where() << ": " << restored.status().ToString();
    engine_ = std::move(*restored);
    ASSERT_NO_FATAL_FAILURE(check_acknowledged());
    ASSERT_NO_FATAL_FAILURE(check_books(true, false));
    // As berthd's recovery: running jobs have lost their supervisor and end at the last moment
    // berth was known alive; then the administrator's node states are applied again.
    core::JobEnd lost;
    lost.lost = true;
    for (JobId id : engine_->running_jobs()) {
      const Status st = engine_->job_ended(id, lost, alive_ms, now_);
      ASSERT_TRUE(st.ok()) << where() << ": " << st.ToString();
    }
    to_terminate_.clear();
    auto nodes = store_->nodes();
    ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
    for (const core::Node& n : *nodes) {
      const core::Node* here = engine_->cluster().node_by_name(n.name);
      ASSERT_NE(here, nullptr) << n.name;
      if (here->state != n.state) {
        ASSERT_TRUE(engine_->set_node_state(here->id, n.state, now_).ok());
      }
    }
    commit();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(check_books(true, false));
  }

  // ---- the run ----

  void run(int ops) {
    open_store();
    if (HasFatalFailure()) return;
    now_ = kT0;
    auto created = Engine::Create(cluster(), now_, scheduling());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(*created);
    ASSERT_TRUE(store_->put_nodes(engine_->cluster().nodes()).ok());
    for (const core::Node& n : engine_->cluster().nodes()) stored_node_states_.push_back(n.state);
    commit();
    while (op_ < ops) {
      ++batch_;
      now_ += between(0, 15) * kMinute;
      // Whether this batch will be lost to a crash is drawn first, so that the state it must
      // leave behind (everything committed so far) can be recorded before it runs.
      const bool crash = batch_ > 5 && chance(4);
      const std::string committed_text = crash ? rows_text(engine_->snapshot()) : "";
      executor_step();
      if (HasFatalFailure()) return;
      for (int64_t n = between(1, 12); n > 0 && op_ < ops; --n, ++op_) {
        random_op();
        if (HasFatalFailure()) return;
      }
      if (crash) {
        crash_and_restart(committed_text);
        if (HasFatalFailure()) return;
        continue;
      }
      what_ = "end of batch";
      (void)engine_->expire(now_);
      (void)engine_->schedule(now_);
      for (JobId id : engine_->take_preemptions()) to_terminate_.insert(id.value);
      commit();
      if (HasFatalFailure()) return;
      if (batch_ % 40 == 0) {
        ASSERT_NO_FATAL_FAILURE(check_books(true, true));
      }
    }
    what_ = "the end";
    (void)engine_->expire(now_);  // the last batch may have been lost to a crash
    commit();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(check_books(true, true));
    // The run reached what it means to test.
    std::map<core::JobState, int> states;
    for (const core::Job& j : engine_->jobs()) states[j.state]++;
    int requeued = 0;
    for (const core::Job& j : engine_->jobs()) requeued += j.restarts > 0;
    int refunded = 0, amended = 0;
    for (const core::Job& j : engine_->jobs()) refunded += j.refunded_minor > 0;
    for (const core::Org& o : engine_->funding().orgs()) amended += o.updated_ms != 0;
    int returned = 0, closed = 0, approved = 0;
    for (const core::Award& a : engine_->funding().awards()) {
      returned += a.returned_ms != 0;
      closed += a.closed_ms != 0;
      approved += a.application.valid();
    }
    std::ostringstream summary;
    summary << "seed " << seed_ << ": " << op_ << " ops in " << batch_ << " batches, " << crashes_
            << " crashes, " << accepted_ << " accepted, " << refusals_ << " refused as planned, "
            << replays_ << " top-up replays; " << engine_->jobs().size() << " jobs ("
            << states[core::JobState::kCompleted] << " completed, "
            << states[core::JobState::kFailed] << " failed, " << states[core::JobState::kTimeout]
            << " timed out, " << states[core::JobState::kCancelled] << " cancelled, "
            << states[core::JobState::kNodeFail] << " lost, " << requeued << " requeued, "
            << states[core::JobState::kPending] << " pending), "
            << engine_->funding().awards().size() << " awards (" << approved << " on applications, "
            << closed << " closed, " << returned << " returned), " << engine_->topups().size()
            << " top-ups, " << refunded << " jobs refunded, " << amended
            << " organisations amended; " << runs_not_recomputed_
            << " earlier runs not recomputable";
    std::cout << summary.str() << "\n";
    if (ops >= kDefaultOps) {
      EXPECT_GE(crashes_, 3) << summary.str();
      EXPECT_GE(refusals_, 50) << summary.str();
      EXPECT_GT(states[core::JobState::kCompleted], 0) << summary.str();
      EXPECT_GT(states[core::JobState::kNodeFail], 0) << summary.str();
      EXPECT_GT(requeued, 0) << summary.str();
      EXPECT_GT(approved, 0) << summary.str();
      EXPECT_GT(closed, 0) << summary.str();
      EXPECT_GT(returned, 0) << summary.str();
      EXPECT_GT(replays_, 0) << summary.str();
      EXPECT_GT(refunded, 0) << summary.str();
      EXPECT_GT(amended, 0) << summary.str();
    }
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::string dir_, path_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  int64_t now_ = kT0;
  int64_t last_commit_ms_ = 0;
  std::vector<core::NodeState> stored_node_states_;
  std::set<uint64_t> to_terminate_;  // running jobs the owner was asked to stop
  // What the store has acknowledged.
  std::vector<core::TopUp> acked_topups_;
  std::map<uint64_t, core::Job> acked_final_jobs_;
  size_t acked_jobs_ = 0, acked_awards_ = 0, acked_applications_ = 0, acked_audit_ = 0;
  // Where the run is, and what it did.
  int batch_ = 0, op_ = 0;
  std::string what_ = "start";
  int references_ = 0, crashes_ = 0, accepted_ = 0, refusals_ = 0, replays_ = 0;
  size_t runs_not_recomputed_ = 0;
};

TEST_P(RandomRestartTest, MixedOperationsAndCrashesLeaveBooksThatReconcile) {
  run(static_cast<int>(env_or("BERTH_RANDOM_OPS", kDefaultOps)));
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomRestartTest, ::testing::Values(1, 2, 3, 0x6265727468ull),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace berth::store
