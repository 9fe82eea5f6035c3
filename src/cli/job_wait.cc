#include "cli/job_wait.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cli/table.h"

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr int64_t kFirstPauseMs = 100;
constexpr int64_t kLongestPauseMs = 2'000;

std::vector<std::string> submitted_ids(const json& submitted) {
  std::vector<std::string> ids;
  const json tasks = submitted.value("array_task_ids", json());
  if (tasks.is_array()) {
    for (const json& id : tasks) ids.push_back(cell(id));
  } else {
    ids.push_back(cell(submitted, "id"));
  }
  return ids;
}

bool has_ended(const json& job) {
  const std::string state = job.value("state", "");
  return state != "PENDING" && state != "RUNNING";
}

// "job 7 ended FAILED (exit code 3): cannot open output ..." for a job that did not complete.
std::string how_it_ended(const json& job) {
  std::string text = "job " + cell(job, "id") + " ended " + cell(job, "state");
  if (job.value("signal", json()).is_number()) {
    text += " (signal " + cell(job, "signal") + ")";
  } else if (job.value("exit_code", json()).is_number()) {
    text += " (exit code " + cell(job, "exit_code") + ")";
  }
  if (job.value("end_reason", json()).is_string()) text += ": " + cell(job, "end_reason");
  return text;
}

}  // namespace

int job_exit_status(const json& job) {
  const json code = job.value("exit_code", json());
  const bool exited = code.is_number_integer() && !job.value("signal", json()).is_number();
  if (exited && code.get<int64_t>() >= 0 && code.get<int64_t>() <= 255)
    return static_cast<int>(code.get<int64_t>());
  return job.value("state", "") == "COMPLETED" ? 0 : 1;
}

Status wait_for_jobs(Context& ctx, const json& submitted) {
  std::vector<std::string> waiting = submitted_ids(submitted);
  int64_t pause_ms = kFirstPauseMs;
  while (!waiting.empty()) {
    std::vector<std::string> still;
    for (const std::string& id : waiting) {
      Result<json> job = ctx.get("/v1/jobs/" + id);
      if (!job.ok())
        return Status(job.status().code(),
                      "while waiting for job " + id + ": " + job.status().message());
      if (!has_ended(*job)) {
        still.push_back(id);
        continue;
      }
      const int status = job_exit_status(*job);
      if (status != 0 || job->value("state", "") != "COMPLETED")
        ctx.err() << "berth: " << how_it_ended(*job) << "\n";
      ctx.exit_status = std::max(ctx.exit_status, status);
    }
    waiting = std::move(still);
    if (!waiting.empty() && ctx.io().sleep_ms) ctx.io().sleep_ms(pause_ms);
    pause_ms = std::min(pause_ms * 2, kLongestPauseMs);
  }
  return Status::Ok();
}

}  // namespace berth::cli
