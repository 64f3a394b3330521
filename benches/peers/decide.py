"""The part of acrlens's decision table (DESIGN §5) that the generated topology exercises, as
the peers' SQL: every generated registry is configured, restricts public access to its IP
rules, and has the trusted-service bypass on (for Tasks too).

Inputs per event: the caller's number `k` (NULL when the caller is missing or not an address),
whether it lies in an internal range, a known subnet, an IP rule or any service tag, and the
HTTP status.
"""

# IPv4 addresses are numbered as IPv4-mapped IPv6 (::ffff:a.b.c.d).
V4_BASE = 0xFFFF_0000_0000

PATH_SQL = """CASE
    WHEN k IS NULL THEN 'unknown'
    WHEN coalesce(internal, false) THEN
        CASE WHEN coalesce(subnet, false) THEN 'private_endpoint' ELSE 'private_unmapped' END
    WHEN status = 403 AND NOT coalesce(rule, false) THEN 'denied'
    WHEN coalesce(rule, false) THEN 'ip_rule'
    WHEN coalesce(azure, false) THEN 'trusted_service'
    ELSE 'unexplained'
END"""
