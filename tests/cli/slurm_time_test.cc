// The times `berth history -S/-E` takes, in Slurm's forms, read in UTC.
#include "cli/slurm_time.h"

#include <gtest/gtest.h>

#include "common/timefmt.h"

namespace berth::cli {
namespace {

const int64_t kNow = *parse_time_ms("2026-03-15T10:20:30Z");

std::string at(const char* text) {
  Result<int64_t> ms = parse_slurm_time_ms(text, kNow);
  return ms.ok() ? format_time_ms(*ms) : "error: " + ms.status().message();
}

TEST(SlurmTime, IsoDatesAndTimes) {
  EXPECT_EQ(at("2026-02-01"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(at("2026-02-01T08:30"), "2026-02-01T08:30:00Z");
  EXPECT_EQ(at("2026-02-01T08:30:15"), "2026-02-01T08:30:15Z");
  EXPECT_EQ(at("2026-02-01T08:30:15Z"), "2026-02-01T08:30:15Z");
}

TEST(SlurmTime, MonthDayFormsTakeThisYearUnlessThatIsToCome) {
  EXPECT_EQ(at("03/01"), "2026-03-01T00:00:00Z");
  EXPECT_EQ(at("03.01.25"), "2025-03-01T00:00:00Z");
  EXPECT_EQ(at("0301-12:00"), "2026-03-01T12:00:00Z");
  EXPECT_EQ(at("030125"), "2025-03-01T00:00:00Z");
  EXPECT_EQ(at("12/24"), "2025-12-24T00:00:00Z");  // December has not come yet this year
  EXPECT_EQ(at("02/28/26-23:59:59"), "2026-02-28T23:59:59Z");
}

TEST(SlurmTime, TimesOfDayAndWords) {
  EXPECT_EQ(at("08:00"), "2026-03-15T08:00:00Z");
  EXPECT_EQ(at("08:00:05"), "2026-03-15T08:00:05Z");
  EXPECT_EQ(at("today"), "2026-03-15T00:00:00Z");
  EXPECT_EQ(at("midnight"), "2026-03-15T00:00:00Z");
  EXPECT_EQ(at("noon"), "2026-03-15T12:00:00Z");
  EXPECT_EQ(at("teatime"), "2026-03-15T16:00:00Z");
  EXPECT_EQ(at("tomorrow"), "2026-03-16T00:00:00Z");
}

TEST(SlurmTime, NowMovedByACount) {
  EXPECT_EQ(at("now"), "2026-03-15T10:20:30Z");
  EXPECT_EQ(at("now-30"), "2026-03-15T10:20:00Z");
  EXPECT_EQ(at("now-2days"), "2026-03-13T10:20:30Z");
  EXPECT_EQ(at("now-1w"), "2026-03-08T10:20:30Z");
  EXPECT_EQ(at("now+3hours"), "2026-03-15T13:20:30Z");
  EXPECT_EQ(at("now-90minutes"), "2026-03-15T08:50:30Z");
}

TEST(SlurmTime, AnythingElseIsRefusedNamingTheForms) {
  for (const char* bad : {"", "yesterday", "2026-02-30", "2026-02-01T25:00", "13/01", "02/30",
                          "0230", "now-", "now-3fortnights", "now*2", "8:00", "08:00:00:00",
                          "2026-02-01 08:00", "03/01-8", "03/01/2026", "12345"}) {
    const std::string result = at(bad);
    EXPECT_TRUE(result.starts_with("error: time '" + std::string(bad) + "' is not one Slurm takes"))
        << bad << " -> " << result;
  }
}

}  // namespace
}  // namespace berth::cli
