// Small string helpers shared by the parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth {

// Splits on `sep`, keeping empty parts (so that "1,,2" is refused rather than read as "1,2").
std::vector<std::string_view> split(std::string_view text, char sep);

// Text made safe inside HTML elements and quoted attributes: & < > " ' become entities.
std::string html_escape(std::string_view text);

// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote or line
// break; as it is otherwise.
std::string csv_field(std::string_view text);

}  // namespace berth
