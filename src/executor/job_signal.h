// A warning signal sent to a job shortly before its time limit: Slurm's
// --signal=[B:]SIG[@SECS] ("B:USR1@60"), so that a job can checkpoint before it is stopped.
//
// The one parser of that text: the CLI checks it before submitting, berthd checks it again and
// keeps it in the job's launch description, and the launch reads it from there into the
// LaunchSpec. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth::executor {

struct JobSignal {
  int number = 0;           // e.g. SIGUSR1
  int64_t before_s = 60;    // seconds before the time limit (Slurm's default is 60)
  bool batch_only = false;  // "B:": the batch script's own process only, not the whole job
};

// The most seconds before the limit Slurm accepts (65535), and so does berth.
inline constexpr int64_t kMaxSignalBeforeS = 65'535;

// "USR1", "SIGUSR1", "10", "B:USR1@60", "TERM@120". Refuses Slurm's "R:" (reservations) and
// signals a job may not be sent ahead of time (KILL, STOP and other non-catchable ones).
Result<JobSignal> parse_job_signal(std::string_view text);

// The canonical text of a signal: "B:USR1@60" (the form parse_job_signal reads).
std::string format_job_signal(const JobSignal& signal);

}  // namespace berth::executor
