//! Who calls the generated registries. A fixed population of callers, so that addresses repeat
//! the way they do in real logs (a cluster's nodes pull all day), some far busier than others.
//! Each caller is one of: a private address in the benchmark VNet's subnets or in unmapped
//! private space, an address inside a real Azure prefix (IPv4 or IPv6, from a service-tag file),
//! an address in one of the registries' IP-rule ranges, a public-internet address (IPv4 or IPv6),
//! or a missing or malformed caller value.

use std::net::{Ipv4Addr, Ipv6Addr};

use acrlens_netmap::ServiceTagSnapshot;
use ipnet::IpNet;

use crate::generate::Rng;

/// The ranges the benchmark registries' IP rules allow (documentation ranges: public scope,
/// owned by nobody).
pub const IP_RULES: [&str; 2] = ["203.0.113.0/24", "198.51.100.0/24"];

/// A few prefixes of the real file (`AzureContainerRegistry.EastUS`, `AzureCloud.eastus`).
pub const BUILTIN_PREFIXES: [&str; 6] = [
    "20.42.66.0/24",
    "20.42.67.0/24",
    "20.62.128.0/26",
    "4.156.0.0/15",
    "20.42.0.0/17",
    "2603:1030:210::/47",
];

/// Real Azure prefixes to draw Azure callers from.
#[derive(Debug, Clone)]
pub struct AzurePrefixes {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u32)>,
}

impl AzurePrefixes {
    /// Every distinct prefix of a service-tag snapshot.
    pub fn from_snapshot(snapshot: &ServiceTagSnapshot) -> Self {
        Self::from_prefixes(
            snapshot
                .tags
                .iter()
                .flat_map(|t| t.prefixes.iter().copied()),
        )
    }

    /// [`BUILTIN_PREFIXES`], for generators that run without `../shared/data`.
    pub fn builtin() -> Self {
        Self::from_prefixes(BUILTIN_PREFIXES.iter().filter_map(|p| p.parse().ok()))
    }

    fn from_prefixes(prefixes: impl Iterator<Item = IpNet>) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for p in prefixes {
            match p {
                IpNet::V4(n) => v4.push((u32::from(n.network()), 32 - u32::from(n.prefix_len()))),
                IpNet::V6(n) => v6.push((u128::from(n.network()), 128 - u32::from(n.prefix_len()))),
            }
        }
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        AzurePrefixes { v4, v6 }
    }

    /// Every prefix as (network, length) in one 128-bit space, IPv4 mapped into IPv6.
    pub fn prefixes(&self) -> impl Iterator<Item = (u128, u32)> + '_ {
        let v4 = self.v4.iter().map(|&(base, host_bits)| {
            (
                u128::from(Ipv4Addr::from(base).to_ipv6_mapped()),
                128 - host_bits,
            )
        });
        let v6 = self
            .v6
            .iter()
            .map(|&(base, host_bits)| (base, 128 - host_bits));
        v4.chain(v6)
    }

    fn v4(&self, rng: &mut Rng) -> Option<Ipv4Addr> {
        let &(base, host_bits) = self.v4.get(rng.below(self.v4.len() as u64) as usize)?;
        let host = rng.next_u64() as u32 & mask32(host_bits);
        Some(Ipv4Addr::from(base | host))
    }

    fn v6(&self, rng: &mut Rng) -> Option<Ipv6Addr> {
        let &(base, host_bits) = self.v6.get(rng.below(self.v6.len() as u64) as usize)?;
        let random = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Some(Ipv6Addr::from(base | (random & mask)))
    }
}

fn mask32(host_bits: u32) -> u32 {
    if host_bits >= 32 {
        u32::MAX
    } else {
        (1u32 << host_bits) - 1
    }
}

/// A population of callers.
#[derive(Debug, Clone)]
pub struct Callers {
    azure: AzurePrefixes,
    population: u64,
    seed: u64,
}

impl Callers {
    /// `population` callers (at least one) with Azure addresses from `azure`.
    pub fn new(azure: AzurePrefixes, population: u64, seed: u64) -> Self {
        Callers {
            azure,
            population: population.max(1),
            seed,
        }
    }

    /// The caller of the next request, picked with a strong skew towards the first of the
    /// population: its index and its address as logged (with a source port on some IPv4
    /// requests, as ACR logs them).
    pub fn draw(&self, rng: &mut Rng) -> (u64, Option<String>) {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let index = ((u * u * u) * self.population as f64) as u64;
        let ip = self.caller(index).map(|ip| {
            if !ip.contains(':') && rng.permille(300) {
                format!("{ip}:{}", 1024 + rng.below(60000))
            } else {
                ip
            }
        });
        (index, ip)
    }

    /// The `index`-th caller's address as logged.
    fn caller(&self, index: u64) -> Option<String> {
        let mut rng = Rng::new(self.seed ^ index.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let ip = match rng.below(1000) {
            0..300 => format!("10.0.{}.{}", 1 + rng.below(3), 4 + rng.below(250)),
            300..350 => format!(
                "10.{}.{}.{}",
                1 + rng.below(3),
                rng.below(256),
                1 + rng.below(254)
            ),
            350..600 => self.azure.v4(&mut rng)?.to_string(),
            600..640 => {
                let third = if rng.permille(500) {
                    "203.0.113"
                } else {
                    "198.51.100"
                };
                format!("{third}.{}", 1 + rng.below(254))
            }
            640..900 => format!(
                "{}.{}.{}.{}",
                1 + rng.below(222),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            ),
            900..940 => self.azure.v6(&mut rng)?.to_string(),
            940..970 => format!(
                "2001:db8:{:x}::{:x}",
                rng.below(0xffff),
                1 + rng.below(0xffff)
            ),
            970..990 => return None,
            _ => "<nil>".to_owned(),
        };
        Some(ip)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn azure_callers_fall_in_their_prefixes() {
        let azure = AzurePrefixes::builtin();
        let prefixes: Vec<IpNet> = BUILTIN_PREFIXES
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let v4 = std::net::IpAddr::V4(azure.v4(&mut rng).unwrap());
            let v6 = std::net::IpAddr::V6(azure.v6(&mut rng).unwrap());
            assert!(prefixes.iter().any(|p| p.contains(&v4)), "{v4}");
            assert!(prefixes.iter().any(|p| p.contains(&v6)), "{v6}");
        }
    }

    #[test]
    fn callers_repeat_and_are_stable() {
        let callers = Callers::new(AzurePrefixes::builtin(), 100, 9);
        let mut rng = Rng::new(1);
        let drawn: Vec<Option<String>> = (0..10_000).map(|_| callers.draw(&mut rng).1).collect();
        let distinct: std::collections::HashSet<String> = drawn
            .iter()
            .flatten()
            .map(|ip| match ip.split_once(':') {
                Some((v4, port)) if !port.contains(':') => v4.to_owned(),
                _ => ip.clone(),
            })
            .collect();
        assert!(distinct.len() <= 100, "{} distinct callers", distinct.len());
        assert!(distinct.len() > 20, "{} distinct callers", distinct.len());
        assert_eq!(callers.caller(7), callers.caller(7));
    }
}
