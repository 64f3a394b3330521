"""Runs the benchmark job with acrlens and its peers, checks they agree, prints one table and
writes it as CSV. Called by run.sh, which installs the peers and builds acrlens first.

Times: acrlens is timed as a whole process (start-up included); the peers are timed inside
their Python process from just after their imports, so the interpreter's start-up does not
count against them. Peak RSS is the whole process's, for every engine.
"""

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = ("duckdb", "chdb", "polars")


def run(cmd, quiet=True):
    """Runs `cmd`; returns (seconds, peak RSS in MiB, stdout). Fails loudly."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read()
    err = proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"failed ({code}): {' '.join(map(str, cmd))}\n{out}\n{err}")
    if not quiet:
        print(out.strip())
    return wall, usage.ru_maxrss / 1024, out


def elapsed(wall, out):
    """The job's own time when the process printed one, else the process's."""
    for line in out.splitlines():
        if line.startswith("elapsed_s="):
            return float(line.split("=", 1)[1])
    return wall


def measure(cmd, runs):
    times, peaks = [], []
    for _ in range(runs):
        wall, peak, out = run(cmd)
        times.append(elapsed(wall, out))
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def answer(path):
    """A result CSV as a sorted list of rows, NULL spelled one way."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    null = {"", "\\N", "NULL", "null"}
    canon = [tuple(None if v in null else v for v in row) for row in body]
    return header, sorted(canon, key=lambda r: tuple("" if v is None else v for v in r))


def check(results, reference):
    """Exits when an engine's answer differs from acrlens's, naming the first difference."""
    _, want = answer(results[reference])
    for engine, path in results.items():
        _, got = answer(path)
        if got != want:
            extra = sorted(set(got) - set(want))[:5]
            missing = sorted(set(want) - set(got))[:5]
            sys.exit(
                f"{engine} disagrees with {reference}: {len(got)} rows vs {len(want)}\n"
                f"  only in {engine}: {extra}\n  only in {reference}: {missing}"
            )
    return sum(int(r[3]) for r in want)


def input_bytes(directory):
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def versions(python):
    out = subprocess.run(
        [python, "-c", "import duckdb, chdb, polars; "
         "print(duckdb.__version__, chdb.__version__, polars.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return dict(zip(PEERS, out))


def table(rows):
    header = ["job", "engine", "version", "median s", "events/s", "MB/s", "peak RSS MiB",
              "time / acrlens"]
    cells = [header] + [[
        r["job"], r["engine"], r["version"], f"{r['median_s']:.3f}",
        f"{r['events_per_s']:,.0f}", f"{r['mb_per_s']:,.0f}", f"{r['peak_rss_mib']:,.0f}",
        f"{r['ratio']:.2f}x",
    ] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
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
    logs, topology, store = work / "logs", work / "topology", work / "store"
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    stamp = work / "generated.txt"
    spec = f"generator=2 events={args.events} days={args.days} seed=42 registries=4\n"
    if not stamp.exists() or stamp.read_text() != spec:
        subprocess.run(["rm", "-rf", str(logs), str(topology), str(store)], check=True)
        run([args.gen, "gen", "--events", str(args.events), "--days", str(args.days),
             "--registries", "4", "--seed", "42", "--service-tags", args.service_tags,
             "--out", str(logs), "--topology", str(topology)], quiet=False)
        stamp.write_text(spec)
    ranges = work / "ranges.csv"
    run([sys.executable, str(HERE / "prepare.py"), str(topology), str(ranges)])
    size = input_bytes(logs)
    config = str(topology / "acrlens.toml")
    peer_versions = versions(sys.executable)
    acrlens_version = run([args.acrlens, "--version"])[2].split()[-1]

    rows = []

    def job(name, commands, nbytes):
        answers = {}
        timing = {}
        for engine, cmd, result in commands:
            timing[engine] = measure(cmd, args.runs)
            answers[engine] = result
        events = check(answers, "acrlens")
        base = timing["acrlens"][0]
        for engine, (median, peak) in timing.items():
            rows.append({
                "job": name, "engine": engine,
                "version": acrlens_version if engine == "acrlens" else peer_versions[engine],
                "events": events, "input_bytes": nbytes, "runs": args.runs,
                "median_s": median, "events_per_s": events / median,
                "mb_per_s": nbytes / 1e6 / median, "peak_rss_mib": peak, "ratio": median / base,
            })

    def commands(kind, source_flag, source, peer_inputs):
        """acrlens's `query` of job.sql over `source`, then each peer's script for `kind`."""
        result = out / f"{kind}-acrlens.csv"
        listed = [("acrlens", [args.acrlens, "query", source_flag, str(source), "--config",
                               config, "--file", str(HERE / "job.sql"), "--format", "csv",
                               "--out", str(result)], result)]
        for peer in PEERS:
            result = out / f"{kind}-{peer}.csv"
            listed.append((peer, [sys.executable, str(HERE / f"job_{peer}.py"), kind,
                                  *map(str, peer_inputs), str(result)], result))
        return listed

    job("raw JSON", commands("raw", "--logs", logs, [logs, ranges]), size)
    subprocess.run(["rm", "-rf", str(store)], check=True)
    run([args.acrlens, "ingest", str(logs), "--config", config, "--store", str(store),
         "--quiet"])
    job("Parquet store", commands("store", "--store", store, [store]),
        input_bytes(store / "events"))

    print(f"\n{args.events:,} generated events, {size / 1e6:,.0f} MB of JSON lines; "
          f"median of {args.runs} runs; {os.cpu_count()} cores, {platform.machine()}; "
          f"every engine's answer equals acrlens's.\n")
    table(rows)
    args.results.mkdir(parents=True, exist_ok=True)
    target = args.results / f"peers-{args.events}.csv"
    with open(target, "w", newline="") as f:
        w = csv.writer(f)
        fields = ["job", "engine", "version", "events", "input_bytes", "runs", "median_s",
                  "events_per_s", "mb_per_s", "peak_rss_mib", "ratio"]
        w.writerow(fields[:-1] + ["time_vs_acrlens"])
        for r in rows:
            w.writerow([r[k] if not isinstance(r[k], float) else f"{r[k]:.4f}" for k in fields])
    print(f"\nwrote {target}")


if __name__ == "__main__":
    main()
