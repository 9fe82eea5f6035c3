// The SQL text both stores build from the column descriptions (columns.h): INSERT, upsert,
// UPDATE and SELECT statements with `?` placeholders (PostgreSQL's store numbers them,
// pg_dialect.h), and the list of described tables each store checks at open.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::store {

// Names: a list of const char* or string_view (a description's column_names), joined by ", ",
// each after `prefix` ("topups.").
template <typename Names>
std::string join_columns(const Names& columns, const char* prefix = "") {
  std::string out;
  for (std::string_view c : columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c;
  }
  return out;
}

// "INSERT INTO t (a, b) VALUES (?, ?)", and with a conflict key, an upsert that updates
// every other column: "... ON CONFLICT (a) DO UPDATE SET b = excluded.b".
template <typename Names = std::initializer_list<const char*>>
std::string insert_sql(const char* table, const Names& columns, const char* key = nullptr) {
  std::string sql =
      std::string("INSERT INTO ") + table + " (" + join_columns(columns) + ") VALUES (";
  for (size_t i = 0; i < columns.size(); ++i) sql += i == 0 ? "?" : ", ?";
  sql += ")";
  if (key != nullptr) {
    sql += std::string(" ON CONFLICT (") + key + ") DO UPDATE SET ";
    bool first = true;
    for (std::string_view c : columns) {
      if (c == key) continue;
      if (!first) sql += ", ";
      first = false;
      sql += std::string(c) + " = excluded." + std::string(c);
    }
  }
  return sql;
}

// "UPDATE table SET a = ?, b = ? WHERE key = ?": every column, then the key's value.
template <typename Names>
std::string update_sql(const char* table, const Names& columns, const char* key) {
  std::string sql = std::string("UPDATE ") + table + " SET ";
  bool first = true;
  for (std::string_view c : columns) {
    sql += (first ? "" : ", ") + std::string(c) + " = ?";
    first = false;
  }
  return sql + " WHERE " + key + " = ?";
}

template <typename Names>
std::string select_sql(const char* table, const Names& columns, const char* order_by) {
  return "SELECT " + join_columns(columns) + " FROM " + table + " ORDER BY " + order_by;
}

// A table with a description and the columns it must have: every table but meta,
// schema_version, leader and job_scripts (key/value and bookkeeping tables). A transfer's
// seq, the order applied, is the database's and is listed beside its description.
struct DescribedTable {
  const char* table;
  std::vector<std::string_view> names;
};
const std::vector<DescribedTable>& described_tables();

// Ok when the columns a table has (`actual`) are exactly `names` (in any order); otherwise an
// error that names the columns missing from the table and those it has beyond the description.
Status compare_table_columns(const std::string& table, std::set<std::string> actual,
                             const std::vector<std::string_view>& names);

}  // namespace berth::store
