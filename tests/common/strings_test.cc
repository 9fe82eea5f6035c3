// The small text helpers shared by the parsers and the report writers.
#include "common/strings.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Split, KeepsEmptyParts) {
  const auto parts = split("1,,2", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
}

TEST(HtmlEscape, EscapesWhatCouldOpenATagOrCloseAnAttribute) {
  EXPECT_EQ(html_escape("plain"), "plain");
  EXPECT_EQ(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
}

TEST(CsvField, QuotesOnlyWhenItMust) {
  EXPECT_EQ(csv_field("plain text"), "plain text");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(""), "");
}

}  // namespace
}  // namespace berth
