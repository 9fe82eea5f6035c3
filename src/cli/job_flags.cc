#include "cli/job_flags.h"

#include "cli/request.h"

namespace berth::cli {
namespace {

Status flag_error(const char* flag, const Status& status) {
  return Status::Invalid(std::string(flag) + ": " + status.message());
}

Status apply_gpus(const JobFlags& flags, JobOptions* options) {
  if ((flags.gpus ? 1 : 0) + (flags.gres ? 1 : 0) + (flags.gpus_per_node ? 1 : 0) > 1)
    return Status::Invalid("give one of --gpus, --gres and --gpus-per-node");
  Result<GpuRequest> request = GpuRequest{};
  bool per_node = true;  // --gres and --gpus-per-node count per node; --gpus in all
  if (flags.gpus) {
    request = parse_gpus(*flags.gpus);
    per_node = false;
    if (!request.ok()) return flag_error("--gpus", request.status());
  } else if (flags.gres) {
    request = parse_gres(*flags.gres);
    if (!request.ok()) return flag_error("--gres", request.status());
  } else if (flags.gpus_per_node) {
    request = parse_gpus(*flags.gpus_per_node);
    if (!request.ok()) return flag_error("--gpus-per-node", request.status());
  } else {
    return Status::Ok();
  }
  options->gpus = request->count;
  options->gpus_per_node = per_node;
  if (request->model) options->gpu_model = request->model;
  return Status::Ok();
}

Status require_value(const char* flag, const std::optional<std::string>& value,
                     std::optional<std::string>* field) {
  if (!value) return Status::Ok();
  if (value->empty()) return Status::Invalid(std::string(flag) + " needs a value");
  *field = *value;
  return Status::Ok();
}

// The Slurm options berth takes as a script takes them: recorded (memory, CPUs, tasks,
// --chdir, --signal, --export), ignored with a warning, or refused with the reason.
void add_slurm_flags(CLI::App* sub, JobFlags& f) {
  for (const SlurmOption& option : slurm_passthrough_options()) {
    std::string names = "--" + std::string(option.long_name);
    if (option.short_name != '\0') names = "-" + std::string(1, option.short_name) + "," + names;
    const std::string long_name(option.long_name);
    const std::string& help = option.help;
    if (option.takes_value) {
      sub->add_option_function<std::string>(
          names,
          [&f, long_name](const std::string& value) { f.slurm.emplace_back(long_name, value); },
          help);
    } else {
      sub->add_flag_function(
          names, [&f, long_name](int64_t) { f.slurm.emplace_back(long_name, ""); }, help);
    }
  }
}

}  // namespace

void add_job_flags(CLI::App* sub, JobFlags& f) {
  sub->add_option("-G,--gpus", f.gpus, "GPUs for the job in all: N or MODEL:N");
  sub->add_option("--gres", f.gres, "Slurm-style GPU request per node: gpu:N or gpu:MODEL:N");
  sub->add_option("--gpus-per-node", f.gpus_per_node, "GPUs on each node: N or MODEL:N");
  sub->add_option("-t,--time", f.time,
                  "time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS");
  sub->add_option("-J,--job-name", f.name, "job name");
  sub->add_option("-A,--account", f.account, "project to charge (name or id)");
  sub->add_option("-p,--partition", f.partition, "partition");
  sub->add_option("-o,--output", f.output, "stdout file (%j = job id, %x = job name)");
  sub->add_option("-e,--error", f.error, "stderr file (default: with stdout)");
  sub->add_option("-C,--gpu-model,--constraint", f.gpu_model, "GPU model, e.g. H100");
  sub->add_option("--tier,--qos", f.tier, "tier: normal, high or spot (Slurm's --qos names one)");
  sub->add_option("-N,--nodes", f.nodes, "nodes: a multi-node job starts on all of them at once");
  sub->add_flag("--requeue", f.requeue, "requeue the job if it is preempted or its node fails");
  sub->add_flag("--no-requeue", f.no_requeue, "never requeue the job");
  add_slurm_flags(sub, f);
}

void add_submit_flags(CLI::App* sub, JobFlags& f) {
  sub->add_flag("-H,--hold", f.hold, "submit the job held: it waits until 'berth release ID'");
  sub->add_option(
      "-d,--dependency", f.dependency,
      "run after other jobs: afterok:ID[:ID...], afterany:ID, afternotok:ID, comma-separated");
  sub->add_option("-a,--array", f.array,
                  "submit a job array: indexes 0-15, 1,3,5 or 0-99:10, %N runs at most N at once");
}

Result<JobOptions> to_options(const JobFlags& f, std::vector<std::string>* warnings) {
  JobOptions options;
  for (const auto& [name, value] : f.slurm)
    BERTH_RETURN_IF_ERROR(apply_slurm_option(name, value, &options, warnings));
  BERTH_RETURN_IF_ERROR(apply_gpus(f, &options));
  if (f.time) {
    Result<int64_t> seconds = parse_time_limit_s(*f.time);
    if (!seconds.ok()) return flag_error("--time", seconds.status());
    options.time_limit_s = *seconds;
  }
  if (f.gpu_model) {
    Result<std::string> model = parse_gpu_model(*f.gpu_model);
    if (!model.ok()) return flag_error("--gpu-model", model.status());
    options.gpu_model = *model;
  }
  if (f.nodes) {
    Result<int64_t> nodes = parse_node_count(*f.nodes);
    if (!nodes.ok()) return flag_error("--nodes", nodes.status());
    options.nodes = *nodes;
  }
  if (f.tier) {
    BERTH_RETURN_IF_ERROR(check_tier(*f.tier));
    options.tier = *f.tier;
  }
  BERTH_RETURN_IF_ERROR(require_value("--job-name", f.name, &options.name));
  BERTH_RETURN_IF_ERROR(require_value("--account", f.account, &options.project));
  BERTH_RETURN_IF_ERROR(require_value("--partition", f.partition, &options.partition));
  BERTH_RETURN_IF_ERROR(require_value("--output", f.output, &options.output));
  BERTH_RETURN_IF_ERROR(require_value("--error", f.error, &options.error));
  if (f.requeue && f.no_requeue) return Status::Invalid("give --requeue or --no-requeue, not both");
  if (f.requeue) options.requeue = true;
  if (f.no_requeue) options.requeue = false;
  if (f.hold) options.hold = true;
  if (f.dependency) {
    Result<std::string> dependency = parse_dependency(*f.dependency);
    if (!dependency.ok()) return flag_error("--dependency", dependency.status());
    options.dependency = *dependency;
  }
  if (f.array) {
    Result<std::string> array = parse_array(*f.array);
    if (!array.ok()) return flag_error("--array", array.status());
    options.array = *array;
  }
  return options;
}

}  // namespace berth::cli
