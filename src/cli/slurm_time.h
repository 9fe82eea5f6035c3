// The times sacct's -S/--starttime and -E/--endtime take, as Slurm writes them, read in UTC
// (berthd keeps every time in UTC). Pure: "now" is passed in.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace berth::cli {

// Milliseconds since the epoch of one of:
//   YYYY-MM-DD[THH:MM[:SS]] (a trailing Z allowed)
//   MM/DD[/YY][-HH:MM[:SS]], MM.DD[.YY][-HH:MM[:SS]], MMDD[YY][-HH:MM[:SS]]
//       (without a year: this year's, or last year's when that date has not come yet)
//   HH:MM[:SS]              today at that time
//   now[{+|-}COUNT[seconds|minutes|hours|days|weeks]] (the unit's first letter is enough;
//       seconds when none)
//   today, midnight         today at 00:00;  noon: 12:00;  teatime: 16:00;  tomorrow: 00:00
//   tomorrow
// Anything else is Invalid, quoting the text and listing the forms.
Result<int64_t> parse_slurm_time_ms(std::string_view text, int64_t now_ms);

}  // namespace berth::cli
