#include "core/model.h"

#include <algorithm>

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
  std::vector<Dependency> deps;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string part = text.substr(start, comma - start);
    const size_t colon = part.find(':');
    DependencyType type;
    if (colon == std::string::npos ||
        !kDependencyTypeNames.parse_into(part.substr(0, colon), &type))
      return false;
    size_t at = colon;
    while (at < part.size()) {
      const size_t next = std::min(part.find(':', at + 1), part.size());
      const std::string id = part.substr(at + 1, next - at - 1);
      if (id.empty() || id.size() > 15 || id.find_first_not_of("0123456789") != std::string::npos)
        return false;
      deps.push_back({type, JobId(std::stoull(id))});
      at = next;
    }
    start = comma + 1;
  }
  if (deps.empty() || deps.size() > 64) return false;
  *out = std::move(deps);
  return true;
}

bool parse_array_spec(const std::string& text, std::vector<int>* indices, int* throttle,
                      std::string* error) {
  auto number = [](const std::string& t, int* out) {
    if (t.empty() || t.size() > 7 || t.find_first_not_of("0123456789") != std::string::npos)
      return false;
    *out = std::stoi(t);
    return true;
  };
  std::string spec = text;
  *throttle = 0;
  if (const size_t pct = spec.find('%'); pct != std::string::npos) {
    if (!number(spec.substr(pct + 1), throttle) || *throttle < 1) {
      *error = "array throttle after % must be a positive number";
      return false;
    }
    spec.resize(pct);
  }
  std::vector<int> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string part = spec.substr(start, comma - start);
    int step = 1;
    if (const size_t colon = part.find(':'); colon != std::string::npos) {
      if (!number(part.substr(colon + 1), &step) || step < 1) {
        *error = "array step in '" + part + "' must be a positive number";
        return false;
      }
      part.resize(colon);
    }
    int lo = 0, hi = 0;
    const size_t dash = part.find('-');
    const bool ok = dash == std::string::npos
                        ? number(part, &lo) && (hi = lo, true)
                        : number(part.substr(0, dash), &lo) && number(part.substr(dash + 1), &hi);
    if (!ok || lo > hi || hi > kMaxArrayIndex) {
      *error = "array range '" + part +
               "' is not N or N-M with N <= M <= " + std::to_string(kMaxArrayIndex);
      return false;
    }
    for (int i = lo; i <= hi; i += step) {
      out.push_back(i);
      if (static_cast<int>(out.size()) > kMaxArrayTasks) {
        *error = "an array may have at most " + std::to_string(kMaxArrayTasks) + " tasks";
        return false;
      }
    }
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    *error = "array indices repeat";
    return false;
  }
  *indices = std::move(out);
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
