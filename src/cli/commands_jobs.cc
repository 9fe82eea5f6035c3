// submit, quote, queue, show, cancel, hold, release.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/export_env.h"
#include "cli/job_flags.h"
#include "cli/job_views.h"
#include "cli/job_wait.h"
#include "cli/request.h"
#include "cli/table.h"
#include "cli/views.h"
#include "common/step_wire.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct SubmitFlags {
  JobFlags job;
  std::string script_path;
  std::vector<std::string> args;
  std::optional<std::string> wrap;
  bool parsable = false;
  bool wait = false;
};

struct QueueFlags {
  std::string state, project, user;
  bool all = false;
};

std::string basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_digits(const std::string& text, size_t max_digits) {
  return !text.empty() && text.size() <= max_digits &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// "3 tasks", "1 task".
std::string tasks(size_t n) { return std::to_string(n) + (n == 1 ? " task" : " tasks"); }

// What cancel, hold or release did to a whole array (the reply's `array_tasks`).
std::string array_outcome(const json& reply, const std::string& id, const std::string& action) {
  const json& acted = items(reply, "array_tasks");
  if (action != "cancel")
    return (action == "hold" ? "Held job array " : "Released job array ") + id + " (" +
           tasks(acted.size()) + ")";
  const size_t stopping = static_cast<size_t>(std::count_if(
      acted.begin(), acted.end(), [](const json& t) { return cell(t, "state") != "CANCELLED"; }));
  return "Cancelled job array " + id + " (" + tasks(acted.size()) +
         (stopping ? "; " + tasks(stopping) + " running, being stopped" : "") + ")";
}

// A batch script and the name sbatch would give its job when none is set.
struct Script {
  std::string text;
  std::string default_name;
};

Result<Script> load_script(Context& ctx, const SubmitFlags& f) {
  if (f.wrap) {
    if (!f.script_path.empty())
      return Status::Invalid("script arguments are not allowed with --wrap");
    return Script{wrap_command(*f.wrap), "wrap"};
  }
  if (!f.script_path.empty()) {
    Result<std::string> text = ctx.io().read_file(f.script_path);
    if (!text.ok())
      return Status::Invalid("cannot read batch script '" + f.script_path +
                             "': " + text.status().message());
    return Script{std::move(*text), basename(f.script_path)};
  }
  std::optional<std::string> piped = ctx.io().read_stdin();
  if (!piped)
    return Status::Invalid(
        "no batch script: name a file, pipe one to standard input, or use --wrap");
  return Script{std::move(*piped), "sbatch"};
}

// Options from the script's #SBATCH lines overlaid with the flags; warnings go to stderr.
Result<JobOptions> merged_options(Context& ctx, const JobFlags& flags, const std::string& script,
                                  JobOptions defaults) {
  std::vector<std::string> flag_warnings;
  BERTH_ASSIGN_OR_RETURN(JobOptions from_flags, to_options(flags, &flag_warnings));
  Result<SbatchScript> parsed = parse_sbatch(script);
  if (!parsed.ok()) return Status::Invalid("batch script: " + parsed.status().message());
  for (const std::string& warning : parsed->warnings)
    ctx.err() << "berth: warning: " << warning << "\n";
  for (const std::string& warning : flag_warnings)
    ctx.err() << "berth: warning: " << warning << "\n";
  return overlay(overlay(std::move(defaults), parsed->options), from_flags);
}

// CLI11 hands on everything after the script, so a "--" that separates the script from its
// arguments arrives as the first argument; it is berth's separator, not the script's.
std::vector<std::string> script_args(std::vector<std::string> args) {
  if (!args.empty() && args.front() == "--") args.erase(args.begin());
  return args;
}

// The submitter's variables the job receives (--export; Slurm's default is ALL), less the deny
// list of cli.toml's `export_deny`.
Result<std::map<std::string, std::string>> job_environment(
    Context& ctx, const std::optional<std::string>& request) {
  BERTH_ASSIGN_OR_RETURN(auto config, load_cli_config(ctx.io().getenv, ctx.io().read_file));
  std::optional<std::string> deny;
  if (auto it = config.find("export_deny"); it != config.end()) deny = it->second;
  const std::map<std::string, std::string> environment =
      ctx.io().environment ? ctx.io().environment() : std::map<std::string, std::string>();
  Result<std::map<std::string, std::string>> env =
      exported_environment(request, environment, export_deny_patterns(deny));
  if (!env.ok()) return Status::Invalid("--export: " + env.status().message());
  return env;
}

Status run_submit(Context& ctx, const SubmitFlags& f) {
  BERTH_ASSIGN_OR_RETURN(Script script, load_script(ctx, f));
  JobOptions defaults;
  defaults.name = script.default_name;
  BERTH_ASSIGN_OR_RETURN(JobOptions options,
                         merged_options(ctx, f.job, script.text, std::move(defaults)));
  BERTH_ASSIGN_OR_RETURN(auto env, job_environment(ctx, options.export_env));
  BERTH_ASSIGN_OR_RETURN(json body, build_submit_request(options, script.text, script_args(f.args),
                                                         ctx.io().cwd(), env));
  BERTH_ASSIGN_OR_RETURN(json job, ctx.post_idempotent("/v1/jobs", body));
  if (f.parsable && !ctx.json_output) {
    ctx.out() << cell(job, "id") << "\n";
  } else {
    std::string text = "Submitted batch job " + cell(job, "id");
    if (job.is_object() && job.contains("array_task_ids") && job["array_task_ids"].is_array())
      text += " (job array, " + std::to_string(job["array_task_ids"].size()) + " tasks)";
    ctx.print(job, text + "\n");
  }
  return f.wait ? wait_for_jobs(ctx, job) : Status::Ok();
}

// `berth run` outside a job, as srun outside an allocation: the command runs on every node of
// a new job (every rank, as srun's tasks), berth waits for it, prints its output file and
// exits with its exit status.
struct RunFlags {
  JobFlags job;
  std::vector<std::string> command;
};

// `sh -c 'exec "$@"' cmd args...`: the command and its arguments exactly as given.
constexpr const char* kRunScript = "#!/bin/sh\nexec \"$@\"\n";

bool any_job_flag(const JobFlags& f) {
  for (const auto* o : {&f.gpus, &f.gres, &f.gpus_per_node, &f.time, &f.name, &f.account,
                        &f.partition, &f.output, &f.error, &f.gpu_model, &f.tier, &f.nodes})
    if (o->has_value()) return true;
  return f.requeue || f.no_requeue || !f.slurm.empty();
}

// `berth run` within a job, as srun within an allocation: a step of the job on every node of
// it, asked of this node's agent (common/step_wire.h); its output goes to the job's output
// files, beside the script's. Exits with the worst rank's status (128 + a signal's number).
Status run_step(Context& ctx, const std::string& socket, const std::string& job_id,
                const RunFlags& f, std::vector<std::string> command) {
  if (any_job_flag(f.job))
    return Status::Invalid("within job " + job_id +
                           ", berth run runs its command on every node of the job and takes no "
                           "job flags; to submit a new job, unset BERTH_STEP_SOCKET");
  StepCall call;
  call.job = std::strtoull(job_id.c_str(), nullptr, 10);
  call.argv = std::move(command);
  call.workdir = ctx.io().cwd();
  BERTH_ASSIGN_OR_RETURN(int fd, connect_step_socket(socket));
  Status sent = write_step_line(fd, encode_step_call(call));
  Result<std::string> line = sent.ok() ? read_step_line(fd) : Result<std::string>(sent);
  ::close(fd);
  if (!line.ok()) return Status(line.status().code(), "berth run: " + line.status().message());
  BERTH_ASSIGN_OR_RETURN(StepResult result, decode_step_result(*line));
  if (!result.error.empty())
    return Status(Code::kUnavailable,
                  "step " + (result.step > 0 ? std::to_string(result.step) + " " : std::string()) +
                      "of job " + job_id + ": " + result.error);
  if (result.signal != 0) {
    ctx.err() << "berth: step " << result.step << " of job " << job_id << " ended by signal "
              << result.signal << "\n";
    ctx.exit_status = std::max(ctx.exit_status, 128 + result.signal);
  } else if (result.exit_code != 0) {
    ctx.err() << "berth: step " << result.step << " of job " << job_id << " exited "
              << result.exit_code << "\n";
    ctx.exit_status = std::max(ctx.exit_status, std::clamp(result.exit_code, 1, 255));
  }
  return Status::Ok();
}

Status run_command(Context& ctx, const RunFlags& f) {
  std::vector<std::string> command = script_args(f.command);
  if (command.empty()) return Status::Invalid("no command to run: berth run [flags] -- COMMAND");
  const std::string socket = ctx.io().getenv("BERTH_STEP_SOCKET").value_or("");
  const std::string job_id = ctx.io().getenv("BERTH_JOB_ID").value_or("");
  if (!socket.empty() && !job_id.empty()) return run_step(ctx, socket, job_id, f, command);
  JobOptions defaults;
  defaults.name = basename(command.front());
  BERTH_ASSIGN_OR_RETURN(JobOptions options,
                         merged_options(ctx, f.job, kRunScript, std::move(defaults)));
  BERTH_ASSIGN_OR_RETURN(auto env, job_environment(ctx, options.export_env));
  BERTH_ASSIGN_OR_RETURN(json body,
                         build_submit_request(options, kRunScript, command, ctx.io().cwd(), env));
  body["every_node"] = true;
  BERTH_ASSIGN_OR_RETURN(json job, ctx.post_idempotent("/v1/jobs", body));
  const std::string id = cell(job, "id");
  ctx.err() << "berth: job " << id << " runs " << command.front() << " on every node\n";
  BERTH_RETURN_IF_ERROR(wait_for_jobs(ctx, job));
  BERTH_ASSIGN_OR_RETURN(json ended, ctx.get("/v1/jobs/" + id));
  const std::string output = cell(ended, "stdout");
  Result<std::string> text = ctx.io().read_file(output);
  if (!text.ok())
    ctx.err() << "berth: job " << id << "'s output " << output
              << " cannot be read here: " << text.status().message() << "\n";
  else
    ctx.out() << *text;
  return Status::Ok();
}

void add_run(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<RunFlags>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "run a command on every node of a new job and print its output, or within a job's script "
      "on every node of that job (as srun does)");
  add_job_flags(sub, f.job);
  sub->add_option("command", f.command, "the command and its arguments (after --)")->required();
  sub->positionals_at_end();
  on_run(sub, ctx, [&ctx, &f] { return run_command(ctx, f); });
}

