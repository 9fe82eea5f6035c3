// Durations, dates and months as users write them: never a crash, and what parses formats back
// to text that parses to the same value.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/timefmt.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = berth::parse_duration_s(text); d.ok()) {
    FUZZ_CHECK(*d >= 0, "a duration is not negative");
    auto again = berth::parse_duration_s(berth::format_duration(*d));
    FUZZ_CHECK(again.ok() && *again == *d, "parse(format(duration)) == duration");
  }
  if (auto t = berth::parse_time_ms(text); t.ok()) {
    auto again = berth::parse_time_ms(berth::format_time_ms(*t));
    FUZZ_CHECK(again.ok() && *again == *t, "parse(format(time)) == time");
    const auto month = berth::month_of_ms(*t);
    FUZZ_CHECK(month.from_ms <= *t && *t < month.to_ms, "a time lies in its month");
    for (int months : {-1, 1, 12}) (void)berth::add_months_ms(*t, months);
  }
  if (auto m = berth::parse_month(text); m.ok()) {
    FUZZ_CHECK(m->from_ms < m->to_ms, "a month has a length");
    auto again = berth::parse_month(berth::format_month(m->from_ms));
    FUZZ_CHECK(again.ok() && again->from_ms == m->from_ms && again->to_ms == m->to_ms,
               "month round trip");
  }
  return 0;
}
