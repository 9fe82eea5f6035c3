// The ledger: double-entry accounts and transfers, two-phase like TigerBeetle.
//
// Contract
// - Every movement of money is a Transfer from a debit account to a credit account.
//   Total debits equal total credits at all times, posted and pending separately.
// - An account created with no_overdraft (funds, awards, wallets) can never have
//   debits_posted + debits_pending > credits_posted + credit_limit_minor: held money counts
//   as spent. The credit limit is 0 (none) unless set_credit_limit gave the account one; it
//   lets a wallet go below zero, down to -credit_limit_minor.
// - Two-phase: a transfer with kPending reserves `amount`; a later transfer with
//   kPostPending (posting `amount` <= the pending amount, releasing the rest) or
//   kVoidPending resolves it, exactly once. A pending transfer with timeout_ms > 0
//   expires (is released) by expire_pending(now) once now >= timestamp + timeout.
// - Transfer ids are chosen by the caller. Applying a transfer whose id exists with the
//   same fields returns kExists (nothing changes, the first result stands); the same id
//   with other fields is kExistsWithDifferentFields.
// - kLinked chains a transfer to the next one in the batch: the chain ends at the first
//   transfer without kLinked, and applies all or nothing.
// - A failed transfer changes nothing. After every successful change the ledger checks
//   its invariants on what changed (release builds too) and aborts on a violation: a
//   violation is a bug in berth, never a user error.
//
// The ledger is pure: no I/O, no clock (callers pass now_ms), not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/enum_names.h"
#include "common/ids.h"
#include "common/money.h"
#include "common/status.h"

namespace berth::core {

enum class AccountKind : uint8_t {
  kSource = 1,    // the funding programme's source (may go negative: money enters here)
  kFund = 2,      // a scheme's fund
  kAward = 3,     // an award to a project
  kWallet = 4,    // a project's wallet (co-payments)
  kRevenue = 5,   // the centre's revenue
  kExternal = 6,  // outside money paying for wallet top-ups (may go negative)
};
inline constexpr auto kAccountKindNames =
    enum_names<AccountKind>("account kind", {{AccountKind::kSource, "source"},
                                             {AccountKind::kFund, "fund"},
                                             {AccountKind::kAward, "award"},
                                             {AccountKind::kWallet, "wallet"},
                                             {AccountKind::kRevenue, "revenue"},
                                             {AccountKind::kExternal, "external"}});
const char* account_kind_name(AccountKind kind);

struct Account {
  AccountId id;
  AccountKind kind = AccountKind::kWallet;
  bool no_overdraft =
      true;  // debits_posted + debits_pending <= credits_posted + credit_limit_minor
  // How far below zero a no_overdraft account may go (0: not at all), 0..kMaxCreditLimitMinor.
  Minor credit_limit_minor = 0;
  uint64_t owner = 0;  // the project, award, scheme ... id this account belongs to (informational)
  std::string name;
  Minor debits_pending = 0;
  Minor debits_posted = 0;
  Minor credits_pending = 0;
  Minor credits_posted = 0;
  int64_t created_ms = 0;

