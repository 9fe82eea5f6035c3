// A certificate request (PEM) as a node makes one: a fresh EC P-256 key, the CN given, signed by
// that key. For the tests of berthd's CA (unit and integration).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

namespace berth::testing {

// A node's fresh key and its certificate request, both PEM.
struct TestKeyRequest {
  std::string key_pem;
  std::string csr_pem;
};

inline std::string pem_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

inline TestKeyRequest key_and_request_for(const std::string& cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req, key);
  X509_REQ_sign(req, key, EVP_sha256());
  BIO* req_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(req_bio, req);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return {pem_text(key_bio), pem_text(req_bio)};
}

inline std::string certificate_request_for(const std::string& cn) {
  return key_and_request_for(cn).csr_pem;
}

}  // namespace berth::testing
