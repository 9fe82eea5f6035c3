// What the executor tests share: the reports an executor sends from its own thread, collected
// and waited for, a file's text, and a fixture with a LocalExecutor and a folder of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "executor/executor.h"
#include "executor/local_executor.h"

namespace berth::executor {

inline constexpr auto kWait = std::chrono::seconds(30);

// Collects reports from the executor's thread.
class Reports {
 public:
  void add(const JobExit& exit) {
    {
      std::lock_guard lock(mu_);
      all_.push_back(exit);
    }
    cv_.notify_all();
  }
  // Waits until at least n reports arrived; false on timeout.
  bool wait_for_count(size_t n, std::chrono::nanoseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return all_.size() >= n; });
  }
  // Waits for the report of `job`.
  std::optional<JobExit> wait_for(JobId job, std::chrono::nanoseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    std::optional<JobExit> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const JobExit& e : all_) {
        if (e.job == job) found = e;
      }
      return found.has_value();
    });
    return found;
  }
  std::vector<JobExit> all() {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<JobExit> all_;
};

// True when no process `pid` runs (gone, or a zombie awaiting its new parent).
inline bool process_dead(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A LocalExecutor reporting into reports_, and a temporary folder dir_, removed after the test
// once every job the test left running is killed.
class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-executor-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    executor_ = std::make_unique<LocalExecutor>([this](const JobExit& e) { reports_.add(e); });
  }
  void TearDown() override {
    if (executor_) {
      EXPECT_TRUE(executor_->kill_all(0));
    }
    executor_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path dir_;
  Reports reports_;  // declared before the executor, so it outlives the executor's threads
  std::unique_ptr<LocalExecutor> executor_;
};

}  // namespace berth::executor
