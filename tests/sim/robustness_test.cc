// The robustness suite (robustness.h): on every workload and load, berth's default policy must
// never be the wrong choice. Against the other policies on the same trace and cluster:
//   average JCT        at most 1.02 x the better of fifo and easy, and 1.15 x oracle sjf;
//   bounded slowdown   at most 1.05 x the best policy without an oracle (fifo, easy, multifactor);
//   p99 JCT            at most 1.1 x easy's;
//   largest class      the average delay of the largest size class with jobs at most 1.2 x easy's.
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

// Each bar, with the figures it compares, in the failure message.
void expect_bars(const Cell& c) {
  const PolicyFigures& d = c.of(Policy::kDefault);
  const PolicyFigures& fifo = c.of(Policy::kFifo);
  const PolicyFigures& easy = c.of(Policy::kEasy);
  const PolicyFigures& sjf = c.of(Policy::kSjf);
  const PolicyFigures& multifactor = c.of(Policy::kMultifactor);
  const std::string at = c.workload + " at load " + std::to_string(c.load) + " (" +
                         std::to_string(c.nodes) + " nodes): ";
  EXPECT_EQ(d.never_started, 0) << at;
  EXPECT_LE(d.avg_jct_s, 1.02 * std::min(fifo.avg_jct_s, easy.avg_jct_s))
      << at << "average JCT " << d.avg_jct_s << " s; fifo " << fifo.avg_jct_s << ", easy "
      << easy.avg_jct_s;
  EXPECT_LE(d.avg_jct_s, 1.15 * sjf.avg_jct_s)
      << at << "average JCT " << d.avg_jct_s << " s; oracle sjf " << sjf.avg_jct_s;
  const double best_slowdown = std::min(
      {fifo.avg_bounded_slowdown, easy.avg_bounded_slowdown, multifactor.avg_bounded_slowdown});
  EXPECT_LE(d.avg_bounded_slowdown, 1.05 * best_slowdown)
      << at << "bounded slowdown " << d.avg_bounded_slowdown << "; best without an oracle "
      << best_slowdown;
  EXPECT_LE(d.p99_jct_s, 1.1 * easy.p99_jct_s)
      << at << "p99 JCT " << d.p99_jct_s << " s; easy " << easy.p99_jct_s;
  EXPECT_LE(d.largest_delay_s, 1.2 * easy.largest_delay_s)
      << at << "class " << d.largest_class << " average delay " << d.largest_delay_s
      << " s; easy " << easy.largest_delay_s;
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
