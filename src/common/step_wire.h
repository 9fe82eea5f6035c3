// `berth run` within a job asks its node's agent for a step (src/agent/README.md §5) over a
// Unix socket in the abstract namespace (no file to leave behind or to guard; the agent checks
// each caller's credentials with SO_PEERCRED). One exchange per connection: the caller writes
// a StepCall as one line of JSON, the agent answers with a StepResult line once the step is
// over, and closes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth {

struct StepCall {
  uint64_t job = 0;
  std::vector<std::string> argv;
  std::string workdir;  // absolute; "" for the job's own
};

struct StepResult {
  uint32_t step = 0;
  int exit_code = 0;
  int signal = 0;
  uint32_t ranks = 0;
  std::string error;  // the step did not run (or not on every node): why
};

// A request or an answer is at most this long (the command's bytes and more).
inline constexpr size_t kMaxStepLineBytes = 512 * 1024;

std::string encode_step_call(const StepCall& call);
Result<StepCall> decode_step_call(const std::string& line);
std::string encode_step_result(const StepResult& result);
Result<StepResult> decode_step_result(const std::string& line);

// Sockets at "@name" (the abstract namespace). Descriptors are close-on-exec.
Result<int> listen_step_socket(const std::string& address);
Result<int> connect_step_socket(const std::string& address);
// One line (without its '\n'); an error at EOF first, or past kMaxStepLineBytes.
Result<std::string> read_step_line(int fd);
Status write_step_line(int fd, const std::string& line);

}  // namespace berth
