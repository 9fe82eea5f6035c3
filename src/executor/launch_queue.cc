#include "executor/launch_queue.h"

#include <utility>

namespace berth::executor {

LaunchQueue::LaunchQueue(Executor& executor, ExitCallback on_failure, Log log)
    : executor_(executor), on_failure_(std::move(on_failure)), log_(std::move(log)) {
  thread_ = std::thread([this] { loop(); });
}

LaunchQueue::~LaunchQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LaunchQueue::launch(LaunchSpec spec) {
  {
    std::lock_guard lock(mu_);
    commands_.emplace_back(std::move(spec));
  }
  wake_.notify_all();
}

void LaunchQueue::terminate(JobId job, int64_t grace_ms) {
  {
    std::lock_guard lock(mu_);
    commands_.emplace_back(Stop{job, grace_ms});
  }
  wake_.notify_all();
}

void LaunchQueue::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return commands_.empty() && !busy_; });
}

void LaunchQueue::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !commands_.empty(); });
    if (commands_.empty()) return;  // stop_, with everything handed over
    Command command = std::move(commands_.front());
    commands_.pop_front();
    busy_ = true;
    lock.unlock();
    run(command);
    lock.lock();
    busy_ = false;
    if (commands_.empty()) idle_.notify_all();
  }
}

void LaunchQueue::run(const Command& command) {
  if (const auto* spec = std::get_if<LaunchSpec>(&command)) {
    Result<int> pgid = executor_.launch(*spec);
    if (pgid.ok()) return;
    JobExit exit;
    exit.job = spec->job;
    exit.exit_code = 127;  // as a shell reports a command it could not run
    exit.reason = pgid.status().message();
    if (log_) log_("job " + std::to_string(spec->job.value) + " could not start: " + exit.reason);
    on_failure_(exit);
    return;
  }
  const Stop& stop = std::get<Stop>(command);
  const Status st = executor_.terminate(stop.job, stop.grace_ms);
  // Not found: it ended, or never started, and that end is already reported.
  if (!st.ok() && st.code() != Code::kNotFound && log_)
    log_("stop of job " + std::to_string(stop.job.value) + ": " + st.ToString());
}

}  // namespace berth::executor
