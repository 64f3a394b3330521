//! The caller address as logged → the canonical address.
//!
//! `callerIpAddress` may carry a port (`203.0.113.7:51234`, `[2001:db8::1]:443`), a zone
//! (`fe80::1%eth0`), or be an IPv4-mapped IPv6 address; attribution needs the bare address.

use std::net::{IpAddr, Ipv4Addr};

/// Parses a logged caller address: strips a port, brackets and a zone id; maps IPv4-mapped IPv6
/// addresses to IPv4. `None` when what is left is not an IP address.
pub fn parse_caller_ip(raw: &str) -> Option<IpAddr> {
    match dotted_quad(raw.as_bytes()) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_any(raw),
    }
}

/// A dotted-quad IPv4 address, with or without a port: the spelling of nearly every caller,
/// read byte by byte. `None` for anything else, which [`parse_any`] then reads; on what this
/// accepts, the two agree (a test compares them), so it is only the shorter way.
fn dotted_quad(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            (s.get(at) == Some(&b'.')).then_some(())?;
            at += 1;
        }
        let start = at;
        let mut value = 0u16;
        while let Some(&digit) = s.get(at).filter(|b| b.is_ascii_digit()) {
            // At most three digits, and no leading zero, as the standard parser reads an octet.
            if at - start == 3 || (at > start && s[start] == b'0') {
                return None;
            }
            value = value * 10 + u16::from(digit - b'0');
            at += 1;
        }
        if at == start {
            return None;
        }
        *octet = u8::try_from(value).ok()?;
    }
    let rest = &s[at..];
    (rest.is_empty() || is_port_suffix(rest)).then(|| Ipv4Addr::from(octets))
}

/// Any spelling [`parse_caller_ip`] accepts.
fn parse_any(raw: &str) -> Option<IpAddr> {
    let s = raw.trim();
    let host = if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || is_port_suffix(after.as_bytes())) {
            return None;
        }
        inside
    } else {
        match s.split_once(':') {
            // Exactly one colon: IPv4 (or a name) with a port.
            Some((host, port)) if !port.contains(':') => {
                if !is_port_suffix(&s.as_bytes()[host.len()..]) {
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

/// Appends an address's canonical text (as `Display` writes it) to `out`. IPv4 addresses, nearly
/// every caller, are written digit by digit: the formatting machinery costs more than the rest
/// of building the row's caller column.
pub fn write_ip(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// `:` followed by 1–5 digits.
fn is_port_suffix(s: &[u8]) -> bool {
    s.strip_prefix(b":")
        .is_some_and(|p| (1..=5).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
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
    fn written_text_is_display_text() {
        let mut out = String::new();
        let v4 = (0..=255u8).flat_map(|o| [[o, 0, 9, 10], [99, o, 100, 255], [1, 2, o, o]]);
        let v6 = [
            "2001:db8::1",
            "::",
            "fe80::1:2",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7:8",
        ];
        let all = v4
            .map(IpAddr::from)
            .chain(v6.iter().map(|s| s.parse().unwrap()));
        for ip in all {
            out.clear();
            write_ip(ip, &mut out);
            assert_eq!(out, ip.to_string());
        }
    }

    #[test]
    fn the_dotted_quad_path_reads_what_the_general_path_reads() {
        // Octets around every limit (leading zeros, four digits, 256), ports of every length,
        // and what may stand around them.
        let octets = [
            "0", "00", "01", "7", "09", "10", "99", "100", "199", "255", "256", "999", "1000", "",
        ];
        let ends = [
            "", ":", ":0", ":51234", ":123456", ":x", " ", "%eth0", ".", "]", ":1:2",
        ];
        let mut accepted = 0;
        for a in octets {
            for b in ["0", "255", "01", "256"] {
                for c in octets {
                    for end in ends {
                        for text in [format!("{a}.{b}.1.{c}{end}"), format!("{a}.{b}.{c}{end}")] {
                            let general = parse_any(&text);
                            match dotted_quad(text.as_bytes()) {
                                Some(v4) => {
                                    accepted += 1;
                                    assert_eq!(Some(IpAddr::V4(v4)), general, "{text}");
                                }
                                None => assert_eq!(parse_caller_ip(&text), general, "{text}"),
                            }
                        }
                    }
                }
            }
        }
        // The fast path took the plain spellings, not only refused everything.
        assert!(accepted > 100, "{accepted}");
        assert_eq!(
            dotted_quad(b"203.0.113.7:51234"),
            Some(Ipv4Addr::new(203, 0, 113, 7))
        );
        assert_eq!(dotted_quad(b" 203.0.113.7"), None);
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
