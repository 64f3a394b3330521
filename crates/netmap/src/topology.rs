//! Everything known about the network, compiled for lookups as of an event's time.

use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::ProjectFile;
use crate::error::TopologyError;
use crate::geo::{GeoDb, GeoFacts};
use crate::history::{HistoryReport, registry_history};
use crate::index::{CompiledIndex, FactId, IndexBuilder};
use crate::prefix::IpKey;
use crate::ranges::NamedRange;
use crate::registry::RegistryConfig;
use crate::scope::IpScope;
use crate::servicetags::{ServiceTag, ServiceTagSnapshot};
use crate::vnet::{PrivateEndpoint, Subnet, Vnet};

const KIND_SHIFT: u32 = 30;
const KIND_TAG: u32 = 0;
const KIND_SUBNET: u32 = 1;
const KIND_RANGE: u32 = 2;
const INDEX_MASK: u32 = (1 << KIND_SHIFT) - 1;

/// The inputs of a topology, before compiling.
#[derive(Debug, Default)]
pub struct TopologyParts {
    /// Service-tag snapshots.
    pub service_tags: Vec<ServiceTagSnapshot>,
    /// Registry configuration snapshots.
    pub registries: Vec<RegistryConfig>,
    /// VNets.
    pub vnets: Vec<Vnet>,
    /// Private endpoints.
    pub endpoints: Vec<PrivateEndpoint>,
    /// Named ranges.
    pub ranges: Vec<NamedRange>,
    /// MaxMind databases.
    pub geo: GeoDb,
    /// What the registry history held and could not use.
    pub history: HistoryReport,
}

/// The next [`Topology::id`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A compiled topology.
#[derive(Debug)]
pub struct Topology {
    service_tags: Vec<ServiceTagSnapshot>,
    /// One index per service-tag snapshot (or one without tags when there is none), each also
    /// holding every subnet and named range.
    indexes: Vec<CompiledIndex>,
    registries: Vec<RegistryConfig>,
    vnets: Vec<Vnet>,
    subnets: Vec<Subnet>,
    endpoints: Vec<PrivateEndpoint>,
    ranges: Vec<NamedRange>,
    geo: GeoDb,
    history: HistoryReport,
    /// Unique among the topologies of a process: what caches of lookups against it are tied to.
    id: u64,
}

/// Everything known about one address at one time.
#[derive(Debug, Clone)]
pub struct IpFacts<'t> {
    /// The address.
    pub ip: IpAddr,
    /// Its scope.
    pub scope: IpScope,
    /// The service-tag snapshot in force (none when no snapshot was supplied).
    pub snapshot: Option<&'t ServiceTagSnapshot>,
    /// Whether that snapshot took effect after the time asked about (no earlier one exists).
    pub snapshot_is_later: bool,
    /// Every matching service tag, most specific first.
    pub tags: Vec<&'t ServiceTag>,
    /// The subnet holding it (the most specific).
    pub subnet: Option<&'t Subnet>,
    /// The named range holding it (the most specific).
    pub range: Option<&'t NamedRange>,
    /// Country and AS.
    pub geo: GeoFacts,
}

impl IpFacts<'_> {
    /// Whether a service tag says Microsoft owns the address.
    pub fn is_azure(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The most specific tag.
    pub fn service_tag(&self) -> Option<&ServiceTag> {
        self.tags.first().copied()
    }

    /// The most specific tag of a system service (`AzureContainerRegistry.EastUS`), if any.
    pub fn service(&self) -> Option<&ServiceTag> {
        self.tags
            .iter()
            .copied()
            .find(|t| !t.system_service.is_empty())
    }
}

/// A registry's configuration at a time.
#[derive(Debug, Clone, Copy)]
pub enum ConfigAt<'t> {
    /// The latest snapshot at or before the time.
    InForce(&'t RegistryConfig),
    /// The history says a configuration took effect but not what it was
    /// ([`RegistryConfig::unknown`] says why).
    NotKnown(&'t RegistryConfig),
    /// The registry has snapshots, all later than the time.
    NotYet(&'t RegistryConfig),
    /// No snapshot of this registry was supplied.
    Unknown,
}

/// The configuration in force at a time in a timeline (oldest first): the latest snapshot at or
/// before it, else the earliest, flagged as not yet in force.
pub fn config_at<'t>(timeline: &[&'t RegistryConfig], at: i64) -> ConfigAt<'t> {
    config_in(timeline, in_force_index(timeline, at))
}

