// The lookups: the entities a request names, as its caller may see them.
#include "server/lookups.h"

#include "server/request_fields.h"

namespace berth::server {

namespace {

// An id (number, or a string of digits) or a name. A negative number, a fraction or a run of
// digits too long for an id names nothing (the caller answers 404).
template <typename T, typename ById, typename ByName>
const T* resolve(const json& ref, ById by_id, ByName by_name) {
  if (ref.is_number_unsigned()) return by_id(ref.get<uint64_t>());
  if (ref.is_number()) return nullptr;
  if (!ref.is_string()) return nullptr;
  const std::string s = ref.get<std::string>();
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    const auto id = digits_id(s);
    return id ? by_id(*id) : nullptr;
  }
  return by_name(s);
}

}  // namespace

Result<const core::Org*> find_org(const core::Engine& e, const json& ref, const Principal& who) {
  const core::Org* o = resolve<core::Org>(
      ref, [&](uint64_t id) { return e.funding().org(OrgId(id)); },
      [&](const std::string& n) { return e.funding().org_by_name(n); });
  if (!o || !who.sees(o->id)) return Status::NotFound("organisation " + ref.dump() + " not found");
  return o;
}

Result<const core::Project*> find_project(const core::Engine& e, const json& ref,
                                          const Principal& who) {
  const core::Project* p = resolve<core::Project>(
      ref, [&](uint64_t id) { return e.funding().project(ProjectId(id)); },
      [&](const std::string& n) { return e.funding().project_by_name(n); });
  if (!p || !who.sees(p->org)) return Status::NotFound("project " + ref.dump() + " not found");
  return p;
}

Result<const core::Scheme*> find_scheme(const core::Engine& e, const json& ref) {
  const core::Scheme* s = resolve<core::Scheme>(
      ref, [&](uint64_t id) { return e.funding().scheme(SchemeId(id)); },
      [&](const std::string& n) { return e.funding().scheme_by_name(n); });
  if (!s) return Status::NotFound("scheme " + ref.dump() + " not found");
  return s;
}

std::vector<const core::Job*> array_tasks(const core::Engine& e, JobId array_id) {
  // The tasks of one array are accepted together (Engine::submit_array), so they are the jobs
  // from its first on that name it as their array.
  std::vector<const core::Job*> tasks;
  const std::deque<core::Job>& jobs = e.jobs();
  if (!array_id.valid()) return tasks;
  for (size_t i = array_id.value - 1; i < jobs.size() && jobs[i].array_id == array_id; ++i)
    tasks.push_back(&jobs[i]);
  return tasks;
}

namespace {

// "12_3": task 3 of the array whose id (its first task's) is 12, as squeue shows it.
const core::Job* array_task(const core::Engine& e, JobId array_id, uint64_t index) {
  for (const core::Job* task : array_tasks(e, array_id))
    if (task->array_index >= 0 && static_cast<uint64_t>(task->array_index) == index) return task;
  return nullptr;
}

}  // namespace

Result<const core::Job*> find_job(const core::Engine& e, const std::string& id_text,
                                  const Principal& who) {
  const size_t underscore = id_text.find('_');
  if (underscore == std::string::npos) {
    BERTH_ASSIGN_OR_RETURN(auto id, path_id(id_text, "job"));
    const core::Job* j = e.job(JobId(id));
    if (!j) return Status::NotFound("job " + id_text + " not found");
    if (!who.sees(j->org))
      return Status::Denied("job " + id_text + " belongs to another organisation");
    return j;
  }
  const std::string array_text = id_text.substr(0, underscore),
                    index_text = id_text.substr(underscore + 1);
  if (!path_id(array_text, "job").ok() || index_text.empty() || index_text.size() > 9 ||
      index_text.find_first_not_of("0123456789") != std::string::npos)
    return Status::Invalid("job id '" + id_text +
                           "' is neither a number nor ARRAYID_INDEX (such as 12_3)");
  auto array = find_job(e, array_text, who);
  if (!array.ok())
    return array.status().code() == Code::kNotFound
               ? Status::NotFound("job " + id_text + " not found")
               : array.status();
  if ((*array)->array_id != (*array)->id)
    return Status::NotFound("job " + id_text + " not found: job " + array_text +
                            " is not a job array");
  const core::Job* task = array_task(e, (*array)->id, *digits_id(index_text));
  if (!task)
    return Status::NotFound("job " + id_text + " not found: array " + array_text + " has no task " +
                            index_text);
  return task;
}

Result<std::vector<const core::Job*>> find_jobs(const core::Engine& e, const std::string& id_text,
                                                const Principal& who) {
  BERTH_ASSIGN_OR_RETURN(auto j, find_job(e, id_text, who));
  const bool whole_array = j->array_id == j->id && id_text.find('_') == std::string::npos;
  if (!whole_array) return std::vector<const core::Job*>{j};
  return array_tasks(e, j->id);  // one organisation's: tasks share their submit's project
}

Result<const core::Award*> find_award(const core::Engine& e, const std::string& id_text) {
  BERTH_ASSIGN_OR_RETURN(auto id, path_id(id_text, "award"));
  const core::Award* a = e.funding().award(AwardId(id));
  if (!a) return Status::NotFound("award " + id_text + " not found");
  return a;
}

// An award the caller may see: a member sees their organisation's only (others are 404, as
// for projects); reviewers and admins see all.
Result<const core::Award*> find_visible_award(const core::Engine& e, const std::string& id_text,
                                              const Principal& who) {
  BERTH_ASSIGN_OR_RETURN(auto a, find_award(e, id_text));
  if (!sees_award(e, *a, who)) return Status::NotFound("award " + id_text + " not found");
  return a;
}

// An application the caller may see: a member sees their organisation's only (others are 404,
// as for projects); reviewers and admins see all.
Result<const core::Application*> find_application(const core::Engine& e, const std::string& id_text,
                                                  const Principal& who) {
  BERTH_ASSIGN_OR_RETURN(auto id, path_id(id_text, "application"));
  const core::Application* a = e.applications().get(ApplicationId(id));
  if (!a || !sees_application(*a, who))
    return Status::NotFound("application " + id_text + " not found");
  return a;
}

bool sees_award(const core::Engine& e, const core::Award& award, const Principal& who) {
  return who.reads_funding() || who.sees(e.funding().project(award.project)->org);
}

bool sees_application(const core::Application& application, const Principal& who) {
  return who.reads_funding() || who.sees(application.org);
}

bool sees_account(const core::Engine& e, const core::Account& account, const Principal& who) {
  if (who.admin()) return true;
  OrgId owner_org;
  if (account.kind == core::AccountKind::kWallet) {
    if (const auto* p = e.funding().project(ProjectId(account.owner))) owner_org = p->org;
  } else if (account.kind == core::AccountKind::kAward) {
    if (const auto* aw = e.funding().award(AwardId(account.owner)))
      owner_org = e.funding().project(aw->project)->org;
  }
  return owner_org.valid() && owner_org == who.org;
}

Status may_list_transfers(const core::Engine& e, int64_t job_id, const Principal& who) {
  if (who.admin()) return Status::Ok();
  if (job_id == 0)
    return Status::Denied("members may list transfers of one of their jobs (?job=ID)");
  return find_job(e, std::to_string(job_id), who).status();
}

}  // namespace berth::server
