// A randomized run of a real berthd over HTTP, with SIGKILLs.
//
// From a fixed seed it sends a few hundred mixed requests: jobs running short real commands
// (`true`, `sleep 0.2`, `false`), some asking to be requeued; cancels; top-ups with new payment
// references, the same reference replayed (the first top-up comes back, nothing moves) and
// reused for another amount (409); applications drafted and submitted by a member, reviewed,
// approved and rejected by a reviewer; direct awards and their early closure by a reviewer.
// At random points berthd is killed with SIGKILL and started again. At the end, once every
// job has finished: GET /v1/reconcile reports no difference, every acknowledged (2xx) top-up
// is in /v1/transfers exactly once and no other top-up is, each wallet holds its top-ups less
// its jobs' co-payments, and every acknowledged job is there, ended as it was last seen
// ended. A failure names the seed and the request; BERTH_RANDOM_SEED=<n> runs another seed.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

constexpr int kOps = 300;

Minor amount_of(const json& v) {
  return v.is_string() ? *parse_amount(v.get<std::string>(), true) : 0;
}

struct AckedTopUp {
  std::string project;
  Minor amount_minor = 0;
  uint64_t transfer = 0;
};

class RandomBerthdTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    const char* env = std::getenv("BERTH_RANDOM_SEED");
    seed_ = env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 0) : GetParam();
    rng_.seed(seed_);
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    work_ = dir_ + "/work";
    make_work_dir(work_);
    daemon_ = std::make_unique<Berthd>(dir_ + "/state");
    daemon_->start();
  }
  void TearDown() override {
    daemon_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string where() const {
    return "seed " + std::to_string(seed_) + ", op " + std::to_string(op_) + " (" + what_ + ")";
  }
  int64_t between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool chance(int percent) { return between(1, 100) <= percent; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(between(0, static_cast<int64_t>(v.size()) - 1))];
  }

  std::pair<int, json> api(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& tok = "<admin>") {
    return daemon_->api(method, path, body, tok);
  }
  json must(const std::string& method, const std::string& path, const std::string& body = "{}",
            const std::string& tok = "<admin>") {
    return must_succeed(*daemon_, method, path, body, tok, where());
  }

  // Two organisations, three projects; a scheme with criteria; a funded wallet for each.
  void make_centre() {
    must("POST", "/v1/orgs", R"({"name":"hku","kind":"university"})");
    must("POST", "/v1/orgs", R"({"name":"acme","kind":"startup"})");
    for (const char* body : {R"({"name":"vision","org":"hku"})", R"({"name":"speech","org":"hku"})",
                             R"({"name":"llm","org":"acme"})"})
      must("POST", "/v1/projects", body);
    must(
        "POST", "/v1/schemes",
        R"({"name":"ai","rate_bps":7000,"exceptional_rate_bps":9000,"eligible_kinds":["university"],"fund":"100000"})");
    alice_ = make_token(*daemon_, "alice", "member", "hku");
    bob_ = make_token(*daemon_, "bob", "member", "acme");
    rita_ = make_token(*daemon_, "rita", "reviewer");
    must("POST", "/v1/schemes/ai/criteria", R"({"criteria":[{"name":"merit","weight_bps":10000}]})",
         rita_);
    for (const std::string& p : projects_)
      top_up(p, 200 * kMinorPerUnit, "seed-" + p, daemon_->admin_token());
  }
  std::string member_for(const std::string& project) const {
    return project == "llm" ? bob_ : alice_;
  }

  // ---- operations ----

  // A top-up; an acknowledged one is remembered by its reference.
  void top_up(const std::string& project, Minor amount_minor, const std::string& reference,
              const std::string& tok) {
    what_ = "top up " + project + " " + reference;
    const json b = {{"amount", format_amount(amount_minor)}, {"reference", reference}};
    auto [status, out] = api("POST", "/v1/projects/" + project + "/topups", b.dump(), tok);
    ASSERT_EQ(status, 201) << where() << ": " << out.dump();
    acked_topups_[reference] = {project, amount_minor, out.value("transfer_id", uint64_t{0})};
    references_.push_back(reference);
  }

  void op_top_up() {
    const std::string project = pick(projects_);
    top_up(project, between(1, 50) * kMinorPerUnit, "INV-" + std::to_string(++next_reference_),
           member_for(project));
  }

  // The same reference again: 200 with the first top-up, or 409 for another amount.
  void op_replay_top_up() {
    const std::string reference = pick(references_);
    const AckedTopUp& first = acked_topups_[reference];
    const bool same = chance(70);
    what_ = (same ? "replay " : "reuse for another amount ") + reference;
    const Minor amount = same ? first.amount_minor : first.amount_minor + kMinorPerUnit;
    const json b = {{"amount", format_amount(amount)}, {"reference", reference}};
    auto [status, out] = api("POST", "/v1/projects/" + first.project + "/topups", b.dump());
    if (!same) {
      ASSERT_EQ(status, 409) << where() << ": " << out.dump();
      return;
    }
    ASSERT_EQ(status, 200) << where() << ": " << out.dump();
    ++replays_;
    EXPECT_TRUE(out.value("replayed", false)) << where();
    EXPECT_EQ(out.value("transfer_id", uint64_t{0}), first.transfer) << where();
  }

  void op_submit_job() {
    static const std::vector<std::string> commands = {"true", "sleep 0.2", "sleep 0.2", "false"};
    const std::string project = pick(projects_);
    const std::string command = pick(commands);
    what_ = "submit '" + command + "' to " + project;
    json b = {{"project", project},
              {"name", "r"},
              {"gpus", between(1, 2)},
              {"time_limit_s", 60},
              {"script", "#!/bin/sh\n" + command + "\n"},
              {"workdir", work_},
              {"requeue", chance(20)}};
    if (chance(15)) b["tier"] = "spot";
    auto [status, out] = api("POST", "/v1/jobs", b.dump(), member_for(project));
    ASSERT_EQ(status, 201) << where() << ": " << out.dump();
    jobs_.push_back(out.value("id", uint64_t{0}));
  }

  void op_cancel() {
    if (jobs_.empty()) return;
    const uint64_t id = pick(jobs_);
    what_ = "cancel job " + std::to_string(id);
    auto [status, out] = api("POST", "/v1/jobs/" + std::to_string(id) + "/cancel", "{}");
    ASSERT_TRUE(status == 200 || status == 409) << where() << ": " << status << " " << out.dump();
  }

  // Looks at a job; one seen ended must stay ended so, across every crash.
  void op_look_at_job() {
    if (jobs_.empty()) return;
    const uint64_t id = pick(jobs_);
    what_ = "look at job " + std::to_string(id);
    const json j = must("GET", "/v1/jobs/" + std::to_string(id));
    const std::string state = j.value("state", "");
    if (state != "PENDING" && state != "RUNNING") seen_ended_[id] = state;
  }

  // One step of an application's life, whichever its state allows.
  void op_application() {
    if (applications_.empty() || chance(30)) {
      what_ = "draft and submit an application";
      const json b = {{"scheme", "ai"},      {"project", chance(50) ? "vision" : "speech"},
                      {"amount", "100"},     {"gpu_level", 2},
                      {"duration_days", 30}, {"justification", "a model"}};
      const std::string id =
          std::to_string(must("POST", "/v1/applications", b.dump(), alice_).value("id", 0));
      must("POST", "/v1/applications/" + id + "/submit", "{}", alice_);
      applications_.push_back(id);
      return;
    }
    const std::string id = pick(applications_);
    const json app = must("GET", "/v1/applications/" + id, "", rita_);
    if (app.value("state", "") != "submitted") return;
    if (app.value("reviews_count", 0) == 0) {
      what_ = "review application " + id;
      must("POST", "/v1/applications/" + id + "/reviews", R"({"scores":{"merit":75}})", rita_);
    } else if (chance(75)) {
      what_ = "approve application " + id;
      must("POST", "/v1/applications/" + id + "/approve", chance(50) ? R"({"amount":"60"})" : "{}",
           rita_);
    } else {
      what_ = "reject application " + id;
      must("POST", "/v1/applications/" + id + "/reject", R"({"reason":"out of scope"})", rita_);
    }
  }

  void op_award() {
    const json awards = must("GET", "/v1/awards", "", rita_)["awards"];
    std::vector<uint64_t> open;
    for (const json& a : awards)
      if (a.value("active", true) && a.value("id", 0) > 0)
        open.push_back(a.value("id", uint64_t{0}));
    if (open.empty() || chance(60)) {
      what_ = "direct award";
      const std::string project = chance(50) ? "vision" : "speech";
      must("POST", "/v1/awards",
           json{{"scheme", "ai"},
                {"project", project},
                {"amount", "50"},
                {"gpu_level", 4},
                {"start", "2020-01-01"},
                {"end", "2100-01-01"}}
               .dump());
      return;
    }
    const uint64_t id = pick(open);
    what_ = "close award " + std::to_string(id);
    auto [status, out] = api("POST", "/v1/awards/" + std::to_string(id) + "/close",
                             R"({"reason":"ended early"})", rita_);
    ASSERT_TRUE(status == 200 || status == 409) << where() << ": " << status << " " << out.dump();
  }

  void crash() {
    what_ = "SIGKILL and restart";
    ++crashes_;
    daemon_->kill_hard();
    daemon_->start();
  }

  // ---- the end ----

  bool all_ended() {
    const json jobs = every_page(*daemon_, "/v1/jobs?limit=1000",
                                 "jobs");  // kept: a loop over a temporary's member would dangle
    for (const json& j : jobs["jobs"]) {
      const std::string s = j.value("state", "");
      if (s == "PENDING" || s == "RUNNING") return false;
    }
    return true;
  }

  void check_end() {
    what_ = "the end";
    // Every job can run (money and GPUs suffice, and they are short): all of them finish.
    ASSERT_TRUE(eventually([&] { return all_ended(); }, std::chrono::seconds(90)))
        << where() << ": " << must("GET", "/v1/jobs?state=PENDING,RUNNING").dump();

    const json reconciled = must("GET", "/v1/reconcile");
    EXPECT_TRUE(reconciled.value("ok", false)) << where() << ": " << reconciled.dump();
    EXPECT_EQ(reconciled["store"].value("differences_found", -1), 0) << reconciled.dump();
    EXPECT_EQ(reconciled["engine"].value("differences_found", -1), 0) << reconciled.dump();

    // Every acknowledged top-up is there exactly once, and there is no other.
    std::map<uint64_t, int> topup_transfers;
    std::map<uint64_t, Minor> topup_amounts;
    const json transfers = every_page(*daemon_, "/v1/transfers?limit=1000", "transfers");
    for (const json& t : transfers["transfers"]) {
      if (t.value("code", "") != "top_up") continue;
      topup_transfers[t.value("id", uint64_t{0})]++;
      topup_amounts[t.value("id", uint64_t{0})] = amount_of(t["amount"]);
    }
    EXPECT_EQ(topup_transfers.size(), acked_topups_.size()) << where();
    std::map<std::string, Minor> paid_in;
    for (const auto& [reference, t] : acked_topups_) {
      EXPECT_EQ(topup_transfers[t.transfer], 1)
          << "top-up " << reference << " (transfer " << t.transfer << ")";
      EXPECT_EQ(topup_amounts[t.transfer], t.amount_minor) << "top-up " << reference;
      paid_in[t.project] += t.amount_minor;
    }
    // Each wallet holds what was paid in less its jobs' co-payments; nothing is held.
    std::map<std::string, Minor> copays;
    const json jobs = every_page(*daemon_, "/v1/jobs?limit=1000", "jobs")["jobs"];
    std::set<uint64_t> present;
    for (const json& j : jobs) {
      present.insert(j.value("id", uint64_t{0}));
      copays[j.value("project", "")] += amount_of(j["copay"]);
      ended_as_[j.value("state", "")]++;
      requeued_ += j.value("restarts", 0) > 0;
    }
    for (const std::string& p : projects_) {
      const json balance = must("GET", "/v1/projects/" + p + "/balance");
      EXPECT_EQ(amount_of(balance["wallet"]["balance"]), paid_in[p] - copays[p])
          << p << ": " << balance.dump();
      EXPECT_EQ(amount_of(balance["wallet"]["held"]), 0) << p;
    }
    // Every acknowledged job is there, and those seen ended are still ended so.
    for (uint64_t id : jobs_)
      EXPECT_TRUE(present.count(id)) << "job " << id << " was acknowledged and is gone";
    for (const auto& [id, state] : seen_ended_)
      EXPECT_EQ(must("GET", "/v1/jobs/" + std::to_string(id)).value("state", ""), state)
          << "job " << id;
  }

  void run() {
    make_centre();
    if (HasFatalFailure()) return;
    for (op_ = 0; op_ < kOps; ++op_) {
      const int64_t roll = between(1, 100);
      if (roll <= 3)
        crash();
      else if (roll <= 35)
        op_submit_job();
      else if (roll <= 45)
        op_cancel();
      else if (roll <= 60)
        op_top_up();
      else if (roll <= 70)
        op_replay_top_up();
      else if (roll <= 80)
        op_look_at_job();
      else if (roll <= 93)
        op_application();
      else
        op_award();
      if (HasFatalFailure()) return;
    }
    check_end();
    std::cout << "seed " << seed_ << ": " << kOps << " ops, " << crashes_ << " crashes, "
              << jobs_.size() << " jobs (" << ended_as_["COMPLETED"] << " completed, "
              << ended_as_["FAILED"] << " failed, " << ended_as_["CANCELLED"] << " cancelled, "
              << ended_as_["NODE_FAIL"] << " lost, " << requeued_ << " requeued), "
              << acked_topups_.size() << " top-ups, " << replays_ << " replays, "
              << applications_.size() << " applications\n";
    // The run reached what it means to test.
    EXPECT_GT(crashes_, 0);
    EXPECT_GT(replays_, 0);
    EXPECT_GT(ended_as_["COMPLETED"], 0);
    EXPECT_GT(ended_as_["FAILED"], 0);
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::string dir_, work_, alice_, bob_, rita_;
  std::unique_ptr<Berthd> daemon_;
  const std::vector<std::string> projects_ = {"vision", "speech", "llm"};
  std::map<std::string, AckedTopUp> acked_topups_;  // by reference
  std::vector<std::string> references_;
  std::vector<uint64_t> jobs_;
  std::map<uint64_t, std::string> seen_ended_;
  std::vector<std::string> applications_;
  int op_ = 0, crashes_ = 0, next_reference_ = 0, replays_ = 0, requeued_ = 0;
  std::map<std::string, int> ended_as_;  // jobs by final state
  std::string what_ = "start";
};

TEST_P(RandomBerthdTest, RequestsAndSigkillsLeaveBooksThatReconcile) { run(); }

INSTANTIATE_TEST_SUITE_P(Seeds, RandomBerthdTest, ::testing::Values(7, 11),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace berth::testing
