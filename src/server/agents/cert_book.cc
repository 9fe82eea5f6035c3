#include "server/agents/cert_book.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace berth::server {

Result<std::unique_ptr<CertBook>> CertBook::Open(const std::string& dir) {
  std::unique_ptr<CertBook> book(new CertBook(dir));
  std::ifstream issued(dir + "/issued");
  for (std::string node, serial; issued >> node >> serial;) book->issued_[node].push_back(serial);
  std::ifstream revoked(dir + "/revoked");
  for (std::string serial; revoked >> serial;) book->revoked_.insert(serial);
  return book;
}

Status CertBook::append(const std::string& file, const std::string& line) {
  const std::string path = dir_ + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) return Status::Internal("cannot write " + path + ": " + std::strerror(err));
  return Status::Ok();
}

Status CertBook::issued(const std::string& node, const std::string& serial) {
  if (serial.empty()) return Status::Internal("a signed certificate without a serial number");
  std::lock_guard<std::mutex> lock(mu_);
  BERTH_RETURN_IF_ERROR(append("issued", node + " " + serial + "\n"));
  issued_[node].push_back(serial);
  return Status::Ok();
}

Result<size_t> CertBook::revoke(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const std::string& serial : issued_[node]) {
    if (revoked_.count(serial)) continue;
    BERTH_RETURN_IF_ERROR(append("revoked", serial + "\n"));
    revoked_.insert(serial);
    ++n;
  }
  return n;
}

bool CertBook::revoked(const std::string& serial) const {
  std::lock_guard<std::mutex> lock(mu_);
  return revoked_.count(serial) != 0;
}

std::string certificate_serial(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = bio == nullptr ? nullptr : PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  std::string out;
  if (cert != nullptr) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
    if (char* hex = bn == nullptr ? nullptr : BN_bn2hex(bn)) {
      out = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
    X509_free(cert);
  }
  BIO_free(bio);
  return out;
}

}  // namespace berth::server
