// Unit tests of the ledger's contract (src/core/ledger.h).
#include "core/ledger.h"

#include <gtest/gtest.h>

#include <limits>
#include <ostream>
#include <vector>

#include "common/enum_names_testing.h"

namespace berth::core {

// Lets GoogleTest print results by name (the same inline definition is in ledger_random_test.cc).
inline void PrintTo(TransferResult result, std::ostream* os) {
  *os << transfer_result_name(result);
}

namespace {

using R = TransferResult;

constexpr AccountId kSource{1};
constexpr AccountId kFund{2};
constexpr AccountId kAward{3};
constexpr AccountId kWallet{4};
constexpr AccountId kRevenue{5};
constexpr AccountId kExternal{6};
constexpr AccountId kMissing{99};

Transfer single(uint64_t id, AccountId debit, AccountId credit, Minor amount) {
  Transfer t;
  t.id = TransferId{id};
  t.debit = debit;
  t.credit = credit;
  t.amount = amount;
  return t;
}

Transfer hold(uint64_t id, AccountId debit, AccountId credit, Minor amount,
              int64_t timeout_ms = 0) {
  Transfer t = single(id, debit, credit, amount);
  t.flags = kPending;
  t.timeout_ms = timeout_ms;
  return t;
}

Transfer post(uint64_t id, uint64_t pending_id, Minor amount) {
  Transfer t;
  t.id = TransferId{id};
  t.flags = kPostPending;
  t.pending_id = TransferId{pending_id};
  t.amount = amount;
  return t;
}

Transfer void_(uint64_t id, uint64_t pending_id, Minor amount = 0) {
  Transfer t = post(id, pending_id, amount);
  t.flags = kVoidPending;
  return t;
}

Transfer linked(Transfer t) {
  t.flags |= kLinked;
  return t;
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add(kSource, AccountKind::kSource, false);
    add(kFund, AccountKind::kFund, true);
    add(kAward, AccountKind::kAward, true);
    add(kWallet, AccountKind::kWallet, true);
    add(kRevenue, AccountKind::kRevenue, true);
    add(kExternal, AccountKind::kExternal, false);
    ledger_.drain_changes();
  }

  void add(AccountId id, AccountKind kind, bool no_overdraft) {
    Account a;
    a.id = id;
    a.kind = kind;
    a.no_overdraft = no_overdraft;
    a.name = account_kind_name(kind);
    ASSERT_TRUE(ledger_.create_account(a, 1).ok());
  }

  // Funds the award and the wallet with 1,000 each (transfer ids 1..4).
  void fund() {
    ASSERT_EQ(ledger_.create_transfer(single(1, kSource, kFund, 1000), now_), R::kOk);
    ASSERT_EQ(ledger_.create_transfer(single(2, kFund, kAward, 1000), now_), R::kOk);
    ASSERT_EQ(ledger_.create_transfer(single(3, kExternal, kWallet, 1000), now_), R::kOk);
    ledger_.drain_changes();
  }

  const Account& acct(AccountId id) const { return *ledger_.account(id); }

  void expect_balanced() const {
    EXPECT_EQ(ledger_.total_debits_posted(), ledger_.total_credits_posted());
    EXPECT_EQ(ledger_.total_debits_pending(), ledger_.total_credits_pending());
    Status st = ledger_.verify();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  Ledger ledger_;
  int64_t now_ = 1'000;
};

// --- accounts ---------------------------------------------------------------------------

TEST_F(LedgerTest, CreateAccountRefusesZeroIdBalancesAndDuplicates) {
  Account a;
  EXPECT_EQ(ledger_.create_account(a, 0).code(), Code::kInvalidArgument);
  a.id = AccountId{50};
  a.credits_posted = 5;
  EXPECT_EQ(ledger_.create_account(a, 0).code(), Code::kInvalidArgument);
  a.credits_posted = 0;
  a.kind = static_cast<AccountKind>(42);
  EXPECT_EQ(ledger_.create_account(a, 0).code(), Code::kInvalidArgument);
  a.kind = AccountKind::kWallet;
  EXPECT_EQ(ledger_.create_account(a, 77).code(), Code::kOk);
  EXPECT_EQ(ledger_.account(AccountId{50})->created_ms, 77);
  EXPECT_EQ(ledger_.create_account(a, 0).code(), Code::kConflict);
  EXPECT_EQ(ledger_.account_count(), 7u);
}

TEST_F(LedgerTest, AccountsAreListedById) {
  Account a;
  a.id = AccountId{0x10};
  ASSERT_TRUE(ledger_.create_account(a, 0).ok());
  std::vector<const Account*> all = ledger_.accounts();
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1]->id, all[i]->id);
  EXPECT_EQ(ledger_.account(kMissing), nullptr);
}

// --- single-phase -----------------------------------------------------------------------

