#include "core/submit_keys.h"

#include <algorithm>

namespace berth::core {

Status SubmitKeys::check_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyChars)
    return Status::Invalid("an idempotency key must be 1 to " + std::to_string(kMaxKeyChars) +
                           " characters");
  for (unsigned char ch : key)
    if (ch < 0x21 || ch > 0x7e)
      return Status::Invalid("an idempotency key must be printable ASCII without spaces");
  return Status::Ok();
}

// The three parts joined with a separator none of them can hold (user names and keys are text
// without NUL), so that different scopes never share a string.
std::string SubmitKeys::scope(const std::string& user, OrgId org, const std::string& key) {
  return user + '\0' + std::to_string(org.value) + '\0' + key;
}

const SubmitKey* SubmitKeys::find(const std::string& user, OrgId org, const std::string& key,
                                  int64_t now_ms) const {
  auto it = by_scope_.find(scope(user, org, key));
  if (it == by_scope_.end() || it->second.created_ms + kRetentionMs <= now_ms) return nullptr;
  return &it->second;
}

void SubmitKeys::add(const SubmitKey& k) {
  std::string s = scope(k.user, k.org, k.key);
  by_scope_[s] = k;
  order_.emplace_back(std::move(s), k.job);
  // A scope added again leaves its older name in the queue; it is dropped, not obeyed, when
  // it comes to the front. So the queue holds at most one stale name per add, and is bounded
  // by being trimmed with the map.
  while (!order_.empty() && (by_scope_.size() > kMaxKeys || order_.size() > 2 * kMaxKeys)) {
    auto it = by_scope_.find(order_.front().first);
    if (it != by_scope_.end() && it->second.job == order_.front().second) by_scope_.erase(it);
    order_.pop_front();
  }
}

void SubmitKeys::forget(JobId job) {
  for (auto it = by_scope_.begin(); it != by_scope_.end(); ++it) {
    if (it->second.job != job) continue;
    by_scope_.erase(it);
    return;
  }
}

std::vector<SubmitKey> SubmitKeys::all() const {
  std::vector<SubmitKey> out;
  out.reserve(by_scope_.size());
  for (const auto& [s, k] : by_scope_) out.push_back(k);
  std::sort(out.begin(), out.end(),
            [](const SubmitKey& a, const SubmitKey& b) { return a.job < b.job; });
  return out;
}

}  // namespace berth::core