/// The configuration at a position [`in_force_index`] gave, for callers that keep the position
/// too: the snapshot at it, else the earliest, flagged as not yet in force.
pub fn config_in<'t>(timeline: &[&'t RegistryConfig], slot: Option<usize>) -> ConfigAt<'t> {
    match (slot.and_then(|i| timeline.get(i)), timeline.first()) {
        (Some(c), _) if c.unknown.is_some() => ConfigAt::NotKnown(c),
        (Some(c), _) => ConfigAt::InForce(c),
        (None, Some(first)) => ConfigAt::NotYet(first),
        (None, None) => ConfigAt::Unknown,
    }
}

/// The position in a timeline (oldest first) of the snapshot in force at a time, if one is.
pub fn in_force_index(timeline: &[&RegistryConfig], at: i64) -> Option<usize> {
    timeline
        .partition_point(|r| r.effective_from.is_none_or(|t| t <= at))
        .checked_sub(1)
}

impl Topology {
    /// Loads and compiles what `acrlens.toml` names.
    pub fn load(config: &Path) -> Result<Topology, TopologyError> {
        let project = ProjectFile::load(config)?;
        let mut parts = TopologyParts::default();
        for e in &project.service_tags {
            parts
                .service_tags
                .push(ServiceTagSnapshot::load(&e.path, e.effective_micros())?);
        }
        let mut snapshots = Vec::new();
        for e in &project.registry {
            snapshots.extend(RegistryConfig::load(&e.path, e.effective_micros())?);
        }
        let patterns: Vec<_> = project
            .registry_history
            .iter()
            .map(|e| e.path.clone())
            .collect();
        (parts.registries, parts.history) = registry_history(snapshots, &patterns)?;
        for e in &project.vnets {
            parts.vnets.extend(Vnet::load(&e.path)?);
        }
        for e in &project.private_endpoints {
            parts.endpoints.extend(PrivateEndpoint::load(&e.path)?);
        }
        for e in &project.ranges {
            parts.ranges.extend(NamedRange::load(&e.path)?);
        }
        parts.geo = GeoDb::open(project.geoip.city.as_deref(), project.geoip.asn.as_deref())?;
        Ok(Topology::compile(parts))
    }