TEST_F(LedgerTest, SinglePhaseMovesPostedBalances) {
  EXPECT_EQ(ledger_.create_transfer(single(1, kSource, kFund, 700), now_), R::kOk);
  EXPECT_EQ(acct(kSource).debits_posted, 700);
  EXPECT_EQ(acct(kSource).balance(), -700);
  EXPECT_EQ(acct(kFund).credits_posted, 700);
  EXPECT_EQ(acct(kFund).available(), 700);
  EXPECT_EQ(ledger_.total_debits_posted(), 700);
  ASSERT_NE(ledger_.transfer(TransferId{1}), nullptr);
  EXPECT_EQ(ledger_.transfer(TransferId{1})->timestamp_ms, now_);
  EXPECT_EQ(ledger_.pending_state(TransferId{1}), PendingState::kNone);
  EXPECT_EQ(ledger_.transfer_count(), 1u);
  expect_balanced();
}

TEST_F(LedgerTest, OverdraftAllowedAccountsMayGoNegative) {
  EXPECT_EQ(ledger_.create_transfer(single(1, kExternal, kSource, 5), now_), R::kOk);
  EXPECT_EQ(acct(kExternal).balance(), -5);
  EXPECT_EQ(ledger_.create_transfer(hold(2, kSource, kExternal, 500), now_), R::kOk);
  EXPECT_EQ(acct(kSource).available(), -495);
  expect_balanced();
}

TEST_F(LedgerTest, NoOverdraftRefusesSpendingMoreThanCredits) {
  fund();
  EXPECT_EQ(ledger_.create_transfer(single(10, kWallet, kRevenue, 1001), now_), R::kExceedsCredits);
  EXPECT_EQ(ledger_.create_transfer(single(10, kWallet, kRevenue, 1000), now_), R::kOk);
  EXPECT_EQ(acct(kWallet).balance(), 0);
  EXPECT_EQ(ledger_.create_transfer(single(11, kWallet, kRevenue, 1), now_), R::kExceedsCredits);
  expect_balanced();
}

TEST_F(LedgerTest, ACreditLimitLowersTheFloorOfANoOverdraftAccount) {
  fund();
  ASSERT_TRUE(ledger_.set_credit_limit(kWallet, 300).ok());
  EXPECT_EQ(ledger_.drain_changes().accounts,
            std::vector<AccountId>{kWallet});  // persisted as a changed account
  EXPECT_EQ(acct(kWallet).spendable(), 1300);
  EXPECT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 1200), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(single(11, kWallet, kRevenue, 101), now_), R::kExceedsCredits);
  EXPECT_EQ(ledger_.create_transfer(single(11, kWallet, kRevenue, 100), now_), R::kOk);
  EXPECT_EQ(acct(kWallet).available(), -300);
  // Below what is used, on an account that may be overdrawn anyway, or out of range: refused.
  EXPECT_EQ(ledger_.set_credit_limit(kWallet, 299).code(), Code::kConflict);
  EXPECT_EQ(ledger_.set_credit_limit(kSource, 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(ledger_.set_credit_limit(kWallet, -1).code(), Code::kInvalidArgument);
  EXPECT_EQ(ledger_.set_credit_limit(kWallet, kMaxCreditLimitMinor + 1).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ledger_.set_credit_limit(AccountId(99), 1).code(), Code::kNotFound);
  EXPECT_EQ(acct(kWallet).credit_limit_minor, 300);
  expect_balanced();
}

TEST_F(LedgerTest, VerifyHoldsARestoredAccountToItsCreditLimit) {
  Ledger restored;
  Account wallet;
  wallet.id = kWallet;
  wallet.kind = AccountKind::kWallet;
  wallet.credit_limit_minor = 50;
  ASSERT_TRUE(restored.restore_account(wallet).ok());
  Account source;
  source.id = kSource;
  source.kind = AccountKind::kSource;
  source.no_overdraft = false;
  ASSERT_TRUE(restored.restore_account(source).ok());
  Transfer t = single(1, kWallet, kSource, 60);
  t.timestamp_ms = 1;
  // The restored balances must match the transfers, so this writes them as the replay will.
  Ledger tampered;
  wallet.debits_posted = 60;
  source.credits_posted = 60;
  ASSERT_TRUE(tampered.restore_account(wallet).ok());
  ASSERT_TRUE(tampered.restore_account(source).ok());
  ASSERT_TRUE(tampered.restore_transfer(t, PendingState::kNone, 0).ok());
  const Status st = tampered.verify();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("credit limit"), std::string::npos) << st.ToString();
  Account overdrawable = source;
  overdrawable.id = AccountId(77);
  overdrawable.credit_limit_minor = 1;
  EXPECT_EQ(restored.restore_account(overdrawable).code(), Code::kInvalidArgument);
}

