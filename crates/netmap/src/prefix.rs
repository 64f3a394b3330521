//! Address prefixes and the numeric ranges the index is built from.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses `10.0.2.0/24`, `2603:1030::/48`, or a bare address (a host prefix); the host bits are
/// cleared, as Azure itself accepts `10.0.2.4/24` for `10.0.2.0/24`.
pub fn parse_prefix(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is not an IP prefix"))
}

/// An IP address as a number in its family: IPv4 in the low 32 bits, or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpKey {
    /// IPv4, as `u32`.
    V4(u32),
    /// IPv6, as `u128`.
    V6(u128),
}

impl From<IpAddr> for IpKey {
    fn from(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => IpKey::V6(u128::from(v6)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_hosts_and_junk() {
        assert_eq!(
            parse_prefix("10.0.2.4/24").unwrap().to_string(),
            "10.0.2.0/24"
        );
        assert_eq!(
            parse_prefix(" 203.0.113.10 ").unwrap().to_string(),
            "203.0.113.10/32"
        );
        assert_eq!(
            parse_prefix("2603:1030::/48").unwrap().to_string(),
            "2603:1030::/48"
        );
        assert!(parse_prefix("10.0.0.0/33").is_err());
        assert!(parse_prefix("ten").is_err());
    }
}
