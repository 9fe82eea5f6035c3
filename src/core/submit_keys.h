// Idempotency keys of job submits (docs/api.md, "Idempotent submits").
//
// A client that lost the reply to a submit cannot tell whether its job was accepted; it sends
// the same request again with the same key. The first submit with a key records the key with
// the job it created (an array's first task) and a digest of what was asked, in the same
// ChangeSet as the job, so that the two are committed together. A later submit with the key:
// - by the same user for the same organisation, with the same digest: the first submission is
//   returned and nothing changes;
// - with another digest: a Conflict naming the key.
// Keys are scoped by user and organisation, so one tenant's key never reaches another's jobs.
//
// Bounds: a key is honoured for kRetentionMs after its submit (a retry comes within seconds;
// a day leaves room for a client that retries after an outage), and at most kMaxKeys are kept
// in memory, the oldest forgotten first. A key that has been forgotten is as if never used.
// No clock: every call takes now_ms. Not thread-safe: the Engine owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/civil.h"
#include "common/ids.h"
#include "common/status.h"

namespace berth::core {

struct SubmitKey {
  std::string user;
  OrgId org;
  std::string key;     // the client's Idempotency-Key, 1..kMaxKeyChars characters
  std::string digest;  // the owner's digest of the request (opaque to the core)
  JobId job;           // the first job the submit created
  int64_t created_ms = 0;
  bool operator==(const SubmitKey&) const = default;
};

class SubmitKeys {
 public:
  static constexpr int64_t kRetentionMs = kMsPerDay;
  static constexpr size_t kMaxKeys = 100'000;
  static constexpr size_t kMaxKeyChars = 128;

  // Invalid unless the key is 1..kMaxKeyChars printable ASCII characters.
  static Status check_key(const std::string& key);

  // The key's submission if it is still honoured at now_ms; nullptr otherwise.
  const SubmitKey* find(const std::string& user, OrgId org, const std::string& key,
                        int64_t now_ms) const;
  // Records a key (replacing a forgotten or expired one of the same scope), forgetting the
  // oldest beyond kMaxKeys.
  void add(const SubmitKey& k);
  // Forgets the key that points at `job` (its submit was undone before being acknowledged).
  void forget(JobId job);
  // Every key kept, oldest first.
  std::vector<SubmitKey> all() const;
  size_t size() const { return by_scope_.size(); }

 private:
  static std::string scope(const std::string& user, OrgId org, const std::string& key);
  std::unordered_map<std::string, SubmitKey> by_scope_;
  // (scope, job) in the order added; an entry whose job is no longer the scope's is stale.
  std::deque<std::pair<std::string, JobId>> order_;
};

}  // namespace berth::core
