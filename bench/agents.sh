#!/usr/bin/env bash
# make bench (agents part): berth with node agents on this machine, beside berth without them
# and Slurm, in the same run.
#   1. berthd with [agents] on loopback (tls = "none") and 32 nodes of 8 logical GPUs, each
#      with its own berth-agent process (its own --node and --state-dir);
#   2. N (10,000) one-GPU `true` jobs, submitted as one job array (one request: the fastest way
#      the HTTP API allows), timed from the submit to the last job ended: jobs/s. Launch
#      latency p50/p99: from the start berthd decided (the job's start_ms, the time of the core
#      batch that started it, read from berth.db) to the job's process running (the mtime of its
#      output file, which the job's child process creates just before it execs the script and
#      `true` never writes to again). Both are this machine's real-time clock.
#   3. the same N jobs on berthd's single node of 8 GPUs without agents (LocalExecutor);
#   4. Slurm's rate from ../shared/tools/slurm-baseline.sh with SLURM_JOBS (200) jobs: sbatch
#      per job runs at ~9 jobs/s here, so 10,000 would take 18 minutes; the rate is per job.
#   5. one agent's RSS (VmRSS) and CPU per second (utime + stime over a 10 s window) while 8
#      `sleep` jobs run on its node.
# Bars: agents >= 0.8 x single node, agents >= 50 x Slurm.
#
# Usage: bash bench/agents.sh [BUILD] [--jobs N] [--agents A] [--slurm-jobs M] [--no-slurm]
# Every process it starts is stopped on exit (trap), their jobs too.
set -euo pipefail
BUILD=build
JOBS=10000
AGENTS=32
SLURM_JOBS=${SLURM_JOBS:-200}
SLURM=1
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) JOBS=$2; shift 2 ;;
    --agents) AGENTS=$2; shift 2 ;;
    --slurm-jobs) SLURM_JOBS=$2; shift 2 ;;
    --no-slurm) SLURM=0; shift ;;
    -*) echo "usage: $0 [BUILD] [--jobs N] [--agents A] [--slurm-jobs M] [--no-slurm]" >&2; exit 2 ;;
    *) BUILD=$1; shift ;;
  esac
done
[ "$JOBS" -ge 1 ] && [ "$JOBS" -le 10000 ] || { echo "--jobs: 1 to 10,000 (one job array)" >&2; exit 2; }
cd "$(dirname "$0")/.."
BUILD=$(cd "$BUILD" && pwd)

dir=$(mktemp -d /tmp/berth-agents-bench.XXXXXX)
chmod 755 "$dir"  # jobs run as nobody under root: they enter their workdirs below
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Jobs an agent or berthd left running: every process holding one of our berthds' BERTH_RUN.
  local run
  for run in "$dir"/*/state/run.id; do
    [ -f "$run" ] || continue
    grep -l -s -a "BERTH_RUN=$(cat "$run")" /proc/[0-9]*/environ 2>/dev/null |
      sed -E 's|/proc/([0-9]+)/environ|\1|' | xargs -r kill -9 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
