// The column descriptions (columns.h) of the ledger's tables: `accounts`, `transfers`, `topups`
// and the `audit` record. Each is used for the table's schema check at open, its writes and its
// reads; a value this berth cannot read (an account kind, a hold's state) fails the load.
#pragma once

#include <vector>

#include "core/ledger.h"
#include "core/model.h"
#include "store/columns.h"

namespace berth::store {

using AccountColumn = Column<core::Account, FirstUnreadable>;
const std::vector<AccountColumn>& account_columns();

// A `transfers` row: the transfer and, for a hold, its state and what was posted from it. The
// row is inserted once with the hold `pending` (or no state: not a hold); the state and
// posted_minor are the only columns that change (SqliteStore's pending update). `seq`, the order
// applied, is given by SQLite and not described.
struct TransferRow {
  core::Transfer transfer;
  bool hold = false;  // pending_state is not NULL
  core::PendingState pending_state = core::PendingState::kNone;
  Minor posted_minor = 0;
};
// The row a transfer is first inserted as.
TransferRow new_transfer_row(const core::Transfer& transfer);
using TransferColumn = Column<TransferRow, FirstUnreadable>;
const std::vector<TransferColumn>& transfer_columns();

using TopUpColumn = Column<core::TopUp, FirstUnreadable>;
const std::vector<TopUpColumn>& topup_columns();

using AuditColumn = Column<core::AuditRecord, FirstUnreadable>;
const std::vector<AuditColumn>& audit_columns();

}  // namespace berth::store
