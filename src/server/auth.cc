#include "server/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/timefmt.h"

namespace berth::server {

namespace {
std::string hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}
}  // namespace

std::string new_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a token");
  return hex(bytes, sizeof bytes);
}

std::string token_hash(const std::string& token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), digest, &n, EVP_sha256(), nullptr);
  return hex(digest, n);
}

std::string token_id_of_hash(const std::string& hash) { return "tok_" + hash.substr(0, 12); }

bool TokenInfo::visible_to(const Principal& who) const {
  if (who.admin()) return true;
  return principal.user == who.user && principal.role == who.role && principal.org == who.org;
}

void TokenTable::put(const TokenInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(info.hash);
  if (it == by_hash_.end()) {
    by_hash_[info.hash] = tokens_.size();
    tokens_.push_back(info);
    return;
  }
  TokenInfo& kept = tokens_[it->second];
  const int64_t last_used_ms = kept.last_used_ms;
  kept = info;
  kept.last_used_ms = std::max(last_used_ms, info.last_used_ms);
}

Result<Principal> TokenTable::find_token(const std::string& token, int64_t now_ms) {
  const std::string h = token_hash(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) return Status::Unauthenticated("unknown token");
  TokenInfo& t = tokens_[it->second];
  if (t.revoked_ms != 0)
    return Status::Unauthenticated("token revoked (" + t.id + ", at " +
                                   format_time_ms(t.revoked_ms) + ")");
  if (t.expired(now_ms))
    return Status::Unauthenticated("token expired at " + format_time_ms(t.expires_ms) + " (" +
                                   t.id + ")");
  t.last_used_ms = now_ms;
  return t.principal;
}

std::vector<TokenInfo> TokenTable::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

std::optional<TokenInfo> TokenTable::by_id(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const TokenInfo& t : tokens_)
    if (t.id == id) return t;
  return std::nullopt;
}

size_t TokenTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_.size();
}

const char* role_name(Role r) { return kRoleNames.name(r, "member"); }

bool parse_role(const std::string& text, Role* out) { return kRoleNames.parse_into(text, out); }

}  // namespace berth::server
