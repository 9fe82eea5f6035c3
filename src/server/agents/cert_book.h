// Which node certificates berthd's CA signed, and which are revoked ([agents] tls =
// "berth-ca"; src/agent/README.md §9). A node whose key was stolen, or that leaves the centre,
// is shut out at once: `berth admin node-cert NAME --revoke` revokes every certificate signed
// for NAME so far, berthd ends its agent's stream, and an agent showing one is refused; a
// certificate signed afterwards works.
//
// Two append-only files in the CA's folder: `issued` ("<node> <serial>" per line) and
// `revoked` ("<serial>" per line), each line synced before the call returns. Serials are the
// certificates' own, in hex (certificate_serial). Thread-safety: every method may be called
// from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace berth::server {

class CertBook {
 public:
  // Reads the folder's files (absent: none yet).
  static Result<std::unique_ptr<CertBook>> Open(const std::string& dir);
  Status issued(const std::string& node, const std::string& serial);
  // Revokes every certificate signed for `node` not yet revoked; how many.
  Result<size_t> revoke(const std::string& node);
  bool revoked(const std::string& serial) const;

 private:
  explicit CertBook(std::string dir) : dir_(std::move(dir)) {}
  Status append(const std::string& file, const std::string& line);

  const std::string dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> issued_;  // serials by node
  std::set<std::string> revoked_;
};

// The serial number of a PEM certificate, in upper-case hex ("" when it does not parse).
std::string certificate_serial(const std::string& pem);

}  // namespace berth::server
