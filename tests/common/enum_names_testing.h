// Checks that an enum's name table (common/enum_names.h) names every enumerator, so that an
// enumerator added without a name fails its test.
//
// C++ cannot list an enum's enumerators, but GCC and Clang spell a template's value argument in
// __PRETTY_FUNCTION__ as the enumerator ("V = berth::core::Tier::kSpot") when one has that
// value, and as a cast ("V = (berth::core::Tier)3") when none has: the checks probe each value
// from 0 to kProbedValues - 1 that way.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/enum_names.h"

namespace berth::enum_testing {

// Every berth enum with names counts its enumerators from 0, well below this.
inline constexpr int kProbedValues = 64;

template <auto V>
constexpr std::string_view as_the_compiler_writes() {
  return __PRETTY_FUNCTION__;
}

// Whether V, a value of an enum type, is one of its enumerators.
template <auto V>
bool is_enumerator() {
  const std::string_view text = as_the_compiler_writes<V>();
  const size_t at = text.find("V = ");
  return at != std::string_view::npos && text.substr(at + 4, 1) != "(";
}

// The enumerators of E valued 0 to kProbedValues - 1.
template <typename E, size_t... I>
std::vector<E> enumerators_of(std::index_sequence<I...>) {
  std::vector<E> out;
  ((is_enumerator<static_cast<E>(I)>() ? out.push_back(static_cast<E>(I)) : void()), ...);
  return out;
}
template <typename E>
std::vector<E> enumerators() {
  return enumerators_of<E>(std::make_index_sequence<kProbedValues>());
}

// For a name function and a parser written without a table: each enumerator of E has a name
// other than `unnamed` that `find` (text -> std::optional<E>) reads back to it.
template <typename E, typename NameOf, typename Find>
void expect_every_enumerator_named(NameOf name_of, Find find, const char* unnamed = "unknown") {
  const std::vector<E> all = enumerators<E>();
  EXPECT_FALSE(all.empty());
  std::set<std::string> seen;
  for (E value : all) {
    const std::string name = name_of(value);
    SCOPED_TRACE("enumerator " + std::to_string(static_cast<int>(value)) + " named " + name);
    EXPECT_NE(name, unnamed);
    EXPECT_TRUE(seen.insert(name).second) << "two enumerators share the name";
    const std::optional<E> back = find(name);
    EXPECT_TRUE(back.has_value()) << "the name does not parse";
    if (back) {
      EXPECT_EQ(static_cast<int>(*back), static_cast<int>(value));
    }
  }
}

// A table names each enumerator of E once, and holds nothing else.
template <typename E, size_t N>
void expect_every_enumerator_named(const EnumNames<E, N>& names) {
  expect_every_enumerator_named<E>([&names](E value) { return names.name(value); },
                                   [&names](std::string_view text) { return names.find(text); });
  EXPECT_EQ(N, enumerators<E>().size()) << names.what() << ": the table has an entry twice";
  for (const EnumName<E>& entry : names.entries()) {
    const Result<E> back = names.parse(entry.name);
    EXPECT_TRUE(back.ok()) << back.status().ToString();
    if (back.ok()) {
      EXPECT_EQ(static_cast<int>(*back), static_cast<int>(entry.value)) << entry.name;
    }
  }
}

}  // namespace berth::enum_testing
