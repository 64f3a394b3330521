//! What kind of address a caller IP is, before any topology is consulted.

use std::net::IpAddr;

/// The scope of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpScope {
    /// Routable on the internet.
    Public,
    /// RFC 1918 IPv4 or an IPv6 unique local address (fc00::/7).
    Private,
    /// RFC 6598 shared address space (100.64.0.0/10).
    Cgnat,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// RFC 5737 / RFC 3849 documentation ranges: public in the decision table (they stand in for
    /// public addresses in examples) but named, so nobody mistakes them for real callers.
    Documentation,
    /// Unspecified, multicast, broadcast or reserved.
    Reserved,
}

/// The value of the `ip_scope` column: the scope of the caller's address, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerScope {
    /// The address parsed: its scope.
    Of(IpScope),
    /// The logs gave a caller address that is not one.
    Invalid,
    /// The logs gave no caller address.
    Missing,
}

impl CallerScope {
    /// Every value of the column.
    pub const ALL: [CallerScope; 9] = [
        CallerScope::Of(IpScope::Public),
        CallerScope::Of(IpScope::Private),
        CallerScope::Of(IpScope::Cgnat),
        CallerScope::Of(IpScope::Loopback),
        CallerScope::Of(IpScope::LinkLocal),
        CallerScope::Of(IpScope::Documentation),
        CallerScope::Of(IpScope::Reserved),
        CallerScope::Invalid,
        CallerScope::Missing,
    ];

    /// The value of the `ip_scope` column.
    pub fn name(self) -> &'static str {
        match self {
            CallerScope::Of(scope) => scope.name(),
            CallerScope::Invalid => "invalid",
            CallerScope::Missing => "missing",
        }
    }

    /// The value a name of the column stands for.
    pub fn from_name(name: &str) -> Option<CallerScope> {
        CallerScope::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl IpScope {
    /// The scope of an address.
    pub fn of(ip: IpAddr) -> IpScope {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                if v4.is_private() {
                    IpScope::Private
                } else if a == 100 && (64..128).contains(&b) {
                    IpScope::Cgnat
                } else if v4.is_loopback() {
                    IpScope::Loopback
                } else if v4.is_link_local() {
                    IpScope::LinkLocal
                } else if (a, b, c) == (192, 0, 2)
                    || (a, b, c) == (198, 51, 100)
                    || (a, b, c) == (203, 0, 113)
                {
                    IpScope::Documentation
                } else if v4.is_unspecified()
                    || v4.is_multicast()
                    || v4.is_broadcast()
                    || a >= 240
                    || a == 0
                {
                    IpScope::Reserved
                } else {
                    IpScope::Public
                }
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                if v6.is_loopback() {
                    IpScope::Loopback
                } else if first & 0xfe00 == 0xfc00 {
                    IpScope::Private
                } else if first & 0xffc0 == 0xfe80 {
                    IpScope::LinkLocal
                } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                    IpScope::Documentation
                } else if v6.is_unspecified() || v6.is_multicast() {
                    IpScope::Reserved
                } else {
                    IpScope::Public
                }
            }
        }
    }

    /// The value of the `ip_scope` column (see [`CallerScope`] for every value).
    pub fn name(self) -> &'static str {
        match self {
            IpScope::Public => "public",
            IpScope::Private => "private",
            IpScope::Cgnat => "cgnat",
            IpScope::Loopback => "loopback",
            IpScope::LinkLocal => "link_local",
            IpScope::Documentation => "documentation",
            IpScope::Reserved => "reserved",
        }
    }

    /// Whether the address can only have come from inside a network (a VNet, a peering,
    /// on-premises over a gateway): the private-endpoint rows of the decision table apply.
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            IpScope::Private | IpScope::Cgnat | IpScope::Loopback | IpScope::LinkLocal
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ip_scope_value_has_one_name() {
        let names: std::collections::BTreeSet<&str> =
            CallerScope::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), CallerScope::ALL.len());
        for scope in CallerScope::ALL {
            assert_eq!(CallerScope::from_name(scope.name()), Some(scope));
        }
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(
            CallerScope::from_name("private"),
            Some(CallerScope::Of(IpScope::of(ip)))
        );
        assert_eq!(CallerScope::from_name("nowhere"), None);
    }

    fn scope(s: &str) -> &'static str {
        IpScope::of(s.parse().unwrap()).name()
    }

    #[test]
    fn scopes() {
        assert_eq!(scope("10.0.2.4"), "private");
        assert_eq!(scope("172.31.255.1"), "private");
        assert_eq!(scope("172.32.0.1"), "public");
        assert_eq!(scope("192.168.1.1"), "private");
        assert_eq!(scope("100.64.0.1"), "cgnat");
        assert_eq!(scope("100.128.0.1"), "public");
        assert_eq!(scope("127.0.0.1"), "loopback");
        assert_eq!(scope("169.254.169.254"), "link_local");
        assert_eq!(scope("203.0.113.10"), "documentation");
        assert_eq!(scope("20.42.66.17"), "public");
        assert_eq!(scope("fd00::1"), "private");
        assert_eq!(scope("fe80::1"), "link_local");
        assert_eq!(scope("2001:db8::1"), "documentation");
        assert_eq!(scope("2603:1030::1"), "public");
        assert_eq!(scope("::1"), "loopback");
        assert_eq!(scope("::ffff:10.0.0.1"), "private");
        assert_eq!(scope("224.0.0.1"), "reserved");
    }
}
