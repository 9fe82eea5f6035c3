// What the store tests share: a centre's story told to an Engine and committed batch by batch,
// rows compared field by field, and round trips through a store reopened. StoreFixture<S> is
// the base of the SQLite store's own tests and of the suite every store passes (store_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/engine.h"
#include "store/schema.h"

namespace berth::store {

using core::ChangeSet;
using core::Engine;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed virtual "now"
constexpr Minor kUnit = kMinorPerUnit;

inline core::ClusterConfig small_cluster() {
  core::ClusterConfig c;
  c.nodes = {core::Node{NodeId(), "n1", "H100", 8, 64, 512'000, core::NodeState::kUp}};
  c.prices = {{"H100", 30 * kUnit}};  // 30.0000 per GPU-hour
  c.partitions = {core::Partition{"gpu", 24 * 3600, 3600, true}};
  return c;
}

// ---- field-by-field comparison of rows ----

inline void expect_same(const core::Org& a, const core::Org& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.registration, b.registration);
  EXPECT_EQ(a.updated_ms, b.updated_ms);
}
inline void expect_same(const core::Project& a, const core::Project& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.org.value, b.org.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.wallet.value, b.wallet.value);
  EXPECT_EQ(a.created_ms, b.created_ms);
}
inline void expect_same(const core::Scheme& a, const core::Scheme& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.eligible_kinds, b.eligible_kinds);
  EXPECT_EQ(a.shortfall, b.shortfall);
  EXPECT_EQ(a.fund.value, b.fund.value);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.exceptional_rate_bps, b.exceptional_rate_bps);
  EXPECT_EQ(a.cap_per_project_minor, b.cap_per_project_minor);
  EXPECT_EQ(a.window_open_ms, b.window_open_ms);
  EXPECT_EQ(a.window_close_ms, b.window_close_ms);
  EXPECT_EQ(a.award_validity_days, b.award_validity_days);
}
inline void expect_same(const core::Award& a, const core::Award& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.scheme.value, b.scheme.value);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.account.value, b.account.value);
  EXPECT_EQ(a.amount_minor, b.amount_minor);
  EXPECT_EQ(a.gpu_level, b.gpu_level);
  EXPECT_EQ(a.start_ms, b.start_ms);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.application.value, b.application.value);
  EXPECT_EQ(a.closed_ms, b.closed_ms);
  EXPECT_EQ(a.returned_ms, b.returned_ms);
  EXPECT_EQ(a.returned_minor, b.returned_minor);
  EXPECT_EQ(a.report_every_months, b.report_every_months);
  EXPECT_EQ(a.report_grace_days, b.report_grace_days);
}
inline void expect_same(const core::TopUp& a, const core::TopUp& b) {
  EXPECT_EQ(a.transfer.value, b.transfer.value);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.amount_minor, b.amount_minor);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.created_ms, b.created_ms);
}
inline void expect_same(const core::Account& a, const core::Account& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.no_overdraft, b.no_overdraft);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.debits_pending, b.debits_pending);
  EXPECT_EQ(a.debits_posted, b.debits_posted);
  EXPECT_EQ(a.credits_pending, b.credits_pending);
  EXPECT_EQ(a.credits_posted, b.credits_posted);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.credit_limit_minor, b.credit_limit_minor);
}
inline void expect_same(const core::Transfer& a, const core::Transfer& b) {
  EXPECT_TRUE(a.same_fields(b)) << "transfer " << a.id.value << " vs " << b.id.value;
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.debit.value, b.debit.value);
  EXPECT_EQ(a.credit.value, b.credit.value);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.pending_id.value, b.pending_id.value);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.ref, b.ref);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
}
inline void expect_same(const core::PendingUpdate& a, const core::PendingUpdate& b) {
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.posted_minor, b.posted_minor);
}
inline void expect_same(const core::Job& a, const core::Job& b) {
  SCOPED_TRACE("job " + std::to_string(a.id.value));
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.project.value, b.project.value);
  EXPECT_EQ(a.org.value, b.org.value);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.tier, b.tier);
  EXPECT_EQ(a.gpus, b.gpus);
  EXPECT_EQ(a.gpu_model, b.gpu_model);
  EXPECT_EQ(a.partition, b.partition);
  EXPECT_EQ(a.time_limit_s, b.time_limit_s);
  EXPECT_EQ(a.requeue, b.requeue);
  EXPECT_EQ(a.restarts, b.restarts);
  EXPECT_EQ(a.ran_ms, b.ran_ms);
  EXPECT_EQ(a.submit_ms, b.submit_ms);
  EXPECT_EQ(a.start_ms, b.start_ms);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_EQ(a.node.value, b.node.value);
  EXPECT_EQ(a.gpu_ids, b.gpu_ids);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.term_signal, b.term_signal);
  EXPECT_EQ(a.cancel_requested, b.cancel_requested);
  EXPECT_EQ(a.award.value, b.award.value);
  EXPECT_EQ(a.rate_bps, b.rate_bps);
  EXPECT_EQ(a.price_per_gpu_hour_minor, b.price_per_gpu_hour_minor);
  EXPECT_EQ(a.max_cost_minor, b.max_cost_minor);
  EXPECT_EQ(a.subsidy_held_minor, b.subsidy_held_minor);
  EXPECT_EQ(a.copay_held_minor, b.copay_held_minor);
  EXPECT_EQ(a.cost_minor, b.cost_minor);
  EXPECT_EQ(a.subsidy_minor, b.subsidy_minor);
  EXPECT_EQ(a.copay_minor, b.copay_minor);
  EXPECT_EQ(a.launch, b.launch);
  EXPECT_EQ(a.held, b.held);
  EXPECT_EQ(a.dependencies, b.dependencies);
  EXPECT_EQ(a.array_id.value, b.array_id.value);
  EXPECT_EQ(a.array_index, b.array_index);
  EXPECT_EQ(a.array_throttle, b.array_throttle);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.more_nodes, b.more_nodes);
  EXPECT_EQ(a.node_choice, b.node_choice);
  EXPECT_EQ(a.estimate_s, b.estimate_s);
  EXPECT_EQ(a.refunded_minor, b.refunded_minor);
}
inline void expect_same(const core::Node& a, const core::Node& b) {
  SCOPED_TRACE("node " + a.name);
  EXPECT_EQ(a.id.value, b.id.value);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.gpu_model, b.gpu_model);
  EXPECT_EQ(a.gpus, b.gpus);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.memory_mb, b.memory_mb);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.domain, b.domain);
  EXPECT_EQ(a.agent_version, b.agent_version);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.isolation, b.isolation);
  EXPECT_EQ(a.last_heartbeat_ms, b.last_heartbeat_ms);
  EXPECT_EQ(a.state_reason, b.state_reason);
  EXPECT_EQ(a.silent_down, b.silent_down);
  EXPECT_EQ(a.state_before_silence, b.state_before_silence);
  EXPECT_EQ(a.reason_before_silence, b.reason_before_silence);
}

