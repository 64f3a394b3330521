//! Azure service-tag snapshots: the weekly `ServiceTags_Public_YYYYMMDD.json` download and the
//! output of `az network list-service-tags` (whose change numbers are strings).

use std::net::IpAddr;
use std::path::Path;

use acrlens_values::date_micros;
use ipnet::IpNet;
use sonic_rs::JsonValueTrait;

use crate::error::TopologyError;
use crate::json::{Doc, Node};
use crate::prefix::parse_prefix;

/// One service tag.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTag {
    /// `AzureContainerRegistry.EastUS`.
    pub name: String,
    /// The region, lower-case, from the tag name's suffix (`eastus`); empty for global tags. The
    /// file's own `region` is not used: it is not always the ARM name (`centralfrance`).
    pub region: String,
    /// `AzureContainerRegistry`; empty for `AzureCloud*`.
    pub system_service: String,
    /// Its prefixes, in the file's order.
    pub prefixes: Vec<IpNet>,
    /// The same prefixes sorted, and their distinct lengths longest first: to find the prefix
    /// holding an address without scanning thousands (`AzureCloud` has over ten thousand).
    sorted: Vec<IpNet>,
    lengths: Vec<u8>,
}

impl ServiceTag {
    /// Regional tags of a service are the most specific, then global service tags, then
    /// `AzureCloud.<region>`, then `AzureCloud`.
    pub fn specificity(&self) -> u8 {
        u8::from(!self.system_service.is_empty()) * 2 + u8::from(!self.region.is_empty())
    }

    /// A tag with these prefixes.
    pub fn new(name: String, region: String, system_service: String, prefixes: Vec<IpNet>) -> Self {
        let mut sorted: Vec<IpNet> = prefixes.iter().map(IpNet::trunc).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut lengths: Vec<u8> = sorted.iter().map(IpNet::prefix_len).collect();
        lengths.sort_unstable_by(|a, b| b.cmp(a));
        lengths.dedup();
        ServiceTag {
            name,
            region,
            system_service,
            prefixes,
            sorted,
            lengths,
        }
    }

    /// The most specific of its prefixes that holds `ip`: one binary search per prefix length
    /// the tag uses.
    pub fn containing(&self, ip: IpAddr) -> Option<IpNet> {
        self.lengths.iter().find_map(|&len| {
            let candidate = IpNet::new(ip, len).ok()?.trunc();
            self.sorted
                .binary_search(&candidate)
                .ok()
                .map(|_| candidate)
        })
    }
}

/// The tags of one published snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTagSnapshot {
    /// The file's `changeNumber`.
    pub change_number: u64,
    /// `Public`, `AzureGovernment`, …
    pub cloud: String,
    /// From when it applies (µs); `None` for the beginning of time.
    pub effective_from: Option<i64>,
    /// The file it was read from.
    pub source: String,
    /// The tags.
    pub tags: Vec<ServiceTag>,
}

impl ServiceTagSnapshot {
    /// Loads a snapshot. Without `effective_from`, the date in the file name (`_YYYYMMDD`)
    /// applies, else the beginning of time.
    pub fn load(path: &Path, effective_from: Option<i64>) -> Result<Self, TopologyError> {
        let doc = Doc::load(path)?;
        let root = doc.root();
        let change_number = change_number(&root, "changeNumber")?
            .ok_or_else(|| root.error("missing changeNumber: not a service-tag file"))?;
        let cloud = root.opt_str("cloud")?.unwrap_or("Public").to_owned();
        let mut tags = Vec::new();
        for value in root.array("values")? {
            let name = value.req_str("name")?;
            let props = value
                .get("properties")
                .ok_or_else(|| value.error("missing properties"))?;
            let mut prefixes = Vec::new();
            for p in props.array("addressPrefixes")? {
                prefixes.push(parse_prefix(p.as_str()?).map_err(|e| p.error(e))?);
            }
            tags.push(ServiceTag::new(
                name.to_owned(),
                name.split_once('.')
                    .map(|(_, r)| r.to_ascii_lowercase())
                    .unwrap_or_default(),
                props
                    .opt_str("systemService")?
                    .unwrap_or_default()
                    .to_owned(),
                prefixes,
            ));
        }
        if tags.is_empty() {
            return Err(root.error("no service tags in values[]"));
        }
        Ok(ServiceTagSnapshot {
            change_number,
            cloud,
            effective_from: effective_from.or_else(|| date_in_file_name(path)),
            source: path.display().to_string(),
            tags,
        })
    }

    /// The tag with this name.
    pub fn tag(&self, name: &str) -> Option<&ServiceTag> {
        self.tags.iter().find(|t| t.name == name)
    }
}

/// `changeNumber` as a number or as a string of digits.
fn change_number(node: &Node<'_>, key: &str) -> Result<Option<u64>, TopologyError> {
    let Some(n) = node.get(key) else {
        return Ok(None);
    };
    match (n.value.as_u64(), n.value.as_str().map(str::parse::<u64>)) {
        (Some(v), _) | (_, Some(Ok(v))) => Ok(Some(v)),
        _ => Err(n.error("expected a change number")),
    }
}

/// The `YYYYMMDD` after the last `_` of a file name, as µs.
fn date_in_file_name(path: &Path) -> Option<i64> {
    let stem = path.file_stem()?.to_str()?;
    let digits = stem.rsplit('_').next()?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
    date_micros(i64::from(n(0..4)?), n(4..6)?, n(6..8)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_holding_an_address_is_the_most_specific_one() {
        let prefixes = [
            "20.42.0.0/17",
            "20.42.66.0/24",
            "4.156.0.0/15",
            "2603:1030:210::/47",
        ]
        .iter()
        .map(|p| parse_prefix(p).expect("prefix"))
        .collect();
        let tag = ServiceTag::new("AzureCloud".into(), String::new(), String::new(), prefixes);
        let holding = |ip: &str| {
            tag.containing(ip.parse().expect("ip"))
                .map(|p| p.to_string())
        };
        assert_eq!(holding("20.42.66.9").as_deref(), Some("20.42.66.0/24"));
        assert_eq!(holding("20.42.1.9").as_deref(), Some("20.42.0.0/17"));
        assert_eq!(holding("4.157.255.255").as_deref(), Some("4.156.0.0/15"));
        assert_eq!(
            holding("2603:1030:211::1").as_deref(),
            Some("2603:1030:210::/47")
        );
        assert_eq!(holding("20.42.128.1"), None);
        assert_eq!(holding("2603:1030:212::1"), None);
    }

    #[test]
    fn the_date_in_a_weekly_file_name_is_its_effective_time() {
        let p = Path::new("x/ServiceTags_Public_20251103.json");
        assert_eq!(date_in_file_name(p), date_micros(2025, 11, 3));
        assert_eq!(
            date_in_file_name(Path::new("ServiceTags_Public.json")),
            None
        );
        assert_eq!(date_in_file_name(Path::new("tags_20251399.json")), None);
    }
}
