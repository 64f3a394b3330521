//! The `--config` option every verb shares: which `acrlens.toml` names the topology.

use std::path::{Path, PathBuf};

use acrlens_netmap::{LazyTopology, Topology, TopologyParts};
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
    /// The project file: `--config`, else `acrlens.toml` here if there is one.
    pub fn path(&self) -> Option<PathBuf> {
        let default = Path::new("acrlens.toml");
        match &self.config {
            Some(path) => Some(path.clone()),
            None if default.exists() => Some(default.to_path_buf()),
            None => None,
        }
    }

    /// Loads and compiles the topology, saying on stderr when its registry history had
    /// problems (the verdicts of the periods they touch say "not known").
    pub fn load(&self) -> Result<Topology> {
        let topology = self.load_silently()?;
        self.warn_of_history(&topology);
        Ok(topology)
    }

    /// Says on stderr when the registry history of `topology` (loaded from this project file)
    /// had problems.
    pub fn warn_of_history(&self, topology: &Topology) {
        let warnings = topology.history().warnings.len();
        if let (true, Some(path)) = (warnings > 0, self.path()) {
            eprintln!(
                "warning: the registry history has {warnings} problem(s); `acrlens topology --config {}` lists them",
                path.display()
            );
        }
    }

    /// Loads and compiles the topology, leaving its history's problems to the caller.
    pub fn load_silently(&self) -> Result<Topology> {
        let Some(path) = self.path() else {
            return Ok(Topology::compile(TopologyParts::default()));
        };
        Topology::load(&path)
            .with_context(|| format!("loading the topology named by {}", path.display()))
    }

    /// The topology, loaded when a query first needs it.
    pub fn lazy(&self) -> LazyTopology {
        LazyTopology::from_file(self.path())
    }
}
