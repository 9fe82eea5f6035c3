// The ledger (see ledger.h for the contract).
//
// Decisions the header leaves open, taken as TigerBeetle does where it has an answer:
// - Checks run in a fixed order and the first failing one is the result: id, flags, an
//   existing id (kExists / kExistsWithDifferentFields), then the fields, then the accounts
//   or the pending transfer, then the amounts (kExceedsCredits before kOverflow).
// - Unknown flag bits are refused as kFlagsAreMutuallyExclusive (there is no other code).
// - A timeout must be >= 0 and only on a pending transfer: kTimeoutReservedForPending.
// - A void whose amount is neither 0 nor the pending amount is kExceedsPendingAmount.
// - A pending transfer whose deadline (timestamp + timeout) has passed can no longer be
//   posted or voided (kPendingTransferExpired), even before expire_pending() has released
//   it, so that the outcome never depends on when the owner last called expire_pending().
// - A post or void is stored with the debit and credit accounts of its pending transfer
//   filled in. A retry that leaves them 0 still matches it (kExists).
// - In a linked chain, kExists is not a failure: retrying a whole chain that was applied
//   gives kExists for each transfer and changes nothing.
// - Restoring records no changes: what is restored is already in the store.
#include "core/ledger.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "core/check.h"

namespace berth::core {
namespace {

constexpr uint32_t kKnownFlags = kLinked | kPending | kPostPending | kVoidPending;
constexpr uint32_t kKindFlags = kPending | kPostPending | kVoidPending;

// Unknown bits, or more than one of pending / post / void.
inline bool bad_flags(uint32_t flags) {
  const uint32_t kinds = flags & kKindFlags;
  return (flags & ~kKnownFlags) != 0 || (kinds & (kinds - 1)) != 0;
}

// a + b into *out; false on overflow.
inline bool add(Minor a, Minor b, Minor* out) { return !__builtin_add_overflow(a, b, out); }

std::string describe(const Account& a) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "account %" PRIu64 " (%s, no_overdraft=%d, credit_limit=%" PRId64
                "): debits_pending=%" PRId64 " debits_posted=%" PRId64 " credits_pending=%" PRId64
                " credits_posted=%" PRId64,
                a.id.value, account_kind_name(a.kind), a.no_overdraft ? 1 : 0, a.credit_limit_minor,
                a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted);
  return buf;
}

bool valid_kind(AccountKind kind) {
  return kind >= AccountKind::kSource && kind <= AccountKind::kExternal;
}

// A credit limit only means something on an account that may not be overdrawn.
bool valid_credit_limit(const Account& a) {
  return a.credit_limit_minor >= 0 && a.credit_limit_minor <= kMaxCreditLimitMinor &&
         (a.no_overdraft || a.credit_limit_minor == 0);
}

// Whether a no_overdraft account is within its floor: debits (posted and held) at most its
// credits plus its credit limit. All four fields are non-negative and the limit is bounded, so
// nothing here overflows.
bool within_floor(const Account& a) {
  return a.debits_pending <= a.credits_posted - a.debits_posted + a.credit_limit_minor;
}

}  // namespace

const char* account_kind_name(AccountKind kind) { return kAccountKindNames.name(kind); }

const char* transfer_code_name(uint32_t code) {
  switch (code) {
    case kCodeFundScheme:
      return "fund_scheme";
    case kCodeAwardGrant:
      return "award_grant";
    case kCodeTopUp:
      return "top_up";
    case kCodeJobSubsidy:
      return "job_subsidy";
    case kCodeJobCopay:
      return "job_copay";
    case kCodeAwardReturn:
      return "award_return";
    case kCodeRefund:
      return "refund";
    case kCodeAdjustment:
      return "adjustment";
    default:
      return "other";
  }
}

const char* transfer_result_name(TransferResult result) {
  return kTransferResultNames.name(result);
}

const char* pending_state_name(PendingState state) { return kPendingStateNames.name(state); }

bool Transfer::same_fields(const Transfer& o) const {
  return id == o.id && debit == o.debit && credit == o.credit && amount == o.amount &&
         flags == o.flags && pending_id == o.pending_id && timeout_ms == o.timeout_ms &&
         code == o.code && ref == o.ref;
}

// ---------------------------------------------------------------------------------------
// IdIndex

uint64_t Ledger::IdIndex::find(uint64_t key) const {
  if (slots_.empty() || key == 0) return kMissing;  // key 0 marks an empty slot
  const size_t mask = slots_.size() - 1;
  for (size_t i = home(key);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.key == key) return slot.value;
    if (slot.key == 0) return kMissing;
  }
}

