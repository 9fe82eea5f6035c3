// `berth submit --wait` (sbatch -W): wait until a submitted job, or every task of a submitted
// job array, has ended, and give back sbatch's exit status.
#pragma once

#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace berth::cli {

// The exit status sbatch --wait gives for one ended job: its exit code when it exited by itself,
// 0 when it COMPLETED, else 1 (killed by a signal, cancelled, timed out, its node lost).
int job_exit_status(const nlohmann::json& job);

// Polls GET /v1/jobs/{id} for the job `submitted` (the submit reply) or each of its
// array_task_ids until none is PENDING or RUNNING (a requeued job is PENDING again, so it is
// waited for), pausing with CliIo::sleep_ms between rounds, 100 ms at first and doubling to
// 2 s. It waits for as long as the jobs take, as sbatch does. Sets ctx.exit_status to the
// highest job_exit_status among them and says on stderr how each job that did not complete ended.
Status wait_for_jobs(Context& ctx, const nlohmann::json& submitted);

}  // namespace berth::cli