  Minor balance() const { return credits_posted - debits_posted; }
  // What can still be debited: balance less outstanding holds.
  Minor available() const { return credits_posted - debits_posted - debits_pending; }
  // What can still be debited counting the credit limit: what a no_overdraft account may
  // still spend or hold.
  Minor spendable() const { return available() + credit_limit_minor; }
};

// The largest credit limit an account may have (HK$100bn at 4 decimals): large enough for any
// centre, small enough that balances plus a limit never overflow.
inline constexpr Minor kMaxCreditLimitMinor = Minor{1'000'000'000'000'000};

enum TransferFlags : uint32_t {
  kLinked = 1u << 0,
  kPending = 1u << 1,
  kPostPending = 1u << 2,
  kVoidPending = 1u << 3,
};

struct Transfer {
  TransferId id;
  AccountId debit;   // for post/void: may be 0 (taken from the pending transfer) or must match it
  AccountId credit;  // likewise
  Minor amount =
      0;  // single-phase and pending: > 0; post: 0..pending amount; void: 0 or the pending amount
  uint32_t flags = 0;
  TransferId pending_id;     // for post/void: the pending transfer resolved
  int64_t timeout_ms = 0;    // for pending: 0 = never expires
  uint32_t code = 0;         // what the transfer is for (TransferCode), chosen by the caller
  uint64_t ref = 0;          // e.g. the job id it belongs to (informational)
  int64_t timestamp_ms = 0;  // set by the ledger to now_ms when applied

  // True when every caller-chosen field (all but timestamp_ms) is equal.
  bool same_fields(const Transfer& other) const;
};

// Why a transfer was made. Stored with it; the ledger does not interpret it.
enum TransferCode : uint32_t {
  kCodeOther = 0,
  kCodeFundScheme = 1,   // source -> fund
  kCodeAwardGrant = 2,   // fund -> award
  kCodeTopUp = 3,        // external -> wallet
  kCodeJobSubsidy = 4,   // award -> revenue (hold, then post/void)
  kCodeJobCopay = 5,     // wallet -> revenue (hold, then post/void)
  kCodeAwardReturn = 6,  // award -> fund
  kCodeRefund = 7,
  kCodeAdjustment = 8,
};

const char* transfer_code_name(uint32_t code);  // "job_subsidy", ...; "other" when unknown

enum class TransferResult : uint8_t {
  kOk = 0,
  kExists,                     // same id, same fields: already applied (idempotent retry)
  kExistsWithDifferentFields,  // same id, other fields
  kLinkedEventFailed,          // another transfer in its linked chain failed
  kLinkedChainOpen,            // the batch ended inside a linked chain
  kIdMustNotBeZero,
  kFlagsAreMutuallyExclusive,
  kAccountsMustBeDifferent,
  kDebitAccountNotFound,
  kCreditAccountNotFound,
  kAmountMustBePositive,
  kTimeoutReservedForPending,
  kPendingIdRequired,
  kPendingTransferNotFound,
  kPendingTransferNotPending,  // pending_id names a transfer that is not a pending one
  kPendingTransferAlreadyPosted,
  kPendingTransferAlreadyVoided,
  kPendingTransferExpired,
  kPendingAccountsMismatch,  // post/void with debit/credit that differ from the pending one
  kExceedsPendingAmount,
  kExceedsCredits,  // would take a no_overdraft account below zero (counting holds)
  kOverflow,
};
inline constexpr auto kTransferResultNames = enum_names<TransferResult>(
    "transfer result",
    {{TransferResult::kOk, "ok"},
     {TransferResult::kExists, "exists"},
     {TransferResult::kExistsWithDifferentFields, "exists_with_different_fields"},
     {TransferResult::kLinkedEventFailed, "linked_event_failed"},
     {TransferResult::kLinkedChainOpen, "linked_chain_open"},
     {TransferResult::kIdMustNotBeZero, "id_must_not_be_zero"},
     {TransferResult::kFlagsAreMutuallyExclusive, "flags_are_mutually_exclusive"},
     {TransferResult::kAccountsMustBeDifferent, "accounts_must_be_different"},
     {TransferResult::kDebitAccountNotFound, "debit_account_not_found"},
     {TransferResult::kCreditAccountNotFound, "credit_account_not_found"},
     {TransferResult::kAmountMustBePositive, "amount_must_be_positive"},
     {TransferResult::kTimeoutReservedForPending, "timeout_reserved_for_pending"},
     {TransferResult::kPendingIdRequired, "pending_id_required"},
     {TransferResult::kPendingTransferNotFound, "pending_transfer_not_found"},
     {TransferResult::kPendingTransferNotPending, "pending_transfer_not_pending"},
     {TransferResult::kPendingTransferAlreadyPosted, "pending_transfer_already_posted"},
     {TransferResult::kPendingTransferAlreadyVoided, "pending_transfer_already_voided"},
     {TransferResult::kPendingTransferExpired, "pending_transfer_expired"},
     {TransferResult::kPendingAccountsMismatch, "pending_accounts_mismatch"},
     {TransferResult::kExceedsPendingAmount, "exceeds_pending_amount"},
     {TransferResult::kExceedsCredits, "exceeds_credits"},
     {TransferResult::kOverflow, "overflow"}});
const char* transfer_result_name(TransferResult result);

// What happened to a pending transfer.
enum class PendingState : uint8_t { kNone = 0, kPending, kPosted, kVoided, kExpired };
inline constexpr auto kPendingStateNames =
    enum_names<PendingState>("pending state", {{PendingState::kNone, "none"},
                                               {PendingState::kPending, "pending"},
                                               {PendingState::kPosted, "posted"},
                                               {PendingState::kVoided, "voided"},
                                               {PendingState::kExpired, "expired"}});
const char* pending_state_name(PendingState state);

// What a batch of changes touched, for the store to persist. Drained by the owner.
struct LedgerChanges {
  std::vector<AccountId> accounts;  // accounts whose balances changed or were created (may repeat)
  std::vector<TransferId> transfers;       // transfers appended, in order applied
  std::vector<TransferId> pending_states;  // pending transfers whose state changed (may repeat)
  bool empty() const { return accounts.empty() && transfers.empty() && pending_states.empty(); }
};

class Ledger {
 public:
  Ledger() = default;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;
  Ledger(Ledger&&) = default;
  Ledger& operator=(Ledger&&) = default;

  // Creates an empty account. Invalid: id 0, or balances not zero. Conflict: id exists.
  Status create_account(const Account& account, int64_t now_ms);

  // Applies transfers in order (linked chains all or nothing); one result per transfer.
  std::vector<TransferResult> create_transfers(std::span<const Transfer> batch, int64_t now_ms);
  TransferResult create_transfer(const Transfer& transfer, int64_t now_ms);

  // Sets a no_overdraft account's credit limit (0..kMaxCreditLimitMinor). Invalid: an account
  // that may be overdrawn anyway, or a limit out of range. Conflict: a limit below what the
  // account already uses (it would put it past its floor now). Recorded as a changed account.
  Status set_credit_limit(AccountId id, Minor credit_limit_minor);

  // Releases every pending transfer whose timeout has passed. Returns how many expired.
  size_t expire_pending(int64_t now_ms);

  const Account* account(AccountId id) const;
  const Transfer* transfer(TransferId id) const;
  PendingState pending_state(TransferId id) const;  // kNone if not a pending transfer
  // For a pending transfer: how much was posted (0 until posted).
  Minor posted_amount(TransferId pending_id) const;

  size_t account_count() const;
  size_t transfer_count() const;
  // All transfers in the order they were applied (for listings and reconciliation).
  const std::vector<Transfer>& transfers_in_order() const;
  std::vector<const Account*> accounts() const;  // sorted by id

  // Sums over all accounts; equal pairs when the books balance.
  Minor total_debits_posted() const;
  Minor total_credits_posted() const;
  Minor total_debits_pending() const;
  Minor total_credits_pending() const;

  // Recomputes every balance from the transfers and checks every invariant. O(n).
  // Returns a Status naming the first violation found (used by tests, restore and reconcile).
  Status verify() const;

  // Changes since the last drain, for persistence.
  LedgerChanges drain_changes();

  // Restoring from the store: accounts with their balances, then transfers in their
  // original order with the state of each pending one, then verify().
  Status restore_account(const Account& account);
  Status restore_transfer(const Transfer& transfer, PendingState state, Minor posted_amount);

 private:
  // An open-addressing (linear probing) hash index from a non-zero id to a position. Unlike
  // std::unordered_map it allocates nothing per insert, only when it doubles.
  class IdIndex {
   public:
    static constexpr uint64_t kMissing = ~uint64_t{0};
    uint64_t find(uint64_t key) const;          // kMissing if absent
    void insert(uint64_t key, uint64_t value);  // key non-zero and absent
    void erase(uint64_t key);                   // key present
    size_t size() const { return size_; }

   private:
    struct Slot {
      uint64_t key = 0;  // 0 = empty (ids are never 0)
      uint64_t value = 0;
    };
    size_t home(uint64_t key) const {
      return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    void grow();
    std::vector<Slot> slots_;
    size_t size_ = 0;
    unsigned shift_ = 64;
  };

  // The state of a pending transfer; kNone for the others. Parallel to transfers_.
  struct PendingInfo {
    PendingState state = PendingState::kNone;
    Minor posted = 0;
  };
  struct Balances {
    Minor debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
  };
  // How to take back one transfer applied inside a linked chain that later failed.
  struct Undo {
    Account* debit = nullptr;
    Account* credit = nullptr;
    Balances debit_before, credit_before, totals_before;
    size_t pending_pos = kNoPosition;  // the pending transfer it resolved, if any
    PendingInfo pending_before;
  };
  struct ChangeMark {
    size_t accounts = 0, transfers = 0, pending_states = 0;
  };
  static constexpr size_t kNoPosition = ~size_t{0};

  TransferResult apply(const Transfer& t, int64_t now_ms, bool in_chain);
  TransferResult apply_new(const Transfer& t, int64_t now_ms, bool in_chain);
  TransferResult apply_resolution(const Transfer& t, int64_t now_ms, bool in_chain);
  void apply_chain(std::span<const Transfer> chain, int64_t now_ms, TransferResult* results);
  void rollback_chain(const ChangeMark& mark);
  void append(const Transfer& t, AccountId debit, AccountId credit, int64_t now_ms, bool pending);
  Account* find_account(AccountId id);
  const Account* find_account(AccountId id) const;
  static Balances balances_of(const Account& a);
  static void set_balances(Account& a, const Balances& b);
  Balances totals() const;
  void set_totals(const Balances& b);
  void check_account(const Account& a) const;
  void check_totals() const;

  std::vector<std::unique_ptr<Account>> accounts_;  // stable addresses, in creation order
  IdIndex account_index_;                           // id -> position in accounts_
  std::vector<Transfer> transfers_;                 // in the order applied
  std::vector<PendingInfo> pending_info_;           // parallel to transfers_
  IdIndex transfer_index_;                          // id -> position in transfers_
  // When pending transfers with a timeout expire: (expires_ms, position in transfers_).
  // Deadlines usually arrive in order (now_ms only grows and timeouts repeat), so they are
  // queued in a FIFO that stays sorted, O(1) each way; one earlier than the FIFO's last goes
  // to a min-heap instead. Entries of transfers resolved before their deadline stay until
  // their turn comes, and are then skipped.
  using Deadline = std::pair<int64_t, uint64_t>;
  void schedule_expiry(Deadline deadline);
  std::vector<Deadline> expiry_fifo_;  // sorted; entries before expiry_fifo_head_ are done
  size_t expiry_fifo_head_ = 0;
  std::vector<Deadline> expiry_heap_;
  std::vector<Deadline> chain_expiry_;  // scheduled when the chain commits
  std::vector<Undo> undo_;              // reused between chains
  Minor total_debits_posted_ = 0, total_credits_posted_ = 0;
  Minor total_debits_pending_ = 0, total_credits_pending_ = 0;
  LedgerChanges changes_;
};

}  // namespace berth::core
