"""The benchmark job in chDB (embedded ClickHouse), written the way a competent ClickHouse user
would: each line read as text and parsed once into the fields the job needs (JSONEachRow skips
the record after a malformed line), and one `ip_trie` dictionary over the flattened prefix table
(each prefix carries a bit per kind of range around it), looked up once per event.

usage: job_chdb.py raw LOGS_DIR RANGES_CSV OUT_CSV | store STORE_DIR OUT_CSV
"""

import sys
import time
from pathlib import Path

from chdb import session

# The bits of the flattened table (prepare.py).
INTERNAL, SUBNET, RULE, TAG = 1, 2, 4, 8


# The fields the job needs, each line parsed once by the full JSON parser.
FIELDS = """
    SELECT JSONExtract(line, 'Tuple(time Nullable(String),
        callerIpAddress Nullable(String), resultDescription Nullable(String),
        properties Tuple(repository Nullable(String), size Nullable(Int64)))') AS r,
        r.time AS time, r.callerIpAddress AS callerIpAddress,
        r.resultDescription AS resultDescription, r.properties AS properties
    FROM file('{logs}/**/*.json', 'LineAsString', 'line String')
"""


def raw(s, logs, ranges, out):
    ranges = Path(ranges)
    flat = ranges.with_name(f"{ranges.stem}-flat{ranges.suffix}")
    s.query("CREATE DATABASE IF NOT EXISTS bench")
    s.query("CREATE TABLE bench.flat (prefix String, bits UInt8) ENGINE = Memory")
    s.query(f"INSERT INTO bench.flat SELECT cidr, bits FROM file('{flat}', CSVWithNames, "
            "'cidr String, bits UInt8')")
    s.query(
        """CREATE DICTIONARY bench.trie (prefix String, bits UInt8) PRIMARY KEY prefix
           SOURCE(CLICKHOUSE(TABLE 'flat' DB 'bench')) LAYOUT(IP_TRIE) LIFETIME(0)"""
    )
    has = {bit: f"bitAnd(bits, {bit}) != 0" for bit in (INTERNAL, SUBNET, RULE, TAG)}
    s.query(
        f"""
        SELECT day, repository, access_path, count() AS events, sum(size) AS bytes
        FROM (
            SELECT substring(time, 1, 10) AS day, properties.repository AS repository,
                   properties.size AS size, toInt32OrNull(resultDescription) AS status,
                   if(countSubstrings(callerIpAddress, ':') = 1,
                      splitByChar(':', callerIpAddress)[1], callerIpAddress) AS caller,
                   if(caller = '', NULL, toIPv6OrNull(caller)) AS ip,
                   dictGetOrDefault('bench.trie', 'bits', tuple(assumeNotNull(ip)),
                                    toUInt8(0)) AS bits,
                   multiIf(ip IS NULL, 'unknown',
                           {has[INTERNAL]}, if({has[SUBNET]}, 'private_endpoint', 'private_unmapped'),
                           status = 403 AND NOT {has[RULE]}, 'denied',
                           {has[RULE]}, 'ip_rule',
                           {has[TAG]}, 'trusted_service',
                           'unexplained') AS access_path
            FROM ({FIELDS.format(logs=logs)})
            WHERE time IS NOT NULL
        )
        GROUP BY day, repository, access_path
        ORDER BY day, repository, access_path
        INTO OUTFILE '{out}' TRUNCATE FORMAT CSVWithNames
        SETTINGS use_hive_partitioning = 0
        """
    )


def store(s, directory, out):
    s.query(
        f"""
        SELECT toDate(time, 'UTC') AS day, repository, access_path,
               count() AS events, sum(size_bytes) AS bytes
        FROM file('{directory}/events/**/*.parquet', Parquet)
        GROUP BY day, repository, access_path
        ORDER BY day, repository, access_path
        INTO OUTFILE '{out}' TRUNCATE FORMAT CSVWithNames
        """
    )


if __name__ == "__main__":
    started = time.perf_counter()
    s = session.Session()
    if sys.argv[1] == "raw":
        raw(s, *sys.argv[2:5])
    else:
        store(s, *sys.argv[2:4])
    print(f"elapsed_s={time.perf_counter() - started:.4f}")
