#include "server/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

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

void TokenTable::add(const std::string& hash, const Principal& p) {
  std::lock_guard<std::mutex> lock(mu_);
  by_hash_[hash] = p;
}

std::optional<Principal> TokenTable::find_token(const std::string& token) const {
  const std::string h = token_hash(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

size_t TokenTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_hash_.size();
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kMember: return "member";
    case Role::kReviewer: return "reviewer";
  }
  return "member";
}

bool parse_role(const std::string& text, Role* out) {
  for (Role r : {Role::kAdmin, Role::kMember, Role::kReviewer}) {
    if (text == role_name(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

}  // namespace berth::server
