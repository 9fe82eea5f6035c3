// From a started job to what the executor runs: the job's launch description (the JSON kept
// with it since submit) read defensively, plus berth's and Slurm's variables.
//
// A description that cannot be used — written by an older berth, damaged in the database, or
// naming a user that does not exist — is an error whose message becomes the job's end reason;
// it never throws and never stops berthd.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "core/engine.h"
#include "executor/executor.h"

namespace berth::server {

struct LaunchSettings {
  std::string state_dir;  // absolute
  std::string
      run_marker;  // BERTH_RUN's value: this state dir's random id (orphans are found by it)
  bool daemon_is_root = false;
  std::string job_user;     // [jobs] user: who a job runs as when berthd is root and it names none
  bool allow_root = false;  // [jobs] allow_root
  int64_t grace_ms = 10'000;
};

// MASTER_PORT: kMasterPortBase + the job's id modulo kMasterPortSpan, so that two jobs sharing
// a node rarely meet on one port.
inline constexpr uint64_t kMasterPortBase = 29500;
inline constexpr uint64_t kMasterPortSpan = 10000;

// The CPUs and memory a job asked for, from the "resources" of its launch description
// (request_fields.h, kResourceFields); what is absent or not a whole number is 0, not asked.
core::BoxRequest box_request(const nlohmann::json& description);

// A rank's own variables (NODE_RANK, SLURM_NODEID, SLURM_PROCID, GROUP_RANK): launch_spec sets
// rank 0's, an executor of many nodes each other rank's.
void set_rank_variables(int rank, std::map<std::string, std::string>* env);

// Whether every node of the job runs its script (submitted with every_node: berth run), from
// its launch description; false for one that cannot be read.
bool runs_on_every_node(const core::Job& job);

// Without agents berthd's own executor runs each job as one process on its machine, so a job
// whose script runs on every one of several nodes (berth run -N 2) is refused at submit, saying
// why, rather than run on one of them. Ok for any other job.
Status check_runs_without_agents(int nodes, const nlohmann::json& description);

// Where a script is kept: scripts/<sha256>.sh for one stored at submit by content, else the
// jobs/<id>.sh of a job submitted by an older berth.
std::string script_file(const std::string& state_dir, const std::string& script_sha256, JobId job);

Result<executor::LaunchSpec> launch_spec(const core::Engine& engine, const core::Job& job,
                                         const LaunchSettings& settings);

// SHA-256 of a script, in hex: its name in the state directory's scripts/ folder.
std::string script_digest(const std::string& script);

// Stores a script under its digest (write to a temporary name, then rename), unless it is
// already there. Runs on an HTTP thread, before the submit reaches the core thread.
Status store_script(const std::string& state_dir, const std::string& script);

}  // namespace berth::server
