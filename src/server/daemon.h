// berthd: one Engine, its SQLite store, the local executor and the HTTP API.
//
// Threads: the front end (server/frontend.h) reads requests whole on one epoll thread; its
// worker threads parse and authenticate them, then hand each one to the
// core thread as a Work item and wait. The core thread applies everything in batches:
// job ends reported by the executor, then the waiting requests, then a scheduling pass;
// it commits the batch's changes to the store in one transaction, and only then replies
// and hands the jobs started to the launch queue (group commit). A crash therefore loses
// nothing that was acknowledged, and a job is never running without its start (and money
// hold) on disk. The core thread makes no file-system call a job or a user can make block:
// scripts are stored by the HTTP threads, and jobs are launched and stopped on the launch
// queue's thread (executor/launch_queue.h), which reports a failed launch as the job's end.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine.h"
#include "executor/executor.h"
#include "executor/launch_queue.h"
#include "server/auth.h"
#include "config/config.h"
#include "store/sqlite_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace berth::server {

class Frontend;
class Router;

struct Reply {
  int status = 200;
  nlohmann::json body;
  // A reply that is not JSON (a statement as CSV or HTML): sent as `text` with this type.
  std::string content_type;
  std::string text;
  // When set, the JSON body's text is made by calling it on the HTTP thread after the batch, off
  // the core thread (a listing's page: the core copies the items, the HTTP thread writes them).
  std::function<std::string()> render;
};
Reply error_reply(const Status& status);

// What a request's work may see and ask for, on the core thread.
struct CoreContext {
  core::Engine& engine;
  int64_t now_ms;
  std::vector<JobId> terminate;  // running jobs to stop once the batch is committed
};

class Daemon {
 public:
  using Work = std::function<Reply(CoreContext&)>;

  // Loads (or creates) the state in config.state_dir, settles jobs lost while berthd was
  // down, and makes sure an admin token exists. Refuses, writing nothing, a state directory it
  // cannot write, a damaged database, and a missing, empty or foreign database where berth.id
  // says the directory had state (store::OpenStateStore; docs/operations.md), and books that do
  // not verify. A job it cannot take back is set aside and logged, never a refused start.
  static Result<std::unique_ptr<Daemon>> Open(DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Serves until stop(); returns when the HTTP server and the core thread have ended.
  Status run();
  void stop();

  // Runs `work` on the core thread within the next batch and returns its reply once the
  // batch is committed. Called from HTTP threads.
  Reply call(Work work);

  const DaemonConfig& config() const { return config_; }
  TokenTable& tokens() { return tokens_; }
  store::SqliteStore& store() { return *store_; }
  int port() const { return port_; }
  std::string admin_token_path() const;

 private:
  explicit Daemon(DaemonConfig config);
  Status recover(int64_t last_alive_ms);
  // API tokens (server/tokens.cc), on the core thread. Each reply is the route's whole reply.
  Status ensure_admin_token();
  Reply create_token(CoreContext& c, const Principal& who, const nlohmann::json& body);
  Reply list_tokens(CoreContext& c, const Principal& who) const;
  Reply revoke_token(CoreContext& c, const Principal& who, const std::string& id);
  Reply rotate_admin_token(CoreContext& c, const Principal& who);
  struct NewToken {
    std::string secret;  // the token itself: shown once, never stored
    TokenInfo info;
  };
  Result<NewToken> mint_token(const Principal& principal, const std::string& created_by, int64_t expires_ms,
                              int64_t now_ms) const;
  // Writes changed token records to the store, then to the table the HTTP threads read.
  Status save_tokens(const std::vector<TokenInfo>& changed);
  Result<NewToken> replace_admin_token(int64_t now_ms, std::vector<std::string>* revoked);
  void core_loop();
  void run_batch();
  void stop_running_jobs();
  void launch(JobId job);
  void report_exit(executor::JobExit exit);
  Status load_run_marker();
  void install_routes(httplib::Server& server);
  // GET /v1/admin/backup, on the HTTP thread that received it (backup.cc).
  void serve_backup(const httplib::Request& req, httplib::Response& res);

  struct Task {
    Work work;
    std::promise<Reply> done;
  };

  DaemonConfig config_;
  std::string state_dir_;  // absolute
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<core::Engine> engine_;
  std::unique_ptr<executor::Executor> executor_;
  std::unique_ptr<executor::LaunchQueue> launcher_;  // after executor_: destroyed before it
  std::string run_marker_;  // BERTH_RUN of this state dir's jobs
  std::unique_ptr<Router> router_;      // routes and parses (httplib)
  std::unique_ptr<Frontend> frontend_;  // owns the sockets; set under mu_
  TokenTable tokens_;
  int port_ = 0;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Task>> tasks_;
  std::deque<executor::JobExit> exits_;
  bool stopping_ = false;
  int64_t last_commit_ms_ = 0;
  std::vector<core::NodeState> stored_node_states_;  // what the nodes table holds, in cluster().nodes() order
  std::thread core_thread_;
};

int64_t wall_clock_ms();

}  // namespace berth::server
