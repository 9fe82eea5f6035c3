#include "store/job_columns.h"

#include <string>

#include "store/row_text.h"

namespace berth::store {

namespace {

using core::Job;
using core::JobRowProblem;

// Adds "what 'text'" to the row's problems.
void report(JobRowProblem& problem, const std::string& what, const std::string& text) {
  if (!problem.what.empty()) problem.what += "; ";
  problem.what += what + " '" + shown_text(text) + "'";
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

// "--dependency" text; '' for none.
bool parse_dependency_text(const std::string& text, std::vector<core::Dependency>* out) {
  return text.empty() || core::parse_dependencies(text, out);
}

// A list kept as text in one column (row_text.h), the field `Path` leads to (columns.h,
// field_of): written with `ToText`, read with `Parse`; a text that does not parse reads as the
// empty list and is reported ("unreadable gpu_ids '0,x'").
template <ColumnName Name, auto ToText, auto Parse, auto... Path>
JobColumn list() {
  return {Name.text, ColumnType::kText,
          [](const Job& j) { return as_text(ToText(field_of<Path...>(j))); },
          [](Job& j, const ColumnValue& v, JobRowProblem& p) {
            auto& items = field_of<Path...>(j);
            if (Parse(v.text, &items)) return;
            items.clear();
            report(p, "unreadable " + std::string(Name.text), v.text);
          }};
}

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
      list<"gpu_ids", &int_list_text, &parse_int_list, &Job::gpu_ids>(),
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
      list<"dependencies", &core::format_dependencies, &parse_dependency_text,
           &Job::dependencies>(),
      integer<&Job::array_id>("array_id", kIdOrNull),
      integer<&Job::array_index>("array_index"),
      integer<&Job::array_throttle>("array_throttle"),
      integer<&Job::nodes>("nodes"),
      list<"more_nodes", &more_nodes_text, &parse_more_nodes, &Job::more_nodes>(),
      integer<&Job::estimate_s>("estimate_s"),
      integer<&Job::refunded_minor>("refunded_minor"),
      integer<&Job::ran_ms>("ran_ms"),
      text<&Job::end_reason>("end_reason"),
      list<"required_nodes", &node_ids_text, &parse_node_ids, &Job::node_choice,
           &core::NodeChoice::required>(),
      list<"excluded_nodes", &node_ids_text, &parse_node_ids, &Job::node_choice,
           &core::NodeChoice::excluded>(),
      integer<&Job::cpus_per_node>("cpus_per_node"),
      integer<&Job::memory_per_node_mb>("memory_per_node_mb"),
  };
  return columns;
}

}  // namespace berth::store
