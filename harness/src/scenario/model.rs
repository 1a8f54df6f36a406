//! The typed scenario: valid by construction. Everything downstream trusts it.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use super::frames::*;
pub use super::services::*;
use super::spans::Pos;
pub use super::values::*;

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The path under `scenarios/` without extension, e.g. `seed/bridge`.
    pub name: String,
    pub file: PathBuf,
    pub description: Option<String>,
    /// Kernel features it needs (`FEATURES`).
    pub requires: Vec<String>,
    pub nodes: Vec<Node>,
    pub steps: Vec<Step>,
    /// Interfaces whose frames are recorded to `capture.pcapng` in the report folder.
    pub capture: Vec<IfRef>,
    /// Echo servers started before the steps.
    pub listen: Vec<Listen>,
    /// A matrix trial's `[key=value,...]`, also the end of `name`; empty otherwise.
    pub variant: String,
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

    /// The node that declares an address.
    pub fn address_owner(&self, ip: IpAddr) -> Option<&NodeName> {
        self.nodes
            .iter()
            .find(|n| {
                n.interfaces
                    .iter()
                    .any(|i| i.addresses.iter().any(|c| c.addr == ip))
            })
            .map(|n| &n.name)
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: NodeName,
    pub sysctls: Vec<(String, String)>,
    pub interfaces: Vec<Interface>,
    pub routes: Vec<Route>,
    /// Nexthop objects (`ip nexthop add ...`), members before the groups that use them.
    pub nexthops: Vec<Nexthop>,
    pub neigh: Vec<StaticNeigh>,
    pub fdb: Vec<StaticFdb>,
    /// Rulesets loaded before the steps, in order.
    pub netfilter: Vec<Rules>,
}

impl Interface {
    /// The first IPv4 address declared on it: what an ARP frame speaks for by default.
    pub fn first_ipv4(&self) -> Option<std::net::Ipv4Addr> {
        self.addresses.iter().find_map(|c| match c.addr {
            IpAddr::V4(v) => Some(v),
            IpAddr::V6(_) => None,
        })
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
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

/// A permanent ARP/ND entry, or a proxy entry (`ip neigh add proxy`), which has no MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticNeigh {
    pub to: IpAddr,
    /// None only for a proxy entry.
    pub mac: Option<Mac>,
    pub dev: IfName,
    /// `proxy`: the node answers ARP/ND for `to` on `dev`.
    pub proxy: bool,
    /// NTF_ROUTER: the neighbour is a router (IPv6).
    pub router: bool,
    /// NTF_EXT_LEARNED: as if a controller had learned it.
    pub extern_learn: bool,
}

impl fmt::Display for StaticNeigh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.proxy {
            f.write_str("proxy ")?;
        }
        write!(f, "{}", self.to)?;
        if let Some(m) = &self.mac {
            write!(f, " lladdr {m}")?;
        }
        write!(f, " dev {}", self.dev)?;
        if self.router {
            f.write_str(" router")?;
        }
        if self.extern_learn {
            f.write_str(" extern_learn")?;
        }
        Ok(())
    }
}

/// An FDB entry added by hand: on a bridge port (`master`), or on a vxlan device
/// itself (`self`), where `dst` is the remote VTEP (`00:00:00:00:00:00` with a `dst`
/// is a default remote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFdb {
    pub mac: Mac,
    pub port: IfName,
    pub state: FdbState,
    pub sticky: bool,
    pub dst: Option<IpAddr>,
    /// NTF_EXT_LEARNED: as if a controller had learned it.
    pub extern_learn: bool,
    /// NTF_SELF: the entry belongs to the device (a vxlan), not to its bridge.
    pub on_self: bool,
    /// `bridge fdb append`: another `dst` for a MAC that has one.
    pub append: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
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
    Vxlan(Vxlan),
}

/// A vxlan device: `ip link add NAME type vxlan id VNI [local] [remote] [dev] dstport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vxlan {
    pub vni: u32,
    pub local: Option<IpAddr>,
    /// The default remote VTEP; without one, only fdb entries say where frames go.
    pub remote: Option<IpAddr>,
    /// The underlay interface, in the same node.
    pub dev: Option<IfName>,
    pub dstport: u16,
}

impl IfKind {
    pub fn name(&self) -> &'static str {
        match self {
            IfKind::Veth { .. } => "veth",
            IfKind::Bridge(_) => "bridge",
            IfKind::Macvlan { .. } => "macvlan",
            IfKind::Vxlan(_) => "vxlan",
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
    /// `nexthop via A dev X weight W ...`: a multipath route (empty: a single path).
    pub hops: Vec<Hop>,
    /// `nhid N`: the route uses nexthop object N.
    pub nhid: Option<u32>,
    /// `onlink`: the gateway is on the link even if no prefix says so.
    pub onlink: bool,
    /// `pref low|medium|high`: an IPv6 route's preference (RFC 4191).
    pub pref: Option<String>,
}

/// One path of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub via: Option<IpAddr>,
    pub dev: Option<IfName>,
    /// 1 to 256, as `ip route` takes it.
    pub weight: u16,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = Vec::new();
        if let Some(v) = &self.via {
            words.push(format!("via {v}"));
        }
        if let Some(d) = &self.dev {
            words.push(format!("dev {d}"));
        }
        words.push(format!("weight {}", self.weight));
        f.write_str(&words.join(" "))
    }
}

/// A nexthop object, `ip nexthop add id N ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    /// The line as the user wrote it, for messages.
    pub text: String,
    /// 1 or more: the kernel reads 0 as "pick one".
    pub id: u32,
    pub kind: NexthopKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NexthopKind {
    /// `via A dev X [onlink]`, or `dev X` alone; `v6` is the family of a dev-only one.
    /// Without `dev` only in a runtime step, for the kernel to refuse.
    Path {
        via: Option<IpAddr>,
        dev: Option<IfName>,
        v6: bool,
        onlink: bool,
    },
    Blackhole {
        v6: bool,
    },
    /// `group 1/2,3`: member ids with their weights (1 to 256).
    Group(Vec<(u32, u16)>),
}

