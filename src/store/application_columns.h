// The column descriptions (columns.h) of funding applications and progress reports:
// `applications`, `application_reviews`, `application_events`, `progress_reports` and
// `progress_report_events`. Each is used for the table's schema check at open, its writes and
// its reads; a value this berth cannot read (a state, an action, a review's scores) fails the
// load.
#pragma once

#include <cstdint>
#include <vector>

#include "core/applications.h"
#include "core/progress.h"
#include "store/columns.h"

namespace berth::store {

using ApplicationColumn = Column<core::Application, FirstUnreadable>;
// An application's own columns; its reviews are rows of `application_reviews`.
const std::vector<ApplicationColumn>& application_columns();

// An `application_reviews` row: an application's review at its position (0, 1, ...: the order
// reviewers first reviewed); an application's reviews are replaced whole.
struct ReviewRow {
  ApplicationId application;
  int64_t position = 0;
  core::Review review;
};
using ReviewColumn = Column<ReviewRow, FirstUnreadable>;
const std::vector<ReviewColumn>& review_columns();

using ApplicationEventColumn = Column<core::ApplicationEvent, FirstUnreadable>;
const std::vector<ApplicationEventColumn>& application_event_columns();

using ReportColumn = Column<core::ProgressReport, FirstUnreadable>;
const std::vector<ReportColumn>& report_columns();

using ReportEventColumn = Column<core::ReportEvent, FirstUnreadable>;
const std::vector<ReportEventColumn>& report_event_columns();

}  // namespace berth::store
