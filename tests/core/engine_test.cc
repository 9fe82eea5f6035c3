// The Engine's administration and ledger helpers (engine.cc): funding rules and bad fields,
// inflows bounded, top-up references, nodes going down, and the holds and posts of a job's run.
#include <gtest/gtest.h>

#include <limits>

#include "common/enum_names_testing.h"
#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

TEST_F(EngineTest, InflowsThatWouldOverflowTheBooksAreRefusedAndChangeNothing) {
  const size_t transfers = engine->ledger().transfer_count();
  const Minor wallet =
      engine->ledger().account(engine->funding().project(project)->wallet)->balance();
  for (int i = 0; i < 2; ++i) {
    auto t = engine->top_up(project, std::numeric_limits<Minor>::max(), "", kT0);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << t.status().ToString();
    EXPECT_NE(t.status().message().find("too large"), std::string::npos) << t.status().ToString();
  }
  EXPECT_EQ(engine->fund_scheme(scheme, std::numeric_limits<Minor>::max(), kT0).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(engine->adjust_wallet(project, std::numeric_limits<Minor>::max(), "typo", kT0)
                .status()
                .code(),
            Code::kInvalidArgument);
  const size_t schemes = engine->funding().schemes().size();
  EXPECT_EQ(engine
                ->create_scheme("huge", 7000, 1, Shortfall::kWallet,
                                std::numeric_limits<Minor>::max(), kT0)
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(engine->funding().schemes().size(), schemes);  // nothing half-made
  EXPECT_EQ(engine->ledger().transfer_count(), transfers);
  EXPECT_EQ(engine->ledger().account(engine->funding().project(project)->wallet)->balance(),
            wallet);
  // Ordinary amounts still move.
  EXPECT_TRUE(engine->top_up(project, 1'000'000'000'000'0000, "", kT0).ok());
  EXPECT_TRUE(engine->ledger().verify().ok());
}

TEST(FundingTest, BadFieldsAreRefused) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  EXPECT_EQ(e->create_org("", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_org("12", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(e->create_org("a b", OrgKind::kOther, kT0).status().code(), Code::kInvalidArgument);
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  EXPECT_EQ(e->create_org("hku", OrgKind::kOther, kT0).status().code(), Code::kConflict);
  EXPECT_EQ(e->create_project(OrgId(9), "x", kT0).status().code(), Code::kNotFound);
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  EXPECT_EQ(e->create_scheme("s", 10'001, 1, Shortfall::kWallet, 0, kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(e->create_scheme("s", 7000, 0, Shortfall::kWallet, 0, kT0).status().code(),
            Code::kInvalidArgument);
  const SchemeId s = e->create_scheme("s", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                      Shortfall::kWallet, 100'0000, kT0)
                         ->id;
  EXPECT_EQ(e->create_award(s, p, 10, 8, kT0 + kHour, kT0, kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(e->create_award(s, p, 0, 8, kT0, kT0 + kHour, kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(e->create_award(s, p, 10, 0, kT0, kT0 + kHour, kT0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(e->top_up(p, 0, "", kT0).status().code(), Code::kInvalidArgument);
  // Nothing above created an account beyond the system ones, the wallet and the fund.
  EXPECT_EQ(e->ledger().account_count(), 5u);
}

TEST(FundingTest, TopUpReferenceIsIdempotent) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  bool replayed = true;
  ASSERT_TRUE(e->top_up(p, 10'0000, "INV-1", kT0, &replayed).ok());
  EXPECT_FALSE(replayed);
  ASSERT_TRUE(e->top_up(p, 10'0000, "INV-1", kT0, &replayed).ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(e->top_up(p, 20'0000, "INV-1", kT0).status().code(), Code::kConflict);
  EXPECT_EQ(e->ledger().account(e->funding().project(p)->wallet)->balance(), 10'0000);
}

TEST_F(GangTest, ANodeGoingDownEndsTheGangOnAllItsNodes) {
  const JobId gang = *submit(16, 2);
  engine->schedule(kT0);
  const NodeId second = engine->job(gang)->more_nodes[0].node;
  auto ended = engine->set_node_state(second, NodeState::kDown, kT0 + kHour / 4);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, std::vector<JobId>{gang});
  EXPECT_EQ(engine->job(gang)->state, JobState::kNodeFail);
  EXPECT_EQ(engine->job(gang)->cost_minor, 4 * kPrice);  // charged for the quarter hour it ran
  EXPECT_EQ(engine->cluster().used_gpus(), 0);
}

TEST(JobMoneyTest, AHoldIsPendingToTheRevenueUnderItsRunsPhaseId) {
  Job job;
  job.id = JobId(42);
  job.restarts = 3;
  const Transfer subsidy = Engine::job_hold(job, Engine::kPhaseSubsidyHold, AccountId(9), 1234);
  EXPECT_EQ(subsidy.id, Engine::job_transfer_id(JobId(42), 3, Engine::kPhaseSubsidyHold));
  EXPECT_EQ(subsidy.debit, AccountId(9));
  EXPECT_EQ(subsidy.credit, kRevenueAccount);
  EXPECT_EQ(subsidy.amount, 1234);
  EXPECT_EQ(subsidy.flags, uint32_t{kPending});
  EXPECT_EQ(subsidy.code, uint32_t{kCodeJobSubsidy});
  EXPECT_EQ(subsidy.ref, 42u);
  const Transfer copay = Engine::job_hold(job, Engine::kPhaseCopayHold, AccountId(8), 55);
  EXPECT_EQ(copay.id, Engine::job_transfer_id(JobId(42), 3, Engine::kPhaseCopayHold));
  EXPECT_EQ(copay.code, uint32_t{kCodeJobCopay});
}

TEST(JobMoneyTest, APostSettlesItsHoldUnderThePostPhaseId) {
  Job job;
  job.id = JobId(42);
  job.restarts = 1;
  const Transfer subsidy = Engine::job_post(job, Engine::kPhaseSubsidyHold, 700);
  EXPECT_EQ(subsidy.id, Engine::job_transfer_id(JobId(42), 1, Engine::kPhaseSubsidyPost));
  EXPECT_EQ(subsidy.pending_id, Engine::job_transfer_id(JobId(42), 1, Engine::kPhaseSubsidyHold));
  EXPECT_EQ(subsidy.amount, 700);
  EXPECT_EQ(subsidy.flags, uint32_t{kPostPending});
  EXPECT_EQ(subsidy.code, uint32_t{kCodeJobSubsidy});
  EXPECT_EQ(subsidy.ref, 42u);
  const Transfer copay = Engine::job_post(job, Engine::kPhaseCopayHold, 0);
  EXPECT_EQ(copay.id, Engine::job_transfer_id(JobId(42), 1, Engine::kPhaseCopayPost));
  EXPECT_EQ(copay.pending_id, Engine::job_transfer_id(JobId(42), 1, Engine::kPhaseCopayHold));
  EXPECT_EQ(copay.code, uint32_t{kCodeJobCopay});
}

TEST(AccessActionNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(Engine::kAccessActionNames);
  EXPECT_STREQ(Engine::access_action_name(Engine::AccessAction::kAdminTokenRotate),
               "token.rotate_admin");
}

}  // namespace
}  // namespace berth::core
