//! Named ranges: a CSV of `cidr,name` for what only the user knows (on-premises networks, CI
//! runners, partners). A header row and `#` comments are allowed.

use std::path::Path;

use ipnet::IpNet;

use crate::error::{TopologyError, read_text};
use crate::prefix::parse_prefix;

/// A named range.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRange {
    /// The prefix.
    pub prefix: IpNet,
    /// Its name.
    pub name: String,
}

impl NamedRange {
    /// Loads a `cidr,name` file.
    pub fn load(path: &Path) -> Result<Vec<NamedRange>, TopologyError> {
        let file = path.display().to_string();
        let text = read_text(path)?;
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("line {}", i + 1);
            let (cidr, name) = line
                .split_once(',')
                .ok_or_else(|| TopologyError::invalid(&file, &at, "expected cidr,name"))?;
            let (cidr, name) = (cidr.trim(), name.trim().trim_matches('"'));
            if i == 0 && cidr.eq_ignore_ascii_case("cidr") {
                continue;
            }
            let prefix = parse_prefix(cidr).map_err(|e| TopologyError::invalid(&file, &at, e))?;
            if name.is_empty() {
                return Err(TopologyError::invalid(&file, &at, "a range needs a name"));
            }
            ranges.push(NamedRange {
                prefix,
                name: name.to_owned(),
            });
        }
        if ranges.is_empty() {
            return Err(TopologyError::invalid(&file, "$", "holds no range"));
        }
        Ok(ranges)
    }
}
