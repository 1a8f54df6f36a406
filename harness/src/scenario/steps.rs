//! Steps: what each kind of step does and what it expects.

use std::net::IpAddr;
use std::time::Duration;

use super::model::*;
use super::spans::Pos;

#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based, as users count.
    pub index: usize,
    pub name: Option<String>,
    pub pos: Pos,
    pub action: Action,
    /// The step fails with "step N timed out after X" past this.
    pub timeout: Duration,
    /// Run only on these kernel versions; skipped, and said so, on others.
    pub kernel: Option<super::KernelReq>,
    /// Run only where the kernel has all of these features.
    pub requires: Vec<String>,
    /// Run only where the kernel lacks all of these features.
    pub unless: Vec<String>,
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
        vlan: Option<u16>,
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
    /// `bridge vlan add|del dev DEV vid N ...`; on a bridge itself, with `self`.
    Vlan {
        dev: IfRef,
        vlan: PortVlan,
        add: bool,
        on_self: bool,
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
    Link(LinkStep),
    Carrier(CarrierStep),
    Change(ChangeStep),
    Check(CheckStep),
    Snapshot(Snapshot),
    Sleep(Duration),
    Listen(ListenStep),
    Connect(Connect),
    Exec(Exec),
    Rules(RulesStep),
    Cni(CniStep),
    Netavark(NetavarkStep),
}

/// `link: {up: node:if}` or `{down: ...}`.
#[derive(Debug, Clone)]
pub struct LinkStep {
    pub dev: IfRef,
    pub up: bool,
}

/// A veth's carrier, taken away or given back through its peer's admin state: the
/// veth itself stays administratively up.
#[derive(Debug, Clone)]
pub struct CarrierStep {
    pub dev: IfRef,
    /// A veth's peer, which goes down to take the carrier away; None for a dummy,
    /// whose carrier is set directly (`ip link set dev X carrier off`).
    pub peer: Option<IfRef>,
    pub on: bool,
}

/// A runtime change; `error`: the kernel must refuse it with a message containing
/// this text.
#[derive(Debug, Clone)]
pub struct ChangeStep {
    pub change: Change,
    pub error: Option<String>,
}

/// A check, and how long it waits or holds.
#[derive(Debug, Clone)]
pub struct CheckStep {
    pub check: Check,
    pub wait: Wait,
}

/// Start an echo server, or stop one (`stop: true`).
#[derive(Debug, Clone)]
pub struct ListenStep {
    pub listen: Listen,
    pub stop: bool,
}

/// Load rules into a node at runtime, keeping those already there; `error`: the tool
/// must refuse them with a message containing this text.
#[derive(Debug, Clone)]
pub struct RulesStep {
    pub node: NodeName,
    pub rules: Rules,
    pub error: Option<String>,
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
            Action::Link(LinkStep { .. }) | Action::Carrier(CarrierStep { .. }) => "link",
            Action::Change(ChangeStep { change, .. }) => match change {
                Change::LinkSet { .. } | Change::LinkDelete { .. } => "link",
                Change::Address { .. } => "address",
                Change::Route { .. } => "route",
                Change::Sysctl { .. } => "sysctl",
                Change::Neigh { .. } => "neigh",
                Change::Fdb { .. } => "fdb",
                Change::Vlan { .. } => "vlan",
                Change::Nexthop { .. } => "nexthop",
            },
            Action::Check(CheckStep { .. }) => "check",
            Action::Snapshot(_) => "snapshot",
            Action::Sleep(_) => "sleep",
            Action::Listen(ListenStep { .. }) => "listen",
            Action::Connect(_) => "connect",
            Action::Exec(_) => "exec",
            Action::Cni(_) => "cni",
            Action::Netavark(_) => "netavark",
            Action::Rules(RulesStep { .. }) => "netfilter",
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
