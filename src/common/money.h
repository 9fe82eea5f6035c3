// Money: an integer count of minor units, never floating point.
//
// One minor unit is 1/10,000 of the currency unit (kMinorPerUnit), so HK$12.3456 is
// 123456 minor units. Amounts are int64_t named with the suffix `_minor`.
// Prices are per GPU-hour, in minor units.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/civil.h"
#include "common/status.h"

namespace berth {

using Minor = int64_t;
inline constexpr Minor kMinorPerUnit = 10'000;
inline constexpr int kMinorDigits = 4;

// Parses a decimal amount in currency units ("12", "12.5", "0.0001") into minor units.
// Refuses signs unless allow_negative, more than kMinorDigits fraction digits (a fraction
// below the minor unit), empty strings, exponents and values that overflow.
Result<Minor> parse_amount(std::string_view text, bool allow_negative = false);

// Formats minor units as a decimal with exactly kMinorDigits fraction digits: "12.3456".
// The exact figure, for JSON, CSV and anything read back by a program.
std::string format_amount(Minor amount_minor);

// Money for people (tables, statements): `currency`, a space, the amount rounded to the cent
// (half away from zero) with thousands separators: format_money(2'000'000'000, "HK$") is
// "HK$ 200,000.00", a debit "-HK$ 3.50". An empty currency gives the number alone. The one
// formatter of money that people read; format_amount stays the exact one.
std::string format_money(Minor amount_minor, std::string_view currency);
// The same without rounding, for confirming a movement of money: the cents always, and the
// minor digits beyond them when not zero: "HK$ 1,000.00", "HK$ 0.3339", "-HK$ 3.505".
std::string format_money_exact(Minor amount_minor, std::string_view currency);

// floor(a * b / c) for non-negative a, b and positive c, exact in 128 bits.
// Returns -1 if the result does not fit in int64_t.
int64_t mul_div_floor(int64_t a, int64_t b, int64_t c);

// Cost of `gpus` GPUs for `duration_ms` at `price_per_gpu_hour_minor`, floored to the minor unit.
// Returns -1 on overflow.
inline Minor gpu_cost_minor(Minor price_per_gpu_hour_minor, int64_t gpus, int64_t duration_ms) {
  if (gpus < 0 || duration_ms < 0 || price_per_gpu_hour_minor < 0) return -1;
  const int64_t unit_ms = mul_div_floor(price_per_gpu_hour_minor, gpus, 1);
  if (unit_ms < 0) return -1;
  return mul_div_floor(unit_ms, duration_ms, kMsPerHour);
}

// The subsidy share of `amount_minor` at `rate_bps` basis points: floor(rate * amount).
inline Minor subsidy_share_minor(Minor amount_minor, int64_t rate_bps) {
  return mul_div_floor(amount_minor, rate_bps, 10'000);
}

}  // namespace berth
