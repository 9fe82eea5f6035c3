// The routes of jobs: quotes, submission (single jobs and job arrays), listings, and cancel,
// hold and release (docs/api.md, docs/slurm.md).
#include <httplib.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "core/check.h"
#include "server/launch_spec.h"
#include "server/lookups.h"
#include "server/query_fields.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/views.h"

namespace berth::server {

namespace {

using json = nlohmann::json;

// Whether a job was in the system at some moment of [since_ms, until_ms), as sacct's -S and -E
// select: submitted before `until_ms` and not ended before `since_ms`.
bool in_window(const core::Job& j, int64_t since_ms, int64_t until_ms) {
  return j.submit_ms < until_ms && (!core::is_final(j.state) || j.end_ms >= since_ms);
}

// Cancels, holds or releases the tasks of a job array (`tasks`, from find_jobs): `act` acts on
// one task and says whether it applied to it. When it applies to none, nothing has changed and
// the reply is 409 saying the array `none_applies`. Otherwise the array's first task, with
// `array_tasks`: every task it applied to, as it is now.
Reply act_on_array(Call& call, const std::vector<const core::Job*>& tasks, const char* none_applies,
                   const std::function<bool(const core::Job&)>& act) {
  json acted = json::array();
  for (const core::Job* task : tasks)
    if (act(*task)) acted.push_back(job_json(call.engine, *task));
  if (acted.empty())
    return fail(Status::Conflict("job array " + std::to_string(tasks.front()->id.value) + " " +
                                 none_applies));
  json out = job_json(call.engine, *tasks.front());
  out["array_tasks"] = std::move(acted);
  return ok(out);
}

// On the HTTP thread: the token's Unix user must still be one jobs may run as (it may have been
// removed, or [jobs] min_uid raised, since the token was made), and the script is stored by its
// SHA-256 (store_script); the work records that digest in the launch description, so the core
// thread touches no file and no user database.
Status prepare_submit(Daemon& d, const Principal& who, const json& b) {
  if (!who.unix_user.empty()) {
    const Status user =
        check_job_user(who.unix_user, d.config().allow_root_jobs, d.config().min_job_uid);
    if (!user.ok()) return Status::Invalid("this token's jobs cannot run: " + user.message());
  }
  auto script = b.find("script");
  if (script == b.end() || !script->is_string() || script->get_ref<const std::string&>().empty())
    return Status::Ok();  // the work refuses it with a 400
  const std::string& text = script->get_ref<const std::string&>();
  BERTH_RETURN_IF_ERROR(store_script(d.state_dir(), text));
  // Whichever berthd leads next launches it: the other berthds sharing the store read it there.
  if (store::ScriptStore* shared = d.shared_scripts()) return shared->put(script_digest(text), text);
  return Status::Ok();
}

Reply quote(Call& call) {
  BERTH_ASSIGN_OR_REPLY(r, job_request(call.engine, call.body, call.who, false));
  BERTH_ASSIGN_OR_REPLY(q, call.engine.quote(r, call.now_ms));
  return ok(quote_json(q));
}

// srv.Post("/v1/jobs", route([](CoreContext& c, const Principal& who, const json& b, const h
Reply submit_job(Call& call) {
  BERTH_ASSIGN_OR_REPLY(r, job_request(call.engine, call.body, call.who, true));
  BERTH_ASSIGN_OR_REPLY(launch, launch_json(call.body));
  r.box = box_request(launch);  // the core decides the job's box from it (core/job_box.h)
  if (!agents_run_jobs(call.daemon.config().agents))
    if (Status st = check_runs_without_agents(r.nodes, launch); !st.ok()) return fail(st);
  BERTH_ASSIGN_OR_REPLY(script, str_field(call.body, "script", true));
  if (script.empty()) return fail(Status::Invalid("field 'script' is empty"));
  launch["script_sha256"] = script_digest(script);
  // The token decides whose Unix account runs the job, never the request.
  if (!call.who.unix_user.empty()) launch["unix_user"] = call.who.unix_user;
  r.launch = launch.dump();
  // A retried submit (Idempotency-Key) is told apart from another request by its body, dumped
  // with sorted keys, so the same request always has the same digest.
  r.idempotency_key = call.req.get_header_value("Idempotency-Key");
  if (!r.idempotency_key.empty()) r.request_digest = token_hash(call.body.dump());
  BERTH_ASSIGN_OR_REPLY(array, str_field(call.body, "array", false));
  std::vector<int> indices;
  int throttle = 0;
  std::string array_error;
  if (!array.empty() && !core::parse_array_spec(array, &indices, &throttle, &array_error))
    return fail(Status::Invalid("field 'array': " + array_error));
  BERTH_ASSIGN_OR_REPLY(q, call.engine.quote(r, call.now_ms));
  std::vector<JobId> ids;
  bool replayed = false;
  if (array.empty()) {
    BERTH_ASSIGN_OR_REPLY(id, call.engine.submit(r, call.now_ms, &replayed));
    ids.push_back(id);
  } else {
    BERTH_ASSIGN_OR_REPLY(tasks,
                          call.engine.submit_array(r, indices, throttle, call.now_ms, &replayed));
    ids = std::move(tasks);
  }
  json out = job_json(call.engine, *call.engine.job(ids.front()));
  out["quote"] = quote_json(q);
  if (!array.empty()) {
    json task_ids = json::array();
    for (JobId id : ids) task_ids.push_back(id.value);
    out["array_task_ids"] = task_ids;
  }
  out["replayed"] = replayed;
  return ok(out, replayed ? 200 : 201);
}

Reply list_jobs(Call& call) {
  std::vector<core::JobState> states;
  if (call.req.has_param("state")) {
    std::string s = call.req.get_param_value("state");
    for (size_t start = 0; start <= s.size();) {
      size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      core::JobState st;
      const std::string one = s.substr(start, comma - start);
      if (!core::parse_job_state(one, &st))
        return fail(Status::Invalid("unknown job state '" + one + "'"));
      states.push_back(st);
      start = comma + 1;
    }
  }
  ProjectId project;
  if (call.req.has_param("project")) {
    BERTH_ASSIGN_OR_REPLY(
        p, find_project(call.engine, json(call.req.get_param_value("project")), call.who));
    project = p->id;
  }
  const std::string user = call.req.has_param("user") ? call.req.get_param_value("user") : "";
  BERTH_ASSIGN_OR_REPLY(array_id, query_int(call.req, "array", 0));
  BERTH_ASSIGN_OR_REPLY(since_ms, query_time(call.req, "since", 0));
  BERTH_ASSIGN_OR_REPLY(until_ms, query_time(call.req, "until", INT64_MAX));
  BERTH_ASSIGN_OR_REPLY(limit, page_limit(call.req));
  BERTH_ASSIGN_OR_REPLY(after, query_int(call.req, "after", 0));
  // Jobs are stored by id (index = id - 1), so the page starts at the cursor in O(1); it looks
  // at no more than kScanPerRequest jobs, however few the filters let through.
  const std::deque<core::Job>& jobs = call.engine.jobs();
  size_t i = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(after), jobs.size()));
  const size_t end = std::min(jobs.size(), i + kScanPerRequest);
  // The core thread only copies the page; its JSON is made on the HTTP thread.
  auto page = std::make_shared<std::vector<std::pair<core::Job, JobNames>>>();
  page->reserve(static_cast<size_t>(limit));
  for (; i < end && static_cast<int64_t>(page->size()) < limit; ++i) {
    const core::Job& j = jobs[i];
    if (!call.who.sees(j.org)) continue;
    if (!states.empty() && std::find(states.begin(), states.end(), j.state) == states.end())
      continue;
    if (project.valid() && j.project != project) continue;
    if (!user.empty() && j.user != user) continue;
    if (!in_window(j, since_ms, until_ms)) continue;
    if (array_id && j.array_id.value != static_cast<uint64_t>(array_id)) continue;
    page->emplace_back(j, job_names(call.engine, j));
  }
  const JobId next = i < jobs.size() ? jobs[i - 1].id : JobId();
  Reply r;
  r.render = [page, next] { return jobs_page_text(*page, next); };
  return r;
}

