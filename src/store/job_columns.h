// The `jobs` table's columns, described once (columns.h): the schema check, the upsert and the
// load all use this list. A field this berth cannot read (a state, reason or tier it does not
// know, a list that does not parse) gets a safe default and is reported in the row's
// JobRowProblem, never a failed load (src/store/README.md, "Rows that cannot be read").
#pragma once

#include <vector>

#include "core/engine.h"
#include "store/columns.h"

namespace berth::store {

using JobColumn = Column<core::Job, core::JobRowProblem>;

// In the order of the SELECT and INSERT statements; the first is the key (`id`).
const std::vector<JobColumn>& job_columns();

}  // namespace berth::store
