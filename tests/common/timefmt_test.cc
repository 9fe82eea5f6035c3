#include "common/timefmt.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

int64_t duration(std::string_view text) {
  Result<int64_t> r = parse_duration_s(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(ParseDuration, MinutesAlone) {
  EXPECT_EQ(duration("0"), 0);
  EXPECT_EQ(duration("5"), 300);
  EXPECT_EQ(duration("90"), 5400);  // Minutes may exceed an hour, as in Slurm.
}

TEST(ParseDuration, MinutesAndSeconds) {
  EXPECT_EQ(duration("10:30"), 630);
  EXPECT_EQ(duration("120:00"), 7200);
}

TEST(ParseDuration, HoursMinutesSeconds) {
  EXPECT_EQ(duration("1:00:00"), 3600);
  EXPECT_EQ(duration("02:03:04"), 7384);
  EXPECT_EQ(duration("100:00:00"), 360000);
}

TEST(ParseDuration, DaysForms) {
  EXPECT_EQ(duration("1-0"), 86400);
  EXPECT_EQ(duration("2-12"), 2 * 86400 + 12 * 3600);
  EXPECT_EQ(duration("1-02:30"), 86400 + 2 * 3600 + 30 * 60);
  EXPECT_EQ(duration("3-04:05:06"), 3 * 86400 + 4 * 3600 + 5 * 60 + 6);
}

TEST(ParseDuration, RefusesUnlimited) {
  for (const char* text : {"UNLIMITED", "INFINITE", "unlimited", "infinite"}) {
    Result<int64_t> r = parse_duration_s(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("limit"), std::string::npos);
  }
}

TEST(ParseDuration, RefusesGarbage) {
  for (const char* text : {"", "abc", "1h", "1:2:3:4", ":", "1:", ":30", "1-", "-1", "-5:00", "+5",
                           " 5", "5 ", "1.5", "1--2", "1-2-3", "1-1:2:3:4", "0x10", "1e3"}) {
    EXPECT_FALSE(parse_duration_s(text).ok()) << "'" << text << "'";
  }
}

TEST(ParseDuration, RefusesFieldsOutOfRange) {
  EXPECT_FALSE(parse_duration_s("10:60").ok());
  EXPECT_FALSE(parse_duration_s("1:60:00").ok());
  EXPECT_FALSE(parse_duration_s("1:00:60").ok());
  EXPECT_FALSE(parse_duration_s("1-24").ok());
  EXPECT_FALSE(parse_duration_s("1-23:60").ok());
}

TEST(ParseDuration, RefusesOverlongFields) {
  EXPECT_FALSE(parse_duration_s("99999999999999999999").ok());
  EXPECT_FALSE(parse_duration_s("9999999999-00").ok());
  EXPECT_EQ(duration("999999999"), 999999999LL * 60);
}

TEST(FormatDuration, UnderADay) {
  EXPECT_EQ(format_duration(0), "00:00:00");
  EXPECT_EQ(format_duration(59), "00:00:59");
  EXPECT_EQ(format_duration(3661), "01:01:01");
  EXPECT_EQ(format_duration(86399), "23:59:59");
}

TEST(FormatDuration, DaysAndMore) {
  EXPECT_EQ(format_duration(86400), "1-00:00:00");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6), "3-04:05:06");
  EXPECT_EQ(format_duration(-61), "-00:01:01");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (int64_t s : {0LL, 1LL, 59LL, 3600LL, 86399LL, 86400LL, 90061LL, 1000000LL}) {
    EXPECT_EQ(duration(format_duration(s)), s) << s;
  }
}

