//! IP index lookups on the real service-tag file (change 375: 68,933 IPv4 and 24,429 IPv6
//! prefixes) plus 4,096 subnet prefixes: lookups/s per core returning the full fact set, and the
//! index's build time. Run with `cargo bench -p acrlens-bench --bench index`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

use acrlens_bench::generate::Rng;
use acrlens_netmap::{ServiceTagSnapshot, Subnet, Topology, TopologyParts, Vnet, parse_prefix};
use criterion::{Criterion, Throughput};

const LOOKUPS: usize = 1 << 16;

fn parts() -> TopologyParts {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ServiceTags_Public.json");
    let tags = ServiceTagSnapshot::load(&file, None)
        .expect("../shared/data/ServiceTags_Public.json beside the checkout");
    let subnets = (0..4096u32)
        .map(|i| Subnet {
            vnet: format!("vnet-{}", i / 256),
            name: format!("snet-{i}"),
            id: format!("/subnets/{i}"),
            prefixes: vec![
                parse_prefix(&format!("10.{}.{}.0/24", i / 256, i % 256)).expect("prefix"),
            ],
            delegations: Vec::new(),
        })
        .collect();
    let vnet = Vnet {
        name: "vnets".into(),
        id: "v".into(),
        address_space: Vec::new(),
        subnets,
        peerings: Vec::new(),
    };
    TopologyParts {
        service_tags: vec![tags],
        vnets: vec![vnet],
        ..TopologyParts::default()
    }
}

/// Addresses as logs hold them: half inside Azure prefixes, a quarter in subnets, the rest anywhere.
fn addresses(topology: &Topology, v6: bool) -> Vec<IpAddr> {
    let mut rng = Rng::new(7);
    let prefixes: Vec<ipnet::IpNet> = topology.service_tag_snapshots()[0]
        .tags
        .iter()
        .flat_map(|t| t.prefixes.iter().copied())
        .filter(|p| p.addr().is_ipv6() == v6)
        .collect();
    (0..LOOKUPS)
        .map(|i| match (v6, i % 4) {
            (false, 0 | 1) => {
                let p = prefixes[rng.below(prefixes.len() as u64) as usize];
                let IpAddr::V4(base) = p.network() else {
                    unreachable!()
                };
                let span = 1u64 << (32 - p.prefix_len());
                IpAddr::V4(Ipv4Addr::from(u32::from(base) + rng.below(span) as u32))
            }
            (false, 2) => IpAddr::V4(Ipv4Addr::new(
                10,
                rng.below(16) as u8,
                rng.below(256) as u8,
                rng.below(256) as u8,
            )),
            (false, _) => IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32)),
            (true, 0 | 1) => {
                let p = prefixes[rng.below(prefixes.len() as u64) as usize];
                let IpAddr::V6(base) = p.network() else {
                    unreachable!()
                };
                // A random host inside the prefix (at most 64 random low bits).
                let host_bits = 128 - u32::from(p.prefix_len());
                let random = u128::from(rng.next_u64());
                let offset = if host_bits >= 64 {
                    random
                } else {
                    random & ((1u128 << host_bits) - 1)
                };
                IpAddr::V6(Ipv6Addr::from(u128::from(base) + offset))
            }
            (true, _) => IpAddr::V6(Ipv6Addr::from(
                u128::from(rng.next_u64()) << 64 | 0x2000_0000_0000_0000u128 << 64,
            )),
        })
        .collect()
}

fn bench_index(c: &mut Criterion) {
    let topology = Topology::compile(parts());
    let index = &topology.indexes()[0];
    eprintln!(
        "index: {} IPv4 and {} IPv6 intervals, {} fact sets, {:.1} MiB",
        index.v4.len(),
        index.v6.len(),
        index.sets.len(),
        index.heap_bytes() as f64 / (1 << 20) as f64
    );
    let mut group = c.benchmark_group("index");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    for (name, v6) in [("ipv4_lookups", false), ("ipv6_lookups", true)] {
        let ips = addresses(&topology, v6);
        group.throughput(Throughput::Elements(ips.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                ips.iter()
                    .map(|&ip| topology.fact_ids(0, ip).len())
                    .sum::<usize>()
            })
        });
    }
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.bench_function("build_from_parsed_file", |b| {
        b.iter_batched(
            parts,
            |p| black_box(Topology::compile(p)),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_index(&mut criterion);
    criterion.final_summary();
}
