//! IPv4 address sets as lists of CIDRs: the exact minimal list for a set of prefixes, and the
//! list of at most N CIDRs that holds every address of the set with the fewest others — what a
//! registry's IP rules (at most 200, IPv4 only) can say of a service tag.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// A set of IPv4 addresses as sorted, disjoint, inclusive ranges.
fn ranges(prefixes: &[Ipv4Net]) -> Vec<(u64, u64)> {
    let mut all: Vec<(u64, u64)> = prefixes
        .iter()
        .map(|p| {
            let p = p.trunc();
            (
                u64::from(u32::from(p.network())),
                u64::from(u32::from(p.broadcast())),
            )
        })
        .collect();
    all.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    for (start, end) in all {
        match merged.last_mut() {
            Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The CIDR of `len` bits at `start`.
fn cidr(start: u64, len: u8) -> Ipv4Net {
    // `start` is below 2^32 and `len` at most 32 by construction.
    Ipv4Net::new(Ipv4Addr::from(start as u32), len).unwrap_or_default()
}

/// The number of addresses in `p`.
pub fn size(p: &Ipv4Net) -> u64 {
    1u64 << (32 - u32::from(p.prefix_len()))
}

/// The fewest CIDRs whose union is exactly the addresses of `prefixes` (nested, overlapping and
/// adjacent prefixes merged), in address order. Each maximal run of addresses is cut into the
/// largest aligned blocks from its start: any exact list must cover each run with blocks inside
/// it, and no list does that with fewer.
pub fn exact_cover(prefixes: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    for (mut start, end) in ranges(prefixes) {
        while start <= end {
            let align = if start == 0 {
                32
            } else {
                start.trailing_zeros().min(32)
            };
            let mut bits = align;
            while (1u64 << bits) > end - start + 1 {
                bits -= 1;
            }
            out.push(cidr(start, 32 - bits as u8));
            start += 1u64 << bits;
        }
    }
    out
}

/// The addresses of `prefixes`, counted once.
pub fn address_count(prefixes: &[Ipv4Net]) -> u64 {
    ranges(prefixes).iter().map(|(s, e)| e - s + 1).sum()
}

/// What fits in a rule limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// The CIDRs, in address order.
    pub rules: Vec<Ipv4Net>,
    /// Whether they hold exactly the set's addresses.
    pub exact: bool,
    /// Addresses they hold that the set does not.
    pub extra_addresses: u64,
}

/// A node of the trie of the exact cover: a block of the cover (leaf) or the smallest CIDR
/// holding two subtrees that differ in its next bit.
struct Node {
    prefix: Ipv4Net,
    /// Addresses of the set inside `prefix`.
    covered: u64,
    children: Option<(usize, usize)>,
}

fn build(blocks: &[Ipv4Net], nodes: &mut Vec<Node>) -> usize {
    if let [only] = blocks {
        nodes.push(Node {
            prefix: *only,
            covered: size(only),
            children: None,
        });
        return nodes.len() - 1;
    }
    let (first, last) = (blocks[0], blocks[blocks.len() - 1]);
    let (a, b) = (u32::from(first.network()), u32::from(last.broadcast()));
    let common = (a ^ b).leading_zeros() as u8;
    let prefix = cidr(u64::from(a), common).trunc();
    // The first block whose bit after the common prefix is set starts the upper half.
    let bit = 31 - u32::from(common);
    let split = blocks.partition_point(|p| u32::from(p.network()) >> bit & 1 == 0);
    let low = build(&blocks[..split], nodes);
    let high = build(&blocks[split..], nodes);
    let covered = nodes[low].covered + nodes[high].covered;
    nodes.push(Node {
        prefix,
        covered,
        children: Some((low, high)),
    });
    nodes.len() - 1
}

/// How a node is covered with at most k CIDRs.
#[derive(Clone, Copy)]
enum Choice {
    /// The node's own prefix, one CIDR.
    Whole,
    /// `low` CIDRs for the lower child, the rest for the upper.
    Split(usize),
}

/// Per node: for k = 0..len, the fewest extra addresses with at most k CIDRs, and how.
struct Table {
    extra: Vec<u64>,
    choice: Vec<Choice>,
}

const NEVER: u64 = u64::MAX;

fn solve(node: usize, nodes: &[Node], max: usize, tables: &mut [Option<Table>]) {
    let n = &nodes[node];
    let whole = size(&n.prefix) - n.covered;
    let table = match n.children {
        None => Table {
            extra: vec![NEVER, 0],
            choice: vec![Choice::Whole; 2],
        },
        Some((low, high)) => {
            solve(low, nodes, max, tables);
            solve(high, nodes, max, tables);
            let (l, h) = (tables[low].as_ref(), tables[high].as_ref());
            let (Some(l), Some(h)) = (l, h) else {
                return;
            };
            let width = (l.extra.len() + h.extra.len() - 1).min(max + 1);
            let mut extra = vec![NEVER; width];
            let mut choice = vec![Choice::Whole; width];
            for (a, &la) in l.extra.iter().enumerate().skip(1) {
                for (b, &hb) in h.extra.iter().enumerate().skip(1) {
                    if a + b < width && la != NEVER && hb != NEVER && la + hb < extra[a + b] {
                        extra[a + b] = la + hb;
                        choice[a + b] = Choice::Split(a);
                    }
                }
            }
            if width > 1 && whole <= extra[1] {
                extra[1] = whole;
                choice[1] = Choice::Whole;
            }
            // At most k: fewer CIDRs may already do best.
            for k in 2..width {
                if extra[k - 1] < extra[k] {
                    extra[k] = extra[k - 1];
                    choice[k] = choice[k - 1];
                }
            }
            Table { extra, choice }
        }
    };
    tables[node] = Some(table);
}

fn emit(node: usize, k: usize, nodes: &[Node], tables: &[Option<Table>], out: &mut Vec<Ipv4Net>) {
    let Some(table) = tables[node].as_ref() else {
        return;
    };
    let k = k.min(table.extra.len() - 1);
    match (table.choice[k], nodes[node].children) {
        (Choice::Split(a), Some((low, high))) => {
            emit(low, a, nodes, tables, out);
            emit(high, k - a, nodes, tables, out);
        }
        _ => out.push(nodes[node].prefix),
    }
}

/// At most `max` CIDRs holding every address of `prefixes`: the exact cover when it fits,
/// otherwise the list with the fewest addresses outside the set (an optimum, found by dynamic
/// programming over the trie of the exact cover: each subtree is covered either by its own
/// smallest prefix or by its two halves sharing the budget).
pub fn fit(prefixes: &[Ipv4Net], max: usize) -> Fit {
    let exact = exact_cover(prefixes);
    if exact.len() <= max {
        return Fit {
            rules: exact,
            exact: true,
            extra_addresses: 0,
        };
    }
    if max == 0 {
        return Fit {
            rules: Vec::new(),
            exact: false,
            extra_addresses: 0,
        };
    }
    let mut nodes = Vec::with_capacity(exact.len() * 2);
    let root = build(&exact, &mut nodes);
    let mut tables: Vec<Option<Table>> = (0..nodes.len()).map(|_| None).collect();
    solve(root, &nodes, max, &mut tables);
    let mut rules = Vec::new();
    emit(root, max, &nodes, &tables, &mut rules);
    let rules = exact_cover(&rules);
    let extra_addresses = address_count(&rules) - address_count(&exact);
    Fit {
        rules,
        exact: false,
        extra_addresses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Ipv4Net> {
        list.iter().map(|s| s.parse().unwrap_or_default()).collect()
    }

    fn text(list: &[Ipv4Net]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn nested_overlapping_and_adjacent_prefixes_merge() {
        let cover = exact_cover(&nets(&[
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.0.64/26",
            "10.0.1.0/24",
            "10.0.3.0/24",
        ]));
        assert_eq!(text(&cover), ["10.0.0.0/23", "10.0.3.0/24"]);
        assert_eq!(text(&exact_cover(&nets(&["0.0.0.0/0"]))), ["0.0.0.0/0"]);
        assert_eq!(address_count(&nets(&["10.0.0.0/24", "10.0.0.0/25"])), 256);
        // A run that starts unaligned is cut into the largest aligned blocks.
        let run = exact_cover(&nets(&["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30"]));
        assert_eq!(text(&run), ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30"]);
    }

    #[test]
    fn a_fit_under_the_limit_adds_the_fewest_addresses() {
        let set = nets(&["10.0.0.0/24", "10.0.2.0/24", "10.0.8.0/24"]);
        let one = fit(&set, 1);
        assert_eq!(text(&one.rules), ["10.0.0.0/20"]);
        assert_eq!(one.extra_addresses, 4096 - 768);
        let two = fit(&set, 2);
        assert_eq!(text(&two.rules), ["10.0.0.0/22", "10.0.8.0/24"]);
        assert_eq!((two.exact, two.extra_addresses), (false, 512));
        assert!(fit(&set, 3).exact);
    }
}
