//! The typed scenario: valid by construction. Everything downstream trusts it.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::spans::Pos;

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

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The path under `scenarios/` without extension, e.g. `seed/bridge`.
    pub name: String,
    pub file: PathBuf,
    pub description: Option<String>,
    /// Kernel features it needs (`crate::features::KNOWN`).
    pub requires: Vec<String>,
    pub nodes: Vec<Node>,
    pub steps: Vec<Step>,
    /// Interfaces whose frames are recorded to `capture.pcapng` in the report folder.
    pub capture: Vec<IfRef>,
}

impl Scenario {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn interface(&self, r: &IfRef) -> Option<&Interface> {
        self.node(&r.node)?.interface(&r.ifname)
    }

    /// Every declared interface, as `node:if`, in order.
    pub fn interface_refs(&self) -> impl Iterator<Item = IfRef> + '_ {
        self.nodes.iter().flat_map(|n| {
            n.interfaces.iter().map(|i| IfRef {
                node: n.name.clone(),
                ifname: i.name.clone(),
            })
        })
    }

    /// The `node:if` that owns a MAC, for annotations.
    pub fn mac_owner(&self, mac: Mac) -> Option<IfRef> {
        self.nodes.iter().find_map(|n| {
            n.interfaces.iter().find(|i| i.mac == mac).map(|i| IfRef {
                node: n.name.clone(),
                ifname: i.name.clone(),
            })
        })
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: NodeName,
    pub sysctls: Vec<(String, String)>,
    pub interfaces: Vec<Interface>,
    pub routes: Vec<Route>,
    pub neigh: Vec<StaticNeigh>,
    pub fdb: Vec<StaticFdb>,
}

