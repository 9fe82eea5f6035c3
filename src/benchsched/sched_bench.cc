#include "benchsched/sched_bench.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/civil.h"
#include "core/engine.h"

namespace berth::benchsched {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kStartMs = 1'735'689'600'000;  // 2025-01-01T00:00:00Z, the virtual clock's origin
constexpr int kOrgs = 8;
constexpr int kProjects = 50;
constexpr int kPoorProjects = 3;  // the last projects: small wallets, no award
constexpr Minor kRichWalletMinor = 1'000'000'000'000'000;  // HK$100bn: money never blocks them
constexpr Minor kPoorWalletMinor = 500'000;  // HK$50: a few short jobs, then InsufficientFunds
constexpr Minor kAwardMinor = 1'000'000'000'000'000;
constexpr int kAwardGpuLevel = 1 << 30;  // no cap in effect: the bench measures the scheduler
constexpr int64_t kSubsidyRateBps = 7000;
constexpr int64_t kPreemptGraceMs = 30'000;  // TERM to exit for a preempted spot job
constexpr int64_t kTimeLimitsS[] = {600, 1800, 3600, 7200, 14400, 28800, 43200, 86400};
constexpr int kBigSizes[] = {16, 32, 48, 64};

struct Model {
  const char* name;
  Minor per_gpu_hour_minor;
};
constexpr Model kModels[] = {{"H100", 250'000}, {"A100", 150'000}};  // HK$25 and HK$15 per GPU-hour

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A value in [0, n). Taken from the raw 64-bit draw rather than a std distribution, whose
// output differs between standard libraries; the modulo bias is below 1e-16 for these n.
uint64_t below(std::mt19937_64& rng, uint64_t n) { return rng() % n; }

// VmRSS / VmHWM of this process in MiB, from /proc/self/status; -1 where unreadable.
double proc_status_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      long kb = -1;
      if (std::sscanf(line.c_str() + prefix.size(), "%ld", &kb) == 1)
        return static_cast<double>(kb) / 1024.0;
    }
  }
  return -1;
}

// Bytes the allocator has handed out and not taken back (main arena plus mmapped chunks).
double heap_in_use_mb() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<double>(mi.uordblks + mi.hblkhd) / (1024.0 * 1024.0);
}

