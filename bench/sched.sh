#!/usr/bin/env bash
# The scheduler's growth table (issue 3): `berth bench sched` at 1,000 to 10,000 nodes of 8 GPUs
# with 10 jobs per node, one JSON object per line. Single thread; each run has wall-time budgets
# (see src/benchsched/sched_bench.h), so a slow scheduler shows "truncated": true, not a hang.
set -euo pipefail
BUILD=${1:-build}
SEED=${BENCH_SEED:-1}
cd "$(dirname "$0")/.."
for nodes in ${BENCH_SCHED_NODES:-1000 2000 5000 10000}; do
  "$BUILD/berth" bench sched --nodes "$nodes" --gpus-per-node 8 --jobs $((10 * nodes)) --seed "$SEED"
done
