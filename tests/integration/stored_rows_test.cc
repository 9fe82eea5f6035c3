// End to end: job rows berth cannot read, left in a stopped berthd's database, never stop it
// from starting. The jobs end FAILED with the reason, their money is released, and the books
// still reconcile.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

Minor amount(const json& v) { return v.is_string() ? *parse_amount(v.get<std::string>(), true) : -1; }

class StoredRowsTest : public DaemonTest {
 protected:
  void make_centre() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
  }
  uint64_t submit(const std::string& args) {
    const CliResult r = cli("submit --parsable -A vision " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  json job(uint64_t id) { return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second; }
  std::string state(uint64_t id) { return job(id).value("state", "?"); }

  // Raw SQL on the stopped berthd's database, as an operator's tool (or another berth) might.
  void exec_raw(const std::vector<std::string>& statements) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((daemon->state_dir() + "/berth.db").c_str(), &db), SQLITE_OK);
    for (const std::string& sql : statements)
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
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
  const uint64_t running = submit("--gpus 1 --time 10 --wrap 'echo $$ > pid-$BERTH_JOB_ID; sleep 300'");
  const uint64_t pending = submit("--gpus 1 --hold --wrap true");
  const std::string pid_file = work + "/pid-" + std::to_string(running);
  ASSERT_TRUE(eventually([&] { return state(running) == "RUNNING" && !read_file(pid_file).empty(); }))
      << job(running).dump();
  ASSERT_EQ(state(pending), "PENDING");
  const int pid = std::atoi(read_file(pid_file).c_str());
  daemon->kill_hard();  // as a crash leaves it: the job's row still RUNNING, its money held
  exec_raw({"UPDATE jobs SET state = 'FROZEN' WHERE id = " + std::to_string(running),
            "UPDATE jobs SET tier = 'gold' WHERE id = " + std::to_string(pending)});

  daemon->start();  // throws unless berthd comes up and answers
  EXPECT_EQ(state(running), "FAILED");
  EXPECT_EQ(job(running).value("end_reason", ""), "stored row could not be loaded: unknown state 'FROZEN'");
  EXPECT_EQ(state(pending), "FAILED");
  EXPECT_EQ(job(pending).value("end_reason", ""), "stored row could not be loaded: unknown tier 'gold'");
  // The set-aside job's process was stopped, as a lost job's would be.
  EXPECT_TRUE(eventually([&] {
    const std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    return s.empty() || s.find(") Z") != std::string::npos;
  })) << "process " << pid << " still alive";
  // Nothing is held any more, nothing was charged, and the books reconcile.
  const json accounts = daemon->api("GET", "/v1/accounts").second["accounts"];
  ASSERT_FALSE(accounts.empty());
  for (const json& a : accounts) EXPECT_EQ(amount(a["held"]), 0) << a.dump();
  EXPECT_EQ(amount(job(running)["cost"]), 0) << job(running).dump();
  const CliResult reconciled = cli("reconcile");
  EXPECT_EQ(reconciled.exit_code, 0) << reconciled.out;
  EXPECT_EQ(count_in_log("job " + std::to_string(running) + " set aside"), 1u) << read_file(daemon->state_dir() + ".log");

  // Written back readable: the next start sets nothing aside and logs nothing more.
  daemon->stop();
  daemon->start();
  EXPECT_EQ(state(running), "FAILED");
  EXPECT_EQ(count_in_log("job " + std::to_string(running) + " set aside"), 1u);
  EXPECT_EQ(count_in_log("job " + std::to_string(pending) + " set aside"), 1u);
}

}  // namespace
}  // namespace berth::testing
