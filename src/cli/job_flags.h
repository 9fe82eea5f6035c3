// The job flags shared by `berth submit` and `berth quote`, and how they become JobOptions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/sbatch.h"
#include "common/status.h"

namespace berth::cli {

// Flag values exactly as typed; validated by to_options() so that errors read the same as for
// #SBATCH lines.
struct JobFlags {
  std::optional<std::string> gpus, gres, gpus_per_node, time, name, account, partition, output,
      error, gpu_model, tier, nodes;
  bool requeue = false;
  bool no_requeue = false;
  // Only on `berth submit` (see add_submit_flags).
  std::optional<std::string> dependency, array;
  bool hold = false;
  // Slurm options taken as a script takes them (slurm_passthrough_options): (long name, value)
  // in the order given.
  std::vector<std::pair<std::string, std::string>> slurm;
};

// Registers the flags on `sub`.
void add_job_flags(CLI::App* sub, JobFlags& flags);

// Registers the flags that only make sense when submitting: --hold/-H, --dependency/-d,
// --array/-a.
void add_submit_flags(CLI::App* sub, JobFlags& flags);

// Validates the flags and returns the options they set (unset flags stay unset).
// --gpus and --gres both set the GPU count; giving both is an error. Ignored Slurm options add
// a warning to `warnings`; refused ones are errors.
Result<JobOptions> to_options(const JobFlags& flags, std::vector<std::string>* warnings);

}  // namespace berth::cli
