// Durations and dates as users write them, turned into integers with units.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace berth {

// Slurm's time formats: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS".
// Returns seconds. "UNLIMITED"/"INFINITE" are refused (berth needs a limit to hold money).
Result<int64_t> parse_duration_s(std::string_view text);

// Formats seconds as Slurm does: "D-HH:MM:SS" or "HH:MM:SS".
std::string format_duration(int64_t seconds);

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) to milliseconds since the Unix epoch.
Result<int64_t> parse_time_ms(std::string_view text);

// Milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ".
std::string format_time_ms(int64_t ms);

// A UTC calendar month as the half-open interval [from_ms, to_ms) of its first and the next
// month's first midnight.
struct MonthRange {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

// "YYYY-MM" (exactly four digits, a dash, two digits, month 01..12) to its month. Anything else
// is refused with a message that quotes the text.
Result<MonthRange> parse_month(std::string_view text);

// The UTC month that contains `ms`, and its name "YYYY-MM".
MonthRange month_of_ms(int64_t ms);
std::string format_month(int64_t ms);

// `ms` moved by `months` calendar months (UTC; negative moves back), keeping the time of day
// and the day of the month, clamped to the new month's last day: Jan 31 + 1 month is Feb 28
// (Feb 29 in a leap year). Exact for any time a Result-free caller may hold (years 0..9999).
int64_t add_months_ms(int64_t ms, int months);

}  // namespace berth