double round_to(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

struct JobSpec {
  int gpus = 1;
  int model = -1;  // index into kModels, -1: any
  core::Tier tier = core::Tier::kNormal;
  int project = 0;  // 0-based
  int64_t time_limit_s = 0;
  int64_t runtime_s = 0;  // the true runtime, below the limit
};

// The job mix: sizes skewed to small (60% 1 GPU, 20% 2-4, 12% 8, 8% 16-64), 10% pinned to a
// GPU model, tiers 10% high / 75% normal / 15% spot, limits 10 min..24 h, runtimes 10-99% of it.
JobSpec draw_job(std::mt19937_64& rng) {
  JobSpec s;
  const uint64_t size = below(rng, 100);
  if (size < 60) {
    s.gpus = 1;
  } else if (size < 80) {
    s.gpus = 2 + static_cast<int>(below(rng, 3));
  } else if (size < 92) {
    s.gpus = 8;
  } else {
    s.gpus = kBigSizes[below(rng, std::size(kBigSizes))];
  }
  const uint64_t model = below(rng, 100);
  s.model = model < 90 ? -1 : (model < 95 ? 0 : 1);
  const uint64_t tier = below(rng, 100);
  s.tier = tier < 10 ? core::Tier::kHigh : (tier < 85 ? core::Tier::kNormal : core::Tier::kSpot);
  s.project = static_cast<int>(below(rng, kProjects));
  s.time_limit_s = kTimeLimitsS[below(rng, std::size(kTimeLimitsS))];
  s.runtime_s =
      std::max<int64_t>(1, s.time_limit_s * static_cast<int64_t>(10 + below(rng, 90)) / 100);
  return s;
}

bool is_poor(int project) { return project >= kProjects - kPoorProjects; }

class Bench {
 public:
  explicit Bench(const SchedBenchOptions& options) : o_(options), rng_(options.seed) {}

  Status build_centre();
  Status run_burst();
  Status run_steady();
  Status finish();
  json result() const { return out_; }

 private:
  // When a running job will end: its true runtime, or a preemption's grace. A job may have
  // both; the later one is stale once the job ended or restarted (start_ms tells).
  struct Running {
    int64_t end_ms;
    uint64_t job;
    int64_t start_ms;
    bool operator>(const Running& other) const {
      return end_ms != other.end_ms ? end_ms > other.end_ms : job > other.job;
    }
  };

  // Submits the next job of the stream at now_ms. Returns whether the Engine accepted it.
  bool submit_next(int64_t now_ms);
  // One timed Engine::schedule call; books what started and what it examined. Returns its
  // wall time in ms.
  double schedule_pass(int64_t now_ms);
  // Ends, as completed, every running job whose true runtime has elapsed by now_ms.
  Status end_due(int64_t now_ms);
  Status end_job(const Running& r, int64_t now_ms);
  // Drops ends of jobs that already ended or restarted from the top of running_.
  void drop_stale();
  // Hands the Engine's changes to nobody, as berthd would hand them to the store. Timed apart.
  double drain_changes();

  const SchedBenchOptions& o_;
  std::mt19937_64 rng_;
  std::unique_ptr<core::Engine> engine_;
  json out_ = json::object();

  // By job id - 1: the true runtime and whether the job's project is short of money.
  std::vector<int64_t> runtime_ms_;
  std::vector<bool> poor_;
  std::priority_queue<Running, std::vector<Running>, std::greater<>> running_;
  int64_t now_ms_ = kStartMs;
  int64_t refused_ = 0;
  std::string refused_example_;
  int64_t pending_ = 0;       // accepted and not started
  int64_t pending_rich_ = 0;  // of those, in projects with money
  int64_t started_ = 0;
  int64_t examined_ = 0;  // summed over passes
  int64_t last_examined_ = 0;
  int64_t preempted_ = 0;
  int64_t funds_waits_ = 0;  // job rows written as waiting for InsufficientFunds
  int64_t requeued_ = 0;
  double schedule_s_ = 0;
  double drain_changes_s_ = 0;
  double heap_before_mb_ = 0;
};

Status Bench::build_centre() {
  if (o_.nodes < 1 || o_.nodes > 1'000'000) return Status::Invalid("--nodes must be 1..1000000");
  if (o_.gpus_per_node < 1 || o_.gpus_per_node > 64)
    return Status::Invalid("--gpus-per-node must be 1..64");
  if (o_.jobs < 1 || o_.jobs > 10'000'000) return Status::Invalid("--jobs must be 1..10000000");
  out_["rss_mb_before"] = round_to(proc_status_mb("VmRSS"), 1);
  heap_before_mb_ = heap_in_use_mb();

  // Every fifth node is an A100 node, the rest H100: a fixed 80/20 mix at any size. Nodes sit
  // in NVLink domains of 32 (each domain one model), which gang jobs are kept within.
  core::ClusterConfig config;
  config.nodes.reserve(static_cast<size_t>(o_.nodes));
  for (int i = 0; i < o_.nodes; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "n%05d", i + 1);
    core::Node n;
    n.name = name;
    n.gpu_model = kModels[i % 5 == 4 ? 1 : 0].name;
    n.gpus = o_.gpus_per_node;
    n.cpus = 16 * o_.gpus_per_node;
    n.memory_mb = int64_t{128} * 1024 * o_.gpus_per_node;
    const int of_model = i % 5 == 4 ? i / 5 : i - i / 5;  // its index among nodes of its model
    n.domain = n.gpu_model + "-nvl" + std::to_string(of_model / 32);
    config.nodes.push_back(std::move(n));
  }
  for (const Model& m : kModels) config.prices.push_back({m.name, m.per_gpu_hour_minor});
  config.partitions.push_back(core::Partition{"gpu", kSecondsPerWeek, kSecondsPerHour, true});
  auto engine = core::Engine::Create(std::move(config), now_ms_);
  if (!engine.ok())
    return Status::Internal("synthetic centre refused: " + engine.status().message());
  engine_ = std::move(*engine);

  // Organisations of every kind, ~50 projects round-robin; all but the poor ones hold a big
  // wallet, every other rich one an award from one 70% scheme open to every kind.
  std::vector<OrgId> orgs;
  for (int i = 0; i < kOrgs; ++i) {
    auto org = engine_->create_org("org" + std::to_string(i + 1),
                                   static_cast<core::OrgKind>(i % core::kOrgKindCount), now_ms_);
    if (!org.ok()) return Status::Internal(org.status().message());
    orgs.push_back(org->id);
  }
  const int awarded = (kProjects - kPoorProjects + 1) / 2;
  auto scheme = engine_->create_scheme("subsidy", kSubsidyRateBps, (1u << core::kOrgKindCount) - 1,
                                       core::Shortfall::kWallet, kAwardMinor * awarded, now_ms_);
  if (!scheme.ok()) return Status::Internal(scheme.status().message());
  for (int i = 0; i < kProjects; ++i) {
    auto project = engine_->create_project(orgs[static_cast<size_t>(i % kOrgs)],
                                           "p" + std::to_string(i + 1), now_ms_);
    if (!project.ok()) return Status::Internal(project.status().message());
    auto topup =
        engine_->top_up(project->id, is_poor(i) ? kPoorWalletMinor : kRichWalletMinor, "", now_ms_);
    if (!topup.ok()) return Status::Internal(topup.status().message());
    if (!is_poor(i) && i % 2 == 0) {
      auto award = engine_->create_award(scheme->id, project->id, kAwardMinor, kAwardGpuLevel,
                                         now_ms_ - kMsPerDay, now_ms_ + 3650 * kMsPerDay, now_ms_);
      if (!award.ok()) return Status::Internal(award.status().message());
    }
  }
  drain_changes();
  out_["nodes"] = o_.nodes;
  out_["gpus_per_node"] = o_.gpus_per_node;
  out_["gpus_total"] = int64_t{o_.nodes} * o_.gpus_per_node;
  out_["jobs"] = o_.jobs;
  out_["seed"] = o_.seed;
  out_["projects"] = kProjects;
  out_["projects_short_of_money"] = kPoorProjects;
  return Status::Ok();
}

