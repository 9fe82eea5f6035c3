// The enum name tables: names both ways, the parse error, the lists for messages, and the
// check that every enumerator has a name.
#include "common/enum_names.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "common/enum_names_testing.h"

namespace berth {
namespace {

enum class Colour : uint8_t { kRed = 0, kGreen, kBlue };
constexpr auto kColourNames = enum_names<Colour>(
    "colour", {{Colour::kRed, "red"}, {Colour::kGreen, "green"}, {Colour::kBlue, "blue"}});

// Listed out of declaration order, as a table may list its names in the order users read them.
enum class Size { kSmall, kLarge };
constexpr auto kSizeNames = enum_names<Size>("size", {{Size::kLarge, "L"}, {Size::kSmall, "S"}});

TEST(EnumNames, NamesEachValue) {
  EXPECT_STREQ(kColourNames.name(Colour::kRed), "red");
  EXPECT_STREQ(kColourNames.name(Colour::kBlue), "blue");
  EXPECT_STREQ(kSizeNames.name(Size::kSmall), "S");
  EXPECT_STREQ(kSizeNames.name(Size::kLarge), "L");
  static_assert(std::string_view(kColourNames.name(Colour::kGreen)) == "green");
}

TEST(EnumNames, AValueOutsideTheTableGetsTheFallback) {
  EXPECT_STREQ(kColourNames.name(static_cast<Colour>(7)), "unknown");
  EXPECT_STREQ(kColourNames.name(static_cast<Colour>(7), "?"), "?");
}

TEST(EnumNames, FindsExactNamesOnly) {
  EXPECT_EQ(kColourNames.find("green"), Colour::kGreen);
  EXPECT_EQ(kSizeNames.find("S"), Size::kSmall);
  EXPECT_EQ(kColourNames.find("Green"), std::nullopt);
  EXPECT_EQ(kColourNames.find("gree"), std::nullopt);
  EXPECT_EQ(kColourNames.find(""), std::nullopt);
}

TEST(EnumNames, ParseIntoLeavesTheValueAloneOnUnknownText) {
  Colour c = Colour::kBlue;
  EXPECT_FALSE(kColourNames.parse_into("purple", &c));
  EXPECT_EQ(c, Colour::kBlue);
  EXPECT_TRUE(kColourNames.parse_into("red", &c));
  EXPECT_EQ(c, Colour::kRed);
}

TEST(EnumNames, ParseErrorNamesWhatWasGivenAndWhatIsAccepted) {
  ASSERT_TRUE(kColourNames.parse("blue").ok());
  EXPECT_EQ(*kColourNames.parse("blue"), Colour::kBlue);
  const Result<Colour> bad = kColourNames.parse("purple");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown colour \"purple\" (expected one of: red, green, blue)");
}

TEST(EnumNames, ListsNamesInTheTablesOrder) {
  EXPECT_EQ(kColourNames.list(), "red, green, blue");
  EXPECT_EQ(kColourNames.choices(), "red, green or blue");
  EXPECT_EQ(kSizeNames.choices(), "L or S");
  EXPECT_EQ(kColourNames.names(), (std::vector<std::string>{"red", "green", "blue"}));
}

TEST(EnumNames, AOneNameTableListsJustTheName) {
  enum class One { kOnly };
  const auto one = enum_names<One>("one", {{One::kOnly, "only"}});
  EXPECT_EQ(one.list(), "only");
  EXPECT_EQ(one.choices(), "only");
}

TEST(EnumNamesTesting, FindsTheEnumerators) {
  EXPECT_TRUE(enum_testing::is_enumerator<Colour::kBlue>());
  EXPECT_FALSE(enum_testing::is_enumerator<static_cast<Colour>(3)>());
  EXPECT_EQ(enum_testing::enumerators<Colour>(),
            (std::vector<Colour>{Colour::kRed, Colour::kGreen, Colour::kBlue}));
  EXPECT_EQ(enum_testing::enumerators<Size>(), (std::vector<Size>{Size::kSmall, Size::kLarge}));
}

TEST(EnumNamesTesting, EveryEnumeratorIsNamed) {
  enum_testing::expect_every_enumerator_named(kColourNames);
  enum_testing::expect_every_enumerator_named(kSizeNames);
}

// The check fails for a table that misses an enumerator, as it would when one is added.
enum class Grown : uint8_t { kOld = 0, kNew };
constexpr auto kGrownNames = enum_names<Grown>("grown", {{Grown::kOld, "old"}});

TEST(EnumNamesTesting, AnUnnamedEnumeratorFails) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    enum_testing::expect_every_enumerator_named(kGrownNames);
  }
  ASSERT_GT(failures.size(), 0);
  EXPECT_NE(std::string(failures.GetTestPartResult(0).message()).find("named unknown"),
            std::string::npos)
      << failures.GetTestPartResult(0).message();
}

}  // namespace
}  // namespace berth
