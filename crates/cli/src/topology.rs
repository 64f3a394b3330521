//! The `--config` option every verb shares: which `acrlens.toml` names the topology.

use std::path::{Path, PathBuf};

use acrlens_netmap::{Topology, TopologyParts};
use anyhow::{Context, Result};
use clap::Args;

/// Where the topology comes from.
#[derive(Args, Debug, Clone)]
pub struct TopologyArgs {
    /// The project file naming the topology (service tags, registries, VNets, private endpoints,
    /// ranges, GeoIP). Default: `acrlens.toml` in the current folder, if there is one; without
    /// any, verdicts say the configuration was not supplied.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl TopologyArgs {
    /// Loads and compiles the topology.
    pub fn load(&self) -> Result<Topology> {
        let default = Path::new("acrlens.toml");
        let path = match &self.config {
            Some(path) => path.as_path(),
            None if default.exists() => default,
            None => return Ok(Topology::compile(TopologyParts::default())),
        };
        Topology::load(path)
            .with_context(|| format!("loading the topology named by {}", path.display()))
    }
}
