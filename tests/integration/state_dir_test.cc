// A real berthd and its state directory: the database deleted or truncated under a running
// berthd stops it before it acknowledges another write; a state directory that had state refuses
// to start on an empty database (and leaves admin.token alone); a damaged database and a
// read-only directory are refused with a message that says what is wrong; a backup taken with
// `berth admin backup` restores as docs/operations.md says.
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

namespace berth::testing {
namespace {

// What a command printed, stdout and stderr together, and its exit code.
using Outcome = CliResult;

// Starts berthd on `state_dir` in the foreground, as `prefix` says (e.g. another user), for a
// start that is expected to be refused; `timeout` ends one that is not (exit 124).
Outcome start_refused(const std::string& state_dir, const std::string& prefix = "") {
  return run_shell(prefix + "timeout 60 " + bin_dir() +
                   "/berthd --listen 127.0.0.1:0 --state-dir '" + state_dir + "' 2>&1");
}

std::vector<std::string> org_names(const Berthd& d) {
  std::vector<std::string> names;
  auto [status, body] = d.api("GET", "/v1/orgs");
  EXPECT_EQ(status, 200) << body.dump();
  for (const json& o : body.value("orgs", json::array())) names.push_back(o.value("name", ""));
  return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void remove_database(const std::string& state_dir) {
  for (const char* f : {"/berth.db", "/berth.db-wal", "/berth.db-shm"}) fs::remove(state_dir + f);
}

class StateDirTest : public DaemonTest {
 protected:
  std::string state() const { return daemon->state_dir(); }
  std::string log() const { return read_file(state() + ".log"); }
  void create_org(const std::string& name) {
    must_succeed(*daemon, "POST", "/v1/orgs", json{{"name", name}, {"kind", "university"}}.dump());
  }
};

TEST_F(StateDirTest, DeletingTheDatabaseStopsBerthdBeforeTheNextWriteIsAcknowledged) {
  create_org("before");
  ASSERT_TRUE(fs::remove(state() + "/berth.db"));
  const int status =
      daemon->api("POST", "/v1/orgs", R"({"name":"after","kind":"university"})").first;
  EXPECT_FALSE(status >= 200 && status < 300) << status;
  const int exit_code = daemon->wait_exit();
  EXPECT_NE(exit_code, 0);
  EXPECT_NE(exit_code, -1) << "berthd still runs without its database";
  EXPECT_NE(log().find("berth.db is gone"), std::string::npos) << log();

  // What berthd had committed was saved from the open file; started from, it is all there.
  ASSERT_TRUE(fs::exists(state() + "/berth.db.rescued")) << log();
  remove_database(state());
  fs::rename(state() + "/berth.db.rescued", state() + "/berth.db");
  daemon->start();
  EXPECT_TRUE(has(org_names(*daemon), "before"));
}

TEST_F(StateDirTest, TruncatingTheDatabaseStopsBerthdBeforeTheNextWriteIsAcknowledged) {
  create_org("before");
  ASSERT_EQ(::truncate((state() + "/berth.db").c_str(), 0), 0);
  const int status =
      daemon->api("POST", "/v1/orgs", R"({"name":"after","kind":"university"})").first;
  EXPECT_FALSE(status >= 200 && status < 300) << status;
  const int exit_code = daemon->wait_exit();
  EXPECT_NE(exit_code, 0);
  EXPECT_NE(exit_code, -1) << "berthd still runs on a truncated database";
  EXPECT_NE(log().find("was truncated"), std::string::npos) << log();
}

TEST_F(StateDirTest, ARestartOnAnEmptiedStateDirIsRefusedAndKeepsTheAdminToken) {
  create_org("before");
  daemon->stop();
  const std::string token = read_file(state() + "/admin.token");
  remove_database(state());

  Outcome r = start_refused(state());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.exit_code, 124) << "berthd started on an empty state: " << r.out;
  EXPECT_NE(r.out.find("berth.db is missing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("docs/operations.md"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(state() + "/admin.token"), token);
  EXPECT_FALSE(fs::exists(state() + "/berth.db"));

  std::ofstream(state() + "/berth.db", std::ios::trunc).flush();  // emptied rather than removed
  r = start_refused(state());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("berth.db is empty"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(state() + "/admin.token"), token);
}

TEST_F(StateDirTest, ADamagedDatabaseIsRefusedAtStart) {
  daemon->stop();
  remove_database(state());
  std::ofstream(state() + "/berth.db", std::ios::binary) << std::string(8192, 'x');
  const Outcome r = start_refused(state());
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.exit_code, 124) << r.out;
  EXPECT_NE(r.out.find("is damaged or is not a berth database"), std::string::npos) << r.out;
}

TEST_F(StateDirTest, AReadOnlyStateDirIsNamedWithItsModeAndTheUser) {
  daemon->stop();
  const std::string ro = dir + "/readonly";
  fs::create_directories(ro);
  std::string prefix;
  if (geteuid() == 0) {
    // root writes anywhere: berthd runs as nobody, in a directory nobody owns but may not write.
    ASSERT_EQ(::chown(ro.c_str(), 65534, 65534), 0);
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  ASSERT_EQ(::chmod(ro.c_str(), 0500), 0);
  const Outcome r = start_refused(ro, prefix);
  ::chmod(ro.c_str(), 0700);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.exit_code, 124) << r.out;
  EXPECT_EQ(r.out.find("unable to open database file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("runs as"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("uid " + std::to_string(geteuid() == 0 ? 65534 : geteuid())),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("cannot write " + ro), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mode 0500"), std::string::npos) << r.out;
}

TEST_F(StateDirTest, ABackupRestoresTheStateItWasTakenFrom) {
  create_org("before");
  fs::create_directories(state() + "/backups");
  std::ofstream(state() + "/backups/partial-1-0.db")
      << "left by a berthd that stopped while copying";
  const CliResult backup = cli("admin backup saved.db");
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  EXPECT_NE(backup.out.find("Backup written to saved.db"), std::string::npos) << backup.out;
  EXPECT_TRUE(fs::is_empty(state() + "/backups/")) << "the server kept a copy";
  create_org("after");
  ASSERT_TRUE(has(org_names(*daemon), "after"));

  // docs/operations.md: stop berthd, copy the file into place, remove the WAL and SHM, start.
  daemon->stop();
  remove_database(state());
  fs::copy_file(work + "/saved.db", state() + "/berth.db");
  daemon->start();
  const std::vector<std::string> names = org_names(*daemon);
  EXPECT_TRUE(has(names, "before"));
  EXPECT_FALSE(has(names, "after"));
  create_org("after");  // and it goes on from there
}

TEST_F(StateDirTest, ABackupIsTheAdminsAndNeverOverwritesAFile) {
  create_org("hku");
  const std::string member = make_token(*daemon, "alice", "member", "hku");
  const CliResult denied = cli("admin backup mine.db", member);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.out.find("only an admin"), std::string::npos) << denied.out;
  EXPECT_FALSE(fs::exists(work + "/mine.db"));
  EXPECT_FALSE(fs::exists(work + "/mine.db.partial"));

  std::ofstream(work + "/taken.db") << "keep me";
  const CliResult refused = cli("admin backup taken.db");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("taken.db exists"), std::string::npos) << refused.out;
  EXPECT_EQ(read_file(work + "/taken.db"), "keep me");
}

}  // namespace
}  // namespace berth::testing
