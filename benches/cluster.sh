#!/usr/bin/env bash
# The cost of distribution: every canned query of queries/ and the report, over one store, in
# one process and on a cluster of a scheduler and two executors on this machine (loopback),
# alternated, each cluster answer compared with the local one (the same rows; the report byte for
# byte). Prints the median wall time of
# each, whole processes (start to exit).
#
#   benches/cluster.sh --store DIR --config FILE [--policy FILE] [--runs N] [--port P] [--work DIR]
#                      [--slots N] [--skip QUERY]...
#
# --skip leaves out a canned query by name (repeatable): over generated data `unexplained`
# answers gigabytes of rows, a job of writing CSV rather than of the engine.
# The executors take --slots (default: this machine's CPUs each). Ports P (scheduler), P+1 and
# P+2, P+11 and P+12 (executors) must be free; P defaults to 50450.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
store="" config="" policy="$root/sample-logs/policy.toml" runs=3 port=50450 work="" slots=""
skip=" "
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --policy) policy="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --slots) slots="$2"; shift 2 ;;
    --skip) skip="$skip$2 "; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$store" ] || [ -z "$config" ]; then
  echo "usage: $0 --store DIR --config FILE [--policy FILE] [--runs N] [--port P] [--work DIR]" >&2
  exit 2
fi
store="$(cd "$store" && pwd)"
work="${work:-$(mktemp -d)}"
mkdir -p "$work"
(cd "$root" && cargo build --locked --release -p acrlens)
bin="${CARGO_TARGET_DIR:-$root/target}/release/acrlens"

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  for _ in $(seq 300); do listening "$1" && return 0; sleep 0.2; done
  echo "nothing listens on $1 (logs in $work)" >&2; exit 1
}

"$bin" scheduler --bind "127.0.0.1:$port" --config "$config" 2>"$work/scheduler.log" &
pids+=($!)
wait_for "$port"
for offset in 1 11; do
  "$bin" executor --scheduler "127.0.0.1:$port" --bind "127.0.0.1:$((port + offset))" \
    --grpc-port "$((port + offset + 1))" --config "$config" ${slots:+--slots "$slots"} \
    2>"$work/executor-$offset.log" &
  pids+=($!)
  wait_for "$((port + offset + 1))"
done
cluster="df://127.0.0.1:$port"

# One timed run: appends "<name> <where> <wall seconds>" to $work/times; its output goes to
# $work/<name>.<where>. Called as a command, not in $(…), so a failure stops the script.
timed() {
  local name="$1" where="$2"; shift 2
  local extra=()
  if [ "$where" = cluster ]; then extra=(--cluster "$cluster"); fi
  /usr/bin/time -o "$work/time" -f "%e" "$bin" "$@" "${extra[@]}" >"$work/$name.$where" 2>"$work/$name.$where.err" || {
    local code=$?
    # A report exits 1 when the policy is violated: that is an answer, not a failure.
    if [ "$1" != report ] || [ "$code" != 1 ]; then
      echo "$name ($where) failed: $(cat "$work/$name.$where.err")" >&2; exit 1
    fi
  }
  echo "$name $where $(tail -n 1 "$work/time")" >>"$work/times"
}

jobs=()
for q in "$root"/queries/*.sql; do
  name="$(basename "$q" .sql)"
  case "$skip" in *" $name "*) continue ;; esac
  jobs+=("$name")
done
jobs+=(report)
: >"$work/times"
for run in $(seq "$runs"); do
  for job in "${jobs[@]}"; do
    if [ "$job" = report ]; then
      args=(report --store "$store" --config "$config" --policy "$policy" --format json)
    else
      args=(query --store "$store" --config "$config" --file "$root/queries/$job.sql" --format csv)
    fi
    for where in local cluster; do
      timed "$job" "$where" "${args[@]}"
    done
    # The same rows: in the same order for the report; as a multiset for a query, whose
    # ORDER BY may leave ties in any order.
    if [ "$job" = report ]; then
      same() { cmp -s "$1" "$2"; }
    else
      same() { cmp -s <(sort "$1") <(sort "$2"); }
    fi
    if ! same "$work/$job.local" "$work/$job.cluster"; then
      echo "$job: the cluster answered differently (see $work/$job.local and .cluster)" >&2
      exit 1
    fi
  done
done

echo "store $store, $runs runs, median wall seconds (whole process), every answer equal"
printf '%-28s %8s %8s %8s\n' job local cluster ratio
for job in "${jobs[@]}"; do
  l=$(awk -v j="$job" '$1 == j && $2 == "local" {print $3}' "$work/times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  c=$(awk -v j="$job" '$1 == j && $2 == "cluster" {print $3}' "$work/times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  awk -v j="$job" -v l="$l" -v c="$c" 'BEGIN {printf "%-28s %8s %8s %7.2fx\n", j, l, c, c / l}'
done
awk '{s[$2] += $3} END {printf "%-28s %8.2f %8.2f (all runs summed)\n", "total", s["local"], s["cluster"]}' "$work/times"
