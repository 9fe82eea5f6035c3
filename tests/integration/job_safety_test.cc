// What a job can do to berthd, and what berthd shows of a job that could not run: each test
// here began as a way a member's job crashed, hung or reached into berthd.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cstdlib>
#include <sqlite3.h>

#include "harness.h"

namespace berth::testing {
namespace {

class JobSafetyTest : public DaemonTest {
 protected:
  void make_centre() {
    must("org create hku --kind university");
    must("project create vision --org hku");
    must("topup vision 10000 --reference INV-1");
    member = make_token(*daemon, "alice", "member", "hku");
  }
  json body(const std::string& script) const {
    return {{"project", "vision"},
            {"gpus", 1},
            {"time_limit_s", 600},
            {"workdir", work},
            {"script", script}};
  }
  uint64_t submit(const json& b, const std::string& token = "") {
    auto [status, out] = daemon->api("POST", "/v1/jobs", b.dump(), token.empty() ? member : token);
    EXPECT_EQ(status, 201) << b.dump() << " -> " << out.dump();
    return out.value("id", uint64_t{0});
  }
  json job(uint64_t id) { return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second; }
  std::string state(uint64_t id) { return job(id).value("state", "?"); }
  bool ends(uint64_t id, const std::string& final_state) {
    return eventually([&] { return state(id) == final_state; });
  }
  std::string end_reason(uint64_t id) {
    const json j = job(id);
    return j.contains("end_reason") && j["end_reason"].is_string()
               ? j["end_reason"].get<std::string>()
               : "";
  }

  std::string member;
};

TEST_F(JobSafetyTest, AJobWithAnEnvironmentRunsAndSurvivesARestartWhileRequeued) {
  make_centre();
  json b = body("#!/bin/sh\necho \"A=$A\" > env-$BERTH_JOB_ID\nsleep 300\n");
  b["env"] = {{"A", "b"}, {"EMPTY", ""}};
  b["requeue"] = true;
  const uint64_t id = submit(b);
  const std::string seen = work + "/env-" + std::to_string(id);
  ASSERT_TRUE(eventually([&] { return read_file(seen) == "A=b\n"; })) << job(id).dump();
  ASSERT_TRUE(daemon->up());
  // berthd dies; on restart the requeued job is launched again, env and all.
  daemon->kill_hard();
  fs::remove(seen);
  daemon->start();
  ASSERT_TRUE(eventually([&] { return read_file(seen) == "A=b\n"; })) << job(id).dump();
  EXPECT_EQ(state(id), "RUNNING");
  EXPECT_EQ(job(id).value("restarts", 0), 1);
  EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + std::to_string(id) + "/cancel", "{}").first, 200);
  EXPECT_TRUE(ends(id, "CANCELLED"));
}

TEST_F(JobSafetyTest, AStoredJobThatCannotBeLaunchedFailsWithAReasonAndBerthdStillStarts) {
  make_centre();
  json held = body("#!/bin/sh\ntrue\n");
  held["hold"] = true;
  const uint64_t garbled = submit(held);
  const uint64_t bad_env = submit(held);
  daemon->stop();
  // Launch descriptions as an older or damaged berth may have left them.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/state/berth.db").c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE jobs SET launch = 'not json' WHERE id = " + std::to_string(garbled) +
      "; UPDATE jobs SET launch = '{\"workdir\":\"/\",\"stdout\":\"/dev/null\",\"env\":{\"A\":5}}' "
      "WHERE id = " +
      std::to_string(bad_env) + ";";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  daemon->start();
  for (uint64_t id : {garbled, bad_env}) {
    EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + std::to_string(id) + "/release", "{}").first, 200);
    ASSERT_TRUE(ends(id, "FAILED")) << job(id).dump();
  }
  EXPECT_NE(end_reason(garbled).find("launch description is not valid JSON"), std::string::npos)
      << job(garbled).dump();
  EXPECT_NE(end_reason(bad_env).find("environment variable A is not a string"), std::string::npos)
      << job(bad_env).dump();
  const CliResult show = cli("show " + std::to_string(bad_env));
  EXPECT_EQ(show.exit_code, 0) << show.out;
  EXPECT_NE(show.out.find("EndReason="), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("environment variable A is not a string"), std::string::npos) << show.out;
  // The reason outlives a restart.
  daemon->kill_hard();
  daemon->start();
  EXPECT_NE(end_reason(bad_env).find("environment variable A is not a string"), std::string::npos);
}