TEST_F(LedgerTest, NoOverdraftCountsHoldsAsSpent) {
  fund();
  EXPECT_EQ(ledger_.create_transfer(hold(10, kAward, kRevenue, 600), now_), R::kOk);
  EXPECT_EQ(acct(kAward).available(), 400);
  EXPECT_EQ(acct(kAward).balance(), 1000);
  EXPECT_EQ(ledger_.create_transfer(hold(11, kAward, kRevenue, 401), now_), R::kExceedsCredits);
  EXPECT_EQ(ledger_.create_transfer(single(11, kAward, kFund, 401), now_), R::kExceedsCredits);
  EXPECT_EQ(ledger_.create_transfer(hold(11, kAward, kRevenue, 400), now_), R::kOk);
  EXPECT_EQ(acct(kAward).available(), 0);
  // Voiding a hold makes its money available again.
  EXPECT_EQ(ledger_.create_transfer(void_(12, 10), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(single(13, kAward, kFund, 600), now_), R::kOk);
  expect_balanced();
}

TEST_F(LedgerTest, AccountsNotFound) {
  EXPECT_EQ(ledger_.create_transfer(single(1, kMissing, kFund, 1), now_), R::kDebitAccountNotFound);
  EXPECT_EQ(ledger_.create_transfer(single(1, kSource, kMissing, 1), now_),
            R::kCreditAccountNotFound);
  EXPECT_EQ(ledger_.create_transfer(hold(1, AccountId{}, kFund, 1), now_),
            R::kDebitAccountNotFound);
  EXPECT_EQ(ledger_.transfer_count(), 0u);
  EXPECT_TRUE(ledger_.drain_changes().empty());
}

TEST_F(LedgerTest, MalformedTransfersAreRefused) {
  EXPECT_EQ(ledger_.create_transfer(single(0, kSource, kFund, 1), now_), R::kIdMustNotBeZero);
  EXPECT_EQ(ledger_.create_transfer(single(1, kFund, kFund, 1), now_), R::kAccountsMustBeDifferent);
  EXPECT_EQ(ledger_.create_transfer(single(1, kSource, kFund, 0), now_), R::kAmountMustBePositive);
  EXPECT_EQ(ledger_.create_transfer(single(1, kSource, kFund, -3), now_), R::kAmountMustBePositive);
  EXPECT_EQ(ledger_.create_transfer(hold(1, kSource, kFund, 0), now_), R::kAmountMustBePositive);
  Transfer t = single(1, kSource, kFund, 1);
  t.timeout_ms = 10;
  EXPECT_EQ(ledger_.create_transfer(t, now_), R::kTimeoutReservedForPending);
  EXPECT_EQ(ledger_.create_transfer(hold(1, kSource, kFund, 1, -1), now_),
            R::kTimeoutReservedForPending);
  t = hold(1, kSource, kFund, 1);
  t.flags |= kPostPending;
  EXPECT_EQ(ledger_.create_transfer(t, now_), R::kFlagsAreMutuallyExclusive);
  t.flags = kPostPending | kVoidPending;
  EXPECT_EQ(ledger_.create_transfer(t, now_), R::kFlagsAreMutuallyExclusive);
  t.flags = 1u << 20;
  EXPECT_EQ(ledger_.create_transfer(t, now_), R::kFlagsAreMutuallyExclusive);
  EXPECT_EQ(ledger_.transfer_count(), 0u);
  EXPECT_TRUE(ledger_.drain_changes().empty());
  expect_balanced();
}

TEST_F(LedgerTest, OverflowIsRefusedAndChangesNothing) {
  constexpr Minor kMax = std::numeric_limits<Minor>::max();
  EXPECT_EQ(ledger_.create_transfer(single(1, kSource, kExternal, kMax), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(single(2, kSource, kExternal, 1), now_), R::kOverflow);
  // The totals overflow too, even through accounts that have room.
  EXPECT_EQ(ledger_.create_transfer(single(2, kExternal, kSource, 1), now_), R::kOverflow);
  EXPECT_EQ(ledger_.create_transfer(hold(2, kSource, kFund, kMax), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(hold(3, kExternal, kAward, 1), now_), R::kOverflow);
  EXPECT_EQ(ledger_.create_transfer(void_(3, 2), now_), R::kOk);
  // A deadline past the end of time.
  EXPECT_EQ(ledger_.create_transfer(hold(4, kExternal, kAward, 1, kMax), now_), R::kOverflow);
  EXPECT_EQ(ledger_.account(kAward)->credits_pending, 0);
  EXPECT_EQ(ledger_.transfer_count(), 3u);
  expect_balanced();
}

// --- two-phase --------------------------------------------------------------------------

TEST_F(LedgerTest, PendingReservesWithoutPosting) {
  fund();
  EXPECT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(acct(kWallet).debits_pending, 300);
  EXPECT_EQ(acct(kWallet).debits_posted, 0);
  EXPECT_EQ(acct(kRevenue).credits_pending, 300);
  EXPECT_EQ(acct(kRevenue).credits_posted, 0);
  EXPECT_EQ(ledger_.total_debits_pending(), 300);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPending);
  EXPECT_EQ(ledger_.posted_amount(TransferId{10}), 0);
  expect_balanced();
}

TEST_F(LedgerTest, PostInFull) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 300), now_ + 5), R::kOk);
  EXPECT_EQ(acct(kWallet).debits_pending, 0);
  EXPECT_EQ(acct(kWallet).debits_posted, 300);
  EXPECT_EQ(acct(kRevenue).credits_posted, 300);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPosted);
  EXPECT_EQ(ledger_.posted_amount(TransferId{10}), 300);
  // The post is stored with the pending transfer's accounts filled in.
  const Transfer* p = ledger_.transfer(TransferId{11});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->debit, kWallet);
  EXPECT_EQ(p->credit, kRevenue);
  EXPECT_EQ(p->timestamp_ms, now_ + 5);
  expect_balanced();
}