bool Bench::submit_next(int64_t now_ms) {
  const JobSpec s = draw_job(rng_);
  core::JobRequest r;
  r.name = "bench";
  r.user = "u" + std::to_string(s.project + 1);
  r.project = ProjectId(static_cast<uint64_t>(s.project + 1));
  r.gpus = s.gpus;
  // A job larger than a node is a gang of whole nodes (16-64 GPUs on 8-GPU nodes: 2-8 nodes).
  if (s.gpus > o_.gpus_per_node) {
    r.nodes = (s.gpus + o_.gpus_per_node - 1) / o_.gpus_per_node;
    r.gpus = r.nodes * o_.gpus_per_node;
  }
  if (s.model >= 0) r.gpu_model = kModels[s.model].name;
  r.time_limit_s = s.time_limit_s;
  r.tier = s.tier;
  Result<JobId> id = engine_->submit(r, now_ms);
  if (!id.ok()) {
    ++refused_;
    if (refused_example_.empty()) refused_example_ = id.status().message();
    return false;
  }
  // Ids are dense: the Engine numbers accepted jobs 1, 2, ...
  runtime_ms_.push_back(s.runtime_s * 1000);
  poor_.push_back(is_poor(s.project));
  ++pending_;
  if (!is_poor(s.project)) ++pending_rich_;
  return true;
}

