#!/usr/bin/env bash
# make bench: the ledger micro-benchmark, berth's end-to-end throughput, and Slurm's on the
# same machine in the same run (when it can be installed: needs root and Debian's slurm-wlm).
set -euo pipefail
BUILD=${1:-build}
N=${BENCH_JOBS:-1000}
cd "$(dirname "$0")/.."
echo "== ledger: hold + settle pairs, single thread"
"$BUILD/ledger_bench" --benchmark_min_time=1 2>/dev/null | grep -E "^(BM_|---|Benchmark)" || true
echo "== berth end to end: $N one-GPU jobs running 'true' on 8 logical GPUs"
berth_http=$(BERTH_BIN_DIR=$BUILD "$BUILD/e2e_bench" --jobs "$N")
echo "berth (HTTP submit): $berth_http"
berth_cli=$(BERTH_BIN_DIR=$BUILD "$BUILD/e2e_bench" --jobs "$N" --via-cli)
echo "berth (one 'berth submit' process per job): $berth_cli"
rate() { sed -E 's/.*"jobs_per_s":([0-9.]+).*/\1/'; }
if [ "$(id -u)" -eq 0 ] && [ -x /work/shared/tools/slurm-baseline.sh -o -f ../shared/tools/slurm-baseline.sh ]; then
  script=../shared/tools/slurm-baseline.sh
  [ -f "$script" ] || script=/work/shared/tools/slurm-baseline.sh
  echo "== Slurm on this machine, same 8 GPUs ($script $N)"
  slurm=$(bash "$script" "$N" | tail -1)
  echo "$slurm"
  s_rate=$(echo "$slurm" | sed -E 's/.* ([0-9.]+) jobs\/s.*/\1/')
  b_rate=$(echo "$berth_http" | rate)
  c_rate=$(echo "$berth_cli" | rate)
  f_rate=$(echo "$berth_http" | sed -E 's/.*"floor_jobs_per_s":([0-9.]+).*/\1/')
  # The floor: the same scripts started directly, no workload manager (bench/README.md).
  python3 -c "print(f'berth/slurm: {float(\"$b_rate\")/float(\"$s_rate\"):.1f}x (HTTP), {float(\"$c_rate\")/float(\"$s_rate\"):.1f}x (CLI per job); this machine\'s floor/slurm: {float(\"$f_rate\")/float(\"$s_rate\"):.1f}x')" 2>/dev/null ||
    echo "berth $b_rate jobs/s (HTTP), $c_rate (CLI); slurm $s_rate jobs/s"
else
  echo "(Slurm baseline skipped: needs root and ../shared/tools/slurm-baseline.sh)"
fi
echo "== PostgreSQL beside SQLite: $N jobs through one node agent (docs/high-availability.md)"
sqlite_agent=$(BERTH_BIN_DIR=$BUILD "$BUILD/e2e_bench" --jobs "$N" --agents)
echo "berth on SQLite, with an agent: $sqlite_agent"
pg_agent=$(BERTH_BIN_DIR=$BUILD "$BUILD/e2e_bench" --jobs "$N" --store postgresql)
echo "berth on PostgreSQL, with an agent: $pg_agent"
python3 -c "print(f'postgresql/sqlite: {float(\"$(echo "$pg_agent" | rate)\")/float(\"$(echo "$sqlite_agent" | rate)\"):.2f}x (bar: 0.5x)')"
echo "== takeover: the leader SIGKILLed 20 times, lease 3 s (bar: p50 <= 5 s, max <= 10 s)"
BERTH_BIN_DIR=$BUILD "$BUILD/takeover_bench"
echo "== scheduler: berth bench sched, 8 GPUs per node, 10 jobs per node, single thread"
bash bench/sched.sh "$BUILD"
echo "== HTTP front end: wrk against berthd with ${BENCH_HTTP_JOBS:-100000} stored jobs (bench/http.sh)"
bash bench/http.sh "$BUILD"
echo "== node agents: 32 agents x 8 GPUs against one node and Slurm (bench/agents.sh)"
bash bench/agents.sh "$BUILD"
echo "== berth sim: the default policy on every trace and synthetic class, at two loads (bench/sim_robust.sh)"
bash bench/sim_robust.sh "$BUILD"