int64_t time_ms(std::string_view text) {
  Result<int64_t> r = parse_time_ms(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(ParseTime, Epoch) {
  EXPECT_EQ(time_ms("1970-01-01"), 0);
  EXPECT_EQ(time_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(time_ms("1970-01-02T00:00:01Z"), 86401000);
}

TEST(ParseTime, KnownDates) {
  EXPECT_EQ(time_ms("2000-03-01"), 951868800000);
  EXPECT_EQ(time_ms("2024-02-29T12:34:56Z"), 1709210096000);
  EXPECT_EQ(time_ms("2026-01-01"), 1767225600000);
  EXPECT_EQ(time_ms("1969-12-31T23:59:59Z"), -1000);
}

TEST(ParseTime, RefusesImpossibleDates) {
  for (const char* text :
       {"2023-02-29", "2100-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-01-00",
        "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z"}) {
    EXPECT_FALSE(parse_time_ms(text).ok()) << text;
  }
  EXPECT_TRUE(parse_time_ms("2000-02-29").ok());
}

TEST(ParseTime, RefusesOtherShapes) {
  for (const char* text :
       {"", "2024-1-01", "2024/01/01", "20240101", "2024-01-01T00:00:00",
        "2024-01-01T00:00:00+08:00", "2024-01-01 00:00:00Z", "2024-01-01t00:00:00z", "-024-01-01",
        "2024-01-01T00:00Z", "yesterday"}) {
    EXPECT_FALSE(parse_time_ms(text).ok()) << text;
  }
}

TEST(FormatTime, KnownInstants) {
  EXPECT_EQ(format_time_ms(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_time_ms(1709210096000), "2024-02-29T12:34:56Z");
  EXPECT_EQ(format_time_ms(1709210096999), "2024-02-29T12:34:56Z");  // Milliseconds are dropped.
  EXPECT_EQ(format_time_ms(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_time_ms(-86400000), "1969-12-31T00:00:00Z");
}

TEST(FormatTime, RoundTripsEveryDayOfSeveralYears) {
  // Walks day by day across leap and century years, so any slip in the calendar shows.
  for (int64_t day = -800; day < 50000; day += 1) {
    const int64_t ms = day * 86400000 + 3723000;
    const std::string text = format_time_ms(ms);
    ASSERT_EQ(time_ms(text), ms) << text;
  }
}

TEST(ParseMonth, AMonthIsItsHalfOpenInterval) {
  auto nov = parse_month("2026-11");
  ASSERT_TRUE(nov.ok());
  EXPECT_EQ(nov->from_ms, time_ms("2026-11-01"));
  EXPECT_EQ(nov->to_ms, time_ms("2026-12-01"));
  auto dec = parse_month("2026-12");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->to_ms, time_ms("2027-01-01"));  // December ends in the next year
  auto feb = parse_month("2028-02");
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(feb->to_ms - feb->from_ms, 29 * int64_t{86400000});  // a leap year
}

TEST(ParseMonth, RefusesAnythingElseNamingTheText) {
  for (const char* bad : {"", "2026", "2026-1", "2026-13", "2026-00", "26-11", "2026/11",
                          "2026-11-01", "2026-1a", " 2026-11", "-026-11"}) {
    auto m = parse_month(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(m.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << m.status().message();
  }
}

TEST(MonthOf, TheMonthAroundAnInstant) {
  EXPECT_EQ(format_month(time_ms("2026-11-30T23:59:59Z")), "2026-11");
  EXPECT_EQ(month_of_ms(time_ms("2026-11-30T23:59:59Z")).from_ms, time_ms("2026-11-01"));
  EXPECT_EQ(month_of_ms(time_ms("2026-12-01")).from_ms, time_ms("2026-12-01"));
  EXPECT_EQ(format_month(-1), "1969-12");
}

TEST(AddMonthsTest, ClampsTheDayToTheMonthsEnd) {
  auto at = [](const char* t) { return *parse_time_ms(t); };
  EXPECT_EQ(add_months_ms(at("2026-01-31"), 1), at("2026-02-28"));
  EXPECT_EQ(add_months_ms(at("2028-01-31"), 1), at("2028-02-29"));  // a leap year
  EXPECT_EQ(add_months_ms(at("2026-01-31"), 2), at("2026-03-31"));
  EXPECT_EQ(add_months_ms(at("2026-03-31"), 1), at("2026-04-30"));
  EXPECT_EQ(add_months_ms(at("2026-11-15T10:20:30Z"), 3),
            at("2027-02-15T10:20:30Z"));  // over a year end
  EXPECT_EQ(add_months_ms(at("2026-12-31"), 12), at("2027-12-31"));
  EXPECT_EQ(add_months_ms(at("2026-03-31"), -1), at("2026-02-28"));
  EXPECT_EQ(add_months_ms(0, -1), -31LL * 86'400'000);  // 1969-12-01, before the epoch
  EXPECT_EQ(add_months_ms(at("2026-05-05"), 0), at("2026-05-05"));
}

}  // namespace
}  // namespace berth
