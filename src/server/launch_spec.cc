#include "server/launch_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "executor/job_signal.h"
#include "server/auth.h"
#include "server/views.h"

namespace berth::server {

using json = nlohmann::json;

namespace {

bool is_digest(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A string member, or `def` when absent; an error naming the field when it is not a string.
Result<std::string> string_member(const json& l, const char* key, const std::string& def) {
  auto it = l.find(key);
  if (it == l.end() || it->is_null()) return def;
  if (!it->is_string())
    return Status::Invalid(std::string("its launch description's '") + key + "' is not a string");
  return it->get<std::string>();
}

// The warning signal before the time limit ("signal": "B:USR1@60"), when the job asked for one.
Status read_signal(const json& l, executor::LaunchSpec* spec) {
  BERTH_ASSIGN_OR_RETURN(std::string text, string_member(l, "signal", ""));
  if (text.empty()) return Status::Ok();
  Result<executor::JobSignal> signal = executor::parse_job_signal(text);
  if (!signal.ok())
    return Status::Invalid("its launch description's signal: " + signal.status().message());
  spec->warn_signal = signal->number;
  spec->warn_before_ms = signal->before_s * 1000;
  spec->warn_leader_only = signal->batch_only;
  return Status::Ok();
}

// A whole number the job asked for in the description's "resources" (0 when absent).
int64_t resource(const json& l, const char* key) {
  auto r = l.find("resources");
  if (r == l.end() || !r->is_object()) return 0;
  auto v = r->find(key);
  return v != r->end() && v->is_number_integer() ? v->get<int64_t>() : 0;
}

// Slurm's variables that come from the launch description: where it was submitted from, and
// the CPU, memory and task requests (set only when asked for, as Slurm does, but for
// SLURM_NTASKS and SLURM_CPUS_PER_TASK, which default to a task per node and a CPU per task).
void add_slurm_request_variables(const json& l, const core::Job& job, executor::LaunchSpec* spec) {
  auto& env = spec->env;
  if (Result<std::string> dir = string_member(l, "submit_dir", spec->workdir); dir.ok())
    env["SLURM_SUBMIT_DIR"] = *dir;
  const int64_t per_node = resource(l, "ntasks_per_node");
  const int64_t ntasks = resource(l, "ntasks");
  env["SLURM_NTASKS"] =
      std::to_string(ntasks > 0 ? ntasks : job.nodes * std::max<int64_t>(per_node, 1));
  env["SLURM_NPROCS"] = env["SLURM_NTASKS"];
  const int64_t cpus = resource(l, "cpus_per_task");
  env["SLURM_CPUS_PER_TASK"] = std::to_string(std::max<int64_t>(cpus, 1));
  if (per_node > 0) env["SLURM_NTASKS_PER_NODE"] = std::to_string(per_node);
  if (int64_t v = resource(l, "cpus_per_gpu"); v > 0) env["SLURM_CPUS_PER_GPU"] = std::to_string(v);
  if (l.contains("resources") && l["resources"].is_object() && l["resources"].contains("mem_mb"))
    env["SLURM_MEM_PER_NODE"] = std::to_string(resource(l, "mem_mb"));
  if (int64_t v = resource(l, "mem_per_cpu_mb"); v > 0)
    env["SLURM_MEM_PER_CPU"] = std::to_string(v);
  if (int64_t v = resource(l, "mem_per_gpu_mb"); v > 0)
    env["SLURM_MEM_PER_GPU"] = std::to_string(v);
}

// What the job's cgroup allows on its node (0: no limit): its box, decided at submit. A job
// submitted before berth kept boxes has none: its requests in the description are read by the
// same rule, with its partition's defaults as they are now.
void add_box_limits(const core::Engine& engine, const json& l, const core::Job& job,
                    executor::LaunchSpec* spec) {
  core::JobBox box{job.cpus_per_node, job.memory_per_node_mb};
  const core::Partition* part = engine.cluster().partition(job.partition);
  if (box == core::JobBox{} && part != nullptr)
    box = core::job_box(box_request(l), job.nodes, job.gpus_per_node(), part->box_defaults);
  spec->cpus = static_cast<int>(std::clamp<int64_t>(box.cpus, 0, INT32_MAX));
  spec->memory_mb = box.memory_mb;
}

Status read_description(const json& l, const core::Job& job, executor::LaunchSpec* spec,
                        std::string* user, std::string* digest) {
  if (!l.is_object()) return Status::Invalid("its launch description is not a JSON object");
  BERTH_ASSIGN_OR_RETURN(std::string workdir, string_member(l, "workdir", "/"));
  if (workdir.empty() || workdir[0] != '/')
    return Status::Invalid("its workdir '" + workdir + "' is not an absolute path");
  spec->workdir = workdir;
  BERTH_ASSIGN_OR_RETURN(std::string out, string_member(l, "stdout", ""));
  BERTH_ASSIGN_OR_RETURN(std::string err, string_member(l, "stderr", out));
  spec->stdout_path = expand_job_pattern(out, job);
  spec->stderr_path = expand_job_pattern(err, job);
  if (spec->stdout_path.empty()) return Status::Invalid("it has no output path");
  if (auto args = l.find("args"); args != l.end() && !args->is_null()) {
    if (!args->is_array())
      return Status::Invalid("its launch description's 'args' is not an array");
    for (const json& a : *args) {
      if (!a.is_string())
        return Status::Invalid("its launch description's 'args' holds a non-string");
      spec->args.push_back(a.get<std::string>());
    }
  }
  if (auto env = l.find("env"); env != l.end() && !env->is_null()) {
    if (!env->is_object())
      return Status::Invalid("its launch description's 'env' is not an object");
    for (auto it = env->begin(); it != env->end(); ++it) {
      if (!it.value().is_string())
        return Status::Invalid("its environment variable " + it.key() + " is not a string");
      spec->env[it.key()] = it.value().get<std::string>();
    }
  }
  if (auto every = l.find("every_node"); every != l.end() && !every->is_null()) {
    if (!every->is_boolean())
      return Status::Invalid("its launch description's 'every_node' is not true or false");
    spec->every_node = every->get<bool>();
    spec->append_output = spec->every_node;  // every rank writes to the same files
  }
  BERTH_ASSIGN_OR_RETURN(*user, string_member(l, "unix_user", ""));
  BERTH_RETURN_IF_ERROR(read_signal(l, spec));
  BERTH_ASSIGN_OR_RETURN(std::string sha, string_member(l, "script_sha256", ""));
  if (!sha.empty() && !is_digest(sha)) return Status::Invalid("its script digest is malformed");
  *digest = sha;
  return Status::Ok();
}

void add_berth_variables(const core::Engine& engine, const core::Job& job,
                         const LaunchSettings& settings, executor::LaunchSpec* spec) {
  auto& env = spec->env;
  env["BERTH_RUN"] = settings.run_marker;
  env["BERTH_JOB_NAME"] = job.name;
  if (const core::Project* p = engine.funding().project(job.project))
    env["BERTH_PROJECT"] = p->name;
  env["SLURM_JOB_ID"] = std::to_string(job.id.value);
  env["SLURM_JOB_NAME"] = job.name;
  env["SLURM_JOB_PARTITION"] = job.partition;
  if (const core::Project* p = engine.funding().project(job.project))
    env["SLURM_JOB_ACCOUNT"] = p->name;
  env["SLURM_JOB_QOS"] = core::tier_name(job.tier);
  if (job.restarts > 0) env["SLURM_RESTART_COUNT"] = std::to_string(job.restarts);
  // A gang job's script runs on its first node, as sbatch's does; it learns the others here.
  std::string node_list;
  if (const core::Node* n = engine.cluster().node(job.node)) node_list = n->name;
  for (const core::Placement& p : job.more_nodes)
    if (const core::Node* n = engine.cluster().node(p.node)) node_list += "," + n->name;
  for (const char* k : {"BERTH_JOB_NODELIST", "SLURM_JOB_NODELIST"}) env[k] = node_list;
  for (const char* k : {"BERTH_JOB_NUM_NODES", "SLURM_JOB_NUM_NODES", "SLURM_NNODES"})
    env[k] = std::to_string(job.nodes);
  env["SLURM_GPUS_PER_NODE"] = std::to_string(job.gpus_per_node());
  // For torchrun and other launchers: rank 0's node is where the ranks meet.
  const core::Node* first = engine.cluster().node(job.node);
  // Without an agent's address the job runs on berthd's own machine (no agents).
  env["MASTER_ADDR"] = first == nullptr || first->address.empty() ? "127.0.0.1" : first->address;
  env["MASTER_PORT"] = std::to_string(kMasterPortBase + job.id.value % kMasterPortSpan);
  env["WORLD_SIZE"] = std::to_string(job.gpus);
  env["LOCAL_WORLD_SIZE"] = std::to_string(job.gpus_per_node());
  set_rank_variables(0, &env);
  if (job.array_id.valid()) {
    for (const char* k : {"BERTH_ARRAY_JOB_ID", "SLURM_ARRAY_JOB_ID"})
      env[k] = std::to_string(job.array_id.value);
    for (const char* k : {"BERTH_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_ID"})
      env[k] = std::to_string(job.array_index);
  }
}

}  // namespace

core::BoxRequest box_request(const json& description) {
  const json& l = description;
  return core::BoxRequest{.mem_mb = resource(l, "mem_mb"),
                          .mem_per_cpu_mb = resource(l, "mem_per_cpu_mb"),
                          .mem_per_gpu_mb = resource(l, "mem_per_gpu_mb"),
                          .cpus_per_task = resource(l, "cpus_per_task"),
                          .cpus_per_gpu = resource(l, "cpus_per_gpu"),
                          .ntasks = resource(l, "ntasks"),
                          .ntasks_per_node = resource(l, "ntasks_per_node")};
}

void set_rank_variables(int rank, std::map<std::string, std::string>* env) {
  for (const char* k : {"NODE_RANK", "SLURM_NODEID", "SLURM_PROCID", "GROUP_RANK"})
    (*env)[k] = std::to_string(rank);
}

bool runs_on_every_node(const core::Job& job) {
  const json l = json::parse(job.launch, nullptr, false);
  if (!l.is_object()) return false;
  auto every = l.find("every_node");
  return every != l.end() && every->is_boolean() && every->get<bool>();
}

Status check_runs_without_agents(int nodes, const json& description) {
  auto every = description.find("every_node");
  if (nodes <= 1 || every == description.end() || !every->is_boolean() || !every->get<bool>())
    return Status::Ok();
  return Status::Invalid(
      "a command on every node of " + std::to_string(nodes) +
      " nodes (berth run -N) cannot run here: this berthd runs jobs on its own machine, without "
      "node agents ([agents] local = false and no listen), one process a job; use -N 1, or "
      "run berthd with agents");
}

std::string script_file(const std::string& state_dir, const std::string& script_sha256, JobId job) {
  if (!script_sha256.empty()) return state_dir + "/scripts/" + script_sha256 + ".sh";
  return state_dir + "/jobs/" + std::to_string(job.value) + ".sh";
}

Result<executor::LaunchSpec> launch_spec(const core::Engine& engine, const core::Job& job,
                                         const LaunchSettings& settings) {
  executor::LaunchSpec spec;
  spec.job = job.id;
  if (const core::Node* n = engine.cluster().node(job.node)) spec.node = n->name;
  spec.attempt = static_cast<uint32_t>(job.restarts);
  spec.fenceable = job.requeue || job.tier == core::Tier::kSpot;
  const json l = json::parse(job.launch, nullptr, false);
  if (l.is_discarded()) return Status::Invalid("its launch description is not valid JSON");
  std::string unix_user;
  std::string digest;
  try {
    BERTH_RETURN_IF_ERROR(read_description(l, job, &spec, &unix_user, &digest));
  } catch (const std::exception& e) {  // nlohmann's; the checks above should leave none
    return Status::Invalid(std::string("its launch description cannot be read: ") + e.what());
  }
  spec.script_path = script_file(settings.state_dir, digest, job.id);
  // The job's own variables first; berth's replace any of the same name.
  add_slurm_request_variables(l, job, &spec);
  add_box_limits(engine, l, job, &spec);
  add_berth_variables(engine, job, settings, &spec);
  spec.gpus = job.gpu_ids;
  for (const core::Placement& p : job.more_nodes)
    if (const core::Node* n = engine.cluster().node(p.node))
      spec.more_ranks.push_back({n->name, p.gpu_ids});
  if (settings.daemon_is_root) spec.user = unix_user.empty() ? settings.job_user : unix_user;
  spec.allow_root = settings.allow_root;
  spec.time_limit_ms = job.time_limit_s * 1000;
  spec.grace_ms = settings.grace_ms;
  return spec;
}

std::string script_digest(const std::string& script) { return token_hash(script); }

Status store_script(const std::string& state_dir, const std::string& script) {
  const std::string path = script_file(state_dir, script_digest(script), JobId());
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();
  const std::string temp = path + "." + new_token().substr(0, 16) + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Status::Internal("cannot store the job's script: " + std::string(std::strerror(errno)));
  size_t done = 0;
  while (done < script.size()) {
    const ssize_t n = ::write(fd, script.data() + done, script.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  const bool written = done == script.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Status::Internal("cannot store the job's script: " + std::string(std::strerror(err)));
  }
  return Status::Ok();
}

}  // namespace berth::server
