// berthd: the HTTP API over the core loop (server/core_loop.h), and the API tokens.
//
// Threads: the front end (server/frontend.h) reads requests whole on one epoll thread; its
// worker threads parse and authenticate them, then hand each one to the core loop as a task
// and wait (call()). The core loop applies everything in batches and commits each batch before
// any of its requests is answered (group commit): a crash loses nothing that was acknowledged.
// The core thread makes no file-system call a job or a user can make block: scripts are stored
// by the HTTP threads, and jobs are launched and stopped on the launch queue's thread
// (executor/launch_queue.h), which reports a failed launch as the job's end.
//
// Seams: the daemon is given its Store, Clock and Executor (DaemonSeams); Open(config) gives
// berthd's own: the state directory's SqliteStore, the real clock and the LocalExecutor. The
// daemon reads the time only from its Clock.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "core/engine.h"
#include "server/auth.h"
#include "config/config.h"
#include "server/agents/agent_service.h"
#include "server/agents/cert_book.h"
#include "server/core_loop.h"
#include "server/leadership.h"
#include "store/script_store.h"
#include "store/store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace berth::server {

class Frontend;
class Router;
struct Call;

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

// What the daemon is given instead of making it: where its state is kept, the time, and what
// runs jobs (made with the callback that reports their ends to the core loop).
struct DaemonSeams {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Clock> clock;
  CoreLoop::MakeExecutor make_executor;
  // On a shared store (server/candidacy.h): the lease's epoch, told to the agents (0: the
  // clock's now at open, as a berthd alone on SQLite uses), who leads, and what a failed write
  // to the store does instead of stopping berthd (the candidate steps down).
  uint64_t epoch = 0;
  std::shared_ptr<Leadership> leadership;
  std::function<void(const std::string& what, const Status& error)> store_failed;
  // Where every berthd sharing the store finds a job's script (null: the state directory only).
  std::shared_ptr<store::ScriptStore> scripts;
};

// berthd's own clock and executor (the LocalExecutor, in a cgroup when root); no store.
DaemonSeams berthd_seams();
// Creates the state directory if missing; its absolute path.
Result<std::string> make_state_dir(const std::string& state_dir);
// Writes `port` and a newline to `path` (berthd.port, berthd.agents-port).
void write_port_file(const std::string& path, int port);

class Daemon {
 public:
  using Work = std::function<Reply(CoreContext&)>;

  // Loads (or creates) the state in config.state_dir, settles jobs lost while berthd was
  // down, and makes sure an admin token exists. Refuses, writing nothing, a state directory it
  // cannot write, a damaged database, and a missing, empty or foreign database where berth.id
  // says the directory had state (store::OpenStateStore; docs/operations.md), and books that do
  // not verify. A job it cannot take back is set aside and logged, never a refused start.
  // With agents listening and [agents] tls = "berth-ca", it opens (at first, makes) the CA in
  // <state_dir>/ca (agents/ca.h); one it cannot read is a refused start.
  // berthd's seams: the state directory's SqliteStore, the real clock, the LocalExecutor.
  static Result<std::unique_ptr<Daemon>> Open(DaemonConfig config);
  // The same with the seams given. config.state_dir must exist: it holds the job scripts, the
  // admin token and the marker of this state's jobs (run.id), whatever the store.
  static Result<std::unique_ptr<Daemon>> Open(DaemonConfig config, DaemonSeams seams);
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
  store::Store& store() { return core_->store(); }
  int port() const { return port_; }
  std::string admin_token_path() const;
  const std::string& state_dir() const { return state_dir_; }  // absolute
  // The CA that signs the agents' certificates (<state_dir>/ca); null unless agents listen
  // with [agents] tls = "berth-ca".
  const NodeCa* node_ca() const { return node_ca_.get(); }
  // The certificates node_ca() signed and those revoked (with node_ca() only).
  CertBook* cert_book() const { return cert_book_.get(); }
  // Who leads the berthds sharing the store; set from run() on (before, null for SQLite).
  const Leadership* leadership() const { return leadership_.get(); }
  // The scripts shared with the other berthds on the store; null alone on SQLite.
  store::ScriptStore* shared_scripts() const { return scripts_.get(); }
  // Before run(): records in the audit record that this berthd took over from `before` (the
  // lease as it stood when taken), and commits it.
  Status record_takeover(const store::LeaderInfo& before);
  // Ends the stream of `node`'s agent, if it has one, telling it `why`.
  void shut_out_agent(const std::string& node, const std::string& why);

  // The token routes' work (server/tokens.cc), on the core thread: each reply is the route's.
  Reply create_token(Call& call);
  Reply list_tokens(Call& call) const;
  Reply revoke_token(Call& call);
  Reply rotate_admin_token(Call& call);
  // GET /v1/admin/backup for an admin, on the HTTP thread that received it (backup.cc).
  void serve_backup(const httplib::Request& req, httplib::Response& res);
  // The time by the daemon's clock, on any thread (a token's expiry is checked against it).
  int64_t now_ms() const { return clock_->now_ms(); }

 private:
  Daemon(DaemonConfig config, std::unique_ptr<Clock> clock);
  // API tokens (server/tokens.cc), on the core thread.
  Status ensure_admin_token();
  struct NewToken {
    std::string secret;  // the token itself: shown once, never stored
    TokenInfo info;
  };
  Result<NewToken> mint_token(const Principal& principal, const std::string& created_by,
                              int64_t expires_ms, int64_t now_ms) const;
  // Writes changed token records to the store, then to the table the HTTP threads read.
  Status save_tokens(const std::vector<TokenInfo>& changed);
  Result<NewToken> replace_admin_token(int64_t now_ms, std::vector<std::string>* revoked);
  Status load_run_marker();
  // In run(): the agents' listener ([agents] listen, and the local socket), then the local
  // agents that are not running ([agents] local).
  Status listen_for_agents();
  void install_routes(httplib::Server& server);

  DaemonConfig config_;
  std::string state_dir_;  // absolute
  uint64_t epoch_ = 0;     // told to the agents
  std::shared_ptr<Leadership> leadership_;
  std::shared_ptr<store::ScriptStore> scripts_;
  std::unique_ptr<Clock> clock_;
  // Shut down in run() once the core thread has ended, so that no agent's message reaches a
  // core loop that is gone; destroyed after core_, whose orderly stop still answers its tasks.
  std::unique_ptr<AgentServer> agents_;
  std::unique_ptr<NodeCa> node_ca_;
  std::unique_ptr<CertBook> cert_book_;
  std::unique_ptr<CoreLoop> core_;  // after clock_, which it reads: destroyed before it
  std::string run_marker_;          // BERTH_RUN of this state dir's jobs
  TokenTable tokens_;
  int port_ = 0;

  std::mutex mu_;
  bool stopping_ = false;
  // After core_: destroyed first, so no HTTP thread is left waiting on the core loop.
  std::unique_ptr<Router> router_;      // routes and parses (httplib)
  std::unique_ptr<Frontend> frontend_;  // owns the sockets; set under mu_
};

}  // namespace berth::server
