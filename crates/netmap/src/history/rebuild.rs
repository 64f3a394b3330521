//! Rebuilding each registry's configurations from its changes and snapshots.
//!
//! The changes, in time order, cut time into periods. Each period's settings are worked out twice:
//! forward from the earliest known configuration (applying what each change set), and backward
//! from the latest (undoing each change with the previous values Resource Graph kept). A setting
//! either pass knows is known; one they disagree on, or neither knows, is not, and the period
//! is then marked unknown rather than guessed.

use std::collections::BTreeMap;

use acrlens_values::format_timestamp_micros;
use ipnet::IpNet;

use crate::history::{Change, HistoryReport, Problem, Step};
use crate::registry::RegistryConfig;
use crate::settings::Settings;

/// The registries' timelines: snapshots of registries without history as they are, the others
/// rebuilt from their changes (an undated snapshot of a registry with history is its
/// configuration after the last change: `az acr show` prints today's).
pub(crate) fn rebuild(
    snapshots: Vec<RegistryConfig>,
    changes: Vec<Change>,
    report: &mut HistoryReport,
) -> Vec<RegistryConfig> {
    let mut by_registry: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for change in changes {
        by_registry
            .entry(change.registry.clone())
            .or_default()
            .push(change);
    }
    let (mut out, mut with_history): (Vec<RegistryConfig>, BTreeMap<String, Vec<RegistryConfig>>) =
        (Vec::new(), BTreeMap::new());
    for snapshot in snapshots {
        if by_registry.contains_key(&snapshot.resource_id) {
            with_history
                .entry(snapshot.resource_id.clone())
                .or_default()
                .push(snapshot);
        } else {
            out.push(snapshot);
        }
    }
    for (registry, changes) in by_registry {
        let snapshots = with_history.remove(&registry).unwrap_or_default();
        out.extend(timeline(&registry, changes, snapshots, report));
    }
    out
}

/// One registry's configurations, oldest first.
fn timeline(
    registry: &str,
    mut changes: Vec<Change>,
    snapshots: Vec<RegistryConfig>,
    report: &mut HistoryReport,
) -> Vec<RegistryConfig> {
    let latest = undated(registry, snapshots, &mut changes, report);
    changes.sort_by_key(|c| c.time);
    let template = template(registry, latest.as_ref(), &changes);
    let passes = Passes::run(&changes, latest.as_ref());
    let mut out: Vec<RegistryConfig> = Vec::new();
    // The last change that could not be applied, while no whole configuration followed it.
    let mut unusable_since: Option<&Change> = None;
    for k in 0..=changes.len() {
        let (settings, clash) = passes.period(k);
        let started_by = k.checked_sub(1).map(|i| &changes[i]);
        let mut config = template.clone();
        provenance(&mut config, &changes, k, settings.is_complete(), out.last());
        config.set(&settings);
        config.unknown = unknown_reason(&settings, &clash, started_by, changes.get(k)).map(|why| {
            match unusable_since {
                Some(c) => format!(
                    "{why}, since {} ({})",
                    c.unusable.as_deref().unwrap_or_default(),
                    label(c)
                ),
                None => why,
            }
        });
        if let Some(change) = started_by {
            if change.unusable.is_some() {
                unusable_since = Some(change);
            } else if change.forward.set.is_complete() {
                unusable_since = None;
            }
        }
        if let (Some(why), false) = (&config.unknown, out.is_empty()) {
            let until = changes.get(k).map(|c| c.time);
            report.warnings.push(Problem {
                file: config.source.clone(),
                at: config.origin.clone().unwrap_or_default(),
                message: format!(
                    "configuration of {} not known {}: {why}",
                    config.login_server,
                    period(config.effective_from, until)
                ),
            });
        }
        push(&mut out, config);
    }
    out
}

/// Takes the dated snapshots among `snapshots` as changes at their time, and returns the
/// undated one: the configuration after the last change (the last listed, with a warning when
/// several differ).
fn undated(
    registry: &str,
    snapshots: Vec<RegistryConfig>,
    changes: &mut Vec<Change>,
    report: &mut HistoryReport,
) -> Option<RegistryConfig> {
    let mut latest: Option<RegistryConfig> = None;
    for snapshot in snapshots {
        let Some(time) = snapshot.effective_from else {
            if let Some(other) = &latest
                && other.settings() != snapshot.settings()
            {
                report.warnings.push(Problem {
                    file: snapshot.source.clone(),
                    at: "$".into(),
                    message: format!(
                        "an undated snapshot of {registry} that differs from {}: the last listed is taken as today's",
                        other.source
                    ),
                });
            }
            latest = Some(snapshot);
            continue;
        };
        changes.push(snapshot_change(snapshot, time));
    }
    latest
}

