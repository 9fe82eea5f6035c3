// Two berthds on one PostgreSQL (docs/high-availability.md): one leads, the other stands by and
// takes over when the leader dies, with the agents and their jobs going on; a leader stopped past
// its lease is fenced and steps down. A real PostgreSQL (tests/common/pg_server.h), real
// berthds and agents.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "integration/ha_pair.h"

namespace berth::testing {
namespace {

using Clock = std::chrono::steady_clock;

class HaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PgServer::available()) GTEST_SKIP() << "PostgreSQL 15 is not installed";
    std::string error;
    pg_ = PgServer::Shared(&error);
    ASSERT_NE(pg_, nullptr) << error;
    const std::string url = pg_->fresh_database();
    ASSERT_FALSE(url.empty());
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    work_ = dir_ + "/work";
    make_work_dir(work_);
    pair_ = std::make_unique<HaPair>(dir_, url, /*lease_s=*/1);
    ctl_ = pair_->ctl;
  }
  void TearDown() override {
    pair_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  static std::pair<int, json> ready(const Berthd& b) { return HaPair::ready(b); }
  static bool leads(const Berthd& b) { return HaPair::leads(b); }
  static bool stands_by_for(const Berthd& b, const std::string& leader) {
    return HaPair::stands_by_for(b, leader);
  }
  void start_pair() { ASSERT_EQ(pair_->start(), ""); }
  void start_agents(const Berthd& leader) { ASSERT_EQ(pair_->start_agents(leader), ""); }

  // The berth CLI with every berthd, as the admin (the shared admin token).
  CliResult cli(const std::string& args) const {
    return run_shell("cd '" + work_ + "' && BERTH_SERVER=" + ctl_[0]->url() + "," + ctl_[1]->url() +
                     " BERTH_TOKEN=" + ctl_[0]->admin_token() + " " + bin_dir() + "/berth " + args +
                     " 2>&1");
  }
  static std::string state_of(const Berthd& b, uint64_t job) {
    return b.api("GET", "/v1/jobs/" + std::to_string(job)).second.value("state", "?");
  }
  uint64_t submit(const std::string& args) const {
    const CliResult r = cli("submit --parsable -A pa -G 1 " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }

  // Submits one-GPU jobs that print "ran", one after another through the CLI, until stop():
  // the ids of those acknowledged.
  class SteadyClient {
   public:
    explicit SteadyClient(const HaTest& test)
        : thread_([this, &test] {
            while (submitting_) {
              const CliResult r = test.cli("submit --parsable -A pa -G 1 -t 10 --wrap 'echo ran'");
              const uint64_t id = std::strtoull(r.out.c_str(), nullptr, 10);
              std::lock_guard<std::mutex> lock(mu_);
              if (r.exit_code == 0 && id > 0) ids_.push_back(id);
            }
          }) {}
    ~SteadyClient() { stop(); }
    size_t acknowledged() {
      std::lock_guard<std::mutex> lock(mu_);
      return ids_.size();
    }
    std::vector<uint64_t> stop() {
      submitting_ = false;
      if (thread_.joinable()) thread_.join();
      return ids_;
    }

   private:
    std::atomic<bool> submitting_{true};
    std::mutex mu_;
    std::vector<uint64_t> ids_;
    std::thread thread_;  // last: it starts once the rest is made
  };

  PgServer* pg_ = nullptr;
  std::string dir_, work_;
  std::unique_ptr<HaPair> pair_;
  std::unique_ptr<Berthd>* ctl_ = nullptr;  // pair_->ctl
};

// The leader is SIGKILLed with a job running and one held: the standby takes over within
// seconds, the running job goes on where it runs and ends once, the held one (whose script only
// the dead leader received) runs from the store's copy, and the audit record names the takeover.
TEST_F(HaTest, TheStandbyTakesOverAndRunningJobsGoOn) {
  start_pair();
  start_agents(*ctl_[0]);
  const uint64_t running = submit("--wrap 'echo start; sleep 6; echo end'");
  const uint64_t held = submit("--hold --wrap 'echo held ran'");
  ASSERT_TRUE(eventually([&] { return state_of(*ctl_[0], running) == "RUNNING"; }));

  const auto killed = Clock::now();
  ctl_[0]->kill_hard();
  ASSERT_TRUE(eventually([&] { return leads(*ctl_[1]); }, std::chrono::seconds(20)))
      << pair_->log(1);
  const auto took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count();
  EXPECT_LT(took_ms, 10'000) << "the takeover took " << took_ms << " ms";

  // The client finds the new leader by itself, through the dead one's address first.
  const CliResult released = cli("release " + std::to_string(held));
  EXPECT_EQ(released.exit_code, 0) << released.out;
  for (uint64_t job : {running, held})
    ASSERT_TRUE(eventually([&] { return state_of(*ctl_[1], job) == "COMPLETED"; },
                           std::chrono::seconds(60)))
        << job << " " << ctl_[1]->api("GET", "/v1/jobs/" + std::to_string(job)).second.dump()
        << pair_->log(1);
  const std::string out = read_file(work_ + "/berth-" + std::to_string(running) + ".out");
  EXPECT_EQ(out, "start\nend\n") << "it ran once, through the takeover";
  EXPECT_EQ(read_file(work_ + "/berth-" + std::to_string(held) + ".out"), "held ran\n");

  const json leader = must_succeed(*ctl_[1], "GET", "/v1/admin/leader", "");
  EXPECT_EQ(leader["leader"]["name"], "ctl1");
  EXPECT_EQ(leader["this"]["role"], "leader");
  EXPECT_EQ(leader["store"], "postgresql");
  const json audit = must_succeed(*ctl_[1], "GET", "/v1/audit?limit=1000", "");
  bool audited = false;
  for (const json& a : audit["audit"])
    audited |= a.value("action", "") == "berthd.takeover" &&
               a.value("subject", "") == "berthd ctl1" &&
               a.value("note", "").find("after ctl0") != std::string::npos;
  EXPECT_TRUE(audited) << audit.dump();
  const json reconcile = must_succeed(*ctl_[1], "GET", "/v1/reconcile", "");
  EXPECT_TRUE(reconcile["store"].value("ok", false)) << reconcile.dump();

  // The dead one comes back as a standby of the new leader.
  ctl_[0]->start();
  EXPECT_TRUE(eventually([&] { return stands_by_for(*ctl_[0], "ctl1"); }))
      << ready(*ctl_[0]).second.dump();
}

// A leader stopped (SIGSTOP) past its lease loses it to the standby; woken, it commits nothing
// and steps down to stand by for the new leader.
TEST_F(HaTest, AStoppedLeaderIsFencedAndStepsDown) {
  start_pair();
  const json before = must_succeed(*ctl_[0], "GET", "/v1/admin/leader", "");
  ::kill(ctl_[0]->pid(), SIGSTOP);
  ASSERT_TRUE(eventually([&] { return leads(*ctl_[1]); }, std::chrono::seconds(20)))
      << pair_->log(1);
  must_succeed(*ctl_[1], "POST", "/v1/orgs", R"({"name":"b","kind":"startup"})");
  const json taken = must_succeed(*ctl_[1], "GET", "/v1/admin/leader", "");
  EXPECT_GT(taken["epoch"].get<uint64_t>(), before["epoch"].get<uint64_t>());

  ::kill(ctl_[0]->pid(), SIGCONT);
  ASSERT_TRUE(eventually([&] { return stands_by_for(*ctl_[0], "ctl1"); }))
      << ready(*ctl_[0]).second.dump() << pair_->log(0);
  EXPECT_NE(pair_->log(0).find("stepping down"), std::string::npos);
  // The old leader's requests go to the new one; nothing it held was committed after.
  auto [status, body] = ctl_[0]->api("GET", "/v1/orgs");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["error"]["code"], "not_leader");
  EXPECT_EQ(body["leader"], ctl_[1]->url());
  EXPECT_EQ(must_succeed(*ctl_[1], "GET", "/v1/admin/leader", "")["epoch"], taken["epoch"]);
  EXPECT_EQ(must_succeed(*ctl_[1], "GET", "/v1/orgs", "")["orgs"].size(), 2u);
  const json reconcile = must_succeed(*ctl_[1], "GET", "/v1/reconcile", "");
  EXPECT_TRUE(reconcile["store"].value("ok", false)) << reconcile.dump();
}

// The leader SIGKILLed 20 times at random moments (each restarted as a standby) while a client
// submits steadily through the CLI, which finds whichever berthd leads: at the end every job
// acknowledged exists and completed, each ran once (its output has one line), the wallet paid
// exactly the jobs' costs, and the books reconcile.
TEST_F(HaTest, TwentyKillsOfTheLeaderLoseNothingAndRunNothingTwice) {
  start_pair();
  start_agents(*ctl_[0]);
  SteadyClient client(*this);
  const unsigned seed = 1406;
  std::mt19937 random(seed);
  std::vector<int64_t> takeover_ms;
  for (int kill = 0; kill < 20; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 1500));
    const int leader = leads(*ctl_[0]) ? 0 : 1;
    ASSERT_TRUE(leads(*ctl_[leader])) << "kill " << kill << ": nobody leads";
    const auto killed = Clock::now();
    ctl_[leader]->kill_hard();
    ASSERT_TRUE(eventually([&] { return leads(*ctl_[1 - leader]); }, std::chrono::seconds(20)))
        << "kill " << kill << " (seed " << seed << ")" << pair_->log(1 - leader);
    takeover_ms.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count());
    ctl_[leader]->start();
  }
  const std::vector<uint64_t> acknowledged = client.stop();
  std::sort(takeover_ms.begin(), takeover_ms.end());
  std::cout << "takeovers over 20 kills: p50 " << takeover_ms[10] << " ms, max "
            << takeover_ms.back() << " ms; " << acknowledged.size() << " jobs acknowledged\n";

  const Berthd& leader = leads(*ctl_[0]) ? *ctl_[0] : *ctl_[1];
  ASSERT_FALSE(acknowledged.empty());
  int64_t costs_minor = 0;
  for (uint64_t id : acknowledged) {
    ASSERT_TRUE(
        eventually([&] { return state_of(leader, id) == "COMPLETED"; }, std::chrono::seconds(60)))
        << id << " " << leader.api("GET", "/v1/jobs/" + std::to_string(id)).second.dump();
    EXPECT_EQ(read_file(work_ + "/berth-" + std::to_string(id) + ".out"), "ran\n") << id;
    const json job = leader.api("GET", "/v1/jobs/" + std::to_string(id)).second;
    costs_minor += std::llround(std::stod(job.value("cost", "0")) * 10'000);
  }
  const json balance = must_succeed(leader, "GET", "/v1/projects/pa/balance", "");
  const int64_t balance_minor =
      std::llround(std::stod(balance["wallet"].value("balance", "0")) * 10'000);
  EXPECT_EQ(balance_minor, 5000 * 10'000 - costs_minor) << balance.dump();
  const json reconcile = must_succeed(leader, "GET", "/v1/reconcile", "");
  EXPECT_TRUE(reconcile["store"].value("ok", false)) << reconcile.dump();
  EXPECT_TRUE(reconcile["engine"].value("ok", false)) << reconcile.dump();
}

// PostgreSQL restarted under a steady stream of submits, away for longer than the lease: berthd
// delays or refuses requests while it is away (never acknowledging what it could not commit),
// a berthd leads again once it is back, and every job acknowledged exists and runs.
TEST_F(HaTest, TheDatabaseRestartedUnderLoadLosesNothingAcknowledged) {
  start_pair();
  start_agents(*ctl_[0]);
  SteadyClient client(*this);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const size_t before_outage = client.acknowledged();
  pg_->stop();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(pg_->start(), "");
  ASSERT_TRUE(
      eventually([&] { return leads(*ctl_[0]) || leads(*ctl_[1]); }, std::chrono::seconds(60)))
      << pair_->log(0) << pair_->log(1);
  const Berthd& leader = leads(*ctl_[0]) ? *ctl_[0] : *ctl_[1];
  // Submits go through again.
  ASSERT_TRUE(eventually([&] { return client.acknowledged() > before_outage + 3; },
                         std::chrono::seconds(60)));
  const std::vector<uint64_t> acknowledged = client.stop();
  for (uint64_t id : acknowledged) {
    ASSERT_TRUE(
        eventually([&] { return state_of(leader, id) == "COMPLETED"; }, std::chrono::seconds(60)))
        << id << " " << leader.api("GET", "/v1/jobs/" + std::to_string(id)).second.dump();
    EXPECT_EQ(read_file(work_ + "/berth-" + std::to_string(id) + ".out"), "ran\n") << id;
  }
  const json reconcile = must_succeed(leader, "GET", "/v1/reconcile", "");
  EXPECT_TRUE(reconcile["store"].value("ok", false)) << reconcile.dump();
}

}  // namespace
}  // namespace berth::testing
