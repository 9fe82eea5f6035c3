#include "common/money.h"

#include <limits>

namespace berth {

int64_t mul_div_floor(int64_t a, int64_t b, int64_t c) {
  if (a < 0 || b < 0 || c <= 0) return -1;
  const __int128 r = static_cast<__int128>(a) * b / c;
  if (r > std::numeric_limits<int64_t>::max()) return -1;
  return static_cast<int64_t>(r);
}

Result<Minor> parse_amount(std::string_view text, bool allow_negative) {
  const std::string shown(text);
  if (text.empty()) return Status::Invalid("amount is empty");
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    if (negative && !allow_negative)
      return Status::Invalid("amount '" + shown + "' must not be negative");
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return Status::Invalid("amount '" + shown + "' has no digits");
  if (dot != std::string_view::npos && frac.empty())
    return Status::Invalid("amount '" + shown + "' ends with a decimal point");
  if (frac.size() > static_cast<size_t>(kMinorDigits))
    return Status::Invalid("amount '" + shown + "' has a fraction below the minor unit (at most " +
                           std::to_string(kMinorDigits) + " decimal places)");
  __int128 value = 0;
  for (char ch : whole) {
    if (ch < '0' || ch > '9')
      return Status::Invalid("amount '" + shown + "' is not a decimal number");
    value = value * 10 + (ch - '0');
    if (value > std::numeric_limits<int64_t>::max())
      return Status::Invalid("amount '" + shown + "' is too large");
  }
  value *= kMinorPerUnit;
  int64_t scale = kMinorPerUnit / 10;
  for (char ch : frac) {
    if (ch < '0' || ch > '9')
      return Status::Invalid("amount '" + shown + "' is not a decimal number");
    value += static_cast<__int128>(ch - '0') * scale;
    scale /= 10;
  }
  if (value > std::numeric_limits<int64_t>::max())
    return Status::Invalid("amount '" + shown + "' is too large");
  return static_cast<Minor>(negative ? -value : value);
}

std::string format_amount(Minor amount_minor) {
  const bool negative = amount_minor < 0;
  const unsigned __int128 mag = negative ? -static_cast<__int128>(amount_minor) : amount_minor;
  const auto whole = static_cast<uint64_t>(mag / kMinorPerUnit);
  const auto frac = static_cast<uint64_t>(mag % kMinorPerUnit);
  std::string f = std::to_string(frac);
  f.insert(0, static_cast<size_t>(kMinorDigits) - f.size(), '0');
  return (negative ? "-" : "") + std::to_string(whole) + "." + f;
}

namespace {

// "1234567" -> "1,234,567".
std::string group_thousands(const std::string& digits) {
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

namespace {

// "-HK$ " before a debit, "HK$ " before a credit; "" / "-" with no currency.
std::string money_prefix(bool negative, std::string_view currency) {
  std::string out = negative ? "-" : "";
  if (!currency.empty()) out += std::string(currency) + " ";
  return out;
}

}  // namespace

std::string format_money(Minor amount_minor, std::string_view currency) {
  constexpr int64_t kMinorPerCent = kMinorPerUnit / 100;
  const bool negative = amount_minor < 0;
  unsigned __int128 mag = negative ? -static_cast<__int128>(amount_minor) : amount_minor;
  mag = (mag + kMinorPerCent / 2) / kMinorPerCent;  // cents, half away from zero
  const auto whole = static_cast<uint64_t>(mag / 100);
  const auto cents = static_cast<unsigned>(mag % 100);
  return money_prefix(negative && mag != 0, currency) + group_thousands(std::to_string(whole)) +
         "." + (cents < 10 ? "0" : "") + std::to_string(cents);
}

std::string format_money_exact(Minor amount_minor, std::string_view currency) {
  const bool negative = amount_minor < 0;
  const unsigned __int128 mag = negative ? -static_cast<__int128>(amount_minor) : amount_minor;
  const auto whole = static_cast<uint64_t>(mag / kMinorPerUnit);
  std::string fraction = std::to_string(static_cast<unsigned>(mag % kMinorPerUnit));
  fraction.insert(0, static_cast<size_t>(kMinorDigits) - fraction.size(), '0');
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return money_prefix(negative, currency) + group_thousands(std::to_string(whole)) + "." + fraction;
}

}  // namespace berth
