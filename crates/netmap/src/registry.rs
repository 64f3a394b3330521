//! Registry network configurations, from `az acr show` (the CLI flattens ARM's `properties`) or
//! the ARM / `az resource show` form (`properties.networkRuleSet.ipRules[].value`).

use std::path::Path;

use ipnet::IpNet;

use crate::error::TopologyError;
use crate::json::{Doc, Node};
use crate::settings::Settings;

/// The login server a registry is named by on the command line: `contoso` is
/// `contoso.azurecr.io`; a name with a dot is a login server already (any case).
pub fn login_server(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    if name.contains('.') {
        name
    } else {
        format!("{name}.azurecr.io")
    }
}

/// One configuration snapshot of one registry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryConfig {
    /// Registry name.
    pub name: String,
    /// Login server, lower-case (`contoso.azurecr.io`).
    pub login_server: String,
    /// ARM id, lower-case.
    pub resource_id: String,
    /// `publicNetworkAccess` is `Enabled` (absent means enabled).
    pub public_network_access: bool,
    /// `networkRuleSet.defaultAction` is `Allow` (a null rule set means allow).
    pub default_allow: bool,
    /// The IP rules (`Allow` rules; ACR has no other kind).
    pub ip_rules: Vec<IpNet>,
    /// `networkRuleBypassOptions` is `AzureServices` (the default).
    pub bypass_azure_services: bool,
    /// `networkRuleBypassAllowedForTasks`, when the snapshot says.
    pub bypass_for_tasks: Option<bool>,
    /// ids of the private endpoints connected to the registry.
    pub private_endpoints: Vec<String>,
    /// From when it applies (µs); `None` for the beginning of time.
    pub effective_from: Option<i64>,
    /// The file it was read from.
    pub source: String,
    /// The history record it was rebuilt from (file, place, correlation id), when it does not
    /// come from a snapshot file.
    pub origin: Option<String>,
    /// Why the configuration is not known in its period, when it is not: the settings above
    /// then mean nothing and no verdict may rely on them.
    pub unknown: Option<String>,
}

impl RegistryConfig {
    /// Loads every registry in a file (`az acr show` prints one, `az acr list` an array).
    pub fn load(
        path: &Path,
        effective_from: Option<i64>,
    ) -> Result<Vec<RegistryConfig>, TopologyError> {
        let doc = Doc::load(path)?;
        let root = doc.root();
        let configs: Vec<RegistryConfig> = root
            .objects()?
            .iter()
            .map(|node| from_node(node, effective_from, &path.display().to_string()))
            .collect::<Result<_, _>>()?;
        if configs.is_empty() {
            return Err(root.error("holds no registry"));
        }
        Ok(configs)
    }

    /// Its network settings, every one known.
    pub fn settings(&self) -> Settings {
        Settings {
            public_network_access: Some(self.public_network_access),
            default_allow: Some(self.default_allow),
            ip_rules: Some(self.ip_rules.clone()),
            bypass_azure_services: Some(self.bypass_azure_services),
            bypass_for_tasks: Some(self.bypass_for_tasks),
        }
    }

    /// Sets the settings `settings` knows.
    pub fn set(&mut self, settings: &Settings) {
        let s = settings.clone();
        self.public_network_access = s
            .public_network_access
            .unwrap_or(self.public_network_access);
        self.default_allow = s.default_allow.unwrap_or(self.default_allow);
        self.ip_rules = s.ip_rules.unwrap_or(std::mem::take(&mut self.ip_rules));
        self.bypass_azure_services = s
            .bypass_azure_services
            .unwrap_or(self.bypass_azure_services);
        self.bypass_for_tasks = s.bypass_for_tasks.unwrap_or(self.bypass_for_tasks);
    }

    /// Where it came from, for reasons and `config_version`: the snapshot file's name, or the
    /// history record.
    pub fn provenance(&self) -> String {
        match &self.origin {
            Some(origin) => origin.clone(),
            None => std::path::Path::new(&self.source)
                .file_name()
                .map_or(self.source.clone(), |f| f.to_string_lossy().into_owned()),
        }
    }

    /// Whether the registry's rules let a public address in (no bypass considered).
    pub fn allows_public(&self, ip: std::net::IpAddr) -> Option<&IpNet> {
        if !self.public_network_access {
            return None;
        }
        self.ip_rules.iter().find(|rule| rule.contains(&ip))
    }

    /// Whether the registry is open to every network.
    pub fn open_to_all(&self) -> bool {
        self.public_network_access && self.default_allow
    }

    /// A short description of the rules, for verdict reasons.
    pub fn describe(&self) -> String {
        let access = if self.public_network_access {
            "Enabled"
        } else {
            "Disabled"
        };
        let action = if self.default_allow { "Allow" } else { "Deny" };
        let bypass = if self.bypass_azure_services {
            "AzureServices"
        } else {
            "None"
        };
        let tasks = match self.bypass_for_tasks {
            Some(true) => ", tasks bypass=true",
            Some(false) => ", tasks bypass=false",
            None => "",
        };
        format!(
            "publicNetworkAccess={access}, defaultAction={action}, {} IP rules, bypass={bypass}{tasks}",
            self.ip_rules.len()
        )
    }
}

/// A registry from its JSON object (`az acr show`, or ARM with `properties`).
pub(crate) fn from_node(
    node: &Node<'_>,
    effective_from: Option<i64>,
    source: &str,
) -> Result<RegistryConfig, TopologyError> {
    // ARM nests the settings under `properties`; the CLI lifts them to the top.
    let props = node.get("properties").unwrap_or_else(|| node.clone());
    let name = node.req_str("name")?;
    let login_server = props
        .opt_str("loginServer")?
        .ok_or_else(|| props.error("missing loginServer: not a container registry"))?;
    let mut private_endpoints = Vec::new();
    for connection in props.array("privateEndpointConnections")? {
        let inner = connection
            .get("properties")
            .unwrap_or_else(|| connection.clone());
        if let Some(pe) = inner.get("privateEndpoint") {
            private_endpoints.push(pe.req_str("id")?.to_ascii_lowercase());
        }
    }
    let mut config = RegistryConfig {
        name: name.to_owned(),
        login_server: login_server.to_ascii_lowercase(),
        resource_id: node.opt_str("id")?.unwrap_or_default().to_ascii_lowercase(),
        public_network_access: true,
        default_allow: true,
        ip_rules: Vec::new(),
        bypass_azure_services: true,
        bypass_for_tasks: None,
        private_endpoints,
        effective_from,
        source: source.to_owned(),
        origin: None,
        unknown: None,
    };
    config.set(&Settings::of_resource(&props)?);
    Ok(config)
}