Reply get_job(Call& call) {
  BERTH_ASSIGN_OR_REPLY(j, find_job(call.engine, call.param(1), call.who));
  return ok(job_json(call.engine, *j));
}

Reply cancel_job(Call& call) {
  BERTH_ASSIGN_OR_REPLY(named, find_jobs(call.engine, call.param(1), call.who));
  if (named.size() == 1) {
    BERTH_ASSIGN_OR_REPLY(running, call.engine.cancel(named.front()->id, call.now_ms));
    if (running) call.terminate.push_back(named.front()->id);
    return ok(job_json(call.engine, *named.front()));
  }
  // A whole array: every task that has not ended, none when all have (409).
  return act_on_array(call, named, "has no pending or running task",
                      [&call](const core::Job& task) {
                        if (core::is_final(task.state)) return false;
                        const Result<bool> running = call.engine.cancel(task.id, call.now_ms);
                        BERTH_CHECK(running.ok(), "cancel a task that has not ended");
                        if (*running) call.terminate.push_back(task.id);
                        return true;
                      });
}

Reply hold_or_release(Call& call, bool hold) {
  BERTH_ASSIGN_OR_REPLY(named, find_jobs(call.engine, call.param(1), call.who));
  if (named.size() == 1) {
    const core::Job* j = named.front();
    if (auto st =
            hold ? call.engine.hold(j->id, call.now_ms) : call.engine.release(j->id, call.now_ms);
        !st.ok())
      return fail(st);
    return ok(job_json(call.engine, *j));
  }
  // A whole array: its pending tasks (to hold) or its held ones (to release).
  return act_on_array(call, named, hold ? "has no pending task" : "has no held task",
                      [&call, hold](const core::Job& task) {
                        if (task.state != core::JobState::kPending || (!hold && !task.held))
                          return false;
                        const Status st = hold ? call.engine.hold(task.id, call.now_ms)
                                               : call.engine.release(task.id, call.now_ms);
                        BERTH_CHECK(st.ok(), "hold or release a task checked to allow it");
                        return true;
                      });
}

Reply hold_job(Call& call) { return hold_or_release(call, true); }
Reply release_job(Call& call) { return hold_or_release(call, false); }

}  // namespace

std::vector<Route> job_routes() {
  // A member submits and prices jobs for their own organisation's projects (job_request finds
  // the project as the caller sees it); jobs by id are found by the lookups: another
  // organisation's are 403, as squeue users expect (server/lookups.h).
  constexpr const char* kNoJobs = "a reviewer cannot submit or price jobs";
  return {
      {Method::kPost, "/v1/quote", Access::kMember, quote, kNoJobs},
      {Method::kPost, "/v1/jobs", Access::kMember, submit_job, kNoJobs, prepare_submit},
      {Method::kGet, "/v1/jobs", Access::kAuthenticated, list_jobs},
      {Method::kGet, "/v1/jobs/([^/]+)", Access::kAuthenticated, get_job},
      {Method::kPost, "/v1/jobs/([^/]+)/cancel", Access::kAuthenticated, cancel_job},
      {Method::kPost, "/v1/jobs/([^/]+)/hold", Access::kAuthenticated, hold_job},
      {Method::kPost, "/v1/jobs/([^/]+)/release", Access::kAuthenticated, release_job},
  };
}

}  // namespace berth::server
