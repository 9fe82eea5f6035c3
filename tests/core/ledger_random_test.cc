// A randomized test of the ledger against a simple shadow model.
//
// From a fixed seed it applies random operations (accounts of every kind, single-phase and
// pending transfers, posts in full and in part, voids, expiry on a virtual clock, linked
// chains with deliberate failures, retries of old ids) and after every operation checks the
// ledger against the model and the invariants independently of the ledger's own checks:
// expected balances per account, balanced totals, no no_overdraft account below zero
// counting holds, each pending transfer resolved at most once and posted <= its amount, and
// exactly the expected changes recorded. ledger.verify() runs every 1,000 operations.
//
// A failure prints the seed and the operation; BERTH_LEDGER_SEED=<n> replays another seed
// and BERTH_LEDGER_OPS=<n> changes the number of operations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ledger.h"

namespace berth::core {

// Lets GoogleTest print results by name (the same inline definition is in ledger_test.cc).
inline void PrintTo(TransferResult result, std::ostream* os) {
  *os << transfer_result_name(result);
}

namespace {

using R = TransferResult;

constexpr uint64_t kDefaultSeed = 0x6265727468'4c4544ull;  // "berthLED"
constexpr int kDefaultOps = 120'000;
constexpr size_t kMaxAccounts = 40;

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// The model: plain maps, no cleverness, and an undo log so that a chain can be taken back.
class Model {
 public:
  struct Acct {
    AccountId id;
    bool no_overdraft = true;
    Minor debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
  };
  struct Xfer {
    Transfer stored;  // as the ledger should store it
    PendingState state = PendingState::kNone;
    Minor posted = 0;
  };
  // What one operation should record in LedgerChanges.
  struct Changes {
    std::vector<TransferId> transfers;
    std::set<uint64_t> accounts;
    std::set<uint64_t> pending_states;
  };

  std::map<uint64_t, Acct> accounts;
  std::unordered_map<uint64_t, Xfer> transfers;
  std::set<std::pair<int64_t, uint64_t>> deadlines;  // (expires_ms, id) of pending with timeout
  Changes changes;

  void add_account(AccountId id, bool no_overdraft) {
    accounts[id.value] = Acct{id, no_overdraft};
    changes.accounts.insert(id.value);
  }