TEST_F(JobSafetyTest, OutputPatternsExpandOnceLeftToRight) {
  make_centre();
  json b = body("#!/bin/sh\necho hi\n");
  b["name"] = "%x";
  b["output"] = "%x.out";
  const uint64_t plain = submit(b);
  b["name"] = "a%x";
  b["output"] = "%x-%j-%%-%q.out";
  const uint64_t grows = submit(b);
  ASSERT_TRUE(ends(plain, "COMPLETED")) << job(plain).dump();
  ASSERT_TRUE(ends(grows, "COMPLETED")) << job(grows).dump();
  EXPECT_EQ(read_file(work + "/%x.out"), "hi\n");
  const std::string expanded = work + "/a%x-" + std::to_string(grows) + "-%-%q.out";
  EXPECT_EQ(job(grows).value("stdout", ""), expanded);
  EXPECT_EQ(read_file(expanded), "hi\n");
}

TEST_F(JobSafetyTest, AFifoOutputFailsTheJobAndBerthdKeepsAnswering) {
  make_centre();
  const std::string fifo = work + "/fifo.out";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  json b = body("#!/bin/sh\necho x\n");
  b["output"] = fifo;
  const uint64_t id = submit(b);
  ASSERT_TRUE(ends(id, "FAILED")) << job(id).dump();
  EXPECT_NE(end_reason(id).find(fifo), std::string::npos) << job(id).dump();
  // A second job after it runs: the launcher was not left blocked either.
  const uint64_t next = submit(body("#!/bin/sh\necho after\n"));
  EXPECT_TRUE(ends(next, "COMPLETED")) << job(next).dump();
  EXPECT_TRUE(daemon->up());
}

TEST_F(JobSafetyTest, AMissingWorkdirReachesTheJobAndAPlainlyInvalidOneIsRefused) {
  make_centre();
  json b = body("#!/bin/sh\ntrue\n");
  b["workdir"] = "/nonexistent-berth-workdir";
  const uint64_t id = submit(b);
  ASSERT_TRUE(ends(id, "FAILED")) << job(id).dump();
  EXPECT_NE(end_reason(id).find("cannot enter workdir /nonexistent-berth-workdir"),
            std::string::npos)
      << job(id).dump();
  EXPECT_EQ(job(id).value("exit_code", 0), 127);
  const CliResult show = cli("show " + std::to_string(id));
  EXPECT_NE(show.out.find("cannot enter workdir /nonexistent-berth-workdir"), std::string::npos)
      << show.out;

  json nul = body("#!/bin/sh\ntrue\n");
  nul["workdir"] = std::string("/tmp\0/etc", 9);
  auto [status, error] = daemon->api("POST", "/v1/jobs", nul.dump(), member);
  EXPECT_EQ(status, 400) << error.dump();
  EXPECT_NE(error.dump().find("workdir"), std::string::npos) << error.dump();
}

// berthd's default configuration with jobs run as `user`.
std::string config_running_jobs_as(const std::string& dir, const std::string& user) {
  std::string text = default_config_without_local_agents();
  const std::string from = "user = \"nobody\"";
  const size_t at = text.find(from);
  if (at == std::string::npos)
    throw std::runtime_error("no [jobs] user in the default configuration");
  text.replace(at, from.size(), "user = \"" + user + "\"");
  const std::string path = dir + "/jobs-as-" + user + ".toml";
  std::ofstream(path) << text;
  return path;
}

