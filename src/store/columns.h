// Each table's columns described once: a column's name, its type as stored, a getter that
// turns the row object's field into the stored value and a setter that reads the stored value
// back into the object. The description is the single source for the table's schema check,
// its INSERT/UPSERT and SELECT statements, the binds and the row reading; adding a field is one
// entry in the description plus a migration (src/store/README.md).
//
// The descriptions know nothing of SQLite: a value is an integer or a text (ColumnValue), and
// a database adapter (sqlite_columns.h) binds and reads them, so a PostgreSQL store can share
// them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace berth::store {

// How a column is stored.
enum class ColumnType {
  kInteger,     // INTEGER (numbers, booleans 0/1, ids)
  kText,        // TEXT
  kIdOrNull,    // INTEGER id, NULL when the id is 0 (no such object), so foreign keys hold
  kTextOrNull,  // TEXT, or NULL when `null` is set (a transfer that is not a hold has no state)
};

// One column's value, neutral of the database: `integer` for kInteger and kIdOrNull (a NULL
// reads as 0), `text` for kText and kTextOrNull; `null` only for kTextOrNull (NULL written, or
// read).
struct ColumnValue {
  int64_t integer = 0;
  std::string text;
  bool null = false;
};

// The first value of a row that could not be read, for a reader that fails the load on it
// (every table but jobs: src/store/README.md, "Rows that cannot be read"): `column` is null
// when all was read.
struct FirstUnreadable {
  const char* column = nullptr;
  std::string text;
  void report(const char* c, const std::string& t) {
    if (column == nullptr) column = c, text = t;
  }
};

// One column of a table whose rows are `Row` objects. `set` may report an unreadable value in
// `Problems` (a job's fields get a default and are reported); a setter that cannot report
// leaves the value for the reader to check after the row is read.
template <typename Row, typename Problems = FirstUnreadable>
struct Column {
  const char* name;
  ColumnType type;
  ColumnValue (*get)(const Row&);
  void (*set)(Row&, const ColumnValue&, Problems&);
};

// The field of `r` that the member pointers `Path` lead to: `&Org::id`, or
// `&Org::registration, &OrgRegistration::number` for a field of a field.
template <auto... Path, typename Row>
constexpr auto& field_of(Row& r) {
  return (r.*....*Path);
}

// The field's value as an integer: numbers, booleans and typed ids (with a `value`).
template <typename Field>
constexpr int64_t field_integer(const Field& f) {
  if constexpr (std::is_arithmetic_v<Field>) {
    return static_cast<int64_t>(f);
  } else {
    return static_cast<int64_t>(f.value);
  }
}

// The inverse of field_integer.
template <typename Field>
constexpr void set_field_integer(Field& f, int64_t v) {
  if constexpr (std::is_same_v<Field, bool>) {
    f = v != 0;
  } else if constexpr (std::is_arithmetic_v<Field>) {
    f = static_cast<Field>(v);
  } else {
    f = Field(static_cast<decltype(f.value)>(v));
  }
}

// A column that is one integer field of the row (a number, a boolean, a typed id), reached by
// the member pointers `Path` (field_of).
template <typename Row, typename Problems, auto... Path>
constexpr Column<Row, Problems> integer_column(const char* name,
                                               ColumnType type = ColumnType::kInteger) {
  return {name, type,
          [](const Row& r) {
            return ColumnValue{field_integer(field_of<Path...>(r)), {}};
          },
          [](Row& r, const ColumnValue& v, Problems&) {
            set_field_integer(field_of<Path...>(r), v.integer);
          }};
}

// A column that is one text field of the row, stored as it is.
template <typename Row, typename Problems, auto... Path>
constexpr Column<Row, Problems> text_column(const char* name) {
  return {name, ColumnType::kText,
          [](const Row& r) {
            return ColumnValue{0, field_of<Path...>(r)};
          },
          [](Row& r, const ColumnValue& v, Problems&) { field_of<Path...>(r) = v.text; }};
}

// A column name given as a template argument ("kind"), for the setters of enum_column, which
// name their column when they report it.
template <size_t N>
struct ColumnName {
  char text[N];
  constexpr ColumnName(const char (&name)[N]) { std::copy_n(name, N, text); }
};

// A column that is one enum field of the row, stored as its name (`ToName`, as
// core::org_kind_name); a name that `Parse` (as core::parse_org_kind) does not know is reported
// in FirstUnreadable, and the load fails.
template <typename Row, ColumnName Name, auto ToName, auto Parse, auto... Path>
constexpr Column<Row, FirstUnreadable> enum_column() {
  return {Name.text, ColumnType::kText,
          [](const Row& r) {
            return ColumnValue{0, ToName(field_of<Path...>(r))};
          },
          [](Row& r, const ColumnValue& v, FirstUnreadable& p) {
            if (!Parse(v.text, &field_of<Path...>(r))) p.report(Name.text, v.text);
          }};
}

// The columns' names in order.
template <typename Row, typename Problems>
std::vector<std::string_view> column_names(const std::vector<Column<Row, Problems>>& columns) {
  std::vector<std::string_view> names;
  names.reserve(columns.size());
  for (const auto& c : columns) names.emplace_back(c.name);
  return names;
}

}  // namespace berth::store
