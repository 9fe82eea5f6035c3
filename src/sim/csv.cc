#include "sim/csv.h"

#include <algorithm>

#include "common/strings.h"

namespace berth::sim {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Status CsvSplitter::split(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  unquoted_.clear();
  // No quoted text is longer than its line, so the buffer never moves and earlier views last.
  unquoted_.reserve(line.size());
  size_t i = 0;
  while (true) {
    const size_t start = i;
    while (i < line.size() && blank(line[i])) ++i;
    if (i < line.size() && line[i] == '"') {
      const std::string field_name = "field " + std::to_string(fields->size() + 1);
      const size_t from = unquoted_.size();
      bool closed = false;
      for (++i; i < line.size(); ++i) {
        if (line[i] != '"') {
          unquoted_ += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          unquoted_ += '"';
          ++i;
        } else {
          closed = true;
          ++i;
          break;
        }
      }
      if (!closed)
        return Status::Invalid(field_name +
                               ": a quote is not closed on this line (a quoted field may not "
                               "span lines)");
      while (i < line.size() && blank(line[i])) ++i;
      if (i < line.size() && line[i] != ',')
        return Status::Invalid(field_name + ": text after the closing quote");
      fields->push_back(std::string_view(unquoted_).substr(from));
    } else {
      i = std::min(line.find(',', start), line.size());
      fields->push_back(trim(line.substr(start, i - start)));
    }
    if (i >= line.size()) return Status::Ok();
    ++i;  // past the comma
  }
}

}  // namespace berth::sim
