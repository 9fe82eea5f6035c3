// The store's schema, as an ordered list of migrations.
//
// Migration number v takes a database from schema version v - 1 to v. The store applies each
// missing migration once, in order, each in its own transaction together with its row in
// schema_version. A released migration is never edited: a change is a new migration at the end.
#pragma once

#include <span>

namespace berth::store {

struct Migration {
  int version;              // 1, 2, ... in order
  const char* description;  // recorded in schema_version
  const char* sql;          // one or more statements
};

// All migrations, in order; the last one's version is the current schema version.
std::span<const Migration> migrations();

// Creates the schema_version table if missing (it is not itself a migration).
inline constexpr const char* kSchemaVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_version (\n"
    "  version INTEGER PRIMARY KEY,\n"
    "  description TEXT NOT NULL,\n"
    "  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n"
    ")";

}  // namespace berth::store
