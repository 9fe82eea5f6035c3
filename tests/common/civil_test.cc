// Units of time and the civil calendar's days, shared by the parsers, the core and the readers.
#include "common/civil.h"

#include <gtest/gtest.h>

#include "common/timefmt.h"

namespace berth {
namespace {

TEST(TimeUnits, AgreeWithEachOther) {
  EXPECT_EQ(kMsPerMinute, 60'000);
  EXPECT_EQ(kMsPerHour, 3'600'000);
  EXPECT_EQ(kSecondsPerDay, 86'400);
  EXPECT_EQ(kMsPerDay, 86'400'000);
  EXPECT_EQ(kSecondsPerWeek * kMsPerSecond, kMsPerWeek);
  EXPECT_EQ(kMsPerWeek, 7 * kMsPerDay);
}

TEST(CivilDays, KnownDatesAroundTheEpochAndLeapDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);  // 2000 is leap
  EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1);  // 1900 is not
  EXPECT_EQ(days_from_civil(2026, 3, 1) * kMsPerDay, *parse_time_ms("2026-03-01"));
}

TEST(CivilDays, CivilFromDaysIsTheInverse) {
  for (int64_t day = -800'000; day <= 800'000; day += 997) {
    int64_t y = 0, m = 0, d = 0;
    civil_from_days(day, &y, &m, &d);
    ASSERT_EQ(days_from_civil(y, m, d), day) << y << "-" << m << "-" << d;
    ASSERT_GE(m, 1);
    ASSERT_LE(m, 12);
    ASSERT_GE(d, 1);
    ASSERT_LE(d, days_in_month(y, m));
  }
}

TEST(CivilDays, MonthLengthsFollowTheGregorianLeapRule) {
  EXPECT_EQ(days_in_month(2026, 1), 31);
  EXPECT_EQ(days_in_month(2026, 4), 30);
  EXPECT_EQ(days_in_month(2026, 2), 28);
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(1900, 2), 28);
  EXPECT_EQ(days_in_month(2000, 2), 29);
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_FALSE(is_leap_year(2100));
}

TEST(StartOfDay, FloorsToMidnightUtcOnBothSidesOfTheEpoch) {
  const int64_t noon = *parse_time_ms("2026-03-01T12:34:56Z");
  EXPECT_EQ(start_of_day_ms(noon), *parse_time_ms("2026-03-01"));
  EXPECT_EQ(start_of_day_ms(*parse_time_ms("2026-03-01")), *parse_time_ms("2026-03-01"));
  EXPECT_EQ(start_of_day_ms(0), 0);
  EXPECT_EQ(start_of_day_ms(-1), -kMsPerDay);
  EXPECT_EQ(start_of_day_ms(-kMsPerDay), -kMsPerDay);
  EXPECT_EQ(day_of_ms(-1), -1);
  EXPECT_EQ(day_of_ms(kMsPerDay - 1), 0);
}

}  // namespace
}  // namespace berth
