// history (sacct) and partitions (sinfo): what Slurm users type to look back and around.
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/job_views.h"
#include "cli/slurm_time.h"
#include "cli/table.h"
#include "cli/views.h"
#include "common/civil.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

using nlohmann::json;

// Without --state or --all, history lists the jobs that have ended, as sacct users look back.
constexpr const char* kEndedStates =
    "COMPLETED,FAILED,CANCELLED,TIMEOUT,PREEMPTED,NODE_FAIL,OUT_OF_MEMORY";

struct HistoryFlags {
  std::string start, end, user, project, state, format = kDefaultHistoryFormat;
  std::vector<std::string> jobs;
  bool all = false, csv = false, allocations = false;
};

// The window [since, until) as the API's query, from -S (today's midnight, UTC, when absent, as
// sacct's default) and -E (none: up to now).
Result<std::vector<std::pair<std::string, std::string>>> window(const HistoryFlags& f,
                                                                int64_t now_ms) {
  int64_t since_ms = start_of_day_ms(now_ms);
  if (!f.start.empty()) {
    Result<int64_t> start = parse_slurm_time_ms(f.start, now_ms);
    if (!start.ok()) return Status::Invalid("-S/--starttime: " + start.status().message());
    since_ms = *start;
  }
  std::vector<std::pair<std::string, std::string>> query = {{"since", format_time_ms(since_ms)}};
  if (!f.end.empty()) {
    Result<int64_t> end = parse_slurm_time_ms(f.end, now_ms);
    if (!end.ok()) return Status::Invalid("-E/--endtime: " + end.status().message());
    if (*end < since_ms)
      return Status::Invalid("-E/--endtime " + format_time_ms(*end) + " is before -S/--starttime " +
                             format_time_ms(since_ms));
    query.emplace_back("until", format_time_ms(*end));
  }
  return query;
}

// The jobs of the window and filters, every page.
Result<json> jobs_in_window(Context& ctx, const HistoryFlags& f, int64_t now_ms) {
  BERTH_ASSIGN_OR_RETURN(auto query, window(f, now_ms));
  query.emplace_back("state", f.all ? "" : f.state.empty() ? kEndedStates : state_names(f.state));
  query.emplace_back("project", f.project);
  query.emplace_back("user", f.user);
  query.emplace_back("limit", "1000");
  return get_every_page(ctx, "/v1/jobs" + query_string(query), "jobs");
}

// The jobs -j names, in its order, whatever their state or time: an array's own id stands for
// all its tasks, as it does for sacct's -j.
Result<json> named_jobs(Context& ctx, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) BERTH_RETURN_IF_ERROR(check_job_id(id));
  json all = json::array();
  for (const std::string& id : ids) {
    Result<json> job = ctx.get("/v1/jobs/" + id);
    if (!job.ok()) return Status(job.status().code(), "job " + id + ": " + job.status().message());
    const bool array = id.find('_') == std::string::npos &&
                       int_field(*job, "array_id", 0) == int_field(*job, "id", -1);
    if (!array) {
      all.push_back(*job);
      continue;
    }
    BERTH_ASSIGN_OR_RETURN(
        json tasks,
        get_every_page(ctx, "/v1/jobs" + query_string({{"array", id}, {"limit", "1000"}}), "jobs"));
    for (const json& task : items(tasks, "jobs")) all.push_back(task);
  }
  return json{{"jobs", all}};
}

Status run_history(Context& ctx, const HistoryFlags& f) {
  BERTH_ASSIGN_OR_RETURN(std::vector<const HistoryColumn*> columns, history_columns(f.format));
  const int64_t now_ms = ctx.io().now_ms();
  BERTH_ASSIGN_OR_RETURN(json reply,
                         f.jobs.empty() ? jobs_in_window(ctx, f, now_ms) : named_jobs(ctx, f.jobs));
  const json& jobs = items(reply, "jobs");
  if (f.csv) {
    ctx.out() << history_csv(jobs, columns, now_ms);
  } else {
    ctx.print(reply, render_history(jobs, columns, now_ms, ctx.currency()));
  }
  return Status::Ok();
}

Status run_partitions(Context& ctx) {
  BERTH_ASSIGN_OR_RETURN(json partitions, ctx.get("/v1/partitions"));
  BERTH_ASSIGN_OR_RETURN(json nodes, ctx.get("/v1/nodes"));
  const json reply = {{"partitions", items(partitions, "partitions")},
                      {"nodes", items(nodes, "nodes")}};
  ctx.print(reply, render_partitions(reply["partitions"], reply["nodes"]));
  return Status::Ok();
}

void add_history(CLI::App& app, Context& ctx) {
  auto& f = ctx.make<HistoryFlags>();
  CLI::App* sub = app.add_subcommand("history",
                                     "jobs in the system during a time window, as sacct lists them "
                                     "(default: ended since midnight UTC)");
  CLI::Option* start = sub->add_option("-S,--starttime", f.start,
                                       "from this time (UTC): YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], "
                                       "HH:MM, now-2days, today, ... (default: today 00:00)");
  CLI::Option* end = sub->add_option("-E,--endtime", f.end,
                                     "until this time (UTC), in the same forms (default: now)");
  CLI::Option* user = sub->add_option("-u,--user", f.user, "only this user's jobs");
  CLI::Option* project =
      sub->add_option("-A,--account,--project", f.project, "only this project's jobs");
  CLI::Option* state = sub->add_option("-s,--state", f.state,
                                       "states, comma-separated (CD, F, CA, TO, PR, NF, R, PD)");
  CLI::Option* all =
      sub->add_flag("-a,--all", f.all, "jobs in every state, pending and running too")
          ->excludes(state);
  sub->add_option("-j,--jobs", f.jobs,
                  "only these jobs, in any state and at any time (an array's id: all its tasks)")
      ->delimiter(',')
      ->excludes(start)
      ->excludes(end)
      ->excludes(user)
      ->excludes(project)
      ->excludes(state)
      ->excludes(all);
  sub->add_option("-o,--format", f.format,
                  std::string("columns, comma-separated, as sacct's (default: ") +
                      kDefaultHistoryFormat +
                      "); also JobIDRaw, Partition, QOS, Reason, "
                      "Submit, Timelimit, NNodes, NodeList, GPUModel, CoPay, Refunded, "
                      "Award, WorkDir");
  sub->add_flag("--csv", f.csv, "the columns as CSV (exact amounts and times)");
  sub->add_flag("-X,--allocations", f.allocations,
                "accepted for sacct's sake: berth has no job steps");
  on_run(sub, ctx, [&ctx, &f] {
    if (f.csv && ctx.json_output) return Status::Invalid("--csv and --json exclude each other");
    return run_history(ctx, f);
  });
}

void add_partitions(CLI::App& app, Context& ctx) {
  CLI::App* sub = app.add_subcommand("partitions",
                                     "partitions with their time limits and the GPUs of their "
                                     "nodes by state, as sinfo shows them");
  on_run(sub, ctx, [&ctx] { return run_partitions(ctx); });
}

}  // namespace

void add_history_commands(CLI::App& app, Context& ctx) {
  add_history(app, ctx);
  add_partitions(app, ctx);
}

}  // namespace berth::cli
