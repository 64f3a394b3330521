//! A registry's network settings as far as a source tells them: a full resource names every
//! one, a PATCH body or a Resource Graph change only some. What is not named is `None`: not
//! known, never a default.

use ipnet::IpNet;

use crate::error::TopologyError;
use crate::json::Node;
use crate::prefix::parse_prefix;

/// The network settings of a registry, each known or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `publicNetworkAccess` is `Enabled`.
    pub public_network_access: Option<bool>,
    /// `networkRuleSet.defaultAction` is `Allow`.
    pub default_allow: Option<bool>,
    /// `networkRuleSet.ipRules`.
    pub ip_rules: Option<Vec<IpNet>>,
    /// `networkRuleBypassOptions` is `AzureServices`.
    pub bypass_azure_services: Option<bool>,
    /// `networkRuleBypassAllowedForTasks` (known to be absent is `Some(None)`).
    pub bypass_for_tasks: Option<Option<bool>>,
}

/// The settings' names as ARM spells them, for messages.
pub const SETTING_NAMES: [&str; 5] = [
    "publicNetworkAccess",
    "networkRuleSet.defaultAction",
    "networkRuleSet.ipRules",
    "networkRuleBypassOptions",
    "networkRuleBypassAllowedForTasks",
];

impl Settings {
    /// The settings a resource's `properties` (or a PATCH body's) names; the others `None`.
    pub(crate) fn named_in(props: &Node<'_>) -> Result<Settings, TopologyError> {
        let mut named = Settings {
            public_network_access: switch(props, "publicNetworkAccess", ("Enabled", "Disabled"))?,
            bypass_azure_services: switch(
                props,
                "networkRuleBypassOptions",
                ("AzureServices", "None"),
            )?,
            bypass_for_tasks: props
                .opt_bool("networkRuleBypassAllowedForTasks")?
                .map(Some),
            ..Settings::default()
        };
        if let Some(rules) = props.get("networkRuleSet") {
            named.default_allow = switch(&rules, "defaultAction", ("Allow", "Deny"))?;
            if rules.get("ipRules").is_some() {
                named.ip_rules = Some(ip_rules(&rules.array("ipRules")?)?);
            }
        }
        Ok(named)
    }

    /// The settings of a full resource, where an absent setting has its ARM default (public
    /// access enabled, default action allow, no rules, the Azure-services bypass on).
    pub(crate) fn of_resource(props: &Node<'_>) -> Result<Settings, TopologyError> {
        let named = Settings::named_in(props)?;
        Ok(Settings {
            public_network_access: named.public_network_access.or(Some(true)),
            default_allow: named.default_allow.or(Some(true)),
            ip_rules: named.ip_rules.or(Some(Vec::new())),
            bypass_azure_services: named.bypass_azure_services.or(Some(true)),
            bypass_for_tasks: named.bypass_for_tasks.or(Some(None)),
        })
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }

    /// Whether every setting is known.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// The names of the settings not known.
    pub fn missing(&self) -> Vec<&'static str> {
        let known = [
            self.public_network_access.is_some(),
            self.default_allow.is_some(),
            self.ip_rules.is_some(),
            self.bypass_azure_services.is_some(),
            self.bypass_for_tasks.is_some(),
        ];
        SETTING_NAMES
            .iter()
            .zip(known)
            .filter(|(_, k)| !k)
            .map(|(n, _)| *n)
            .collect()
    }

    /// `self` with every setting `other` knows set to `other`'s value.
    pub fn overlay(&self, other: &Settings) -> Settings {
        Settings {
            public_network_access: other.public_network_access.or(self.public_network_access),
            default_allow: other.default_allow.or(self.default_allow),
            ip_rules: other.ip_rules.clone().or_else(|| self.ip_rules.clone()),
            bypass_azure_services: other.bypass_azure_services.or(self.bypass_azure_services),
            bypass_for_tasks: other.bypass_for_tasks.or(self.bypass_for_tasks),
        }
    }

    /// `self` with every setting `other` knows forgotten.
    pub fn forget(&self, other: &Settings) -> Settings {
        fn keep<T: Clone>(mine: &Option<T>, theirs: &Option<T>) -> Option<T> {
            if theirs.is_some() { None } else { mine.clone() }
        }
        Settings {
            public_network_access: keep(&self.public_network_access, &other.public_network_access),
            default_allow: keep(&self.default_allow, &other.default_allow),
            ip_rules: keep(&self.ip_rules, &other.ip_rules),
            bypass_azure_services: keep(&self.bypass_azure_services, &other.bypass_azure_services),
            bypass_for_tasks: keep(&self.bypass_for_tasks, &other.bypass_for_tasks),
        }
    }

    /// The settings both know and give different values, by name; the merge keeps those
    /// unknown and every other setting either knows.
    pub fn merge(&self, other: &Settings) -> (Settings, Vec<&'static str>) {
        fn one<T: Clone + PartialEq>(
            a: &Option<T>,
            b: &Option<T>,
            name: &'static str,
            clashes: &mut Vec<&'static str>,
        ) -> Option<T> {
            match (a, b) {
                (Some(x), Some(y)) if x != y => {
                    clashes.push(name);
                    None
                }
                _ => a.clone().or_else(|| b.clone()),
            }
        }
        let mut clashes = Vec::new();
        let [public, action, rules, bypass, tasks] = SETTING_NAMES;
        let merged = Settings {
            public_network_access: one(
                &self.public_network_access,
                &other.public_network_access,
                public,
                &mut clashes,
            ),
            default_allow: one(
                &self.default_allow,
                &other.default_allow,
                action,
                &mut clashes,
            ),
            ip_rules: one(&self.ip_rules, &other.ip_rules, rules, &mut clashes),
            bypass_azure_services: one(
                &self.bypass_azure_services,
                &other.bypass_azure_services,
                bypass,
                &mut clashes,
            ),
            bypass_for_tasks: one(
                &self.bypass_for_tasks,
                &other.bypass_for_tasks,
                tasks,
                &mut clashes,
            ),
        };
        (merged, clashes)
    }
}

/// IP rules from their JSON objects (`ipAddressOrRange` as `az acr` prints them, `value` as
/// ARM does).
pub(crate) fn ip_rules(rules: &[Node<'_>]) -> Result<Vec<IpNet>, TopologyError> {
    rules.iter().map(ip_rule).collect()
}

/// One IP rule from its JSON object.
pub(crate) fn ip_rule(rule: &Node<'_>) -> Result<IpNet, TopologyError> {
    let value = rule
        .get_any(&["ipAddressOrRange", "value"])
        .ok_or_else(|| rule.error("an IP rule without ipAddressOrRange or value"))?;
    parse_prefix(value.as_str()?).map_err(|e| value.error(e))
}

/// A two-valued setting (any case): `Some(true)` for the first spelling, `Some(false)` for the
/// second, `None` when absent.
pub(crate) fn switch(
    node: &Node<'_>,
    key: &str,
    (on, off): (&str, &str),
) -> Result<Option<bool>, TopologyError> {
    match node.opt_str(key)? {
        None => Ok(None),
        Some(v) => two_valued(v, (on, off))
            .map(Some)
            .ok_or_else(|| node.error(format!("{key} {v:?} is neither {on} nor {off}"))),
    }
}

/// `true` for the first spelling (any case), `false` for the second, `None` for anything else.
pub(crate) fn two_valued(value: &str, (on, off): (&str, &str)) -> Option<bool> {
    if value.eq_ignore_ascii_case(on) {
        Some(true)
    } else if value.eq_ignore_ascii_case(off) {
        Some(false)
    } else {
        None
    }
}