Status run_quote(Context& ctx, const JobFlags& flags, const std::string& script_path) {
  std::string script;
  if (!script_path.empty()) {
    Result<std::string> text = ctx.io().read_file(script_path);
    if (!text.ok())
      return Status::Invalid("cannot read batch script '" + script_path +
                             "': " + text.status().message());
    script = std::move(*text);
  }
  BERTH_ASSIGN_OR_RETURN(JobOptions options, merged_options(ctx, flags, script, JobOptions{}));
  BERTH_ASSIGN_OR_RETURN(json body, build_quote_request(options));
  BERTH_ASSIGN_OR_RETURN(json quote, ctx.post("/v1/quote", body));
  ctx.print(quote, render_quote(quote, ctx.currency()));
  return Status::Ok();
}

std::string state_filter(const QueueFlags& f) {
  if (f.all) return "";
  if (f.state.empty()) return "PENDING,RUNNING";
  return state_names(f.state);
}

Status run_queue(Context& ctx, const QueueFlags& f) {
  const std::string path = "/v1/jobs" + query_string({{"state", state_filter(f)},
                                                      {"project", f.project},
                                                      {"user", f.user},
                                                      {"limit", "1000"}});
  BERTH_ASSIGN_OR_RETURN(json reply, get_every_page(ctx, path, "jobs"));
  ctx.print(reply, render_jobs(items(reply, "jobs"), ctx.io().now_ms()));
  return Status::Ok();
}

