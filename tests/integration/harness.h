// A real berthd in a temporary state directory on a free port, and the real berth CLI.
// Used by the integration tests; nothing here is faked.
#pragma once

#include <algorithm>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "../common/temporary_user.h"  // also for bench/, which has no tests/ on its path
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace berth::testing {

using json = nlohmann::json;
namespace fs = std::filesystem;

inline std::string bin_dir() {
  const char* d = std::getenv("BERTH_BIN_DIR");
  return fs::absolute(d ? d : ".").string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `ready` every 20 ms until it is true or `timeout` passes. Returns whether it became true.
template <typename F>
bool eventually(F ready, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

struct CliResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line (`sh -c`) to its end: its exit code and what it printed on stdout
// (add 2>&1 for stderr too).
inline CliResult run_shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128, out};
}

// The pids of the processes whose environment holds the variable `entry` ("NAME=value"), each
// with its command line (arguments separated by spaces).
inline std::map<int, std::string> processes_with_env(const std::string& entry) {
  std::map<int, std::string> found;
  const std::string needle = std::string("\0", 1) + entry + std::string("\0", 1);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string environ_text =
        std::string("\0", 1) + read_file(e.path().string() + "/environ");
    if (environ_text.find(needle) == std::string::npos) continue;
    std::string cmdline = read_file(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found[std::stoi(pid)] = cmdline;
  }
  return found;
}

// Kills every process whose environment holds the BERTH_RUN of the berthd whose state is in
// `state_dir` (its run.id): the jobs an agent killed with -9 left behind, which only that
// agent's restart would have cleaned up.
// A job's process left frozen in its v1 freezer cgroup (berthd killed while sweeping it) waits
// in the kernel for a SIGKILL until thawed.
inline void thaw_process(int pid) {
  std::string text;
  try {  // a process that exits while its file is read fails the read (ESRCH)
    text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  } catch (const std::ios_base::failure&) {
    return;
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(":freezer:");
    if (at == std::string::npos) continue;
    const std::string path = line.substr(at + 9);
    if (path != "/") std::ofstream("/sys/fs/cgroup/freezer" + path + "/freezer.state") << "THAWED\n";
  }
}

inline void kill_jobs_of_run(const std::string& state_dir) {
  std::string marker = read_file(state_dir + "/run.id");
  while (!marker.empty() && marker.back() == '\n') marker.pop_back();
  if (marker.empty()) return;
  for (const auto& [pid, cmdline] : processes_with_env("BERTH_RUN=" + marker)) {
    thaw_process(pid);
    ::kill(pid, SIGKILL);
  }
}

// berthd's embedded default configuration, with [agents] local = false: berthd runs the jobs
// itself (what most tests are about) and starts no agent.
inline std::string default_config_without_local_agents() {
  std::string toml = run_shell("'" + bin_dir() + "/berthd' --print-default-config").out;
  const std::string from = "\nlocal = true";
  const size_t at = toml.find(from);
  if (at == std::string::npos) throw std::runtime_error("no local = true in the default");
  return toml.replace(at, from.size(), "\nlocal = false");
}

class Berthd {
 public:
  explicit Berthd(std::string state_dir, std::string config_path = "")
      : state_dir_(std::move(state_dir)), config_path_(std::move(config_path)) {}
  ~Berthd() {
    kill_hard();
    kill_local_agents();  // they, and their jobs, outlive berthd
    kill_jobs_of_run(state_dir_);  // and so do a killed berthd's own jobs
  }
  // Kills the local agents this berthd started (their command lines name its state directory)
  // and what runs under them.
  void kill_local_agents() {
    const std::string needle = state_dir_ + "/agents/";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = read_file(e.path().string() + "/cmdline");
      if (cmdline.rfind(bin_dir() + "/berth-agent", 0) == 0 &&
          cmdline.find(needle) != std::string::npos)
        ::kill(std::stoi(pid), SIGKILL);
    }
  }

  // Starts berthd as this Unix user (the test runs as root) rather than as the test's own.
  void run_as(const std::string& user) { user_ = user; }
  // Without a configuration file, berthd runs its embedded default as `make run` does, local
  // agents included, only when asked; otherwise that default with [agents] local = false (it
  // runs the jobs itself), which is what most tests are about.
  void with_local_agents() { local_agents_ = true; }
  // On a shared store berthd may come up as a standby: up() then means it answers /livez.
  void may_stand_by() { may_stand_by_ = true; }

  void start() {
    fs::remove(state_dir_ + "/berthd.port");
    if (config_path_.empty() && !local_agents_) {
      config_path_ = state_dir_ + ".toml";
      std::ofstream(config_path_) << default_config_without_local_agents();
    }
    std::vector<std::string> args = {bin_dir() + "/berthd", "--listen", "127.0.0.1:0",
                                     "--state-dir", state_dir_};
    if (!user_.empty())
      args.insert(args.begin(),
                  {"/usr/bin/setpriv", "--reuid=" + user_, "--regid=" + user_, "--init-groups"});
    if (!config_path_.empty()) {
      args.push_back("--config");
      args.push_back(config_path_);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = state_dir_ + ".log";
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start berthd");
    posix_spawn_file_actions_destroy(&fa);
    if (!eventually([&] { return fs::exists(state_dir_ + "/berthd.port") && up(); }))
      throw std::runtime_error("berthd did not come up: " + read_file(log));
  }

  bool up() {
    port_ = std::atoi(read_file(state_dir_ + "/berthd.port").c_str());
    if (port_ <= 0) return false;
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get(may_stand_by_ ? "/livez" : "/v1/health");
    return r && r->status == 200;
  }

  void kill_hard() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  // Waits for berthd to exit by itself: its exit code (128 + the signal when killed by one), or
  // -1 if it is still running after `timeout`.
  int wait_exit(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int status = 0;
    const bool exited =
        pid_ > 0 && eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The admin token admin.token holds now (a rotation replaces it).
  std::string admin_token() const {
    std::string token = read_file(state_dir_ + "/admin.token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    return token;
  }
  const std::string& state_dir() const { return state_dir_; }

  // A raw API call; returns {status, body as JSON (or the raw text under "raw")}.
  // "<admin>" is the admin token of the moment; `extra` are more headers (an Idempotency-Key).
  std::pair<int, json> api(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& token = "<admin>",
                           const httplib::Headers& extra = {}) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    httplib::Headers h = extra;
    const std::string t = token == "<admin>" ? admin_token() : token;
    if (!t.empty()) h.emplace("Authorization", "Bearer " + t);
    httplib::Result r = method == "GET" ? c.Get(path.c_str(), h)
                                        : c.Post(path.c_str(), h, body, "application/json");
    if (!r) return {0, json()};
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) j = json{{"raw", r->body}};
    return {r->status, j};
  }

 private:
  std::string state_dir_;
  std::string config_path_;
  std::string user_;
  bool local_agents_ = false;
  bool may_stand_by_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A request that must succeed (2xx): a failure is reported, after `context` where one is given,
// and the reply is returned either way.
inline json must_succeed(const Berthd& d, const std::string& method, const std::string& path,
                         const std::string& body, const std::string& token = "<admin>",
                         const std::string& context = "") {
  auto [status, out] = d.api(method, path, body, token);
  EXPECT_TRUE(status >= 200 && status < 300)
      << context << (context.empty() ? "" : ": ") << method << " " << path << " " << body << " -> "
      << status << " " << out.dump();
  return out;
}

// Every page of a listing (GET `path`, following each reply's `next` cursor as `after`), as
// {key: all items}.
inline json every_page(const Berthd& d, const std::string& path, const std::string& key,
                       const std::string& token = "<admin>") {
  json all = json::array();
  std::string page = path;
  for (int pages = 0; pages < 100'000; ++pages) {
    const json reply = must_succeed(d, "GET", page, "", token);
    for (const json& item : reply.value(key, json::array())) all.push_back(item);
    if (!reply.contains("next") || reply["next"].is_null()) break;
    page =
        path + (path.find('?') == std::string::npos ? "?" : "&") + "after=" + reply["next"].dump();
  }
  return json{{key, all}};
}

// A new token for `user` with `role` ("member", "reviewer" or "admin"), made by the admin;
// `org` names a member's organisation.
inline std::string make_token(const Berthd& d, const std::string& user, const std::string& role,
                              const std::string& org = "") {
  json b = {{"user", user}, {"role", role}};
  if (!org.empty()) b["org"] = org;
  return must_succeed(d, "POST", "/v1/tokens", b.dump()).value("token", "");
}

// Runs the berth CLI against a server with a token, from `cwd`.
inline CliResult berth_cli(const Berthd& d, const std::string& args, const std::string& token = "",
                           const std::string& cwd = "") {
  return run_shell((cwd.empty() ? "" : "cd '" + cwd + "' && ") + "BERTH_SERVER=" + d.url() +
                   " BERTH_TOKEN=" + (token.empty() ? d.admin_token() : token) + " " + bin_dir() +
                   "/berth " + args + " 2>&1");
}

inline std::string temp_dir(std::string name) {
  // A parameterised test's name holds a '/' ("Run/seed_7"): one folder, not a folder left behind.
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string d =
      (fs::temp_directory_path() / ("berth-it-" + name + "-" + std::to_string(getpid()))).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A folder jobs work and write their output in. Under root, berthd runs jobs as `nobody` (or
// [jobs] user), so it is writable by all, sticky as /tmp is.
inline void make_work_dir(const std::string& path) {
  fs::create_directories(path);
  fs::permissions(path, fs::perms::all | fs::perms::sticky_bit);
}

// A test with its own berthd in a fresh temporary directory (kept when the test fails, for its
// log), and a work folder the CLI runs in.
class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    work = dir + "/work";
    make_work_dir(work);
    const std::string toml = config();
    if (!toml.empty()) std::ofstream(dir + "/berth.toml") << toml;
    daemon = std::make_unique<Berthd>(dir + "/state", toml.empty() ? "" : dir + "/berth.toml");
    if (local_agents()) daemon->with_local_agents();
    daemon->start();
  }
  // The configuration berthd runs with (TOML); "" for the embedded default.
  virtual std::string config() { return ""; }
  // With the embedded default: whether berthd starts its local agents, as `make run` does.
  virtual bool local_agents() const { return false; }
  void TearDown() override {
    daemon.reset();
    if (!HasFailure()) fs::remove_all(dir);
  }
  CliResult cli(const std::string& args, const std::string& token = "") {
    return berth_cli(*daemon, args, token, work);
  }
  void must(const std::string& args, const std::string& token = "") {
    const CliResult r = cli(args, token);
    ASSERT_EQ(r.exit_code, 0) << "berth " << args << "\n" << r.out;
  }
  // `berth submit --parsable -A vision ARGS`; the new job's id (0 when refused).
  uint64_t submit(const std::string& args) {
    const CliResult r = cli("submit --parsable -A vision " + args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return std::strtoull(r.out.c_str(), nullptr, 10);
  }
  json job(uint64_t id) { return daemon->api("GET", "/v1/jobs/" + std::to_string(id)).second; }
  std::string state(uint64_t id) { return job(id).value("state", "?"); }
  bool ended(uint64_t id) {
    const std::string s = state(id);
    return s != "PENDING" && s != "RUNNING";
  }
  // The job's output file, where berth puts it by default (berth-<id>.out in `work`).
  std::string output(uint64_t id) {
    return read_file(work + "/berth-" + std::to_string(id) + ".out");
  }
  // Two organisations, a (a university) and b (a start-up), with projects pa and pb.
  void make_two_orgs() {
    must_succeed(*daemon, "POST", "/v1/orgs", R"({"name":"a","kind":"university"})");
    must_succeed(*daemon, "POST", "/v1/orgs", R"({"name":"b","kind":"startup"})");
    must_succeed(*daemon, "POST", "/v1/projects", R"({"name":"pa","org":"a"})");
    must_succeed(*daemon, "POST", "/v1/projects", R"({"name":"pb","org":"b"})");
  }
  // make_two_orgs, with 5000 in each project's wallet.
  void make_two_funded_orgs() {
    make_two_orgs();
    must_succeed(*daemon, "POST", "/v1/projects/pa/topups", R"({"amount":"5000"})");
    must_succeed(*daemon, "POST", "/v1/projects/pb/topups", R"({"amount":"5000"})");
  }

  std::string dir, work;
  std::unique_ptr<Berthd> daemon;
};

}  // namespace berth::testing
