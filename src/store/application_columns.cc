#include "store/application_columns.h"

#include <string>

#include "store/row_text.h"

namespace berth::store {

namespace {

using P = FirstUnreadable;

bool parse_application_action(const std::string& text, core::ApplicationAction* out) {
  return core::kApplicationActionNames.parse_into(text, out);
}

}  // namespace

const std::vector<ApplicationColumn>& application_columns() {
  using core::Application;
  using core::ApplicationTerms;
  using A = Application;
  constexpr auto terms = &A::terms;
  static const std::vector<ApplicationColumn> columns = {
      integer_column<A, P, &A::id>("id"),
      integer_column<A, P, &A::scheme>("scheme_id"),
      integer_column<A, P, &A::project>("project_id"),
      integer_column<A, P, &A::org>("org_id"),
      enum_column<A, "state", &core::application_state_name, &core::parse_application_state,
                  &A::state>(),
      integer_column<A, P, terms, &ApplicationTerms::amount_minor>("amount_minor"),
      integer_column<A, P, terms, &ApplicationTerms::gpu_level>("gpu_level"),
      text_column<A, P, terms, &ApplicationTerms::gpu_model>("gpu_model"),
      integer_column<A, P, terms, &ApplicationTerms::duration_days>("duration_days"),
      text_column<A, P, terms, &ApplicationTerms::justification>("justification"),
      text_column<A, P, terms, &ApplicationTerms::planned_work>("planned_work"),
      integer_column<A, P, &A::created_ms>("created_ms"),
      text_column<A, P, &A::created_by>("created_by"),
      integer_column<A, P, &A::updated_ms>("updated_ms"),
      integer_column<A, P, &A::submitted_ms>("submitted_ms"),
      text_column<A, P, &A::submitted_by>("submitted_by"),
      integer_column<A, P, &A::decided_ms>("decided_ms"),
      text_column<A, P, &A::decided_by>("decided_by"),
      integer_column<A, P, &A::weighted_score_e4>("weighted_score_e4"),
      integer_column<A, P, &A::approved_minor>("approved_minor"),
      integer_column<A, P, &A::approved_gpu_level>("approved_gpu_level"),
      integer_column<A, P, &A::approved_duration_days>("approved_duration_days"),
      integer_column<A, P, &A::approved_rate_bps>("approved_rate_bps"),
      text_column<A, P, &A::rejection_reason>("rejection_reason"),
      text_column<A, P, &A::withdrawal_note>("withdrawal_note"),
      integer_column<A, P, &A::award>("award_id", ColumnType::kIdOrNull),
  };
  return columns;
}

const std::vector<ReviewColumn>& review_columns() {
  using core::Review;
  using R = ReviewRow;
  constexpr auto review = &R::review;
  static const std::vector<ReviewColumn> columns = {
      integer_column<R, P, &R::application>("application_id"),
      integer_column<R, P, &R::position>("position"),
      text_column<R, P, review, &Review::reviewer>("reviewer"),
      {"scores", ColumnType::kText,
       [](const R& r) {
         return ColumnValue{0, int_list_text(r.review.scores)};
       },
       [](R& r, const ColumnValue& v, P& p) {
         if (!parse_int_list(v.text, &r.review.scores)) p.report("scores", v.text);
       }},
      integer_column<R, P, review, &Review::weighted_score_e4>("weighted_score_e4"),
      text_column<R, P, review, &Review::comment>("comment"),
      integer_column<R, P, review, &Review::at_ms>("at_ms"),
  };
  return columns;
}

const std::vector<ApplicationEventColumn>& application_event_columns() {
  using E = core::ApplicationEvent;
  static const std::vector<ApplicationEventColumn> columns = {
      integer_column<E, P, &E::seq>("seq"),
      // NULL (read as 0) for a scheme's step (its criteria set).
      integer_column<E, P, &E::application>("application_id", ColumnType::kIdOrNull),
      integer_column<E, P, &E::scheme>("scheme_id"),
      integer_column<E, P, &E::at_ms>("at_ms"),
      text_column<E, P, &E::user>("user_name"),
      enum_column<E, "action", &core::application_action_name, &parse_application_action,
                  &E::action>(),
      text_column<E, P, &E::note>("note"),
  };
  return columns;
}

const std::vector<ReportColumn>& report_columns() {
  using R = core::ProgressReport;
  static const std::vector<ReportColumn> columns = {
      integer_column<R, P, &R::award>("award_id"),
      integer_column<R, P, &R::period>("period"),
      integer_column<R, P, &R::due_ms>("due_ms"),
      enum_column<R, "state", &core::report_state_name, &core::parse_report_state, &R::state>(),
      text_column<R, P, &R::text>("text"),
      integer_column<R, P, &R::submitted_ms>("submitted_ms"),
      text_column<R, P, &R::submitted_by>("submitted_by"),
      integer_column<R, P, &R::decided_ms>("decided_ms"),
      text_column<R, P, &R::decided_by>("decided_by"),
      text_column<R, P, &R::return_reason>("return_reason"),
      integer_column<R, P, &R::submissions>("submissions"),
  };
  return columns;
}

const std::vector<ReportEventColumn>& report_event_columns() {
  using E = core::ReportEvent;
  static const std::vector<ReportEventColumn> columns = {
      integer_column<E, P, &E::seq>("seq"),
      integer_column<E, P, &E::award>("award_id"),
      integer_column<E, P, &E::period>("period"),
      integer_column<E, P, &E::at_ms>("at_ms"),
      text_column<E, P, &E::user>("user_name"),
      enum_column<E, "action", &core::report_action_name, &core::parse_report_action, &E::action>(),
      text_column<E, P, &E::note>("note"),
  };
  return columns;
}

}  // namespace berth::store