  // Predicts and, when it succeeds, applies one transfer; the rules of ledger.h and ledger.cc.
  R apply(const Transfer& t, int64_t now_ms) {
    if (!t.id.valid()) return R::kIdMustNotBeZero;
    const uint32_t kinds = t.flags & (kPending | kPostPending | kVoidPending);
    if ((t.flags & ~uint32_t{kLinked | kPending | kPostPending | kVoidPending}) != 0 ||
        (kinds != 0 && (kinds & (kinds - 1)) != 0)) {
      return R::kFlagsAreMutuallyExclusive;
    }
    const bool post = t.flags & kPostPending, void_ = t.flags & kVoidPending;
    if (auto it = transfers.find(t.id.value); it != transfers.end()) {
      Transfer asked = t;
      if (post || void_) {
        if (!asked.debit.valid()) asked.debit = it->second.stored.debit;
        if (!asked.credit.valid()) asked.credit = it->second.stored.credit;
      }
      return it->second.stored.same_fields(asked) ? R::kExists : R::kExistsWithDifferentFields;
    }
    if (post || void_) {
      if (!t.pending_id.valid()) return R::kPendingIdRequired;
      if (t.timeout_ms != 0) return R::kTimeoutReservedForPending;
      if (t.amount < 0) return R::kAmountMustBePositive;
      auto it = transfers.find(t.pending_id.value);
      if (it == transfers.end()) return R::kPendingTransferNotFound;
      const Transfer p = it->second.stored;
      if (!(p.flags & kPending)) return R::kPendingTransferNotPending;
      if ((t.debit.valid() && t.debit != p.debit) || (t.credit.valid() && t.credit != p.credit)) {
        return R::kPendingAccountsMismatch;
      }
      if (it->second.state == PendingState::kPosted) return R::kPendingTransferAlreadyPosted;
      if (it->second.state == PendingState::kVoided) return R::kPendingTransferAlreadyVoided;
      if (it->second.state == PendingState::kExpired) return R::kPendingTransferExpired;
      if (p.timeout_ms > 0 && now_ms >= p.timestamp_ms + p.timeout_ms)
        return R::kPendingTransferExpired;
      if (post ? t.amount > p.amount : (t.amount != 0 && t.amount != p.amount)) {
        return R::kExceedsPendingAmount;
      }
      const Minor posted = post ? t.amount : 0;
      Acct& d = touch(p.debit);
      Acct& c = touch(p.credit);
      d.debits_pending -= p.amount;
      c.credits_pending -= p.amount;
      d.debits_posted += posted;
      c.credits_posted += posted;
      set_state(p.id, post ? PendingState::kPosted : PendingState::kVoided, posted);
      Transfer stored = t;
      stored.debit = p.debit;
      stored.credit = p.credit;
      add_transfer(stored, now_ms, PendingState::kNone);
      return R::kOk;
    }
    const bool pending = t.flags & kPending;
    if (t.debit == t.credit) return R::kAccountsMustBeDifferent;
    if (t.amount <= 0) return R::kAmountMustBePositive;
    if (t.timeout_ms < 0 || (!pending && t.timeout_ms != 0)) return R::kTimeoutReservedForPending;
    if (!accounts.count(t.debit.value)) return R::kDebitAccountNotFound;
    if (!accounts.count(t.credit.value)) return R::kCreditAccountNotFound;
    const Acct& debit = accounts[t.debit.value];
    if (debit.no_overdraft &&
        debit.debits_posted + debit.debits_pending + t.amount > debit.credits_posted) {
      return R::kExceedsCredits;
    }
    Acct& d = touch(t.debit);
    Acct& c = touch(t.credit);
    if (pending) {
      d.debits_pending += t.amount;
      c.credits_pending += t.amount;
    } else {
      d.debits_posted += t.amount;
      c.credits_posted += t.amount;
    }
    add_transfer(t, now_ms, pending ? PendingState::kPending : PendingState::kNone);
    if (pending && t.timeout_ms > 0) {
      deadlines.insert({now_ms + t.timeout_ms, t.id.value});
      undo_.push_back(Undo{Undo::kDeadline, t.id.value, {}, now_ms + t.timeout_ms, {}});
    }
    return R::kOk;
  }

  // Applies a batch the way create_transfers should; returns the expected results.
  std::vector<R> apply_batch(const std::vector<Transfer>& batch, int64_t now_ms) {
    std::vector<R> results(batch.size(), R::kOk);
    size_t i = 0;
    while (i < batch.size()) {
      size_t last = i;
      while (last < batch.size() && (batch[last].flags & kLinked)) ++last;
      if (last == batch.size()) {
        for (size_t k = i; k < batch.size(); ++k) results[k] = R::kLinkedEventFailed;
        results.back() = R::kLinkedChainOpen;
        break;
      }
      undo_.clear();
      const size_t mark = changes.transfers.size();
      const std::set<uint64_t> accounts_before = changes.accounts;
      const std::set<uint64_t> pending_before = changes.pending_states;
      for (size_t k = i; k <= last; ++k) {
        results[k] = apply(batch[k], now_ms);
        if (results[k] != R::kOk && results[k] != R::kExists && last > i) {
          rollback();
          changes.transfers.resize(mark);
          changes.accounts = accounts_before;
          changes.pending_states = pending_before;
          for (size_t j = i; j <= last; ++j) {
            if (j != k) results[j] = R::kLinkedEventFailed;
          }
          break;
        }
      }
      undo_.clear();
      i = last + 1;
    }
    return results;
  }

  size_t expire(int64_t now_ms) {
    size_t n = 0;
    while (!deadlines.empty() && deadlines.begin()->first <= now_ms) {
      const uint64_t id = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      Xfer& x = transfers.at(id);
      if (x.state != PendingState::kPending) continue;
      Acct& d = touch(x.stored.debit);
      Acct& c = touch(x.stored.credit);
      d.debits_pending -= x.stored.amount;
      c.credits_pending -= x.stored.amount;
      set_state(x.stored.id, PendingState::kExpired, 0);
      ++n;
    }
    undo_.clear();
    return n;
  }

