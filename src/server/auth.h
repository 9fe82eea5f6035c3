// Bearer tokens. A token is 32 random bytes in hex; only its SHA-256 is stored.
// Roles: admin (everything) and member (one organisation's projects, jobs and money).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/ids.h"

namespace berth::server {

enum class Role { kAdmin, kMember };

struct Principal {
  std::string user;
  Role role = Role::kMember;
  OrgId org;  // for members
  bool admin() const { return role == Role::kAdmin; }
  bool sees(OrgId other) const { return admin() || org == other; }
};

std::string new_token();                        // 64 hex characters from the OS's random source
std::string token_hash(const std::string& token);  // SHA-256, hex

// Token hash -> principal; thread-safe (HTTP threads look up, the core thread adds).
class TokenTable {
 public:
  void add(const std::string& hash, const Principal& p);
  std::optional<Principal> find_token(const std::string& token) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Principal> by_hash_;
};

}  // namespace berth::server