/// The settings of every period worked out both ways: period k is before `changes[k]` and
/// after `changes[k - 1]`.
struct Passes {
    forward: Vec<Settings>,
    backward: Vec<Settings>,
    /// Per period, the settings a change's record of what they were contradicts.
    clashes: Vec<Vec<&'static str>>,
}

impl Passes {
    fn run(changes: &[Change], latest: Option<&RegistryConfig>) -> Passes {
        let n = changes.len();
        let mut forward = vec![Settings::default(); n + 1];
        let mut clashes: Vec<Vec<&'static str>> = vec![Vec::new(); n + 1];
        for (k, change) in changes.iter().enumerate() {
            let (after, clash) = apply_forward(&forward[k], change);
            forward[k + 1] = after;
            clashes[k] = clash;
        }
        let mut backward = vec![Settings::default(); n + 1];
        backward[n] = latest.map(RegistryConfig::settings).unwrap_or_default();
        for k in (0..n).rev() {
            backward[k] = apply_backward(&backward[k + 1], &changes[k]);
        }
        Passes {
            forward,
            backward,
            clashes,
        }
    }

    /// Period k's settings (what either pass knows) and the settings the sources disagree on.
    fn period(&self, k: usize) -> (Settings, Vec<&'static str>) {
        let (settings, mut clash) = self.forward[k].merge(&self.backward[k]);
        clash.extend(self.clashes[k].iter().copied());
        clash.sort_unstable();
        clash.dedup();
        (settings, clash)
    }
}

/// Where period k's configuration came from: the change that began it (its file, record and,
/// when it carried the whole resource, private endpoints), or for the first period the previous
/// values of the first change.
fn provenance(
    config: &mut RegistryConfig,
    changes: &[Change],
    k: usize,
    known: bool,
    previous: Option<&RegistryConfig>,
) {
    let Some(change) = k.checked_sub(1).map(|i| &changes[i]) else {
        config.effective_from = None;
        config.source = changes[0].file.clone();
        let before = if known {
            "the previous values of"
        } else {
            "nothing before"
        };
        config.origin = Some(format!("{before} {}", label(&changes[0])));
        return;
    };
    config.effective_from = Some(change.time);
    config.source = change.file.clone();
    config.origin = (!change.origin.is_empty()).then(|| change.origin.clone());
    if let Some(resource) = &change.resource {
        config.private_endpoints = resource.private_endpoints.clone();
    } else if let Some(previous) = previous {
        config.private_endpoints = previous.private_endpoints.clone();
    }
}

/// Adds a period's configuration unless it only continues the previous one.
fn push(out: &mut Vec<RegistryConfig>, config: RegistryConfig) {
    match out.last() {
        Some(previous)
            if previous.unknown == config.unknown
                && (config.unknown.is_some() || previous.settings() == config.settings())
                && previous.private_endpoints == config.private_endpoints => {}
        _ => out.push(config),
    }
}

fn period(from: Option<i64>, until: Option<i64>) -> String {
    let from = from.map_or("from the beginning".to_owned(), |t| {
        format!("from {}", format_timestamp_micros(t))
    });
    match until {
        Some(t) => format!("{from} until {}", format_timestamp_micros(t)),
        None => from,
    }
}