 private:
  struct Undo {
    enum Kind { kAccount, kTransfer, kState, kDeadline } kind;
    uint64_t id;
    Acct account;
    int64_t deadline;
    Xfer state;
  };

  Acct& touch(AccountId id) {
    Acct& a = accounts.at(id.value);
    undo_.push_back(Undo{Undo::kAccount, id.value, a, 0, {}});
    changes.accounts.insert(id.value);
    return a;
  }
  void set_state(TransferId id, PendingState state, Minor posted) {
    Xfer& x = transfers.at(id.value);
    undo_.push_back(Undo{Undo::kState, id.value, {}, 0, x});
    x.state = state;
    x.posted = posted;
    changes.pending_states.insert(id.value);
  }
  void add_transfer(Transfer t, int64_t now_ms, PendingState state) {
    t.timestamp_ms = now_ms;
    transfers[t.id.value] = Xfer{t, state, 0};
    undo_.push_back(Undo{Undo::kTransfer, t.id.value, {}, 0, {}});
    changes.transfers.push_back(t.id);
  }
  void rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      switch (it->kind) {
        case Undo::kAccount:
          accounts[it->id] = it->account;
          break;
        case Undo::kTransfer:
          transfers.erase(it->id);
          break;
        case Undo::kState:
          transfers[it->id] = it->state;
          break;
        case Undo::kDeadline:
          deadlines.erase({it->deadline, it->id});
          break;
      }
    }
    undo_.clear();
  }

  std::vector<Undo> undo_;
};

class LedgerRandomTest : public ::testing::Test {
 protected:
  // Records a failure naming the seed and operation; the run stops at the first one.
  bool check(bool ok, const std::string& what) {
    if (!ok && !failed_) {
      ADD_FAILURE() << "seed " << seed_ << " (replay with BERTH_LEDGER_SEED=" << seed_
                    << "), operation " << op_ << " (" << op_name_ << "): " << what;
      failed_ = true;
    }
    return ok;
  }