template <typename T>
void expect_same_list(const char* what, const std::vector<T>& a, const std::vector<T>& b) {
  SCOPED_TRACE(what);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_same(a[i], b[i]);
}

inline void expect_same_rows(const ChangeSet& got, const ChangeSet& want) {
  expect_same_list("orgs", got.orgs, want.orgs);
  expect_same_list("projects", got.projects, want.projects);
  expect_same_list("schemes", got.schemes, want.schemes);
  expect_same_list("awards", got.awards, want.awards);
  expect_same_list("topups", got.topups, want.topups);
  expect_same_list("accounts", got.accounts, want.accounts);
  expect_same_list("transfers", got.transfers, want.transfers);
  expect_same_list("pending", got.pending, want.pending);
  expect_same_list("jobs", got.jobs, want.jobs);
  EXPECT_EQ(got.applications, want.applications);
  EXPECT_EQ(got.application_events, want.application_events);
  EXPECT_EQ(got.reports, want.reports);
  EXPECT_EQ(got.report_events, want.report_events);
  EXPECT_EQ(got.criteria, want.criteria);
  EXPECT_EQ(got.audit, want.audit);
  EXPECT_EQ(got.funding_orders, want.funding_orders);
  EXPECT_EQ(got.submit_keys, want.submit_keys);
  EXPECT_EQ(got.next_job_id, want.next_job_id);
  EXPECT_EQ(got.next_account_id, want.next_account_id);
  EXPECT_EQ(got.next_transfer_seq, want.next_transfer_seq);
}