void Ledger::IdIndex::insert(uint64_t key, uint64_t value) {
  BERTH_CHECK(key != 0, "IdIndex::insert of key 0");
  if ((size_ + 1) * 2 > slots_.size()) grow();  // load factor at most 1/2
  const size_t mask = slots_.size() - 1;
  size_t i = home(key);
  while (slots_[i].key != 0) {
    BERTH_CHECK(slots_[i].key != key, "IdIndex::insert of a key already present");
    i = (i + 1) & mask;
  }
  slots_[i] = Slot{key, value};
  ++size_;
}

void Ledger::IdIndex::erase(uint64_t key) {
  BERTH_CHECK(!slots_.empty(), "IdIndex::erase on an empty index");
  const size_t mask = slots_.size() - 1;
  size_t i = home(key);
  while (slots_[i].key != key) {
    BERTH_CHECK(slots_[i].key != 0, "IdIndex::erase of a key not present");
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move later entries of the probe run into the hole when their
  // home slot does not lie cyclically in (hole, their slot].
  for (size_t j = (i + 1) & mask; slots_[j].key != 0; j = (j + 1) & mask) {
    const size_t k = home(slots_[j].key);
    const bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --size_;
}

void Ledger::IdIndex::grow() {
  const size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  size_ = 0;
  for (const Slot& slot : old) {
    if (slot.key != 0) insert(slot.key, slot.value);
  }
}

// ---------------------------------------------------------------------------------------
// Small helpers

Account* Ledger::find_account(AccountId id) {
  const uint64_t pos = account_index_.find(id.value);
  return pos == IdIndex::kMissing ? nullptr : accounts_[pos].get();
}

const Account* Ledger::find_account(AccountId id) const {
  const uint64_t pos = account_index_.find(id.value);
  return pos == IdIndex::kMissing ? nullptr : accounts_[pos].get();
}

Ledger::Balances Ledger::balances_of(const Account& a) {
  return Balances{a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted};
}

void Ledger::set_balances(Account& a, const Balances& b) {
  a.debits_pending = b.debits_pending;
  a.debits_posted = b.debits_posted;
  a.credits_pending = b.credits_pending;
  a.credits_posted = b.credits_posted;
}

Ledger::Balances Ledger::totals() const {
  return Balances{total_debits_pending_, total_debits_posted_, total_credits_pending_,
                  total_credits_posted_};
}

void Ledger::set_totals(const Balances& b) {
  total_debits_pending_ = b.debits_pending;
  total_debits_posted_ = b.debits_posted;
  total_credits_pending_ = b.credits_pending;
  total_credits_posted_ = b.credits_posted;
}

// The per-change invariants: O(1), on in release builds. A violation is a bug in berth.
void Ledger::check_account(const Account& a) const {
  const bool non_negative = a.debits_pending >= 0 && a.debits_posted >= 0 &&
                            a.credits_pending >= 0 && a.credits_posted >= 0;
  // With all four non-negative, credits_posted - debits_posted cannot overflow.
  const bool covered = !a.no_overdraft || (non_negative && within_floor(a));
  if (__builtin_expect(!non_negative || !covered, 0)) {
    std::fprintf(
        stderr, "berth: ledger invariant violated: %s: %s\n",
        non_negative ? "no_overdraft account below zero counting holds" : "negative balance field",
        describe(a).c_str());
    std::abort();
  }
}

void Ledger::check_totals() const {
  BERTH_CHECK(total_debits_posted_ == total_credits_posted_,
              "ledger: total debits posted != total credits posted");
  BERTH_CHECK(total_debits_pending_ == total_credits_pending_,
              "ledger: total debits pending != total credits pending");
  BERTH_CHECK(total_debits_posted_ >= 0 && total_debits_pending_ >= 0, "ledger: negative totals");
}

// ---------------------------------------------------------------------------------------
// Accounts

Status Ledger::create_account(const Account& account, int64_t now_ms) {
  if (!account.id.valid()) return Status::Invalid("account id must not be 0");
  if (!valid_kind(account.kind)) return Status::Invalid("unknown account kind");
  if (account.debits_pending != 0 || account.debits_posted != 0 || account.credits_pending != 0 ||
      account.credits_posted != 0) {
    return Status::Invalid("a new account's balances must be zero");
  }
  if (!valid_credit_limit(account)) return Status::Invalid("bad credit limit");
  if (find_account(account.id) != nullptr) {
    return Status::Conflict("account " + std::to_string(account.id.value) + " exists");
  }
  auto created = std::make_unique<Account>(account);
  created->created_ms = now_ms;
  account_index_.insert(account.id.value, accounts_.size());
  accounts_.push_back(std::move(created));
  changes_.accounts.push_back(account.id);
  return Status::Ok();
}

Status Ledger::restore_account(const Account& account) {
  if (!account.id.valid()) return Status::Invalid("account id must not be 0");
  if (!valid_kind(account.kind)) return Status::Invalid("unknown account kind");
  if (account.debits_pending < 0 || account.debits_posted < 0 || account.credits_pending < 0 ||
      account.credits_posted < 0) {
    return Status::Invalid("restored account " + std::to_string(account.id.value) +
                           " has a negative balance field");
  }
  if (!valid_credit_limit(account)) {
    return Status::Invalid(
        "restored account " + std::to_string(account.id.value) +
        " has a credit limit that is negative, too large or on an account that may be overdrawn");
  }
  if (find_account(account.id) != nullptr) {
    return Status::Conflict("account " + std::to_string(account.id.value) + " exists");
  }
  Balances t = totals();
  if (!add(t.debits_pending, account.debits_pending, &t.debits_pending) ||
      !add(t.debits_posted, account.debits_posted, &t.debits_posted) ||
      !add(t.credits_pending, account.credits_pending, &t.credits_pending) ||
      !add(t.credits_posted, account.credits_posted, &t.credits_posted)) {
    return Status::Invalid("restored balances overflow the totals");
  }
  set_totals(t);
  account_index_.insert(account.id.value, accounts_.size());
  accounts_.push_back(std::make_unique<Account>(account));
  return Status::Ok();
}

Status Ledger::set_credit_limit(AccountId id, Minor credit_limit_minor) {
  Account* a = find_account(id);
  if (a == nullptr) return Status::NotFound("account " + std::to_string(id.value) + " not found");
  Account changed = *a;
  changed.credit_limit_minor = credit_limit_minor;
  if (!valid_credit_limit(changed)) {
    return Status::Invalid("a credit limit is 0.." + format_amount(kMaxCreditLimitMinor) +
                           ", on an account that may not be overdrawn");
  }
  if (!within_floor(changed)) {
    return Status::Conflict("account " + std::to_string(id.value) + " already uses " +
                            format_amount(-a->available()) +
                            " of credit; its limit cannot go below that");
  }
  if (a->credit_limit_minor == credit_limit_minor) return Status::Ok();
  a->credit_limit_minor = credit_limit_minor;
  changes_.accounts.push_back(id);
  return Status::Ok();
}

const Account* Ledger::account(AccountId id) const { return find_account(id); }

size_t Ledger::account_count() const { return accounts_.size(); }

std::vector<const Account*> Ledger::accounts() const {
  std::vector<const Account*> out;
  out.reserve(accounts_.size());
  for (const auto& a : accounts_) out.push_back(a.get());
  std::sort(out.begin(), out.end(),
            [](const Account* a, const Account* b) { return a->id < b->id; });
  return out;
}

// ---------------------------------------------------------------------------------------
// Transfers

const Transfer* Ledger::transfer(TransferId id) const {
  const uint64_t pos = transfer_index_.find(id.value);
  return pos == IdIndex::kMissing ? nullptr : &transfers_[pos];
}

PendingState Ledger::pending_state(TransferId id) const {
  const uint64_t pos = transfer_index_.find(id.value);
  return pos == IdIndex::kMissing ? PendingState::kNone : pending_info_[pos].state;
}

Minor Ledger::posted_amount(TransferId pending_id) const {
  const uint64_t pos = transfer_index_.find(pending_id.value);
  return pos == IdIndex::kMissing ? 0 : pending_info_[pos].posted;
}

size_t Ledger::transfer_count() const { return transfers_.size(); }
const std::vector<Transfer>& Ledger::transfers_in_order() const { return transfers_; }

Minor Ledger::total_debits_posted() const { return total_debits_posted_; }
Minor Ledger::total_credits_posted() const { return total_credits_posted_; }
Minor Ledger::total_debits_pending() const { return total_debits_pending_; }
Minor Ledger::total_credits_pending() const { return total_credits_pending_; }

LedgerChanges Ledger::drain_changes() { return std::exchange(changes_, LedgerChanges{}); }

TransferResult Ledger::create_transfer(const Transfer& transfer, int64_t now_ms) {
  // A lone transfer with kLinked is a chain that the batch ends inside.
  if (transfer.flags & kLinked) return TransferResult::kLinkedChainOpen;
  return apply(transfer, now_ms, /*in_chain=*/false);
}

std::vector<TransferResult> Ledger::create_transfers(std::span<const Transfer> batch,
                                                     int64_t now_ms) {
  std::vector<TransferResult> results(batch.size(), TransferResult::kOk);
  size_t i = 0;
  while (i < batch.size()) {
    if (!(batch[i].flags & kLinked)) {
      results[i] = apply(batch[i], now_ms, /*in_chain=*/false);
      ++i;
      continue;
    }
    size_t last = i;  // the chain is [i, last]: it ends at the first transfer without kLinked
    while (last < batch.size() && (batch[last].flags & kLinked)) ++last;
    if (last == batch.size()) {
      // The batch ends inside the chain: nothing of it is applied.
      std::fill(results.begin() + static_cast<ptrdiff_t>(i), results.end(),
                TransferResult::kLinkedEventFailed);
      results.back() = TransferResult::kLinkedChainOpen;
      break;
    }
    apply_chain(batch.subspan(i, last - i + 1), now_ms, results.data() + i);
    i = last + 1;
  }
  return results;
}

void Ledger::apply_chain(std::span<const Transfer> chain, int64_t now_ms, TransferResult* results) {
  undo_.clear();
  chain_expiry_.clear();
  const ChangeMark mark{changes_.accounts.size(), changes_.transfers.size(),
                        changes_.pending_states.size()};
  for (size_t k = 0; k < chain.size(); ++k) {
    const TransferResult r = apply(chain[k], now_ms, /*in_chain=*/true);
    if (r != TransferResult::kOk && r != TransferResult::kExists) {
      rollback_chain(mark);
      std::fill(results, results + chain.size(), TransferResult::kLinkedEventFailed);
      results[k] = r;
      return;
    }
    results[k] = r;
  }
  for (const Deadline& deadline : chain_expiry_) schedule_expiry(deadline);
  chain_expiry_.clear();
  undo_.clear();
}

void Ledger::rollback_chain(const ChangeMark& mark) {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    set_balances(*it->debit, it->debit_before);
    set_balances(*it->credit, it->credit_before);
    set_totals(it->totals_before);
    if (it->pending_pos != kNoPosition) pending_info_[it->pending_pos] = it->pending_before;
    transfer_index_.erase(transfers_.back().id.value);
    transfers_.pop_back();
    pending_info_.pop_back();
    check_account(*it->debit);
    check_account(*it->credit);
  }
  check_totals();
  changes_.accounts.resize(mark.accounts);
  changes_.transfers.resize(mark.transfers);
  changes_.pending_states.resize(mark.pending_states);
  undo_.clear();
  chain_expiry_.clear();
}

TransferResult Ledger::apply(const Transfer& t, int64_t now_ms, bool in_chain) {
  if (!t.id.valid()) return TransferResult::kIdMustNotBeZero;
  if (bad_flags(t.flags)) {
    return TransferResult::kFlagsAreMutuallyExclusive;
  }
  const uint64_t existing = transfer_index_.find(t.id.value);
  if (existing != IdIndex::kMissing) {
    const Transfer& stored = transfers_[existing];
    Transfer asked = t;
    if (t.flags & (kPostPending | kVoidPending)) {
      // A post or void is stored with its accounts filled in from the pending transfer.
      if (!asked.debit.valid()) asked.debit = stored.debit;
      if (!asked.credit.valid()) asked.credit = stored.credit;
    }
    return stored.same_fields(asked) ? TransferResult::kExists
                                     : TransferResult::kExistsWithDifferentFields;
  }
  if (t.flags & (kPostPending | kVoidPending)) return apply_resolution(t, now_ms, in_chain);
  return apply_new(t, now_ms, in_chain);
}

// A single-phase or pending transfer.
TransferResult Ledger::apply_new(const Transfer& t, int64_t now_ms, bool in_chain) {
  const bool pending = (t.flags & kPending) != 0;
  if (t.debit == t.credit) return TransferResult::kAccountsMustBeDifferent;
  if (t.amount <= 0) return TransferResult::kAmountMustBePositive;
  if (t.timeout_ms < 0 || (!pending && t.timeout_ms != 0)) {
    return TransferResult::kTimeoutReservedForPending;
  }
  Account* debit = find_account(t.debit);
  if (debit == nullptr) return TransferResult::kDebitAccountNotFound;
  Account* credit = find_account(t.credit);
  if (credit == nullptr) return TransferResult::kCreditAccountNotFound;

  Balances d = balances_of(*debit), c = balances_of(*credit), tot = totals();
  if (debit->no_overdraft) {
    // debits_posted + debits_pending + amount <= credits_posted + credit limit, without
    // overflowing: all are non-negative, the limit is bounded, and the account's invariant
    // keeps its debits within its credits plus its limit.
    if (t.amount > debit->spendable()) return TransferResult::kExceedsCredits;
  }
  int64_t expires_ms = 0;
  bool fits;
  if (pending) {
    fits = add(d.debits_pending, t.amount, &d.debits_pending) &&
           add(c.credits_pending, t.amount, &c.credits_pending) &&
           add(tot.debits_pending, t.amount, &tot.debits_pending) &&
           add(tot.credits_pending, t.amount, &tot.credits_pending) &&
           (t.timeout_ms == 0 || add(now_ms, t.timeout_ms, &expires_ms));
  } else {
    fits = add(d.debits_posted, t.amount, &d.debits_posted) &&
           add(c.credits_posted, t.amount, &c.credits_posted) &&
           add(tot.debits_posted, t.amount, &tot.debits_posted) &&
           add(tot.credits_posted, t.amount, &tot.credits_posted);
  }
  if (!fits) return TransferResult::kOverflow;

  // Everything is decided: apply.
  if (in_chain) {
    undo_.push_back(Undo{debit, credit, balances_of(*debit), balances_of(*credit), totals(),
                         kNoPosition, PendingInfo{}});
  }
  set_balances(*debit, d);
  set_balances(*credit, c);
  set_totals(tot);
  const uint64_t pos = transfers_.size();
  append(t, t.debit, t.credit, now_ms, pending);
  if (pending && t.timeout_ms > 0) {
    if (in_chain) {
      chain_expiry_.emplace_back(expires_ms, pos);
    } else {
      schedule_expiry({expires_ms, pos});
    }
  }
  check_account(*debit);
  check_account(*credit);
  check_totals();
  return TransferResult::kOk;
}

// A post or void of a pending transfer.
TransferResult Ledger::apply_resolution(const Transfer& t, int64_t now_ms, bool in_chain) {
  const bool post = (t.flags & kPostPending) != 0;
  if (!t.pending_id.valid()) return TransferResult::kPendingIdRequired;
  if (t.timeout_ms != 0) return TransferResult::kTimeoutReservedForPending;
  if (t.amount < 0) return TransferResult::kAmountMustBePositive;
  const uint64_t ppos = transfer_index_.find(t.pending_id.value);
  if (ppos == IdIndex::kMissing) return TransferResult::kPendingTransferNotFound;
  const Transfer& p = transfers_[ppos];
  if (!(p.flags & kPending)) return TransferResult::kPendingTransferNotPending;
  if ((t.debit.valid() && t.debit != p.debit) || (t.credit.valid() && t.credit != p.credit)) {
    return TransferResult::kPendingAccountsMismatch;
  }
  const PendingInfo info = pending_info_[ppos];
  switch (info.state) {
    case PendingState::kPosted:
      return TransferResult::kPendingTransferAlreadyPosted;
    case PendingState::kVoided:
      return TransferResult::kPendingTransferAlreadyVoided;
    case PendingState::kExpired:
      return TransferResult::kPendingTransferExpired;
    case PendingState::kPending:
      break;
    case PendingState::kNone:
      BERTH_CHECK(false, "ledger: pending transfer without a state");
  }
  // The deadline was checked not to overflow when the pending transfer was applied.
  if (p.timeout_ms > 0 && now_ms >= p.timestamp_ms + p.timeout_ms) {
    return TransferResult::kPendingTransferExpired;
  }
  if (post ? t.amount > p.amount : (t.amount != 0 && t.amount != p.amount)) {
    return TransferResult::kExceedsPendingAmount;
  }
  const Minor posted = post ? t.amount : 0;
  Account* debit = find_account(p.debit);
  Account* credit = find_account(p.credit);
  BERTH_CHECK(debit != nullptr && credit != nullptr, "ledger: pending transfer's account missing");

  // Release the hold in full, then post what is posted. Holds only shrink, so no_overdraft
  // still holds; only the posted sums can overflow (accounts that may go negative).
  Balances d = balances_of(*debit), c = balances_of(*credit), tot = totals();
  d.debits_pending -= p.amount;
  c.credits_pending -= p.amount;
  tot.debits_pending -= p.amount;
  tot.credits_pending -= p.amount;
  if (!add(d.debits_posted, posted, &d.debits_posted) ||
      !add(c.credits_posted, posted, &c.credits_posted) ||
      !add(tot.debits_posted, posted, &tot.debits_posted) ||
      !add(tot.credits_posted, posted, &tot.credits_posted)) {
    return TransferResult::kOverflow;
  }

  if (in_chain) {
    undo_.push_back(
        Undo{debit, credit, balances_of(*debit), balances_of(*credit), totals(), ppos, info});
  }
  set_balances(*debit, d);
  set_balances(*credit, c);
  set_totals(tot);
  pending_info_[ppos] = PendingInfo{post ? PendingState::kPosted : PendingState::kVoided, posted};
  changes_.pending_states.push_back(p.id);
  // append() may move transfers_ and pending_info_: `p` is not used after it.
  append(t, debit->id, credit->id, now_ms, /*pending=*/false);
  BERTH_CHECK(pending_info_[ppos].posted <= transfers_[ppos].amount,
              "ledger: posted more than held");
  check_account(*debit);
  check_account(*credit);
  check_totals();
  return TransferResult::kOk;
}

void Ledger::append(const Transfer& t, AccountId debit, AccountId credit, int64_t now_ms,
                    bool pending) {
  const uint64_t pos = transfers_.size();
  transfers_.push_back(t);  // `t` is not used after this: it may have lived in transfers_
  Transfer& stored = transfers_.back();
  stored.debit = debit;
  stored.credit = credit;
  stored.timestamp_ms = now_ms;
  pending_info_.push_back(PendingInfo{pending ? PendingState::kPending : PendingState::kNone, 0});
  transfer_index_.insert(stored.id.value, pos);
  changes_.accounts.push_back(debit);
  changes_.accounts.push_back(credit);
  changes_.transfers.push_back(stored.id);
}

void Ledger::schedule_expiry(Deadline deadline) {
  if (expiry_fifo_head_ == expiry_fifo_.size() || expiry_fifo_.back() <= deadline) {
    expiry_fifo_.push_back(deadline);
  } else {
    expiry_heap_.push_back(deadline);
    std::push_heap(expiry_heap_.begin(), expiry_heap_.end(), std::greater<>());
  }
}

size_t Ledger::expire_pending(int64_t now_ms) {
  size_t expired = 0;
  for (;;) {
    // The earliest deadline is at the FIFO's head or the heap's top.
    const bool fifo_due =
        expiry_fifo_head_ < expiry_fifo_.size() && expiry_fifo_[expiry_fifo_head_].first <= now_ms;
    const bool heap_due = !expiry_heap_.empty() && expiry_heap_.front().first <= now_ms;
    if (!fifo_due && !heap_due) break;
    uint64_t pos;
    if (fifo_due && (!heap_due || expiry_fifo_[expiry_fifo_head_] <= expiry_heap_.front())) {
      pos = expiry_fifo_[expiry_fifo_head_++].second;
    } else {
      pos = expiry_heap_.front().second;
      std::pop_heap(expiry_heap_.begin(), expiry_heap_.end(), std::greater<>());
      expiry_heap_.pop_back();
    }
    PendingInfo& info = pending_info_[pos];
    if (info.state != PendingState::kPending) continue;  // resolved before its deadline
    const Transfer& p = transfers_[pos];
    Account* debit = find_account(p.debit);
    Account* credit = find_account(p.credit);
    BERTH_CHECK(debit != nullptr && credit != nullptr,
                "ledger: pending transfer's account missing");
    debit->debits_pending -= p.amount;
    credit->credits_pending -= p.amount;
    total_debits_pending_ -= p.amount;
    total_credits_pending_ -= p.amount;
    info.state = PendingState::kExpired;
    changes_.accounts.push_back(p.debit);
    changes_.accounts.push_back(p.credit);
    changes_.pending_states.push_back(p.id);
    check_account(*debit);
    check_account(*credit);
    check_totals();
    ++expired;
  }
  // Drop the FIFO's done prefix once it is most of the vector: amortized O(1) per entry.
  if (expiry_fifo_head_ == expiry_fifo_.size()) {
    expiry_fifo_.clear();
    expiry_fifo_head_ = 0;
  } else if (expiry_fifo_head_ >= 1024 && expiry_fifo_head_ * 2 >= expiry_fifo_.size()) {
    expiry_fifo_.erase(expiry_fifo_.begin(),
                       expiry_fifo_.begin() + static_cast<ptrdiff_t>(expiry_fifo_head_));
    expiry_fifo_head_ = 0;
  }
  return expired;
}

Status Ledger::restore_transfer(const Transfer& t, PendingState state, Minor posted_amount) {
  const std::string which = "restored transfer " + std::to_string(t.id.value);
  if (!t.id.valid()) return Status::Invalid("restored transfer id must not be 0");
  if (transfer_index_.find(t.id.value) != IdIndex::kMissing) {
    return Status::Conflict(which + " exists");
  }
  if (bad_flags(t.flags)) {
    return Status::Invalid(which + ": bad flags");
  }
  if (find_account(t.debit) == nullptr || find_account(t.credit) == nullptr) {
    return Status::NotFound(which + ": account not found");
  }
  const bool pending = (t.flags & kPending) != 0;
  if (pending) {
    if (state == PendingState::kNone) return Status::Invalid(which + ": pending without a state");
    if (posted_amount < 0 || posted_amount > t.amount ||
        (state != PendingState::kPosted && posted_amount != 0)) {
      return Status::Invalid(which + ": bad posted amount");
    }
  } else if (state != PendingState::kNone || posted_amount != 0) {
    return Status::Invalid(which + ": only a pending transfer has a pending state");
  }
  int64_t expires_ms = 0;
  if (t.timeout_ms < 0 || (t.timeout_ms > 0 && !add(t.timestamp_ms, t.timeout_ms, &expires_ms))) {
    return Status::Invalid(which + ": bad timeout");
  }
  const uint64_t pos = transfers_.size();
  transfers_.push_back(t);
  pending_info_.push_back(PendingInfo{pending ? state : PendingState::kNone, posted_amount});
  transfer_index_.insert(t.id.value, pos);
  if (pending && state == PendingState::kPending && t.timeout_ms > 0) {
    schedule_expiry({expires_ms, pos});
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// verify(): replays every transfer from zero balances and compares with what is stored.

Status Ledger::verify() const {
  auto fail = [](const std::string& what) { return Status::Internal("ledger verify: " + what); };
  auto tid = [](const Transfer& t) { return "transfer " + std::to_string(t.id.value); };

  if (account_index_.size() != accounts_.size()) return fail("account index size mismatch");
  for (size_t i = 0; i < accounts_.size(); ++i) {
    if (account_index_.find(accounts_[i]->id.value) != i) return fail("account index mismatch");
  }
  if (transfer_index_.size() != transfers_.size() || pending_info_.size() != transfers_.size()) {
    return fail("transfer index size mismatch");
  }

  std::vector<Balances> replay(accounts_.size());
  std::vector<PendingInfo> states(transfers_.size());
  Balances tot;
  auto account_pos = [&](AccountId id) { return account_index_.find(id.value); };
  // Adds `amount` to the field of the account at `pos` and to the total; false on overflow.
  auto bump = [&](Minor Balances::*field, uint64_t pos, Minor amount) {
    return add(replay[pos].*field, amount, &(replay[pos].*field)) &&
           add(tot.*field, amount, &(tot.*field));
  };

  for (size_t i = 0; i < transfers_.size(); ++i) {
    const Transfer& t = transfers_[i];
    if (!t.id.valid()) return fail("a transfer has id 0");
    if (transfer_index_.find(t.id.value) != i) return fail(tid(t) + ": index mismatch");
    if (bad_flags(t.flags)) {
      return fail(tid(t) + ": bad flags");
    }
    const uint64_t d = account_pos(t.debit), c = account_pos(t.credit);
    if (d == IdIndex::kMissing || c == IdIndex::kMissing) return fail(tid(t) + ": unknown account");
    if (d == c) return fail(tid(t) + ": debit and credit are the same account");
    if (t.amount < 0) return fail(tid(t) + ": negative amount");
    const bool pending = t.flags & kPending;
    if (!pending && pending_info_[i].state != PendingState::kNone) {
      return fail(tid(t) + ": not pending but has a pending state");
    }
    if (t.flags & (kPostPending | kVoidPending)) {
      const uint64_t p = transfer_index_.find(t.pending_id.value);
      if (p == IdIndex::kMissing || p >= i) return fail(tid(t) + ": resolves no earlier transfer");
      const Transfer& h = transfers_[p];
      if (!(h.flags & kPending)) return fail(tid(t) + ": resolves a transfer that is not pending");
      if (states[p].state != PendingState::kPending)
        return fail(tid(t) + ": resolves a hold twice");
      if (h.debit != t.debit || h.credit != t.credit) return fail(tid(t) + ": accounts differ");
      if (h.timeout_ms > 0 && t.timestamp_ms >= h.timestamp_ms + h.timeout_ms) {
        return fail(tid(t) + ": resolves a hold after its deadline");
      }
      const bool post = t.flags & kPostPending;
      if (post ? t.amount > h.amount : (t.amount != 0 && t.amount != h.amount)) {
        return fail(tid(t) + ": bad amount");
      }
      replay[d].debits_pending -= h.amount;
      replay[c].credits_pending -= h.amount;
      tot.debits_pending -= h.amount;
      tot.credits_pending -= h.amount;
      const Minor posted = post ? t.amount : 0;
      if (!bump(&Balances::debits_posted, d, posted) ||
          !bump(&Balances::credits_posted, c, posted)) {
        return fail(tid(t) + ": overflow");
      }
      states[p] = PendingInfo{post ? PendingState::kPosted : PendingState::kVoided, posted};
    } else if (pending) {
      if (t.amount <= 0) return fail(tid(t) + ": pending amount not positive");
      if (!bump(&Balances::debits_pending, d, t.amount) ||
          !bump(&Balances::credits_pending, c, t.amount)) {
        return fail(tid(t) + ": overflow");
      }
      states[i] = PendingInfo{PendingState::kPending, 0};
    } else {
      if (t.amount <= 0) return fail(tid(t) + ": amount not positive");
      if (!bump(&Balances::debits_posted, d, t.amount) ||
          !bump(&Balances::credits_posted, c, t.amount)) {
        return fail(tid(t) + ": overflow");
      }
    }
  }

  // Expiry leaves no transfer: release the holds stored as expired, then compare states.
  std::vector<bool> scheduled(transfers_.size(), false);
  for (const auto& [expires_ms, pos] : expiry_heap_) {
    if (pos >= transfers_.size()) return fail("expiry heap names no transfer");
    scheduled[pos] = true;
  }
  for (size_t k = expiry_fifo_head_; k < expiry_fifo_.size(); ++k) {
    if (k > expiry_fifo_head_ && expiry_fifo_[k] < expiry_fifo_[k - 1]) {
      return fail("expiry queue out of order");
    }
    if (expiry_fifo_[k].second >= transfers_.size()) return fail("expiry queue names no transfer");
    scheduled[expiry_fifo_[k].second] = true;
  }
  for (size_t i = 0; i < transfers_.size(); ++i) {
    const Transfer& t = transfers_[i];
    if (!(t.flags & kPending)) continue;
    const PendingInfo& stored = pending_info_[i];
    if (stored.state == PendingState::kExpired && states[i].state == PendingState::kPending) {
      const uint64_t d = account_pos(t.debit), c = account_pos(t.credit);
      replay[d].debits_pending -= t.amount;
      replay[c].credits_pending -= t.amount;
      tot.debits_pending -= t.amount;
      tot.credits_pending -= t.amount;
      if (t.timeout_ms <= 0) return fail(tid(t) + ": expired without a timeout");
      states[i].state = PendingState::kExpired;
    }
    if (stored.state != states[i].state || stored.posted != states[i].posted) {
      return fail(tid(t) + ": stored state " + pending_state_name(stored.state) + " posted " +
                  std::to_string(stored.posted) + ", replayed " +
                  pending_state_name(states[i].state) + " posted " +
                  std::to_string(states[i].posted));
    }
    if (stored.posted > t.amount) return fail(tid(t) + ": posted more than held");
    if (stored.state == PendingState::kPending && t.timeout_ms > 0 && !scheduled[i]) {
      return fail(tid(t) + ": pending with a timeout but not scheduled to expire");
    }
  }

  for (size_t i = 0; i < accounts_.size(); ++i) {
    const Account& a = *accounts_[i];
    const Balances& r = replay[i];
    if (a.debits_pending != r.debits_pending || a.debits_posted != r.debits_posted ||
        a.credits_pending != r.credits_pending || a.credits_posted != r.credits_posted) {
      return fail(describe(a) +
                  " but the transfers give debits_pending=" + std::to_string(r.debits_pending) +
                  " debits_posted=" + std::to_string(r.debits_posted) +
                  " credits_pending=" + std::to_string(r.credits_pending) +
                  " credits_posted=" + std::to_string(r.credits_posted));
    }
    if (a.debits_pending < 0 || a.debits_posted < 0 || a.credits_pending < 0 ||
        a.credits_posted < 0) {
      return fail(describe(a) + ": negative balance field");
    }
    if (!valid_credit_limit(a)) return fail(describe(a) + ": bad credit limit");
    if (a.no_overdraft && !within_floor(a)) {
      return fail(describe(a) + ": below its floor (zero less its credit limit) counting holds");
    }
  }
  if (tot.debits_posted != total_debits_posted_ || tot.credits_posted != total_credits_posted_ ||
      tot.debits_pending != total_debits_pending_ ||
      tot.credits_pending != total_credits_pending_) {
    return fail("stored totals differ from the transfers");
  }
  if (total_debits_posted_ != total_credits_posted_ ||
      total_debits_pending_ != total_credits_pending_) {
    return fail("totals do not balance");
  }
  return Status::Ok();
}

}  // namespace berth::core