  int64_t rand_in(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(rand_in(0, static_cast<int64_t>(v.size()) - 1))];
  }

  void create_account(AccountKind kind) {
    Account a;
    a.id = AccountId{next_account_++};
    a.kind = kind;
    a.no_overdraft = kind != AccountKind::kSource && kind != AccountKind::kExternal;
    a.name = account_kind_name(kind);
    Status st = ledger_.create_account(a, now_);
    if (!check(st.ok(), "create_account: " + st.ToString())) return;
    model_.add_account(a.id, a.no_overdraft);
    account_ids_.push_back(a.id);
    (a.no_overdraft ? protected_ids_ : overdraft_ids_).push_back(a.id);
  }

  AccountId some_account() {
    if (chance(0.02)) return AccountId{next_account_ + 100};  // not found
    return pick(account_ids_);
  }
  AccountId some_debit() {
    if (chance(0.25)) return pick(overdraft_ids_);  // money comes in here
    return some_account();
  }
  Minor some_amount() {
    const int64_t r = rand_in(0, 99);
    if (r < 2) return rand_in(-5, 0);  // refused
    if (r < 80) return rand_in(1, 500);
    if (r < 95) return rand_in(1, 5'000);
    return rand_in(1, 1'000'000);  // usually exceeds credits
  }
  TransferId new_id() {
    if (!failed_ids_.empty() && chance(0.03)) return pick(failed_ids_);  // a failed id, reused
    return TransferId{next_transfer_++};
  }

  Transfer gen_single() {
    Transfer t;
    t.id = new_id();
    t.debit = some_debit();
    t.credit = chance(0.02) ? t.debit : some_account();
    t.amount = some_amount();
    t.code = static_cast<uint32_t>(rand_in(0, 8));
    t.ref = static_cast<uint64_t>(rand_in(0, 1'000));
    if (chance(0.01)) t.timeout_ms = 5;  // refused: timeout on a single-phase transfer
    return t;
  }
  Transfer gen_pending() {
    Transfer t = gen_single();
    t.flags = kPending;
    t.timeout_ms = chance(0.5) ? 0 : rand_in(1, 3'000);
    if (chance(0.01)) t.timeout_ms = -1;
    return t;
  }
  TransferId some_pending() {
    if (pending_ids_.empty() || chance(0.02)) return TransferId{next_transfer_ + 1'000'000};
    if (chance(0.02)) return pick(applied_ids_);  // often not a pending transfer
    if (chance(0.7)) {
      const size_t n = std::min<size_t>(pending_ids_.size(), 64);
      return pending_ids_[pending_ids_.size() - 1 -
                          static_cast<size_t>(rand_in(0, static_cast<int64_t>(n) - 1))];
    }
    return pick(pending_ids_);
  }
  Transfer gen_resolution(bool post, TransferId pending_id) {
    Transfer t;
    t.id = new_id();
    t.flags = post ? kPostPending : kVoidPending;
    t.pending_id = pending_id;
    const Transfer* p = ledger_.transfer(pending_id);
    const Minor held = p != nullptr ? p->amount : 100;
    if (post) {
      const int64_t r = rand_in(0, 99);
      t.amount = r < 10 ? held : r < 20 ? 0 : r < 25 ? held + rand_in(1, 10) : rand_in(0, held);
    } else {
      const int64_t r = rand_in(0, 99);
      t.amount = r < 45 ? 0 : r < 90 ? held : rand_in(1, held + 5);
    }
    if (p != nullptr && chance(0.1)) {
      t.debit = p->debit;
      t.credit = p->credit;
    }
    if (chance(0.03)) t.debit = some_account();  // usually a mismatch
    if (chance(0.01)) t.pending_id = TransferId{};
    if (chance(0.01)) t.timeout_ms = 3;
    t.code = kCodeJobCopay;
    return t;
  }
  Transfer gen_retry() {
    Transfer t = submitted_[pick(applied_ids_).value];
    if (chance(0.5)) return t;  // the same fields: kExists
    switch (rand_in(0, 4)) {
      case 0:
        t.amount += 1;
        break;
      case 1:
        t.code += 1;
        break;
      case 2:
        t.ref += 1;
        break;
      case 3:
        t.credit = AccountId{t.credit.value + 1};
        break;
      default:
        t.timeout_ms = (t.flags & kPending) ? t.timeout_ms + 1 : t.timeout_ms;
        t.ref += 7;
        break;
    }
    return t;
  }
  Transfer gen_invalid() {
    Transfer t = gen_single();
    switch (rand_in(0, 3)) {
      case 0:
        t.id = TransferId{};
        break;
      case 1:
        t.flags = kPending | kVoidPending;
        break;
      case 2:
        t.flags = 1u << 9;
        break;
      default:
        t.debit = AccountId{};
        break;
    }
    return t;
  }
  Transfer gen_any(const std::vector<Transfer>& earlier) {
    const int64_t r = rand_in(0, 99);
    if (r < 30) return gen_single();
    if (r < 55) return gen_pending();
    // Resolve a hold placed earlier in the same batch now and then.
    for (const Transfer& e : earlier) {
      if ((e.flags & kPending) && chance(0.5)) return gen_resolution(r < 80, e.id);
    }
    if (r < 75) return gen_resolution(true, some_pending());
    if (r < 85) return gen_resolution(false, some_pending());
    if (r < 95 && !applied_ids_.empty()) return gen_retry();
    return gen_invalid();
  }
  // Makes a transfer fail on purpose.
  Transfer sabotage(Transfer t) {
    const uint32_t two_phase_resolution = kPostPending | kVoidPending;
    switch (rand_in(0, 3)) {
      case 0:  // far more than any protected account holds
        t.flags &= ~two_phase_resolution;
        t.amount = 4'000'000'000'000;
        t.debit = pick(protected_ids_);
        t.credit = pick(overdraft_ids_);
        t.timeout_ms = 0;
        break;
      case 1:  // resolves a pending transfer that does not exist
        t.flags = (t.flags & kLinked) | kPostPending;
        t.pending_id = TransferId{next_transfer_ + 2'000'000};
        t.timeout_ms = 0;
        break;
      case 2:
        t.flags &= ~two_phase_resolution;
        t.amount = 0;
        break;
      default:
        t.flags &= ~two_phase_resolution;
        t.debit = AccountId{next_account_ + 5};
        break;
    }
    return t;
  }

  // Applies a batch to both and compares results; remembers what was applied.
  void run_batch(const std::vector<Transfer>& batch) {
    std::vector<R> expected = model_.apply_batch(batch, now_);
    std::vector<R> actual;
    if (batch.size() == 1 && chance(0.5)) {
      actual.push_back(ledger_.create_transfer(batch[0], now_));
    } else {
      actual = ledger_.create_transfers(batch, now_);
    }
    if (!check(actual.size() == batch.size(), "result count")) return;
    for (R r : actual) ++results_seen_[r];
    for (size_t i = 0; i < batch.size(); ++i) {
      const Transfer& t = batch[i];
      std::ostringstream what;
      what << "transfer #" << i << " id " << t.id.value << " flags " << t.flags << " amount "
           << t.amount << " pending_id " << t.pending_id.value << ": expected "
           << transfer_result_name(expected[i]) << ", got " << transfer_result_name(actual[i]);
      if (!check(actual[i] == expected[i], what.str())) return;
      if (actual[i] == R::kOk) {
        submitted_[t.id.value] = t;
        applied_ids_.push_back(t.id);
        if (t.flags & kPending) pending_ids_.push_back(t.id);
        if (t.flags & (kPostPending | kVoidPending)) {
          const int resolutions = ++resolutions_[t.pending_id.value];
          check(resolutions == 1,
                "pending " + std::to_string(t.pending_id.value) + " resolved twice");
          touched_pending_.push_back(t.pending_id);
        }
      } else if (actual[i] != R::kExists && actual[i] != R::kExistsWithDifferentFields &&
                 t.id.valid() && !model_.transfers.count(t.id.value)) {
        failed_ids_.push_back(t.id);
      }
    }
  }

  void check_pending(TransferId id) {
    auto it = model_.transfers.find(id.value);
    if (it == model_.transfers.end()) return;
    const Model::Xfer& x = it->second;
    const std::string name = "pending " + std::to_string(id.value);
    check(ledger_.pending_state(id) == x.state, name + " state " +
                                                    pending_state_name(ledger_.pending_state(id)) +
                                                    ", model " + pending_state_name(x.state));
    check(ledger_.posted_amount(id) == x.posted, name + " posted amount");
    check(ledger_.posted_amount(id) >= 0 && ledger_.posted_amount(id) <= x.stored.amount,
          name + " posted more than held");
  }

  // The invariants, checked from the outside after every operation.
  void check_invariants() {
    check(ledger_.account_count() == model_.accounts.size(), "account count");
    check(ledger_.transfer_count() == model_.transfers.size(), "transfer count");
    Minor dpost = 0, cpost = 0, dpend = 0, cpend = 0;
    for (const auto& [id, m] : model_.accounts) {
      const Account* a = ledger_.account(m.id);
      if (!check(a != nullptr, "account " + std::to_string(id) + " missing")) return;
      const std::string name = "account " + std::to_string(id);
      check(a->debits_pending == m.debits_pending && a->debits_posted == m.debits_posted &&
                a->credits_pending == m.credits_pending && a->credits_posted == m.credits_posted,
            name + " balances differ from the model");
      check(a->debits_pending >= 0 && a->debits_posted >= 0 && a->credits_pending >= 0 &&
                a->credits_posted >= 0,
            name + " has a negative field");
      if (a->no_overdraft) {
        check(a->debits_posted + a->debits_pending <= a->credits_posted,
              name + " is below zero counting holds");
      }
      dpost += a->debits_posted;
      cpost += a->credits_posted;
      dpend += a->debits_pending;
      cpend += a->credits_pending;
    }
    check(dpost == cpost && dpend == cpend, "the books do not balance");
    check(ledger_.total_debits_posted() == dpost && ledger_.total_credits_posted() == cpost &&
              ledger_.total_debits_pending() == dpend && ledger_.total_credits_pending() == cpend,
          "stored totals differ from the sum of the accounts");

    // What the operation recorded for persistence: exactly what the model changed.
    LedgerChanges changes = ledger_.drain_changes();
    check(changes.transfers == model_.changes.transfers, "changes: transfers");
    check(std::set<uint64_t>(ids(changes.accounts)) == model_.changes.accounts,
          "changes: accounts");
    check(std::set<uint64_t>(ids(changes.pending_states)) == model_.changes.pending_states,
          "changes: pending states");
    for (uint64_t id : model_.changes.pending_states) touched_pending_.push_back(TransferId{id});
    model_.changes = {};

    for (TransferId id : touched_pending_) check_pending(id);
    touched_pending_.clear();
    for (int k = 0; k < 16 && !pending_ids_.empty(); ++k) {  // a rotating sample of the rest
      check_pending(pending_ids_[sweep_++ % pending_ids_.size()]);
    }
  }

  template <typename IdT>
  static std::set<uint64_t> ids(const std::vector<IdT>& v) {
    std::set<uint64_t> out;
    for (const IdT& id : v) out.insert(id.value);
    return out;
  }

  void full_check() {
    Status st = ledger_.verify();
    check(st.ok(), "verify: " + st.ToString());
    for (TransferId id : pending_ids_) check_pending(id);
  }

  void one_operation() {
    now_ += rand_in(0, 20);
    const int64_t r = rand_in(0, 999);
    std::vector<Transfer> batch;
    if (r < 15 && account_ids_.size() < kMaxAccounts) {
      op_name_ = "create_account";
      create_account(static_cast<AccountKind>(rand_in(1, 6)));
      return;
    }
    if (r < 20) {
      op_name_ = "create_account (duplicate)";
      Account a;
      a.id = pick(account_ids_);
      check(ledger_.create_account(a, now_).code() == Code::kConflict, "duplicate account");
      return;
    }
    if (r < 70) {
      op_name_ = "expire_pending";
      const size_t expected = model_.expire(now_);
      const size_t actual = ledger_.expire_pending(now_);
      check(actual == expected,
            "expired " + std::to_string(actual) + ", model " + std::to_string(expected));
      return;
    }
    if (r < 250) {
      op_name_ = "single";
      batch.push_back(gen_single());
    } else if (r < 450) {
      op_name_ = "pending";
      batch.push_back(gen_pending());
    } else if (r < 620) {
      op_name_ = "post";
      batch.push_back(gen_resolution(true, some_pending()));
    } else if (r < 700) {
      op_name_ = "void";
      batch.push_back(gen_resolution(false, some_pending()));
    } else if (r < 780 && !applied_ids_.empty()) {
      op_name_ = "retry";
      batch.push_back(gen_retry());
    } else if (r < 800) {
      op_name_ = "invalid";
      batch.push_back(gen_invalid());
    } else if (r < 940) {
      op_name_ = "linked chain";
      const int64_t n = rand_in(2, 4);
      for (int64_t k = 0; k < n; ++k) {
        Transfer t = gen_any(batch);
        t.flags |= kLinked;
        batch.push_back(t);
      }
      if (chance(0.3)) {
        const size_t k = static_cast<size_t>(rand_in(0, n - 1));
        batch[k] = sabotage(batch[k]);
      }
      if (!chance(0.03)) batch.back().flags &= ~uint32_t{kLinked};  // else left open
    } else {
      op_name_ = "batch";
      const int64_t n = rand_in(2, 5);
      for (int64_t k = 0; k < n; ++k) {
        Transfer t = gen_any(batch);
        t.flags &= ~uint32_t{kLinked};
        batch.push_back(t);
      }
      if (chance(0.4)) {  // a chain inside the batch
        const size_t k = static_cast<size_t>(rand_in(0, n - 2));
        batch[k].flags |= kLinked;
      }
    }
    run_batch(batch);
  }

  uint64_t seed_ = env_or("BERTH_LEDGER_SEED", kDefaultSeed);
  std::mt19937_64 rng_{seed_};
  Ledger ledger_;
  Model model_;
  int64_t now_ = 1'700'000'000'000;
  int op_ = 0;
  std::string op_name_;
  bool failed_ = false;
  uint64_t next_account_ = 1;
  uint64_t next_transfer_ = 1;
  std::vector<AccountId> account_ids_, overdraft_ids_, protected_ids_;
  std::vector<TransferId> applied_ids_, pending_ids_, failed_ids_, touched_pending_;
  std::unordered_map<uint64_t, Transfer> submitted_;  // as the caller sent it
  std::unordered_map<uint64_t, int> resolutions_;  // pending id -> posts and voids that succeeded
  std::map<R, int> results_seen_;
  size_t sweep_ = 0;
};

TEST_F(LedgerRandomTest, EveryOperationKeepsTheInvariants) {
  const int ops = static_cast<int>(env_or("BERTH_LEDGER_OPS", kDefaultOps));
  op_name_ = "setup";
  for (AccountKind kind :
       {AccountKind::kSource, AccountKind::kExternal, AccountKind::kFund, AccountKind::kFund,
        AccountKind::kAward, AccountKind::kAward, AccountKind::kAward, AccountKind::kWallet,
        AccountKind::kWallet, AccountKind::kWallet, AccountKind::kRevenue}) {
    create_account(kind);
  }
  check_invariants();
  for (op_ = 1; op_ <= ops && !failed_; ++op_) {
    one_operation();
    check_invariants();
    if (op_ % 1'000 == 0) full_check();
  }
  full_check();
  ASSERT_FALSE(failed_);

  // The run must have exercised what it claims to: each kind of outcome, and real work.
  for (R r : {R::kOk,
              R::kExists,
              R::kExistsWithDifferentFields,
              R::kLinkedEventFailed,
              R::kLinkedChainOpen,
              R::kIdMustNotBeZero,
              R::kFlagsAreMutuallyExclusive,
              R::kAccountsMustBeDifferent,
              R::kDebitAccountNotFound,
              R::kCreditAccountNotFound,
              R::kAmountMustBePositive,
              R::kTimeoutReservedForPending,
              R::kPendingIdRequired,
              R::kPendingTransferNotFound,
              R::kPendingTransferNotPending,
              R::kPendingTransferAlreadyPosted,
              R::kPendingTransferAlreadyVoided,
              R::kPendingTransferExpired,
              R::kPendingAccountsMismatch,
              R::kExceedsPendingAmount,
              R::kExceedsCredits}) {
    EXPECT_GT(results_seen_[r], 0) << transfer_result_name(r);
  }
  EXPECT_GT(ledger_.transfer_count(), static_cast<size_t>(ops) / 4);
  size_t posted = 0, voided = 0, expired = 0;
  for (TransferId id : pending_ids_) {
    const PendingState s = ledger_.pending_state(id);
    posted += s == PendingState::kPosted;
    voided += s == PendingState::kVoided;
    expired += s == PendingState::kExpired;
  }
  EXPECT_GT(posted, 100u);
  EXPECT_GT(voided, 100u);
  EXPECT_GT(expired, 100u);

  // And the final books survive a restore.
  Ledger copy;
  for (const Account* a : ledger_.accounts()) ASSERT_TRUE(copy.restore_account(*a).ok());
  for (const Transfer& t : ledger_.transfers_in_order()) {
    ASSERT_TRUE(
        copy.restore_transfer(t, ledger_.pending_state(t.id), ledger_.posted_amount(t.id)).ok());
  }
  Status st = copy.verify();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(copy.expire_pending(now_ + 10'000), ledger_.expire_pending(now_ + 10'000));
}

}  // namespace
}  // namespace berth::core
