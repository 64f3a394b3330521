//! Resource Graph's `resourcechanges`: each changed property of a registry by its path, with its
//! previous and new value, so a change can be applied forward (new values) or backward
//! (previous values) from a known configuration.

use ipnet::IpNet;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use crate::error::TopologyError;
use crate::history::read::{embedded, is_registry};
use crate::history::{Delta, Record, Step};
use crate::json::Node;
use crate::settings::{Settings, ip_rule, ip_rules, two_valued};

/// A `resourcechanges` row (or its `properties`); `None` for another resource type.
pub(crate) fn change(row: &Node<'_>) -> Result<Option<Record>, TopologyError> {
    let props = row
        .get("properties")
        .filter(|p| p.get("changeAttributes").is_some())
        .unwrap_or_else(|| row.clone());
    let registry = props
        .opt_str("targetResourceId")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !is_registry(&registry) {
        return Ok(None);
    }
    let attributes = props
        .get("changeAttributes")
        .ok_or_else(|| props.error("a change without changeAttributes"))?;
    let stamp = attributes.req_str("timestamp")?;
    let time = acrlens_values::parse_timestamp_micros(stamp)
        .ok_or_else(|| attributes.error(format!("timestamp {stamp:?} is not an RFC 3339 time")))?;
    let mut delta = Delta {
        time,
        registry,
        correlation: attributes
            .opt_str("correlationId")?
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        change_type: props.opt_str("changeType")?.unwrap_or("Update").to_owned(),
        forward: Step::default(),
        backward: Step::default(),
        unusable: None,
        file: row.file.to_owned(),
        at: row.path.clone(),
    };
    let truncated = attributes.get("isTruncated").is_some_and(|t| {
        t.value.as_bool() == Some(true)
            || t.value
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    });
    if truncated {
        delta.unusable = Some("Resource Graph truncated the list of changed properties".into());
    }
    if let Some(changes) = props.get("changes") {
        let object = changes
            .value
            .as_object()
            .ok_or_else(|| changes.error("expected an object of property paths"))?;
        for (path, _) in object.iter() {
            let Some(entry) = changes.get(path) else {
                continue;
            };
            if let Err(why) = apply_path(path, &entry, &mut delta) {
                delta.unusable = Some(why);
            }
        }
    }
    Ok(Some(Record::Delta(delta)))
}

/// Adds one changed property to both steps; an error says why the change cannot be applied.
fn apply_path(path: &str, entry: &Node<'_>, delta: &mut Delta) -> Result<(), String> {
    let Some(setting) = path.strip_prefix("properties.") else {
        return Ok(());
    };
    let network = setting.starts_with("networkRuleSet")
        || setting.starts_with("publicNetworkAccess")
        || setting.starts_with("networkRuleBypass");
    if !network {
        return Ok(());
    }
    let side = |key: &str| entry.get(key);
    for (step, value) in [
        (&mut delta.backward, side("previousValue")),
        (&mut delta.forward, side("newValue")),
    ] {
        apply_side(setting, value.as_ref(), step)
            .map_err(|e| format!("cannot apply the change of {path} ({e})"))?;
    }
    Ok(())
}

/// Sets what one side (previous or new) of a changed property says.
fn apply_side(setting: &str, value: Option<&Node<'_>>, step: &mut Step) -> Result<(), String> {
    let text = value.and_then(|v| v.value.as_str());
    let flag = |pair: (&str, &str)| -> Result<bool, String> {
        match text {
            None => Ok(true),
            Some(t) => two_valued(t, pair)
                .ok_or_else(|| format!("{t:?} is neither {} nor {}", pair.0, pair.1)),
        }
    };
    match setting {
        "publicNetworkAccess" => {
            step.set.public_network_access = Some(flag(("Enabled", "Disabled"))?)
        }
        "networkRuleSet.defaultAction" => step.set.default_allow = Some(flag(("Allow", "Deny"))?),
        "networkRuleBypassOptions" => {
            step.set.bypass_azure_services = Some(flag(("AzureServices", "None"))?);
        }
        "networkRuleBypassAllowedForTasks" => {
            step.set.bypass_for_tasks = Some(match (value.and_then(|v| v.value.as_bool()), text) {
                (Some(b), _) => Some(b),
                (None, None) => None,
                (None, Some(t)) => Some(
                    two_valued(t, ("true", "false"))
                        .ok_or_else(|| format!("{t:?} is not a boolean"))?,
                ),
            });
        }
        "networkRuleSet.ipRules" => {
            step.set.ip_rules = Some(match value {
                None => Vec::new(),
                Some(v) => within(v, |n| ip_rules(&n.items()?))?,
            });
        }
        "networkRuleSet" => {
            if let Some(v) = value {
                let named = within(v, Settings::named_in)?;
                step.set.default_allow = named.default_allow.or(Some(true));
                step.set.ip_rules = named.ip_rules.or(Some(Vec::new()));
            } else {
                step.set.default_allow = Some(true);
                step.set.ip_rules = Some(Vec::new());
            }
        }
        _ => {
            let (index, rest) = rule_element(setting).ok_or("not a setting acrlens knows")?;
            let rule = match (rest, value) {
                ("action", _) => return Ok(()),
                (_, None) => None,
                ("", Some(v)) => Some(within(v, ip_rule)?),
                ("value" | "ipAddressOrRange", Some(v)) => Some(crate::prefix::parse_prefix(
                    v.as_str().map_err(|e| e.to_string())?,
                )?),
                _ => return Err("not a setting acrlens knows".into()),
            };
            set_rule(step, index, rule);
        }
    }
    Ok(())
}

/// `networkRuleSet.ipRules[3]` → (3, ""), `networkRuleSet.ipRules[3].value` → (3, "value").
fn rule_element(setting: &str) -> Option<(usize, &str)> {
    let rest = setting.strip_prefix("networkRuleSet.ipRules[")?;
    let (index, rest) = rest.split_once(']')?;
    let rest = match rest {
        "" => "",
        other => other.strip_prefix('.')?,
    };
    Some((index.parse().ok()?, rest))
}

/// Records an element's value in a step (one entry per position).
fn set_rule(step: &mut Step, index: usize, rule: Option<IpNet>) {
    match step.rules.iter_mut().find(|(i, _)| *i == index) {
        Some(slot) => slot.1 = rule,
        None => step.rules.push((index, rule)),
    }
}

/// Reads a value that may be JSON itself or a string holding JSON.
fn within<T>(
    node: &Node<'_>,
    read: impl FnOnce(&Node<'_>) -> Result<T, TopologyError>,
) -> Result<T, String> {
    if node.value.is_str() {
        let value: Value = embedded(node).map_err(|e| e.to_string())?;
        let inner = Node {
            value: &value,
            file: node.file,
            path: node.path.clone(),
        };
        read(&inner).map_err(|e| e.to_string())
    } else {
        read(node).map_err(|e| e.to_string())
    }
}