wait_file() {  # wait_file PATH SECONDS
  local i
  for i in $(seq $(($2 * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2
  return 1
}
# start_berthd NAME [CONFIG]: berthd in $dir/NAME/state; sets url, token.
start_berthd() {
  local state=$dir/$1/state args=()
  [ $# -ge 2 ] && args=(--config "$2")
  mkdir -p "$dir/$1"
  "$BUILD/berthd" --listen 127.0.0.1:0 --state-dir "$state" "${args[@]}" 2>"$dir/$1/berthd.log" &
  pids+=($!)
  berthd_pid=$!
  wait_file "$state/berthd.port" 20
  url="http://127.0.0.1:$(cat "$state/berthd.port")"
  token=$(cat "$state/admin.token")
}
api() { curl -sS --fail-with-body -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
fund() {
  api -d '{"name":"bench","kind":"university"}' "$url/v1/orgs" >/dev/null
  api -d '{"name":"bench","org":"bench"}' "$url/v1/projects" >/dev/null
  api -d '{"amount":"100000000","reference":"BENCH"}' "$url/v1/projects/bench/topups" >/dev/null
}
occurrences() { { grep -o "$1" || true; } | wc -l; }  # of text $1 in stdin
# Whether every job has ended: curl and sed only, as the poll takes CPU from the jobs. A page
# looks at a bounded number of jobs: an empty one with "next" means none pending or running up
# to there, so the next poll starts from it (ended_to: no job here goes back to pending).
ended_to=0
all_ended() {
  local page next
  while :; do
    page=$(api "$url/v1/jobs?limit=1&state=PENDING,RUNNING&after=$ended_to")
    case $page in *'"jobs":[]'*) ;; *) return 1 ;; esac
    next=$(echo "$page" | sed -nE 's/.*"next":([0-9]+).*/\1/p')
    [ -n "$next" ] || return 0
    ended_to=$next
  done
}
# The running jobs among those submitted after the first JOBS (ids count from 1).
running_ids() {
  api "$url/v1/jobs?limit=100&state=RUNNING&after=$JOBS" | python3 -c \
    'import json,sys; print(" ".join(str(j["id"]) for j in json.load(sys.stdin)["jobs"]))'
}
# run_jobs NAME: submits JOBS one-GPU `true` jobs (one array; outputs in $dir/NAME/out) and
# waits for all to end; prints the seconds taken. Stops berthd afterwards.
run_jobs() {
  local out=$dir/$1/out t0 t1
  mkdir -p "$out" && chmod 1777 "$out"  # jobs run as [jobs] user (nobody) under root
  local job='{"project":"bench","gpus":1,"time_limit_s":600,"script":"#!/bin/sh\ntrue\n"'
  ended_to=0
  t0=$(now)
  api -d "$job,\"workdir\":\"$out\",\"array\":\"0-$((JOBS - 1))\"}" "$url/v1/jobs" >/dev/null
  until all_ended; do sleep 0.1; done
  t1=$(now)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}
stop_berthd() {
  kill "$berthd_pid" 2>/dev/null || true
  wait "$berthd_pid" 2>/dev/null || true
}
# report NAME SECONDS: completed count, jobs/s and launch latency from berth.db and the outputs.
report() {
  python3 - "$dir/$1" "$2" "$JOBS" <<'EOF'
import os, sqlite3, sys
base, secs, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
db = sqlite3.connect(f"file:{base}/state/berth.db?mode=ro", uri=True)
rows = db.execute("SELECT id, state, start_ms FROM jobs").fetchall()
states = {}
for _, state, _ in rows:
    states[state] = states.get(state, 0) + 1
done = states.get("COMPLETED", 0)
lat, batches = [], {}
for job, state, start_ms in rows:
    if state != "COMPLETED":
        continue
    try:
        ms = os.stat(f"{base}/out/berth-{job}.out").st_mtime_ns / 1e6 - start_ms
    except OSError:
        continue
    lat.append(ms)
    batches.setdefault(start_ms, []).append(ms)
pct = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")
ended = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
print(f"{n / secs:.1f} jobs/s ({n} jobs in {secs:.2f} s; {ended}); "
      f"launch latency p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms ({len(lat)} outputs)")
# Where the latency goes: jobs that one core batch started share its start_ms; the first of
# each to run shows the cost of one launch, the spread within a batch the queue behind it.
sizes = [len(b) for b in batches.values()]
firsts = [min(b) for b in batches.values()]
print(f"  {len(batches)} batches started them, median {pct(sizes, 0.5)} jobs each (most "
      f"{max(sizes, default=0)}); first of each batch running after p50 {pct(firsts, 0.5):.1f} ms")
print(f"RATE {n / secs:.3f}", file=sys.stderr)
EOF
}
rate_of() { sed -nE 's/^RATE ([0-9.]+)$/\1/p' "$1"; }

# --- 1-2: agents ------------------------------------------------------------------------------
agents_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
config=$dir/agents.toml
{
  printf '[agents]\nlisten = "127.0.0.1:%s"\ntls = "none"\nnode_timeout_s = 60\nheartbeat_s = 5\n\n' "$agents_port"
  printf '[[gpu_models]]\nname = "H100"\nprice_per_gpu_hour = "30.0000"\n\n'
  for i in $(seq "$AGENTS"); do
    printf '[[nodes]]\nname = "n%02d"\ngpu_model = "H100"\ngpus = 8\ncpus = 16\nmemory_mb = 65536\n\n' "$i"
  done
  printf '[[partitions]]\nname = "gpu"\nmax_time = "1-00:00:00"\ndefault_time = "1:00:00"\ndefault = true\n'
} >"$config"
start_berthd agents "$config"
agent_pids=()
for i in $(seq "$AGENTS"); do
  node=$(printf 'n%02d' "$i")
  "$BUILD/berth-agent" --node "$node" --server "127.0.0.1:$agents_port" \
    --state-dir "$dir/agents/state/$node" --gpus 8 --gpu-model H100 --cpus 16 --memory-mb 65536 \
    >"$dir/agents/agent-$node.log" 2>&1 &
  pids+=($!)
  agent_pids+=($!)
done
for _ in $(seq 300); do
  up=$(api "$url/v1/nodes" | occurrences '"state":"up"')
  [ "$up" = "$AGENTS" ] && break
  sleep 0.1
done
[ "$up" = "$AGENTS" ] || { echo "only $up of $AGENTS agents registered"; tail -3 "$dir/agents/berthd.log"; exit 1; }
fund
echo "== berth with agents: $JOBS one-GPU 'true' jobs on $AGENTS agents x 8 GPUs (one array)"
secs=$(run_jobs agents)

# --- 5: one agent with 8 sleep jobs -----------------------------------------------------------
sleep_job='{"project":"bench","gpus":1,"time_limit_s":120,"required_nodes":["n01"],"script":"#!/bin/sh\nsleep 60\n"'
api -d "$sleep_job,\"workdir\":\"$dir/agents/out\",\"array\":\"0-7\"}" "$url/v1/jobs" >/dev/null
for _ in $(seq 100); do
  running=$(api "$url/v1/jobs?limit=100&state=RUNNING&after=$JOBS" | occurrences '"state":"RUNNING"')
  [ "$running" = 8 ] && break
  sleep 0.1
done
ids=$(running_ids)
agent=${agent_pids[0]}
ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
c0=$(ticks); w0=$(now)
sleep 10
c1=$(ticks); w1=$(now)
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
overhead=$(python3 -c "import os; t=os.sysconf('SC_CLK_TCK'); print(f'{($c1 - $c0) / t / ($w1 - $w0) * 1000:.1f} ms of CPU per second ({($c1 - $c0) / t / ($w1 - $w0) * 100:.2f} % of a core)')")
# Cancelling one task of an array may cancel the rest (409 for them after).
for id in $ids; do api -d "{}" "$url/v1/jobs/$id/cancel" >/dev/null 2>&1 || true; done
until all_ended; do sleep 0.1; done
stop_berthd
report agents "$secs" 2>"$dir/agents.rate"
echo "agent overhead, node n01 with $running running 'sleep' jobs: RSS $((rss_kb / 1024)) MiB ($rss_kb kB), $overhead"
for p in "${agent_pids[@]}"; do kill "$p" 2>/dev/null || true; done

# --- 3: one node, no agents -------------------------------------------------------------------
echo "== berth on one node, no agents (LocalExecutor, 8 GPUs): the same $JOBS jobs"
# The embedded default, but berthd runs the jobs itself rather than through its local agent.
"$BUILD/berthd" --print-default-config | sed 's/^local = true/local = false/' >"$dir/single.toml"
start_berthd single "$dir/single.toml"
fund
secs=$(run_jobs single)
stop_berthd
report single "$secs" 2>"$dir/single.rate"

# --- 4: Slurm ---------------------------------------------------------------------------------
slurm_rate=""
script=../shared/tools/slurm-baseline.sh
[ -f "$script" ] || script=/work/shared/tools/slurm-baseline.sh
if [ "$SLURM" = 0 ]; then
  echo "(Slurm baseline skipped: --no-slurm)"
elif [ "$(id -u)" -ne 0 ] || [ ! -f "$script" ]; then
  echo "(Slurm baseline skipped: needs root and $script)"
else
  echo "== Slurm on this machine, 8 GPUs ($script $SLURM_JOBS)"
  if slurm=$(timeout 300 bash "$script" "$SLURM_JOBS" 2>"$dir/slurm.err" | tail -1) && [ -n "$slurm" ]; then
    echo "$slurm"
    slurm_rate=$(echo "$slurm" | sed -nE 's/.* ([0-9.]+) jobs\/s.*/\1/p')
  else
    echo "(Slurm baseline failed: $(tail -2 "$dir/slurm.err" | tr '\n' ' '))"
  fi
fi

# --- bars -------------------------------------------------------------------------------------
python3 - "$(rate_of "$dir/agents.rate")" "$(rate_of "$dir/single.rate")" "$slurm_rate" <<'EOF'
import sys
agents, single = float(sys.argv[1]), float(sys.argv[2])
slurm = float(sys.argv[3]) if sys.argv[3] else None
verdict = lambda ok: "met" if ok else "MISSED"
print(f"bar: agents >= 0.8 x single node: {agents:.1f} vs {single:.1f} jobs/s = "
      f"{agents / single:.2f}x ({verdict(agents >= 0.8 * single)})")
if slurm:
    print(f"bar: agents >= 50 x Slurm: {agents:.1f} vs {slurm:.1f} jobs/s = "
          f"{agents / slurm:.1f}x ({verdict(agents >= 50 * slurm)})")
else:
    print("bar: agents >= 50 x Slurm: not measured (no Slurm baseline in this run)")
EOF
