// Job options as Slurm users write them: in a batch script's `#SBATCH` lines or as flags.
//
// parse_sbatch() reads the leading comment block of a script exactly as sbatch does: lines that
// begin with "#SBATCH" in column one carry options; other comments and blank lines are skipped;
// the first other line ends the block. Options take the forms "--opt=value", "--opt value",
// "-o value" and "-ovalue"; a long option may be shortened to any unambiguous prefix, as getopt
// allows. Values may be double-quoted; an unquoted '#' starts a trailing comment.
//
// Only options berth understands are accepted. Slurm options that do not change what berth
// runs or charges (mail, task and memory hints) are ignored with a warning; any other option is
// an error naming its line. All functions here are pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::cli {

// What a job asks for. Every field is optional so that layers (defaults, script, flags) can be
// overlaid field by field; the server applies its own defaults to what is still missing.
struct JobOptions {
  std::optional<int64_t> gpus;          // --gpus / -G (in all), --gres=gpu:N / --gpus-per-node (per node)
  std::optional<bool> gpus_per_node;    // set with gpus: true when that count is per node
  std::optional<std::string> gpu_model; // --gres=gpu:MODEL:N, --gpus=MODEL:N, --constraint
  std::optional<int64_t> time_limit_s;  // --time / -t
  std::optional<std::string> name;      // --job-name / -J
  std::optional<std::string> project;   // --account / -A
  std::optional<std::string> partition; // --partition / -p
  std::optional<std::string> output;    // --output / -o
  std::optional<std::string> error;     // --error / -e
  std::optional<int64_t> nodes;         // --nodes / -N: a gang job on that many nodes at once
  std::optional<bool> requeue;          // --requeue / --no-requeue
  std::optional<std::string> tier;      // berth's own --tier flag; never read from a script
  std::optional<bool> hold;             // --hold / -H: submitted held, runs once released
  std::optional<std::string> dependency;  // --dependency / -d: "afterok:12:13,afterany:14"
  std::optional<std::string> array;     // --array / -a: "0-9%2", "1,3,5", "0-99:10"
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

// A GPU count with an optional model.
struct GpuRequest {
  int64_t count = 0;
  std::optional<std::string> model;
};

// Value parsers shared by the script reader and the command-line flags.
Result<GpuRequest> parse_gres(std::string_view value);       // "gpu", "gpu:2", "gpu:H100:2"
Result<GpuRequest> parse_gpus(std::string_view value);       // "2", "H100:2"
Result<int64_t> parse_gpu_count(std::string_view value);     // a whole number >= 1
Result<std::string> parse_gpu_model(std::string_view value); // "H100", "a100-80gb"; not "a|b"
Result<int64_t> parse_time_limit_s(std::string_view value);  // a Slurm duration above zero
Result<int64_t> parse_node_count(std::string_view value);    // a whole number >= 1

// A --dependency value: comma-separated TYPE:ID[:ID...] with TYPE afterok, afterany or
// afternotok ("afterok:12:13,afterany:14"). Returns it unchanged; the server resolves the ids.
Result<std::string> parse_dependency(std::string_view value);

// An --array value as Slurm writes it: comma-separated indexes and ranges N, N-M or N-M:STEP,
// then an optional %MAX throttle ("0-15", "1,3,5", "0-99:10", "0-9%2"). At most kMaxArrayTasks
// distinct indexes, each 0..kMaxArrayIndex (the server's limits). Returns it unchanged; the
// server expands it.
inline constexpr int64_t kMaxArrayTasks = 10'000;
inline constexpr int64_t kMaxArrayIndex = 1'000'000;
Result<std::string> parse_array(std::string_view value);

}  // namespace berth::cli
