// A Unix user made for one test (useradd) and removed when it goes (userdel), so also when the
// test fails. Root only: ok() says whether it was made.
#pragma once

#include <pwd.h>
#include <sys/types.h>

#include <cstdlib>
#include <string>

namespace berth::testing {

class TemporaryUser {
 public:
  explicit TemporaryUser(std::string name) : name_(std::move(name)) {
    ok_ = std::system(
              ("useradd --no-create-home --shell /bin/sh " + name_ + " 2>/dev/null").c_str()) == 0;
  }
  ~TemporaryUser() {
    if (ok_) (void)std::system(("userdel -r " + name_ + " 2>/dev/null").c_str());
  }
  TemporaryUser(const TemporaryUser&) = delete;
  TemporaryUser& operator=(const TemporaryUser&) = delete;
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  uid_t uid() const {
    const passwd* pw = ::getpwnam(name_.c_str());
    return pw != nullptr ? pw->pw_uid : static_cast<uid_t>(-1);
  }

 private:
  std::string name_;
  bool ok_ = false;
};

}  // namespace berth::testing
