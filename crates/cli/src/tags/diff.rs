//! `acrlens tags diff`: what changed in each tag between two snapshots, and, for a registry
//! whose IP rules were copied from a tag, which rules left it and which new prefixes they miss.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use acrlens_netmap::ServiceTagSnapshot;
use acrlens_netmap::cidr::{address_count, exact_cover};
use anyhow::{Context, Result};
use clap::Args;
use ipnet::{IpNet, Ipv4Net};
use serde::Serialize;

use super::{SnapshotArgs, TextOrJson, ipv4};

#[derive(Args)]
pub struct DiffArgs {
    /// The older snapshot: a change number or a file (default: the second newest).
    #[arg(long, value_name = "CHANGE|FILE")]
    from: Option<String>,
    /// The newer snapshot: a change number or a file (default: the newest).
    #[arg(long, value_name = "CHANGE|FILE")]
    to: Option<String>,
    /// Only tags whose name matches this pattern (`AzureContainerRegistry*`), without case.
    #[arg(long, value_name = "GLOB")]
    tag: Option<String>,
    /// A registry (login server or name) whose IP rules to check against the tags they came from.
    #[arg(long)]
    registry: Option<String>,
    #[command(flatten)]
    snapshots: SnapshotArgs,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: TextOrJson,
}

#[derive(Serialize)]
struct Side {
    change_number: u64,
    source: String,
}

#[derive(Serialize, Default)]
struct TagChange {
    name: String,
    /// `added` or `removed` when the whole tag is new or gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'static str>,
    ipv4_added: Vec<String>,
    ipv4_removed: Vec<String>,
    ipv6_added: Vec<String>,
    ipv6_removed: Vec<String>,
}

#[derive(Serialize)]
struct RuleCheck {
    tag: String,
    /// The registry's rules copied from this tag (inside its older prefixes, and in no more
    /// specific tag).
    copied: Vec<String>,
    /// Of those, the rules the newer tag no longer holds.
    left_the_tag: Vec<String>,
    /// The newer tag's prefixes the rules do not cover.
    missing: Vec<String>,
}

#[derive(Serialize)]
struct Diff {
    from: Side,
    to: Side,
    tags: Vec<TagChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<RuleCheck>,
}

fn prefixes(snapshot: &ServiceTagSnapshot, name: &str) -> BTreeSet<IpNet> {
    snapshot
        .tag(name)
        .map(|t| t.prefixes.iter().map(IpNet::trunc).collect())
        .unwrap_or_default()
}

fn listed(set: impl Iterator<Item = IpNet>, v6: bool) -> Vec<String> {
    set.filter(|p| matches!(p, IpNet::V6(_)) == v6)
        .map(|p| p.to_string())
        .collect()
}

fn change(from: &ServiceTagSnapshot, to: &ServiceTagSnapshot, name: &str) -> TagChange {
    let (old, new) = (prefixes(from, name), prefixes(to, name));
    let added = || new.difference(&old).copied();
    let removed = || old.difference(&new).copied();
    TagChange {
        name: name.to_owned(),
        tag: match (from.tag(name), to.tag(name)) {
            (None, Some(_)) => Some("added"),
            (Some(_), None) => Some("removed"),
            _ => None,
        },
        ipv4_added: listed(added(), false),
        ipv4_removed: listed(removed(), false),
        ipv6_added: listed(added(), true),
        ipv6_removed: listed(removed(), true),
    }
}

fn v4(set: &BTreeSet<IpNet>) -> Vec<Ipv4Net> {
    ipv4(set)
}

/// Whether every address of `inner` is in `set`.
fn within(inner: &[Ipv4Net], set: &[Ipv4Net]) -> bool {
    address_count(&exact_cover(&[set, inner].concat())) == address_count(set)
}

/// The tag a rule was most likely copied from: of the tags whose older prefixes hold it, the
/// most specific (a regional service tag before its global one before `AzureCloud`), then the
/// smallest.
fn source_tag<'s>(rule: Ipv4Net, from: &ServiceTagSnapshot, names: &[&'s str]) -> Option<&'s str> {
    names
        .iter()
        .filter_map(|&n| {
            let tag = from.tag(n)?;
            let old = v4(&prefixes(from, n));
            within(&[rule], &old).then(|| (n, tag.specificity(), address_count(&old)))
        })
        .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|(n, _, _)| n)
}

