// Job options as Slurm users write them: in a batch script's `#SBATCH` lines or as flags.
//
// parse_sbatch() reads the leading comment block of a script exactly as sbatch does: lines that
// begin with "#SBATCH" in column one carry options; other comments and blank lines are skipped;
// the first other line ends the block. Options take the forms "--opt=value", "--opt value",
// "-o value" and "-ovalue"; a long option may be shortened to any unambiguous prefix, as getopt
// allows. Values may be double-quoted; an unquoted '#' starts a trailing comment.
//
// Only options berth understands are accepted. Slurm options that do not change what berth
// runs or charges (mail, comments) are ignored with a warning; CPU, memory and task requests
// (--mem, -c, --cpus-per-gpu, -n, ...) are recorded with the job for the node agents to
// enforce; Slurm options berth does not do (--nodelist, --exclude, --begin, ...) are refused
// with the reason; any other option is an error naming its line. The same table serves the
// command line (slurm_passthrough_options, apply_slurm_option). All functions here are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "core/model.h"

namespace berth::cli {

// What a job asks for. Every field is optional so that layers (defaults, script, flags) can be
// overlaid field by field; the server applies its own defaults to what is still missing.
// CPUs, memory and tasks as Slurm asks for them. berth schedules GPUs only: these are kept in
// the job's launch description (and its SLURM_* variables) for the node agents to enforce.
struct JobResources {
  std::optional<int64_t> mem_mb;           // --mem (per node; 0: all of it)
  std::optional<int64_t> mem_per_cpu_mb;   // --mem-per-cpu
  std::optional<int64_t> mem_per_gpu_mb;   // --mem-per-gpu
  std::optional<int64_t> cpus_per_task;    // --cpus-per-task / -c
  std::optional<int64_t> cpus_per_gpu;     // --cpus-per-gpu
  std::optional<int64_t> ntasks;           // --ntasks / -n
  std::optional<int64_t> ntasks_per_node;  // --ntasks-per-node
};

struct JobOptions {
  std::optional<int64_t> gpus;  // --gpus / -G (in all), --gres=gpu:N / --gpus-per-node (per node)
  std::optional<bool> gpus_per_node;      // set with gpus: true when that count is per node
  std::optional<std::string> gpu_model;   // --gres=gpu:MODEL:N, --gpus=MODEL:N, --constraint
  std::optional<int64_t> time_limit_s;    // --time / -t
  std::optional<std::string> name;        // --job-name / -J
  std::optional<std::string> project;     // --account / -A
  std::optional<std::string> partition;   // --partition / -p
  std::optional<std::string> output;      // --output / -o
  std::optional<std::string> error;       // --error / -e
  std::optional<int64_t> nodes;           // --nodes / -N: a gang job on that many nodes at once
  std::optional<bool> requeue;            // --requeue / --no-requeue
  std::optional<std::string> tier;        // --tier, or Slurm's --qos (a tier name)
  std::optional<bool> hold;               // --hold / -H: submitted held, runs once released
  std::optional<std::string> dependency;  // --dependency / -d: "afterok:12:13,afterany:14"
  std::optional<std::string> array;       // --array / -a: "0-9%2", "1,3,5", "0-99:10"
  std::optional<std::string> workdir;     // --chdir / -D: the job's working directory
  std::optional<std::string> signal;      // --signal: "[B:]SIG[@SECS]" (executor/job_signal.h)
  std::optional<std::string> export_env;  // --export: "ALL", "NONE" or "[ALL,]VAR[=value],..."
  std::optional<std::string> nodelist;    // --nodelist / -w: a host list, "gpu-node-[01-02]"
  std::optional<std::string> exclude;     // --exclude / -x: a host list
  JobResources resources;
};

// Returns `base` with every field that is set in `top` replaced by top's value. Fields are
// independent: a flag "--gpus 4" keeps a model named by the script's "--gres=gpu:H100:2".
JobOptions overlay(JobOptions base, const JobOptions& top);

// The result of reading a script's #SBATCH block.
struct SbatchScript {
  JobOptions options;
  std::vector<std::string> warnings;  // one per ignored option, e.g. "line 4: --mail-type ..."
};

// Parses the #SBATCH block of `script`. Errors name the 1-based line and the option.
Result<SbatchScript> parse_sbatch(std::string_view script);

// The Slurm options of the table that berth's command line takes exactly as a script does
// (CPU, memory and task requests, --qos, --chdir, --signal, --export, the ignored and the
// refused ones); the CLI's own flags cover the rest.
struct SlurmOption {
  std::string_view long_name;
  char short_name;  // '\0' when there is none
  bool takes_value;
  std::string help;  // what berth does with it, for --help
};
std::vector<SlurmOption> slurm_passthrough_options();

// Applies one option, named by its long name, as an #SBATCH line would: an ignored option
// adds a warning, a refused one is an error saying why.
Status apply_slurm_option(std::string_view long_name, std::string_view value, JobOptions* options,
                          std::vector<std::string>* warnings);

// A GPU count with an optional model.
struct GpuRequest {
  int64_t count = 0;
  std::optional<std::string> model;
};

// Value parsers shared by the script reader and the command-line flags.
Result<GpuRequest> parse_gres(std::string_view value);        // "gpu", "gpu:2", "gpu:H100:2"
Result<GpuRequest> parse_gpus(std::string_view value);        // "2", "H100:2"
Result<int64_t> parse_gpu_count(std::string_view value);      // a whole number >= 1
Result<std::string> parse_gpu_model(std::string_view value);  // "H100", "a100-80gb"; not "a|b"
Result<int64_t> parse_time_limit_s(std::string_view value);   // a Slurm duration above zero
Result<int64_t> parse_node_count(std::string_view value);     // a whole number >= 1
// Slurm's memory size: a whole number with an optional K, M (the default), G or T suffix, in
// MiB ("32G" is 32768; "500" is 500). 0 means all of a node's memory, as in Slurm.
Result<int64_t> parse_memory_mb(std::string_view value);

// A --dependency value: comma-separated TYPE:ID[:ID...] with TYPE afterok, afterany or
// afternotok ("afterok:12:13,afterany:14"), read by the core's parser (core/job_text.h), with
// no job id 0. Returns it unchanged; the server resolves the ids.
Result<std::string> parse_dependency(std::string_view value);

// An --array value as Slurm writes it: comma-separated indexes and ranges N, N-M or N-M:STEP,
// then an optional %MAX throttle ("0-15", "1,3,5", "0-99:10", "0-9%2"). At most
// core::kMaxArrayTasks distinct indexes, each 0..core::kMaxArrayIndex: the core's parser and
// limits (core/job_text.h), with the CLI's wording. Returns it unchanged; the server expands it.
Result<std::string> parse_array(std::string_view value);

}  // namespace berth::cli
