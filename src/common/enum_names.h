// Enum names: the text form of each enum written once, as a table of {value, "name"} pairs, and
// read both ways from it.
//
//   inline constexpr auto kTierNames =
//       enum_names<Tier>("tier", {{Tier::kHigh, "high"}, {Tier::kNormal, "normal"}, ...});
//   kTierNames.name(Tier::kSpot)   // "spot"
//   kTierNames.parse("fast")       // Invalid: unknown tier "fast" (expected one of: high, ...)
//
// Names match exactly (case matters). The table's order is the order its names are listed in,
// in errors and in choices(). Tables list an enum in declaration order: name() then finds a value
// counted from 0 by its position, and any other by looking through the table. A table is a
// constant built at compile time; reading it is thread-safe.
// Tests check each table with tests/common/enum_names_testing.h: every enumerator has a name
// that parses back to it.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth {

template <typename E>
struct EnumName {
  E value{};
  const char* name = nullptr;
};

template <typename E, size_t N>
class EnumNames {
 public:
  // `what` names the enum in parse errors ("job state").
  constexpr EnumNames(const char* what, const EnumName<E> (&entries)[N]) : what_(what) {
    for (size_t i = 0; i < N; ++i) entries_[i] = entries[i];
  }

  // The value's name; `otherwise` for a value the table does not hold (a bad cast).
  constexpr const char* name(E value, const char* otherwise = "unknown") const {
    const auto at = static_cast<size_t>(value);
    if (at < N && entries_[at].value == value) return entries_[at].name;
    for (const EnumName<E>& e : entries_)
      if (e.value == value) return e.name;
    return otherwise;
  }

  // The value named `text`, or nullopt.
  constexpr std::optional<E> find(std::string_view text) const {
    for (const EnumName<E>& e : entries_)
      if (text == e.name) return e.value;
    return std::nullopt;
  }

  // Sets *out to the value named `text` and returns true; false (and *out untouched) when no
  // value has that name. For callers that write their own error.
  bool parse_into(std::string_view text, E* out) const {
    const std::optional<E> found = find(text);
    if (found) *out = *found;
    return found.has_value();
  }

  // The value named `text`, or Invalid:
  // unknown job state "foo" (expected one of: PENDING, RUNNING, ...)
  Result<E> parse(std::string_view text) const {
    if (const std::optional<E> found = find(text)) return *found;
    return Status::Invalid("unknown " + std::string(what_) + " \"" + std::string(text) +
                           "\" (expected one of: " + list() + ")");
  }

  // "high, normal, spot": the names in the table's order.
  std::string list() const { return joined(", "); }
  // "high, normal or spot": the same, for messages that say what a field must be.
  std::string choices() const { return joined(" or "); }
  // The names in the table's order, for option parsers that take a set of words.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const EnumName<E>& e : entries_) out.emplace_back(e.name);
    return out;
  }

  constexpr const char* what() const { return what_; }
  constexpr const std::array<EnumName<E>, N>& entries() const { return entries_; }

 private:
  std::string joined(const char* last_separator) const {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
      if (i > 0) out += i + 1 == N ? last_separator : ", ";
      out += entries_[i].name;
    }
    return out;
  }

  const char* what_;
  std::array<EnumName<E>, N> entries_{};
};

// Builds a table, counting its entries: enum_names<Tier>("tier", {{Tier::kHigh, "high"}, ...}).
template <typename E, size_t N>
constexpr EnumNames<E, N> enum_names(const char* what, const EnumName<E> (&entries)[N]) {
  return EnumNames<E, N>(what, entries);
}

}  // namespace berth
