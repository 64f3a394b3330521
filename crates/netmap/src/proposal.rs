//! A proposed change to a registry's network configuration, as `KEY=VALUE` settings: what
//! `acrlens whatif` replays the logs against before anybody touches the firewall.

use ipnet::IpNet;

use crate::prefix::parse_prefix;
use crate::registry::RegistryConfig;
use crate::vnet::Subnet;

/// The most IP rules a registry holds (100 before 2026).
pub const MAX_IP_RULES: usize = 200;

/// The keys a proposal may set, as `--set` spells them.
pub const KEYS: [&str; 6] = [
    "public_network_access",
    "default_action",
    "bypass",
    "tasks_bypass",
    "ip_rules",
    "private_endpoint",
];

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `publicNetworkAccess` Enabled (true) or Disabled.
    PublicNetworkAccess(bool),
    /// `networkRuleSet.defaultAction` Allow (true) or Deny.
    DefaultAllow(bool),
    /// `networkRuleBypassOptions` AzureServices (true) or None.
    Bypass(bool),
    /// `networkRuleBypassAllowedForTasks`.
    TasksBypass(bool),
    /// The IP rules replaced by this list.
    SetRules(Vec<IpNet>),
    /// IP rules added (`+CIDR`) and removed (`-CIDR`).
    EditRules {
        /// Added.
        add: Vec<IpNet>,
        /// Removed.
        remove: Vec<IpNet>,
    },
    /// A private endpoint added in this subnet (its ARM id, lower-case).
    PrivateEndpoint(String),
}

/// A bad `KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--set {setting:?}: {message}")]
pub struct ProposalError {
    /// The setting as given.
    pub setting: String,
    /// What is wrong with it.
    pub message: String,
}

/// Changes to a registry's configuration, applied in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proposal {
    /// The changes.
    pub changes: Vec<Change>,
    /// The settings as given, for the output.
    pub settings: Vec<String>,
}

impl Proposal {
    /// Parses `KEY=VALUE` settings; `private_endpoint` names a subnet of `subnets` by name,
    /// `vnet/subnet` or ARM id.
    pub fn parse(settings: &[String], subnets: &[Subnet]) -> Result<Proposal, ProposalError> {
        let mut proposal = Proposal::default();
        for setting in settings {
            let fail = |message: String| ProposalError {
                setting: setting.clone(),
                message,
            };
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| fail("expected KEY=VALUE".to_owned()))?;
            let (key, value) = (key.trim(), value.trim());
            let change = match key {
                "public_network_access" => {
                    Change::PublicNetworkAccess(switch(value, "Enabled", "Disabled").map_err(fail)?)
                }
                "default_action" => {
                    Change::DefaultAllow(switch(value, "Allow", "Deny").map_err(fail)?)
                }
                "bypass" => Change::Bypass(switch(value, "AzureServices", "None").map_err(fail)?),
                "tasks_bypass" => {
                    Change::TasksBypass(switch(value, "true", "false").map_err(fail)?)
                }
                "ip_rules" => rules(value).map_err(fail)?,
                "private_endpoint" => {
                    Change::PrivateEndpoint(subnet(value, subnets).map_err(fail)?)
                }
                _ => {
                    return Err(fail(format!(
                        "unknown key; the keys are {}",
                        KEYS.join(", ")
                    )));
                }
            };
            proposal.changes.push(change);
            proposal.settings.push(format!("{key}={value}"));
        }
        Ok(proposal)
    }

    /// `config` with the changes applied: the configuration replayed in its place. Its source
    /// says it is a proposal; its effective time is kept.
    pub fn apply(&self, config: &RegistryConfig) -> Result<RegistryConfig, String> {
        let mut c = config.clone();
        for change in &self.changes {
            match change {
                Change::PublicNetworkAccess(on) => c.public_network_access = *on,
                Change::DefaultAllow(allow) => c.default_allow = *allow,
                Change::Bypass(on) => c.bypass_azure_services = *on,
                Change::TasksBypass(on) => c.bypass_for_tasks = Some(*on),
                Change::SetRules(list) => c.ip_rules = list.clone(),
                Change::EditRules { add, remove } => {
                    c.ip_rules.retain(|rule| !remove.contains(rule));
                    for rule in add {
                        if !c.ip_rules.contains(rule) {
                            c.ip_rules.push(*rule);
                        }
                    }
                }
                // Requests through a private endpoint pass no firewall rule: a new endpoint
                // changes no decision of the rules, only which VNets reach the registry.
                Change::PrivateEndpoint(_) => {}
            }
        }
        if c.ip_rules.len() > MAX_IP_RULES {
            return Err(format!(
                "the proposal leaves {} with {} IP rules; a registry holds at most {MAX_IP_RULES}",
                c.login_server,
                c.ip_rules.len()
            ));
        }
        c.source = if self.settings.is_empty() {
            config.source.clone()
        } else {
            format!("{} with {}", config.source, self.settings.join(", "))
        };
        Ok(c)
    }

    /// The subnets the proposal puts a private endpoint in (ARM ids, lower-case).
    pub fn endpoint_subnets(&self) -> impl Iterator<Item = &str> {
        self.changes.iter().filter_map(|c| match c {
            Change::PrivateEndpoint(subnet) => Some(subnet.as_str()),
            _ => None,
        })
    }

    /// The rules the proposal removes, to check against the registry's rules.
    pub fn removed_rules(&self) -> impl Iterator<Item = &IpNet> {
        self.changes.iter().flat_map(|c| match c {
            Change::EditRules { remove, .. } => remove.as_slice(),
            _ => &[],
        })
    }
}

