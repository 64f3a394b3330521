//! acrlens-netmap: what is known about the network a registry is reached through.
//!
//! Loads the topology users actually have — Azure service-tag files, `az acr show` registry
//! configurations, `az network vnet list` and `private-endpoint list` output, named ranges and
//! MaxMind databases — and compiles every prefix into one disjoint-interval index per
//! service-tag snapshot, so that "what is this address, as of this time?" is one lookup.
//!
//! ```
//! use acrlens_netmap::{IndexBuilder, IpKey, parse_prefix};
//!
//! let mut builder = IndexBuilder::default();
//! builder.add(&parse_prefix("20.42.66.0/23").unwrap(), 1, 10); // a global tag
//! builder.add(&parse_prefix("20.42.66.0/24").unwrap(), 2, 20); // its regional tag
//! let index = builder.build();
//! let ip: std::net::IpAddr = "20.42.66.17".parse().unwrap();
//! assert_eq!(index.lookup(IpKey::from(ip)), [2, 1]); // most specific first
//! ```

pub mod cidr;
mod config;
mod error;
mod fingerprint;
mod geo;
mod history;
mod index;
mod json;
mod lazy;
mod prefix;
mod proposal;
mod ranges;
mod registry;
mod scope;
mod servicetags;
mod settings;
mod timeline;
mod topology;
mod vnet;

pub use config::{Entry, GeoEntry, HistoryEntry, ProjectFile};
pub use error::TopologyError;
pub use fingerprint::{EMPTY as EMPTY_FINGERPRINT, fingerprint};
pub use geo::{GeoDb, GeoFacts};
pub use history::{HistoryReport, Problem, registry_history};
pub use index::{CompiledIndex, FactId, FactSets, IndexBuilder, IntervalIndex, Key};
pub use lazy::{LazyTopology, LoadError};
pub use prefix::{IpKey, parse_prefix};
pub use proposal::{Change, KEYS, MAX_IP_RULES, Proposal, ProposalError};
pub use ranges::NamedRange;
pub use registry::{RegistryConfig, login_server};
pub use scope::{CallerScope, IpScope};
pub use servicetags::{ServiceTag, ServiceTagSnapshot};
pub use settings::{SETTING_NAMES, Settings};
pub use timeline::{Changed, Period, RegistryTimeline, configurations, timelines};
pub use topology::{
    ConfigAt, IpFacts, Topology, TopologyParts, config_at, config_in, in_force_index,
};
pub use vnet::{PrivateEndpoint, Subnet, Vnet};
