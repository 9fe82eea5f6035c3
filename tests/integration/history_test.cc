// Slurm's habits over a real berthd: array task ids (12_3) wherever a job id is taken, an
// array's own id acting on all its tasks, `berth history` (sacct), `berth partitions` (sinfo),
// `berth show` in scontrol's form and `berth queue` in squeue's columns.
#include <gtest/gtest.h>

#include "common/money.h"
#include "harness.h"

namespace berth::testing {
namespace {

class HistoryTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    make_two_funded_orgs();
    alice = make_token(*daemon, "alice", "member", "a");
    bob = make_token(*daemon, "bob", "member", "b");
  }
  // `berth submit --parsable ARGS` as `token`; the job's id (0 when refused).
  uint64_t submit_as(const std::string& token, const std::string& args) {
    const CliResult r = cli("submit --parsable -G 1 --time 10 " + args, token);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  bool ends_as(uint64_t id, const std::string& state) {
    return eventually([&] { return this->state(id) == state; });
  }
  std::string alice, bob;
};

TEST_F(HistoryTest, ArrayTaskIdsWorkWhereverAJobIdIsTaken) {
  const uint64_t array = submit_as(alice, "-A pa --hold --array 0-3 --wrap true");
  ASSERT_GT(array, 0u);
  const std::string a = std::to_string(array);

  const CliResult shown = cli("show " + a + "_2", alice);
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_EQ(
      shown.out.substr(0, shown.out.find('\n')),
      "JobId=" + std::to_string(array + 2) + " ArrayJobId=" + a + " ArrayTaskId=2 JobName=wrap");
  EXPECT_NE(shown.out.find(" TimeLimit=00:10:00 "), std::string::npos) << shown.out;
  const CliResult raw = cli("--json show " + a + "_2", alice);
  EXPECT_EQ(json::parse(raw.out)["id"], array + 2) << raw.out;

  // The API resolves ARRAYID_INDEX itself, for the caller's organisation only.
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + a + "_1", "", alice).second["id"], array + 1);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + a + "_1", "", bob).first, 403);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + a + "_9", "", alice).first, 404);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + a + "_x", "", alice).first, 400);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs/" + std::to_string(array + 1) + "_0", "", alice).first,
            404);  // not an array's id
  EXPECT_EQ(daemon->api("GET", "/v1/transfers?job=" + a + "_1", "", alice).first, 200);
  const CliResult missing = cli("show " + a + "_9", alice);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("job " + a + "_9 not found: array " + a + " has no task 9"),
            std::string::npos)
      << missing.out;

  ASSERT_EQ(cli("release " + a + "_0", alice).exit_code, 0);
  ASSERT_TRUE(ends_as(array, "COMPLETED")) << job(array).dump();
  const CliResult one = cli("cancel " + a + "_3", alice);
  EXPECT_EQ(one.out, "Cancelled job " + a + "_3\n");
  EXPECT_EQ(state(array + 3), "CANCELLED");
  EXPECT_EQ(state(array + 1), "PENDING");

  // Another organisation cannot cancel it; the array's own id cancels every task still active.
  EXPECT_EQ(cli("cancel " + a, bob).exit_code, 1);
  EXPECT_EQ(state(array + 1), "PENDING");
  const CliResult all = cli("cancel " + a, alice);
  EXPECT_EQ(all.out, "Cancelled job array " + a + " (2 tasks)\n");
  EXPECT_EQ(state(array + 1), "CANCELLED");
  EXPECT_EQ(state(array + 2), "CANCELLED");
  EXPECT_EQ(state(array), "COMPLETED");
  const CliResult named = cli("history -j " + a + "," + a + "_3 --csv --format JobID,State", alice);
  EXPECT_EQ(named.out, "JobID,State\n" + a + "_0,COMPLETED\n" + a + "_1,CANCELLED\n" + a +
                           "_2,CANCELLED\n" + a + "_3,CANCELLED\n" + a + "_3,CANCELLED\n");
  EXPECT_EQ(daemon->api("GET", "/v1/jobs?array=" + a, "", bob).second["jobs"].size(), 0u);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs?array=x").first, 400);
  const CliResult again = cli("cancel " + a, alice);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.out.find("job array " + a + " has no pending or running task"), std::string::npos)
      << again.out;
}

TEST_F(HistoryTest, HoldAndReleaseOfAnArraysIdActOnEveryTask) {
  const uint64_t array = submit_as(alice, "-A pa --hold --array 0-2 --wrap true");
  const std::string a = std::to_string(array);
  ASSERT_GT(array, 0u);
  EXPECT_EQ(cli("hold " + a, alice).out, "Held job array " + a + " (3 tasks)\n");
  EXPECT_EQ(cli("release " + a, alice).out, "Released job array " + a + " (3 tasks)\n");
  for (uint64_t id = array; id < array + 3; ++id)
    ASSERT_TRUE(ends_as(id, "COMPLETED")) << job(id).dump();
  const auto [status, reply] = daemon->api("POST", "/v1/jobs/" + a + "/release", "{}", alice);
  EXPECT_EQ(status, 409) << reply.dump();
  EXPECT_NE(reply.dump().find("has no held task"), std::string::npos) << reply.dump();
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + a + "/hold", "{}", alice).first, 409);
}

