#include "cli/hostlist.h"

#include <charconv>

namespace berth::cli {
namespace {

// Splits at the commas outside brackets.
Result<std::vector<std::string_view>> split_names(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char ch = i < text.size() ? text[i] : ',';
    if (ch == '[' && ++depth > 1)
      return Status::Invalid("nested '[' in node list '" + std::string(text) + "'");
    if (ch == ']' && --depth < 0)
      return Status::Invalid("unbalanced ']' in node list '" + std::string(text) + "'");
    if (ch != ',' || depth > 0) continue;
    if (i == start)
      return Status::Invalid("empty node name in node list '" + std::string(text) + "'");
    parts.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  if (depth != 0) return Status::Invalid("unbalanced '[' in node list '" + std::string(text) + "'");
  return parts;
}

Result<long> number(std::string_view digits, std::string_view shown) {
  long value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      digits.size() > 9)
    return Status::Invalid("'" + std::string(digits) + "' in node list range '" +
                           std::string(shown) + "' is not a number");
  return value;
}

std::string padded(long value, size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// One name, with at most one bracketed range list.
Status expand_name(std::string_view name, std::vector<std::string>* out) {
  const size_t open = name.find('[');
  if (open == std::string_view::npos) {
    out->emplace_back(name);
    return Status::Ok();
  }
  const size_t close = name.find(']', open);
  const std::string_view prefix = name.substr(0, open), suffix = name.substr(close + 1);
  if (suffix.find('[') != std::string_view::npos)
    return Status::Invalid("node name '" + std::string(name) +
                           "' has more than one [...] range list");
  const std::string_view ranges = name.substr(open + 1, close - open - 1);
  size_t start = 0;
  while (start <= ranges.size()) {
    const size_t comma = std::min(ranges.find(',', start), ranges.size());
    const std::string_view range = ranges.substr(start, comma - start);
    const size_t dash = range.find('-');
    const std::string_view low_text = range.substr(0, dash);
    BERTH_ASSIGN_OR_RETURN(long low, number(low_text, name));
    long high = low;
    if (dash != std::string_view::npos) {
      BERTH_ASSIGN_OR_RETURN(high, number(range.substr(dash + 1), name));
    }
    if (high < low)
      return Status::Invalid("range '" + std::string(range) + "' in node list runs backwards");
    if (static_cast<size_t>(high - low) >= kMaxHostlistNames || out->size() > kMaxHostlistNames)
      return Status::Invalid("node list names more than " + std::to_string(kMaxHostlistNames) +
                             " nodes");
    for (long v = low; v <= high; ++v)
      out->push_back(std::string(prefix) + padded(v, low_text.size()) + std::string(suffix));
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> expand_hostlist(std::string_view text) {
  if (text.empty()) return Status::Invalid("the node list is empty");
  if (text.find('/') != std::string_view::npos)
    return Status::Invalid(
        "node list '" + std::string(text) +
        "' looks like a file; berth takes the node names themselves, e.g. gpu-node-[01-04]");
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string_view> names, split_names(text));
  std::vector<std::string> out;
  for (std::string_view name : names) BERTH_RETURN_IF_ERROR(expand_name(name, &out));
  if (out.size() > kMaxHostlistNames)
    return Status::Invalid("node list names more than " + std::to_string(kMaxHostlistNames) +
                           " nodes");
  return out;
}

}  // namespace berth::cli
