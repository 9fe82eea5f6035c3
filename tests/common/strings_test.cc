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

TEST(Trim, DropsTheGivenBlanksAtBothEndsOnly) {
  EXPECT_EQ(trim(" \t a b \t"), "a b");
  EXPECT_EQ(trim("a\r\n"), "a\r\n");  // spaces and tabs only, unless asked for more
  EXPECT_EQ(trim(" a\r\n", kSpacesTabsAndLineEnds), "a");
  EXPECT_EQ(trim("\v\f a \f", kAsciiWhitespace), "a");
  EXPECT_EQ(trim("\v a", kSpacesTabsAndLineEnds), "\v a");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("xx-yy-xx", "x"), "-yy-");
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

TEST(CsvTextField, NeutralisesWhatASpreadsheetWouldRunAsAFormula) {
  EXPECT_EQ(csv_text_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(csv_text_field("+1"), "'+1");
  EXPECT_EQ(csv_text_field("-3.50"), "'-3.50");  // text: only numeric columns keep the sign bare
  EXPECT_EQ(csv_text_field("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_text_field("\tx"), "'\tx");
  EXPECT_EQ(csv_text_field("\rx"), "\"'\rx\"");
  EXPECT_EQ(csv_text_field("plain"), "plain");
  EXPECT_EQ(csv_text_field(""), "");
}

TEST(ControlChars, FindsC0DelAndC1ButNotOtherUtf8) {
  EXPECT_TRUE(has_control_chars("\x1b[2J"));
  EXPECT_TRUE(has_control_chars("a\tb"));
  EXPECT_TRUE(has_control_chars(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control_chars("\x7f"));
  EXPECT_TRUE(
      has_control_chars("\xc2\x9b"
                        "31m"));  // U+009B, the one-byte CSI
  EXPECT_FALSE(
      has_control_chars("Zo\xc3\xab \xe2\x9c\x93 \xc2\xa0"));  // ë, a check mark, a no-break space
  EXPECT_FALSE(has_control_chars(""));
}

TEST(TerminalSafe, EscapesControlCharactersAndIsIdempotent) {
  EXPECT_EQ(terminal_safe("\x1b[2Jjob"), "\\x1B[2Jjob");
  EXPECT_EQ(terminal_safe("a\nb\x7f"), "a\\x0Ab\\x7F");
  EXPECT_EQ(terminal_safe("\xc2\x9b"
                          "1m"),
            "\\u009B1m");
  EXPECT_EQ(terminal_safe("Zo\xc3\xab"), "Zo\xc3\xab");
  EXPECT_EQ(terminal_safe(terminal_safe("\x1b]0;title\x07")), terminal_safe("\x1b]0;title\x07"));
  EXPECT_FALSE(has_control_chars(terminal_safe("\x1b\x01\xc2\x80")));
}

}  // namespace
}  // namespace berth