// ---- the fixture ----

// A directory of its own for one test's database files, removed with everything in it.
class TemporaryDir {
 public:
  TemporaryDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "berth_store_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
  }
  ~TemporaryDir() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  TemporaryDir(const TemporaryDir&) = delete;
  TemporaryDir& operator=(const TemporaryDir&) = delete;
  bool ok() const { return !dir_.empty(); }
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// The engine's story and round trips, for a store of type S: a subclass says how the store is
// opened and how raw SQL reaches its database.
template <typename S>
class StoreFixture : public ::testing::Test {
 protected:
  // Opens the store (again): nullptr after a failure, which it reports.
  virtual std::unique_ptr<S> open() = 0;
  // Runs SQL on the database with a connection of its own, expecting it to succeed; a
  // migration's text (in SQLite's dialect) with exec_schema.
  virtual void exec(const std::string& sql) = 0;
  virtual void exec_schema(const std::string& sql) { exec(sql); }

  // Commits what the engine changed since the last commit, as berthd does after each batch.
  void commit(int64_t now_ms) {
    const Status st = store_->commit(engine_->drain_changes(), now_ms);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Closes the store, opens it again and loads it: the rows, and an engine restored from them,
  // must be `want` exactly. Returns the restored engine (nullptr after a failure).
  std::unique_ptr<Engine> reopen_and_restore(const ChangeSet& want) {
    store_.reset();
    store_ = open();
    EXPECT_NE(store_, nullptr);
    if (!store_) return nullptr;
    auto rows = store_->load(nullptr);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return nullptr;
    expect_same_rows(*rows, want);
    auto restored = Engine::Restore(small_cluster(), *rows);
    EXPECT_TRUE(restored.ok()) << restored.status().ToString();
    if (!restored.ok()) return nullptr;
    expect_same_rows((*restored)->snapshot(), want);
    return std::move(*restored);
  }

  core::JobRequest request(const std::string& name, int gpus, int64_t limit_s,
                           bool requeue = false) {
    core::JobRequest r;
    r.name = name;
    r.user = "alice";
    r.project = project_;
    r.gpus = gpus;
    r.gpu_model = "H100";
    r.time_limit_s = limit_s;
    r.requeue = requeue;
    r.launch = R"({"script":"run.sh","env":{"NOTE":"a \"quoted\" ünïcode, value"}})";
    return r;
  }
  JobId submit(const core::JobRequest& r, int64_t now_ms) {
    auto id = engine_->submit(r, now_ms);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : JobId();
  }

  // A centre's story, committed step by step: an organisation, a project, a scheme with its
  // fund, an award, a top-up; five jobs of which one completes (settled), one is cancelled
  // while pending, one is asked to cancel while running, one is lost and requeued, and two
  // are running with money held at the end.
  void run_story() {
    auto e = Engine::Create(small_cluster(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    commit(kT0);

    auto org = engine_->create_org("hku", core::OrgKind::kUniversity, kT0);
    ASSERT_TRUE(org.ok()) << org.status().ToString();
    commit(kT0);
    auto project = engine_->create_project(org->id, "vision", kT0);
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    project_ = project->id;
    commit(kT0);
    const uint32_t kinds = 1u << static_cast<int>(core::OrgKind::kUniversity) |
                           1u << static_cast<int>(core::OrgKind::kInstitute);
    // Waits when the award cannot pay: "wait" below waits for AwardCap, "flaky" too once requeued.
    auto scheme = engine_->create_scheme("ai-subsidy", 7000, kinds, core::Shortfall::kWait,
                                         1'000'000 * kUnit, kT0);
    ASSERT_TRUE(scheme.ok()) << scheme.status().ToString();
    commit(kT0);
    auto award = engine_->create_award(scheme->id, project_, 1'000 * kUnit, 8, kT0 - kHour,
                                       kT0 + 1000 * kHour, kT0);
    ASSERT_TRUE(award.ok()) << award.status().ToString();
    commit(kT0);
    auto topup = engine_->top_up(project_, 500 * kUnit, "pay-1", kT0);
    ASSERT_TRUE(topup.ok()) << topup.status().ToString();
    commit(kT0);

    jobs_.push_back(submit(request("train", 2, 3600), kT0 + 1));    // completes
    jobs_.push_back(submit(request("big", 4, 2 * 3600), kT0 + 2));  // cancel asked while running
    jobs_.push_back(
        submit(request("wait", 4, 3600), kT0 + 3));  // waits (award's 8 GPUs), then runs
    jobs_.push_back(submit(request("whole", 8, 3600), kT0 + 4));        // cancelled while pending
    jobs_.push_back(submit(request("flaky", 1, 3600, true), kT0 + 5));  // lost, requeued
    commit(kT0 + 5);

    const int64_t t1 = kT0 + kMinute;
    EXPECT_EQ(engine_->schedule(t1).size(), 3u);  // train, big, flaky: 7 of 8 GPUs
    commit(t1);
    EXPECT_EQ(engine_->job(jobs_[2])->reason,
              core::PendingReason::kAwardCap);  // 7 + 4 > the award's 8

    const int64_t t2 = t1 + 30 * kMinute;
    ASSERT_TRUE(engine_->job_ended(jobs_[0], core::JobEnd{}, t2, t2).ok());
    commit(t2);
    ASSERT_TRUE(engine_->cancel(jobs_[3], t2).ok());
    auto asked = engine_->cancel(jobs_[1], t2);
    ASSERT_TRUE(asked.ok() && *asked);
    commit(t2);
    core::JobEnd lost;
    lost.lost = true;
    ASSERT_TRUE(engine_->job_ended(jobs_[4], lost, t2, t2).ok());
    commit(t2);

    const int64_t t3 = t2 + kMinute;
    EXPECT_EQ(engine_->schedule(t3).size(), 1u);  // wait: 4 GPUs; flaky waits for one
    commit(t3);

    // The story reached every state it means to test.
    ASSERT_EQ(engine_->job(jobs_[0])->state, core::JobState::kCompleted);
    ASSERT_GT(engine_->job(jobs_[0])->cost_minor, 0);
    ASSERT_EQ(engine_->job(jobs_[1])->state, core::JobState::kRunning);
    ASSERT_TRUE(engine_->job(jobs_[1])->cancel_requested);
    ASSERT_EQ(engine_->job(jobs_[2])->state, core::JobState::kRunning);
    ASSERT_EQ(engine_->job(jobs_[3])->state, core::JobState::kCancelled);
    ASSERT_EQ(engine_->job(jobs_[4])->state, core::JobState::kPending);
    ASSERT_EQ(engine_->job(jobs_[4])->restarts, 1);
    ASSERT_EQ(engine_->job(jobs_[4])->ran_ms, t2 - t1);  // it ran from t1 until its node was lost
    ASSERT_TRUE(engine_->verify().ok());
  }

  // Writes a database as a berth at schema `version` left it: its migrations, then `rows`.
  void write_old_database(int version, const std::vector<std::string>& rows) {
    exec_schema(kSchemaVersionTable);
    for (const Migration& m : migrations()) {
      if (m.version > version) break;
      exec_schema(m.sql);
      std::string description;  // as an SQL string: a quote doubled ("a job''s user")
      for (const char* c = m.description; *c != '\0'; ++c)
        description += *c == '\'' ? std::string("''") : std::string(1, *c);
      exec("INSERT INTO schema_version (version, description) VALUES (" +
           std::to_string(m.version) + ", '" + description + "')");
    }
    for (const std::string& row : rows) exec(row);
  }

  std::unique_ptr<S> store_;
  std::unique_ptr<Engine> engine_;
  ProjectId project_;
  std::vector<JobId> jobs_;
};

}  // namespace berth::store
