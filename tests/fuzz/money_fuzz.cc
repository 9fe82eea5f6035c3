// Money: parse_amount never crashes and only returns what it can format back exactly
// (parse -> format -> parse is the identity), and mul_div_floor agrees with 128-bit arithmetic.
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "common/money.h"
#include "fuzz_support.h"

using berth::Minor;

namespace {

void check_round_trip(std::string_view text, bool allow_negative) {
  auto parsed = berth::parse_amount(text, allow_negative);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal says why");
    return;
  }
  if (!allow_negative) FUZZ_CHECK(*parsed >= 0, "no sign, no negative amount");
  const std::string shown = berth::format_amount(*parsed);
  auto again = berth::parse_amount(shown, true);
  FUZZ_CHECK(again.ok() && *again == *parsed, "parse(format(x)) == x");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_round_trip(text, false);
  check_round_trip(text, true);
  if (size >= 24) {
    int64_t a, b, c;
    std::memcpy(&a, data, 8);
    std::memcpy(&b, data + 8, 8);
    std::memcpy(&c, data + 16, 8);
    // Every int64_t formats to text that parses back to it (the minimum has no positive twin).
    if (a != std::numeric_limits<int64_t>::min()) {
      auto back = berth::parse_amount(berth::format_amount(a), true);
      FUZZ_CHECK(back.ok() && *back == a, "format then parse any amount");
    }
    const int64_t r = berth::mul_div_floor(a, b, c);
    if (a < 0 || b < 0 || c <= 0) {
      FUZZ_CHECK(r == -1, "out of domain is -1");
    } else {
      const __int128 exact = static_cast<__int128>(a) * b / c;
      FUZZ_CHECK(exact > std::numeric_limits<int64_t>::max() ? r == -1 : r == exact,
                 "mul_div_floor is exact");
    }
    const Minor cost = berth::gpu_cost_minor(a, b, c);
    FUZZ_CHECK(cost >= -1, "a cost is an amount or -1");
  }
  return 0;
}
