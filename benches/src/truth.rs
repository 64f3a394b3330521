//! The peer benchmark's answer, worked out by the generator from what it wrote and by its own
//! code: events and bytes by day, repository and access path, for the generated topology
//! (every registry restricted to the IP-rule ranges, the trusted-service bypass on, the
//! benchmark VNet's three subnets). It shares nothing with acrlens's attribution, so every
//! engine's answer, acrlens's included, is checked against something none of them computed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::Path;

use acrlens_events::format_timestamp_micros;

use crate::callers::{AzurePrefixes, IP_RULES};
use crate::event::LogEvent;

/// Internal address space: private, shared (CGNAT), loopback, link-local and unique-local.
const INTERNAL: [&str; 9] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// The benchmark VNet's subnets.
const SUBNETS: [&str; 3] = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"];

/// Prefixes as (length, masked address) in one 128-bit space (IPv4 mapped into IPv6).
#[derive(Debug, Default)]
struct PrefixSet {
    lengths: Vec<u32>,
    members: HashSet<(u32, u128)>,
}

impl PrefixSet {
    fn add(&mut self, net: u128, length: u32) {
        self.members.insert((length, mask(net, length)));
        if !self.lengths.contains(&length) {
            self.lengths.push(length);
        }
    }

    fn of(prefixes: &[&str]) -> Self {
        let mut set = PrefixSet::default();
        for p in prefixes {
            let (addr, length) = p.split_once('/').unwrap_or((p, "128"));
            let (Some(addr), Ok(length)) = (number(addr), length.parse::<u32>()) else {
                continue;
            };
            let length = if addr >> 32 == 0xffff {
                length + 96
            } else {
                length
            };
            set.add(addr, length);
        }
        set
    }

    fn contains(&self, addr: u128) -> bool {
        self.lengths
            .iter()
            .any(|&l| self.members.contains(&(l, mask(addr, l))))
    }
}

fn mask(addr: u128, length: u32) -> u128 {
    match length {
        0 => 0,
        l if l >= 128 => addr,
        l => addr & !(u128::MAX >> l),
    }
}

/// An address as one number (IPv4 as `::ffff:a.b.c.d`); `None` when the text is not one.
fn number(text: &str) -> Option<u128> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(u128::from(v4.to_ipv6_mapped())),
        IpAddr::V6(v6) => Some(u128::from(v6)),
    }
}

/// The caller as logged (`a.b.c.d`, `a.b.c.d:port`, IPv6) as a number.
fn caller_number(logged: &str) -> Option<u128> {
    match logged.split_once(':') {
        Some((host, port)) if !port.contains(':') => number(host),
        _ => number(logged),
    }
}

/// What the path of a caller's requests depends on besides the status.
#[derive(Debug, Clone, Copy)]
enum Caller {
    NotAnAddress,
    Internal { in_subnet: bool },
    Public { rule: bool, azure: bool },
}

/// Counts of the benchmark job, filled event by event.
#[derive(Debug)]
pub struct Truth {
    azure: PrefixSet,
    internal: PrefixSet,
    subnets: PrefixSet,
    rules: PrefixSet,
    callers: HashMap<String, Caller>,
    counts: BTreeMap<(String, String, &'static str), (u64, Option<i64>)>,
}

impl Truth {
    /// An empty count for callers drawn from `azure`.
    pub fn new(azure: &AzurePrefixes) -> Self {
        let mut set = PrefixSet::default();
        for (net, length) in azure.prefixes() {
            set.add(net, length);
        }
        Truth {
            azure: set,
            internal: PrefixSet::of(&INTERNAL),
            subnets: PrefixSet::of(&SUBNETS),
            rules: PrefixSet::of(&IP_RULES),
            callers: HashMap::new(),
            counts: BTreeMap::new(),
        }
    }

    fn caller(&mut self, logged: Option<&str>) -> Caller {
        let Some(logged) = logged else {
            return Caller::NotAnAddress;
        };
        if let Some(&known) = self.callers.get(logged) {
            return known;
        }
        let caller = match caller_number(logged) {
            None => Caller::NotAnAddress,
            Some(n) if self.internal.contains(n) => Caller::Internal {
                in_subnet: self.subnets.contains(n),
            },
            Some(n) => Caller::Public {
                rule: self.rules.contains(n),
                azure: self.azure.contains(n),
            },
        };
        self.callers.insert(logged.to_owned(), caller);
        caller
    }

    /// Counts one event written to the export.
    pub fn count(&mut self, event: &LogEvent) {
        let path = match self.caller(event.caller_ip.as_deref()) {
            Caller::NotAnAddress => "unknown",
            Caller::Internal { in_subnet: true } => "private_endpoint",
            Caller::Internal { in_subnet: false } => "private_unmapped",
            Caller::Public { rule: false, .. } if event.status == 403 => "denied",
            Caller::Public { rule: true, .. } => "ip_rule",
            Caller::Public { azure: true, .. } => "trusted_service",
            Caller::Public { .. } => "unexplained",
        };
        let day = format_timestamp_micros(event.time)[..10].to_owned();
        let repository = event.repository.clone().unwrap_or_default();
        let (events, bytes) = self.counts.entry((day, repository, path)).or_default();
        *events += 1;
        if let Some(size) = event.size {
            *bytes = Some(bytes.unwrap_or(0) + size);
        }
    }

    /// Writes the answer as CSV: `day,repository,access_path,events,bytes`, an empty field for
    /// a missing repository or a group without sizes.
    pub fn write_csv(&self, path: &Path) -> io::Result<()> {
        let mut out = String::from("day,repository,access_path,events,bytes\n");
        for ((day, repository, path), (events, bytes)) in &self.counts {
            let bytes = bytes.map(|b| b.to_string()).unwrap_or_default();
            out.push_str(&format!("{day},{repository},{path},{events},{bytes}\n"));
        }
        fs::write(path, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_hold_what_they_cover_and_nothing_else() {
        let set = PrefixSet::of(&["10.0.1.0/24", "2603:1030:210::/47"]);
        assert!(set.contains(caller_number("10.0.1.255:443").unwrap_or(0)));
        assert!(!set.contains(caller_number("10.0.2.0").unwrap_or(0)));
        assert!(set.contains(number("2603:1030:211:ffff::1").unwrap_or(0)));
        assert!(!set.contains(number("2603:1030:212::").unwrap_or(0)));
        assert_eq!(caller_number("<nil>"), None);
    }
}
