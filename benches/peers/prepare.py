"""Flattens the generated topology into one table of address ranges for the peer engines.

Every row is one prefix: a service-tag prefix (kind `tag`), a VNet subnet (`subnet`), an IP
rule of the registries (`rule`) or an internal range (`internal`: the private, CGNAT, loopback
and link-local blocks). Addresses are numbered in one 128-bit space (IPv4 as IPv4-mapped IPv6),
so that one integer range join covers both families. This is set-up, not timed: a user of
these engines would keep such a table.

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


if __name__ == "__main__":
    main(*sys.argv[1:3])
