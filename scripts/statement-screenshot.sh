#!/bin/sh
# Renders a statement's HTML page to a PNG with headless Chromium, to look at the page a funder
# is sent (docs/operations.md, "Statements").
#
#   scripts/statement-screenshot.sh STATEMENT.html OUT.png      a page saved before, e.g. with
#                                                               berth statement vision --html > STATEMENT.html
#   scripts/statement-screenshot.sh --demo OUT.png              a sample centre: berthd in a temporary
#                                                               directory, a funded project, a job, a refund
#
# Needs chromium (Debian: apt-get install chromium); --demo also needs build/berthd and
# build/berth (BERTH_BIN_DIR to use another folder); its centre is scripts/statement-demo.toml. Exit 2 for bad arguments or no chromium.
set -eu

usage() {
  echo "usage: $0 STATEMENT.html OUT.png | $0 --demo OUT.png" >&2
  exit 2
}
[ $# -eq 2 ] || usage

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
  echo "$0: chromium is not installed (Debian: apt-get install chromium)" >&2
  exit 2
fi

out=$(realpath -m "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-statement.XXXXXX")
berthd_pid=""
cleanup() {
  if [ -n "$berthd_pid" ]; then kill "$berthd_pid" 2>/dev/null || true; wait "$berthd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A sample centre: one university with a 70% award, a top-up, one job that ran, and its refund.
demo_statement() {
  bin=$(realpath "${BERTH_BIN_DIR:-$(dirname "$0")/../build}")
  here=$(dirname "$0")
  "$bin/berthd" --config "$here/statement-demo.toml" --state-dir "$work/state" 2>"$work/berthd.log" &
  berthd_pid=$!
  i=0
  until [ -s "$work/state/berthd.port" ] && [ -s "$work/state/admin.token" ]; do
    i=$((i + 1))
    if [ $i -gt 200 ]; then cat "$work/berthd.log" >&2; exit 1; fi
    sleep 0.05
  done
  BERTH_SERVER="http://127.0.0.1:$(cat "$work/state/berthd.port")"
  BERTH_TOKEN=$(cat "$work/state/admin.token")
  export BERTH_SERVER BERTH_TOKEN
  chmod 1777 "$work"  # berthd run as root runs jobs as nobody, who writes their output here
  cd "$work"
  "$bin/berth" org create hku --kind university --address "Pokfulam Road, Hong Kong" >/dev/null
  "$bin/berth" project create vision --org hku >/dev/null
  "$bin/berth" scheme create ai-subsidy --rate 70% --fund 3000000 --eligible university >/dev/null
  "$bin/berth" award create --scheme ai-subsidy --project vision --amount 200000 --gpus 8 \
    --start 2020-01-01 --end 2100-01-01 >/dev/null
  "$bin/berth" topup vision 250000 --reference INV-2026-0042 >/dev/null
  printf '#!/bin/sh\nsleep 2\n' >train.sh
  job=$("$bin/berth" submit --parsable -A vision --gpus 8 --time 10 -J llm-pretrain train.sh)
  i=0
  until "$bin/berth" --json show "$job" | grep -q '"state": "COMPLETED"'; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then echo "$0: job $job did not complete" >&2; exit 1; fi
    sleep 0.1
  done
  "$bin/berth" refund "$job" --reason "node fault in the first minutes" >/dev/null
  "$bin/berth" statement vision --html >"$work/statement.html"
}

if [ "$1" = "--demo" ]; then
  demo_statement
  page="$work/statement.html"
else
  [ -f "$1" ] || usage
  page=$(realpath "$1")
fi

# A printed page's width; tall enough for a month of lines.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1400 \
  --screenshot="$out" "file://$page" >/dev/null 2>&1
[ -s "$out" ] || { echo "$0: chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
