"""Runs the benchmark jobs with acrlens and its peers, checks every run's answer against the
generator's, prints one table and writes it as CSV. Called by run.sh, which installs the peers
and builds acrlens first.

Every engine is timed the same way, as a whole process from start to exit (the peers'
interpreter start-up and imports included), and each peer also by its own clock from just after
its imports ("in-process"); the speed target holds against the peers' in-process times. CPU
seconds and peak RSS are the process's, from wait4. Runs are interleaved (every engine once,
then every engine again, ...), and a run during which other processes used the CPU is repeated.
"""

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ("duckdb", "chdb", "polars")
# A run is repeated when the rest of the machine used more CPU than this during it (seconds,
# or this share of the run's wall time, whichever is more).
NOISE_S, NOISE_SHARE = 0.05, 0.05
ATTEMPTS = 4


def busy_seconds():
    """CPU time the whole machine has spent busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(cmd, before=None):
    """One measured run of `cmd`, repeated while other processes disturbed it; `before` (a
    store's removal) runs before every attempt, so that a repeated ingest starts from nothing
    again rather than finding its output there."""
    for attempt in range(ATTEMPTS):
        if before:
            before()
        wall, cpu, peak, others, out = measured(cmd)
        if others <= max(NOISE_S, NOISE_SHARE * wall) or attempt == ATTEMPTS - 1:
            return {"wall": wall, "inproc": elapsed(wall, out), "cpu": cpu, "peak": peak,
                    "repeats": attempt}
        print(f"  (other processes used {others:.2f} CPU-s during a run; repeating it)")
    raise AssertionError


def measured(cmd):
    """Runs `cmd` with wait4, so that its own rusage (not its siblings') is read; its output
    goes to files, so that no pipe can fill and stall it."""
    with open(os.devnull, "rb") as stdin, \
            tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        busy = busy_seconds()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        others = max(0.0, busy_seconds() - busy - usage.ru_utime - usage.ru_stime)
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read().decode(), stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"failed ({code}): {' '.join(map(str, cmd))}\n{out}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, others, out


def elapsed(wall, out):
    """The job's own time when the process printed one, else the process's."""
    for line in out.splitlines():
        if line.startswith("elapsed_s="):
            return float(line.split("=", 1)[1])
    return wall


def answer(path):
    """A result CSV as a sorted list of rows, NULL spelled one way."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    null = {"", "\\N", "NULL", "null"}
    canon = [tuple("" if v in null else v for v in row) for row in rows[1:]]
    return sorted(canon)


def check(engine, got_path, want):
    """Exits when an answer differs from the generator's, naming the first difference."""
    got = answer(got_path)
    if got != want:
        extra = sorted(set(got) - set(want))[:5]
        missing = sorted(set(want) - set(got))[:5]
        sys.exit(
            f"{engine}'s answer differs from the generator's: {len(got)} rows vs {len(want)}\n"
            f"  only in {engine}: {extra}\n  only in the generator's: {missing}"
        )


def input_bytes(directory):
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def versions(python):
    out = subprocess.run(
        [python, "-c", "import duckdb, chdb, polars; "
         "print(duckdb.__version__, chdb.__version__, polars.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return dict(zip(PEERS, out))


HEADER = ["job", "engine", "version", "wall s", "in-process s", "CPU s", "MB/s", "peak RSS MiB",
          "in-process / acrlens"]


def table(rows):
    cells = [HEADER] + [[
        r["job"], r["engine"], r["version"], f"{r['wall_s']:.3f}", f"{r['inproc_s']:.3f}",
        f"{r['cpu_s']:.2f}", f"{r['mb_per_s']:,.0f}", f"{r['peak_rss_mib']:,.0f}",
        f"{r['ratio']:.2f}x",
    ] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--acrlens", required=True)
    ap.add_argument("--gen", required=True, help="the acrlens-bench binary")
    ap.add_argument("--service-tags", required=True)
    ap.add_argument("--results", type=Path, required=True)
    args = ap.parse_args()

    work = args.work.resolve()
    logs, topology, truth = work / "logs", work / "topology", work / "expected.csv"
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    stamp = work / "generated.txt"
    spec = f"generator=2 events={args.events} days={args.days} seed=42 registries=4\n"
    if not stamp.exists() or stamp.read_text() != spec or not truth.exists():
        subprocess.run(["rm", "-rf", str(logs), str(topology), str(truth)], check=True)
        subprocess.run([args.gen, "gen", "--events", str(args.events), "--days", str(args.days),
                        "--registries", "4", "--seed", "42", "--service-tags",
                        args.service_tags, "--out", str(logs), "--topology", str(topology),
                        "--truth", str(truth)], check=True)
        stamp.write_text(spec)
    want = answer(truth)
    expected_events = sum(int(r[3]) for r in want)
    ranges = work / "ranges.csv"
    subprocess.run([sys.executable, str(HERE / "prepare.py"), str(topology), str(ranges)],
                   check=True)
    config = str(topology / "acrlens.toml")
    peer_versions = versions(sys.executable)
    acrlens_version = subprocess.run([args.acrlens, "--version"], capture_output=True,
                                     text=True, check=True).stdout.split()[-1]

    def query_job(kind, source_flag, source, peer_inputs):
        """acrlens's `query` of job.sql over `source`, then each peer's script for `kind`; each
        run's answer is checked against the generator's."""
        listed = []
        result = out / f"{kind}-acrlens.csv"
        listed.append(("acrlens", [args.acrlens, "query", source_flag, str(source), "--config",
                                   config, "--file", str(HERE / "job.sql"), "--format", "csv",
                                   "--out", str(result)],
                       None, lambda engine, r=result: check(engine, r, want)))
        for peer in PEERS:
            result = out / f"{kind}-{peer}.csv"
            listed.append((peer, [sys.executable, str(HERE / f"job_{peer}.py"), kind,
                                  *map(str, peer_inputs), str(result)],
                           None, lambda engine, r=result: check(engine, r, want)))
        return listed

    def ingest_job():
        """acrlens's `ingest --store` against DuckDB's COPY of the same files into
        hive-partitioned zstd Parquet; each output's row count is checked."""
        acrlens_store, duck_store = out / "ingest-acrlens", out / "ingest-duckdb"

        def fresh(path):
            return lambda: shutil.rmtree(path, ignore_errors=True)

        def rows_in(engine, sql):
            got = int(subprocess.run([sys.executable, "-c", sql], capture_output=True,
                                     text=True, check=True).stdout.strip())
            if got != expected_events:
                sys.exit(f"{engine} wrote {got} rows, the generator {expected_events}")

        count = ("import duckdb; print(duckdb.sql(\"SELECT count(*) FROM read_parquet("
                 "'{}/**/*.parquet', hive_partitioning = false)\").fetchone()[0])")
        return [
            ("acrlens", [args.acrlens, "ingest", str(logs), "--config", config, "--store",
                         str(acrlens_store), "--quiet"], fresh(acrlens_store),
             lambda engine: rows_in(engine, count.format(acrlens_store / "events"))),
            ("duckdb", [sys.executable, str(HERE / "job_duckdb.py"), "ingest", str(logs),
                        str(duck_store)], fresh(duck_store),
             lambda engine: rows_in(engine, count.format(duck_store))),
        ]

    rows = []

    def job(name, commands, nbytes):
        samples = {engine: [] for engine, *_ in commands}
        for n in range(args.runs):
            for engine, cmd, before, verify in commands:
                samples[engine].append(run(cmd, before))
                verify(engine)
        base = statistics.median(s["wall"] for s in samples["acrlens"])
        for engine, runs in samples.items():
            inproc = statistics.median(s["inproc"] for s in runs)
            rows.append({
                "job": name, "engine": engine,
                "version": acrlens_version if engine == "acrlens" else peer_versions[engine],
                "events": expected_events, "input_bytes": nbytes, "runs": args.runs,
                "repeats": sum(s["repeats"] for s in runs),
                "wall_s": statistics.median(s["wall"] for s in runs), "inproc_s": inproc,
                "cpu_s": statistics.median(s["cpu"] for s in runs),
                "events_per_s": expected_events / inproc, "mb_per_s": nbytes / 1e6 / inproc,
                "peak_rss_mib": max(s["peak"] for s in runs), "ratio": inproc / base,
            })

    size = input_bytes(logs)
    job("raw JSON", query_job("raw", "--logs", logs, [logs, ranges]), size)
    job("ingest", ingest_job(), size)
    store = out / "ingest-acrlens"
    job("Parquet store", query_job("store", "--store", store, [store]),
        input_bytes(store / "events"))

    print(f"\n{args.events:,} generated events ({expected_events:,} whole records), "
          f"{size / 1e6:,.0f} MB of JSON lines; median of {args.runs} interleaved runs; "
          f"{os.cpu_count()} cores, {platform.machine()}; every run's answer equals the "
          f"generator's.\n")
    table(rows)
    args.results.mkdir(parents=True, exist_ok=True)
    target = args.results / f"peers-{args.events}.csv"
    fields = ["job", "engine", "version", "events", "input_bytes", "runs", "repeats", "wall_s",
              "inproc_s", "cpu_s", "events_per_s", "mb_per_s", "peak_rss_mib", "ratio"]
    with open(target, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields[:-1] + ["inproc_vs_acrlens_wall"])
        for r in rows:
            w.writerow([r[k] if not isinstance(r[k], float) else f"{r[k]:.4f}" for k in fields])
    print(f"\nwrote {target}")


if __name__ == "__main__":
    main()
