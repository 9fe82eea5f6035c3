#include "common/timefmt.h"
#include "common/civil.h"
#include "common/strings.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <vector>

namespace berth {
namespace {

// A field of at most 9 digits keeps every sum below 2^63 (10^9 days is ~8.6e13 s).
constexpr size_t kMaxFieldDigits = 9;

// Parses a run of ASCII digits; refuses empty, signs, spaces and overlong fields.
bool parse_field(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > kMaxFieldDigits) return false;
  int64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  *value = v;
  return true;
}

// Reads exactly `width` digits at text[pos].
bool fixed_digits(std::string_view text, size_t pos, size_t width, int64_t* value) {
  if (pos + width > text.size()) return false;
  return parse_field(text.substr(pos, width), value);
}

Status bad_duration(std::string_view text, const std::string& why) {
  return Status::Invalid("time '" + std::string(text) + "' " + why +
                         " (use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)");
}

// Parses the "HH:MM:SS"-like part after "D-" (hours first, each later field below 60/24).
Result<int64_t> parse_after_days(std::string_view full, std::string_view rest) {
  const auto parts = split(rest, ':');
  if (parts.size() > 3) return bad_duration(full, "has too many fields");
  std::array<int64_t, 3> hms = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parse_field(parts[i], &hms[i])) return bad_duration(full, "is not a duration");
  }
  if (hms[0] >= 24 || hms[1] >= 60 || hms[2] >= 60)
    return bad_duration(full, "has a field out of range");
  return hms[0] * kSecondsPerHour + hms[1] * kSecondsPerMinute + hms[2];
}

// Parses "MM", "MM:SS" or "HH:MM:SS": the first field is unbounded, later ones below 60.
Result<int64_t> parse_without_days(std::string_view full) {
  const auto parts = split(full, ':');
  if (parts.size() > 3) return bad_duration(full, "has too many fields");
  std::array<int64_t, 3> f = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parse_field(parts[i], &f[i])) return bad_duration(full, "is not a duration");
    if (i > 0 && f[i] >= 60) return bad_duration(full, "has a field out of range");
  }
  switch (parts.size()) {
    case 1:
      return f[0] * kSecondsPerMinute;
    case 2:
      return f[0] * kSecondsPerMinute + f[1];
    default:
      return f[0] * kSecondsPerHour + f[1] * kSecondsPerMinute + f[2];
  }
}

}  // namespace

Result<int64_t> parse_duration_s(std::string_view text) {
  if (text == "UNLIMITED" || text == "INFINITE" || text == "unlimited" || text == "infinite")
    return Status::Invalid("time '" + std::string(text) +
                           "' is unlimited; berth needs a time limit to hold money");
  if (text.empty()) return bad_duration(text, "is empty");
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return parse_without_days(text);
  int64_t days = 0;
  if (!parse_field(text.substr(0, dash), &days)) return bad_duration(text, "is not a duration");
  const std::string_view rest = text.substr(dash + 1);
  if (rest.empty()) return bad_duration(text, "has no hours after the day");
  BERTH_ASSIGN_OR_RETURN(int64_t within, parse_after_days(text, rest));
  return days * kSecondsPerDay + within;
}

