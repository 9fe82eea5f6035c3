#include "store/sqlite_columns.h"

#include <algorithm>
#include <set>

namespace berth::store {

namespace {

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Status check_table_columns(sqlite3* db, const std::string& table,
                           const std::vector<std::string_view>& names) {
  BERTH_ASSIGN_OR_RETURN(auto stmt,
                         sqlite::Stmt::Prepare(db, "SELECT name FROM pragma_table_info(?)", false));
  stmt.bind_text(table);
  std::set<std::string> extra;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) break;
    extra.insert(stmt.col_text());
  }
  std::set<std::string> missing;
  for (std::string_view n : names) {
    if (extra.erase(std::string(n)) == 0) missing.insert(std::string(n));
  }
  if (missing.empty() && extra.empty()) return Status::Ok();
  std::string message = "store: table " + table + " does not match berth's description of it";
  if (!missing.empty()) message += "; missing columns: " + joined(missing);
  if (!extra.empty()) message += "; columns berth does not know: " + joined(extra);
  return Status::Internal(message);
}

}  // namespace berth::store
