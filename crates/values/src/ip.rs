//! The caller address as logged → the canonical address.
//!
//! `callerIpAddress` may carry a port (`203.0.113.7:51234`, `[2001:db8::1]:443`), a zone
//! (`fe80::1%eth0`), or be an IPv4-mapped IPv6 address; attribution needs the bare address.

use std::net::IpAddr;

/// Parses a logged caller address: strips a port, brackets and a zone id; maps IPv4-mapped IPv6
/// addresses to IPv4. `None` when what is left is not an IP address.
pub fn parse_caller_ip(raw: &str) -> Option<IpAddr> {
    let s = raw.trim();
    let host = if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || is_port_suffix(after)) {
            return None;
        }
        inside
    } else {
        match s.split_once(':') {
            // Exactly one colon: IPv4 (or a name) with a port.
            Some((host, port)) if !port.contains(':') => {
                if !is_port_suffix(&s[host.len()..]) {
                    return None;
                }
                host
            }
            _ => s,
        }
    };
    let host = host.split_once('%').map_or(host, |(addr, _zone)| addr);
    host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// `:` followed by 1–5 digits.
fn is_port_suffix(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Option<String> {
        parse_caller_ip(s).map(|ip| ip.to_string())
    }

    #[test]
    fn ports_brackets_and_zones_are_stripped() {
        assert_eq!(canon("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(canon("203.0.113.7:51234").as_deref(), Some("203.0.113.7"));
        assert_eq!(canon("[2001:DB8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(canon("2001:db8:0:0::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(canon("[2001:db8::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(canon("fe80::1%eth0").as_deref(), Some("fe80::1"));
        assert_eq!(canon("::ffff:10.0.2.4").as_deref(), Some("10.0.2.4"));
    }

    #[test]
    fn junk_is_not_an_address() {
        for bad in [
            "",
            "<nil>",
            "localhost",
            "1.2.3",
            "1.2.3.4:",
            "1.2.3.4:http",
            "[::1",
            "[::1]x",
            "999.1.1.1",
        ] {
            assert_eq!(canon(bad), None, "{bad}");
        }
    }
}
