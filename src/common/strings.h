// Small string helpers shared by the parsers.
#pragma once

#include <string_view>
#include <vector>

namespace berth {

// Splits on `sep`, keeping empty parts (so that "1,,2" is refused rather than read as "1,2").
std::vector<std::string_view> split(std::string_view text, char sep);

}  // namespace berth
