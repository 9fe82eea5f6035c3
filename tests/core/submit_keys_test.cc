// Idempotent submits: a submit retried with its key returns the first job and changes nothing;
// the key with another request is a Conflict; keys outlive a restore and are scoped per user
// and organisation; how long and how many are kept is bounded.
#include "core/submit_keys.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/one_node.h"

namespace berth::core {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

class IdempotentSubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = Engine::Create(one_node(), kT0);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
    org = engine->create_org("hku", OrgKind::kUniversity, kT0)->id;
    project = engine->create_project(org, "vision", kT0)->id;
    other_org = engine->create_org("acme", OrgKind::kStartup, kT0)->id;
    other_project = engine->create_project(other_org, "llm", kT0)->id;
    (void)engine->drain_changes();
  }
  JobRequest request(const std::string& key, const std::string& digest = "body-1") const {
    JobRequest r;
    r.user = "alice";
    r.project = project;
    r.gpus = 1;
    r.time_limit_s = 600;
    r.hold = true;  // stays pending: what is counted is jobs, not what the scheduler does
    r.idempotency_key = key;
    r.request_digest = digest;
    return r;
  }

  std::unique_ptr<Engine> engine;
  OrgId org, other_org;
  ProjectId project, other_project;
};

TEST_F(IdempotentSubmitTest, ARetryWithTheSameKeyReturnsTheFirstJobAndChangesNothing) {
  bool replayed = true;
  auto first = engine->submit(request("k-1"), kT0, &replayed);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(replayed);
  const ChangeSet committed = engine->drain_changes();
  ASSERT_EQ(committed.submit_keys.size(), 1u);
  EXPECT_EQ(committed.submit_keys[0].job, *first);
  ASSERT_EQ(committed.jobs.size(), 1u);  // the key is committed with its job

  auto again = engine->submit(request("k-1"), kT0 + 1000, &replayed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(engine->jobs().size(), 1u);
  EXPECT_TRUE(engine->drain_changes().empty());
}

TEST_F(IdempotentSubmitTest, TheSameKeyForAnotherRequestIsAConflictNamingTheKey) {
  ASSERT_TRUE(engine->submit(request("k-2", "body-1"), kT0).ok());
  (void)engine->drain_changes();
  auto other = engine->submit(request("k-2", "body-2"), kT0);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kConflict);
  EXPECT_NE(other.status().message().find("'k-2'"), std::string::npos) << other.status().message();
  EXPECT_EQ(engine->jobs().size(), 1u);
  EXPECT_TRUE(engine->drain_changes().empty());
}

TEST_F(IdempotentSubmitTest, KeysAreScopedByUserAndOrganisation) {
  ASSERT_TRUE(engine->submit(request("shared"), kT0).ok());
  JobRequest bob = request("shared");
  bob.user = "bob";
  bool replayed = true;
  ASSERT_TRUE(engine->submit(bob, kT0, &replayed).ok());
  EXPECT_FALSE(replayed);
  JobRequest elsewhere = request("shared");
  elsewhere.project = other_project;  // alice of another organisation
  ASSERT_TRUE(engine->submit(elsewhere, kT0, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(engine->jobs().size(), 3u);
}

TEST_F(IdempotentSubmitTest, AnArrayReplaysAllItsTasks) {
  auto first = engine->submit_array(request("array-1"), {0, 1, 2}, 0, kT0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  bool replayed = false;
  auto again = engine->submit_array(request("array-1"), {0, 1, 2}, 0, kT0, &replayed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(engine->jobs().size(), 3u);
}

TEST_F(IdempotentSubmitTest, KeysSurviveARestore) {
  auto first = engine->submit(request("k-3"), kT0);
  ASSERT_TRUE(first.ok());
  auto restored = Engine::Restore(one_node(), engine->snapshot());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  bool replayed = false;
  auto again = (*restored)->submit(request("k-3"), kT0 + 1000, &replayed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ((*restored)->submit(request("k-3", "body-2"), kT0).status().code(), Code::kConflict);
}

TEST_F(IdempotentSubmitTest, AKeyIsHonouredForItsRetentionOnly) {
  ASSERT_TRUE(engine->submit(request("k-4"), kT0).ok());
  bool replayed = true;
  auto later = engine->submit(request("k-4", "body-2"), kT0 + SubmitKeys::kRetentionMs, &replayed);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_FALSE(replayed);  // the old key was forgotten: a new job, and the key now names it
  EXPECT_EQ(engine->jobs().size(), 2u);
  auto again =
      engine->submit(request("k-4", "body-2"), kT0 + SubmitKeys::kRetentionMs + 1, &replayed);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(*again, *later);
}

TEST_F(IdempotentSubmitTest, AForgottenKeySubmitsAfresh) {
  auto first = engine->submit(request("k-5"), kT0);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(engine->cancel(*first, kT0).ok());
  engine->forget_submit_key(*first);
  EXPECT_TRUE(engine->drain_changes().submit_keys.empty());
  bool replayed = true;
  auto retry = engine->submit(request("k-5"), kT0, &replayed);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(replayed);
  EXPECT_NE(*retry, *first);
}

TEST_F(IdempotentSubmitTest, AMalformedKeyIsRefused) {
  EXPECT_EQ(
      engine->submit(request(std::string(SubmitKeys::kMaxKeyChars + 1, 'k')), kT0).status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(engine->submit(request("has space"), kT0).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(engine->jobs().empty());
}

TEST(SubmitKeysTest, KeepsAtMostTheBoundForgettingTheOldestFirst) {
  SubmitKeys keys;
  for (size_t i = 0; i < SubmitKeys::kMaxKeys + 10; ++i)
    keys.add(SubmitKey{"u", OrgId(1), "k" + std::to_string(i), "d", JobId(i + 1), kT0});
  EXPECT_EQ(keys.size(), SubmitKeys::kMaxKeys);
  EXPECT_EQ(keys.find("u", OrgId(1), "k0", kT0), nullptr);
  ASSERT_NE(keys.find("u", OrgId(1), "k" + std::to_string(SubmitKeys::kMaxKeys + 9), kT0), nullptr);
}

TEST_F(IdempotentSubmitTest, TokenEventsGoIntoTheAuditRecord) {
  engine->set_actor("admin");
  engine->record_access(Engine::AccessAction::kTokenRevoke, "token tok_0123456789ab", "user alice",
                        kT0);
  const ChangeSet c = engine->drain_changes();
  ASSERT_EQ(c.audit.size(), 1u);
  EXPECT_EQ(c.audit[0].action, "token.revoke");
  EXPECT_EQ(c.audit[0].user, "admin");
  EXPECT_EQ(c.audit[0].subject, "token tok_0123456789ab");
  EXPECT_EQ(c.audit[0].amount_minor, 0);
}

}  // namespace
}  // namespace berth::core
