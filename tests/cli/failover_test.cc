// FailoverApi against fake berthd: leaders, standbys and servers that are down.
#include "cli/failover.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>

namespace berth::cli {
namespace {

using nlohmann::json;

// One fake berthd at an address: what it is, and every request it was sent.
struct FakeBerthd {
  enum class Role { kLeader, kStandby, kDown } role = Role::kDown;
  std::string leader_named;            // a standby's answer
  std::optional<Status> leader_error;  // a leader's own error (may have been carried out)
  std::vector<std::string> requests;
};

class FakeBerthdApi final : public Api {
 public:
  FakeBerthdApi(std::string address, FakeBerthd* berthd)
      : address_(std::move(address)), berthd_(berthd) {}
  Result<json> get(const std::string& path) override { return answer("GET " + path); }
  using Api::post;
  Result<json> post(const std::string& path, const json&, const Headers&) override {
    return answer("POST " + path);
  }
  Result<std::string> get_text(const std::string& path) override {
    BERTH_ASSIGN_OR_RETURN(json reply, answer("GET " + path));
    return reply.dump();
  }
  std::optional<NotServed> not_served() const override { return not_served_; }

 private:
  Result<json> answer(const std::string& request) {
    not_served_ = std::nullopt;
    switch (berthd_->role) {
      case FakeBerthd::Role::kDown:
        not_served_ = NotServed{.unreachable = true};
        return Status(Code::kUnavailable, "could not reach " + address_);
      case FakeBerthd::Role::kStandby:
        berthd_->requests.push_back(request);
        not_served_ = NotServed{.leader = berthd_->leader_named};
        return Status(Code::kUnavailable, address_ + " is a standby");
      case FakeBerthd::Role::kLeader:
        berthd_->requests.push_back(request);
        if (berthd_->leader_error) return *berthd_->leader_error;
        return json{{"from", address_}};
    }
    return Status::Internal("unreachable");
  }

  std::string address_;
  FakeBerthd* berthd_;
  std::optional<NotServed> not_served_;
};

class FailoverTest : public ::testing::Test {
 protected:
  std::unique_ptr<FailoverApi> make(std::vector<std::string> servers) {
    auto connect = [this](const std::string& server) -> Result<std::unique_ptr<Api>> {
      connected_.push_back(server);
      return std::unique_ptr<Api>(new FakeBerthdApi(server, &berthds_[server]));
    };
    Result<std::unique_ptr<FailoverApi>> api =
        FailoverApi::Create(std::move(servers), connect, {.sleep_ms = [this](int64_t ms) {
                              slept_.push_back(ms);
                              if (on_sleep_) on_sleep_();
                            }});
    EXPECT_TRUE(api.ok()) << api.status().ToString();
    return api.ok() ? std::move(*api) : nullptr;
  }
  void leader(const std::string& at) { berthds_[at].role = FakeBerthd::Role::kLeader; }
  void standby(const std::string& at, const std::string& naming) {
    berthds_[at].role = FakeBerthd::Role::kStandby;
    berthds_[at].leader_named = naming;
  }
  int64_t total_slept_ms() const { return std::accumulate(slept_.begin(), slept_.end(), 0L); }

  std::map<std::string, FakeBerthd> berthds_;  // an address not set up is down
  std::vector<std::string> connected_;
  std::vector<int64_t> slept_;
  std::function<void()> on_sleep_;
};

TEST_F(FailoverTest, AStandbysAnswerLeadsToTheLeaderItNames) {
  standby("http://a:1", "http://c:1");  // c is not listed: it is asked all the same
  leader("http://c:1");
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["from"], "http://c:1");
  EXPECT_TRUE(slept_.empty());
  // The next request goes straight to the server that answered.
  ASSERT_TRUE(api->get("/v1/nodes").ok());
  EXPECT_EQ(berthds_["http://a:1"].requests, std::vector<std::string>{"GET /v1/jobs"});
  EXPECT_EQ(berthds_["http://c:1"].requests,
            (std::vector<std::string>{"GET /v1/jobs", "GET /v1/nodes"}));
  EXPECT_EQ(api->current(), "http://c:1");
}

TEST_F(FailoverTest, ALeaderNamedInAnotherFormIsTheListedServer) {
  standby("http://a:1", "http://B:1/");
  leader("b:1");
  auto api = make({"http://a:1", "b:1"});
  ASSERT_TRUE(api->get("/v1/jobs").ok());
  EXPECT_EQ(connected_, (std::vector<std::string>{"http://a:1", "b:1"}));
}

TEST_F(FailoverTest, ADeadFirstServerFallsOverToTheSecond) {
  leader("http://b:1");
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->post("/v1/jobs", json::object());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["from"], "http://b:1");
  EXPECT_TRUE(slept_.empty());  // a server not yet asked is asked at once
  ASSERT_TRUE(api->get("/v1/jobs").ok());
  EXPECT_EQ(connected_, (std::vector<std::string>{"http://a:1", "http://b:1"}));
}