fn check(
    rules: &[Ipv4Net],
    from: &ServiceTagSnapshot,
    to: &ServiceTagSnapshot,
    names: &[&str],
) -> Vec<RuleCheck> {
    let text = |l: Vec<Ipv4Net>| l.iter().map(ToString::to_string).collect();
    names
        .iter()
        .filter_map(|&name| {
            let copied: Vec<Ipv4Net> = rules
                .iter()
                .copied()
                .filter(|&r| source_tag(r, from, names) == Some(name))
                .collect();
            if copied.is_empty() {
                return None;
            }
            let new = v4(&prefixes(to, name));
            Some(RuleCheck {
                tag: name.to_owned(),
                left_the_tag: text(
                    copied
                        .iter()
                        .copied()
                        .filter(|r| !within(&[*r], &new))
                        .collect(),
                ),
                missing: text(
                    new.iter()
                        .copied()
                        .filter(|p| !within(&[*p], rules))
                        .collect(),
                ),
                copied: text(copied),
            })
        })
        .collect()
}

pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    let snapshots = args.snapshots.load()?;
    let newest = snapshots.all.len() - 1;
    let pick = |named: &Option<String>, default: usize| match named {
        Some(name) => snapshots.named(name),
        None => Ok(snapshots.all[default].clone()),
    };
    let to = pick(&args.to, newest)?;
    let from = pick(&args.from, newest.saturating_sub(1))?;
    let pattern = args
        .tag
        .as_deref()
        .map(glob::Pattern::new)
        .transpose()
        .context("--tag is not a pattern")?;
    let options = glob::MatchOptions {
        case_sensitive: false,
        ..glob::MatchOptions::default()
    };
    let names: BTreeSet<&str> = from
        .tags
        .iter()
        .chain(&to.tags)
        .map(|t| t.name.as_str())
        .filter(|n| pattern.as_ref().is_none_or(|p| p.matches_with(n, options)))
        .collect();
    let tags: Vec<TagChange> = names
        .iter()
        .map(|n| change(&from, &to, n))
        .filter(|c| {
            c.tag.is_some()
                || !(c.ipv4_added.is_empty()
                    && c.ipv4_removed.is_empty()
                    && c.ipv6_added.is_empty()
                    && c.ipv6_removed.is_empty())
        })
        .collect();
    let registry = args
        .registry
        .as_deref()
        .map(|r| snapshots.registry(r))
        .transpose()?;
    let rules = match &registry {
        Some(r) => {
            let names: Vec<&str> = names.iter().copied().collect();
            check(&ipv4(&r.ip_rules), &from, &to, &names)
        }
        None => Vec::new(),
    };
    let diff = Diff {
        from: Side {
            change_number: from.change_number,
            source: from.source.clone(),
        },
        to: Side {
            change_number: to.change_number,
            source: to.source.clone(),
        },
        tags,
        registry: registry.map(|r| r.name),
        rules,
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        TextOrJson::Json => writeln!(out, "{}", sonic_rs::to_string_pretty(&diff)?)?,
        TextOrJson::Text => print_text(&diff, &mut out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(diff: &Diff, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "service tags change {} ({}) -> {} ({}): {} tags changed",
        diff.from.change_number,
        diff.from.source,
        diff.to.change_number,
        diff.to.source,
        diff.tags.len()
    )?;
    for c in &diff.tags {
        let whole = c.tag.map(|t| format!(" (tag {t})")).unwrap_or_default();
        writeln!(
            out,
            "{}{whole}: IPv4 +{} -{}, IPv6 +{} -{}",
            c.name,
            c.ipv4_added.len(),
            c.ipv4_removed.len(),
            c.ipv6_added.len(),
            c.ipv6_removed.len()
        )?;
        for (sign, list) in [
            ('+', &c.ipv4_added),
            ('-', &c.ipv4_removed),
            ('+', &c.ipv6_added),
            ('-', &c.ipv6_removed),
        ] {
            for p in list {
                writeln!(out, "  {sign} {p}")?;
            }
        }
    }
    if let Some(registry) = &diff.registry {
        writeln!(out, "\nregistry {registry}:")?;
        if diff.rules.is_empty() {
            writeln!(out, "  no IP rule lies inside any of these tags")?;
        }
        for r in &diff.rules {
            writeln!(
                out,
                "  {} rules copied from {}: {} left the tag, {} new prefixes missing",
                r.copied.len(),
                r.tag,
                r.left_the_tag.len(),
                r.missing.len()
            )?;
            for p in &r.left_the_tag {
                writeln!(out, "    left the tag: {p}")?;
            }
            for p in &r.missing {
                writeln!(out, "    missing:      {p}")?;
            }
        }
    }
    Ok(())
}
