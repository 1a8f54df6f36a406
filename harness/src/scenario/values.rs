//! The values a scenario is made of: MAC addresses, CIDRs, and the names of nodes and
//! interfaces (`node:if`).

use std::fmt;
use std::net::IpAddr;

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl Mac {
    pub fn parse(s: &str) -> Option<Mac> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 6 {
            return None;
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(parts) {
            if p.len() != 2 {
                return None;
            }
            *o = u8::from_str_radix(p, 16).ok()?;
        }
        Some(Mac(out))
    }

    /// A fixed, locally administered unicast MAC derived from `node:ifname` (FNV-1a),
    /// so that snapshots are the same on every run and machine.
    pub fn derived(node: &str, ifname: &str) -> Mac {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in node.bytes().chain([b':']).chain(ifname.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let b = h.to_be_bytes();
        Mac([0x02, b[0], b[1], b[2], b[3], b[4]])
    }
}

/// An interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = s.split_once('/')?;
        let addr: IpAddr = a.parse().ok()?;
        let prefix: u8 = p.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// `default`: 0.0.0.0/0, or ::/0.
    pub fn default_route(v6: bool) -> Cidr {
        Cidr {
            addr: if v6 {
                IpAddr::from([0u16; 8])
            } else {
                IpAddr::from([0u8; 4])
            },
            prefix: 0,
        }
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Cidr {
        Cidr {
            addr: mask(self.addr, self.prefix),
            prefix: self.prefix,
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == mask(self.addr, self.prefix)
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

/// Defines a name newtype: a `String` that says what it names. It derefs to `str`, so
/// it reads like one, and it is `Borrow<str>`, so maps keyed by it are looked up by `&str`.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name(s.clone())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

name_type!(
    /// A node's name: a namespace of the scenario. Checked at load time (letters,
    /// digits, `-`, `_`; at most 32).
    NodeName
);
name_type!(
    /// An interface's name inside its node. Checked at load time against the kernel's
    /// rules (at most 15 bytes; no `/`, `:`, `%`, whitespace or control characters).
    IfName
);

/// `node:ifname`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfRef {
    pub node: NodeName,
    pub ifname: IfName,
}

impl fmt::Display for IfRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.ifname)
    }
}

/// A route's protocol (`proto`), the number the kernel keeps, named as iproute2's
/// `rt_protos` names it; any other number is written as the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteProto(pub u8);

const PROTO_NAMES: [(u8, &str); 23] = [
    (0, "unspec"),
    (1, "redirect"),
    (2, "kernel"),
    (3, "boot"),
    (4, "static"),
    (8, "gated"),
    (9, "ra"),
    (10, "mrt"),
    (11, "zebra"),
    (12, "bird"),
    (13, "dnrouted"),
    (14, "xorp"),
    (15, "ntk"),
    (16, "dhcp"),
    (17, "mrouted"),
    (18, "keepalived"),
    (42, "babel"),
    (99, "openr"),
    (186, "bgp"),
    (187, "isis"),
    (188, "ospf"),
    (189, "rip"),
    (192, "eigrp"),
];

impl RouteProto {
    /// What a route added without `proto` has, and what iproute2 leaves unprinted.
    pub const BOOT: RouteProto = RouteProto(3);

    /// A name iproute2 knows, or a number from 0 to 255.
    pub fn parse(s: &str) -> Option<RouteProto> {
        PROTO_NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(v, _)| RouteProto(*v))
            .or_else(|| s.parse().ok().map(RouteProto))
    }
}

impl fmt::Display for RouteProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PROTO_NAMES.iter().find(|(v, _)| *v == self.0) {
            Some((_, n)) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A route's scope: how far its destination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Universe,
    Site,
    Link,
    Host,
    Nowhere,
    Other(u8),
}

impl Scope {
    /// The names a check may ask for.
    pub const NAMES: [&'static str; 4] = ["universe", "site", "link", "host"];

    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "universe" => Scope::Universe,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            _ => return None,
        })
    }

    /// From the kernel's number (RT_SCOPE_*).
    pub fn from_kernel(v: u8) -> Scope {
        match v {
            0 => Scope::Universe,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            v => Scope::Other(v),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Universe => f.write_str("universe"),
            Scope::Site => f.write_str("site"),
            Scope::Link => f.write_str("link"),
            Scope::Host => f.write_str("host"),
            Scope::Nowhere => f.write_str("nowhere"),
            Scope::Other(v) => write!(f, "{v}"),
        }
    }
}

/// An IPv6 route's preference (RFC 4191).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutePref {
    Low,
    Medium,
    High,
}

impl RoutePref {
    pub fn parse(s: &str) -> Option<RoutePref> {
        Some(match s {
            "low" => RoutePref::Low,
            "medium" => RoutePref::Medium,
            "high" => RoutePref::High,
            _ => return None,
        })
    }
}

impl fmt::Display for RoutePref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RoutePref::Low => "low",
            RoutePref::Medium => "medium",
            RoutePref::High => "high",
        })
    }
}

/// A routing table as iproute2 names it: `main`, `local`, `default`, or its number.
pub fn table_name(t: u32) -> String {
    match t {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        t => t.to_string(),
    }
}