double Bench::schedule_pass(int64_t now_ms) {
  const Clock::time_point start = Clock::now();
  const std::vector<JobId> started = engine_->schedule(now_ms);
  const double s = seconds_since(start);
  schedule_s_ += s;
  for (JobId id : started) {
    running_.push({now_ms + runtime_ms_[id.value - 1], id.value, now_ms});
    --pending_;
    if (!poor_[id.value - 1]) --pending_rich_;
  }
  started_ += static_cast<int64_t>(started.size());
  last_examined_ = static_cast<int64_t>(engine_->scheduler().last_examined());
  examined_ += last_examined_;
  // Spot jobs asked to make way: the owner sends TERM and they are gone after the grace.
  for (JobId id : engine_->take_preemptions()) {
    running_.push({now_ms + kPreemptGraceMs, id.value, engine_->job(id)->start_ms});
    ++preempted_;
  }
  return s * 1000.0;
}

Status Bench::end_job(const Running& r, int64_t now_ms) {
  const JobId id(r.job);
  core::JobEnd end;
  end.cancelled =
      engine_->job(id)->preempt_requested;  // stopped by TERM, as the executor reports it
  const Status st = engine_->job_ended(id, end, r.end_ms, now_ms);
  if (!st.ok())
    return Status::Internal("job_ended(" + std::to_string(r.job) + "): " + st.message());
  if (engine_->job(id)->state == core::JobState::kPending) {  // preempted: back in the queue
    ++requeued_;
    ++pending_;
    if (!poor_[r.job - 1]) ++pending_rich_;
  }
  return Status::Ok();
}

void Bench::drop_stale() {
  while (!running_.empty()) {
    const core::Job* job = engine_->job(JobId(running_.top().job));
    if (job->state == core::JobState::kRunning && job->start_ms == running_.top().start_ms) return;
    running_.pop();
  }
}

Status Bench::end_due(int64_t now_ms) {
  for (drop_stale(); !running_.empty() && running_.top().end_ms <= now_ms; drop_stale()) {
    const Running r = running_.top();
    running_.pop();
    BERTH_RETURN_IF_ERROR(end_job(r, now_ms));
  }
  return Status::Ok();
}

double Bench::drain_changes() {
  const Clock::time_point start = Clock::now();
  const core::ChangeSet changes = engine_->drain_changes();
  const double s = seconds_since(start);
  drain_changes_s_ += s;
  for (const core::Job& job : changes.jobs)
    if (job.state == core::JobState::kPending &&
        job.reason == core::PendingReason::kInsufficientFunds)
      ++funds_waits_;
  return s * 1000.0;
}

// All jobs at once, then passes at advancing virtual times until every job of a project with
// money has started. Between passes the clock moves on by tick_s, or to the next job end when
// nothing ends sooner, and every job whose runtime elapsed ends first.
Status Bench::run_burst() {
  const Clock::time_point submit_start = Clock::now();
  for (int i = 0; i < o_.jobs; ++i) submit_next(now_ms_);
  const double submit_s = seconds_since(submit_start);
  out_["submit_s"] = round_to(submit_s, 3);
  out_["submit_per_s"] = std::round(o_.jobs / std::max(submit_s, 1e-9));
  out_["accepted"] = pending_;
  drain_changes();

  const Clock::time_point drain_start = Clock::now();
  const int64_t burst_start_ms = now_ms_;
  int64_t passes = 0, considered = 0;

  bool truncated = false, stalled = false;
  schedule_s_ = 0;
  while (pending_rich_ > 0) {
    if (passes >= o_.burst_max_passes || seconds_since(drain_start) > o_.burst_budget_s) {
      truncated = true;
      break;
    }
    considered += pending_;
    const int64_t started_before = started_;
    schedule_pass(now_ms_);
    ++passes;
    drain_changes();
    drop_stale();
    if (running_.empty() && started_ == started_before) {
      stalled = true;  // nothing runs and nothing could start: only unaffordable jobs remain
      break;
    }
    drop_stale();
    now_ms_ =
        std::max(now_ms_ + o_.tick_s * 1000, running_.empty() ? now_ms_ : running_.top().end_ms);
    BERTH_RETURN_IF_ERROR(end_due(now_ms_));
  }
  const double drain_wall_s = seconds_since(drain_start);
  // A decision: a job a pass examined, which it either started or gave a pending reason.
  const int64_t decisions = examined_;
  out_["decisions"] = decisions;
  out_["decisions_per_s"] =
      std::round(static_cast<double>(decisions) / std::max(schedule_s_, 1e-9));
  out_["started"] = started_;
  out_["started_per_s"] = std::round(static_cast<double>(started_) / std::max(schedule_s_, 1e-9));
  out_["considered"] = considered;
  out_["considered_per_s"] =
      std::round(static_cast<double>(considered) / std::max(schedule_s_, 1e-9));
  out_["passes"] = passes;
  out_["schedule_s"] = round_to(schedule_s_, 3);
  out_["drain_wall_s"] = round_to(drain_wall_s, 3);
  out_["drain_virtual_h"] = round_to(static_cast<double>(now_ms_ - burst_start_ms) / 3.6e6, 2);
  out_["burst_pending_left"] = pending_;
  out_["burst_truncated"] = truncated;
  out_["burst_stalled"] = stalled;
  out_["tick_s"] = o_.tick_s;
  return Status::Ok();
}

