// Aligned text tables and the small formatters the listings share. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::cli {

// A table printed with columns separated by two spaces, padded to the widest cell. Rows with
// fewer cells than headers are padded with empty cells; extra cells are dropped. Trailing
// blanks are trimmed so that output diffs cleanly.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Right-aligns a column (for numbers and amounts).
  Table& align_right(size_t column);
  void add_row(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// A JSON field as a table cell: "-" when missing or null, strings as they are (control
// characters escaped, as common/strings.h's terminal_safe does), numbers in
// decimal, booleans as yes/no, arrays joined with ',' and objects as compact JSON.
std::string cell(const nlohmann::json& object, const char* key);
std::string cell(const nlohmann::json& value);

// An amount field (the server's exact "1234.5000") as people read it: "HK$ 1,234.50"
// (common/money.h's format_money, with `currency` as the server names it). A field that is
// not an amount is shown as cell() shows it.
std::string money_cell(const nlohmann::json& object, const char* key, const std::string& currency);
std::string money_cell(const nlohmann::json& value, const std::string& currency);
// The same unrounded (format_money_exact): for confirming money that moved.
std::string exact_money_cell(const nlohmann::json& object, const char* key,
                             const std::string& currency);

// A rate in basis points as a percentage: 7000 -> "70%", 7050 -> "70.5%", 1 -> "0.01%".
std::string format_rate(int64_t bps);

// Elapsed time as squeue shows it: "0:00", "5:07", "1:02:03", "2-01:02:03".
std::string format_elapsed(int64_t seconds);
// A number of seconds (possibly fractional, as the simulator reports means) for people:
// "45s", "3m 20s", "3h 20m", "2d 4h"; "-" when not a number.
std::string format_human_duration(const nlohmann::json& seconds);

// squeue's short state codes: PENDING -> PD, RUNNING -> R, ...; unknown states pass through.
std::string state_code(const std::string& state);

// The inverse, for --state filters: "PD", "pd", "pending" -> "PENDING". Unknown codes are
// upper-cased and passed on for the server to judge.
std::string state_name(const std::string& code);

}  // namespace berth::cli
