#include "server/leadership.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

store::Candidate candidate(const std::string& id, const std::string& name) {
  return {id, name, "http://" + name + ":8765", name + ":8766"};
}

store::LeaderInfo lease_of(const store::Candidate& holder, uint64_t epoch, int64_t now_ms,
                           int64_t expires_ms) {
  store::LeaderInfo i;
  i.epoch = epoch;
  i.holder = holder;
  i.since_ms = 1'000;
  i.expires_ms = expires_ms;
  i.now_ms = now_ms;
  return i;
}

TEST(LeadershipTest, AStandbyNamesTheLeaderWhileItsLeaseIsLive) {
  Leadership b(candidate("b1", "ctl2"), "postgresql");
  EXPECT_FALSE(b.leading());
  EXPECT_EQ(b.not_leader_body()["leader"], "");  // nothing read yet: no leader known

  b.set(lease_of(candidate("a1", "ctl1"), 7, 5'000, 8'000));
  EXPECT_FALSE(b.leading());
  const auto body = b.not_leader_body();
  EXPECT_EQ(body["error"]["code"], "not_leader");
  EXPECT_EQ(body["leader"], "http://ctl1:8765");
  EXPECT_EQ(body["error"]["message"],
            "this berthd (ctl2) is a standby; ctl1 leads at http://ctl1:8765");
  const auto d = b.describe();
  EXPECT_EQ(d["store"], "postgresql");
  EXPECT_EQ(d["epoch"], 7);
  EXPECT_EQ(d["leader"]["name"], "ctl1");
  EXPECT_EQ(d["leader"]["agents_address"], "ctl1:8766");
  EXPECT_EQ(d["this"]["role"], "standby");

  // Run out: a standby does not send clients to a leader that may be gone.
  b.set(lease_of(candidate("a1", "ctl1"), 7, 9'000, 8'000));
  EXPECT_EQ(b.not_leader_body()["leader"], "");
  EXPECT_EQ(b.leader_http_address(), "");
}

TEST(LeadershipTest, TheHolderOfTheLeaseLeadsByItsIdNotItsName) {
  Leadership a(candidate("a1", "ctl"), "postgresql");
  a.set(lease_of(candidate("a2", "ctl"), 3, 0, 3'000));  // another process of the same name
  EXPECT_FALSE(a.leading());
  a.set(lease_of(candidate("a1", "ctl"), 4, 0, 3'000));
  EXPECT_TRUE(a.leading());
  EXPECT_EQ(a.describe()["this"]["role"], "leader");
}

TEST(LeadershipTest, ACandidateIsReachedAtItsAdvertisedAddressOrItsListener) {
  DaemonConfig c;
  c.listen_host = "10.0.0.5";
  c.agents.listen = "0.0.0.0:8766";
  c.store.name = "ctl1";
  const store::Candidate me = candidate_of(c, 9000, 8766);
  EXPECT_EQ(me.name, "ctl1");
  EXPECT_EQ(me.http_address, "http://10.0.0.5:9000");
  EXPECT_NE(me.agents_address.find(":8766"), std::string::npos);
  EXPECT_EQ(me.agents_address.find("0.0.0.0"), std::string::npos);  // the host name instead
  EXPECT_EQ(me.id.size(), 16u);
  EXPECT_NE(candidate_of(c, 9000, 8766).id, me.id);  // one per process, never shared
  c.store.advertise = "http://ctl1.example:8765";
  c.store.agents_advertise = "ctl1.example:8766";
  const store::Candidate told = candidate_of(c, 9000, 8766);
  EXPECT_EQ(told.http_address, "http://ctl1.example:8765");
  EXPECT_EQ(told.agents_address, "ctl1.example:8766");
}

}  // namespace
}  // namespace berth::server
