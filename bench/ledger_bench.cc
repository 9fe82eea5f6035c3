// How many transfers per second the ledger applies, one thread, as berth uses it: a hold
// (a pending transfer) and then its settlement (a partial post that releases the rest).
// items_per_second counts transfers (a hold and its post are two).
//
// Only the core is used (berth_core, berth_common). Every 1,024 pairs the changes are
// drained, as the store would. The ledger is replaced (untimed) once it holds a given number
// of pairs, so that memory stays bounded however long the benchmark runs: 2^14 pairs keeps
// its working set in cache, 2^20 (two million transfers) measures a ledger larger than the
// caches, where the index lookups miss and the growing vectors fault in fresh pages.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/ledger.h"

namespace berth::core {
namespace {

constexpr AccountId kSourceAccount{1};
constexpr AccountId kRevenueAccount{2};
constexpr uint64_t kFirstWallet = 1'000;

std::unique_ptr<Ledger> funded_ledger(int64_t wallets) {
  auto ledger = std::make_unique<Ledger>();
  Account a;
  a.id = kSourceAccount;
  a.kind = AccountKind::kSource;
  a.no_overdraft = false;
  if (!ledger->create_account(a, 0).ok()) return nullptr;
  a.id = kRevenueAccount;
  a.kind = AccountKind::kRevenue;
  a.no_overdraft = true;
  if (!ledger->create_account(a, 0).ok()) return nullptr;
  for (int64_t w = 0; w < wallets; ++w) {
    a.id = AccountId{kFirstWallet + static_cast<uint64_t>(w)};
    a.kind = AccountKind::kWallet;
    if (!ledger->create_account(a, 0).ok()) return nullptr;
    Transfer t;
    t.id = TransferId{uint64_t{1} << 40 | static_cast<uint64_t>(w)};
    t.debit = kSourceAccount;
    t.credit = a.id;
    t.amount = Minor{1} << 50;
    if (ledger->create_transfer(t, 0) != TransferResult::kOk) return nullptr;
  }
  ledger->drain_changes();
  return ledger;
}

// Args: number of wallets held from; the hold's timeout (0 = none; else holds expire after
// that many pairs, and expire_pending runs every 1,024 pairs as the owner would); log2 of the
// pairs a ledger holds before it is replaced.
void BM_HoldSettle(benchmark::State& state) {
  const int64_t wallets = state.range(0);
  const int64_t timeout_ms = state.range(1);
  const uint64_t pairs_per_ledger = uint64_t{1} << state.range(2);
  std::unique_ptr<Ledger> ledger = funded_ledger(wallets);
  if (ledger == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  uint64_t pairs = 0;
  int64_t now_ms = 1;
  for (auto _ : state) {
    if (pairs == pairs_per_ledger) {
      state.PauseTiming();
      ledger = funded_ledger(wallets);
      pairs = 0;
      state.ResumeTiming();
    }
    const uint64_t id = 2 * pairs + 1;
    Transfer hold;
    hold.id = TransferId{id};
    hold.debit = AccountId{kFirstWallet + pairs % static_cast<uint64_t>(wallets)};
    hold.credit = kRevenueAccount;
    hold.amount = 10'000 + static_cast<Minor>(pairs & 255);
    hold.flags = kPending;
    hold.timeout_ms = timeout_ms;
    hold.code = kCodeJobCopay;
    hold.ref = pairs;
    Transfer settle;
    settle.id = TransferId{id + 1};
    settle.flags = kPostPending;
    settle.pending_id = hold.id;
    settle.amount = hold.amount / 2;
    settle.code = kCodeJobCopay;
    settle.ref = pairs;
    const TransferResult held = ledger->create_transfer(hold, now_ms);
    const TransferResult settled = ledger->create_transfer(settle, now_ms);
    if (held != TransferResult::kOk || settled != TransferResult::kOk) {
      state.SkipWithError("a transfer failed");
      break;
    }
    ++pairs;
    ++now_ms;
    if ((pairs & 1023) == 0) {
      if (timeout_ms > 0) benchmark::DoNotOptimize(ledger->expire_pending(now_ms));
      benchmark::DoNotOptimize(ledger->drain_changes());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 2);
}
BENCHMARK(BM_HoldSettle)
    ->ArgNames({"wallets", "timeout_ms", "log2_pairs"})
    ->Args({1'000, 0, 14})
    ->Args({1'000, 4'000, 14})
    ->Args({1, 0, 20})
    ->Args({1'000, 0, 20})
    ->Args({1'000, 4'000, 20});

// A job's money as the engine moves it: two linked holds (award and wallet) in one batch,
// then both posted in part in a second batch. Four transfers per iteration.
// Args: number of wallets, log2 of the jobs a ledger holds before it is replaced.
void BM_JobHoldSettleLinked(benchmark::State& state) {
  const int64_t wallets = state.range(0);
  const uint64_t jobs_per_ledger = uint64_t{1} << state.range(1);
  std::unique_ptr<Ledger> ledger = funded_ledger(wallets);
  if (ledger == nullptr) {
    state.SkipWithError("setup failed");
    return;
  }
  uint64_t jobs = 0;
  int64_t now_ms = 1;
  std::array<Transfer, 2> holds{}, posts{};
  for (auto _ : state) {
    if (jobs == jobs_per_ledger) {
      state.PauseTiming();
      ledger = funded_ledger(wallets);
      jobs = 0;
      state.ResumeTiming();
    }
    const uint64_t id = 4 * jobs + 1;
    for (uint64_t k = 0; k < 2; ++k) {
      Transfer& h = holds[k];
      h.id = TransferId{id + k};
      // The "award" is the next wallet: any two funded no_overdraft accounts will do.
      h.debit = AccountId{kFirstWallet + (jobs + k) % static_cast<uint64_t>(wallets)};
      h.credit = kRevenueAccount;
      h.amount = k == 0 ? 7'000 : 3'000;
      h.flags = kPending | (k == 0 ? uint32_t{kLinked} : 0u);
      h.code = k == 0 ? kCodeJobSubsidy : kCodeJobCopay;
      h.ref = jobs;
      Transfer& p = posts[k];
      p.id = TransferId{id + 2 + k};
      p.flags = kPostPending | (k == 0 ? uint32_t{kLinked} : 0u);
      p.pending_id = h.id;
      p.amount = h.amount / 3;
      p.code = h.code;
      p.ref = jobs;
    }
    std::vector<TransferResult> held = ledger->create_transfers(holds, now_ms);
    std::vector<TransferResult> settled = ledger->create_transfers(posts, now_ms);
    if (held[0] != TransferResult::kOk || held[1] != TransferResult::kOk ||
        settled[0] != TransferResult::kOk || settled[1] != TransferResult::kOk) {
      state.SkipWithError("a transfer failed");
      break;
    }
    ++jobs;
    ++now_ms;
    if ((jobs & 511) == 0) benchmark::DoNotOptimize(ledger->drain_changes());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 4);
}
BENCHMARK(BM_JobHoldSettleLinked)
    ->ArgNames({"wallets", "log2_jobs"})
    ->Args({1'000, 13})
    ->Args({1'000, 19});

}  // namespace
}  // namespace berth::core

BENCHMARK_MAIN();
