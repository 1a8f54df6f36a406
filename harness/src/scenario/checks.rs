//! Checks: what a `check` step asks of the kernel's state, and how long it waits.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::model::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NeighState {
    Reachable,
    Stale,
    Delay,
    Probe,
    Incomplete,
    Failed,
    Permanent,
    Noarp,
}

impl fmt::Display for NeighState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NeighState::Reachable => "reachable",
            NeighState::Stale => "stale",
            NeighState::Delay => "delay",
            NeighState::Probe => "probe",
            NeighState::Incomplete => "incomplete",
            NeighState::Failed => "failed",
            NeighState::Permanent => "permanent",
            NeighState::Noarp => "noarp",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OperState {
    Up,
    Down,
    LowerLayerDown,
    Unknown,
}

impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperState::Up => "up",
            OperState::Down => "down",
            OperState::LowerLayerDown => "lowerlayerdown",
            OperState::Unknown => "unknown",
        })
    }
}

/// A bridge port's STP state, as the kernel names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    Disabled,
    Listening,
    Learning,
    Forwarding,
    Blocking,
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PortState::Disabled => "disabled",
            PortState::Listening => "listening",
            PortState::Learning => "learning",
            PortState::Forwarding => "forwarding",
            PortState::Blocking => "blocking",
        })
    }
}

/// How long a check is given, and what it must do in that time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Once, now.
    Now,
    /// `within: D`: it must come to hold before D has passed.
    Within(Duration),
    /// `for: D`: it must hold now and at every look until D has passed.
    For(Duration),
}

#[derive(Debug, Clone)]
pub enum Check {
    Frames(FramesCheck),
    Neigh(NeighCheck),
    Fdb(FdbCheck),
    Route(RouteCheck),
    Link(LinkCheck),
    Nexthop(NexthopCheck),
    Counter(CounterCheck),
    Vlan(VlanCheck),
}

/// A `vlan` check: a bridge port's (or VLAN-aware bridge's) membership in one VLAN.
#[derive(Debug, Clone)]
pub struct VlanCheck {
    pub dev: IfRef,
    pub vid: u16,
    pub pvid: Option<bool>,
    pub untagged: Option<bool>,
    pub present: bool,
}

/// The frames a watch counted since it started.
#[derive(Debug, Clone)]
pub struct FramesCheck {
    pub watch: String,
    pub at: IfRef,
    pub count: Count,
}

/// A `neigh` check.
#[derive(Debug, Clone)]
pub struct NeighCheck {
    pub node: NodeName,
    pub to: IpAddr,
    pub mac: Option<(Mac, String)>,
    pub state: Option<NeighState>,
    pub present: bool,
    /// With a device the check asks the kernel for that one entry, as
    /// `ip neigh get ADDR dev DEV` does, instead of reading the whole table.
    pub dev: Option<IfName>,
    /// A proxy entry (`ip neigh get proxy ...`).
    pub proxy: bool,
    /// Exactly these flags (`router`, `extern_learn`); `[]` is none.
    pub flags: Option<Vec<String>>,
}

/// A `fdb` check.
#[derive(Debug, Clone)]
pub struct FdbCheck {
    pub node: NodeName,
    pub mac: (Mac, String),
    pub port: Option<IfName>,
    pub present: bool,
    /// The remote VTEP of a vxlan entry.
    pub dst: Option<IpAddr>,
    /// Exactly these flags (`sticky`, `extern_learn`, `offload`, `locked`); `[]` none.
    pub flags: Option<Vec<String>>,
    /// The entry's VLAN.
    pub vlan: Option<u16>,
}

/// A `route` check.
#[derive(Debug, Clone)]
pub struct RouteCheck {
    pub node: NodeName,
    pub to: Cidr,
    /// true: `to` is an address to look up (`ip route get`), not a table entry.
    pub lookup: bool,
    pub via: Option<IpAddr>,
    pub dev: Option<IfName>,
    pub table: Option<u32>,
    pub present: bool,
    /// Attributes the route must also have.
    pub attrs: Box<RouteAttrs>,
    /// For a lookup: what `ip route get` takes besides the destination.
    pub how: LookupOpts,
}

