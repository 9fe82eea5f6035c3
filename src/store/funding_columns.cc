#include "store/funding_columns.h"

#include <string>

namespace berth::store {

namespace {

using P = FirstUnreadable;

// "university,institute" for the readable column next to the bitmask.
std::string eligible_kinds_text(uint32_t kinds) {
  std::string out;
  for (int k = 0; k < core::kOrgKindCount; ++k) {
    if (((kinds >> k) & 1u) == 0) continue;
    if (!out.empty()) out += ',';
    out += core::org_kind_name(static_cast<core::OrgKind>(k));
  }
  return out;
}

}  // namespace

const std::vector<OrgColumn>& org_columns() {
  using core::Org;
  using core::OrgRegistration;
  constexpr auto reg = &Org::registration;
  static const std::vector<OrgColumn> columns = {
      integer_column<Org, P, &Org::id>("id"),
      text_column<Org, P, &Org::name>("name"),
      enum_column<Org, "kind", &core::org_kind_name, &core::parse_org_kind, &Org::kind>(),
      integer_column<Org, P, &Org::created_ms>("created_ms"),
      text_column<Org, P, reg, &OrgRegistration::number>("registration_number"),
      text_column<Org, P, reg, &OrgRegistration::address>("registered_address"),
      text_column<Org, P, reg, &OrgRegistration::contact_name>("contact_name"),
      text_column<Org, P, reg, &OrgRegistration::contact_email>("contact_email"),
      text_column<Org, P, reg, &OrgRegistration::jurisdiction>("jurisdiction"),
      integer_column<Org, P, &Org::updated_ms>("updated_ms"),
  };
  return columns;
}

const std::vector<ProjectColumn>& project_columns() {
  using core::Project;
  static const std::vector<ProjectColumn> columns = {
      integer_column<Project, P, &Project::id>("id"),
      integer_column<Project, P, &Project::org>("org_id"),
      text_column<Project, P, &Project::name>("name"),
      integer_column<Project, P, &Project::wallet>("wallet_account_id"),
      integer_column<Project, P, &Project::created_ms>("created_ms"),
  };
  return columns;
}

const std::vector<SchemeColumn>& scheme_columns() {
  using core::Scheme;
  static const std::vector<SchemeColumn> columns = {
      integer_column<Scheme, P, &Scheme::id>("id"),
      text_column<Scheme, P, &Scheme::name>("name"),
      integer_column<Scheme, P, &Scheme::rate_bps>("rate_bps"),
      integer_column<Scheme, P, &Scheme::eligible_kinds>("eligible_kinds"),
      // For people reading the table; the bitmask beside it is authoritative and is read back.
      {"eligible_kinds_text", ColumnType::kText,
       [](const Scheme& x) {
         return ColumnValue{0, eligible_kinds_text(x.eligible_kinds)};
       },
       [](Scheme&, const ColumnValue&, P&) {}},
      enum_column<Scheme, "shortfall", &core::shortfall_name, &core::parse_shortfall,
                  &Scheme::shortfall>(),
      integer_column<Scheme, P, &Scheme::fund>("fund_account_id"),
      integer_column<Scheme, P, &Scheme::created_ms>("created_ms"),
      integer_column<Scheme, P, &Scheme::exceptional_rate_bps>("exceptional_rate_bps"),
      integer_column<Scheme, P, &Scheme::cap_per_project_minor>("cap_per_project_minor"),
      integer_column<Scheme, P, &Scheme::window_open_ms>("window_open_ms"),
      integer_column<Scheme, P, &Scheme::window_close_ms>("window_close_ms"),
      integer_column<Scheme, P, &Scheme::award_validity_days>("award_validity_days"),
  };
  return columns;
}

const std::vector<CriterionColumn>& criterion_columns() {
  using core::Criterion;
  using R = CriterionRow;
  constexpr auto c = &R::criterion;
  static const std::vector<CriterionColumn> columns = {
      integer_column<R, P, &R::scheme>("scheme_id"),
      integer_column<R, P, &R::position>("position"),
      text_column<R, P, c, &Criterion::name>("name"),
      integer_column<R, P, c, &Criterion::weight_bps>("weight_bps"),
  };
  return columns;
}

const std::vector<AwardColumn>& award_columns() {
  using core::Award;
  static const std::vector<AwardColumn> columns = {
      integer_column<Award, P, &Award::id>("id"),
      integer_column<Award, P, &Award::scheme>("scheme_id"),
      integer_column<Award, P, &Award::project>("project_id"),
      integer_column<Award, P, &Award::account>("account_id"),
      integer_column<Award, P, &Award::amount_minor>("amount_minor"),
      integer_column<Award, P, &Award::gpu_level>("gpu_level"),
      integer_column<Award, P, &Award::start_ms>("start_ms"),
      integer_column<Award, P, &Award::end_ms>("end_ms"),
      integer_column<Award, P, &Award::created_ms>("created_ms"),
      integer_column<Award, P, &Award::rate_bps>("rate_bps"),
      // NULL (read as 0) for an award made directly, not on an application.
      integer_column<Award, P, &Award::application>("application_id", ColumnType::kIdOrNull),
      integer_column<Award, P, &Award::closed_ms>("closed_ms"),
      integer_column<Award, P, &Award::returned_ms>("returned_ms"),
      integer_column<Award, P, &Award::returned_minor>("returned_minor"),
      integer_column<Award, P, &Award::report_every_months>("report_every_months"),
      integer_column<Award, P, &Award::report_grace_days>("report_grace_days"),
  };
  return columns;
}

const std::vector<FundingOrderColumn>& funding_order_columns() {
  using R = FundingOrderRow;
  static const std::vector<FundingOrderColumn> columns = {
      integer_column<R, P, &R::project>("project_id"),
      integer_column<R, P, &R::position>("position"),
      integer_column<R, P, &R::award>("award_id"),
  };
  return columns;
}

}  // namespace berth::store
