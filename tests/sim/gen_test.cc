// berth sim gen's generator: reproducible from its seed, the shapes each class promises (the
// homogeneous runtimes' median and 90th percentile, 64-GPU gangs, bursts), the offered load
// asked for, and a CSV that reads back as the same jobs.
#include "sim/gen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "common/enum_names_testing.h"
#include "sim/metrics.h"
#include "sim/sim_testing.h"

namespace berth::sim {
namespace {

Trace generate_ok(const GenOptions& options) {
  Result<Trace> t = generate_trace(options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : Trace{};
}

std::string csv_of(const GenOptions& options) {
  Result<std::string> csv = write_trace_csv(generate_ok(options));
  EXPECT_TRUE(csv.ok()) << csv.status().ToString();
  return csv.ok() ? *csv : "";
}

GenOptions options_for(GenClass cls, int64_t jobs, uint64_t seed = 1) {
  GenOptions o;
  o.cls = cls;
  o.jobs = jobs;
  o.seed = seed;
  return o;
}

// sum(gpus x runtime) / (cluster GPUs x (last submit - first submit)).
double offered_load(const Trace& t, const GenOptions& o) {
  double gpu_s = 0;
  for (const TraceJob& j : t.jobs) gpu_s += static_cast<double>(j.gpus) * j.runtime_s;
  const double span_s = static_cast<double>(t.jobs.back().submit_s - t.jobs.front().submit_s);
  return gpu_s / (static_cast<double>(o.nodes) * o.gpus_per_node * span_s);
}

// Seed 42, three heavy-tailed jobs (see ASeedsTraceIsPinned).
constexpr char kPinnedHeavyTailed42[] =
    "id,submit_s,runtime_s,gpus,tenant\n1,0,275,1,t4\n2,10,72,32,t4\n3,44,976,2,t3\n";

constexpr GenClass kClasses[] = {GenClass::kHomogeneous, GenClass::kHeavyTailed, GenClass::kGangs,
                                 GenClass::kBursty};

TEST(GenTrace, TheSameSeedGivesTheSameCsv) {
  for (GenClass cls : kClasses) {
    SCOPED_TRACE(kGenClassNames.name(cls));
    EXPECT_EQ(csv_of(options_for(cls, 500, 7)), csv_of(options_for(cls, 500, 7)));
  }
}

TEST(GenTrace, DifferentSeedsDiffer) {
  for (GenClass cls : kClasses) {
    SCOPED_TRACE(kGenClassNames.name(cls));
    EXPECT_NE(csv_of(options_for(cls, 500, 1)), csv_of(options_for(cls, 500, 2)));
  }
}

// The generator is written out (no <random> distributions), so these rows are the same on every
// machine and standard library; a change here changes every trace users have made from a seed.
TEST(GenTrace, ASeedsTraceIsPinned) {
  const std::string csv = csv_of(options_for(GenClass::kHeavyTailed, 3, 42));
  EXPECT_EQ(csv, kPinnedHeavyTailed42);
}

TEST(GenTrace, HomogeneousRuntimesHaveMedianThreeHoursAndP90SixHours) {
  const Trace t = generate_ok(options_for(GenClass::kHomogeneous, 20'000));
  std::vector<int64_t> runtimes;
  for (const TraceJob& j : t.jobs) {
    ASSERT_EQ(j.gpus, 1);
    runtimes.push_back(j.runtime_s);
  }
  EXPECT_NEAR(static_cast<double>(percentile_nearest_rank(&runtimes, 50)), 3 * 3600,
              0.03 * 3 * 3600);
  EXPECT_NEAR(static_cast<double>(percentile_nearest_rank(&runtimes, 90)), 6 * 3600,
              0.03 * 6 * 3600);
}

TEST(GenTrace, OfferedLoadIsTheOneAskedFor) {
  for (GenClass cls : kClasses)
    for (double load : {0.5, 0.8, 1.5}) {
      SCOPED_TRACE(std::string(kGenClassNames.name(cls)) + " at " + std::to_string(load));
      GenOptions o = options_for(cls, 2000);
      o.load = load;
      o.nodes = 8;
      o.gpus_per_node = 4;
      const Trace t = generate_ok(o);
      EXPECT_NEAR(offered_load(t, o), load, 0.02 * load);
    }
}

TEST(GenTrace, GangsClassHasOccasional64GpuGangs) {
  const Trace t = generate_ok(options_for(GenClass::kGangs, 20'000));
  int64_t gangs = 0;
  for (const TraceJob& j : t.jobs) {
    if (j.gpus == 64) {
      ++gangs;
      continue;
    }
    ASSERT_TRUE(j.gpus == 1 || j.gpus == 2) << j.gpus;
  }
  // About 1 in 200: 100 expected, the binomial's standard deviation 10.
  EXPECT_GE(gangs, 60);
  EXPECT_LE(gangs, 140);
}

TEST(GenTrace, HeavyTailedSizesAreMostlySmallWithGangs) {
  const Trace t = generate_ok(options_for(GenClass::kHeavyTailed, 20'000));
  std::map<int, int64_t> by_size;
  int64_t longest_s = 0;
  for (const TraceJob& j : t.jobs) {
    ++by_size[j.gpus];
    longest_s = std::max(longest_s, j.runtime_s);
    ASSERT_GE(j.runtime_s, 1);
  }
  EXPECT_EQ(by_size.size(), 6u);  // 1, 2, 4, 8, 16, 32 and nothing else
  for (int gpus : {1, 2, 4, 8, 16, 32}) EXPECT_GT(by_size[gpus], 0) << gpus;
  EXPECT_NEAR(static_cast<double>(by_size[1]) / 20'000, 0.70, 0.02);
  EXPECT_LE(longest_s, 30 * 86'400);
  EXPECT_GT(longest_s, 100 * 900);  // the tail: sigma 2 reaches far past the median
}

// Coefficient of variation of the gaps between arrivals: 1 for Poisson, well above for bursts.
double gap_cv(const Trace& t) {
  std::vector<double> gaps;
  for (size_t i = 1; i < t.jobs.size(); ++i)
    gaps.push_back(static_cast<double>(t.jobs[i].submit_s - t.jobs[i - 1].submit_s));
  double mean = 0, var = 0;
  for (double g : gaps) mean += g / static_cast<double>(gaps.size());
  for (double g : gaps) var += (g - mean) * (g - mean) / static_cast<double>(gaps.size());
  return std::sqrt(var) / mean;
}

TEST(GenTrace, BurstyArrivalsComeInBursts) {
  GenOptions o = options_for(GenClass::kHeavyTailed, 20'000);
  o.nodes = 1000;  // long gaps, so whole seconds do not blur them
  const double poisson = gap_cv(generate_ok(o));
  o.cls = GenClass::kBursty;
  const double bursty = gap_cv(generate_ok(o));
  EXPECT_NEAR(poisson, 1.0, 0.05);
  EXPECT_GT(bursty, 1.5);
}

TEST(GenTrace, TenantsAreT1ToTn) {
  GenOptions o = options_for(GenClass::kHomogeneous, 2000);
  o.tenants = 3;
  std::set<std::string> tenants;
  for (const TraceJob& j : generate_ok(o).jobs) tenants.insert(j.tenant);
  EXPECT_EQ(tenants, (std::set<std::string>{"t1", "t2", "t3"}));
}

TEST(GenTrace, TheCsvReadsBackAsTheSameJobs) {
  for (GenClass cls : kClasses) {
    SCOPED_TRACE(kGenClassNames.name(cls));
    const Trace t = generate_ok(options_for(cls, 300, 5));
    Result<std::string> csv = write_trace_csv(t);
    ASSERT_TRUE(csv.ok());
    const std::string path =
        testing::temp_file(std::string("gen_") + kGenClassNames.name(cls) + ".csv", *csv);
    Result<Trace> back = read_trace(path, TraceFormat::kCsv, {});
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->jobs.size(), t.jobs.size());
    EXPECT_TRUE(back->notes.empty());
    for (size_t i = 0; i < t.jobs.size(); ++i) {
      const TraceJob &a = t.jobs[i], &b = back->jobs[i];
      ASSERT_EQ(a.id, b.id);
      ASSERT_EQ(a.submit_s, b.submit_s) << a.id;
      ASSERT_EQ(a.runtime_s, b.runtime_s) << a.id;
      ASSERT_EQ(a.gpus, b.gpus) << a.id;
      ASSERT_EQ(a.tenant, b.tenant) << a.id;
      ASSERT_EQ(a.line, b.line) << a.id;
    }
  }
}

TEST(GenTrace, BadOptionsAreRefusedNamingThem) {
  auto refused = [](GenOptions o, const std::string& what) {
    Result<Trace> t = generate_trace(o);
    ASSERT_FALSE(t.ok()) << what;
    EXPECT_NE(t.status().message().find(what), std::string::npos) << t.status().message();
  };
  GenOptions o;
  o.jobs = 0;
  refused(o, "jobs must be 1 to");
  o = GenOptions{};
  o.load = 0;
  refused(o, "load must be above 0");
  o.load = std::numeric_limits<double>::quiet_NaN();
  refused(o, "load must be above 0");
  o = GenOptions{};
  o.nodes = 0;
  refused(o, "nodes must be at least 1");
  o = GenOptions{};
  o.gpus_per_node = 0;
  refused(o, "gpus per node must be at least 1");
  o = GenOptions{};
  o.tenants = 0;
  refused(o, "tenants must be 1 to");
  o = GenOptions{};
  o.load = 1e-12;  // years between arrivals
  refused(o, "the arrivals would span more than");
}

TEST(GenTrace, WritingAJobThatBreaksTheTracePromisesIsRefused) {
  Trace t;
  t.jobs.push_back(TraceJob{.id = "x", .gpus = 0});
  EXPECT_FALSE(write_trace_csv(t).ok());
}

TEST(GenClassNames, NameEveryClass) { enum_testing::expect_every_enumerator_named(kGenClassNames); }

}  // namespace
}  // namespace berth::sim
