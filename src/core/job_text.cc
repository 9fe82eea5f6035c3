#include "core/job_text.h"

#include <algorithm>

#include "common/strings.h"

namespace berth::core {
namespace {

// Up to `max_digits` ASCII digits, nothing else.
bool whole_number(std::string_view text, size_t max_digits, int64_t* out) {
  if (text.empty() || text.size() > max_digits ||
      text.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  int64_t v = 0;
  for (char ch : text) v = v * 10 + (ch - '0');
  *out = v;
  return true;
}

// An array's numbers (indices, steps, the throttle) have at most 7 digits.
bool array_number(std::string_view text, int* out) {
  int64_t v = 0;
  if (!whole_number(text, 7, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

// One item of an --array: N, N-M or N-M:STEP, its indices appended to `out`.
bool read_array_item(std::string_view item, std::vector<int>* out, ArrayTextError* error) {
  const auto fail = [&](ArrayTextError::Kind kind, std::string_view range) {
    *error = {kind, std::string(item), std::string(range)};
    return false;
  };
  std::string_view range = item;
  int step = 1;
  if (const size_t colon = item.find(':'); colon != std::string_view::npos) {
    if (!array_number(item.substr(colon + 1), &step) || step < 1)
      return fail(ArrayTextError::Kind::kBadStep, item.substr(0, colon));
    range = item.substr(0, colon);
  }
  int lo = 0, hi = 0;
  const size_t dash = range.find('-');
  const bool ok = dash == std::string_view::npos ? array_number(range, &lo) && (hi = lo, true)
                                                 : array_number(range.substr(0, dash), &lo) &&
                                                       array_number(range.substr(dash + 1), &hi);
  if (!ok) return fail(ArrayTextError::Kind::kNotARange, range);
  if (hi < lo) return fail(ArrayTextError::Kind::kReversed, range);
  if (hi > kMaxArrayIndex) return fail(ArrayTextError::Kind::kIndexTooHigh, range);
  for (int i = lo; i <= hi; i += step) {
    out->push_back(i);
    if (out->size() > static_cast<size_t>(kMaxArrayTasks))
      return fail(ArrayTextError::Kind::kTooManyTasks, range);
  }
  return true;
}

}  // namespace

bool parse_dependency_text(std::string_view text, std::vector<Dependency>* out,
                           DependencyTextError* error) {
  const auto fail = [error](DependencyTextError::Kind kind, std::string_view at) {
    *error = {kind, std::string(at)};
    return false;
  };
  std::vector<Dependency> deps;
  for (std::string_view part : split(text, ',')) {
    const size_t colon = part.find(':');
    const std::string_view name = part.substr(0, colon);
    DependencyType type;
    if (!kDependencyTypeNames.parse_into(name, &type))
      return fail(DependencyTextError::Kind::kUnknownType, name);
    if (colon == std::string_view::npos) return fail(DependencyTextError::Kind::kNoJob, name);
    for (std::string_view id : split(part.substr(colon + 1), ':')) {
      int64_t value = 0;
      if (!whole_number(id, 15, &value)) return fail(DependencyTextError::Kind::kNotAJobId, id);
      deps.push_back({type, JobId(static_cast<uint64_t>(value))});
    }
  }
  if (deps.size() > kMaxDependencies)
    return fail(DependencyTextError::Kind::kTooMany, std::to_string(deps.size()));
  *out = std::move(deps);
  return true;
}

bool parse_array_text(std::string_view text, ArraySpec* out, ArrayTextError* error) {
  ArraySpec spec;
  std::string_view items = text;
  if (const size_t percent = text.find('%'); percent != std::string_view::npos) {
    if (!array_number(text.substr(percent + 1), &spec.throttle) || spec.throttle < 1) {
      *error = {ArrayTextError::Kind::kBadThrottle, std::string(text), std::string(text)};
      return false;
    }
    items = text.substr(0, percent);
  }
  if (items.empty()) {
    *error = {ArrayTextError::Kind::kNoIndexes, "", ""};
    return false;
  }
  for (std::string_view item : split(items, ','))
    if (!read_array_item(item, &spec.indices, error)) return false;
  std::sort(spec.indices.begin(), spec.indices.end());
  if (std::adjacent_find(spec.indices.begin(), spec.indices.end()) != spec.indices.end()) {
    *error = {ArrayTextError::Kind::kRepeats, std::string(items), std::string(items)};
    return false;
  }
  *out = std::move(spec);
  return true;
}

}  // namespace berth::core
