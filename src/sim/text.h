// Small text helpers the sim folder's readers and report share. Header-only, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::sim {

// 1234567 -> "1,234,567"; negative numbers keep their sign ("-1,000").
inline std::string with_commas(int64_t n) {
  // Through the unsigned magnitude, so that INT64_MIN has one too.
  const uint64_t magnitude =
      n < 0 ? uint64_t{0} - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace berth::sim
