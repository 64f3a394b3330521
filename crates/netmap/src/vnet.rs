//! Virtual networks and their subnets, from `az network vnet list` / `show`, and private
//! endpoints, from `az network private-endpoint list` / `show`.

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;

use crate::error::TopologyError;
use crate::json::Doc;
use crate::prefix::parse_prefix;

/// A subnet of a virtual network.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    /// The VNet's name.
    pub vnet: String,
    /// The subnet's name.
    pub name: String,
    /// Its ARM id, lower-case.
    pub id: String,
    /// `addressPrefix`, or every entry of `addressPrefixes`.
    pub prefixes: Vec<IpNet>,
    /// Services the subnet is delegated to (`Microsoft.App/environments`, `Microsoft.Web/serverFarms`).
    pub delegations: Vec<String>,
}

/// A virtual network.
#[derive(Debug, Clone, PartialEq)]
pub struct Vnet {
    /// Name.
    pub name: String,
    /// ARM id, lower-case.
    pub id: String,
    /// `addressSpace.addressPrefixes`.
    pub address_space: Vec<IpNet>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// ids of the VNets it is peered with, lower-case.
    pub peerings: Vec<String>,
}

impl Vnet {
    /// Loads every VNet in a file.
    pub fn load(path: &Path) -> Result<Vec<Vnet>, TopologyError> {
        let doc = Doc::load(path)?;
        let mut vnets = Vec::new();
        for node in doc.root().objects()? {
            let props = node.get("properties").unwrap_or_else(|| node.clone());
            let name = node.req_str("name")?.to_owned();
            let mut address_space = Vec::new();
            if let Some(space) = props.get("addressSpace") {
                for p in space.array("addressPrefixes")? {
                    address_space.push(parse_prefix(p.as_str()?).map_err(|e| p.error(e))?);
                }
            }
            let mut subnets = Vec::new();
            for s in props.array("subnets")? {
                let sp = s.get("properties").unwrap_or_else(|| s.clone());
                let mut prefixes = Vec::new();
                if let Some(p) = sp.get("addressPrefix") {
                    prefixes.push(parse_prefix(p.as_str()?).map_err(|e| p.error(e))?);
                }
                for p in sp.array("addressPrefixes")? {
                    prefixes.push(parse_prefix(p.as_str()?).map_err(|e| p.error(e))?);
                }
                if prefixes.is_empty() {
                    return Err(s.error("a subnet without addressPrefix or addressPrefixes"));
                }
                let mut delegations = Vec::new();
                for d in sp.array("delegations")? {
                    let dp = d.get("properties").unwrap_or_else(|| d.clone());
                    if let Some(service) = dp.opt_str("serviceName")? {
                        delegations.push(service.to_owned());
                    }
                }
                subnets.push(Subnet {
                    vnet: name.clone(),
                    name: s.req_str("name")?.to_owned(),
                    id: s.opt_str("id")?.unwrap_or_default().to_ascii_lowercase(),
                    prefixes,
                    delegations,
                });
            }
            let mut peerings = Vec::new();
            for p in props.array("virtualNetworkPeerings")? {
                let pp = p.get("properties").unwrap_or_else(|| p.clone());
                if let Some(remote) = pp.get("remoteVirtualNetwork") {
                    peerings.push(remote.req_str("id")?.to_ascii_lowercase());
                }
            }
            vnets.push(Vnet {
                id: node.opt_str("id")?.unwrap_or_default().to_ascii_lowercase(),
                name,
                address_space,
                subnets,
                peerings,
            });
        }
        if vnets.is_empty() {
            return Err(doc.root().error("holds no virtual network"));
        }
        Ok(vnets)
    }
}

/// A private endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivateEndpoint {
    /// Name.
    pub name: String,
    /// ARM id, lower-case.
    pub id: String,
    /// The subnet it sits in, lower-case.
    pub subnet_id: String,
    /// Its private addresses (`customDnsConfigs[].ipAddresses`).
    pub addresses: Vec<IpAddr>,
    /// The resources it connects to (`privateLinkServiceId`), lower-case: for ACR, registry ids.
    pub targets: Vec<String>,
}

impl PrivateEndpoint {
    /// Loads every private endpoint in a file.
    pub fn load(path: &Path) -> Result<Vec<PrivateEndpoint>, TopologyError> {
        let doc = Doc::load(path)?;
        let mut endpoints = Vec::new();
        for node in doc.root().objects()? {
            let props = node.get("properties").unwrap_or_else(|| node.clone());
            let subnet = props
                .get("subnet")
                .ok_or_else(|| props.error("missing subnet"))?;
            let mut addresses = Vec::new();
            for dns in props.array("customDnsConfigs")? {
                for a in dns.array("ipAddresses")? {
                    let text = a.as_str()?;
                    addresses.push(
                        text.parse::<IpAddr>()
                            .map_err(|_| a.error(format!("{text:?} is not an IP address")))?,
                    );
                }
            }
            let mut targets = Vec::new();
            for key in [
                "privateLinkServiceConnections",
                "manualPrivateLinkServiceConnections",
            ] {
                for c in props.array(key)? {
                    let cp = c.get("properties").unwrap_or_else(|| c.clone());
                    if let Some(id) = cp.opt_str("privateLinkServiceId")? {
                        targets.push(id.to_ascii_lowercase());
                    }
                }
            }
            endpoints.push(PrivateEndpoint {
                name: node.req_str("name")?.to_owned(),
                id: node.opt_str("id")?.unwrap_or_default().to_ascii_lowercase(),
                subnet_id: subnet.req_str("id")?.to_ascii_lowercase(),
                addresses,
                targets,
            });
        }
        if endpoints.is_empty() {
            return Err(doc.root().error("holds no private endpoint"));
        }
        Ok(endpoints)
    }
}
