//! `acrlens tags`: the service tags behind a firewall change — which tags hold an address, what
//! changed between two weekly files, and the IP-rule list that lets a tag in.

mod diff;
mod lookup;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use acrlens_netmap::{RegistryConfig, ServiceTagSnapshot, Topology, login_server};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use ipnet::{IpNet, Ipv4Net};

use crate::topology::TopologyArgs;

#[derive(Args)]
pub struct TagsArgs {
    #[command(subcommand)]
    command: TagsCommand,
}

#[derive(Subcommand)]
enum TagsCommand {
    /// Every tag holding an address, in every snapshot (or the one in force at --at), most
    /// specific first, with the prefix that matched.
    Lookup(lookup::LookupArgs),
    /// Prefixes added and removed per tag between two snapshots (default: the two newest).
    Diff(diff::DiffArgs),
    /// The fewest IPv4 rules that let one or more tags in, within the registry's rule limit.
    Rules(rules::RulesArgs),
}

/// Text for people, JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    /// Lines to read.
    Text,
    /// One JSON document.
    Json,
}

/// Where the snapshots come from: the project's topology and service-tag files named directly.
#[derive(Args, Debug, Clone)]
pub struct SnapshotArgs {
    #[command(flatten)]
    topology: TopologyArgs,
    /// A service-tag file (the weekly download or `az network list-service-tags` output), in
    /// addition to the topology's; repeat for more.
    #[arg(long, value_name = "FILE")]
    service_tags: Vec<PathBuf>,
}

/// The loaded topology and every snapshot, oldest change first.
pub struct Snapshots {
    pub topology: Topology,
    pub all: Vec<ServiceTagSnapshot>,
}

impl SnapshotArgs {
    fn load(&self) -> Result<Snapshots> {
        let topology = self.topology.load()?;
        let mut all = topology.service_tag_snapshots().to_vec();
        for path in &self.service_tags {
            all.push(
                ServiceTagSnapshot::load(path, None)
                    .with_context(|| format!("loading {}", path.display()))?,
            );
        }
        if all.is_empty() {
            bail!("no service-tag snapshot: name one with --service-tags FILE or in --config");
        }
        all.sort_by_key(|s| (s.change_number, s.effective_from));
        Ok(Snapshots { topology, all })
    }
}

impl Snapshots {
    /// The snapshot a `--from`/`--to` value names: a change number or a file.
    fn named(&self, name: &str) -> Result<ServiceTagSnapshot> {
        if let Ok(change) = name.parse::<u64>() {
            return match self.all.iter().rev().find(|s| s.change_number == change) {
                Some(s) => Ok(s.clone()),
                None => bail!(
                    "no service-tag snapshot has change number {change} (known: {})",
                    self.changes()
                ),
            };
        }
        ServiceTagSnapshot::load(name.as_ref(), None).with_context(|| format!("loading {name}"))
    }

    fn changes(&self) -> String {
        let list: Vec<String> = self
            .all
            .iter()
            .map(|s| s.change_number.to_string())
            .collect();
        list.join(", ")
    }

    fn newest(&self) -> &ServiceTagSnapshot {
        &self.all[self.all.len() - 1]
    }

    /// The latest configuration of a registry, by login server or name.
    fn registry(&self, name: &str) -> Result<RegistryConfig> {
        match self.topology.registry_timeline(&login_server(name)).last() {
            Some(config) => match &config.unknown {
                Some(why) => {
                    bail!("the latest configuration of registry {name} is not known: {why}")
                }
                None => Ok((*config).clone()),
            },
            None => bail!("the topology holds no configuration of registry {name}"),
        }
    }
}

/// The IPv4 prefixes of a list (registry IP rules are IPv4 only), without host bits.
pub fn ipv4<'a>(prefixes: impl IntoIterator<Item = &'a IpNet>) -> Vec<Ipv4Net> {
    prefixes
        .into_iter()
        .filter_map(|p| match p {
            IpNet::V4(v) => Some(v.trunc()),
            IpNet::V6(_) => None,
        })
        .collect()
}

pub fn run(args: &TagsArgs) -> Result<ExitCode> {
    match &args.command {
        TagsCommand::Lookup(a) => lookup::run(a),
        TagsCommand::Diff(a) => diff::run(a),
        TagsCommand::Rules(a) => rules::run(a),
    }
}
