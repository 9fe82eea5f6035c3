// A state directory's database, opened so that berthd never starts afresh on top of state
// that was there: the directory and its files must be writable by the user berthd runs as, and
// a marker file, berth.id, ties the directory to the database that holds its state.
//
// The marker holds an identity (a random number, in decimal) that the database also keeps in its
// meta table (SqliteStore::identity). At the first start both are written, the database first.
// Afterwards, while the marker is there, the database must be present, not empty and of the same
// identity; otherwise the start is refused with what was found and how to restore the database
// from a backup, before anything (admin.token included) is written. A database without a marker
// beside it (a new directory, a database restored into one, a berth older than markers) gives its
// identity to a new marker.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "core/reconcile.h"
#include "store/sqlite_store.h"

namespace berth::store {

// The files of a state directory.
std::string StateDbPath(const std::string& state_dir);      // berth.db
std::string StateMarkerPath(const std::string& state_dir);  // berth.id

// Ok when `path` (an existing directory or file) may be written by the user this process runs
// as; otherwise a message naming the path, its owner and permissions, and that user.
Status CheckWritable(const std::string& path);

// Opens the store of an existing state directory as described above.
Result<std::unique_ptr<SqliteStore>> OpenStateStore(const std::string& state_dir);

// Reconciles the rows of a state directory's database as committed, for an operator whose
// berthd is stopped or will not start on them (`berth reconcile --state-dir`). NotFound when the
// directory holds no database; the marker is not checked, so a copy of berth.db can be read too.
Result<core::ReconcileReport> ReconcileStateDir(const std::string& state_dir,
                                                const core::ReconcileOptions& options);

}  // namespace berth::store
