//! The typed scenario: valid by construction. Everything downstream trusts it.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

pub use super::checks::*;
pub use super::cni::*;
pub use super::frames::*;
pub use super::services::*;
pub use super::steps::*;
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
    /// CNI networks, by name.
    pub cni: Vec<CniNetwork>,
    /// The bound of a step that sets none (`step_timeout`), and of each topology CNI ADD.
    pub step_timeout: std::time::Duration,
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
    /// CNI attachments of this node as a container, ADDed after the build.
    pub cni: Vec<CniAttachment>,
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
    pub vlan_default_pvid: Option<u16>,
    /// The bridge's own VLANs (`bridge vlan add dev BR vid N self`).
    pub vlans: Option<Vec<PortVlan>>,
}

/// A bond's mode, as iproute2 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
pub enum BondMode {
    #[serde(rename = "balance-rr")]
    BalanceRr,
    #[serde(rename = "active-backup")]
    ActiveBackup,
    #[serde(rename = "balance-xor")]
    BalanceXor,
    #[serde(rename = "broadcast")]
    Broadcast,
    #[serde(rename = "802.3ad")]
    Lacp,
    #[serde(rename = "balance-tlb")]
    BalanceTlb,
    #[serde(rename = "balance-alb")]
    BalanceAlb,
}

impl BondMode {
    pub const ALL: [BondMode; 7] = [
        BondMode::BalanceRr,
        BondMode::ActiveBackup,
        BondMode::BalanceXor,
        BondMode::Broadcast,
        BondMode::Lacp,
        BondMode::BalanceTlb,
        BondMode::BalanceAlb,
    ];

    /// The kernel's number for it (BOND_MODE_*), which is also its order in `ALL`.
    pub fn number(self) -> u8 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            BondMode::BalanceRr => "balance-rr",
            BondMode::ActiveBackup => "active-backup",
            BondMode::BalanceXor => "balance-xor",
            BondMode::Broadcast => "broadcast",
            BondMode::Lacp => "802.3ad",
            BondMode::BalanceTlb => "balance-tlb",
            BondMode::BalanceAlb => "balance-alb",
        }
    }
}

/// A bond's options; times in milliseconds, as the kernel takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BondOptions {
    pub mode: BondMode,
    pub miimon_ms: Option<u32>,
    pub updelay_ms: Option<u32>,
    pub downdelay_ms: Option<u32>,
    /// A port of the bond, in the same node.
    pub primary: Option<IfName>,
}

/// Bridge port flags; None leaves the kernel's default. Read straight from YAML.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortOptions {
    /// Learn source MACs on this port (the kernel's default: on).
    pub learning: Option<bool>,
    /// Flood unknown unicast out of this port (default: on).
    pub flood: Option<bool>,
    /// Flood unknown multicast out of this port (default: on).
    pub mcast_flood: Option<bool>,
    /// Flood broadcast out of this port (default: on).
    pub bcast_flood: Option<bool>,
    /// An isolated port forwards only to ports that are not isolated.
    pub isolated: Option<bool>,
    /// The bridge answers ARP on this port for addresses it knows.
    pub proxy_arp: Option<bool>,
    /// Suppress ARP and ND on this port where the bridge can answer.
    pub neigh_suppress: Option<bool>,
    /// Accept frames only from MACs with an FDB entry on this port (802.1X).
    pub locked: Option<bool>,
    /// Send frames back out of the port they came in on.
    pub hairpin: Option<bool>,
    /// On a bridge with `vlan_filtering: true`: the port's VLANs, exactly, as `bridge
    /// vlan add` sets them. The default VLAN 1 goes unless it is listed.
    pub vlans: Option<Vec<PortVlan>>,
}

/// One VLAN of a bridge port (`bridge vlan add dev PORT vid N [pvid] [untagged]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortVlan {
    /// 1 to 4094.
    pub vid: u16,
    /// Untagged frames arriving on the port join this VLAN (at most one per port).
    #[serde(default)]
    pub pvid: bool,
    /// Frames of this VLAN leave the port without a tag.
    #[serde(default)]
    pub untagged: bool,
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
    /// `vlan N`, on a VLAN-aware bridge.
    pub vlan: Option<u16>,
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
    /// A dummy device: carrier always, no peer.
    Dummy,
    /// An 802.1Q vlan device on `parent`, in the same node.
    Vlan {
        parent: IfName,
        id: u16,
    },
    /// A VRF, routing through `table`.
    Vrf {
        table: u32,
    },
    Bond(BondOptions),
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
    /// A bridge that filters by VLAN (802.1Q bridge).
    pub fn is_vlan_aware_bridge(&self) -> bool {
        matches!(self, IfKind::Bridge(o) if o.vlan_filtering == Some(true))
    }

    pub fn name(&self) -> &'static str {
        match self {
            IfKind::Veth { .. } => "veth",
            IfKind::Bridge(_) => "bridge",
            IfKind::Macvlan { .. } => "macvlan",
            IfKind::Vxlan(_) => "vxlan",
            IfKind::Dummy => "dummy",
            IfKind::Vlan { .. } => "vlan",
            IfKind::Vrf { .. } => "vrf",
            IfKind::Bond(_) => "bond",
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
    pub pref: Option<RoutePref>,
    /// `src A`: the source address for what the route sends (RTA_PREFSRC).
    pub src: Option<IpAddr>,
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