Status run_show(Context& ctx, const std::string& id) {
  BERTH_RETURN_IF_ERROR(check_job_id(id));
  BERTH_ASSIGN_OR_RETURN(json job, ctx.get("/v1/jobs/" + id));
  ctx.print(job, render_job_scontrol(job, ctx.io().now_ms()));
  return Status::Ok();
}

std::string job_outcome(const json& reply, const std::string& id, const std::string& action) {
  if (reply.is_object() && reply.contains("array_tasks")) return array_outcome(reply, id, action);
  if (action == "hold") return "Held job " + id;
  if (action == "release") return "Released job " + id;
  const std::string state = cell(reply, "state");
  return state == "CANCELLED" ? "Cancelled job " + id : "Cancelling job " + id + " (" + state + ")";
}

// Cancels, holds or releases each job in turn (`action` as in the API's path); one failure does
// not stop the others. An array's id acts on all its tasks, ARRAYID_INDEX on one.
Status run_job_action(Context& ctx, const std::vector<std::string>& ids,
                      const std::string& action) {
  for (const std::string& id : ids) BERTH_RETURN_IF_ERROR(check_job_id(id));
  json replies = json::array();
  bool failed = false;
  for (const std::string& id : ids) {
    Result<json> job = ctx.post("/v1/jobs/" + id + "/" + action, json::object());
    if (!job.ok()) {
      ctx.err() << "berth: error: job " << id << ": " << job.status().message() << "\n";
      failed = true;
      continue;
    }
    replies.push_back(*job);
    if (!ctx.json_output) ctx.out() << job_outcome(*job, id, action) << "\n";
  }
  if (ctx.json_output) ctx.print(json{{"jobs", replies}}, "");
  return failed ? Status::Invalid("") : Status::Ok();
}

