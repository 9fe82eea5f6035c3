// A job's --dependency and --array as Slurm users write them: the one parser of each, used by
// berthd (request fields, the stored job), the CLI (checked before sending) and the scenario
// driver. On refusal each says what is wrong and where, and its caller words the message, so
// that berthd's and the CLI's messages stay as their users know them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace berth::core {

// Why a --dependency text is refused, and the text at fault.
struct DependencyTextError {
  enum class Kind {
    kUnknownType,  // `text` is the type named (empty for an empty part)
    kNoJob,        // a known type with no ":ID" after it; `text` is the type
    kNotAJobId,    // `text` is the id as written: not 1 to 15 digits
    kTooMany,      // more than kMaxDependencies jobs in all
  };
  Kind kind = Kind::kUnknownType;
  std::string text;
};
inline constexpr size_t kMaxDependencies = 64;

// "afterok:12:13,afterany:14": comma-separated TYPE:ID[:ID...] with TYPE afterok, afterany or
// afternotok, at most kMaxDependencies ids in all. Fills `out` and returns true, or returns
// false with `error` filled and `out` unchanged. Any id of up to 15 digits is read, 0 too: the
// caller decides what an id that names no job means.
bool parse_dependency_text(std::string_view text, std::vector<Dependency>* out,
                           DependencyTextError* error);

// An --array text, read: its distinct indices, ascending, and the throttle (0: none).
struct ArraySpec {
  std::vector<int> indices;
  int throttle = 0;
};

// Why an --array text is refused. `item` is the comma-separated item at fault as written
// ("0-9:0"); `range` is that item without its ":STEP".
struct ArrayTextError {
  enum class Kind {
    kBadThrottle,   // what follows '%' is not a whole number >= 1
    kNoIndexes,     // nothing before '%' (or an empty text)
    kBadStep,       // what follows ':' is not a whole number >= 1
    kNotARange,     // not N or N-M
    kReversed,      // N-M with M < N
    kIndexTooHigh,  // an index above kMaxArrayIndex
    kTooManyTasks,  // more than kMaxArrayTasks indices
    kRepeats,       // an index given twice
  };
  Kind kind = Kind::kNotARange;
  std::string item;
  std::string range;
};

// Slurm's --array: comma-separated N, N-M or N-M:STEP, then an optional "%MAX" throttle ("0-15",
// "1,3,5", "0-99:10", "0-9%2"). Numbers have at most 7 digits; at most kMaxArrayTasks distinct
// indices, each 0..kMaxArrayIndex (core/model.h). Returns true with `out` filled, or false with
// `error` filled and `out` unchanged.
bool parse_array_text(std::string_view text, ArraySpec* out, ArrayTextError* error);

}  // namespace berth::core
