// A real PostgreSQL server for one test process: Debian's PostgreSQL 15
// (/usr/lib/postgresql/15/bin), a data directory of its own in a temporary directory, listening
// on a free loopback port (and a Unix socket in the same directory), with trust authentication
// for the `postgres` superuser. As root it runs as the `postgres` user (PostgreSQL refuses
// root). The server dies with the test process (PR_SET_PDEATHSIG, set after changing user, since
// a change of credentials clears it) and is stopped and removed when the PgServer goes.
//
// initdb runs once per machine and user into a template directory (under a lock, since ctest
// runs test processes side by side); each server starts from a copy of it.
//
// available() is false when the binaries are missing: tests GTEST_SKIP then (Makefile DEPS
// installs them). Not thread-safe; one test thread drives it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace berth::testing {

class PgServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

  static bool available() {
    return ::access((std::string(kBinDir) + "/postgres").c_str(), X_OK) == 0 &&
           ::access((std::string(kBinDir) + "/initdb").c_str(), X_OK) == 0;
  }

  // The server of this test process, started on first use; nullptr (and why in *error) when it
  // cannot start.
  static PgServer* Shared(std::string* error = nullptr) {
    static std::unique_ptr<PgServer> shared;
    static std::string failure;
    if (!shared && failure.empty()) {
      auto s = std::make_unique<PgServer>();
      failure = s->start();
      if (failure.empty()) shared = std::move(s);
    }
    if (error != nullptr) *error = failure;
    return shared.get();
  }

  // durable: fsync and full-page writes on, as in production (benchmarks); tests run without.
  explicit PgServer(bool durable = false) : durable_(durable) {}
  ~PgServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Starts the server (made on the first start); "" when it is ready for connections,
  // otherwise what went wrong.
  std::string start() {
    if (pid_ > 0) return "";
    if (!available()) return "PostgreSQL's binaries are not in " + std::string(kBinDir);
    if (dir_.empty()) {
      if (std::string e = make_data_dir(); !e.empty()) return e;
    }
    if (port_ == 0) port_ = free_port();
    const std::string port = std::to_string(port_);
    std::vector<std::string> argv = {"postgres",
                                     "-D",
                                     data(),
                                     "-p",
                                     port,
                                     "-k",
                                     dir_,
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "max_connections=200",
                                     "-c",
                                     "logging_collector=off"};
    if (!durable_) argv.insert(argv.end(), {"-c", "fsync=off", "-c", "full_page_writes=off"});
    pid_ = spawn(argv, dir_ + "/server.log");
    if (pid_ <= 0) return "cannot start postgres";
    // Bounded: a server that is not ready in a minute has failed (its log says why).
    for (int i = 0; i < 3000; ++i) {
      if (PQping(conninfo("postgres").c_str()) == PQPING_OK) return "";
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return "postgres exited at start; see " + dir_ + "/server.log";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "postgres did not become ready; see " + dir_ + "/server.log";
  }

  // A fast shutdown (SIGINT: sessions are disconnected, what was committed stays); waits
  // for the server to exit.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  // The same server on the same port, after a stop: every open connection is broken.
  std::string restart() {
    stop();
    return start();
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

  // The URL of database `db` on this server, for the superuser.
  std::string url(const std::string& db = "postgres") const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  // A new, empty database (one per test): its URL, or "" when it could not be made.
  std::string fresh_database() {
    const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
    if (!exec("postgres", "CREATE DATABASE " + name)) return "";
    return url(name);
  }

  // Runs `sql` on database `db` with a connection of its own; false if it failed.
  bool exec(const std::string& db, const std::string& sql, std::string* error = nullptr) {
    PGconn* c = PQconnectdb(conninfo(db).c_str());
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
      PGresult* r = PQexec(c, sql.c_str());
      const ExecStatusType st = PQresultStatus(r);
      ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
      PQclear(r);
    }
    if (!ok && error != nullptr) *error = PQerrorMessage(c);
    PQfinish(c);
    return ok;
  }

 private:
  std::string data() const { return dir_ + "/data"; }
  std::string conninfo(const std::string& db) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db +
           " connect_timeout=5";
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }

  static const passwd* postgres_user() {
    return ::geteuid() == 0 ? ::getpwnam("postgres") : nullptr;
  }

  // Forks and execs a binary of kBinDir as the server's user, output to `log`; the child dies
  // with this process. The child's pid, or -1.
  static pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    const passwd* pw = postgres_user();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    if (pw != nullptr && (::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0)) ::_exit(126);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    ::setpgid(0, 0);  // a Ctrl-C of the test does not reach it before the test's own cleanup
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv((std::string(kBinDir) + "/" + argv[0]).c_str(), args.data());
    ::_exit(127);
  }

  static bool run(const std::vector<std::string>& argv, const std::string& log) {
    const pid_t pid = spawn(argv, log);
    if (pid <= 0) return false;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  static bool give_to_server_user(const std::string& path) {
    const passwd* pw = postgres_user();
    return pw == nullptr || ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) == 0;
  }

  // The template made once by initdb (under an flock): its path, or "" on failure.
  static std::string template_dir(std::string* error) {
    const std::string base = "/tmp/berth-pg15-template-" + std::to_string(::geteuid());
    const int lock = ::open((base + ".lock").c_str(), O_RDWR | O_CREAT, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      *error = "cannot lock " + base + ".lock";
      if (lock >= 0) ::close(lock);
      return "";
    }
    const std::string ready = base + "/ready";
    if (::access(ready.c_str(), F_OK) != 0) {
      std::error_code ec;
      std::filesystem::remove_all(base, ec);
      std::filesystem::create_directories(base, ec);
      give_to_server_user(base);
      if (!run({"initdb", "-D", base + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync"},
               "/dev/null") ||
          ::close(::open(ready.c_str(), O_WRONLY | O_CREAT, 0600)) != 0) {
        *error = "initdb into " + base + " failed";
      }
    }
    ::close(lock);
    return error->empty() ? base : "";
  }

  std::string make_data_dir() {
    std::string error;
    const std::string tmpl = template_dir(&error);
    if (tmpl.empty()) return error;
    char pattern[] = "/tmp/berth-pg-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return "mkdtemp failed";
    dir_ = pattern;
    if (!give_to_server_user(dir_)) return "cannot give " + dir_ + " to postgres";
    if (std::system(("cp -a " + tmpl + "/data " + data()).c_str()) != 0)
      return "cannot copy the template into " + dir_;
    return "";
  }

  bool durable_ = false;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
  int databases_ = 0;
};

}  // namespace berth::testing
