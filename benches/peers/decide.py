"""The part of acrlens's decision table (see the README) that the generated topology exercises, as
the peers' SQL: every generated registry is configured, restricts public access to its IP
rules, and has the trusted-service bypass on (for Tasks too).

Also the numbering of callers that the peers share. Inputs per event: the caller's number `k` (NULL when the caller is missing or not an address),
whether it lies in an internal range, a known subnet, an IP rule or any service tag, and the
HTTP status.
"""

import ipaddress

# IPv4 addresses are numbered as IPv4-mapped IPv6 (::ffff:a.b.c.d).
V4_BASE = 0xFFFF_0000_0000


def number(text):
    """A caller as logged (`a.b.c.d`, `a.b.c.d:port`, IPv6, `[IPv6]`) as a 128-bit number in the
    peers' one address space; None when it is not an address."""
    host = text.split(":", 1)[0] if text.count(":") == 1 else text
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if addr.version == 4:
        return V4_BASE + int(addr)
    if addr.ipv4_mapped:
        return V4_BASE + int(addr.ipv4_mapped)
    return int(addr)

PATH_SQL = """CASE
    WHEN k IS NULL THEN 'unknown'
    WHEN coalesce(internal, false) THEN
        CASE WHEN coalesce(subnet, false) THEN 'private_endpoint' ELSE 'private_unmapped' END
    WHEN status = 403 AND NOT coalesce(rule, false) THEN 'denied'
    WHEN coalesce(rule, false) THEN 'ip_rule'
    WHEN coalesce(azure, false) THEN 'trusted_service'
    ELSE 'unexplained'
END"""