std::string format_duration(int64_t seconds) {
  const bool negative = seconds < 0;
  // Negating INT64_MIN overflows; no real duration is that long, so clamp it.
  const uint64_t mag =
      negative ? static_cast<uint64_t>(-(seconds + 1)) + 1 : static_cast<uint64_t>(seconds);
  const uint64_t days = mag / kSecondsPerDay;
  const uint64_t rem = mag % kSecondsPerDay;
  char buf[64];
  if (days > 0) {
    std::snprintf(buf, sizeof buf, "%s%llu-%02llu:%02llu:%02llu", negative ? "-" : "",
                  static_cast<unsigned long long>(days),
                  static_cast<unsigned long long>(rem / kSecondsPerHour),
                  static_cast<unsigned long long>(rem / 60 % 60),
                  static_cast<unsigned long long>(rem % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%s%02llu:%02llu:%02llu", negative ? "-" : "",
                  static_cast<unsigned long long>(rem / kSecondsPerHour),
                  static_cast<unsigned long long>(rem / 60 % 60),
                  static_cast<unsigned long long>(rem % 60));
  }
  return buf;
}

Result<int64_t> parse_time_ms(std::string_view text) {
  const std::string shown(text);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("time '" + shown + "' " + why +
                           " (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)");
  };
  if (text.size() != 10 && text.size() != 20) return bad("is not a date");
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!fixed_digits(text, 0, 4, &y) || text[4] != '-' || !fixed_digits(text, 5, 2, &mo) ||
      text[7] != '-' || !fixed_digits(text, 8, 2, &d))
    return bad("is not a date");
  if (text.size() == 20) {
    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z' ||
        !fixed_digits(text, 11, 2, &h) || !fixed_digits(text, 14, 2, &mi) ||
        !fixed_digits(text, 17, 2, &s))
      return bad("is not a date and time");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return bad("has no such day");
  if (h > 23 || mi > 59 || s > 59) return bad("has no such time of day");
  const int64_t days = days_from_civil(y, mo, d);
  return ((days * kSecondsPerDay) + h * kSecondsPerHour + mi * kSecondsPerMinute + s) *
         kMsPerSecond;
}

std::string format_time_ms(int64_t ms) {
  // Floor division, so that times before the epoch land on the right second.
  int64_t secs = ms / kMsPerSecond;
  if (ms % kMsPerSecond < 0) secs -= 1;
  int64_t days = secs / kSecondsPerDay;
  int64_t rem = secs % kSecondsPerDay;
  if (rem < 0) {
    rem += kSecondsPerDay;
    days -= 1;
  }
  int64_t y = 0, m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rem / kSecondsPerHour),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf;
}

namespace {

// Midnight of the first day of month `m` (1..12) of year `y`, in ms since the epoch.
int64_t month_start_ms(int64_t y, int64_t m) { return days_from_civil(y, m, 1) * kMsPerDay; }

MonthRange month_range(int64_t y, int64_t m) {
  const int64_t next_y = m == 12 ? y + 1 : y;
  const int64_t next_m = m == 12 ? 1 : m + 1;
  return {month_start_ms(y, m), month_start_ms(next_y, next_m)};
}

// The civil year and month of a time.
void year_month_of_ms(int64_t ms, int64_t* y, int64_t* m) {
  int64_t d = 0;
  civil_from_days(day_of_ms(ms), y, m, &d);
}

}  // namespace

Result<MonthRange> parse_month(std::string_view text) {
  int64_t y = 0, m = 0;
  if (text.size() != 7 || !fixed_digits(text, 0, 4, &y) || text[4] != '-' ||
      !fixed_digits(text, 5, 2, &m) || m < 1 || m > 12)
    return Status::Invalid("month '" + std::string(text) +
                           "' is not a month (use YYYY-MM, for example 2026-11)");
  return month_range(y, m);
}

MonthRange month_of_ms(int64_t ms) {
  int64_t y = 0, m = 0;
  year_month_of_ms(ms, &y, &m);
  return month_range(y, m);
}

std::string format_month(int64_t ms) {
  int64_t y = 0, m = 0;
  year_month_of_ms(ms, &y, &m);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m));
  return buf;
}

}  // namespace berth

namespace berth {

int64_t add_months_ms(int64_t ms, int months) {
  const int64_t days = day_of_ms(ms);
  const int64_t time_of_day_ms = ms - days * kMsPerDay;
  int64_t y = 0, m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  const int64_t index = y * 12 + (m - 1) + months;  // months since year 0, floored below
  const int64_t new_y = index >= 0 ? index / 12 : (index - 11) / 12;
  const int64_t new_m = index - new_y * 12 + 1;
  // The day clamps to the new month's last day (Jan 31 + 1 month = Feb 28 or 29).
  const MonthRange r = month_range(new_y, new_m);
  const int64_t new_d = std::min(d, (r.to_ms - r.from_ms) / kMsPerDay);
  return days_from_civil(new_y, new_m, new_d) * kMsPerDay + time_of_day_ms;
}

}  // namespace berth
