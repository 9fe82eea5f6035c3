// End to end: job rows berth cannot read, left in a stopped berthd's database, never stop it
// from starting. The jobs end FAILED with the reason, their money is released, and the books
// still reconcile.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

Minor amount(const json& v) {
  return v.is_string() ? *parse_amount(v.get<std::string>(), true) : -1;
}

class StoredRowsTest : public DaemonTest {
 protected:
  void make_centre() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
  }

  // Raw SQL on the stopped berthd's database, as an operator's tool (or another berth) might.
  void exec_raw(const std::vector<std::string>& statements) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((daemon->state_dir() + "/berth.db").c_str(), &db), SQLITE_OK);
    for (const std::string& sql : statements)
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
          << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  size_t count_in_log(const std::string& text) {
    const std::string log = read_file(daemon->state_dir() + ".log");
    size_t n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  }
};

TEST_F(StoredRowsTest, BerthdStartsPastJobRowsItCannotReadAndSetsThemAside) {
  make_centre();
  const uint64_t running =
      submit("--gpus 1 --time 10 --wrap 'echo $$ > pid-$BERTH_JOB_ID; sleep 300'");
  const uint64_t pending = submit("--gpus 1 --hold --wrap true");
  const std::string pid_file = work + "/pid-" + std::to_string(running);
  ASSERT_TRUE(eventually([&] {
    return state(running) == "RUNNING" && !read_file(pid_file).empty();
  })) << job(running).dump();
  ASSERT_EQ(state(pending), "PENDING");
  const int pid = std::atoi(read_file(pid_file).c_str());
  daemon->kill_hard();  // as a crash leaves it: the job's row still RUNNING, its money held
  exec_raw({"UPDATE jobs SET state = 'FROZEN' WHERE id = " + std::to_string(running),
            "UPDATE jobs SET tier = 'gold' WHERE id = " + std::to_string(pending)});

  daemon->start();  // throws unless berthd comes up and answers
  EXPECT_EQ(state(running), "FAILED");
  EXPECT_EQ(job(running).value("end_reason", ""),
            "stored row could not be loaded: unknown state 'FROZEN'");
  EXPECT_EQ(state(pending), "FAILED");
  EXPECT_EQ(job(pending).value("end_reason", ""),
            "stored row could not be loaded: unknown tier 'gold'");
  // The set-aside job's process was stopped, as a lost job's would be.
  EXPECT_TRUE(eventually([&] {
    const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    return s.empty() || s.find(") Z") != std::string::npos;
  })) << "process "
      << pid << " still alive";
  // Nothing is held any more, nothing was charged, and the books reconcile.
  const json accounts = daemon->api("GET", "/v1/accounts").second["accounts"];
  ASSERT_FALSE(accounts.empty());
  for (const json& a : accounts) EXPECT_EQ(amount(a["held"]), 0) << a.dump();
  EXPECT_EQ(amount(job(running)["cost"]), 0) << job(running).dump();
  const CliResult reconciled = cli("reconcile");
  EXPECT_EQ(reconciled.exit_code, 0) << reconciled.out;
  EXPECT_EQ(count_in_log("job " + std::to_string(running) + " set aside"), 1u)
      << read_file(daemon->state_dir() + ".log");

  // Written back readable: the next start sets nothing aside and logs nothing more.
  daemon->stop();
  daemon->start();
  EXPECT_EQ(state(running), "FAILED");
  EXPECT_EQ(count_in_log("job " + std::to_string(running) + " set aside"), 1u);
  EXPECT_EQ(count_in_log("job " + std::to_string(pending) + " set aside"), 1u);
}

void write_config(const std::string& path, int nodes) {
  std::ofstream config(path);
  config << "[[gpu_models]]\nname = \"H100\"\nprice_per_gpu_hour = \"36\"\n";
  for (int n = 1; n <= nodes; ++n)
    config << "[[nodes]]\nname = \"n" << n << "\"\ngpu_model = \"H100\"\ngpus = 4\n";
  config << "[[partitions]]\nname = \"gpu\"\nmax_time = \"1:00:00\"\ndefault_time = \"0:10:00\"\n";
}

// A node removed from the configuration while a job ran on it: berthd starts, that job is set
// aside, the one on the remaining node ends as lost, and the books reconcile.
TEST(StoredRowsNodes, ANodeRemovedWhileAJobRanOnItDoesNotStopTheStart) {
  const std::string dir = temp_dir("removed-node");
  const std::string work = dir + "/work";
  make_work_dir(work);
  write_config(dir + "/berth.toml", 2);
  auto daemon = std::make_unique<Berthd>(dir + "/state", dir + "/berth.toml");
  daemon->start();
  for (const char* args : {"org create hku --kind university", "project create llm --org hku",
                           "topup llm 100 --reference T1"})
    ASSERT_EQ(berth_cli(*daemon, args, "", work).exit_code, 0) << args;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 2; ++i) {
    const CliResult r = berth_cli(
        *daemon, "submit --parsable -A llm --gpus 4 --time 10 --wrap 'sleep 300'", "", work);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    ids.push_back(std::strtoull(r.out.c_str(), nullptr, 10));
  }
  auto state = [&](uint64_t id) {
    return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second.value("state", "?");
  };
  for (uint64_t id : ids) ASSERT_TRUE(eventually([&] { return state(id) == "RUNNING"; }));
  daemon->kill_hard();
  write_config(dir + "/berth.toml", 1);  // n2 is gone

  daemon->start();
  std::vector<std::string> ends;
  for (uint64_t id : ids) {
    const auto [status, j] = daemon->api("GET", "/v1/jobs/" + std::to_string(id));
    ASSERT_EQ(status, 200) << j.dump();
    ends.push_back(j.value("state", "?") + ": " +
                   (j.contains("end_reason") && j["end_reason"].is_string()
                        ? j["end_reason"].get<std::string>()
                        : ""));
  }
  std::sort(ends.begin(), ends.end());
  EXPECT_EQ(ends, (std::vector<std::string>{"FAILED: stored row could not be loaded: node 2, where "
                                            "it ran, is not in the configuration",
                                            "NODE_FAIL: berthd stopped while it ran"}));
  const CliResult reconciled = berth_cli(*daemon, "reconcile", "", work);
  EXPECT_EQ(reconciled.exit_code, 0) << reconciled.out;
  daemon.reset();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace berth::testing
