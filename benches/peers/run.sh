#!/usr/bin/env bash
# acrlens against DuckDB, chDB and Polars on the same job, in one run.
#
#   benches/peers/run.sh [--events N] [--days D] [--runs R] [--work DIR] [--results DIR] [--debug]
#
# Installs the peers at the versions pinned in requirements.txt into a virtual environment,
# builds acrlens (release; --debug uses the dev profile, for smoke runs), generates N events
# once (kept in --work for later runs), runs the job with every engine, checks that they all
# gave the same answer, prints the table and writes it to --results/peers-N.csv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

events=1000000
days=3
runs=3
work=""
results="$root/benches/results"
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --debug) profile=dev; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
work="${work:-$target/peers/$events}"
tags="$root/../shared/data/ServiceTags_Public.json"
if [ ! -f "$tags" ]; then
  echo "error: $tags not found: the generator draws Azure callers from the real service-tag file" >&2
  exit 2
fi

venv="$target/peers/venv"
if [ ! -f "$venv/requirements.txt" ] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi

if [ "$profile" = dev ]; then
  # What .ci/run builds: the same feature set, so a smoke run after the tests rebuilds nothing.
  (cd "$root" && cargo build --locked --workspace --all-targets)
  bin="$target/debug"
else
  (cd "$root" && cargo build --locked --release -p acrlens -p acrlens-bench)
  bin="$target/release"
fi

"$venv/bin/python" "$here/bench.py" --events "$events" --days "$days" --runs "$runs" \
  --work "$work" --results "$results" --acrlens "$bin/acrlens" --gen "$bin/acrlens-bench" \
  --service-tags "$tags"
