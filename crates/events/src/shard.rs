//! `--shard i/n`: several machines or jobs fill one store without overlap, each taking the
//! inputs whose key hashes to its shard.

use std::fmt;
use std::str::FromStr;

use crate::source::InputSource;

/// One of `count` disjoint shares of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This share, from 0.
    pub index: u32,
    /// How many shares there are.
    pub count: u32,
}

impl Shard {
    /// Whether `source` belongs to this shard.
    pub fn holds(&self, source: &InputSource) -> bool {
        fnv1a(shard_key(&source.name()).as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

/// What an input is hashed by: its path from the export layout's `resourceId=` (or
/// `WorkspaceResourceId=`) folder on, with the container or export folder before it, so a
/// blob and a local copy of it, and one folder mounted at different places on different
/// machines, land in the same shard; the whole name for inputs outside that layout.
fn shard_key(name: &str) -> &str {
    let lower = name.to_ascii_lowercase();
    let Some(at) = lower.find("resourceid=") else {
        return name;
    };
    let at = if lower[..at].ends_with("workspace") {
        at - "workspace".len()
    } else {
        at
    };
    // Keep the folder before it: the container or export folder names the category.
    let from = name[..at]
        .trim_end_matches('/')
        .rfind('/')
        .map_or(0, |p| p + 1);
    &name[from..]
}

/// FNV-1a, 64 bits: stable across versions, platforms and runs (unlike the standard hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a shard: expected i/n with 0 <= i < n, e.g. 0/4");
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_blob_and_its_local_copy_hash_alike() {
        let blob = "https://acct.blob.core.windows.net/insights-logs-containerregistryloginevents/resourceId=/SUBSCRIPTIONS/S/y=2025/m=11/d=03/h=10/m=00/PT1H.json";
        let copy = "/mnt/exports/insights-logs-containerregistryloginevents/resourceId=/SUBSCRIPTIONS/S/y=2025/m=11/d=03/h=10/m=00/PT1H.json";
        assert_eq!(shard_key(blob), shard_key(copy));
        assert!(shard_key(blob).starts_with("insights-logs-containerregistryloginevents/"));
        let workspace = "x/am-ContainerRegistryLoginEvents/WorkspaceResourceId=/s/PT05M.json";
        assert_eq!(
            shard_key(workspace),
            "am-ContainerRegistryLoginEvents/WorkspaceResourceId=/s/PT05M.json"
        );
        assert_eq!(shard_key("plain/file.json"), "plain/file.json");
    }

    #[test]
    fn shards_split_inputs_without_overlap_or_gap() {
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for n in 0..200 {
            let source =
                InputSource::File(PathBuf::from(format!("e/resourceId=/R/h={n}/PT1H.json")));
            let holders = shards.iter().filter(|s| s.holds(&source)).count();
            assert_eq!(holders, 1, "input {n}");
        }
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["", "1", "2/2", "0/0", "-1/2", "a/b", "1é/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?}");
        }
        // A name with multi-byte characters next to the key must not be cut inside one.
        assert_eq!(shard_key("é/éresourceId=/x"), "éresourceId=/x");
        assert!("3/2".parse::<Shard>().is_err());
        assert_eq!("1/4".parse::<Shard>().unwrap().to_string(), "1/4");
    }
}
