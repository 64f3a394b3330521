//! `acrlens tags rules`: the IPv4 rule list that lets one or more service tags through a
//! registry's firewall — exact when it fits the rule limit, otherwise the list that lets in the
//! fewest other addresses — and, for a registry, what to add and remove.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use acrlens_netmap::cidr::{address_count, exact_cover, fit};
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use ipnet::Ipv4Net;
use serde::Serialize;

use super::{SnapshotArgs, Snapshots, ipv4};

/// IP rules a registry may hold (100 before 2026-01).
pub const RULE_LIMIT: usize = 200;

#[derive(Args)]
pub struct RulesArgs {
    /// Service tags, merged (`AzureContainerRegistry.EastUS`); names are matched without case.
    #[arg(required = true)]
    tags: Vec<String>,
    /// At most this many rules, at least 1 (default: the limit, 200, less the registry's rules
    /// that stay).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max: Option<u32>,
    /// The registry (login server or name) whose current rules to change.
    #[arg(long)]
    registry: Option<String>,
    #[command(flatten)]
    snapshots: SnapshotArgs,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    /// One CIDR a line (a summary on stderr).
    Text,
    /// The list with its counts.
    Json,
    /// `az acr network-rule` commands.
    Az,
    /// A `networkRuleSet.ipRules` array for an ARM template or `az resource update`.
    Arm,
}

#[derive(Serialize)]
struct RuleList {
    tags: Vec<String>,
    change_number: u64,
    source: String,
    rules: Vec<String>,
    exact: bool,
    extra_addresses: u64,
    tag_addresses: u64,
    max: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    /// The registry's rules outside the tags, kept as they are.
    keep: Vec<String>,
    add: Vec<String>,
    remove: Vec<String>,
    /// Rules added plus rules removed.
    change: usize,
}

/// `networkRuleSet.ipRules` as ARM writes it.
#[derive(Serialize)]
struct NetworkRules<'a> {
    #[serde(rename = "ipRules")]
    ip_rules: Vec<IpRule<'a>>,
}

#[derive(Serialize)]
struct IpRule<'a> {
    action: &'static str,
    value: &'a str,
}

fn texts(list: &[Ipv4Net]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

fn plan(args: &RulesArgs, snapshots: &Snapshots) -> Result<RuleList> {
    let snapshot = snapshots.newest();
    let mut names = Vec::new();
    let mut set = Vec::new();
    for wanted in &args.tags {
        let Some(tag) = snapshot
            .tags
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(wanted))
        else {
            bail!(
                "service tags change {} ({}) has no tag {wanted:?}",
                snapshot.change_number,
                snapshot.source
            );
        };
        names.push(tag.name.clone());
        set.extend(ipv4(&tag.prefixes));
    }
    let tag_addresses = address_count(&set);
    let registry = args
        .registry
        .as_deref()
        .map(|r| snapshots.registry(r))
        .transpose()?;
    let current = registry
        .as_ref()
        .map(|r| ipv4(&r.ip_rules))
        .unwrap_or_default();
    // A rule all of whose addresses are the tags' is one of theirs, to be replaced; the others
    // (the team's own addresses) stay and count against the limit.
    let (ours, keep): (Vec<Ipv4Net>, Vec<Ipv4Net>) = current.iter().partition(|r| {
        address_count(&exact_cover(&[set.as_slice(), &[**r]].concat())) == tag_addresses
    });
    let max = args
        .max
        .map_or(RULE_LIMIT.saturating_sub(keep.len()), |m| m as usize);
    let result = fit(&set, max);
    // Rules that already allow exactly these addresses need no change, however they are cut.
    let same = exact_cover(&ours) == exact_cover(&result.rules);
    // In address order, as the rules are.
    let missing_from = |list: &[Ipv4Net], other: &[Ipv4Net]| -> Vec<String> {
        let other: BTreeSet<&Ipv4Net> = other.iter().collect();
        let mut out: Vec<Ipv4Net> = list
            .iter()
            .filter(|r| !other.contains(r))
            .copied()
            .collect();
        out.sort_unstable();
        texts(&out)
    };
    let (add, remove) = match same {
        true => (Vec::new(), Vec::new()),
        false => (
            missing_from(&result.rules, &ours),
            missing_from(&ours, &result.rules),
        ),
    };
    Ok(RuleList {
        tags: names,
        change_number: snapshot.change_number,
        source: snapshot.source.clone(),
        rules: texts(&result.rules),
        exact: result.exact,
        extra_addresses: result.extra_addresses,
        tag_addresses,
        max,
        registry: registry.map(|r| r.name),
        keep: texts(&keep),
        change: add.len() + remove.len(),
        add,
        remove,
    })
}

pub fn run(args: &RulesArgs) -> Result<ExitCode> {
    let snapshots = args.snapshots.load()?;
    let list = plan(args, &snapshots)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        RulesFormat::Text => {
            for rule in &list.rules {
                writeln!(out, "{rule}")?;
            }
            eprintln!("{}", summary(&list));
        }
        RulesFormat::Json => writeln!(out, "{}", sonic_rs::to_string_pretty(&list)?)?,
        RulesFormat::Az => {
            writeln!(out, "# {}", summary(&list))?;
            let name = list.registry.as_deref().unwrap_or("\"$REGISTRY\"");
            let (remove, add) = match list.registry {
                Some(_) => (list.remove.as_slice(), list.add.as_slice()),
                None => (&[][..], list.rules.as_slice()),
            };
            for rule in remove {
                writeln!(
                    out,
                    "az acr network-rule remove --name {name} --ip-address {rule}"
                )?;
            }
            for rule in add {
                writeln!(
                    out,
                    "az acr network-rule add --name {name} --ip-address {rule}"
                )?;
            }
        }
        RulesFormat::Arm => {
            let ip_rules = list
                .keep
                .iter()
                .chain(&list.rules)
                .map(|cidr| IpRule {
                    action: "Allow",
                    value: cidr,
                })
                .collect();
            let set = NetworkRules { ip_rules };
            writeln!(out, "{}", sonic_rs::to_string_pretty(&set)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line on what the list is.
fn summary(list: &RuleList) -> String {
    let fit = if list.exact {
        "exactly the tags' addresses".to_owned()
    } else {
        format!(
            "the tags' addresses and {} others (the exact list needs more than {} rules)",
            list.extra_addresses, list.max
        )
    };
    let mut line = format!(
        "{} rules for {} (service tags change {}, {} IPv4 addresses): {fit}",
        list.rules.len(),
        list.tags.join(" + "),
        list.change_number,
        list.tag_addresses
    );
    if let Some(registry) = &list.registry {
        line.push_str(&format!(
            "; registry {registry}: keep {}, add {}, remove {}",
            list.keep.len(),
            list.add.len(),
            list.remove.len()
        ));
    }
    line
}