// A full cluster and ~`jobs` pending; then one event at a time, each followed by one timed
// Engine::schedule call: the earliest running job ends (the clock moves to its end) while the
// queue is at least as long as after the fill, otherwise one job arrives, so the queue stays
// near its length.
Status Bench::run_steady() {
  const int64_t refused_before = refused_;
  for (int64_t tries = 0; pending_ < o_.jobs && tries < 2 * int64_t{o_.jobs}; ++tries)
    submit_next(now_ms_);
  drain_changes();
  out_["fill_pass_ms"] = round_to(schedule_pass(now_ms_), 3);
  drain_changes();
  out_["steady_pending"] = pending_;
  out_["steady_running"] = static_cast<int64_t>(engine_->running_jobs().size());
  out_["rss_mb"] = round_to(proc_status_mb("VmRSS"), 1);
  out_["heap_mb_state"] = round_to(heap_in_use_mb() - heap_before_mb_, 1);

  std::vector<double> pass_ms, event_ms, drain_ms;
  pass_ms.reserve(static_cast<size_t>(o_.steady_events));
  const Clock::time_point steady_start = Clock::now();
  const int64_t queue_target = pending_;
  int64_t ends = 0, arrivals = 0, examined_max = 0;
  bool truncated = false;
  for (int i = 0; i < o_.steady_events; ++i) {
    if (seconds_since(steady_start) > o_.steady_budget_s) {
      truncated = true;
      break;
    }
    const Clock::time_point event_start = Clock::now();
    drop_stale();
    if (pending_ >= queue_target && !running_.empty()) {
      const Running r = running_.top();
      running_.pop();
      now_ms_ = std::max(now_ms_, r.end_ms);
      BERTH_RETURN_IF_ERROR(end_job(r, now_ms_));
      ++ends;
    } else {
      submit_next(now_ms_);
      ++arrivals;
    }
    event_ms.push_back(seconds_since(event_start) * 1000.0);
    drain_ms.push_back(drain_changes());
    pass_ms.push_back(schedule_pass(now_ms_));
    examined_max = std::max(examined_max, last_examined_);
    drain_ms.back() += drain_changes();
  }
  std::sort(pass_ms.begin(), pass_ms.end());
  std::sort(event_ms.begin(), event_ms.end());
  std::sort(drain_ms.begin(), drain_ms.end());
  double sum = 0;
  for (double ms : pass_ms) sum += ms;
  out_["steady_events"] = static_cast<int64_t>(pass_ms.size());
  out_["steady_truncated"] = truncated;
  out_["steady_ends"] = ends;
  out_["steady_examined_max"] = examined_max;
  out_["steady_arrivals"] = arrivals;
  out_["pass_ms_p50"] = round_to(percentile(pass_ms, 0.50), 4);
  out_["pass_ms_p90"] = round_to(percentile(pass_ms, 0.90), 4);
  out_["pass_ms_p99"] = round_to(percentile(pass_ms, 0.99), 4);
  out_["pass_ms_max"] = round_to(pass_ms.empty() ? 0 : pass_ms.back(), 4);
  out_["pass_ms_mean"] =
      round_to(pass_ms.empty() ? 0 : sum / static_cast<double>(pass_ms.size()), 4);
  out_["event_ms_p99"] = round_to(percentile(event_ms, 0.99), 4);
  out_["drain_changes_ms_p99"] = round_to(percentile(drain_ms, 0.99), 4);
  out_["steady_refused"] = refused_ - refused_before;
  out_["steady_pending_end"] = pending_;
  return Status::Ok();
}

