//! IP-rule lists checked against an independent computation: every address of a small
//! universe (10.0.0.0/24) as a bit, and the fewest CIDRs and fewest extra addresses found by
//! trying every block of the full trie.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::Ipv4Addr;

use acrlens_netmap::cidr::{address_count, exact_cover, fit};
use ipnet::Ipv4Net;
use proptest::prelude::*;

const BASE: u32 = 0x0a00_0000;

fn bits(list: &[Ipv4Net]) -> [bool; 256] {
    let mut set = [false; 256];
    for p in list {
        let start = u32::from(p.network()) - BASE;
        for a in start..start + (1u32 << (32 - p.prefix_len())) {
            set[a as usize] = true;
        }
    }
    set
}

fn held(set: &[bool], start: usize, len: usize) -> usize {
    set[start..start + len].iter().filter(|&&b| b).count()
}

/// The fewest blocks whose union is exactly the set, over the block of `len` at `start`.
fn fewest(set: &[bool], start: usize, len: usize) -> usize {
    match held(set, start, len) {
        0 => 0,
        n if n == len => 1,
        _ => fewest(set, start, len / 2) + fewest(set, start + len / 2, len / 2),
    }
}

/// The fewest extra addresses with at most `k` blocks holding every address of the set.
fn least_extra(
    set: &[bool],
    start: usize,
    len: usize,
    k: usize,
    memo: &mut HashMap<(usize, usize, usize), Option<u64>>,
) -> Option<u64> {
    let inside = held(set, start, len);
    if inside == 0 {
        return Some(0);
    }
    if k == 0 {
        return None;
    }
    if let Some(&known) = memo.get(&(start, len, k)) {
        return known;
    }
    let mut best = Some((len - inside) as u64);
    if len > 1 {
        for a in 0..=k {
            let low = least_extra(set, start, len / 2, a, memo);
            let high = least_extra(set, start + len / 2, len / 2, k - a, memo);
            if let (Some(l), Some(h)) = (low, high) {
                best = best.min(Some(l + h)).or(Some(l + h));
            }
        }
    }
    memo.insert((start, len, k), best);
    best
}

fn prefixes() -> impl Strategy<Value = Vec<Ipv4Net>> {
    prop::collection::vec((0u32..256, 24u8..=32), 1..12).prop_map(|list| {
        list.into_iter()
            .map(|(offset, len)| {
                Ipv4Net::new(Ipv4Addr::from(BASE + offset), len)
                    .unwrap()
                    .trunc()
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn the_exact_list_holds_the_same_addresses_and_no_shorter_list_does(set in prefixes()) {
        let cover = exact_cover(&set);
        let want = bits(&set);
        prop_assert_eq!(bits(&cover), want);
        prop_assert_eq!(cover.len(), fewest(&want, 0, 256));
        prop_assert_eq!(address_count(&set), want.iter().filter(|&&b| b).count() as u64);
    }

    #[test]
    fn a_fit_drops_no_address_counts_its_extra_exactly_and_adds_the_fewest(
        set in prefixes(),
        max in 1usize..8,
    ) {
        let result = fit(&set, max);
        let want = bits(&set);
        let got = bits(&result.rules);
        prop_assert!(result.rules.len() <= max);
        prop_assert!(want.iter().zip(&got).all(|(w, g)| !w || *g), "an address was dropped");
        let extra = got.iter().zip(&want).filter(|(g, w)| **g && !**w).count() as u64;
        prop_assert_eq!(result.extra_addresses, extra);
        prop_assert_eq!(result.exact, extra == 0 && exact_cover(&set).len() <= max);
        let best = least_extra(&want, 0, 256, max, &mut HashMap::new());
        prop_assert_eq!(Some(result.extra_addresses), best);
    }
}