TEST_F(LedgerTest, PostInPartReleasesTheRest) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 120), now_), R::kOk);
  EXPECT_EQ(acct(kWallet).debits_pending, 0);
  EXPECT_EQ(acct(kWallet).debits_posted, 120);
  EXPECT_EQ(acct(kWallet).available(), 880);
  EXPECT_EQ(acct(kRevenue).credits_pending, 0);
  EXPECT_EQ(acct(kRevenue).credits_posted, 120);
  EXPECT_EQ(ledger_.posted_amount(TransferId{10}), 120);
  expect_balanced();
}

TEST_F(LedgerTest, PostZeroReleasesEverything) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 0), now_), R::kOk);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPosted);
  EXPECT_EQ(ledger_.posted_amount(TransferId{10}), 0);
  EXPECT_EQ(acct(kWallet).available(), 1000);
  EXPECT_EQ(acct(kRevenue).credits_posted, 0);
  expect_balanced();
}

TEST_F(LedgerTest, PostMoreThanPendingRefused) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 301), now_), R::kExceedsPendingAmount);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, -1), now_), R::kAmountMustBePositive);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPending);
  expect_balanced();
}

TEST_F(LedgerTest, PostWithAccountsMustMatchThePendingOnes) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  Transfer p = post(11, 10, 100);
  p.debit = kAward;
  EXPECT_EQ(ledger_.create_transfer(p, now_), R::kPendingAccountsMismatch);
  p.debit = kWallet;
  p.credit = kFund;
  EXPECT_EQ(ledger_.create_transfer(p, now_), R::kPendingAccountsMismatch);
  p.credit = kRevenue;
  EXPECT_EQ(ledger_.create_transfer(p, now_), R::kOk);
  expect_balanced();
}

TEST_F(LedgerTest, PostOrVoidNeedsAPendingTransfer) {
  fund();
  EXPECT_EQ(ledger_.create_transfer(post(11, 0, 1), now_), R::kPendingIdRequired);
  EXPECT_EQ(ledger_.create_transfer(post(11, 77, 1), now_), R::kPendingTransferNotFound);
  EXPECT_EQ(ledger_.create_transfer(post(11, 1, 1), now_), R::kPendingTransferNotPending);
  EXPECT_EQ(ledger_.create_transfer(void_(11, 1), now_), R::kPendingTransferNotPending);
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(11, 10, 1), now_), R::kOk);
  // A post is not itself pending.
  EXPECT_EQ(ledger_.create_transfer(void_(12, 11), now_), R::kPendingTransferNotPending);
  Transfer p = post(12, 10, 1);
  p.timeout_ms = 5;
  EXPECT_EQ(ledger_.create_transfer(p, now_), R::kTimeoutReservedForPending);
  expect_balanced();
}

TEST_F(LedgerTest, VoidReleasesTheHold) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(20, kAward, kRevenue, 200), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(void_(11, 10, 0), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(void_(21, 20, 200), now_), R::kOk);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kVoided);
  EXPECT_EQ(ledger_.pending_state(TransferId{20}), PendingState::kVoided);
  EXPECT_EQ(acct(kWallet).available(), 1000);
  EXPECT_EQ(acct(kAward).available(), 1000);
  EXPECT_EQ(acct(kRevenue).credits_pending, 0);
  EXPECT_EQ(acct(kRevenue).credits_posted, 0);
  expect_balanced();
}

TEST_F(LedgerTest, VoidWithAnotherAmountRefused) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(void_(11, 10, 100), now_), R::kExceedsPendingAmount);
  EXPECT_EQ(ledger_.create_transfer(void_(11, 10, 301), now_), R::kExceedsPendingAmount);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPending);
}

