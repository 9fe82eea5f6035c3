// Small string helpers shared by the parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth {

// Sets of blanks for trim: spaces and tabs (HTTP's optional whitespace, a CSV field's padding),
// those and line ends (a line of a file written on any system), and every ASCII white-space
// character (what isspace takes in the C locale).
inline constexpr std::string_view kSpacesAndTabs = " \t";
inline constexpr std::string_view kSpacesTabsAndLineEnds = " \t\r\n";
inline constexpr std::string_view kAsciiWhitespace = " \t\n\v\f\r";

// `text` without the leading and trailing characters that are in `blanks`.
std::string_view trim(std::string_view text, std::string_view blanks = kSpacesAndTabs);

// Splits on `sep`, keeping empty parts (so that "1,,2" is refused rather than read as "1,2").
std::vector<std::string_view> split(std::string_view text, char sep);

// Text made safe inside HTML elements and quoted attributes: & < > " ' become entities.
std::string html_escape(std::string_view text);

// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or line
// break; as it is otherwise.
std::string csv_field(std::string_view text);

// A CSV text cell that a spreadsheet will not run as a formula (OWASP's rule against CSV
// injection): text starting with = + - @, a tab or a carriage return gets a leading single
// quote; then it is a csv_field. Only for text: numbers are written with csv_field.
std::string csv_text_field(std::string_view text);

// Whether text holds a control character: C0 (below U+0020, so tabs and line breaks too), DEL,
// or C1 (U+0080 to U+009F, encoded in UTF-8 as C2 80 to C2 9F). Names that people choose must
// hold none: printed on a terminal they could clear the screen or rewrite what is shown.
bool has_control_chars(std::string_view text);

// Text that is safe to print on a terminal: each C0 control character or DEL as \xNN, each C1
// one as \u00NN; everything else as it is. Applying it twice changes nothing more.
std::string terminal_safe(std::string_view text);

}  // namespace berth