/// A two-valued setting, in any case: `true` for `on`.
fn switch(value: &str, on: &str, off: &str) -> Result<bool, String> {
    if value.eq_ignore_ascii_case(on) {
        Ok(true)
    } else if value.eq_ignore_ascii_case(off) {
        Ok(false)
    } else {
        Err(format!("expected {on} or {off}"))
    }
}

/// `ip_rules=A,B` (the whole list; empty for none) or `ip_rules=+A,-B` (edits).
fn rules(value: &str) -> Result<Change, String> {
    let items: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let signed = items
        .iter()
        .filter(|i| i.starts_with('+') || i.starts_with('-'))
        .count();
    if signed != 0 && signed != items.len() {
        return Err("either the whole list (A,B) or only edits (+A,-B), not both".to_owned());
    }
    let rule = |text: &str| -> Result<IpNet, String> {
        match parse_prefix(text)? {
            IpNet::V4(net) => Ok(IpNet::V4(net)),
            IpNet::V6(_) => Err(format!("{text}: a registry's IP rules are IPv4 only")),
        }
    };
    if signed == 0 {
        return Ok(Change::SetRules(
            items.iter().map(|i| rule(i)).collect::<Result<_, _>>()?,
        ));
    }
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for item in items {
        let (sign, text) = item.split_at(1);
        if sign == "+" {
            add.push(rule(text)?);
        } else {
            remove.push(rule(text)?);
        }
    }
    Ok(Change::EditRules { add, remove })
}

/// The subnet a `private_endpoint` value names.
fn subnet(value: &str, subnets: &[Subnet]) -> Result<String, String> {
    let lower = value.to_ascii_lowercase();
    let matches: Vec<&Subnet> = subnets
        .iter()
        .filter(|s| {
            s.id == lower
                || s.name.eq_ignore_ascii_case(value)
                || format!("{}/{}", s.vnet, s.name).eq_ignore_ascii_case(value)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(format!(
            "no subnet of the topology is named {value:?} (give its name, vnet/subnet or id)"
        )),
        many => Err(format!(
            "{} subnets are named {value:?}; give vnet/subnet or the id",
            many.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RegistryConfig {
        RegistryConfig {
            name: "contoso".into(),
            login_server: "contoso.azurecr.io".into(),
            resource_id: String::new(),
            public_network_access: true,
            default_allow: false,
            ip_rules: vec![
                parse_prefix("203.0.113.10").unwrap(),
                parse_prefix("20.42.66.0/24").unwrap(),
            ],
            bypass_azure_services: true,
            bypass_for_tasks: None,
            private_endpoints: vec![],
            effective_from: Some(7),
            source: "contoso.json".into(),
            origin: None,
            unknown: None,
        }
    }

    fn set(settings: &[&str]) -> Result<Proposal, ProposalError> {
        let owned: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        Proposal::parse(&owned, &[])
    }

    #[test]
    fn settings_change_only_what_they_name() {
        let p = set(&["public_network_access=disabled", "tasks_bypass=TRUE"]).unwrap();
        let c = p.apply(&config()).unwrap();
        assert!(!c.public_network_access);
        assert_eq!(c.bypass_for_tasks, Some(true));
        assert_eq!(c.ip_rules, config().ip_rules);
        assert!(!c.default_allow && c.bypass_azure_services);
        assert_eq!(c.effective_from, Some(7));
        assert_eq!(
            c.source,
            "contoso.json with public_network_access=disabled, tasks_bypass=TRUE"
        );
    }

    #[test]
    fn rules_are_replaced_or_edited() {
        let c = set(&["ip_rules=198.51.100.0/24"])
            .unwrap()
            .apply(&config())
            .unwrap();
        assert_eq!(c.ip_rules, vec![parse_prefix("198.51.100.0/24").unwrap()]);
        let c = set(&["ip_rules=+198.51.100.7,-203.0.113.10,+20.42.66.0/24"])
            .unwrap()
            .apply(&config())
            .unwrap();
        let texts: Vec<String> = c.ip_rules.iter().map(|r| r.to_string()).collect();
        assert_eq!(texts, ["20.42.66.0/24", "198.51.100.7/32"]);
        let c = set(&["ip_rules="]).unwrap().apply(&config()).unwrap();
        assert!(c.ip_rules.is_empty());
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let err = |s: &str| set(&[s]).unwrap_err().to_string();
        assert_eq!(
            err("bypass=maybe"),
            "--set \"bypass=maybe\": expected AzureServices or None"
        );
        assert!(err("firewall=off").contains("unknown key; the keys are public_network_access"));
        assert!(err("ip_rules=+1.2.3.4,5.6.7.8").contains("not both"));
        assert!(err("ip_rules=+2001:db8::/32").contains("IPv4 only"));
        assert!(err("ip_rules=+10.0.0.0/33").contains("is not an IP prefix"));
        assert!(err("private_endpoint=nowhere").contains("no subnet of the topology"));
        assert!(err("public_network_access").contains("expected KEY=VALUE"));
    }

    #[test]
    fn more_rules_than_a_registry_holds_is_an_error() {
        let many: Vec<String> = (0..=200).map(|i| format!("+10.1.{i}.0/24")).collect();
        let list = format!("ip_rules={}", many.join(","));
        let err = set(&[&list]).unwrap().apply(&config()).unwrap_err();
        assert_eq!(
            err,
            "the proposal leaves contoso.azurecr.io with 203 IP rules; a registry holds at most 200"
        );
    }
}