impl fmt::Display for NexthopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NexthopKind::Path { via, dev, .. } => {
                let mut words = Vec::new();
                if let Some(v) = via {
                    words.push(format!("via {v}"));
                }
                if let Some(d) = dev {
                    words.push(format!("dev {d}"));
                }
                f.write_str(&words.join(" "))
            }
            NexthopKind::Blackhole { .. } => f.write_str("blackhole"),
            NexthopKind::Group(m) => write!(f, "group {}", group_text(m)),
        }
    }
}

/// `1/2,3`: members and their weights, weight 1 left out, as iproute2 prints a group.
pub fn group_text(members: &[(u32, u16)]) -> String {
    members
        .iter()
        .map(|(id, w)| {
            if *w == 1 {
                id.to_string()
            } else {
                format!("{id},{w}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
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
    pub trace: Option<Trace>,
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
        /// With a device the check asks the kernel for that one entry, as
        /// `ip neigh get ADDR dev DEV` does, instead of reading the whole table.
        dev: Option<IfName>,
        /// A proxy entry (`ip neigh get proxy ...`).
        proxy: bool,
        /// Exactly these flags (`router`, `extern_learn`); `[]` is none.
        flags: Option<Vec<String>>,
    },
    Fdb {
        node: NodeName,
        mac: (Mac, String),
        port: Option<IfName>,
        present: bool,
        /// The remote VTEP of a vxlan entry.
        dst: Option<IpAddr>,
        /// Exactly these flags (`sticky`, `extern_learn`, `offload`, `locked`); `[]` none.
        flags: Option<Vec<String>>,
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
        /// Attributes the route must also have.
        attrs: Box<RouteAttrs>,
        /// For a lookup: what `ip route get` takes besides the destination.
        how: LookupOpts,
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
    /// A nexthop object: whether it exists, and what it is.
    Nexthop {
        node: NodeName,
        id: u32,
        present: bool,
        /// `via A dev X`, `dev X`, `blackhole` or `group 1/2,3`, as `ip nexthop` prints it.
        is: Option<NexthopKind>,
        /// Exactly these flags (`dead`, `linkdown`, `onlink`); `[]` is none.
        flags: Option<Vec<String>>,
    },
    /// Packets and bytes a netfilter rule (or an iptables chain policy) counted.
    Counter {
        node: NodeName,
        what: CounterRef,
        packets: Option<Count>,
        bytes: Option<Count>,
    },
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
    pub proto: Option<String>,
    pub scope: Option<String>,
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
    pub pref: Option<String>,
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
    /// A vxlan's default remote (`ip link set dev vx type vxlan remote IP`).
    pub remote: Option<IpAddr>,
}

#[derive(Debug, Clone)]
pub enum NeighOp {
    Add(StaticNeigh),
    Del {
        to: IpAddr,
        dev: IfName,
        proxy: bool,
    },
    Flush {
        dev: IfName,
    },
}

#[derive(Debug, Clone)]
pub enum FdbOp {
    Add(StaticFdb),
    Del {
        mac: Mac,
        port: IfName,
        dst: Option<IpAddr>,
        /// The entry is the device's own (a vxlan's), not its bridge's.
        on_self: bool,
    },
    Flush {
        port: IfName,
    },
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
    /// `ip nexthop add|replace ...` or `ip nexthop del id N`.
    Nexthop {
        node: NodeName,
        add: Option<Nexthop>,
        /// With `add`: replace the nexthop of that id if there is one.
        replace: bool,
        del: Option<u32>,
    },
}

#[derive(Debug, Clone)]
pub enum Action {
    Ping(Ping),
    /// Pings sent all at once, each judged on its own; the step fails if any does.
    Pings(Vec<Ping>),
    Arping(Arping),
    Send(Send),
    Watch(Watch),
    Link {
        dev: IfRef,
        up: bool,
    },
    /// A veth's carrier, taken away or given back through its peer's admin state: the
    /// veth itself stays administratively up.
    Carrier {
        dev: IfRef,
        peer: IfRef,
        on: bool,
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
    /// Start an echo server, or stop one (`stop: true`).
    Listen {
        listen: Listen,
        stop: bool,
    },
    Connect(Connect),
    Exec(Exec),
    /// Load rules into a node at runtime, keeping those already there.
    Rules {
        node: NodeName,
        rules: Rules,
        error: Option<String>,
    },
}

impl Action {
    /// The step's key in the YAML, for machine-readable results.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Ping(_) => "ping",
            Action::Pings(_) => "pings",
            Action::Arping(_) => "arping",
            Action::Send(_) => "send",
            Action::Watch(_) => "watch",
            Action::Link { .. } | Action::Carrier { .. } => "link",
            Action::Change { change, .. } => match change {
                Change::LinkSet { .. } | Change::LinkDelete { .. } => "link",
                Change::Address { .. } => "address",
                Change::Route { .. } => "route",
                Change::Sysctl { .. } => "sysctl",
                Change::Neigh { .. } => "neigh",
                Change::Fdb { .. } => "fdb",
                Change::Nexthop { .. } => "nexthop",
            },
            Action::Check { .. } => "check",
            Action::Snapshot(_) => "snapshot",
            Action::Sleep(_) => "sleep",
            Action::Listen { .. } => "listen",
            Action::Connect(_) => "connect",
            Action::Exec(_) => "exec",
            Action::Rules { .. } => "netfilter",
        }
    }
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