/// Why a period's configuration is not known, if it is not: the sources disagree, the change
/// that began it cannot be applied, or no record reaches it.
fn unknown_reason(
    settings: &Settings,
    clash: &[&'static str],
    started_by: Option<&Change>,
    ended_by: Option<&Change>,
) -> Option<String> {
    if !clash.is_empty() {
        return Some(format!("the sources disagree on {}", clash.join(", ")));
    }
    if settings.is_complete() {
        return None;
    }
    if let Some(why) = started_by.and_then(|c| c.unusable.as_ref()) {
        return Some(why.clone());
    }
    let missing = settings.missing();
    let mut why = match missing.len() {
        n if n == crate::settings::SETTING_NAMES.len() => {
            "no record says what the configuration was".to_owned()
        }
        1 => format!("no record says what {} was", missing[0]),
        _ => format!("no record says what {} were", missing.join(", ")),
    };
    match (started_by, ended_by) {
        (None, Some(first)) => why.push_str(&format!(
            " before {} (the history begins there)",
            label(first)
        )),
        (_, Some(next)) if next.unusable.is_some() => why.push_str(&format!(
            "; {} ({})",
            next.unusable.as_deref().unwrap_or_default(),
            label(next)
        )),
        _ => {}
    }
    Some(why)
}

/// A change's record, or the snapshot file it is.
fn label(change: &Change) -> String {
    if change.origin.is_empty() {
        change.file.clone()
    } else {
        change.origin.clone()
    }
}

/// A dated snapshot file as a change that sets everything at its time.
fn snapshot_change(snapshot: RegistryConfig, time: i64) -> Change {
    Change {
        time,
        registry: snapshot.resource_id.clone(),
        origin: String::new(),
        file: snapshot.source.clone(),
        forward: Step {
            set: snapshot.settings(),
            rules: Vec::new(),
        },
        backward: Step::default(),
        forget: snapshot.settings(),
        resource: Some(Box::new(snapshot)),
        unusable: None,
        ignored: None,
    }
}

/// Name, login server and private endpoints for the rebuilt configurations: from the latest
/// whole resource known, else from the resource id (`…/registries/contoso` is
/// `contoso.azurecr.io`).
fn template(registry: &str, latest: Option<&RegistryConfig>, changes: &[Change]) -> RegistryConfig {
    if let Some(config) =
        latest.or_else(|| changes.iter().rev().find_map(|c| c.resource.as_deref()))
    {
        return config.clone();
    }
    let name = registry.rsplit('/').next().unwrap_or(registry).to_owned();
    RegistryConfig {
        login_server: crate::registry::login_server(&name),
        name,
        resource_id: registry.to_owned(),
        public_network_access: true,
        default_allow: true,
        ip_rules: Vec::new(),
        bypass_azure_services: true,
        bypass_for_tasks: None,
        private_endpoints: Vec::new(),
        effective_from: None,
        source: String::new(),
        origin: None,
        unknown: None,
    }
}

/// The settings after a change, and the settings on which the change's record of what they
/// were before contradicts `before`.
fn apply_forward(before: &Settings, change: &Change) -> (Settings, Vec<&'static str>) {
    if change.ignored.is_some() {
        return (before.clone(), Vec::new());
    }
    if change.unusable.is_some() {
        return (Settings::default(), Vec::new());
    }
    let (_, mut clash) = before.merge(&change.backward.set);
    if let Some(rules) = &before.ip_rules
        && change
            .backward
            .rules
            .iter()
            .any(|(i, rule)| rules.get(*i) != rule.as_ref())
    {
        clash.push("networkRuleSet.ipRules");
    }
    let mut after = before.overlay(&change.forward.set);
    after.ip_rules = edit_rules(after.ip_rules, &change.forward.rules);
    (after, clash)
}

/// The settings before a change, from those after it.
fn apply_backward(after: &Settings, change: &Change) -> Settings {
    if change.ignored.is_some() {
        return after.clone();
    }
    if change.unusable.is_some() {
        return Settings::default();
    }
    let mut before = after.forget(&change.forget).overlay(&change.backward.set);
    before.ip_rules = edit_rules(before.ip_rules, &change.backward.rules);
    before
}

/// A list of rules with element edits applied (the rule at each position; `None` removes it);
/// not known when the list was not, or when the edits leave a hole.
fn edit_rules(rules: Option<Vec<IpNet>>, edits: &[(usize, Option<IpNet>)]) -> Option<Vec<IpNet>> {
    let rules = rules?;
    if edits.is_empty() {
        return Some(rules);
    }
    let len = edits
        .iter()
        .map(|(i, _)| i + 1)
        .max()
        .unwrap_or(0)
        .max(rules.len());
    let mut slots: Vec<Option<IpNet>> = (0..len).map(|i| rules.get(i).copied()).collect();
    for (i, rule) in edits {
        slots[*i] = *rule;
    }
    let kept = slots.iter().take_while(|r| r.is_some()).count();
    if slots[kept..].iter().any(Option::is_some) {
        return None;
    }
    Some(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::parse_prefix;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|p| parse_prefix(p).unwrap()).collect()
    }

    #[test]
    fn rule_edits_are_positional() {
        let before = nets(&["1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32"]);
        // The middle rule removed: [1] becomes the third, [2] is gone.
        let removed = [(1, Some(nets(&["3.3.3.3/32"])[0])), (2, None)];
        assert_eq!(
            edit_rules(Some(before.clone()), &removed),
            Some(nets(&["1.1.1.1/32", "3.3.3.3/32"]))
        );
        let added = [(3, Some(nets(&["4.4.4.4/32"])[0]))];
        assert_eq!(
            edit_rules(Some(before.clone()), &added).map(|r| r.len()),
            Some(4)
        );
        // A rule set two past the end leaves a hole: not applicable.
        assert_eq!(edit_rules(Some(before), &[(5, added[0].1)]), None);
        assert_eq!(edit_rules(None, &added), None);
    }
}
