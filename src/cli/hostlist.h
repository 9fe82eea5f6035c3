// Slurm's host lists, as --nodelist and --exclude take them: "gpu-node-[01-03,07],login1".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::cli {

// At most this many names from one list (core::kMaxChosenNodes on the server).
constexpr size_t kMaxHostlistNames = 1024;

// Expands a host list into node names, in the order written. Names are separated by commas;
// one bracketed range list per name expands to each number, keeping the low bound's zero
// padding ("n[08-10]" -> n08, n09, n10). Refused, naming what is wrong: an empty list or name,
// unbalanced brackets, a range that runs backwards, more than one range list in a name, a path
// (Slurm reads a node file there; berth wants the names), and more than kMaxHostlistNames names.
Result<std::vector<std::string>> expand_hostlist(std::string_view text);

}  // namespace berth::cli
