#!/usr/bin/env bash
# Runs every fuzzer built in BUILD_DIR (make fuzz-build) for SECONDS each, over its seed corpus
# in tests/fuzz/corpus/<name> and what earlier runs found in BUILD_DIR/fuzz-corpus/<name>.
# A crash leaves its input in BUILD_DIR (crash-*, leak-*, timeout-*) and fails the run: add it to
# the seed corpus with the fix.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for fuzzer in "$build"/*_fuzz; do
  name=$(basename "$fuzzer" _fuzz)
  mkdir -p "$build/fuzz-corpus/$name"
  echo "== $name: ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$build/" "$build/fuzz-corpus/$name" "$root/tests/fuzz/corpus/$name" || status=1
done
exit $status
