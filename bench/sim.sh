#!/usr/bin/env bash
# `berth sim` on the full real traces, timed: one JSON object per line with the wall time,
# peak memory and the replay's headline numbers. Single thread (berth sim has one).
#   philly  all 82,247 Philly jobs on the Helios per-VC pools (11 VCs x 8-GPU nodes), default
#           policy with predicted runtimes.                                   target <= 2 s
#   kth     KTH-SP2 (28,476 jobs) on 100 nodes x 1, EASY with the users' limits. target <= 1 s
# Usage: bench/sim.sh [BUILD_DIR] (default build); TRACES=/path/to/traces to move the traces.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
TRACES=${TRACES:-../shared/traces}
BERTH="$BUILD/berth"
[[ -x "$BERTH" ]] || { echo "bench/sim.sh: no $BERTH; build the berth target first" >&2; exit 1; }
[[ -d "$TRACES" ]] || { echo "bench/sim.sh: no traces at $TRACES" >&2; exit 1; }

# run NAME TARGET_S ARGS...: times one `berth sim --json` and prints a JSON line.
run() {
  local name=$1 target_s=$2
  shift 2
  local out time_file
  out=$(mktemp)
  time_file=$(mktemp)
  local start end
  start=$(date +%s.%N)
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%M' -o "$time_file" "$BERTH" sim "$@" --no-progress --json >"$out"
  else  # the time package is not installed: no peak memory
    echo 0 >"$time_file"
    "$BERTH" sim "$@" --no-progress --json >"$out"
  fi
  end=$(date +%s.%N)
  python3 - "$name" "$target_s" "$start" "$end" "$(tail -1 "$time_file")" "$out" <<'PY'
import json, sys
name, target, start, end, rss_kb, path = sys.argv[1:]
m = json.load(open(path))
wall = float(end) - float(start)
print(json.dumps({
    "bench": "sim", "trace": name, "wall_s": round(wall, 3), "target_s": float(target),
    "within_target": wall <= float(target), "max_rss_mb": round(int(rss_kb) / 1024, 1),
    "policy": m["policy"], "estimates": m["estimates"], "gpus": m["gpus"], "jobs": m["jobs"],
    "jobs_skipped": m["jobs_skipped"], "jobs_per_s": round(m["jobs"] / wall) if wall > 0 else None,
    "avg_wait_s": round(m["avg_wait_s"], 1), "avg_jct_s": round(m["avg_jct_s"], 1),
    "utilization": round(m["utilization"], 4)}))
PY
  rm -f "$out" "$time_file"
}

run philly 2 "$TRACES/philly/jobs.csv" --format philly --tenant-pools "$TRACES/philly/philly_vc_nodes.csv" \
  --gpus-per-node 8 --policy default --estimates predict
run kth 1 "$TRACES/swf/KTH-SP2-1996-2.1-cln.swf" --format swf --nodes 100 --gpus-per-node 1 \
  --policy easy --estimates limit
