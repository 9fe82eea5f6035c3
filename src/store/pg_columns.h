// PostgreSQL's side of the column descriptions (columns.h), as sqlite_columns.h is SQLite's: a
// row's values as a statement's text parameters in the description's order, a result's row read
// back through the setters, and the check that a table has exactly the described columns.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/columns.h"
#include "store/pg_db.h"

namespace berth::store {

// Appends `row`'s columns, in order, to `params`.
template <typename Row, typename Problems>
void bind_columns(pg::Params& params, const std::vector<Column<Row, Problems>>& columns,
                  const Row& row) {
  for (const auto& c : columns) {
    ColumnValue v = c.get(row);
    switch (c.type) {
      case ColumnType::kInteger:
        params.add_i64(v.integer);
        break;
      case ColumnType::kText:
        params.add_text(std::move(v.text));
        break;
      case ColumnType::kIdOrNull:
        if (v.integer == 0) {
          params.add_null();
        } else {
          params.add_i64(v.integer);
        }
        break;
      case ColumnType::kTextOrNull:
        if (v.null) {
          params.add_null();
        } else {
          params.add_text(std::move(v.text));
        }
        break;
    }
  }
}

// Reads row `r` of `result` (selected with the same columns, in order) into `row`.
template <typename Row, typename Problems>
void read_columns(const PGresult* result, int r, const std::vector<Column<Row, Problems>>& columns,
                  Row& row, Problems& problems) {
  int col = 0;
  for (const auto& c : columns) {
    ColumnValue v;
    if (c.type == ColumnType::kTextOrNull || c.type == ColumnType::kText) {
      v.null = pg::is_null(result, r, col);
      v.text = pg::get_text(result, r, col);
      if (c.type == ColumnType::kText) v.null = false;
    } else {
      v.integer = pg::get_i64(result, r, col);  // NULL reads as 0
    }
    c.set(row, v, problems);
    ++col;
  }
}

// Ok when `table` (in the connection's current schema) has exactly the columns `names`;
// otherwise an error naming the columns missing and those beyond the description.
Status check_table_columns(PGconn* c, const std::string& table,
                           const std::vector<std::string_view>& names);

}  // namespace berth::store
