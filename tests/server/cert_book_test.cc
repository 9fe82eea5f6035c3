// CertBook: which node certificates were signed and revoked, kept across a restart.
#include "server/agents/cert_book.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

namespace berth::server {
namespace {

namespace fs = std::filesystem;

class CertBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() / ("berth-cert-book-" + std::to_string(::getpid()))).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string dir;
};

TEST_F(CertBookTest, RevokingANodeRevokesWhatWasSignedForItSoFarAndIsKept) {
  auto book = CertBook::Open(dir);
  ASSERT_TRUE(book.ok());
  ASSERT_TRUE((*book)->issued("n1", "AA01").ok());
  ASSERT_TRUE((*book)->issued("n1", "AA02").ok());
  ASSERT_TRUE((*book)->issued("n2", "BB01").ok());
  EXPECT_FALSE((*book)->revoked("AA01"));
  Result<size_t> n = (*book)->revoke("n1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(*(*book)->revoke("n1"), 0u) << "nothing new to revoke";
  ASSERT_TRUE((*book)->issued("n1", "AA03").ok());  // signed afterwards: good
  auto again = CertBook::Open(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->revoked("AA01"));
  EXPECT_TRUE((*again)->revoked("AA02"));
  EXPECT_FALSE((*again)->revoked("AA03"));
  EXPECT_FALSE((*again)->revoked("BB01"));
  EXPECT_FALSE((*again)->revoked(""));
  EXPECT_EQ(*(*again)->revoke("n1"), 1u);
}

TEST_F(CertBookTest, ACertificatesSerialIsReadFromItsPem) {
  EXPECT_EQ(certificate_serial("not a certificate"), "");
  EXPECT_EQ(certificate_serial(""), "");
}

}  // namespace
}  // namespace berth::server
