// A job's JSON view, written without a DOM (server/job_json.cc), against the same view built as
// a nlohmann::json object, field by field as docs/api.md describes it: same text, byte for byte.
#include <gtest/gtest.h>

#include "common/money.h"
#include "common/timefmt.h"
#include "server/views.h"

namespace berth::server {
namespace {

json when(int64_t ms) { return ms ? json(format_time_ms(ms)) : json(nullptr); }

json expected_view(const core::Job& j, const JobNames& names) {
  const bool pending = j.state == core::JobState::kPending;
  const bool running = j.state == core::JobState::kRunning;
  const bool ended = core::is_final(j.state);
  const bool charged = ended || j.restarts;
  const bool ran = j.start_ms && j.end_ms;
  json launch = j.launch.empty() ? json::object() : json::parse(j.launch);
  auto money = [](Minor m, bool shown) { return shown ? json(format_amount(m)) : json(nullptr); };
  return {
      {"id", j.id.value},
      {"name", j.name},
      {"user", j.user},
      {"project_id", j.project.value},
      {"project", names.project.empty() ? json(nullptr) : json(names.project)},
      {"org_id", j.org.value},
      {"state", core::job_state_name(j.state)},
      {"reason", pending ? json(core::pending_reason_name(j.reason)) : json(nullptr)},
      {"tier", core::tier_name(j.tier)},
      {"gpus", j.gpus},
      {"priority", pending ? json(j.priority) : json(nullptr)},
      {"expected_start", pending ? when(j.expected_start_ms) : json(nullptr)},
      {"gpu_model", j.gpu_model.empty() ? json(nullptr) : json(j.gpu_model)},
      {"partition", j.partition},
      {"time_limit_s", j.time_limit_s},
      {"submit_time", when(j.submit_ms)},
      {"start_time", when(j.start_ms)},
      {"end_time", when(j.end_ms)},
      {"node", j.node.valid() ? json(names.nodes.front()) : json(nullptr)},
      {"gpu_ids", j.gpu_ids},
      {"nodes", j.nodes},
      {"gpus_per_node", j.gpus_per_node()},
      {"node_list", names.nodes},
      {"planned_runtime_s", j.planned_s()},
      {"exit_code", ended && j.start_ms ? json(j.exit_code) : json(nullptr)},
      {"signal", ended && j.term_signal ? json(j.term_signal) : json(nullptr)},
      {"end_reason", j.end_reason.empty() ? json(nullptr) : json(j.end_reason)},
      {"requeue", j.requeue},
      {"restarts", j.restarts},
      {"ran_s", j.ran_ms / 1000},
      {"cancel_requested", j.cancel_requested},
      {"held", j.held},
      {"dependency",
       j.dependencies.empty() ? json(nullptr) : json(core::format_dependencies(j.dependencies))},
      {"array_id", j.array_id.valid() ? json(j.array_id.value) : json(nullptr)},
      {"array_index", j.array_index >= 0 ? json(j.array_index) : json(nullptr)},
      {"workdir", launch.value("workdir", "")},
      {"stdout", expand_job_pattern(launch.value("stdout", ""), j)},
      {"stderr", expand_job_pattern(launch.value("stderr", ""), j)},
      {"award_id", j.award.valid() ? json(j.award.value) : json(nullptr)},
      {"rate_bps", j.rate_bps},
      {"max_cost", money(j.max_cost_minor, running)},
      {"subsidy_held", money(j.subsidy_held_minor, running)},
      {"copay_held", money(j.copay_held_minor, running)},
      {"cost", money(j.cost_minor, charged)},
      {"subsidy", money(j.subsidy_minor, charged)},
      {"copay", money(j.copay_minor, charged)},
      {"refunded", format_amount(j.refunded_minor)},
      {"runtime_s", ran ? json((j.end_ms - j.start_ms) / 1000) : json(nullptr)},
      {"runtime_ms", ran ? json(j.end_ms - j.start_ms) : json(nullptr)},
      {"cpus_per_node", j.cpus_per_node > 0 ? json(j.cpus_per_node) : json(nullptr)},
      {"memory_per_node_mb", j.memory_per_node_mb > 0 ? json(j.memory_per_node_mb) : json(nullptr)},
  };
}

core::Job pending_job() {
  core::Job j;
  j.id = JobId(7);
  j.name = "train \"big\" \x01 caf\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b";
  j.user = "ada";
  j.project = ProjectId(3);
  j.org = OrgId(2);
  j.gpus = 2;
  j.partition = "gpu";
  j.time_limit_s = 3600;
  j.submit_ms = 1'796'441'273'592;
  j.priority = -12;
  j.expected_start_ms = 1'796'441'283'000;
  j.reason = core::PendingReason::kResources;
  j.held = true;
  j.dependencies.push_back({core::DependencyType::kAfterOk, JobId(5)});
  // Keys of the same names nested inside come before the top-level ones, which alone count.
  j.launch = R"({"env":{"workdir":"/nested","stdout":["no"]},"args":["stderr",{"stderr":"x"}],)"
             R"("workdir":"/home/ada","stdout":"%x-%j.out","stderr":"","script_sha256":"ab"})";
  return j;
}

void expect_same(const core::Job& j, const JobNames& names) {
  const std::string text = job_text(j, names);
  EXPECT_EQ(text, expected_view(j, names).dump());
  EXPECT_EQ(job_json(j, names), expected_view(j, names));
}

TEST(JobText, PendingJobWithEscapesUnicodeAndDependencies) {
  expect_same(pending_job(), {"vision", {}});
}

TEST(JobText, RunningGangJobWithHolds) {
  core::Job j = pending_job();
  j.state = core::JobState::kRunning;
  j.nodes = 2;
  j.gpus = 16;
  j.node = NodeId(1);
  j.gpu_ids = {0, 1, 2, 3, 4, 5, 6, 7};
  j.start_ms = j.submit_ms + 5000;
  j.gpu_model = "H100";
  j.award = AwardId(9);
  j.rate_bps = 7000;
  j.max_cost_minor = 123'456;
  j.subsidy_held_minor = 86'419;
  j.copay_held_minor = 37'037;
  j.array_id = JobId(4);
  j.array_index = 3;
  j.cpus_per_node = 16;
  j.memory_per_node_mb = 65536;
  expect_same(j, {"vision", {"gpu-node-01", "gpu-node-02"}});
}

TEST(JobText, EndedJobWithChargesSignalAndReason) {
  core::Job j = pending_job();
  j.state = core::JobState::kFailed;
  j.start_ms = j.submit_ms + 1000;
  j.end_ms = j.start_ms + 3'723'456;
  j.exit_code = 137;
  j.term_signal = 9;
  j.end_reason = "out of memory";
  j.cost_minor = 3339;
  j.subsidy_minor = 2337;
  j.copay_minor = 1002;
  j.refunded_minor = 100;
  j.restarts = 1;
  j.ran_ms = 61'000;
  j.cancel_requested = true;
  j.launch.clear();
  expect_same(j, {"", {}});  // a set-aside job whose project is gone: project null
}

TEST(JobText, PageListsJobsAndTheCursor) {
  const std::vector<std::pair<core::Job, JobNames>> page = {{pending_job(), {"vision", {}}}};
  const json parsed = json::parse(jobs_page_text(page, JobId(7)));
  EXPECT_EQ(parsed["next"], 7);
  ASSERT_EQ(parsed["jobs"].size(), 1u);
  EXPECT_EQ(parsed["jobs"][0], expected_view(page[0].first, page[0].second));
  EXPECT_EQ(jobs_page_text({}, JobId()), R"({"jobs":[],"next":null})");
}

}  // namespace
}  // namespace berth::server
