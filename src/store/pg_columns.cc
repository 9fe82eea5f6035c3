#include "store/pg_columns.h"

#include <set>

#include "store/sql_text.h"

namespace berth::store {

Status check_table_columns(PGconn* c, const std::string& table,
                           const std::vector<std::string_view>& names) {
  pg::Params params;
  params.add_text(table);
  BERTH_ASSIGN_OR_RETURN(auto r, pg::Exec(c,
                                          "SELECT column_name FROM information_schema.columns "
                                          "WHERE table_schema = current_schema() AND "
                                          "table_name = $1",
                                          params));
  std::set<std::string> actual;
  for (int i = 0; i < PQntuples(r.get()); ++i) actual.insert(pg::get_text(r.get(), i, 0));
  return compare_table_columns(table, std::move(actual), names);
}

}  // namespace berth::store
