#include "cli/slurm_time.h"

#include <array>
#include <string>

#include "common/civil.h"
#include "common/strings.h"
#include "common/timefmt.h"

namespace berth::cli {
namespace {

Status bad_time(std::string_view text) {
  return Status::Invalid(
      "time '" + std::string(text) +
      "' is not one Slurm takes (use YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY][-HH:MM[:SS]], "
      "MMDD[YY], HH:MM[:SS], now[-COUNT[s|m|h|d|w]], today, midnight, noon or tomorrow; UTC)");
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 9 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

int64_t number(std::string_view digits) {
  int64_t v = 0;
  for (char ch : digits) v = v * 10 + (ch - '0');
  return v;
}

std::string two(int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// "HH:MM[:SS]" as "HH:MM:SS", or "" when it is not one.
std::string time_of_day(std::string_view text) {
  const auto parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3) return "";
  std::string out;
  for (size_t i = 0; i < 3; ++i) {
    const std::string_view part = i < parts.size() ? parts[i] : "00";
    if (part.size() != 2 || !all_digits(part)) return "";
    out += (i ? ":" : "") + std::string(part);
  }
  return out;
}

// "now", "now-3days", "now+90": now moved by a count of a unit.
Result<int64_t> relative_to_now(std::string_view text, int64_t now_ms) {
  if (text == "now") return now_ms;
  const char sign = text.size() > 3 ? text[3] : ' ';
  if (sign != '+' && sign != '-') return bad_time(text);
  std::string_view rest = text.substr(4);
  const size_t unit_at = rest.find_first_not_of("0123456789");
  const std::string_view count = rest.substr(0, unit_at);
  const std::string unit(unit_at == std::string_view::npos ? "" : rest.substr(unit_at));
  if (!all_digits(count)) return bad_time(text);
  static const std::array<std::pair<const char*, int64_t>, 5> kUnits = {{{"seconds", kMsPerSecond},
                                                                         {"minutes", kMsPerMinute},
                                                                         {"hours", kMsPerHour},
                                                                         {"days", kMsPerDay},
                                                                         {"weeks", kMsPerWeek}}};
  int64_t unit_ms = unit.empty() ? kMsPerSecond : 0;
  for (const auto& [name, ms] : kUnits) {
    if (!unit.empty() && std::string_view(name).starts_with(unit)) unit_ms = ms;
  }
  if (unit_ms == 0) return bad_time(text);
  const int64_t moved = number(count) * unit_ms;
  return sign == '+' ? now_ms + moved : now_ms - moved;
}

// Month and day (and maybe a year) in one of Slurm's orders, then "-HH:MM[:SS]" maybe.
Result<int64_t> month_day(std::string_view text, int64_t now_ms) {
  const size_t dash = text.find('-');
  const std::string_view date = text.substr(0, dash);
  std::string clock = "00:00:00";
  if (dash != std::string_view::npos) {
    clock = time_of_day(text.substr(dash + 1));
    if (clock.empty()) return bad_time(text);
  }
  std::string_view month, day, year;
  const char sep = date.find('/') != std::string_view::npos   ? '/'
                   : date.find('.') != std::string_view::npos ? '.'
                                                              : 0;
  if (sep) {
    const auto parts = split(date, sep);
    if (parts.size() < 2 || parts.size() > 3) return bad_time(text);
    month = parts[0], day = parts[1], year = parts.size() == 3 ? parts[2] : "";
  } else {
    if (date.size() != 4 && date.size() != 6) return bad_time(text);
    month = date.substr(0, 2), day = date.substr(2, 2), year = date.substr(4);
  }
  if (!all_digits(month) || !all_digits(day) || month.size() > 2 || day.size() > 2)
    return bad_time(text);
  if (!year.empty() && (year.size() != 2 || !all_digits(year))) return bad_time(text);
  const int64_t this_year = number(format_time_ms(now_ms).substr(0, 4));
  const auto at = [&](int64_t y) {
    return parse_time_ms(std::to_string(y) + "-" + two(number(month)) + "-" + two(number(day)) +
                         "T" + clock + "Z");
  };
  if (!year.empty()) {
    Result<int64_t> ms = at(2000 + number(year));
    return ms.ok() ? ms : bad_time(text);
  }
  Result<int64_t> ms = at(this_year);
  if (ms.ok() && *ms > now_ms) ms = at(this_year - 1);  // a date to come: last year's
  return ms.ok() ? ms : bad_time(text);
}

}  // namespace

Result<int64_t> parse_slurm_time_ms(std::string_view text, int64_t now_ms) {
  const int64_t today = start_of_day_ms(now_ms);
  if (text == "today" || text == "midnight") return today;
  if (text == "noon") return today + kMsPerDay / 2;
  if (text == "teatime") return today + 16 * kMsPerHour;
  if (text == "tomorrow") return today + kMsPerDay;
  if (text.starts_with("now")) return relative_to_now(text, now_ms);
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {  // YYYY-MM-DD[THH:MM[:SS]][Z]
    std::string_view rest = text.substr(10);
    if (rest.ends_with('Z')) rest.remove_suffix(1);
    std::string clock = "00:00:00";
    if (!rest.empty()) {
      clock = rest[0] == 'T' ? time_of_day(rest.substr(1)) : "";
      if (clock.empty()) return bad_time(text);
    }
    Result<int64_t> ms = parse_time_ms(std::string(text.substr(0, 10)) + "T" + clock + "Z");
    return ms.ok() ? ms : bad_time(text);
  }
  if (const std::string clock = time_of_day(text); !clock.empty()) {
    Result<int64_t> ms = parse_time_ms(format_time_ms(today).substr(0, 10) + "T" + clock + "Z");
    return ms.ok() ? ms : bad_time(text);
  }
  return month_day(text, now_ms);
}

}  // namespace berth::cli
