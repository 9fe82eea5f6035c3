// The column descriptions (columns.h) of the funding programme's tables: `orgs`, `projects`,
// `schemes`, `scheme_criteria`, `awards` and `funding_order`. Each is used for the table's
// schema check at open, its writes and its reads; a value this berth cannot read (an org kind,
// a scheme's shortfall) fails the load.
#pragma once

#include <cstdint>
#include <vector>

#include "core/applications.h"
#include "core/model.h"
#include "store/columns.h"

namespace berth::store {

using OrgColumn = Column<core::Org, FirstUnreadable>;
const std::vector<OrgColumn>& org_columns();

using ProjectColumn = Column<core::Project, FirstUnreadable>;
const std::vector<ProjectColumn>& project_columns();

using SchemeColumn = Column<core::Scheme, FirstUnreadable>;
const std::vector<SchemeColumn>& scheme_columns();

// A `scheme_criteria` row: a scheme's criterion at its position (0, 1, ...); a scheme's
// criteria are replaced whole.
struct CriterionRow {
  SchemeId scheme;
  int64_t position = 0;
  core::Criterion criterion;
};
using CriterionColumn = Column<CriterionRow, FirstUnreadable>;
const std::vector<CriterionColumn>& criterion_columns();

using AwardColumn = Column<core::Award, FirstUnreadable>;
const std::vector<AwardColumn>& award_columns();

// A `funding_order` row: the award a project's funding order names at a position (0, 1, ...);
// a project's order is replaced whole.
struct FundingOrderRow {
  ProjectId project;
  int64_t position = 0;
  AwardId award;
};
using FundingOrderColumn = Column<FundingOrderRow, FirstUnreadable>;
const std::vector<FundingOrderColumn>& funding_order_columns();

}  // namespace berth::store
