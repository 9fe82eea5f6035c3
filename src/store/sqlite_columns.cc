#include "store/sqlite_columns.h"

#include <set>

#include "store/sql_text.h"

namespace berth::store {

Status check_table_columns(sqlite3* db, const std::string& table,
                           const std::vector<std::string_view>& names) {
  BERTH_ASSIGN_OR_RETURN(auto stmt,
                         sqlite::Stmt::Prepare(db, "SELECT name FROM pragma_table_info(?)", false));
  stmt.bind_text(table);
  std::set<std::string> actual;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) break;
    actual.insert(stmt.col_text());
  }
  return compare_table_columns(table, std::move(actual), names);
}

}  // namespace berth::store
