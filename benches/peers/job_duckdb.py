"""The benchmark job in DuckDB, written the way a competent DuckDB user would.

raw:   read the JSON lines (only the fields the job needs), number each distinct caller in one
       128-bit space, tag it with an integer range join against the prefix table (service tag,
       subnet, IP rule, internal range: the facts the path needs), decide its access path,
       count events and bytes by day, repository and path.
store: the same counts over the Parquet store acrlens wrote (its rows already carry the path).

usage: job_duckdb.py raw LOGS_DIR RANGES_CSV OUT_CSV | store STORE_DIR OUT_CSV
"""

import sys
import time

import duckdb
import pyarrow as pa

from decide import PATH_SQL, V4_BASE, number


def ip6(texts):
    """Vectorised over a chunk (DuckDB has no native IPv6 type without the inet extension,
    which it downloads; and Arrow has no 128-bit integer, hence the decimal text)."""
    numbers = (None if t is None else number(t) for t in texts.to_pylist())
    return pa.array([None if n is None else str(n) for n in numbers], pa.string())


def raw(con, logs, ranges, out):
    con.create_function("ip6", ip6, ["VARCHAR"], "VARCHAR", type="arrow", null_handling="special")
    con.execute(
        f"""
        CREATE TEMP TABLE ranges AS
        SELECT lo::UHUGEINT AS lo, hi::UHUGEINT AS hi, kind
        FROM read_csv('{ranges}', header = true, all_varchar = true)
        """
    )
    octet = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    v4 = rf"^{octet}\.{octet}\.{octet}\.{octet}(:\d+)?$"
    # Step by step, into temporary tables: given the range join inside one big query, the
    # planner picks a piecewise merge join (seconds); on a table of keys it picks an IEJoin.
    con.execute(
        f"""
        CREATE TEMP TABLE ev AS
        SELECT substr(time, 1, 10) AS day, properties.repository AS repository,
               properties.size AS size, TRY_CAST(resultDescription AS INTEGER) AS status,
               callerIpAddress AS caller
        FROM read_json('{logs}/**/*.json', format = 'newline_delimited', ignore_errors = true,
            columns = {{time: 'VARCHAR', callerIpAddress: 'VARCHAR', resultDescription: 'VARCHAR',
                       properties: 'STRUCT(repository VARCHAR, size BIGINT)'}})
        WHERE time IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE TEMP TABLE keyed AS
        WITH callers AS (SELECT DISTINCT caller FROM ev WHERE caller IS NOT NULL),
        v4 AS (SELECT caller, regexp_extract(caller, '{v4}', ['a', 'b', 'c', 'd']) AS o
               FROM callers WHERE regexp_matches(caller, '{v4}'))
        SELECT caller, {V4_BASE}::UHUGEINT + (o.a::UHUGEINT << 24) + (o.b::UHUGEINT << 16)
               + (o.c::UHUGEINT << 8) + o.d::UHUGEINT AS k
        FROM v4
        UNION ALL
        SELECT caller, ip6(caller)::UHUGEINT AS k FROM callers
        WHERE contains(caller, ':') AND NOT regexp_matches(caller, '{v4}')
        """
    )
    con.execute(
        f"""
        COPY (
        WITH tagged AS (
            SELECT k.caller, any_value(k.k) AS k,
                bool_or(r.kind = 'internal') AS internal, bool_or(r.kind = 'subnet') AS subnet,
                bool_or(r.kind = 'rule') AS rule, bool_or(r.kind = 'tag') AS azure
            FROM keyed k LEFT JOIN ranges r ON k.k BETWEEN r.lo AND r.hi
            GROUP BY k.caller
        )
        SELECT day, repository, {PATH_SQL} AS access_path, count(*) AS events, sum(size) AS bytes
        FROM ev LEFT JOIN tagged USING (caller)
        GROUP BY ALL ORDER BY ALL
        ) TO '{out}' (HEADER)
        """
    )


def store(con, directory, out):
    con.execute(
        f"""
        COPY (
        SELECT strftime(time, '%Y-%m-%d') AS day, repository, access_path, count(*) AS events,
               sum(size_bytes) AS bytes
        FROM read_parquet('{directory}/events/**/*.parquet', hive_partitioning = true)
        GROUP BY ALL ORDER BY ALL
        ) TO '{out}' (HEADER)
        """
    )


if __name__ == "__main__":
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if sys.argv[1] == "raw":
        raw(con, *sys.argv[2:5])
    else:
        store(con, *sys.argv[2:4])
    print(f"elapsed_s={time.perf_counter() - started:.4f}")