constexpr const char* kJobIdsHelp =
    "job ids: an array's id acts on all its tasks, ARRAYID_INDEX (12_3) on one";

void add_submit(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<SubmitFlags>();
  CLI::App* sub = app.add_subcommand(
      "submit", "submit a batch script (reads its #SBATCH lines, as sbatch does)");
  add_job_flags(sub, f.job);
  add_submit_flags(sub, f.job);
  sub->add_option("--wrap", f.wrap, "submit this shell command instead of a script");
  sub->add_flag("--parsable", f.parsable, "print only the job id");
  sub->add_flag("-W,--wait", f.wait,
                "return when the job (every task of an array) has ended, with its exit code");
  sub->add_option("script", f.script_path, "batch script (default: standard input)");
  sub->add_option("args", f.args, "arguments passed to the script");
  sub->positionals_at_end();
  on_run(sub, ctx, [&ctx, &f] { return run_submit(ctx, f); });
}

void add_quote(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<SubmitFlags>();
  CLI::App* sub = app.add_subcommand("quote", "price a job without submitting it");
  add_job_flags(sub, f.job);
  sub->add_option("script", f.script_path, "batch script whose #SBATCH lines to read");
  on_run(sub, ctx, [&ctx, &f] { return run_quote(ctx, f.job, f.script_path); });
}

void add_queue(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<QueueFlags>();
  CLI::App* sub = app.add_subcommand("queue", "list jobs (default: pending and running)");
  CLI::Option* state =
      sub->add_option("-t,--state", f.state, "states, comma-separated (PD, R, COMPLETED, ...)");
  sub->add_option("--project,-A", f.project, "only this project");
  sub->add_option("-u,--user", f.user, "only this user");
  sub->add_flag("-a,--all", f.all, "jobs in every state")->excludes(state);
  on_run(sub, ctx, [&ctx, &f] { return run_queue(ctx, f); });
}

void add_show(CLI::App& app, Context& ctx) {
  auto& id = ctx.make<std::string>();
  CLI::App* sub = app.add_subcommand(
      "show", "show one job as scontrol show job does (--json: the server's object)");
  sub->add_option("id", id, "job id, or ARRAYID_INDEX for a task of a job array")->required();
  on_run(sub, ctx, [&ctx, &id] { return run_show(ctx, id); });
}

void add_cancel(CLI::App& app, Context& ctx) {
  auto& ids = ctx.make<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand("cancel", "cancel jobs (an array's id: all its tasks)");
  sub->add_option("ids", ids, kJobIdsHelp)->required();
  on_run(sub, ctx, [&ctx, &ids] { return run_job_action(ctx, ids, "cancel"); });
}

void add_hold_release(CLI::App& app, Context& ctx, bool hold) {
  auto& ids = ctx.make<std::vector<std::string>>();
  CLI::App* sub =
      hold ? app.add_subcommand("hold", "hold pending jobs: they are not started until released")
           : app.add_subcommand("release", "release held jobs");
  sub->add_option("ids", ids, kJobIdsHelp)->required();
  on_run(sub, ctx,
         [&ctx, &ids, hold] { return run_job_action(ctx, ids, hold ? "hold" : "release"); });
}

}  // namespace

std::string state_names(const std::string& codes) {
  std::string out;
  size_t start = 0;
  while (start <= codes.size()) {
    const size_t comma = codes.find(',', start);
    const std::string part =
        codes.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out += (out.empty() ? "" : ",") + state_name(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Status check_job_id(const std::string& id) {
  const size_t underscore = id.find('_');
  if (underscore == std::string::npos
          ? is_digits(id, 18)
          : is_digits(id.substr(0, underscore), 18) && is_digits(id.substr(underscore + 1), 9))
    return Status::Ok();
  return Status::Invalid("job id '" + id +
                         "' is neither a number nor ARRAYID_INDEX (such as 12_3)");
}

void add_job_commands(CLI::App& app, Context& ctx) {
  add_submit(app, ctx);
  add_run(app, ctx);
  add_quote(app, ctx);
  add_queue(app, ctx);
  add_show(app, ctx);
  add_cancel(app, ctx);
  add_hold_release(app, ctx, /*hold=*/true);
  add_hold_release(app, ctx, /*hold=*/false);
}

}  // namespace berth::cli
