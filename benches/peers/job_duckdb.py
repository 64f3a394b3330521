"""The benchmark job in DuckDB, written the way a competent DuckDB user would.

raw:    read the JSON lines (only the fields the job needs), strip the port from IPv4 callers,
        number each distinct caller in one 128-bit space, tag it with an integer range join
        against the prefix table (service tag, subnet, IP rule, internal range: the facts the
        path needs), decide its access path, count events and bytes by day, repository and path.
store:  the same counts over the Parquet store acrlens wrote (its rows already carry the path).
ingest: the JSON lines into hive-partitioned zstd Parquet (by category and date), no
        attribution: the conversion acrlens's `ingest --store` is measured against.

usage: job_duckdb.py raw LOGS_DIR RANGES_CSV OUT_CSV | store STORE_DIR OUT_CSV
       | ingest LOGS_DIR OUT_DIR
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
    v4 = rf"^{octet}\.{octet}\.{octet}\.{octet}$"
    # Step by step, into temporary tables: given the range join inside one big query, the
    # planner picks a piecewise merge join (seconds); on a table of keys it picks an IEJoin.
    con.execute(
        f"""
        CREATE TEMP TABLE ev AS
        SELECT substr(time, 1, 10) AS day, properties.repository AS repository,
               properties.size AS size, TRY_CAST(resultDescription AS INTEGER) AS status,
               -- the port of an IPv4 caller (a.b.c.d:port) stripped before callers are numbered
               CASE WHEN callerIpAddress LIKE '%.%:%' THEN split_part(callerIpAddress, ':', 1)
                    ELSE callerIpAddress END AS caller
        FROM read_json('{logs}/**/*.json', format = 'newline_delimited', ignore_errors = true,
            hive_partitioning = false,
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
        SELECT time::DATE AS day, repository, access_path, count(*) AS events,
               sum(size_bytes) AS bytes
        FROM read_parquet('{directory}/events/**/*.parquet', hive_partitioning = false)
        GROUP BY ALL ORDER BY ALL
        ) TO '{out}' (HEADER)
        """
    )


def ingest(con, logs, out):
    con.execute(
        f"""
        COPY (
        SELECT time, category, operationName AS operation, resourceId AS resource_id,
               properties.loginServer AS login_server, location, properties.repository AS repository,
               properties.tag AS tag, properties.digest AS digest,
               properties.mediaType AS media_type, properties.size AS size_bytes,
               TRY_CAST(durationMs AS DOUBLE) AS duration_ms,
               TRY_CAST(resultDescription AS INTEGER) AS status, identity,
               properties.userAgent AS user_agent, callerIpAddress AS caller_ip,
               correlationId AS correlation_id, properties.jwtId AS jwt_id,
               properties.tenantId AS tenant_id, time::DATE AS date
        FROM read_json('{logs}/**/*.json', format = 'newline_delimited', ignore_errors = true,
            hive_partitioning = false,
            columns = {{time: 'TIMESTAMPTZ', category: 'VARCHAR', operationName: 'VARCHAR',
                       resourceId: 'VARCHAR', location: 'VARCHAR', durationMs: 'VARCHAR',
                       resultDescription: 'VARCHAR', identity: 'VARCHAR',
                       callerIpAddress: 'VARCHAR', correlationId: 'VARCHAR',
                       properties: 'STRUCT(loginServer VARCHAR, repository VARCHAR, tag VARCHAR,
                           digest VARCHAR, mediaType VARCHAR, size BIGINT, userAgent VARCHAR,
                           jwtId VARCHAR, tenantId VARCHAR)'}})
        WHERE time IS NOT NULL
        ) TO '{out}' (FORMAT parquet, PARTITION_BY (category, date), COMPRESSION zstd)
        """
    )


if __name__ == "__main__":
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if sys.argv[1] == "raw":
        raw(con, *sys.argv[2:5])
    elif sys.argv[1] == "ingest":
        ingest(con, *sys.argv[2:4])
    else:
        store(con, *sys.argv[2:4])
    print(f"elapsed_s={time.perf_counter() - started:.4f}")
