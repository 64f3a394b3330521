#!/usr/bin/env bash
# Is ingest's memory flat in input size? `acrlens ingest --store` of a small and a large export
# at the same event rate (same registries, callers per event and events per day; only the number
# of days differs), runs alternated, peak RSS of each.
#
#   benches/flat.sh [--small N] [--large N] [--runs R] [--work DIR]
#
# Defaults: 1 M events over 3 days against 10 M over 30 days, 3 runs each. Generated data is
# kept in --work (default target/flat; the 10 M export takes 8.8 GB). Needs GNU time
# (/usr/bin/time) and ../shared/data/ServiceTags_Public.json beside the checkout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"

small=1000000
large=10000000
runs=3
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small="$2"; shift 2 ;;
    --large) large="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
work="${work:-$target/flat}"
tags="$root/../shared/data/ServiceTags_Public.json"
if [ ! -f "$tags" ]; then
  echo "error: $tags not found: the generator draws Azure callers from the real service-tag file" >&2
  exit 2
fi
if [ ! -x /usr/bin/time ]; then
  echo "error: GNU time (/usr/bin/time) is needed for the peak RSS" >&2
  exit 2
fi

(cd "$root" && cargo build --locked --release -p acrlens -p acrlens-bench)
bin="$target/release"

# Days at the small export's rate: 1 M events a day for three days is 333 k a day.
days_for() { echo $(( ($1 * 3 + small - 1) / small )); }

for n in "$small" "$large"; do
  if [ ! -f "$work/$n/done" ]; then
    rm -rf "$work/$n"
    "$bin/acrlens-bench" gen --events "$n" --days "$(days_for "$n")" --registries 8 --seed 11 \
      --service-tags "$tags" --out "$work/$n/exports" --topology "$work/$n/topology"
    touch "$work/$n/done"
  fi
done

results="$work/results.txt"
: > "$results"
for run in $(seq "$runs"); do
  for n in "$small" "$large"; do
    rm -rf "$work/store"
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" "$bin/acrlens" ingest "$work/$n/exports" \
      --config "$work/$n/topology/acrlens.toml" --store "$work/store" --quiet >/dev/null
    read -r wall user sys kib < "$work/time.txt"
    echo "$n $run $wall $user $sys $(( kib / 1024 ))" | tee -a "$results"
  done
done
rm -rf "$work/store"

echo
echo "events  days  wall s (min–max)  user s (min–max)  peak RSS MiB (min–max)"
for n in "$small" "$large"; do
  awk -v n="$n" -v d="$(days_for "$n")" '$1 == n {
      if (!seen++) { w0 = w1 = $3; u0 = u1 = $4; m0 = m1 = $6 }
      if ($3 < w0) w0 = $3; if ($3 > w1) w1 = $3
      if ($4 < u0) u0 = $4; if ($4 > u1) u1 = $4
      if ($6 < m0) m0 = $6; if ($6 > m1) m1 = $6
    } END { printf "%-7s %-5s %6.1f–%-9.1f %6.1f–%-9.1f %6d–%d\n", n, d, w0, w1, u0, u1, m0, m1 }' "$results"
done
awk -v s="$small" -v l="$large" '
  $1 == s { if (!a++ || $6 < smin) smin = $6; if ($6 > smax) smax = $6 }
  $1 == l { if (!b++ || $6 < lmin) lmin = $6; if ($6 > lmax) lmax = $6 }
  END { printf "peak RSS apart: %d to %d MiB (target: under 64)\n", lmin - smax, lmax - smin }' "$results"
