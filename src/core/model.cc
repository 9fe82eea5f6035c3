#include "core/model.h"

namespace berth::core {

namespace {
template <typename E, size_t N>
bool parse_by_names(const std::string& text, const char* const (&names)[N], E* out) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}
const char* const kOrgKinds[] = {"startup", "enterprise", "university", "institute", "other"};
const char* const kShortfalls[] = {"wallet", "wait"};
const char* const kNodeStates[] = {"up", "drain", "down"};
const char* const kJobStates[] = {"PENDING", "RUNNING", "COMPLETED", "FAILED",
                                  "CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL"};
const char* const kReasons[] = {"None", "Priority", "Resources", "InsufficientFunds", "AwardCap", "QuotaLimit"};
static_assert(sizeof(kReasons) / sizeof(kReasons[0]) == kPendingReasonCount);
const char* const kTiers[] = {"high", "normal", "spot"};
}  // namespace

const char* org_kind_name(OrgKind k) { return kOrgKinds[static_cast<int>(k)]; }
bool parse_org_kind(const std::string& t, OrgKind* out) { return parse_by_names(t, kOrgKinds, out); }
const char* shortfall_name(Shortfall s) { return kShortfalls[static_cast<int>(s)]; }
bool parse_shortfall(const std::string& t, Shortfall* out) { return parse_by_names(t, kShortfalls, out); }
const char* node_state_name(NodeState s) { return kNodeStates[static_cast<int>(s)]; }
const char* job_state_name(JobState s) { return kJobStates[static_cast<int>(s)]; }
bool parse_job_state(const std::string& t, JobState* out) { return parse_by_names(t, kJobStates, out); }
const char* pending_reason_name(PendingReason r) { return kReasons[static_cast<int>(r)]; }
bool parse_pending_reason(const std::string& t, PendingReason* out) { return parse_by_names(t, kReasons, out); }
const char* tier_name(Tier t) { return kTiers[static_cast<int>(t)]; }
bool parse_tier(const std::string& t, Tier* out) { return parse_by_names(t, kTiers, out); }

}  // namespace berth::core
