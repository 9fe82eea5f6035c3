#!/usr/bin/env bash
# make bench (HTTP part): berthd's front end and listings under load, with wrk.
#   1. a real berthd with BENCH_HTTP_JOBS (100,000) jobs stored, seeded as held job arrays;
#   2. GET /v1/jobs (a page of 100) at 64 connections;
#   3. POST /v1/jobs (held jobs, so nothing launches) at 64 connections;
#   4. with 1,000 idle half-sent requests held open from 127.0.0.2-5, /v1/health and an
#      authenticated submit at 8 connections each.
# Each load runs BENCH_HTTP_SECONDS (10) seconds. Targets: listing >= 2,000 req/s and p99 <= 50 ms,
# submit p99 <= 50 ms, health and submit beside idle clients p99 <= 100 ms.
set -euo pipefail
BUILD=${1:-build}
JOBS=${BENCH_HTTP_JOBS:-100000}
SECS=${BENCH_HTTP_SECONDS:-10}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "(HTTP benchmark skipped: wrk is not installed; make deps)"; exit 0; }
dir=$(mktemp -d /tmp/berth-http-bench.XXXXXX)
pid=""
idle_pid=""
cleanup() {
  [ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$BUILD/berthd" --listen 127.0.0.1:0 --state-dir "$dir/state" 2>"$dir/berthd.log" &
pid=$!
for _ in $(seq 100); do [ -s "$dir/state/berthd.port" ] && break; sleep 0.1; done
port=$(cat "$dir/state/berthd.port")
token=$(cat "$dir/state/admin.token")
url="http://127.0.0.1:$port"
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
api -d '{"name":"bench","kind":"university"}' "$url/v1/orgs" >/dev/null
api -d '{"name":"load","org":"bench"}' "$url/v1/projects" >/dev/null
api -d '{"amount":"100000000","reference":"BENCH"}' "$url/v1/projects/load/topups" >/dev/null
job='{"project":"load","gpus":1,"hold":true,"script":"#!/bin/sh\ntrue\n","workdir":"/tmp"'
t0=$(date +%s.%N)
left=$JOBS
while [ "$left" -gt 0 ]; do
  n=$(( left < 10000 ? left : 10000 ))
  api -d "$job,\"array\":\"0-$((n - 1))\"}" "$url/v1/jobs" >/dev/null
  left=$((left - n))
done
echo "seeded $JOBS held jobs in $(python3 -c "import time;print(f'{time.time()-$t0:.1f}')") s"

cat >"$dir/submit.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$job}]]
wrk.headers["Content-Type"] = "application/json"
EOF
summary() {  # wrk --latency output -> one line
  awk -v what="$1" '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /^ +50%/ {p50=$2}
       /Non-2xx/ {bad=$NF} /Socket errors/ {err=$0}
       END {printf "%-44s %9s req/s  p50 %-9s p99 %-9s%s%s\n", what, rps, p50, p99,
            (bad ? "  non-2xx " bad : ""), (err ? "  " err : "")}'
}
auth="Authorization: Bearer $token"
echo "== wrk, $SECS s each, 4 threads"
wrk -t4 -c64 -d"${SECS}s" --latency -H "$auth" "$url/v1/jobs" | summary "GET /v1/jobs (page of 100), 64 conns"
wrk -t4 -c64 -d"${SECS}s" --latency -H "$auth" -s "$dir/submit.lua" "$url/v1/jobs" | summary "POST /v1/jobs, 64 conns"

# 1,000 idle connections, each with half a request, reopened as berthd's header deadline closes them.
python3 - "$port" >"$dir/idle.log" 2>&1 <<'EOF' &
import selectors, socket, sys, time
port = int(sys.argv[1])
sel = selectors.DefaultSelector()
def open_one(i):
    s = socket.socket()
    s.bind((f"127.0.0.{2 + i % 4}", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Le")
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
for i in range(1000):
    open_one(i)
print("open", flush=True)
while True:
    for key, _ in sel.select(1):
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            open_one(key.data)
EOF
idle_pid=$!
for _ in $(seq 100); do grep -q open "$dir/idle.log" 2>/dev/null && break; sleep 0.1; done
echo "(1,000 idle half-sent requests held open from 127.0.0.2-5)"
wrk -t2 -c8 -d"${SECS}s" --latency "$url/v1/health" | summary "GET /v1/health beside them, 8 conns"
wrk -t2 -c8 -d"${SECS}s" --latency -H "$auth" -s "$dir/submit.lua" "$url/v1/jobs" | summary "POST /v1/jobs beside them, 8 conns"