TEST_F(FailoverTest, AStandbyThatNamesNoLeaderSendsToTheNextServer) {
  standby("http://a:1", "");
  leader("http://b:1");
  auto api = make({"http://a:1", "http://b:1"});
  ASSERT_TRUE(api->get("/v1/jobs").ok());
  EXPECT_EQ(api->current(), "http://b:1");
}

TEST_F(FailoverTest, AnUnavailableThatIsNotNotLeaderIsNotSentAgain) {
  leader("http://a:1");
  leader("http://b:1");
  berthds_["http://a:1"].leader_error = Status(Code::kUnavailable, "berthd is stopping");
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(), "berthd is stopping");
  EXPECT_TRUE(berthds_["http://b:1"].requests.empty());
}

TEST_F(FailoverTest, APostThatReachedAServerAndFailedIsNotSentAgain) {
  leader("http://a:1");
  leader("http://b:1");
  berthds_["http://a:1"].leader_error =
      Status(Code::kUnavailable, "no complete reply (read failed or timed out)");
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->post("/v1/jobs", json::object());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(berthds_["http://a:1"].requests, std::vector<std::string>{"POST /v1/jobs"});
  EXPECT_TRUE(berthds_["http://b:1"].requests.empty());
  EXPECT_TRUE(slept_.empty());
}

TEST_F(FailoverTest, GoingRoundAgainWaitsAndGivesUpNamingEveryServer) {
  standby("http://b:1", "");  // a is down, b has no leader to name: a takeover that never ends
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_EQ(reply.status().message(),
            "no berthd took the request within 15 s; asked http://a:1 (could not reach "
            "http://a:1); http://b:1 (http://b:1 is a standby)");
  ASSERT_FALSE(slept_.empty());
  EXPECT_EQ(slept_.front(), FailoverApi::kFirstWaitMs);
  EXPECT_EQ(*std::max_element(slept_.begin(), slept_.end()), FailoverApi::kMaxWaitMs);
  EXPECT_LE(total_slept_ms(), FailoverApi::kSearchMs);
  EXPECT_GT(total_slept_ms(), FailoverApi::kSearchMs - FailoverApi::kMaxWaitMs);
}

TEST_F(FailoverTest, ALeaderFoundWhileGoingRoundIsKept) {
  standby("http://a:1", "http://gone:1");  // both name a leader that has just died
  standby("http://b:1", "http://gone:1");
  on_sleep_ = [this] { leader("http://b:1"); };  // b takes over while the client waits
  auto api = make({"http://a:1", "http://b:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["from"], "http://b:1");
  // a, gone, b, (wait) gone, (wait) a, (wait) gone, (wait) b.
  EXPECT_EQ(slept_, (std::vector<int64_t>{100, 200, 400, 800}));
  EXPECT_EQ(api->current(), "http://b:1");
}

TEST_F(FailoverTest, TheOnlyServerRefusingFailsAtOnceWithItsOwnMessage) {
  auto api = make({"http://a:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(), "could not reach http://a:1");
  EXPECT_TRUE(slept_.empty());
}

TEST_F(FailoverTest, TheOnlyServerBeingAStandbyLeadsToItsLeader) {
  standby("http://a:1", "http://b:1");
  leader("http://b:1");
  auto api = make({"http://a:1"});
  Result<json> reply = api->get("/v1/jobs");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["from"], "http://b:1");
}

TEST_F(FailoverTest, DownloadsAndTextFollowTheLeaderToo) {
  standby("http://a:1", "http://b:1");
  leader("http://b:1");
  auto api = make({"http://a:1", "http://b:1"});
  ASSERT_TRUE(api->get_text("/v1/statement").ok());
  EXPECT_EQ(berthds_["http://b:1"].requests, std::vector<std::string>{"GET /v1/statement"});
}

TEST(FailoverCreate, RefusesAnEmptyListAndBadUrls) {
  auto connect = [](const std::string&) -> Result<std::unique_ptr<Api>> {
    return Status::Internal("not called");
  };
  EXPECT_FALSE(FailoverApi::Create({}, connect, {}).ok());
  Result<std::unique_ptr<FailoverApi>> bad =
      FailoverApi::Create({"http://a:1", "https://b:1"}, connect, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("only http://"), std::string::npos);
}

TEST(SameServer, ComparesHostPortAndBase) {
  EXPECT_TRUE(same_server("ctl1:8765", "http://ctl1:8765/"));
  EXPECT_TRUE(same_server("http://CTL1:8765", "http://ctl1:8765"));
  EXPECT_FALSE(same_server("http://ctl1:8765", "http://ctl1:8766"));
  EXPECT_FALSE(same_server("http://ctl1:8765/a", "http://ctl1:8765"));
  EXPECT_FALSE(same_server("http://ctl1", "http://ctl2"));
}

}  // namespace
}  // namespace berth::cli
