// The reconciliation body that berthd's GET /v1/reconcile and `berth reconcile --state-dir` share.
#include "wire/reconcile_json.h"

#include <gtest/gtest.h>

namespace berth::wire {
namespace {

core::Difference money_difference(uint64_t account) {
  core::Difference d;
  d.kind = core::DifferenceKind::kAccountBalance;
  d.entity = core::EntityKind::kAccount;
  d.id = account;
  d.field = "debits_posted";
  d.expected = 12'345;  // minor units: 1.2345
  d.found = 0;
  d.message = "differs";
  return d;
}

TEST(ReconcileJson, CleanBooksAreOkWithTheStoresCounts) {
  core::ReconcileReport store;
  store.accounts_checked = 3;
  store.jobs_checked = 2;
  const nlohmann::json j = reconcile_json(store, core::ReconcileReport{}, 10);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["checked"]["accounts"], 3);
  EXPECT_EQ(j["checked"]["jobs"], 2);
  EXPECT_EQ(j["differences_found"], 0);
  EXPECT_TRUE(j["differences"].empty());
  EXPECT_TRUE(j["engine"]["ok"].get<bool>());
}

TEST(ReconcileJson, ListsTheStoresDifferencesFirstUpToTheLimitButCountsAll) {
  core::ReconcileReport store, engine;
  store.differences = {money_difference(7)};
  store.differences_found = 1;
  engine.differences = {money_difference(8), money_difference(9)};
  engine.differences_found = 2;
  const nlohmann::json j = reconcile_json(store, engine, 2);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["differences_found"], 3);
  ASSERT_EQ(j["differences"].size(), 2u);
  EXPECT_EQ(j["differences"][0]["source"], "store");
  EXPECT_EQ(j["differences"][0]["id"], 7);
  EXPECT_EQ(j["differences"][1]["source"], "engine");
  EXPECT_FALSE(j["store"]["ok"].get<bool>());
}

TEST(DifferenceJson, MoneyIsDecimalTextAndCountsAreNumbers) {
  core::Difference d = money_difference(7);
  const nlohmann::json money = difference_json(d, "store");
  EXPECT_EQ(money["expected"], "1.2345");
  EXPECT_EQ(money["kind"], "account_balance");
  EXPECT_EQ(money["entity"], "account");
  d.money = false;
  EXPECT_EQ(difference_json(d, "store")["expected"], 12'345);
}

}  // namespace
}  // namespace berth::wire
