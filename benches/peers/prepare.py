"""Flattens the generated topology into one table of address ranges for the peer engines.

Every row is one prefix: a service-tag prefix (kind `tag`), a VNet subnet (`subnet`), an IP
rule of the registries (`rule`) or an internal range (`internal`: the private, CGNAT, loopback
and link-local blocks). Addresses are numbered in one 128-bit space (IPv4 as IPv4-mapped IPv6),
so that one integer range join covers both families. This is set-up, not timed: a user of
these engines would keep such a table.

Beside it, the same prefixes flattened for a longest-prefix-match dictionary (`OUT_CSV` with
`-flat` before the suffix): one row per distinct prefix, with a bit for each kind of range that
holds it (its own kinds and those of every shorter prefix around it), so that the most specific
match alone answers every question about an address.

usage: prepare.py TOPOLOGY_DIR OUT_CSV
"""

import csv
import ipaddress
import json
import sys
import tomllib
from pathlib import Path

INTERNAL = [
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128",
]


def key_range(cidr):
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version == 4:
        base = 0xFFFF_0000_0000
        return 4, net.prefixlen, base + int(net.network_address), base + int(net.broadcast_address)
    return 6, net.prefixlen, int(net.network_address), int(net.broadcast_address)


def specificity(tag):
    """As acrlens ranks overlapping tags: regional service, global service, regional cloud."""
    props = tag["properties"]
    return 2 * bool(props.get("systemService")) + ("." in tag["name"])


KIND_BITS = {"internal": 1, "subnet": 2, "rule": 4, "tag": 8}


def flattened(cidrs_and_kinds):
    """(cidr, bits) for every distinct prefix, each with the bits of the prefixes around it."""
    own = {}
    for cidr, kind in cidrs_and_kinds:
        net = ipaddress.ip_network(cidr, strict=False)
        own[net] = own.get(net, 0) | KIND_BITS[kind]
    by_key = {(n.version, n.prefixlen, int(n.network_address)): bits for n, bits in own.items()}
    rows = []
    for net, bits in own.items():
        width = net.max_prefixlen
        address = int(net.network_address)
        for length in range(net.prefixlen):
            mask = ((1 << length) - 1) << (width - length) if length else 0
            bits |= by_key.get((net.version, length, address & mask), 0)
        rows.append((str(net), bits))
    return sorted(rows)


def main(topology_dir, out_csv):
    topology_dir = Path(topology_dir)
    project = tomllib.loads((topology_dir / "acrlens.toml").read_text())
    rows = []
    for entry in project.get("service_tags", []):
        doc = json.loads((topology_dir / entry["path"]).read_text())
        for tag in doc["values"]:
            for p in tag["properties"]["addressPrefixes"]:
                rows.append((p, "tag", tag["name"], specificity(tag)))
    for entry in project.get("vnets", []):
        for vnet in json.loads((topology_dir / entry["path"]).read_text()):
            for subnet in vnet["subnets"]:
                prefixes = subnet.get("addressPrefixes") or [subnet["addressPrefix"]]
                for p in prefixes:
                    rows.append((p, "subnet", f"{vnet['name']}/{subnet['name']}", 0))
    rules = set()
    for entry in project.get("registry", []):
        registry = json.loads((topology_dir / entry["path"]).read_text())
        for rule in registry["networkRuleSet"]["ipRules"]:
            rules.add(rule["ipAddressOrRange"])
    rows += [(r, "rule", r, 0) for r in sorted(rules)]
    rows += [(p, "internal", p, 0) for p in INTERNAL]
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cidr", "family", "plen", "lo", "hi", "kind", "name", "specificity"])
        for cidr, kind, name, spec in rows:
            family, plen, lo, hi = key_range(cidr)
            w.writerow([cidr, family, plen, lo, hi, kind, name, spec])
    out = Path(out_csv)
    with open(out.with_name(f"{out.stem}-flat{out.suffix}"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cidr", "bits"])
        w.writerows(flattened((cidr, kind) for cidr, kind, _, _ in rows))


if __name__ == "__main__":
    main(*sys.argv[1:3])