TEST_F(LedgerTest, DoublePostOrVoidRefused) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(11, 10, 100), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(12, 10, 100), now_), R::kPendingTransferAlreadyPosted);
  EXPECT_EQ(ledger_.create_transfer(void_(12, 10), now_), R::kPendingTransferAlreadyPosted);
  ASSERT_EQ(ledger_.create_transfer(hold(20, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(void_(21, 20), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(22, 20, 1), now_), R::kPendingTransferAlreadyVoided);
  EXPECT_EQ(ledger_.create_transfer(void_(22, 20), now_), R::kPendingTransferAlreadyVoided);
  EXPECT_EQ(acct(kWallet).debits_posted, 100);
  EXPECT_EQ(ledger_.posted_amount(TransferId{10}), 100);
  expect_balanced();
}

// --- expiry -----------------------------------------------------------------------------

TEST_F(LedgerTest, ExpirePendingReleasesHoldsWhoseTimeoutPassed) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300, 1'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(20, kWallet, kRevenue, 100, 2'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(30, kWallet, kRevenue, 50), now_), R::kOk);  // no timeout
  ledger_.drain_changes();
  EXPECT_EQ(ledger_.expire_pending(now_ + 999), 0u);
  EXPECT_TRUE(ledger_.drain_changes().empty());
  EXPECT_EQ(ledger_.expire_pending(now_ + 1'000), 1u);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kExpired);
  EXPECT_EQ(ledger_.pending_state(TransferId{20}), PendingState::kPending);
  EXPECT_EQ(acct(kWallet).debits_pending, 150);
  EXPECT_EQ(acct(kWallet).debits_posted, 0);
  LedgerChanges changes = ledger_.drain_changes();
  EXPECT_TRUE(changes.transfers.empty());
  ASSERT_EQ(changes.pending_states.size(), 1u);
  EXPECT_EQ(changes.pending_states[0], TransferId{10});
  EXPECT_EQ(ledger_.expire_pending(now_ + 1'000'000), 1u);
  EXPECT_EQ(ledger_.pending_state(TransferId{20}), PendingState::kExpired);
  EXPECT_EQ(ledger_.pending_state(TransferId{30}), PendingState::kPending);
  EXPECT_EQ(ledger_.expire_pending(now_ + 1'000'000), 0u);
  expect_balanced();
}

TEST_F(LedgerTest, ExpiryFollowsDeadlinesNotArrivalOrder) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 1, 2'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(11, kWallet, kRevenue, 2, 500), now_ + 100), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(12, kWallet, kRevenue, 4, 3'000), now_ + 100), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(13, kWallet, kRevenue, 8, 100), now_ + 200), R::kOk);
  EXPECT_EQ(ledger_.expire_pending(now_ + 300), 1u);  // 13
  EXPECT_EQ(ledger_.pending_state(TransferId{13}), PendingState::kExpired);
  EXPECT_EQ(ledger_.expire_pending(now_ + 600), 1u);  // 11
  EXPECT_EQ(ledger_.pending_state(TransferId{11}), PendingState::kExpired);
  expect_balanced();
  EXPECT_EQ(ledger_.expire_pending(now_ + 2'000), 1u);  // 10
  EXPECT_EQ(ledger_.pending_state(TransferId{12}), PendingState::kPending);
  EXPECT_EQ(ledger_.expire_pending(now_ + 3'100), 1u);  // 12
  EXPECT_EQ(acct(kWallet).debits_pending, 0);
  expect_balanced();
}

TEST_F(LedgerTest, PostOrVoidOfExpiredPendingRefused) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300, 1'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(20, kWallet, kRevenue, 300, 1'000), now_), R::kOk);
  ASSERT_EQ(ledger_.expire_pending(now_ + 1'000), 2u);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 1), now_ + 1'000), R::kPendingTransferExpired);
  EXPECT_EQ(ledger_.create_transfer(void_(21, 20), now_ + 1'000), R::kPendingTransferExpired);
  expect_balanced();
}

TEST_F(LedgerTest, PostAfterTheDeadlineRefusedEvenBeforeExpirePending) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300, 1'000), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 1), now_ + 1'000), R::kPendingTransferExpired);
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPending);  // until released
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 1), now_ + 999), R::kOk);
  EXPECT_EQ(ledger_.expire_pending(now_ + 5'000), 0u);  // resolved holds never expire
  EXPECT_EQ(ledger_.pending_state(TransferId{10}), PendingState::kPosted);
  expect_balanced();
}

// --- linked chains ----------------------------------------------------------------------

TEST_F(LedgerTest, LinkedChainAppliesTogether) {
  fund();
  std::vector<Transfer> batch = {linked(hold(10, kAward, kRevenue, 700)),
                                 hold(11, kWallet, kRevenue, 300)};
  std::vector<R> results = ledger_.create_transfers(batch, now_);
  EXPECT_EQ(results, (std::vector<R>{R::kOk, R::kOk}));
  EXPECT_EQ(acct(kRevenue).credits_pending, 1000);
  expect_balanced();
}

TEST_F(LedgerTest, LinkedChainFailureInTheMiddleLeavesNoTrace) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(5, kWallet, kRevenue, 100, 10'000), now_), R::kOk);
  ledger_.drain_changes();
  const size_t before = ledger_.transfer_count();
  std::vector<Transfer> batch = {
      linked(hold(10, kAward, kRevenue, 700, 50)),  // applied, then taken back
      linked(post(11, 5, 60)),                      // resolves an older hold, taken back
      linked(hold(12, kWallet, kRevenue, 5'000)),   // fails: more than the wallet holds
      hold(13, kWallet, kRevenue, 1),
      single(14, kSource, kFund, 9),  // after the chain: independent
  };
  std::vector<R> results = ledger_.create_transfers(batch, now_);
  EXPECT_EQ(results, (std::vector<R>{R::kLinkedEventFailed, R::kLinkedEventFailed,
                                     R::kExceedsCredits, R::kLinkedEventFailed, R::kOk}));
  EXPECT_EQ(ledger_.transfer_count(), before + 1);
  for (uint64_t id : {10, 11, 12, 13}) EXPECT_EQ(ledger_.transfer(TransferId{id}), nullptr) << id;
  EXPECT_EQ(ledger_.pending_state(TransferId{5}), PendingState::kPending);
  EXPECT_EQ(acct(kAward).debits_pending, 0);
  EXPECT_EQ(acct(kWallet).debits_pending, 100);
  EXPECT_EQ(acct(kRevenue).credits_posted, 0);
  LedgerChanges changes = ledger_.drain_changes();
  EXPECT_EQ(changes.transfers, (std::vector<TransferId>{TransferId{14}}));
  EXPECT_TRUE(changes.pending_states.empty());
  EXPECT_EQ(changes.accounts, (std::vector<AccountId>{kSource, kFund}));
  // The rolled-back hold with a timeout must not expire anything later.
  EXPECT_EQ(ledger_.expire_pending(now_ + 100), 0u);
  // The ids are free again.
  batch[2].amount = 5;
  results = ledger_.create_transfers(std::span(batch).first(4), now_);
  EXPECT_EQ(results, (std::vector<R>{R::kOk, R::kOk, R::kOk, R::kOk}));
  EXPECT_EQ(ledger_.pending_state(TransferId{5}), PendingState::kPosted);
  EXPECT_EQ(ledger_.expire_pending(now_ + 50), 1u);
  expect_balanced();
}

TEST_F(LedgerTest, LinkedChainCanResolveAHoldItPlaced) {
  fund();
  std::vector<Transfer> batch = {linked(hold(10, kWallet, kRevenue, 300)),
                                 linked(post(11, 10, 200)),
                                 single(12, kWallet, kRevenue, 801)};  // fails: 800 left
  EXPECT_EQ(ledger_.create_transfers(batch, now_),
            (std::vector<R>{R::kLinkedEventFailed, R::kLinkedEventFailed, R::kExceedsCredits}));
  EXPECT_EQ(ledger_.transfer_count(), 3u);
  batch[2].amount = 800;
  EXPECT_EQ(ledger_.create_transfers(batch, now_), (std::vector<R>{R::kOk, R::kOk, R::kOk}));
  EXPECT_EQ(acct(kWallet).balance(), 0);
  expect_balanced();
}

TEST_F(LedgerTest, LinkedChainOpenAtTheEndOfTheBatchAppliesNothing) {
  fund();
  std::vector<Transfer> batch = {single(10, kSource, kFund, 1),
                                 linked(single(11, kSource, kFund, 1)),
                                 linked(single(12, kSource, kFund, 1))};
  EXPECT_EQ(ledger_.create_transfers(batch, now_),
            (std::vector<R>{R::kOk, R::kLinkedEventFailed, R::kLinkedChainOpen}));
  EXPECT_EQ(ledger_.create_transfer(linked(single(13, kSource, kFund, 1)), now_),
            R::kLinkedChainOpen);
  EXPECT_EQ(ledger_.transfer(TransferId{11}), nullptr);
  EXPECT_EQ(acct(kFund).credits_posted, 1001);
  expect_balanced();
}

TEST_F(LedgerTest, TransfersOutsideAChainFailAlone) {
  fund();
  std::vector<Transfer> batch = {single(10, kWallet, kRevenue, 10),
                                 single(11, kWallet, kRevenue, 5'000),
                                 single(12, kWallet, kRevenue, 20)};
  EXPECT_EQ(ledger_.create_transfers(batch, now_),
            (std::vector<R>{R::kOk, R::kExceedsCredits, R::kOk}));
  EXPECT_EQ(acct(kWallet).debits_posted, 30);
}

// --- idempotency ------------------------------------------------------------------------

TEST_F(LedgerTest, RetryWithSameFieldsIsExistsAndChangesNothing) {
  fund();
  Transfer t = hold(10, kWallet, kRevenue, 300, 500);
  t.code = kCodeJobCopay;
  t.ref = 42;
  ASSERT_EQ(ledger_.create_transfer(t, now_), R::kOk);
  ledger_.drain_changes();
  EXPECT_EQ(ledger_.create_transfer(t, now_ + 7), R::kExists);
  EXPECT_EQ(ledger_.transfer(TransferId{10})->timestamp_ms, now_);  // the first result stands
  EXPECT_EQ(acct(kWallet).debits_pending, 300);
  EXPECT_EQ(ledger_.transfer_count(), 4u);
  EXPECT_TRUE(ledger_.drain_changes().empty());
  // Even once the hold is resolved, the retry stays a harmless kExists.
  ASSERT_EQ(ledger_.create_transfer(post(11, 10, 100), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(t, now_), R::kExists);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 100), now_), R::kExists);
  EXPECT_EQ(acct(kWallet).debits_posted, 100);
  expect_balanced();
}

TEST_F(LedgerTest, RetryWithDifferentFieldsRefused) {
  fund();
  Transfer t = hold(10, kWallet, kRevenue, 300, 500);
  ASSERT_EQ(ledger_.create_transfer(t, now_), R::kOk);
  ledger_.drain_changes();
  Transfer other = t;
  other.amount = 301;
  EXPECT_EQ(ledger_.create_transfer(other, now_), R::kExistsWithDifferentFields);
  other = t;
  other.code = kCodeJobSubsidy;
  EXPECT_EQ(ledger_.create_transfer(other, now_), R::kExistsWithDifferentFields);
  other = t;
  other.timeout_ms = 0;
  EXPECT_EQ(ledger_.create_transfer(other, now_), R::kExistsWithDifferentFields);
  other = single(10, kWallet, kRevenue, 300);
  EXPECT_EQ(ledger_.create_transfer(other, now_), R::kExistsWithDifferentFields);
  EXPECT_TRUE(ledger_.drain_changes().empty());
  EXPECT_EQ(acct(kWallet).debits_pending, 300);
}

TEST_F(LedgerTest, RetryOfAPostMayOmitOrNameTheAccounts) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(11, 10, 100), now_), R::kOk);
  Transfer named = post(11, 10, 100);
  named.debit = kWallet;
  named.credit = kRevenue;
  EXPECT_EQ(ledger_.create_transfer(named, now_), R::kExists);
  named.credit = kFund;
  EXPECT_EQ(ledger_.create_transfer(named, now_), R::kExistsWithDifferentFields);
  EXPECT_EQ(ledger_.create_transfer(post(11, 10, 99), now_), R::kExistsWithDifferentFields);
}