TEST(JobUser, AJobRunsAsTheUnixUserOfItsLaunchDescriptionAndNeverAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: only a root berthd switches users";
  TemporaryUser owner("berthju" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(owner.ok()) << "useradd failed";
  const std::string dir = temp_dir("job-user");
  const std::string work = dir + "/work";
  make_work_dir(work);
  auto daemon = std::make_unique<Berthd>(dir + "/state");
  daemon->start();
  for (const char* cmd : {"org create hku --kind university", "project create vision --org hku",
                          "topup vision 10000 --reference INV-1"}) {
    ASSERT_EQ(berth_cli(*daemon, cmd, "", work).exit_code, 0) << cmd;
  }
  auto submit_held = [&](const std::string& output) {
    json b = {{"project", "vision"}, {"gpus", 1},
              {"workdir", work},     {"script", "#!/bin/sh\nid -un\n"},
              {"output", output},    {"hold", true}};
    return must_succeed(*daemon, "POST", "/v1/jobs", b.dump()).value("id", uint64_t{0});
  };
  const uint64_t mapped = submit_held("mapped.out");
  const uint64_t as_root = submit_held("root.out");
  const uint64_t unmapped = submit_held("unmapped.out");
  daemon->stop();
  // What submit records for a token mapped to a Unix user (berth token create --unix-user).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/state/berth.db").c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE jobs SET launch = json_set(launch, '$.unix_user', '" + owner.name() +
      "') WHERE id = " + std::to_string(mapped) +
      "; UPDATE jobs SET launch = json_set(launch, '$.unix_user', 'root') WHERE id = " +
      std::to_string(as_root) + ";";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  daemon->start();
  auto run = [&](uint64_t id) {
    EXPECT_EQ(daemon->api("POST", "/v1/jobs/" + std::to_string(id) + "/release", "{}").first, 200);
    json j;
    EXPECT_TRUE(eventually([&] {
      j = daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second;
      return j.value("state", "") == "COMPLETED" || j.value("state", "") == "FAILED";
    }));
    return j;
  };
  EXPECT_EQ(run(mapped).value("state", ""), "COMPLETED");
  EXPECT_EQ(read_file(work + "/mapped.out"), owner.name() + "\n");
  EXPECT_EQ(run(unmapped).value("state", ""), "COMPLETED");
  EXPECT_EQ(read_file(work + "/unmapped.out"), "nobody\n");  // [jobs] user's default
  const json root = run(as_root);
  EXPECT_EQ(root.value("state", ""), "FAILED");
  EXPECT_NE(root.value("end_reason", "").find("allow_root"), std::string::npos) << root.dump();
  EXPECT_FALSE(fs::exists(work + "/root.out"));
  daemon.reset();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

TEST(NonRootBerthd, JobsRunAsBerthdsOwnUserWithNothingOfItsEnvironment) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start berthd as another user";
  TemporaryUser operator_user("berthnr" + std::to_string(::getpid() % 100000));
  ASSERT_TRUE(operator_user.ok()) << "useradd failed";
  const std::string dir = temp_dir("non-root");
  const std::string work = dir + "/work";
  make_work_dir(work);
  const std::string state = dir + "/state";
  fs::create_directories(state);
  ASSERT_EQ(std::system(("chown " + operator_user.name() + " " + state).c_str()), 0);
  Berthd daemon(state);
  daemon.run_as(operator_user.name());
  ::setenv("BERTH_TOKEN", "secret-from-berthds-env", 1);
  daemon.start();
  ::unsetenv("BERTH_TOKEN");
  for (const char* cmd : {"org create hku --kind university", "project create vision --org hku",
                          "topup vision 10000 --reference INV-1"}) {
    ASSERT_EQ(berth_cli(daemon, cmd, "", work).exit_code, 0) << cmd;
  }
  json b = {{"project", "vision"},
            {"gpus", 1},
            {"workdir", work},
            {"output", "env.out"},
            {"script", "#!/bin/sh\nid -un\nenv\n"}};
  const uint64_t id = must_succeed(daemon, "POST", "/v1/jobs", b.dump()).value("id", uint64_t{0});
  ASSERT_TRUE(eventually([&] {
    return daemon.api("GET", "/v1/jobs/" + std::to_string(id)).second.value("state", "") ==
           "COMPLETED";
  })) << daemon.api("GET", "/v1/jobs/" + std::to_string(id)).second.dump();
  const std::string out = read_file(work + "/env.out");
  EXPECT_EQ(out.substr(0, out.find('\n')), operator_user.name())
      << out;  // not [jobs] user's nobody
  EXPECT_EQ(out.find("secret-from-berthds-env"), std::string::npos) << out;
  EXPECT_EQ(out.find("BERTH_STATE_DIR"), std::string::npos) << out;
  EXPECT_NE(out.find("BERTH_RUN="), std::string::npos) << out;
  daemon.kill_hard();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

TEST(HostileJob, AMembersJobCannotReachBerthdItsSecretsOrAnotherUsersOutput) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root: berthd must run as root to run jobs as other users";
  const std::string suffix = std::to_string(::getpid() % 100000);
  TemporaryUser mallory("berthhm" + suffix);
  TemporaryUser victim("berthhv" + suffix);
  ASSERT_TRUE(mallory.ok() && victim.ok()) << "useradd failed";
  const std::string dir = temp_dir("hostile");
  const std::string work = dir + "/work";
  make_work_dir(work);
  const std::string state = dir + "/state";

  // The victim's job writes its output, as the victim.
  auto daemon = std::make_unique<Berthd>(state, config_running_jobs_as(dir, victim.name()));
  ::setenv("BERTH_TOKEN", "secret-from-berthds-env", 1);
  daemon->start();
  ::unsetenv("BERTH_TOKEN");
  for (const char* cmd : {"org create hku --kind university", "project create vision --org hku",
                          "topup vision 10000 --reference INV-1"}) {
    ASSERT_EQ(berth_cli(*daemon, cmd, "", work).exit_code, 0) << cmd;
  }
  const std::string member = make_token(*daemon, "mallory", "member", "hku");
  auto submit = [&](const std::string& script, const std::string& output) {
    json b = {{"project", "vision"}, {"gpus", 1},        {"time_limit_s", 600},
              {"workdir", work},     {"script", script}, {"output", output}};
    auto [status, out] = daemon->api("POST", "/v1/jobs", b.dump(), member);
    EXPECT_EQ(status, 201) << out.dump();
    return out.value("id", uint64_t{0});
  };
  auto ended = [&](uint64_t id) {
    return eventually([&] {
      const std::string s =
          daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second.value("state", "?");
      return s == "COMPLETED" || s == "FAILED";
    });
  };
  const uint64_t victims = submit("#!/bin/sh\necho victims-private-output\n", "victim.out");
  ASSERT_TRUE(ended(victims));
  ASSERT_EQ(read_file(work + "/victim.out"), "victims-private-output\n");

  // berthd restarts with jobs run as mallory, whose job tries everything.
  daemon->stop();
  daemon = std::make_unique<Berthd>(state, config_running_jobs_as(dir, mallory.name()));
  ::setenv("BERTH_TOKEN", "secret-from-berthds-env", 1);
  daemon->start();
  ::unsetenv("BERTH_TOKEN");
  const std::string pid = std::to_string(daemon->pid());
  const std::string script =
      "#!/bin/sh\n"
      "id -un\n"
      "cat " +
      state +
      "/admin.token 2>/dev/null && echo READ-ADMIN-TOKEN\n"
      "cat " +
      state +
      "/berth.db >/dev/null 2>&1 && echo READ-DATABASE\n"
      "ls " +
      state +
      " >/dev/null 2>&1 && echo LISTED-STATE-DIR\n"
      "env | grep -q secret-from-berthds-env && echo SAW-BERTHDS-ENV\n"
      "env | grep -q BERTH_STATE_DIR && echo SAW-STATE-DIR\n"
      "tr '\\0' '\\n' < /proc/" +
      pid +
      "/environ 2>/dev/null | grep -q secret && echo READ-BERTHDS-ENVIRON\n"
      "cat " +
      work +
      "/victim.out 2>/dev/null && echo READ-VICTIMS-OUTPUT\n"
      "kill -0 " +
      pid +
      " 2>&1\n"
      "echo kill-exit=$?\n";
  const uint64_t hostile = submit(script, "hostile.out");
  ASSERT_TRUE(ended(hostile));
  const std::string out = read_file(work + "/hostile.out");
  EXPECT_EQ(out.substr(0, out.find('\n')), mallory.name()) << out;
  for (const char* leak :
       {"READ-ADMIN-TOKEN", "READ-DATABASE", "LISTED-STATE-DIR", "SAW-BERTHDS-ENV", "SAW-STATE-DIR",
        "READ-BERTHDS-ENVIRON", "READ-VICTIMS-OUTPUT", "victims-private-output", "kill-exit=0"}) {
    EXPECT_EQ(out.find(leak), std::string::npos) << leak << " in\n" << out;
  }
  EXPECT_NE(out.find("Operation not permitted"), std::string::npos) << out;
  EXPECT_NE(out.find("kill-exit=1"), std::string::npos) << out;
  EXPECT_TRUE(daemon->up());

  // Its output may not create or truncate a file it could not write itself.
  const uint64_t etc = submit("#!/bin/sh\necho pwned\n", "/etc/berth-hostile-" + suffix);
  ASSERT_TRUE(ended(etc));
  EXPECT_FALSE(fs::exists("/etc/berth-hostile-" + suffix));
  const json j = daemon->api("GET", "/v1/jobs/" + std::to_string(etc)).second;
  EXPECT_EQ(j.value("state", ""), "FAILED");
  EXPECT_EQ(j.value("end_reason", ""), "cannot open output /etc/berth-hostile-" + suffix + " as " +
                                           mallory.name() + ": Permission denied");
  daemon.reset();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace berth::testing
