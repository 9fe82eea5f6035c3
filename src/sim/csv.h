// Splitting one CSV line into fields, for every CSV reader of the sim folder (berth CSV, Philly,
// PAI, tenant pools). RFC 4180 quoting: a field that starts with '"' runs to the matching '"',
// with "" inside standing for one quote, so "a,b" is one field and "say ""hi""" reads say "hi".
// Unquoted fields are trimmed of spaces and tabs; a quoted field keeps what is between its
// quotes exactly, and blanks around the quotes are dropped. Lines are split by the caller, so a
// quoted field may not span lines: a quote still open at the end of the line is an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::sim {

class CsvSplitter {
 public:
  // Splits `line` (without its line break) into *fields: views into `line`, or for quoted
  // fields with doubled quotes into this splitter, valid until the next split() and while
  // `line` lives. "" gives one empty field; "a," two.
  // Errors: Invalid "field N: ..." for a quote not closed on the line, or text after a closing
  // quote (the caller prefixes where).
  Status split(std::string_view line, std::vector<std::string_view>* fields);

 private:
  std::string unquoted_;  // the quoted fields' text, reserved to the line's size so views last
};

}  // namespace berth::sim
