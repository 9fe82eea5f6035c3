// The CSV field splitter every sim reader uses: plain and quoted fields, RFC 4180's doubled
// quotes, blanks, and the errors for a quote left open or text after one.
#include "sim/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::sim {
namespace {

std::vector<std::string> split_ok(std::string_view line) {
  CsvSplitter splitter;
  std::vector<std::string_view> fields;
  const Status s = splitter.split(line, &fields);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return {fields.begin(), fields.end()};
}

std::string split_error(std::string_view line) {
  CsvSplitter splitter;
  std::vector<std::string_view> fields;
  const Status s = splitter.split(line, &fields);
  EXPECT_FALSE(s.ok()) << "split " << line;
  return s.message();
}

using Fields = std::vector<std::string>;

TEST(CsvSplitter, PlainFieldsAreTrimmed) {
  EXPECT_EQ(split_ok("a, b ,\tc"), (Fields{"a", "b", "c"}));
  EXPECT_EQ(split_ok(""), (Fields{""}));
  EXPECT_EQ(split_ok("a,"), (Fields{"a", ""}));
  EXPECT_EQ(split_ok(",,"), (Fields{"", "", ""}));
}

TEST(CsvSplitter, QuotedFieldsHoldCommasAndDoubledQuotes) {
  EXPECT_EQ(split_ok("\"a,b\",c"), (Fields{"a,b", "c"}));
  EXPECT_EQ(split_ok("\"say \"\"hi\"\"\""), (Fields{"say \"hi\""}));
  EXPECT_EQ(split_ok("\"\",x"), (Fields{"", "x"}));
  EXPECT_EQ(split_ok("\"\"\"\""), (Fields{"\""}));
}

TEST(CsvSplitter, BlanksAroundQuotesAreDroppedInsideKept) {
  EXPECT_EQ(split_ok("  \" a \"  ,b"), (Fields{" a ", "b"}));
}

TEST(CsvSplitter, AQuoteInsideAPlainFieldIsText) {
  EXPECT_EQ(split_ok("5\" disk,b"), (Fields{"5\" disk", "b"}));
}

TEST(CsvSplitter, ViewsOfEveryFieldLastUntilTheNextSplit) {
  // Several quoted fields with doubled quotes: the buffer holding them must not move.
  CsvSplitter splitter;
  std::vector<std::string_view> fields;
  const std::string line = "\"a\"\"1\",\"b\"\"2\",\"c\"\"3\",\"d\"\"4\",plain";
  ASSERT_TRUE(splitter.split(line, &fields).ok());
  EXPECT_EQ(Fields(fields.begin(), fields.end()),
            (Fields{"a\"1", "b\"2", "c\"3", "d\"4", "plain"}));
}

TEST(CsvSplitter, AnOpenQuoteMayNotSpanLines) {
  EXPECT_EQ(split_error("a,\"b"),
            "field 2: a quote is not closed on this line (a quoted field may not span lines)");
  EXPECT_EQ(split_error("\"a\"\""),
            "field 1: a quote is not closed on this line (a quoted "
            "field may not span lines)");
}

TEST(CsvSplitter, TextAfterTheClosingQuote) {
  EXPECT_EQ(split_error("\"a\"b,c"), "field 1: text after the closing quote");
}

}  // namespace
}  // namespace berth::sim