    /// The topology of nothing, compiled once and shared by every batch that reads no
    /// attribution column: its indexes hold a quarter MiB of buckets per family, too much to lay
    /// out for each.
    pub fn empty() -> &'static Topology {
        static EMPTY: OnceLock<Topology> = OnceLock::new();
        EMPTY.get_or_init(|| Topology::compile(TopologyParts::default()))
    }

    /// Compiles parts into lookup indexes.
    pub fn compile(mut parts: TopologyParts) -> Topology {
        parts
            .service_tags
            .sort_by_key(|s| s.effective_from.unwrap_or(i64::MIN));
        let subnets: Vec<Subnet> = parts
            .vnets
            .iter()
            .flat_map(|v| v.subnets.iter().cloned())
            .collect();
        let build = |snapshot: Option<&ServiceTagSnapshot>| {
            let mut b = IndexBuilder::default();
            for (i, tag) in snapshot
                .map(|s| s.tags.as_slice())
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let fact = (KIND_TAG << KIND_SHIFT) | i as u32;
                for net in &tag.prefixes {
                    b.add(
                        net,
                        fact,
                        u32::from(tag.specificity()) * 256 + u32::from(net.prefix_len()),
                    );
                }
            }
            for (i, subnet) in subnets.iter().enumerate() {
                for net in &subnet.prefixes {
                    b.add(
                        net,
                        (KIND_SUBNET << KIND_SHIFT) | i as u32,
                        4096 + u32::from(net.prefix_len()),
                    );
                }
            }
            for (i, range) in parts.ranges.iter().enumerate() {
                b.add(
                    &range.prefix,
                    (KIND_RANGE << KIND_SHIFT) | i as u32,
                    8192 + u32::from(range.prefix.prefix_len()),
                );
            }
            b.build()
        };
        let indexes = if parts.service_tags.is_empty() {
            vec![build(None)]
        } else {
            parts.service_tags.iter().map(|s| build(Some(s))).collect()
        };
        Topology {
            service_tags: parts.service_tags,
            indexes,
            registries: parts.registries,
            vnets: parts.vnets,
            subnets,
            endpoints: parts.endpoints,
            ranges: parts.ranges,
            geo: parts.geo,
            history: parts.history,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Service-tag snapshots, oldest first.
    pub fn service_tag_snapshots(&self) -> &[ServiceTagSnapshot] {
        &self.service_tags
    }

    /// Registry configuration snapshots.
    pub fn registries(&self) -> &[RegistryConfig] {
        &self.registries
    }

    /// What the registry history held and could not use.
    pub fn history(&self) -> &HistoryReport {
        &self.history
    }

    /// Subnets of every VNet.
    pub fn subnets(&self) -> &[Subnet] {
        &self.subnets
    }

    /// The VNets.
    pub fn vnets(&self) -> &[Vnet] {
        &self.vnets
    }

    /// A number no other topology of this process has (not even one compiled later at the same
    /// address): caches of lookups against a topology key on it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The private endpoints.
    pub fn endpoints(&self) -> &[PrivateEndpoint] {
        &self.endpoints
    }

    /// The compiled indexes, one per service-tag snapshot (for benchmarks and sizing).
    pub fn indexes(&self) -> &[CompiledIndex] {
        &self.indexes
    }

    /// Which snapshot (index) is in force at a time, and whether it took effect only after
    /// that time (when no earlier one exists, the earliest is used).
    pub fn snapshot_at(&self, at: i64) -> (usize, bool) {
        let in_force = self
            .service_tags
            .partition_point(|s| s.effective_from.is_none_or(|t| t <= at));
        match in_force {
            0 => (0, !self.service_tags.is_empty()),
            n => (n - 1, false),
        }
    }

    /// The raw fact ids of an address in one snapshot's index.
    #[inline]
    pub fn fact_ids(&self, snapshot: usize, ip: IpAddr) -> &[FactId] {
        self.indexes[snapshot.min(self.indexes.len() - 1)].lookup(IpKey::from(ip))
    }

    /// Everything known about an address at a time.
    pub fn facts(&self, ip: IpAddr, at: i64) -> IpFacts<'_> {
        let ip = ip.to_canonical();
        let (snapshot, later) = self.snapshot_at(at);
        let tags_snapshot = self.service_tags.get(snapshot);
        let mut facts = IpFacts {
            ip,
            scope: IpScope::of(ip),
            snapshot: tags_snapshot,
            snapshot_is_later: later,
            tags: Vec::new(),
            subnet: None,
            range: None,
            geo: self.geo.lookup(ip),
        };
        for &fact in self.fact_ids(snapshot, ip) {
            let i = (fact & INDEX_MASK) as usize;
            match fact >> KIND_SHIFT {
                KIND_TAG => facts.tags.extend(tags_snapshot.map(|s| &s.tags[i])),
                KIND_SUBNET if facts.subnet.is_none() => facts.subnet = Some(&self.subnets[i]),
                KIND_RANGE if facts.range.is_none() => facts.range = Some(&self.ranges[i]),
                _ => {}
            }
        }
        facts
    }

    /// A registry's configuration snapshots, by login server or resource id (any case), oldest
    /// first: resolve a time against it with [`config_at`].
    pub fn registry_timeline(&self, registry: &str) -> Vec<&RegistryConfig> {
        let key = registry.to_ascii_lowercase();
        let mut timeline: Vec<&RegistryConfig> = self
            .registries
            .iter()
            .filter(|r| {
                r.login_server == key || (!r.resource_id.is_empty() && r.resource_id == key)
            })
            .collect();
        timeline.sort_by_key(|r| r.effective_from.unwrap_or(i64::MIN));
        timeline
    }

    /// A registry's configuration at a time.
    pub fn registry_at(&self, registry: &str, at: i64) -> ConfigAt<'_> {
        config_at(&self.registry_timeline(registry), at)
    }

    /// The VNets a subnet's traffic reaches: the subnet's own and every VNet peered with it
    /// (a peering listed on either side). Empty when no loaded VNet holds the subnet.
    pub fn vnets_reached_from(&self, subnet_id: &str) -> Vec<&Vnet> {
        let Some(home) = self
            .vnets
            .iter()
            .find(|v| v.subnets.iter().any(|s| s.id == subnet_id))
        else {
            return Vec::new();
        };
        self.vnets
            .iter()
            .filter(|o| {
                o.id == home.id || home.peerings.contains(&o.id) || o.peerings.contains(&home.id)
            })
            .collect()
    }

    /// The private endpoint that connects a registry to a subnet's VNet (or a VNet peered with
    /// it), if the topology holds one.
    pub fn endpoint_for(
        &self,
        subnet: &Subnet,
        registry: &RegistryConfig,
    ) -> Option<&PrivateEndpoint> {
        let reached = self.vnets_reached_from(&subnet.id);
        let reachable = |subnet_id: &str| {
            reached
                .iter()
                .any(|v| v.subnets.iter().any(|s| s.id == subnet_id))
        };
        let targets_registry = |pe: &&PrivateEndpoint| {
            pe.targets.contains(&registry.resource_id)
                || registry.private_endpoints.contains(&pe.id)
        };
        self.endpoints
            .iter()
            .filter(targets_registry)
            .find(|pe| reachable(&pe.subnet_id))
    }
}
