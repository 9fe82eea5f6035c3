#include "store/job_columns.h"

#include <string>

#include "store/row_text.h"

namespace berth::store {

namespace {

using core::Job;
using core::JobRowProblem;

// Adds "what 'text'" to the row's problems.
void report(JobRowProblem& problem, const char* what, const std::string& text) {
  if (!problem.what.empty()) problem.what += "; ";
  problem.what += std::string(what) + " '" + shown_text(text) + "'";
}

template <auto Member>
constexpr JobColumn integer(const char* name, ColumnType type = ColumnType::kInteger) {
  return integer_column<Job, JobRowProblem, Member>(name, type);
}

template <auto Member>
constexpr JobColumn text(const char* name) {
  return text_column<Job, JobRowProblem, Member>(name);
}

ColumnValue as_text(std::string text) { return ColumnValue{0, std::move(text)}; }

const JobColumn kState{"state", ColumnType::kText,
                       [](const Job& j) { return as_text(core::job_state_name(j.state)); },
                       [](Job& j, const ColumnValue& v, JobRowProblem& p) {
                         if (core::parse_job_state(v.text, &j.state)) return;
                         j.state = core::JobState::kFailed;
                         p.state_unknown = true;
                         report(p, "unknown state", v.text);
                       }};

const JobColumn kReason{"reason", ColumnType::kText,
                        [](const Job& j) { return as_text(core::pending_reason_name(j.reason)); },
                        [](Job& j, const ColumnValue& v, JobRowProblem& p) {
                          if (core::parse_pending_reason(v.text, &j.reason)) return;
                          j.reason = core::PendingReason::kNone;
                          report(p, "unknown pending reason", v.text);
                        }};

const JobColumn kTier{"tier", ColumnType::kText,
                      [](const Job& j) { return as_text(core::tier_name(j.tier)); },
                      [](Job& j, const ColumnValue& v, JobRowProblem& p) {
                        if (core::parse_tier(v.text, &j.tier)) return;
                        j.tier = core::Tier::kNormal;
                        report(p, "unknown tier", v.text);
                      }};

const JobColumn kGpuIds{"gpu_ids", ColumnType::kText,
                        [](const Job& j) { return as_text(int_list_text(j.gpu_ids)); },
                        [](Job& j, const ColumnValue& v, JobRowProblem& p) {
                          if (parse_int_list(v.text, &j.gpu_ids)) return;
                          j.gpu_ids.clear();
                          report(p, "unreadable gpu_ids", v.text);
                        }};

const JobColumn kDependencies{
    "dependencies", ColumnType::kText,
    [](const Job& j) { return as_text(core::format_dependencies(j.dependencies)); },
    [](Job& j, const ColumnValue& v, JobRowProblem& p) {
      if (v.text.empty() || core::parse_dependencies(v.text, &j.dependencies)) return;
      j.dependencies.clear();
      report(p, "unreadable dependencies", v.text);
    }};

const JobColumn kMoreNodes{"more_nodes", ColumnType::kText,
                           [](const Job& j) { return as_text(more_nodes_text(j.more_nodes)); },
                           [](Job& j, const ColumnValue& v, JobRowProblem& p) {
                             if (parse_more_nodes(v.text, &j.more_nodes)) return;
                             j.more_nodes.clear();
                             report(p, "unreadable more_nodes", v.text);
                           }};

const JobColumn kRequiredNodes{
    "required_nodes", ColumnType::kText,
    [](const Job& j) { return as_text(node_ids_text(j.node_choice.required)); },
    [](Job& j, const ColumnValue& v, JobRowProblem& p) {
      if (parse_node_ids(v.text, &j.node_choice.required)) return;
      j.node_choice.required.clear();
      report(p, "unreadable required_nodes", v.text);
    }};

const JobColumn kExcludedNodes{
    "excluded_nodes", ColumnType::kText,
    [](const Job& j) { return as_text(node_ids_text(j.node_choice.excluded)); },
    [](Job& j, const ColumnValue& v, JobRowProblem& p) {
      if (parse_node_ids(v.text, &j.node_choice.excluded)) return;
      j.node_choice.excluded.clear();
      report(p, "unreadable excluded_nodes", v.text);
    }};

}  // namespace

const std::vector<JobColumn>& job_columns() {
  constexpr ColumnType kIdOrNull = ColumnType::kIdOrNull;
  static const std::vector<JobColumn> columns = {
      integer<&Job::id>("id"),
      text<&Job::name>("name"),
      text<&Job::user>("user_name"),
      integer<&Job::project>("project_id"),
      integer<&Job::org>("org_id"),
      kState,
      kReason,
      kTier,
      integer<&Job::gpus>("gpus"),
      text<&Job::gpu_model>("gpu_model"),
      text<&Job::partition>("partition_name"),
      integer<&Job::time_limit_s>("time_limit_s"),
      integer<&Job::requeue>("requeue"),
      integer<&Job::restarts>("restarts"),
      integer<&Job::submit_ms>("submit_ms"),
      integer<&Job::start_ms>("start_ms"),
      integer<&Job::end_ms>("end_ms"),
      integer<&Job::node>("node_id", kIdOrNull),
      kGpuIds,
      integer<&Job::exit_code>("exit_code"),
      integer<&Job::term_signal>("term_signal"),
      integer<&Job::cancel_requested>("cancel_requested"),
      integer<&Job::award>("award_id", kIdOrNull),
      integer<&Job::rate_bps>("rate_bps"),
      integer<&Job::price_per_gpu_hour_minor>("price_per_gpu_hour_minor"),
      integer<&Job::max_cost_minor>("max_cost_minor"),
      integer<&Job::subsidy_held_minor>("subsidy_held_minor"),
      integer<&Job::copay_held_minor>("copay_held_minor"),
      integer<&Job::cost_minor>("cost_minor"),
      integer<&Job::subsidy_minor>("subsidy_minor"),
      integer<&Job::copay_minor>("copay_minor"),
      text<&Job::launch>("launch"),
      integer<&Job::held>("held"),
      kDependencies,
      integer<&Job::array_id>("array_id", kIdOrNull),
      integer<&Job::array_index>("array_index"),
      integer<&Job::array_throttle>("array_throttle"),
      integer<&Job::nodes>("nodes"),
      kMoreNodes,
      integer<&Job::estimate_s>("estimate_s"),
      integer<&Job::refunded_minor>("refunded_minor"),
      integer<&Job::ran_ms>("ran_ms"),
      text<&Job::end_reason>("end_reason"),
      kRequiredNodes,
      kExcludedNodes,
  };
  return columns;
}

}  // namespace berth::store
