// Hand-written fakes for the core loop's seams (server/core_loop.h): a store that can be told
// to fail its next commit, and an executor that records what it was asked and lets the test
// report each job's end; and a scratch folder for the store's file.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "store/store.h"

namespace berth::server {

// A new empty folder, removed with what it holds when this goes. On tmpfs (/dev/shm) where
// there is one: these tests are about the loop, not the disk, and a commit's fsync is then free.
class ScratchDir {
 public:
  ScratchDir() {
    const std::filesystem::path shm = "/dev/shm";
    const std::filesystem::path base =
        std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path();
    std::string tmpl = (base / "berth-server-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // Empty when the folder could not be made.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A store (a real one underneath: SqliteStore on a temporary file) whose next commit, or next
// write of a node's state, fails when told, as a full disk would: nothing written, an error.
class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  void fail_next_commit() { fail_next_commit_ = true; }
  void fail_next_node_state() { fail_next_node_state_ = true; }

  Status commit(const core::ChangeSet& changes, int64_t now_ms) override {
    if (!fail_next_commit_) return inner_->commit(changes, now_ms);
    fail_next_commit_ = false;
    return Status::Internal("database or disk is full (injected)");
  }
  Result<core::ChangeSet> load(int64_t* last_alive_ms) override {
    return inner_->load(last_alive_ms);
  }
  Status put_nodes(const std::vector<core::Node>& nodes) override {
    return inner_->put_nodes(nodes);
  }
  Status put_node(const core::Node& node) override {
    if (!fail_next_node_state_) return inner_->put_node(node);
    fail_next_node_state_ = false;
    return Status::Internal("database or disk is full (injected)");
  }
  Result<std::vector<core::Node>> nodes() override { return inner_->nodes(); }
  Status put_tokens(const std::vector<store::TokenRow>& rows) override {
    return inner_->put_tokens(rows);
  }
  Result<std::vector<store::TokenRow>> tokens() override { return inner_->tokens(); }
  Status backup(const std::string& dest_path) const override { return inner_->backup(dest_path); }
  Result<std::string> rescue() override { return inner_->rescue(); }

 private:
  std::unique_ptr<store::Store> inner_;
  bool fail_next_commit_ = false;
  bool fail_next_node_state_ = false;
};

// An executor that starts nothing: it records the launches and stops it is asked for, and the
// test reports each job's end (exit()), as the real one does from its own thread. With
// exit_when_stopped, a stop is answered at once by the job's end, cancelled, as a job that
// leaves on SIGTERM is.
class FakeExecutor final : public executor::Executor {
 public:
  explicit FakeExecutor(executor::ExitCallback report) : report_(std::move(report)) {}

  Result<int> launch(const executor::LaunchSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu_);
    launched_.push_back(spec.job);
    specs_.push_back(spec);
    return static_cast<int>(1000 + launched_.size());
  }
  Status terminate(JobId job, int64_t) override {
    bool exit_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_.push_back(job);
      exit_now = exit_when_stopped_;
    }
    if (exit_now) exit(job, 0, true);
    return Status::Ok();
  }
  size_t running() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return launched_.size();
  }

  // Reports the end of `job` as the executor would.
  void exit(JobId job, int exit_code, bool cancelled = false) {
    executor::JobExit x;
    x.job = job;
    x.exit_code = exit_code;
    x.cancelled = cancelled;
    report_(x);
  }
  // Reports that the OOM killer ended `job` (SIGKILL in its cgroup).
  void exit_out_of_memory(JobId job) {
    executor::JobExit x;
    x.job = job;
    x.term_signal = 9;
    x.oom = true;
    report_(x);
  }
  void exit_when_stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    exit_when_stopped_ = true;
  }
  std::vector<JobId> launched() const {
    std::lock_guard<std::mutex> lock(mu_);
    return launched_;
  }
  std::vector<executor::LaunchSpec> specs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return specs_;
  }
  std::vector<JobId> stopped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

 private:
  const executor::ExitCallback report_;
  mutable std::mutex mu_;
  std::vector<JobId> launched_;
  std::vector<executor::LaunchSpec> specs_;
  std::vector<JobId> stopped_;
  bool exit_when_stopped_ = false;
};

}  // namespace berth::server
