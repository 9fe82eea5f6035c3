// The column descriptions (columns.h) of the small tables: `nodes`, `tokens`, `submit_keys`.
// Each is used for the table's schema check at open, its writes and its reads.
#pragma once

#include <vector>

#include "core/model.h"
#include "core/submit_keys.h"
#include "store/columns.h"
#include "store/store.h"

namespace berth::store {

// A node whose state this berth does not know reports it in FirstUnreadable; the load fails.
using NodeColumn = Column<core::Node, FirstUnreadable>;
const std::vector<NodeColumn>& node_columns();

using TokenColumn = Column<TokenRow, FirstUnreadable>;
const std::vector<TokenColumn>& token_columns();

using SubmitKeyColumn = Column<core::SubmitKey, FirstUnreadable>;
const std::vector<SubmitKeyColumn>& submit_key_columns();

}  // namespace berth::store
