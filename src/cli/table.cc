#include "cli/table.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

#include "common/civil.h"
#include "common/money.h"
#include "common/strings.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct StateCode {
  const char* name;
  const char* code;
};

constexpr std::array kStates = {
    StateCode{"PENDING", "PD"},   StateCode{"RUNNING", "R"},    StateCode{"COMPLETED", "CD"},
    StateCode{"FAILED", "F"},     StateCode{"CANCELLED", "CA"}, StateCode{"TIMEOUT", "TO"},
    StateCode{"PREEMPTED", "PR"}, StateCode{"NODE_FAIL", "NF"}, StateCode{"OUT_OF_MEMORY", "OOM"},
};

std::string upper(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

// Display width: counts UTF-8 code points, not bytes, so names with accents line up.
size_t width(const std::string& text) {
  size_t n = 0;
  for (unsigned char ch : text) {
    if ((ch & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), right_(headers_.size(), false) {}

Table& Table::align_right(size_t column) {
  if (column < right_.size()) right_[column] = true;
  return *this;
}

// Cells hold what users chose (job and project names): control characters in them are shown
// escaped, never sent to the terminal (terminal_safe), and so cannot move the cursor or
// clear the screen. Escaping here covers cells made without cell() too.
void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::string& c : cells) c = terminal_safe(c);
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = width(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], width(row[c]));
  }
  std::string out;
  const auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - width(row[c]), ' ');
      if (c > 0) line += "  ";
      line += right_[c] ? pad + row[c] : row[c] + pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(headers_);
  for (const auto& row : rows_) emit(row);
  return out;
}

std::string cell(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return terminal_safe(value.get<std::string>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::string out;
    for (const json& item : value) out += (out.empty() ? "" : ",") + cell(item);
    return out.empty() ? "-" : out;
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string cell(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return "-";
  return cell(object.at(key));
}

namespace {

std::string amount_cell(const json& value, const std::string& currency, bool exact) {
  if (!value.is_string()) return cell(value);
  Result<Minor> amount = parse_amount(value.get<std::string>(), /*allow_negative=*/true);
  if (!amount.ok()) return cell(value);
  return exact ? format_money_exact(*amount, currency) : format_money(*amount, currency);
}

}  // namespace

std::string money_cell(const json& value, const std::string& currency) {
  return amount_cell(value, currency, false);
}

std::string money_cell(const json& object, const char* key, const std::string& currency) {
  if (!object.is_object() || !object.contains(key)) return "-";
  return amount_cell(object.at(key), currency, false);
}

std::string exact_money_cell(const json& object, const char* key, const std::string& currency) {
  if (!object.is_object() || !object.contains(key)) return "-";
  return amount_cell(object.at(key), currency, true);
}

std::string format_rate(int64_t bps) {
  std::string out = std::to_string(bps / 100);
  const int64_t frac = bps % 100;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%02lld", static_cast<long long>(frac < 0 ? -frac : frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "%";
}

std::string format_elapsed(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t days = seconds / kSecondsPerDay, hours = seconds / kSecondsPerHour % 24,
                minutes = seconds / 60 % 60, secs = seconds % 60;
  char buf[64];
  if (days > 0) {
    std::snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", static_cast<long long>(days),
                  static_cast<long long>(hours), static_cast<long long>(minutes),
                  static_cast<long long>(secs));
  } else if (hours > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(hours),
                  static_cast<long long>(minutes), static_cast<long long>(secs));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(minutes),
                  static_cast<long long>(secs));
  }
  return buf;
}

std::string format_human_duration(const json& seconds) {
  if (!seconds.is_number()) return "-";
  const double value = seconds.get<double>();
  if (!(value >= 0) || value > 1e15) return "-";
  const auto s = static_cast<int64_t>(value + 0.5);
  const int64_t days = s / kSecondsPerDay, hours = s / kSecondsPerHour % 24, minutes = s / 60 % 60,
                secs = s % 60;
  auto part = [](int64_t n, const char* unit) { return std::to_string(n) + unit; };
  if (days > 0) return part(days, "d") + (hours > 0 ? " " + part(hours, "h") : "");
  if (hours > 0) return part(hours, "h") + (minutes > 0 ? " " + part(minutes, "m") : "");
  if (minutes > 0) return part(minutes, "m") + (secs > 0 ? " " + part(secs, "s") : "");
  return part(secs, "s");
}

std::string state_code(const std::string& state) {
  for (const StateCode& s : kStates) {
    if (state == s.name) return s.code;
  }
  return state;
}

std::string state_name(const std::string& code) {
  const std::string wanted = upper(code);
  for (const StateCode& s : kStates) {
    if (wanted == s.code || wanted == s.name) return s.name;
  }
  return wanted;
}

}  // namespace berth::cli