Status Bench::finish() {
  json reasons = json::object();
  int64_t pending_seen = 0;
  for (const core::Job& j : engine_->jobs()) {
    if (j.state != core::JobState::kPending) continue;
    ++pending_seen;
    reasons[core::pending_reason_name(j.reason)] =
        reasons.value(core::pending_reason_name(j.reason), 0) + 1;
  }
  if (pending_seen != pending_) return Status::Internal("the bench lost count of pending jobs");
  out_["pending_reasons"] = reasons;
  out_["refused"] = refused_;
  out_["preempted"] = preempted_;
  out_["insufficient_funds_waits"] = funds_waits_;
  out_["requeued"] = requeued_;
  out_["refused_example"] = refused_example_;
  out_["drain_changes_s"] = round_to(drain_changes_s_, 3);
  out_["rss_mb_end"] = round_to(proc_status_mb("VmRSS"), 1);
  out_["rss_peak_mb"] = round_to(proc_status_mb("VmHWM"), 1);
  const Clock::time_point verify_start = Clock::now();
  const Status books = engine_->verify();
  out_["verify_s"] = round_to(seconds_since(verify_start), 3);
  if (!books.ok()) return Status::Internal("the books do not verify: " + books.message());
  out_["books_ok"] = true;
  out_["jobs_in_core"] = static_cast<int64_t>(engine_->jobs().size());
  out_["transfers_in_core"] = static_cast<int64_t>(engine_->ledger().transfer_count());
  // The Engine's own heap, measured exactly by giving it back.
  const double heap_with_engine = heap_in_use_mb();
  engine_.reset();
  out_["core_heap_mb_end"] = round_to(heap_with_engine - heap_in_use_mb(), 1);
  const bool truncated =
      out_["burst_truncated"].get<bool>() || out_["steady_truncated"].get<bool>();
  out_["truncated"] = truncated;
  out_["note"] =
      "decision = a job a burst pass examined: started, or left pending with its reason set "
      "(Engine::scheduler().last_examined(), summed over passes). started = jobs started in the "
      "burst. "
      "considered = sum over burst passes of the jobs pending at the pass's start (what a pass "
      "could "
      "examine). decisions_per_s and started_per_s = those counts / wall time inside "
      "Engine::schedule; "
      "drain_wall_s also counts job_ended, drain_changes and the bench's own bookkeeping. "
      "pass_ms_* = one "
      "Engine::schedule call after one event (a job ends or arrives) with the cluster full and "
      "~jobs pending. "
      "rss_mb = VmRSS once that state is built; heap_mb_state = heap grown since before "
      "Engine::Create at "
      "that point (includes the bench's own ~16 bytes/job); core_heap_mb_end = the Engine's heap "
      "at the end "
      "(all jobs ever submitted, all transfers). refused = submissions the Engine refused (none "
      "expected: "
      "jobs larger than a node run as gangs of whole nodes, within a 32-node NVLink domain where "
      "possible). insufficient_funds_waits = job rows drained with reason InsufficientFunds. "
      "preempted = spot jobs the Engine asked to stop (take_preemptions); the bench ends each 30 s "
      "later "
      "(TERM, grace) and the Engine requeues it (requeued).";
  return Status::Ok();
}

}  // namespace

Result<json> run_sched_bench(const SchedBenchOptions& options) {
  Bench bench(options);
  BERTH_RETURN_IF_ERROR(bench.build_centre());
  BERTH_RETURN_IF_ERROR(bench.run_burst());
  BERTH_RETURN_IF_ERROR(bench.run_steady());
  BERTH_RETURN_IF_ERROR(bench.finish());
  return bench.result();
}

}  // namespace berth::benchsched
