// Units of time and days of the civil (proleptic Gregorian) calendar in UTC, as integers: the
// one definition of each, for code that computes with `_s` and `_ms` values. Pure, no I/O.
#pragma once

#include <cstdint>

namespace berth {

inline constexpr int64_t kMsPerSecond = 1'000;
inline constexpr int64_t kSecondsPerMinute = 60;
inline constexpr int64_t kSecondsPerHour = 60 * kSecondsPerMinute;
inline constexpr int64_t kSecondsPerDay = 24 * kSecondsPerHour;
inline constexpr int64_t kSecondsPerWeek = 7 * kSecondsPerDay;
inline constexpr int64_t kMsPerMinute = kSecondsPerMinute * kMsPerSecond;
inline constexpr int64_t kMsPerHour = kSecondsPerHour * kMsPerSecond;
inline constexpr int64_t kMsPerDay = kSecondsPerDay * kMsPerSecond;
inline constexpr int64_t kMsPerWeek = kSecondsPerWeek * kMsPerSecond;

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a date (month 1..12, day 1..31),
// negative before the epoch. civil_from_days is its inverse.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d);
void civil_from_days(int64_t days, int64_t* y, int64_t* m, int64_t* d);

// Whether `y` is a leap year, and the days in month `m` (1..12) of year `y`.
bool is_leap_year(int64_t y);
int64_t days_in_month(int64_t y, int64_t m);

// The day since the epoch that holds `ms`, floored, so that times before the epoch land on the
// right day; and the start (midnight, UTC) of that day in ms.
int64_t day_of_ms(int64_t ms);
int64_t start_of_day_ms(int64_t ms);

}  // namespace berth