impl Node {
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Interface {
    pub name: IfName,
    pub kind: IfKind,
    pub mac: Mac,
    pub mtu: Option<u32>,
    pub up: bool,
    pub master: Option<IfName>,
    pub addresses: Vec<Cidr>,
    /// Run IPv6 DAD for the declared addresses (off by default: it costs 1-2 s).
    pub dad: bool,
    pub port: PortOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MacvlanMode {
    Private,
    Vepa,
    Bridge,
    Passthru,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeOptions {
    pub stp: Option<bool>,
    /// In hundredths of a second, as the kernel takes it.
    pub ageing_time_cs: Option<u32>,
    pub forward_delay_cs: Option<u32>,
    pub hello_time_cs: Option<u32>,
    pub priority: Option<u16>,
    pub mcast_snooping: Option<bool>,
    /// Needs CONFIG_BRIDGE_VLAN_FILTERING: declare `requires: [vlan_filtering]`.
    pub vlan_filtering: Option<bool>,
}

/// Bridge port flags; None leaves the kernel's default. Read straight from YAML.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortOptions {
    pub learning: Option<bool>,
    pub flood: Option<bool>,
    pub mcast_flood: Option<bool>,
    pub bcast_flood: Option<bool>,
    pub isolated: Option<bool>,
    pub proxy_arp: Option<bool>,
    pub neigh_suppress: Option<bool>,
    pub locked: Option<bool>,
    pub hairpin: Option<bool>,
}

impl PortOptions {
    pub fn is_empty(&self) -> bool {
        *self == PortOptions::default()
    }
}

/// A permanent ARP/ND entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticNeigh {
    pub to: IpAddr,
    pub mac: Mac,
    pub dev: IfName,
}

/// A bridge FDB entry added by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFdb {
    pub mac: Mac,
    pub port: IfName,
    pub state: FdbState,
    pub sticky: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FdbState {
    /// NUD_NOARP: `bridge fdb add ... static`.
    Static,
    /// NUD_REACHABLE: ages out like a learned entry.
    Dynamic,
    /// NUD_PERMANENT: a local entry, iproute2's default.
    Permanent,
}

impl fmt::Display for FdbState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FdbState::Static => "static",
            FdbState::Dynamic => "dynamic",
            FdbState::Permanent => "permanent",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfKind {
    /// One end of a veth pair. `creates` is true on the end that creates the pair.
    Veth {
        peer: IfRef,
        creates: bool,
    },
    Bridge(BridgeOptions),
    /// A macvlan on `parent`, which may live in another node: the macvlan is then
    /// created directly in this node, as `ip link add link P netns N type macvlan` does.
    Macvlan {
        parent: IfRef,
        mode: MacvlanMode,
    },
    Vxlan {
        vni: u32,
        local: Option<IpAddr>,
        remote: Option<IpAddr>,
        dev: Option<IfName>,
        dstport: u16,
    },
}

impl IfKind {
    pub fn name(&self) -> &'static str {
        match self {
            IfKind::Veth { .. } => "veth",
            IfKind::Bridge(_) => "bridge",
            IfKind::Macvlan { .. } => "macvlan",
            IfKind::Vxlan { .. } => "vxlan",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteType {
    Unicast,
    Blackhole,
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The line as the user wrote it, for messages.
    pub text: String,
    pub kind: RouteType,
    /// `default` is 0.0.0.0/0 or ::/0.
    pub dst: Cidr,
    pub via: Option<IpAddr>,
    pub dev: Option<IfName>,
    pub metric: Option<u32>,
    pub table: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based, as users count.
    pub index: usize,
    pub name: Option<String>,
    pub pos: Pos,
    pub action: Action,
    /// The step fails with "step N timed out after X" past this.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    Reachable,
    Unreachable,
}

#[derive(Debug, Clone)]
pub struct Ping {
    pub from: NodeName,
    /// Bind to this interface of `from` (when written `node:if`).
    pub from_if: Option<IfName>,
    pub to: IpAddr,
    /// What the user wrote for `to`, e.g. `net1:vethpeer1`.
    pub to_label: String,
    pub count: u32,
    pub timeout: Duration,
    pub size: u16,
    pub df: bool,
    pub expect: Reach,
    /// With `Unreachable`: text the verdict must contain.
    pub reason: Option<String>,
    pub observe: Observe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArpExpect {
    /// The answer must come from this MAC; the label is what the user wrote.
    Mac(Mac, String),
    /// Any answer will do.
    Answered,
    Unanswered,
}

#[derive(Debug, Clone)]
pub struct Arping {
    pub from: IfRef,
    pub to: std::net::Ipv4Addr,
    pub timeout: Duration,
    pub expect: ArpExpect,
    pub observe: Observe,
}

/// `send:` `count` crafted frames, `interval` apart, out of `from`.
#[derive(Debug, Clone)]
pub struct Send {
    pub from: IfRef,
    pub count: u32,
    pub interval: Duration,
    pub frame: FrameSpec,
    pub observe: Observe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArpOp {
    Request,
    Reply,
}

/// A frame to craft. A source MAC left out is the interface's own when the step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    pub src: Option<Mac>,
    pub dst: Mac,
    pub vlan: Option<u16>,
    pub body: FrameBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameBody {
    /// Any ethertype, `payload` bytes (netspec's marker first).
    Raw { ethertype: u16, payload: usize },
    Arp {
        op: ArpOp,
        /// None: the interface's own MAC.
        sender_mac: Option<Mac>,
        sender_ip: std::net::Ipv4Addr,
        /// None: the interface's own MAC (a gratuitous reply, as `arping -A` sends).
        target_mac: Option<Mac>,
        target_ip: std::net::Ipv4Addr,
    },
    Ip {
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        df: bool,
        dscp: u8,
        l4: L4,
        payload: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    IcmpEcho,
    Udp { sport: u16, dport: u16 },
    TcpSyn { sport: u16, dport: u16 },
}

/// Where a probe's own frames must and must not appear (its requests and their replies,
/// told from other traffic by the echo id and sequence, or the ARP addresses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observe {
    pub seen: Vec<IfRef>,
    pub not_seen: Vec<IfRef>,
    /// The interfaces the first request crossed, in order.
    pub path: Option<Vec<IfRef>>,
    /// The interfaces the first request's reply crossed, in order.
    pub reply_path: Option<Vec<IfRef>>,
}

impl Observe {
    pub fn is_empty(&self) -> bool {
        *self == Observe::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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

/// `watch:` count, from this step on, the frames at `at` that match `filter`.
#[derive(Debug, Clone)]
pub struct Watch {
    pub name: String,
    pub at: IfRef,
    pub filter: FrameFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The interface received it.
    In,
    /// The interface sent it.
    Out,
}

/// Which frames a watch counts; what is left out matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameFilter {
    pub ethertype: Option<u16>,
    pub src: Option<Mac>,
    pub dst: Option<Mac>,
    pub arp: Option<ArpOp>,
    /// The IP protocol number (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6).
    pub proto: Option<u8>,
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub direction: Option<Direction>,
}

/// How many frames: exactly, at least or at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exactly(n) => write!(f, "exactly {n}"),
            Count::AtLeast(n) => write!(f, "at least {n}"),
            Count::AtMost(n) => write!(f, "at most {n}"),
        }
    }
}

impl Count {
    pub fn holds(self, n: u64) -> bool {
        match self {
            Count::Exactly(x) => n == x,
            Count::AtLeast(x) => n >= x,
            Count::AtMost(x) => n <= x,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Check {
    /// The frames a watch counted since it started.
    Frames {
        watch: String,
        at: IfRef,
        count: Count,
    },
    Neigh {
        node: NodeName,
        to: IpAddr,
        mac: Option<(Mac, String)>,
        state: Option<NeighState>,
        present: bool,
    },
    Fdb {
        node: NodeName,
        mac: (Mac, String),
        port: Option<IfName>,
        present: bool,
    },
    Route {
        node: NodeName,
        to: Cidr,
        /// true: `to` is an address to look up (`ip route get`), not a table entry.
        lookup: bool,
        via: Option<IpAddr>,
        dev: Option<IfName>,
        table: Option<u32>,
        present: bool,
    },
    Link {
        dev: IfRef,
        /// false: the link must not exist.
        present: bool,
        state: Option<OperState>,
        /// The bridge port state.
        port: Option<PortState>,
        mtu: Option<u32>,
        master: Option<Option<IfName>>,
    },
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub label: String,
    pub nodes: Option<Vec<NodeName>>,
    pub only: Option<Vec<String>>,
}

/// A runtime change to a link.
#[derive(Debug, Clone, Default)]
pub struct LinkSet {
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    /// Some(None) detaches from the bridge.
    pub master: Option<Option<IfName>>,
    pub port: PortOptions,
}

#[derive(Debug, Clone)]
pub enum NeighOp {
    Add(StaticNeigh),
    Del { to: IpAddr, dev: IfName },
    Flush { dev: IfName },
}

#[derive(Debug, Clone)]
pub enum FdbOp {
    Add(StaticFdb),
    Del { mac: Mac, port: IfName },
    Flush { port: IfName },
}

/// A runtime change: a step that asks the kernel for something.
#[derive(Debug, Clone)]
pub enum Change {
    LinkSet {
        dev: IfRef,
        set: LinkSet,
    },
    LinkDelete {
        dev: IfRef,
    },
    Address {
        dev: IfRef,
        cidr: Cidr,
        add: bool,
    },
    Route {
        node: NodeName,
        route: Route,
        add: bool,
    },
    Sysctl {
        node: NodeName,
        key: String,
        value: String,
    },
    Neigh {
        node: NodeName,
        op: NeighOp,
    },
    Fdb {
        node: NodeName,
        op: FdbOp,
    },
}

#[derive(Debug, Clone)]
pub enum Action {
    Ping(Ping),
    Arping(Arping),
    Send(Send),
    Watch(Watch),
    Link {
        dev: IfRef,
        up: bool,
    },
    /// `error`: the kernel must refuse the change with a message containing this text.
    Change {
        change: Change,
        error: Option<String>,
    },
    Check {
        check: Check,
        wait: Wait,
    },
    Snapshot(Snapshot),
    Sleep(Duration),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_macs_are_fixed_local_unicast() {
        let a = Mac::derived("net1", "vethpeer1");
        assert_eq!(a, Mac::derived("net1", "vethpeer1"));
        assert_ne!(a, Mac::derived("net2", "vethpeer1"));
        assert_eq!(a.0[0], 0x02);
        // Pinned: a change here changes every snapshot.
        assert_eq!(a.to_string(), Mac::derived("net1", "vethpeer1").to_string());
    }

    #[test]
    fn cidr_parsing_and_containment() {
        let c = Cidr::parse("10.100.0.1/16").unwrap();
        assert!(c.contains("10.100.200.3".parse().unwrap()));
        assert!(!c.contains("10.101.0.1".parse().unwrap()));
        assert_eq!(c.network().to_string(), "10.100.0.0/16");
        assert!(Cidr::parse("10.0.0.1/33").is_none());
        assert!(Cidr::parse("10.0.0/24").is_none());
        assert!(Cidr::parse("fd00::1/64")
            .unwrap()
            .contains("fd00::2".parse().unwrap()));
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(Mac::parse("02:00:00:00:00:0a").unwrap().0[5], 10);
        assert!(Mac::parse("02:00:00:00:00").is_none());
        assert!(Mac::parse("02:00:00:00:00:zz").is_none());
    }
}