TEST_F(LedgerTest, RetryOfAWholeChainIsExists) {
  fund();
  std::vector<Transfer> batch = {linked(hold(10, kAward, kRevenue, 700)),
                                 hold(11, kWallet, kRevenue, 300)};
  ASSERT_EQ(ledger_.create_transfers(batch, now_), (std::vector<R>{R::kOk, R::kOk}));
  ledger_.drain_changes();
  EXPECT_EQ(ledger_.create_transfers(batch, now_), (std::vector<R>{R::kExists, R::kExists}));
  EXPECT_TRUE(ledger_.drain_changes().empty());
  batch[1].amount = 299;
  EXPECT_EQ(ledger_.create_transfers(batch, now_),
            (std::vector<R>{R::kLinkedEventFailed, R::kExistsWithDifferentFields}));
  expect_balanced();
}

TEST_F(LedgerTest, FailedIdCanBeUsedAgain) {
  fund();
  EXPECT_EQ(ledger_.create_transfer(single(10, kWallet, kRevenue, 5'000), now_),
            R::kExceedsCredits);
  EXPECT_EQ(ledger_.create_transfer(single(10, kWallet, kRevenue, 50), now_), R::kOk);
}

// --- persistence ------------------------------------------------------------------------

TEST_F(LedgerTest, DrainChangesListsWhatChanged) {
  LedgerChanges created;
  {
    Ledger fresh;
    Account a;
    a.id = AccountId{7};
    ASSERT_TRUE(fresh.create_account(a, 0).ok());
    created = fresh.drain_changes();
    EXPECT_TRUE(fresh.drain_changes().empty());
  }
  EXPECT_EQ(created.accounts, (std::vector<AccountId>{AccountId{7}}));

  ASSERT_EQ(ledger_.create_transfer(single(1, kExternal, kWallet, 500), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(2, kWallet, kRevenue, 200), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(3, 2, 150), now_), R::kOk);
  EXPECT_EQ(ledger_.create_transfer(post(4, 2, 1), now_), R::kPendingTransferAlreadyPosted);
  LedgerChanges changes = ledger_.drain_changes();
  EXPECT_EQ(changes.transfers,
            (std::vector<TransferId>{TransferId{1}, TransferId{2}, TransferId{3}}));
  EXPECT_EQ(changes.pending_states, (std::vector<TransferId>{TransferId{2}}));
  EXPECT_EQ(changes.accounts,
            (std::vector<AccountId>{kExternal, kWallet, kWallet, kRevenue, kWallet, kRevenue}));
  EXPECT_FALSE(changes.empty());
  EXPECT_TRUE(ledger_.drain_changes().empty());
}

TEST_F(LedgerTest, RestoreRoundTripVerifies) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300, 1'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(11, kAward, kRevenue, 100, 1'000), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(12, kAward, kRevenue, 100), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(13, kAward, kRevenue, 50, 10), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(hold(14, kWallet, kRevenue, 20), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(20, 11, 40), now_ + 1), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(void_(21, 12), now_ + 2), R::kOk);
  ASSERT_EQ(ledger_.expire_pending(now_ + 10), 1u);  // 13
  ASSERT_EQ(ledger_.create_transfer(single(22, kWallet, kRevenue, 5), now_ + 11), R::kOk);
  expect_balanced();

  Ledger copy;
  for (const Account* a : ledger_.accounts()) ASSERT_TRUE(copy.restore_account(*a).ok());
  for (const Transfer& t : ledger_.transfers_in_order()) {
    Status st = copy.restore_transfer(t, ledger_.pending_state(t.id), ledger_.posted_amount(t.id));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Status st = copy.verify();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(copy.drain_changes().empty());
  EXPECT_EQ(copy.total_debits_pending(), ledger_.total_debits_pending());
  EXPECT_EQ(copy.total_credits_posted(), ledger_.total_credits_posted());
  EXPECT_EQ(copy.pending_state(TransferId{13}), PendingState::kExpired);
  EXPECT_EQ(copy.posted_amount(TransferId{11}), 40);
  // The restored ledger carries on: the pending hold still expires, ids are still taken.
  EXPECT_EQ(copy.create_transfer(single(22, kWallet, kRevenue, 5), now_ + 11), R::kExists);
  EXPECT_EQ(copy.expire_pending(now_ + 1'000), 1u);
  EXPECT_EQ(copy.pending_state(TransferId{10}), PendingState::kExpired);
  EXPECT_EQ(copy.create_transfer(post(23, 14, 20), now_ + 1'000), R::kOk);
  st = copy.verify();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(LedgerTest, RestoreRefusesBadInput) {
  fund();
  Ledger copy;
  Account a = acct(kWallet);
  ASSERT_TRUE(copy.restore_account(a).ok());
  EXPECT_EQ(copy.restore_account(a).code(), Code::kConflict);
  a.id = AccountId{};
  EXPECT_EQ(copy.restore_account(a).code(), Code::kInvalidArgument);
  const Transfer& t = *ledger_.transfer(TransferId{3});  // external -> wallet: external missing
  EXPECT_EQ(copy.restore_transfer(t, PendingState::kNone, 0).code(), Code::kNotFound);
  ASSERT_TRUE(copy.restore_account(acct(kExternal)).ok());
  EXPECT_EQ(copy.restore_transfer(t, PendingState::kPending, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(copy.restore_transfer(t, PendingState::kNone, 3).code(), Code::kInvalidArgument);
  ASSERT_TRUE(copy.restore_transfer(t, PendingState::kNone, 0).ok());
  EXPECT_EQ(copy.restore_transfer(t, PendingState::kNone, 0).code(), Code::kConflict);
  Status st = copy.verify();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(LedgerTest, VerifyFindsBalancesThatDoNotMatchTheTransfers) {
  fund();
  Ledger copy;
  for (const Account* a : ledger_.accounts()) {
    Account tampered = *a;
    if (a->id == kWallet) tampered.credits_posted += 1;
    if (a->id == kExternal) tampered.debits_posted += 1;  // still balanced in total
    ASSERT_TRUE(copy.restore_account(tampered).ok());
  }
  for (const Transfer& t : ledger_.transfers_in_order()) {
    ASSERT_TRUE(copy.restore_transfer(t, PendingState::kNone, 0).ok());
  }
  Status st = copy.verify();
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("account"), std::string::npos) << st.message();
}

TEST_F(LedgerTest, VerifyFindsPendingStatesThatDoNotMatch) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300), now_), R::kOk);
  ASSERT_EQ(ledger_.create_transfer(post(11, 10, 100), now_), R::kOk);
  Ledger copy;
  for (const Account* a : ledger_.accounts()) ASSERT_TRUE(copy.restore_account(*a).ok());
  for (const Transfer& t : ledger_.transfers_in_order()) {
    const bool is_hold = t.id == TransferId{10};
    ASSERT_TRUE(copy.restore_transfer(t, ledger_.pending_state(t.id), is_hold ? 99 : 0).ok());
  }
  EXPECT_EQ(copy.verify().code(), Code::kInternal);
}

TEST_F(LedgerTest, MovedLedgerKeepsItsBooks) {
  fund();
  ASSERT_EQ(ledger_.create_transfer(hold(10, kWallet, kRevenue, 300, 10), now_), R::kOk);
  Ledger moved = std::move(ledger_);
  EXPECT_EQ(moved.create_transfer(post(11, 10, 100), now_), R::kOk);
  EXPECT_EQ(moved.account(kWallet)->debits_posted, 100);
  EXPECT_TRUE(moved.verify().ok());
}

TEST(LedgerNamesTest, EnumsHaveNames) {
  EXPECT_STREQ(transfer_result_name(TransferResult::kExceedsCredits), "exceeds_credits");
  EXPECT_STREQ(transfer_result_name(TransferResult::kOverflow), "overflow");
  EXPECT_STREQ(pending_state_name(PendingState::kExpired), "expired");
  EXPECT_STREQ(account_kind_name(AccountKind::kExternal), "external");
}

TEST(LedgerNames, NameEveryEnumerator) {
  enum_testing::expect_every_enumerator_named(kAccountKindNames);
  enum_testing::expect_every_enumerator_named(kTransferResultNames);
  enum_testing::expect_every_enumerator_named(kPendingStateNames);
  EXPECT_STREQ(account_kind_name(AccountKind::kExternal), "external");
  EXPECT_STREQ(transfer_result_name(R::kExceedsCredits), "exceeds_credits");
  EXPECT_STREQ(pending_state_name(PendingState::kVoided), "voided");
}

}  // namespace
}  // namespace berth::core
