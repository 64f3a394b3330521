"""The benchmark job in Polars, written the way a competent Polars user would: a lazy scan of
the JSON lines, the port stripped from IPv4 callers, each distinct caller numbered in one
128-bit space (IPv4 by expressions, IPv6 by Python's `ipaddress`), and `join_asof` against the
prefix table, one prefix length at a time (prefixes of one length never overlap, so the nearest
start at or below an address is the only one that can hold it).

usage: job_polars.py raw LOGS_DIR RANGES_CSV OUT_CSV | store STORE_DIR OUT_CSV
"""

import sys
import time

import polars as pl

from decide import V4_BASE, number

KINDS = ("internal", "subnet", "rule", "tag")
FLAGS = {"tag": "azure"}


def raw(logs, ranges, out):
    # `scan_ndjson` stops at the first malformed line, even with `ignore_errors`; read lines,
    # keep those that look like whole objects, and decode only the fields the job needs.
    record = pl.Struct({
        "time": pl.String,
        "callerIpAddress": pl.String,
        "resultDescription": pl.String,
        "properties": pl.Struct({"repository": pl.String, "size": pl.Int64}),
    })
    line = pl.col("line")
    events = (
        pl.scan_csv(f"{logs}/**/*.json", has_header=False, separator="\x1f", quote_char=None,
                    schema={"line": pl.String})
        .filter(line.str.starts_with("{") & line.str.ends_with("}"))
        .select(line.str.json_decode(record).alias("record"))
        .unnest("record")
        .filter(pl.col("time").is_not_null())
        .select(
            pl.col("time").str.slice(0, 10).alias("day"),
            pl.col("properties").struct.field("repository"),
            pl.col("properties").struct.field("size"),
            pl.col("resultDescription").cast(pl.Int32, strict=False).alias("status"),
            pl.col("callerIpAddress").str.replace(r"^(\d+\.\d+\.\d+\.\d+):\d+$", "$1")
            .alias("caller"),
        )
        .collect()
    )
    callers = events.select(pl.col("caller").drop_nulls().unique())
    octets = pl.col("caller").str.extract_groups(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
    octet = [octets.struct.field(str(i)).cast(pl.UInt128) for i in range(1, 5)]
    v4 = pl.lit(V4_BASE, pl.UInt128) + octet[0] * (1 << 24) + octet[1] * (1 << 16) \
        + octet[2] * (1 << 8) + octet[3]
    valid_v4 = pl.all_horizontal([o <= 255 for o in octet])
    v6 = pl.col("caller").map_elements(number, return_dtype=pl.UInt128)
    callers = pl.concat([
        callers.filter(pl.col("caller").str.contains(":"))
        .with_columns(v6.alias("k")),
        callers.filter(~pl.col("caller").str.contains(":"))
        .with_columns(pl.when(valid_v4).then(v4).alias("k")),
    ])
    keyed = callers.filter(pl.col("k").is_not_null()).sort("k")
    table = pl.read_csv(ranges, infer_schema=False).with_columns(
        pl.col("lo").cast(pl.UInt128),
        pl.col("hi").cast(pl.UInt128),
        pl.col("plen").cast(pl.Int32),
    )
    facts = keyed.select("caller", "k")
    for kind in KINDS:
        hits = []
        of_kind = table.filter(pl.col("kind") == kind)
        for (family, plen), group in of_kind.group_by("family", "plen"):
            starts = group.select("lo", "hi").unique("lo").sort("lo")
            hit = (
                keyed.join_asof(starts, left_on="k", right_on="lo", strategy="backward")
                .filter(pl.col("hi").is_not_null() & (pl.col("k") <= pl.col("hi")))
                .select("caller")
            )
            hits.append(hit)
        flag = FLAGS.get(kind, kind)
        inside = pl.concat(hits).unique() if hits else pl.DataFrame({"caller": []}, schema={"caller": pl.String})
        facts = facts.join(
            inside.with_columns(pl.lit(True).alias(flag)), on="caller", how="left"
        ).with_columns(pl.col(flag).fill_null(False))
    rule = pl.col("rule").fill_null(False)
    path = (
        pl.when(pl.col("k").is_null()).then(pl.lit("unknown"))
        .when(pl.col("internal").fill_null(False)).then(
            pl.when(pl.col("subnet").fill_null(False))
            .then(pl.lit("private_endpoint")).otherwise(pl.lit("private_unmapped"))
        )
        .when((pl.col("status") == 403).fill_null(False) & ~rule).then(pl.lit("denied"))
        .when(rule).then(pl.lit("ip_rule"))
        .when(pl.col("azure").fill_null(False)).then(pl.lit("trusted_service"))
        .otherwise(pl.lit("unexplained"))
    )
    result = (
        events.join(facts, on="caller", how="left")
        .with_columns(path.alias("access_path"))
        .group_by("day", "repository", "access_path")
        .agg(pl.len().alias("events"), pl.col("size").sum().alias("bytes"),
             pl.col("size").is_not_null().any().alias("any_size"))
        .with_columns(pl.when(pl.col("any_size")).then(pl.col("bytes")).alias("bytes"))
        .drop("any_size")
        .sort("day", "repository", "access_path", nulls_last=False)
    )
    result.write_csv(out)


def store(directory, out):
    (
        pl.scan_parquet(f"{directory}/events/**/*.parquet", hive_partitioning=False)
        .group_by(
            pl.col("time").dt.date().alias("day"), "repository", "access_path"
        )
        .agg(pl.len().alias("events"), pl.col("size_bytes").sum().alias("bytes"),
             pl.col("size_bytes").is_not_null().any().alias("any_size"))
        .with_columns(pl.when(pl.col("any_size")).then(pl.col("bytes")).alias("bytes"))
        .drop("any_size")
        .sort("day", "repository", "access_path")
        .collect()
        .write_csv(out)
    )


if __name__ == "__main__":
    started = time.perf_counter()
    if sys.argv[1] == "raw":
        raw(*sys.argv[2:5])
    else:
        store(*sys.argv[2:4])
    print(f"elapsed_s={time.perf_counter() - started:.4f}")
