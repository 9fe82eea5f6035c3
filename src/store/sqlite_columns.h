// SQLite's side of the column descriptions (columns.h): a row's values bound in the
// description's order, a row read back through its setters, and the check that a table in the
// database has exactly the described columns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/columns.h"
#include "store/sqlite_db.h"

namespace berth::store {

// Binds `row`'s columns, in order, to `stmt` (already reset).
template <typename Row, typename Problems>
void bind_columns(sqlite::Stmt& stmt, const std::vector<Column<Row, Problems>>& columns,
                  const Row& row) {
  for (const auto& c : columns) {
    const ColumnValue v = c.get(row);
    switch (c.type) {
      case ColumnType::kInteger:
        stmt.bind_i64(v.integer);
        break;
      case ColumnType::kText:
        stmt.bind_text(v.text);
        break;
      case ColumnType::kIdOrNull:
        stmt.bind_id_or_null(static_cast<uint64_t>(v.integer));
        break;
      case ColumnType::kTextOrNull:
        if (v.null) {
          stmt.bind_null();
        } else {
          stmt.bind_text(v.text);
        }
        break;
    }
  }
}

// Reads the current row of `stmt` (selected with the same columns, in order) into `row`.
template <typename Row, typename Problems>
void read_columns(sqlite::Stmt& stmt, const std::vector<Column<Row, Problems>>& columns, Row& row,
                  Problems& problems) {
  for (const auto& c : columns) {
    ColumnValue v;
    if (c.type == ColumnType::kTextOrNull) {
      v.null = stmt.col_is_null();
      v.text = stmt.col_text();
    } else if (c.type == ColumnType::kText) {
      v.text = stmt.col_text();
    } else {
      v.integer = stmt.col_i64();  // NULL reads as 0
    }
    c.set(row, v, problems);
  }
}

// Ok when `table` has exactly the columns `names` (in any order); otherwise an error that names
// the columns missing from the table and those it has beyond the description.
Status check_table_columns(sqlite3* db, const std::string& table,
                           const std::vector<std::string_view>& names);

}  // namespace berth::store
