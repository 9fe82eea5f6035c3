// The robustness suite (robustness.h): on every workload and load, berth's default policy must
// never be the wrong choice. Against the other policies on the same trace and cluster:
//   average JCT        at most 1.02 x the better of fifo and easy, and 1.15 x oracle sjf;
//   bounded slowdown   at most 1.05 x the best policy without an oracle (fifo, easy, multifactor);
//   p99 JCT            at most 1.1 x easy's;
//   largest class      the average delay of the largest size class with jobs at most 1.2 x easy's.
// Where default does not meet a bar yet, kKnownShortfalls says so, and by how much.
// With BERTH_ROBUST_TABLE=FILE set, each workload's rows are appended to FILE as a Markdown
// table (bench/sim_robust.sh).
#include "robustness.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace berth::sim::testing {
namespace {

std::string hours(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", s / 3600);
  return text;
}

void append_table(const Cell& cell) {
  const char* path = std::getenv("BERTH_ROBUST_TABLE");
  if (path == nullptr || *path == '\0') return;
  std::ostringstream rows;
  for (const PolicyFigures& f : cell.policies) {
    char slowdown[32];
    std::snprintf(slowdown, sizeof slowdown, "%.2f", f.avg_bounded_slowdown);
    rows << "| " << cell.workload << " | " << cell.load << " | " << cell.nodes << " | "
         << policy_name(f.policy) << " | " << hours(f.avg_jct_s) << " | " << hours(f.p99_jct_s)
         << " | " << slowdown << " | " << f.largest_class << ": " << hours(f.largest_delay_s)
         << " | " << f.preemptions << " |\n";
  }
  std::ofstream(path, std::ios::app) << rows.str();
}

// Bars default does not meet yet, each with the ratio it was measured at (bench/sim_robust.sh):
// there the test asserts only that it gets no worse. On the HPC logs (KTH, Lublin) and PAI's
// pods, no policy without an oracle comes near sjf's average JCT: users' and tenants' past
// runtimes predict too little (easy and multifactor are as far off). PAI is replayed on 2 and 3
// nodes, where a few pods that run for weeks decide everything.
struct Shortfall {
  const char* workload;
  double load;
  const char* bar;
  double ratio;  // measured
};
constexpr Shortfall kKnownShortfalls[] = {
    {"kth-sp2", 0.7, "avg JCT / oracle sjf's", 1.16},
    {"lublin-256", 0.7, "avg JCT / oracle sjf's", 1.82},
    {"lublin-256", 0.9, "avg JCT / oracle sjf's", 2.66},
    {"pai-openb", 0.7, "avg JCT / oracle sjf's", 3.73},
    {"pai-openb", 0.9, "avg JCT / oracle sjf's", 18.87},
    {"pai-openb", 0.9, "avg JCT / the better of fifo's and easy's", 1.05},
    {"pai-openb", 0.9, "bounded slowdown / the best without an oracle", 1.10},
    {"gen-gangs", 0.7, "largest class's avg delay / easy's", 1.40},
    // Jobs alike: default runs them in submit order, as easy (the predictions cannot tell them
    // apart); sjf, knowing each runtime, can.
    {"gen-homogeneous-small", 0.9, "avg JCT / oracle sjf's", 1.39},
};

// value <= bar x reference, or for a known shortfall no worse than measured.
void expect_bar(const Cell& c, const char* bar, double value, double reference, double limit) {
  for (const Shortfall& s : kKnownShortfalls)
    if (c.workload == s.workload && c.load == s.load && std::string(bar) == s.bar) {
      limit = s.ratio;
      break;
    }
  EXPECT_LE(value, limit * reference)
      << c.workload << " at load " << c.load << " (" << c.nodes << " nodes): " << bar << " = "
      << value / reference << " (" << value << " / " << reference << "), at most " << limit;
}

void expect_bars(const Cell& c) {
  const PolicyFigures& d = c.of(Policy::kDefault);
  const PolicyFigures& fifo = c.of(Policy::kFifo);
  const PolicyFigures& easy = c.of(Policy::kEasy);
  const PolicyFigures& sjf = c.of(Policy::kSjf);
  const PolicyFigures& multifactor = c.of(Policy::kMultifactor);
  EXPECT_EQ(d.never_started, 0) << c.workload << " at load " << c.load;
  expect_bar(c, "avg JCT / the better of fifo's and easy's", d.avg_jct_s,
             std::min(fifo.avg_jct_s, easy.avg_jct_s), 1.02);
  expect_bar(c, "avg JCT / oracle sjf's", d.avg_jct_s, sjf.avg_jct_s, 1.15);
  expect_bar(c, "bounded slowdown / the best without an oracle", d.avg_bounded_slowdown,
             std::min({fifo.avg_bounded_slowdown, easy.avg_bounded_slowdown,
                       multifactor.avg_bounded_slowdown}),
             1.05);
  expect_bar(c, "p99 JCT / easy's", d.p99_jct_s, easy.p99_jct_s, 1.1);
  expect_bar(c, "largest class's avg delay / easy's", d.largest_delay_s, easy.largest_delay_s,
             1.2);
}

class Robustness : public ::testing::TestWithParam<Workload> {};

TEST_P(Robustness, DefaultIsNeverTheWrongChoice) {
  const Workload& w = GetParam();
  if (w.name.rfind("gen-", 0) != 0) SKIP_WITHOUT_REAL_TRACES();
  auto trace = w.read();
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  int last_nodes = 0;
  for (double load : w.loads) {
    auto cell = replay_cell(w, *trace, load);
    ASSERT_TRUE(cell.ok()) << cell.status().ToString();
    if (cell->nodes == last_nodes) continue;  // the widest job set the size: the same cell
    last_nodes = cell->nodes;
    append_table(*cell);
    expect_bars(*cell);
  }
}

INSTANTIATE_TEST_SUITE_P(Workloads, Robustness, ::testing::ValuesIn(robustness_workloads()),
                         [](const ::testing::TestParamInfo<Workload>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace berth::sim::testing