TEST_F(HistoryTest, HistoryListsEndedJobsOfTheCallersOrganisationInSacctColumns) {
  const uint64_t ok = submit_as(alice, "-A pa --job-name fine --wrap true");
  const uint64_t bad = submit_as(alice, "-A pa --job-name broken --wrap false");
  const uint64_t theirs = submit_as(bob, "-A pb --job-name other --wrap true");
  const uint64_t waiting = submit_as(alice, "-A pa --hold --wrap true");
  ASSERT_TRUE(ok && bad && theirs && waiting);
  ASSERT_TRUE(ends_as(ok, "COMPLETED"));
  ASSERT_TRUE(ends_as(bad, "FAILED"));
  ASSERT_TRUE(ends_as(theirs, "COMPLETED"));
  const std::string o = std::to_string(ok), b = std::to_string(bad), t = std::to_string(theirs),
                    w = std::to_string(waiting);

  const CliResult mine =
      cli("history -S now-1day --csv --format JobID,JobName,Account,State,ExitCode", alice);
  ASSERT_EQ(mine.exit_code, 0) << mine.out;
  EXPECT_EQ(mine.out, "JobID,JobName,Account,State,ExitCode\n" + o + ",fine,pa,COMPLETED,0:0\n" +
                          b + ",broken,pa,FAILED,1:0\n");
  const CliResult every_state = cli("history -S now-1day -a --csv --format JobID", alice);
  EXPECT_EQ(every_state.out, "JobID\n" + o + "\n" + b + "\n" + w + "\n");
  const CliResult by_project = cli("history -S now-1day -A pb -s CD --csv --format JobID,User");
  EXPECT_EQ(by_project.out, "JobID,User\n" + t + ",bob\n");
  const CliResult failed = cli("history -S now-1day --state F --csv --format JobID");
  EXPECT_EQ(failed.out, "JobID\n" + b + "\n");

  const CliResult table = cli("history -S now-1day", alice);
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_TRUE(table.out.starts_with("JobID  JobName  Account  User   State      Start"))
      << table.out;
  EXPECT_NE(table.out.find("COMPLETED"), std::string::npos) << table.out;
  // Amounts read as money in the table; the CSV and JSON keep the exact figure.
  const Minor cost_of_ok = *parse_amount(job(ok)["cost"].get<std::string>());
  EXPECT_NE(table.out.find(format_money(cost_of_ok, "HK$")), std::string::npos) << table.out;

  // A window before anything ran, and one still to come, hold nothing.
  EXPECT_EQ(cli("history -S 2020-01-01 -E 2020-02-01 --csv --format JobID").out, "JobID\n");
  EXPECT_EQ(cli("history -S now+1hour --csv --format JobID").out, "JobID\n");
  EXPECT_EQ(daemon->api("GET", "/v1/jobs?since=yesterday").first, 400);
  EXPECT_EQ(daemon->api("GET", "/v1/jobs?until=2026-13-01").first, 400);
  EXPECT_EQ(every_page(*daemon, "/v1/jobs?until=2020-01-01", "jobs")["jobs"].size(), 0u);
  EXPECT_EQ(every_page(*daemon, "/v1/jobs?since=2020-01-01", "jobs")["jobs"].size(), 4u);
}

TEST_F(HistoryTest, PartitionsQueueAndUnknownCommandsReadAsSlurmUsersExpect) {
  const CliResult partitions = cli("partitions", alice);
  ASSERT_EQ(partitions.exit_code, 0) << partitions.out;
  EXPECT_EQ(partitions.out,
            "PARTITION  AVAIL   TIMELIMIT  NODES  STATE  GPUS(A/I/O/T)  GPU_MODEL  NODELIST\n"
            "gpu*       up     7-00:00:00      1  idle   0/8/0/8        H100       local\n");
  const uint64_t held = submit_as(alice, "-A pa --hold --wrap true");
  const CliResult queue = cli("queue", alice);
  EXPECT_NE(
      queue.out.find(
          "JOBID  PARTITION  PROJECT  NAME  USER   ST  TIME  NODES  GPUS  NODELIST(REASON)\n"),
      std::string::npos)
      << queue.out;
  EXPECT_NE(
      queue.out.find(std::to_string(held) +
                     "  gpu        pa       wrap  alice  PD  0:00      1     1  (JobHeldUser)"),
      std::string::npos)
      << queue.out;
  const CliResult unknown = cli("sacct", alice);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(unknown.out, "berth: error: unknown command 'sacct'; see berth --help\n");
}

}  // namespace
}  // namespace berth::testing
