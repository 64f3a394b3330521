#!/usr/bin/env bash
# Replays each fuzz target's committed corpus, then fuzzes it for SECONDS (default 20), one job;
# prints the executions each target ran. New inputs that add coverage go to a scratch corpus,
# not into the repository. libFuzzer's coverage guidance works on the stable toolchain; without
# a sanitizer (`-s none`: acrlens is safe Rust), the fuzzers look for panics, aborts, hangs,
# runaway memory and the invariants each target asserts.
#
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"
cargo fuzz build -O -s none
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$scratch/$target"
  cargo fuzz run -O -s none "$target" "corpus/$target" -- -runs=0 2>&1 | tail -n 1
  log="$scratch/$target.log"
  if ! cargo fuzz run -O -s none "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target crashed; its input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  echo "$target: $(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}') executions in ${seconds} s, no crash"
done
