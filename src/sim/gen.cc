#include "sim/gen.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include "common/civil.h"
#include "common/strings.h"

namespace berth::sim {
namespace {

// ---------------------------------------------------------------------------------------------
// Random numbers, written out so that every machine draws the same ones.

// xoshiro256** (Blackman and Vigna), its state filled by SplitMix64 from the seed as its authors
// recommend. Doubles from the top 53 bits; normals by Box-Muller.
class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& word : s_) word = splitmix64(&seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in (0, 1): never 0, so that its logarithm is finite.
  double open01() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  // Uniform over [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(open01() * static_cast<double>(n)); }

  double exponential(double mean) { return -mean * std::log(open01()); }

  // Box-Muller; the second normal of each pair is kept for the next call.
  double normal() {
    if (spare_) {
      const double z = *spare_;
      spare_.reset();
      return z;
    }
    const double r = std::sqrt(-2 * std::log(open01()));
    const double angle = 2 * std::numbers::pi * open01();
    spare_ = r * std::sin(angle);
    return r * std::cos(angle);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t* state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
  std::optional<double> spare_;
};

// ---------------------------------------------------------------------------------------------
// The classes' shapes

struct LogNormal {
  double median_s;
  double sigma;
  int64_t max_s;
};

constexpr int64_t kMaxRuntimeS = 30 * kSecondsPerDay;
const double kHomogeneousSigma = std::numbers::ln2 / 1.2816;  // p90 = 2 x median

int64_t draw_runtime_s(Random* rng, const LogNormal& d) {
  const double s = d.median_s * std::exp(d.sigma * rng->normal());
  return std::clamp<int64_t>(std::llround(std::min(s, static_cast<double>(d.max_s))), 1, d.max_s);
}

struct SizeShare {
  int gpus;
  double share;
};

// Mostly small jobs with a few gangs of 2 and 4 nodes of 8 GPUs (heavy-tailed and bursty).
constexpr SizeShare kMixedSizes[] = {{1, 0.70}, {2, 0.10},  {4, 0.08},
                                     {8, 0.08}, {16, 0.03}, {32, 0.01}};
constexpr LogNormal kHeavyTailedRuntime{15 * kSecondsPerMinute, 2.0, kMaxRuntimeS};

constexpr SizeShare kSmallSizes[] = {{1, 0.70}, {2, 0.30}};
constexpr LogNormal kSmallRuntime{kSecondsPerHour, 1.0, kMaxRuntimeS};
constexpr double kGangShare = 1.0 / 200;
constexpr int kGangGpus = 64;
constexpr LogNormal kGangRuntime{kSecondsPerDay, 0.5, kMaxRuntimeS};

// Bursty arrivals: the mean lengths of the quiet and busy periods, in mean gaps between
// arrivals, and how much faster jobs come while busy.
constexpr double kQuietPeriodGaps = 200, kBusyPeriodGaps = 50, kBusyRateFactor = 10;

template <size_t N>
int draw_size(Random* rng, const SizeShare (&sizes)[N]) {
  double u = rng->open01();
  for (const SizeShare& s : sizes) {
    if (u < s.share) return s.gpus;
    u -= s.share;
  }
  return sizes[N - 1].gpus;
}

// One job's GPUs and runtime for its class.
void draw_job(Random* rng, GenClass cls, TraceJob* job) {
  switch (cls) {
    case GenClass::kHomogeneous:
      job->gpus = 1;
      job->runtime_s =
          draw_runtime_s(rng, {3.0 * kSecondsPerHour, kHomogeneousSigma, kMaxRuntimeS});
      return;
    case GenClass::kHeavyTailed:
    case GenClass::kBursty:
      job->gpus = draw_size(rng, kMixedSizes);
      job->runtime_s = draw_runtime_s(rng, kHeavyTailedRuntime);
      return;
    case GenClass::kGangs:
      if (rng->open01() < kGangShare) {
        job->gpus = kGangGpus;
        job->runtime_s = draw_runtime_s(rng, kGangRuntime);
      } else {
        job->gpus = draw_size(rng, kSmallSizes);
        job->runtime_s = draw_runtime_s(rng, kSmallRuntime);
      }
      return;
  }
}

// Gaps between successive arrivals (jobs - 1 of them) with a mean of about 1, in the class's
// pattern; generate_trace stretches them to the span the load asks for.
std::vector<double> draw_gaps(Random* rng, GenClass cls, int64_t jobs) {
  std::vector<double> gaps;
  gaps.reserve(static_cast<size_t>(jobs));
  if (cls != GenClass::kBursty) {
    for (int64_t i = 1; i < jobs; ++i) gaps.push_back(rng->exponential(1.0));
    return gaps;
  }
  // The quiet rate q such that the long-run rate is 1: (q Tq + 10 q Tb) / (Tq + Tb) = 1.
  const double quiet_rate =
      (kQuietPeriodGaps + kBusyPeriodGaps) / (kQuietPeriodGaps + kBusyRateFactor * kBusyPeriodGaps);
  bool busy = false;
  double left_in_period = rng->exponential(kQuietPeriodGaps);
  double gap = 0;
  while (static_cast<int64_t>(gaps.size()) + 1 < jobs) {
    const double rate = busy ? quiet_rate * kBusyRateFactor : quiet_rate;
    const double next = rng->exponential(1.0 / rate);
    if (next <= left_in_period) {
      left_in_period -= next;
      gaps.push_back(gap + next);
      gap = 0;
    } else {  // the period ends first; memorylessness lets the next draw start afresh
      gap += left_in_period;
      busy = !busy;
      left_in_period = rng->exponential(busy ? kBusyPeriodGaps : kQuietPeriodGaps);
    }
  }
  return gaps;
}

Status check(const GenOptions& o) {
  if (o.jobs < 1 || o.jobs > kMaxGenJobs)
    return Status::Invalid("jobs must be 1 to " + std::to_string(kMaxGenJobs) + ", got " +
                           std::to_string(o.jobs));
  if (!(o.load > 0 && o.load <= kMaxGenLoad))
    return Status::Invalid("load must be above 0 and at most " +
                           std::to_string(static_cast<int>(kMaxGenLoad)) + ", got " +
                           std::to_string(o.load));
  if (o.nodes < 1) return Status::Invalid("nodes must be at least 1");
  if (o.gpus_per_node < 1) return Status::Invalid("gpus per node must be at least 1");
  if (o.tenants < 1 || o.tenants > kMaxGenTenants)
    return Status::Invalid("tenants must be 1 to " + std::to_string(kMaxGenTenants) + ", got " +
                           std::to_string(o.tenants));
  if (kGenClassNames.name(o.cls, nullptr) == nullptr) return Status::Invalid("unknown trace class");
  return Status::Ok();
}

}  // namespace

Result<Trace> generate_trace(const GenOptions& options) {
  BERTH_RETURN_IF_ERROR(check(options));
  Random rng(options.seed);
  Trace trace;
  trace.jobs.resize(static_cast<size_t>(options.jobs));
  double gpu_seconds = 0;
  for (TraceJob& job : trace.jobs) {
    draw_job(&rng, options.cls, &job);
    job.tenant = "t" + std::to_string(1 + rng.below(static_cast<uint64_t>(options.tenants)));
    gpu_seconds += static_cast<double>(job.gpus) * static_cast<double>(job.runtime_s);
  }
  const std::vector<double> gaps = draw_gaps(&rng, options.cls, options.jobs);
  double drawn_span = 0;
  for (double g : gaps) drawn_span += g;
  // The span at which the cluster is offered `load` of these jobs' GPU-time.
  const double cluster_gpus = static_cast<double>(options.nodes) * options.gpus_per_node;
  const double span_s = gpu_seconds / (cluster_gpus * options.load);
  if (span_s > static_cast<double>(kMaxTraceSeconds))
    return Status::Invalid(
        "at load " + std::to_string(options.load) + " the arrivals would span more than " +
        std::to_string(kMaxTraceSeconds) + " s; raise the load or shrink the cluster");
  const double stretch = drawn_span > 0 ? span_s / drawn_span : 0;
  double at = 0;
  for (size_t i = 0; i < trace.jobs.size(); ++i) {
    if (i > 0) at += gaps[i - 1] * stretch;
    TraceJob& job = trace.jobs[i];
    job.submit_s = std::llround(at);
    job.id = std::to_string(i + 1);
    job.line = static_cast<int>(i + 2);  // as the CSV will hold it (jobs <= kMaxGenJobs)
  }
  return trace;
}

Result<std::string> write_trace_csv(const Trace& trace) {
  std::string out = "id,submit_s,runtime_s,gpus,tenant\n";
  for (const TraceJob& j : trace.jobs) {
    if (j.runtime_s < 0 || j.gpus < 1)
      return Status::Invalid("job " + j.id + " has runtime " + std::to_string(j.runtime_s) +
                             " s and " + std::to_string(j.gpus) +
                             " GPUs; a trace job runs >= 0 s on >= 1 GPU");
    out += csv_field(j.id) + ',' + std::to_string(j.submit_s) + ',' + std::to_string(j.runtime_s) +
           ',' + std::to_string(j.gpus) + ',' + csv_field(j.tenant) + '\n';
  }
  return out;
}

}  // namespace berth::sim