/// A `link` check.
#[derive(Debug, Clone)]
pub struct LinkCheck {
    pub dev: IfRef,
    /// false: the link must not exist.
    pub present: bool,
    pub state: Option<OperState>,
    /// The bridge port state.
    pub port: Option<PortState>,
    pub mtu: Option<u32>,
    pub master: Option<Option<IfName>>,
    /// A bond's active port; Some(None): none.
    pub active: Option<Option<IfName>>,
}

/// A nexthop object: whether it exists, and what it is.
#[derive(Debug, Clone)]
pub struct NexthopCheck {
    pub node: NodeName,
    pub id: u32,
    pub present: bool,
    /// `via A dev X`, `dev X`, `blackhole` or `group 1/2,3`, as `ip nexthop` prints it.
    pub is: Option<NexthopKind>,
    /// Exactly these flags (`dead`, `linkdown`, `onlink`); `[]` is none.
    pub flags: Option<Vec<String>>,
}

/// Packets and bytes a netfilter rule (or an iptables chain policy) counted.
#[derive(Debug, Clone)]
pub struct CounterCheck {
    pub node: NodeName,
    pub what: CounterRef,
    pub packets: Option<Count>,
    pub bytes: Option<Count>,
}

/// `ip route get DST from A oif X iif Y mark M tos T`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupOpts {
    pub from: Option<IpAddr>,
    pub oif: Option<IfName>,
    pub iif: Option<IfName>,
    pub mark: Option<u32>,
    pub tos: Option<u8>,
}

impl LookupOpts {
    pub fn is_empty(&self) -> bool {
        *self == LookupOpts::default()
    }
}

impl fmt::Display for LookupOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(x) = &self.from {
            write!(f, " from {x}")?;
        }
        if let Some(x) = &self.oif {
            write!(f, " oif {x}")?;
        }
        if let Some(x) = &self.iif {
            write!(f, " iif {x}")?;
        }
        if let Some(x) = &self.mark {
            write!(f, " mark {x}")?;
        }
        if let Some(x) = &self.tos {
            write!(f, " tos {x}")?;
        }
        Ok(())
    }
}

/// What a route check asks of a route besides where it goes, as iproute2 prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteAttrs {
    pub proto: Option<RouteProto>,
    pub scope: Option<Scope>,
    pub src: Option<IpAddr>,
    pub metric: Option<u32>,
    /// Exactly these next-hop flags (`linkdown`, `dead`, `onlink`); `[]` is none.
    pub flags: Option<Vec<String>>,
    /// The MTU metric: a lookup's cached PMTU exception (`ip route get` shows `mtu 1400`).
    pub mtu: Option<u32>,
    /// Whether that MTU is locked (`mtu lock 1400`).
    pub lock: Option<bool>,
    /// The nexthop object the route uses.
    pub nhid: Option<u32>,
    /// An IPv6 route's preference: `low`, `medium` (what a route has unless told) or `high`.
    pub pref: Option<RoutePref>,
    /// Exactly these paths of a multipath route, in the kernel's order.
    pub hops: Option<Vec<Hop>>,
}

impl RouteAttrs {
    pub fn is_empty(&self) -> bool {
        *self == RouteAttrs::default()
    }
}

impl fmt::Display for RouteAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.proto {
            write!(f, " proto {p}")?;
        }
        if let Some(s) = &self.scope {
            write!(f, " scope {s}")?;
        }
        if let Some(s) = &self.src {
            write!(f, " src {s}")?;
        }
        if let Some(m) = &self.metric {
            write!(f, " metric {m}")?;
        }
        match (self.lock, self.mtu) {
            (Some(true), Some(m)) => write!(f, " mtu lock {m}")?,
            (Some(true), None) => write!(f, " mtu lock")?,
            (_, Some(m)) => write!(f, " mtu {m}")?,
            (Some(false), None) => write!(f, " mtu unlocked")?,
            (None, None) => {}
        }
        if let Some(n) = &self.nhid {
            write!(f, " nhid {n}")?;
        }
        if let Some(p) = &self.pref {
            write!(f, " pref {p}")?;
        }
        for h in self.hops.iter().flatten() {
            write!(f, " nexthop {h}")?;
        }
        match &self.flags {
            Some(fl) if fl.is_empty() => write!(f, " (no flags)"),
            Some(fl) => write!(f, " {}", fl.join(" ")),
            None => Ok(()),
        }
    }
}
