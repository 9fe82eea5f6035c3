#include "core/model.h"

#include <algorithm>

#include "core/job_text.h"

namespace berth::core {

const char* org_kind_name(OrgKind k) { return kOrgKindNames.name(k); }
bool parse_org_kind(const std::string& t, OrgKind* out) { return kOrgKindNames.parse_into(t, out); }
const char* shortfall_name(Shortfall s) { return kShortfallNames.name(s); }
bool parse_shortfall(const std::string& t, Shortfall* out) {
  return kShortfallNames.parse_into(t, out);
}
const char* node_state_name(NodeState s) { return kNodeStateNames.name(s); }
const char* job_state_name(JobState s) { return kJobStateNames.name(s); }
bool parse_job_state(const std::string& t, JobState* out) {
  return kJobStateNames.parse_into(t, out);
}
const char* pending_reason_name(PendingReason r) { return kPendingReasonNames.name(r); }
bool parse_pending_reason(const std::string& t, PendingReason* out) {
  return kPendingReasonNames.parse_into(t, out);
}
const char* tier_name(Tier t) { return kTierNames.name(t); }
bool parse_tier(const std::string& t, Tier* out) { return kTierNames.parse_into(t, out); }

const char* dependency_type_name(DependencyType t) { return kDependencyTypeNames.name(t); }

bool parse_dependencies(const std::string& text, std::vector<Dependency>* out) {
  DependencyTextError error;
  return parse_dependency_text(text, out, &error);
}

bool parse_array_spec(const std::string& text, std::vector<int>* indices, int* throttle,
                      std::string* error) {
  ArraySpec spec;
  ArrayTextError why;
  if (!parse_array_text(text, &spec, &why)) {
    switch (why.kind) {
      case ArrayTextError::Kind::kBadThrottle:
        *error = "array throttle after % must be a positive number";
        break;
      case ArrayTextError::Kind::kBadStep:
        *error = "array step in '" + why.item + "' must be a positive number";
        break;
      case ArrayTextError::Kind::kTooManyTasks:
        *error = "an array may have at most " + std::to_string(kMaxArrayTasks) + " tasks";
        break;
      case ArrayTextError::Kind::kRepeats:
        *error = "array indices repeat";
        break;
      default:  // no indexes, not a range, reversed, an index too high
        *error = "array range '" + why.range +
                 "' is not N or N-M with N <= M <= " + std::to_string(kMaxArrayIndex);
        break;
    }
    return false;
  }
  *indices = std::move(spec.indices);
  *throttle = spec.throttle;
  return true;
}

std::string format_dependencies(const std::vector<Dependency>& deps) {
  std::string out;
  for (size_t i = 0; i < deps.size(); ++i) {
    if (i > 0 && deps[i].type == deps[i - 1].type) {
      out += ":" + std::to_string(deps[i].job.value);
      continue;
    }
    if (!out.empty()) out += ",";
    out +=
        std::string(dependency_type_name(deps[i].type)) + ":" + std::to_string(deps[i].job.value);
  }
  return out;
}

}  // namespace berth::core
