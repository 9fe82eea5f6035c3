#!/usr/bin/env bash
# The robustness table of berth's default policy (tests/sim/robustness.h): every real trace in
# ../shared/traces at two loads and the four `berth sim gen` classes at two loads, under every
# policy, with what the suite's bars compare: average and p99 JCT (hours), average bounded
# slowdown, the largest size class's average delay (hours) and preemptions. The same replays
# as `make test`'s robustness suite, which asserts the bars; this prints the table.
# Usage: bench/sim_robust.sh [BUILD_DIR] (default build).
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
[[ -x "$BUILD/sim_tests" ]] || { echo "bench/sim_robust.sh: no $BUILD/sim_tests; build it first" >&2; exit 1; }
table=$(mktemp)
trap 'rm -f "$table"' EXIT
status=0
# From the build folder, as ctest runs it: the tests find ../shared/traces from their sources.
(cd "$BUILD" && BERTH_ROBUST_TABLE=$table ./sim_tests --gtest_filter='Workloads/Robustness*' \
  --gtest_brief=1) >&2 || status=$?
echo "| workload | load | nodes | policy | avg JCT h | p99 JCT h | bounded slowdown | largest class: avg delay h | preemptions |"
echo "|---|---|---|---|---|---|---|---|---|"
cat "$table"
exit $status
