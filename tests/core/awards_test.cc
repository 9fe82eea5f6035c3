// The Engine's awards (awards.cc): eligibility and the fund bound what is granted.
#include <gtest/gtest.h>

#include <limits>

#include "core/engine.h"
#include "core/engine_fixture.h"

namespace berth::core {
namespace {

TEST(FundingTest, IneligibleOrganisationGetsNoAwardAndNothingMoves) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId startup = e->create_org("acme", OrgKind::kStartup, kT0)->id;
  const ProjectId p = e->create_project(startup, "llm", kT0)->id;
  const SchemeId s =
      e->create_scheme("unis-only", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                       Shortfall::kWallet, 100'0000, kT0)
          ->id;
  const size_t transfers = e->ledger().transfer_count();
  auto a = e->create_award(s, p, 10'0000, 8, kT0, kT0 + kHour, kT0);
  EXPECT_EQ(a.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(e->ledger().transfer_count(), transfers);
  EXPECT_TRUE(e->funding().awards().empty());
}

TEST(FundingTest, AwardsNeverExceedTheFund) {
  auto e = std::move(*Engine::Create(two_nodes(), kT0));
  const OrgId o = e->create_org("hku", OrgKind::kUniversity, kT0)->id;
  const ProjectId p = e->create_project(o, "vision", kT0)->id;
  const SchemeId s = e->create_scheme("small", 7000, 1u << static_cast<int>(OrgKind::kUniversity),
                                      Shortfall::kWallet, 100'0000, kT0)
                         ->id;
  ASSERT_TRUE(e->create_award(s, p, 60'0000, 8, kT0, kT0 + kHour, kT0).ok());
  EXPECT_EQ(e->create_award(s, p, 40'0001, 8, kT0, kT0 + kHour, kT0).status().code(),
            Code::kInsufficientFunds);
  EXPECT_TRUE(e->create_award(s, p, 40'0000, 8, kT0, kT0 + kHour, kT0).ok());
  EXPECT_EQ(e->ledger().account(e->funding().scheme(s)->fund)->balance(), 0);
}

}  // namespace
}  // namespace berth::core
