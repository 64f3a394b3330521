"""The benchmark job in chDB (embedded ClickHouse), written the way a competent ClickHouse user
would: each line read as text and parsed once into the fields the job needs (JSONEachRow skips
the record after a malformed line), `ip_trie` dictionaries over the prefix table, one per kind
of range, looked up per event.

usage: job_chdb.py raw LOGS_DIR RANGES_CSV OUT_CSV | store STORE_DIR OUT_CSV
"""

import sys
import time

from chdb import session

KINDS = ("internal", "subnet", "rule", "tag")


def raw(s, logs, ranges, out):
    s.query("CREATE DATABASE IF NOT EXISTS bench")
    for kind in KINDS:
        s.query(f"CREATE TABLE bench.{kind} (prefix String, name String) ENGINE = Memory")
        s.query(
            f"""INSERT INTO bench.{kind} SELECT cidr, any(name) FROM file('{ranges}', CSVWithNames,
                'cidr String, family String, plen String, lo String, hi String, kind String,
                 name String, specificity String')
                WHERE kind = '{kind}' GROUP BY cidr"""
        )
        s.query(
            f"""CREATE DICTIONARY bench.{kind}_trie (prefix String, name String) PRIMARY KEY prefix
                SOURCE(CLICKHOUSE(TABLE '{kind}' DB 'bench')) LAYOUT(IP_TRIE) LIFETIME(0)"""
        )
    has = {k: f"dictHas('bench.{k}_trie', tuple(assumeNotNull(ip)))" for k in KINDS}
    s.query(
        f"""
        SELECT day, repository, access_path, count() AS events, sum(size) AS bytes
        FROM (
            SELECT substring(time, 1, 10) AS day, properties.repository AS repository,
                   properties.size AS size, toInt32OrNull(resultDescription) AS status,
                   if(countSubstrings(callerIpAddress, ':') = 1,
                      splitByChar(':', callerIpAddress)[1], callerIpAddress) AS caller,
                   if(caller = '', NULL, toIPv6OrNull(caller)) AS ip,
                   multiIf(ip IS NULL, 'unknown',
                           {has['internal']}, if({has['subnet']}, 'private_endpoint', 'private_unmapped'),
                           status = 403 AND NOT {has['rule']}, 'denied',
                           {has['rule']}, 'ip_rule',
                           {has['tag']}, 'trusted_service',
                           'unexplained') AS access_path
            FROM (
                SELECT JSONExtract(line, 'Tuple(time Nullable(String),
                    callerIpAddress Nullable(String), resultDescription Nullable(String),
                    properties Tuple(repository Nullable(String), size Nullable(Int64)))') AS r,
                    r.time AS time, r.callerIpAddress AS callerIpAddress,
                    r.resultDescription AS resultDescription, r.properties AS properties
                FROM file('{logs}/**/*.json', 'LineAsString', 'line String')
            )
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
        SELECT formatDateTime(time, '%Y-%m-%d', 'UTC') AS day, repository, access_path,
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
