//! Scenario -> Plan: the ordered operations that build a topology. Pure, so the order
//! can be tested without root.
//!
//! Operations come in phases. Within a phase nothing depends on anything else, so
//! `apply` may run a phase's operations concurrently; a phase starts when the one
//! before it has finished.

use std::net::IpAddr;

use crate::scenario::{
    BondMode, BondOptions, BridgeOptions, Cidr, IfKind, IfName, IfRef, Interface, Mac, MacvlanMode,
    Nexthop, Node, NodeName, PortOptions, Route, Rules, Scenario, StaticFdb, StaticNeigh, Vxlan,
};

/// One operation of a plan, or of a runtime change (`change::lower`): `apply::exec`
/// runs each as one netlink request or one sysctl write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Create(Create),
    Link(LinkOp),
    Entry(EntryOp),
    Sysctl {
        node: NodeName,
        key: String,
        value: String,
    },
    /// A ruleset for the node's netfilter tool; `add` keeps what is loaded already.
    /// `file` is the scenario's, to point at a refused rule.
    Rules {
        node: NodeName,
        rules: Rules,
        add: bool,
        file: std::path::PathBuf,
    },
}

/// A link to create, born in its node with its fixed index, MAC and MTU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Create {
    Bridge {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        opts: BridgeOptions,
    },
    Veth {
        end: IfRef,
        mac: Mac,
        mtu: Option<u32>,
        peer: IfRef,
        peer_mac: Mac,
        peer_mtu: Option<u32>,
    },
    Macvlan {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        parent: IfRef,
        mode: MacvlanMode,
    },
    Vxlan {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        vxlan: Vxlan,
    },
    Dummy {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
    },
    Vlan {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        parent: IfName,
        id: u16,
    },
    Vrf {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        table: u32,
    },
    /// Without its primary, which must be a port first (`LinkOp::SetBondPrimary`).
    Bond {
        node: NodeName,
        name: IfName,
        mac: Mac,
        mtu: Option<u32>,
        opts: BondOptions,
    },
}

impl Create {
    /// The new link's node, name, MAC and MTU (a veth's: the end that creates the pair).
    pub(crate) fn link(&self) -> (&NodeName, &IfName, Mac, Option<u32>) {
        match self {
            Create::Veth { end, mac, mtu, .. } => (&end.node, &end.ifname, *mac, *mtu),
            Create::Bridge {
                node,
                name,
                mac,
                mtu,
                ..
            }
            | Create::Macvlan {
                node,
                name,
                mac,
                mtu,
                ..
            }
            | Create::Vxlan {
                node,
                name,
                mac,
                mtu,
                ..
            }
            | Create::Dummy {
                node,
                name,
                mac,
                mtu,
            }
            | Create::Vlan {
                node,
                name,
                mac,
                mtu,
                ..
            }
            | Create::Vrf {
                node,
                name,
                mac,
                mtu,
                ..
            }
            | Create::Bond {
                node,
                name,
                mac,
                mtu,
                ..
            } => (node, name, *mac, *mtu),
        }
    }
}

/// A change to an existing link: its state, master, addresses or port options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkOp {
    SetMaster {
        node: NodeName,
        name: IfName,
        master: IfName,
    },
    AddAddress {
        node: NodeName,
        name: IfName,
        cidr: Cidr,
        dad: bool,
    },
    SetUp {
        node: NodeName,
        name: IfName,
    },
    SetDown {
        node: NodeName,
        name: IfName,
    },
    /// `ip link set dev X type vxlan remote IP`.
    SetVxlanRemote {
        node: NodeName,
        name: IfName,
        remote: IpAddr,
    },
    SetLink {
        node: NodeName,
        name: IfName,
        mtu: Option<u32>,
        mac: Option<Mac>,
    },
    SetNomaster {
        node: NodeName,
        name: IfName,
    },
    DelLink {
        node: NodeName,
        name: IfName,
    },
    DelAddress {
        node: NodeName,
        name: IfName,
        cidr: Cidr,
    },
    SetPort {
        node: NodeName,
        name: IfName,
        opts: PortOptions,
    },
    /// A bridge's own VLANs (`bridge vlan add dev BR vid N self`), exactly.
    SetBridgeVlans {
        node: NodeName,
        name: IfName,
        vlans: Vec<crate::scenario::PortVlan>,
    },
    /// `bridge vlan add|del dev NAME vid N [pvid] [untagged] [self]`.
    PortVlan {
        node: NodeName,
        name: IfName,
        vlan: crate::scenario::PortVlan,
        add: bool,
        on_self: bool,
    },
    /// `ip link set dev BOND type bond primary PORT`: the port must be attached.
    SetBondPrimary {
        node: NodeName,
        name: IfName,
        primary: IfName,
    },
}

/// A table entry to add or remove: routes, nexthops, neighbours, fdb entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryOp {
    AddRoute {
        node: NodeName,
        route: Route,
    },
    DelRoute {
        node: NodeName,
        route: Route,
    },
    /// In order: a group's members must exist before it.
    AddNexthops {
        node: NodeName,
        nexthops: Vec<Nexthop>,
        /// `ip nexthop replace`.
        replace: bool,
    },
    DelNexthop {
        node: NodeName,
        id: u32,
    },
    AddNeigh {
        node: NodeName,
        entry: StaticNeigh,
    },
    DelNeigh {
        node: NodeName,
        dev: IfName,
        to: IpAddr,
        proxy: bool,
    },
    FlushNeigh {
        node: NodeName,
        dev: IfName,
    },
    AddFdb {
        node: NodeName,
        entry: StaticFdb,
    },
    DelFdb {
        node: NodeName,
        port: IfName,
        mac: Mac,
        dst: Option<IpAddr>,
        on_self: bool,
        vlan: Option<u16>,
    },
    FlushFdb {
        node: NodeName,
        port: IfName,
    },
}

/// What `apply` waits for before the first step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// Links that must report oper-state UP.
    pub links_up: Vec<IfRef>,
    /// IPv6 prefix routes (`P dev X proto kernel`) that must exist: a neighbour
    /// solicitation that arrives before its route is dropped, and the first ping6 then
    /// waits a whole second for the retransmit.
    pub v6_prefix_routes: Vec<(IfRef, Cidr)>,
    /// Links whose kernel-made link-local address must exist and be past DAD. With DAD
    /// off it is still tentative until a workqueue runs, which a loaded machine delays;
    /// meanwhile it answers no neighbour solicitation, and a ping through it waits a
    /// second for the retransmit.
    pub v6_link_local: Vec<IfRef>,
    /// Bonds that must have taken their primary as the active port: a bond takes it
    /// at its next link check after the primary carries, up to `updelay` later.
    pub bond_primaries: Vec<(IfRef, IfName)>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub phases: Vec<(&'static str, Vec<Op>)>,
    pub ready: Readiness,
    /// The ifindex each interface is created with: unique across the whole scenario.
    /// Two veth ends with the same ifindex in their two namespaces look to the kernel
    /// like a link that is its own lower device, and linkwatch then delays their
    /// oper-state UP by up to a second. Unique indexes also save a dump per node.
    pub indexes: std::collections::BTreeMap<IfRef, u32>,
    /// Sysctls written when each namespace is created, before any link exists.
    pub early_sysctls: std::collections::BTreeMap<NodeName, Vec<(String, String)>>,
}

pub(crate) fn plan(sc: &Scenario) -> Plan {
    let mut ph = Phases::default();
    let mut ready = Readiness::default();
    let mut indexes = std::collections::BTreeMap::new();
    for (i, r) in sc.interface_refs().enumerate() {
        // 1 is `lo` in every namespace.
        indexes.insert(r, 2 + i as u32);
    }

    let mut early_sysctls = std::collections::BTreeMap::new();
    for n in &sc.nodes {
        let early = early_sysctls.entry(n.name.clone()).or_insert_with(Vec::new);
        for (k, v) in ipv6_sysctls(n) {
            early.push((k, v.to_string()));
        }
        // `lo` exists from the start; bring it up with the rest (a ping to a node's own
        // address needs it).
        indexes.insert(
            IfRef {
                node: n.name.clone(),
                ifname: "lo".into(),
            },
            1,
        );
        ph.ups.push(Op::Link(LinkOp::SetUp {
            node: n.name.clone(),
            name: "lo".into(),
        }));
        plan_sysctls(n, early, &mut ph);
        for i in &n.interfaces {
            plan_interface(sc, n, i, &mut ph, &mut ready);
        }
        for e in &n.neigh {
            ph.entries.push(Op::Entry(EntryOp::AddNeigh {
                node: n.name.clone(),
                entry: e.clone(),
            }));
        }
        for e in &n.fdb {
            ph.entries.push(Op::Entry(EntryOp::AddFdb {
                node: n.name.clone(),
                entry: e.clone(),
            }));
        }
        if !n.nexthops.is_empty() {
            ph.nexthops.push(Op::Entry(EntryOp::AddNexthops {
                node: n.name.clone(),
                nexthops: n.nexthops.clone(),
                replace: false,
            }));
        }
        for r in &n.routes {
            ph.routes.push(Op::Entry(EntryOp::AddRoute {
                node: n.name.clone(),
                route: r.clone(),
            }));
        }
        for r in &n.netfilter {
            ph.rules.push(Op::Rules {
                node: n.name.clone(),
                rules: r.clone(),
                add: false,
                file: sc.file.clone(),
            });
        }
    }
    Plan {
        phases: vec![
            ("create links", ph.base),
            ("create stacked links", ph.stacked),
            ("set sysctls", ph.sysctls),
            // Independent of each other, so one phase: fewer round trips.
            (
                "attach to bridges, add addresses",
                [ph.masters, ph.addresses].concat(),
            ),
            // Port options need the port attached, which the phase before did.
            ("set links up", ph.ups),
            // Routes may name them (`nhid`); a group's members come first in each node.
            ("add nexthops", ph.nexthops),
            ("add routes", ph.routes),
            // After links are up: taking a link down and up removes even permanent entries.
            ("add static entries", ph.entries),
            // Last: rules may name any interface. One node's rulesets load in order.
            ("load netfilter rules", ph.rules),
        ],
        ready,
        indexes,
        early_sysctls,
    }
}

/// The operations of each phase, as they are collected.
#[derive(Default)]
struct Phases {
    base: Vec<Op>,
    stacked: Vec<Op>,
    sysctls: Vec<Op>,
    masters: Vec<Op>,
    addresses: Vec<Op>,
    ups: Vec<Op>,
    nexthops: Vec<Op>,
    routes: Vec<Op>,
    entries: Vec<Op>,
    rules: Vec<Op>,
}

/// A node's own sysctls: written at birth, or after its links exist when they name one.
fn plan_sysctls(n: &Node, early: &mut Vec<(String, String)>, ph: &mut Phases) {
    for i in n.interfaces.iter().filter(|i| i.dad && ipv6_on(n)) {
        // The node's default is DAD off; this interface asked for it, before it comes up.
        ph.sysctls.push(Op::Sysctl {
            node: n.name.clone(),
            key: format!("net/ipv6/conf/{}/accept_dad", i.name),
            value: "1".into(),
        });
    }
    for (key, value) in &n.sysctls {
        // A sysctl that names none of the node's interfaces can be written as the
        // namespace is born, on the thread that creates it: no extra round trip.
        // A key with `/` separators may name an interface with a dot in it.
        let names_an_interface = n.interfaces.iter().any(|i| {
            key.split(['.', '/']).any(|seg| seg == i.name)
                || key.split('/').any(|seg| seg == i.name)
        });
        if names_an_interface {
            ph.sysctls.push(Op::Sysctl {
                node: n.name.clone(),
                key: key.clone(),
                value: value.clone(),
            });
        } else {
            early.push((key.clone(), value.clone()));
        }
    }
}

/// The interface's creation, in the base phase or, on top of another link, the
/// stacked one. The passive end of a veth pair is created with its peer.
fn plan_create(sc: &Scenario, n: &Node, i: &Interface, ph: &mut Phases) {
    let me = IfRef {
        node: n.name.clone(),
        ifname: i.name.clone(),
    };
    match &i.kind {
        IfKind::Bridge(opts) => ph.base.push(Op::Create(Create::Bridge {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
            opts: opts.clone(),
        })),
        IfKind::Veth {
            peer,
            creates: true,
        } => {
            let other = sc.interface(peer).expect("resolve checked the peer");
            ph.base.push(Op::Create(Create::Veth {
                end: me.clone(),
                mac: i.mac,
                mtu: i.mtu,
                peer: peer.clone(),
                peer_mac: other.mac,
                peer_mtu: other.mtu,
            }));
        }
        IfKind::Veth { creates: false, .. } => {}
        IfKind::Macvlan { parent, mode } => ph.stacked.push(Op::Create(Create::Macvlan {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
            parent: parent.clone(),
            mode: *mode,
        })),
        IfKind::Vxlan(v) => ph.stacked.push(Op::Create(Create::Vxlan {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
            vxlan: v.clone(),
        })),
        IfKind::Dummy => ph.base.push(Op::Create(Create::Dummy {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
        })),
        IfKind::Vlan { parent, id } => ph.stacked.push(Op::Create(Create::Vlan {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
            parent: parent.clone(),
            id: *id,
        })),
        IfKind::Vrf { table } => ph.base.push(Op::Create(Create::Vrf {
            node: n.name.clone(),
            name: i.name.clone(),
            mac: i.mac,
            mtu: i.mtu,
            table: *table,
        })),
        IfKind::Bond(opts) => {
            ph.base.push(Op::Create(Create::Bond {
                node: n.name.clone(),
                name: i.name.clone(),
                mac: i.mac,
                mtu: i.mtu,
                opts: opts.clone(),
            }));
            if let Some(p) = &opts.primary {
                ph.ups.push(Op::Link(LinkOp::SetBondPrimary {
                    node: n.name.clone(),
                    name: i.name.clone(),
                    primary: p.clone(),
                }));
            }
        }
    }
}

/// Creating one interface, attaching it, addressing it and bringing it up, and what
/// readiness then waits for.
fn plan_interface(sc: &Scenario, n: &Node, i: &Interface, ph: &mut Phases, ready: &mut Readiness) {
    let me = IfRef {
        node: n.name.clone(),
        ifname: i.name.clone(),
    };
    plan_create(sc, n, i, ph);
    if let Some(m) = &i.master {
        ph.masters.push(Op::Link(LinkOp::SetMaster {
            node: n.name.clone(),
            name: i.name.clone(),
            master: m.clone(),
        }));
    }
    if let IfKind::Bridge(BridgeOptions {
        vlans: Some(vlans), ..
    }) = &i.kind
    {
        ph.ups.push(Op::Link(LinkOp::SetBridgeVlans {
            node: n.name.clone(),
            name: i.name.clone(),
            vlans: vlans.clone(),
        }));
    }
    // Port options need the port attached: they go with the links coming up, after it.
    if !i.port.is_empty() {
        ph.ups.push(Op::Link(LinkOp::SetPort {
            node: n.name.clone(),
            name: i.name.clone(),
            opts: i.port.clone(),
        }));
    }
    for c in &i.addresses {
        ph.addresses.push(Op::Link(LinkOp::AddAddress {
            node: n.name.clone(),
            name: i.name.clone(),
            cidr: *c,
            dad: i.dad,
        }));
        if c.addr.is_ipv6() && c.prefix < 128 && i.up && !i.dad {
            ready.v6_prefix_routes.push((me.clone(), c.network()));
        }
    }
    if i.up {
        ph.ups.push(Op::Link(LinkOp::SetUp {
            node: n.name.clone(),
            name: i.name.clone(),
        }));
        if will_carry(sc, &me) {
            ready.links_up.push(me.clone());
            if ipv6_on(n) && !i.dad && !link_local_configured(n) && gets_link_local(n, i) {
                ready.v6_link_local.push(me.clone());
            }
            if let Some(p) = primary_to_await(sc, n, i) {
                ready.bond_primaries.push((me.clone(), p));
            }
        }
    }
}

/// A bond's primary, when the bond will make it its active port: active-backup (the
/// resolver allows `primary` there only), and a primary that will carry.
fn primary_to_await(sc: &Scenario, n: &Node, i: &Interface) -> Option<IfName> {
    let IfKind::Bond(opts) = &i.kind else {
        return None;
    };
    let p = opts.primary.clone()?;
    let with_active = opts.mode == BondMode::ActiveBackup;
    let port = IfRef {
        node: n.name.clone(),
        ifname: p.clone(),
    };
    (with_active && will_carry(sc, &port)).then_some(p)
}

/// Whether the kernel gives the interface an IPv6 link-local address: not a bond's
/// port (addrconf skips IFF_SLAVE devices), and not a VRF device.
fn gets_link_local(n: &Node, i: &Interface) -> bool {
    let bond_port = i
        .master
        .as_ref()
        .and_then(|m| n.interface(m))
        .is_some_and(|m| matches!(m.kind, IfKind::Bond(_)));
    !bond_port && !matches!(i.kind, IfKind::Vrf { .. })
}

/// Whether IPv6 stays on in a node: only where the scenario gives it IPv6 addresses.
/// Whether the scenario's own sysctls decide about IPv6 addresses in the node, in which
/// case a link-local address may rightly never appear.
fn link_local_configured(n: &Node) -> bool {
    n.sysctls
        .iter()
        .any(|(k, _)| k.contains("disable_ipv6") || k.contains("addr_gen_mode"))
}

fn ipv6_on(n: &Node) -> bool {
    n.interfaces
        .iter()
        .any(|i| i.addresses.iter().any(|c| c.addr.is_ipv6()))
}

/// The IPv6 sysctls a node is born with, before its links exist (the scenario's own
/// sysctls come after, so they can change them).
/// - Without IPv6 addresses, IPv6 is off, as Docker does for containers: no link-local
///   DAD, MLD or router solicitations, so nothing is learned or resolved behind the
///   scenario's back.
/// - With IPv6, DAD is off for the kernel's own link-local addresses too: while a
///   router's link-local address is tentative, the kernel sends no neighbour
///   solicitation for traffic it forwards, and the first forwarded ping6 is lost for
///   about 2 s. An interface with `dad: true` turns it back on for itself.
pub(crate) fn ipv6_sysctls(n: &Node) -> Vec<(String, &'static str)> {
    let (key, value) = if ipv6_on(n) {
        ("accept_dad", "0")
    } else {
        ("disable_ipv6", "1")
    };
    ["all", "default"]
        .iter()
        .map(|k| (format!("net.ipv6.conf.{k}.{key}"), value))
        .collect()
}

/// What to wait for after a step sets `r` up: the link, its veth peer and their
/// bridges, each where it will carry.
pub(crate) fn after_link_up(sc: &Scenario, r: &IfRef) -> Readiness {
    let mut candidates = vec![r.clone()];
    if let Some(i) = sc.interface(r) {
        if let IfKind::Veth { peer, .. } = &i.kind {
            candidates.push(peer.clone());
            if let Some(m) = sc.interface(peer).and_then(|p| p.master.clone()) {
                candidates.push(IfRef {
                    node: peer.node.clone(),
                    ifname: m,
                });
            }
        }
        if let Some(m) = &i.master {
            candidates.push(IfRef {
                node: r.node.clone(),
                ifname: m.clone(),
            });
        }
    }
    let links_up: Vec<IfRef> = candidates
        .into_iter()
        .filter(|c| will_carry(sc, c))
        .collect();
    let v6_link_local = links_up
        .iter()
        .filter(|c| {
            let Some(n) = sc.node(&c.node) else {
                return false;
            };
            ipv6_on(n)
                && !link_local_configured(n)
                && sc
                    .interface(c)
                    .is_some_and(|i| !i.dad && gets_link_local(n, i))
        })
        .cloned()
        .collect();
    Readiness {
        links_up,
        v6_prefix_routes: Vec::new(),
        v6_link_local,
        bond_primaries: Vec::new(),
    }
}

/// Whether a link that is set up will also report oper-state UP, so readiness can wait for it.
/// Resolve refused reference cycles, so the recursion ends; `depth` bounds it anyway.
pub(crate) fn will_carry(sc: &Scenario, r: &IfRef) -> bool {
    carries(sc, r, 0)
}

fn carries(sc: &Scenario, r: &IfRef, depth: usize) -> bool {
    let Some(i) = sc.interface(r) else {
        return false;
    };
    if depth > 64 {
        return false;
    }
    if !i.up {
        return false;
    }
    match &i.kind {
        IfKind::Veth { peer, .. } => sc.interface(peer).is_some_and(|p| p.up),
        // A bridge has carrier once one of its ports forwards; with STP that takes
        // 2 x forward_delay, which a scenario checks with `within`, not readiness.
        // A bond carries once one of its ports does.
        IfKind::Bridge(BridgeOptions {
            stp: Some(true), ..
        }) => false,
        IfKind::Bridge(_) | IfKind::Bond(_) => sc.node(&r.node).is_some_and(|n| {
            n.interfaces.iter().any(|p| {
                p.master.as_deref() == Some(&r.ifname)
                    && carries(
                        sc,
                        &IfRef {
                            node: r.node.clone(),
                            ifname: p.name.clone(),
                        },
                        depth + 1,
                    )
            })
        }),
        IfKind::Macvlan { parent, .. } => carries(sc, parent, depth + 1),
        IfKind::Vxlan(_) => false,
        // A dummy has its carrier from birth but reports oper state `unknown`: nothing
        // to wait for on the dummy itself; below a bridge or a vlan, it carries.
        IfKind::Dummy => depth > 0,
        IfKind::Vlan { parent, .. } => carries(
            sc,
            &IfRef {
                node: r.node.clone(),
                ifname: parent.clone(),
            },
            depth + 1,
        ),
        // A VRF is up as soon as it is set up, ports or not.
        IfKind::Vrf { .. } => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SEED: &str = include_str!("../../scenarios/seed/bridge.yaml");

    #[test]
    fn seed_bridge_plan_orders_phases() {
        let sc =
            crate::scenario::load_str(Path::new("seed/bridge.yaml"), "seed/bridge", SEED).unwrap();
        let p = plan(&sc);
        let names: Vec<&str> = p.phases.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "create links",
                "create stacked links",
                "set sysctls",
                "attach to bridges, add addresses",
                "set links up",
                "add nexthops",
                "add routes",
                "add static entries",
                "load netfilter rules"
            ]
        );
        let create = &p.phases[0].1;
        assert_eq!(create.len(), 3, "one bridge and two veth pairs: {create:?}");
        assert!(create.iter().any(|o| matches!(o, Op::Create(Create::Veth { end, peer, .. }) if end.to_string() == "host:veth1" && peer.to_string() == "net1:vethpeer1")));
        assert!(
            p.phases[2].1.is_empty(),
            "ip_forward names no interface: written at creation"
        );
        assert_eq!(
            p.early_sysctls["host"],
            [
                (
                    "net.ipv6.conf.all.disable_ipv6".to_string(),
                    "1".to_string()
                ),
                (
                    "net.ipv6.conf.default.disable_ipv6".to_string(),
                    "1".to_string()
                ),
                ("net.ipv4.ip_forward".to_string(), "1".to_string())
            ],
            "IPv6 off first (no IPv6 addresses), then the scenario's own"
        );
        assert_eq!(
            p.phases[3].1.len(),
            2 + 3,
            "both veths attach to br00; three addresses"
        );
        assert_eq!(
            p.phases[4].1.len(),
            5 + 3,
            "five links and three `lo` come up"
        );
        assert!(p.phases[5].1.is_empty(), "no nexthop objects");
        assert_eq!(p.phases[6].1.len(), 2, "a default route in net1 and net2");
        let up: Vec<String> = p.ready.links_up.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            up,
            [
                "host:br00",
                "host:veth1",
                "host:veth2",
                "net1:vethpeer1",
                "net2:vethpeer2"
            ]
        );
        assert!(
            p.ready.v6_prefix_routes.is_empty(),
            "an IPv4-only scenario never waits for IPv6"
        );
        let mut idx: Vec<u32> = p
            .indexes
            .iter()
            .filter(|(r, _)| r.ifname != "lo")
            .map(|(_, i)| *i)
            .collect();
        idx.dedup();
        assert_eq!(idx, [2, 3, 4, 5, 6], "every interface has its own ifindex");
    }

    fn seed() -> Scenario {
        crate::scenario::load_str(Path::new("seed/bridge.yaml"), "seed/bridge", SEED).unwrap()
    }

    fn at(node: &str, ifname: &str) -> IfRef {
        IfRef {
            node: node.into(),
            ifname: ifname.into(),
        }
    }

    #[test]
    fn a_bridge_port_set_up_waits_for_itself_its_peer_and_its_bridge() {
        let sc = seed();
        let r = after_link_up(&sc, &at("host", "veth2"));
        let up: Vec<String> = r.links_up.iter().map(|r| r.to_string()).collect();
        assert_eq!(up, ["host:veth2", "net2:vethpeer2", "host:br00"]);
        let from_peer = after_link_up(&sc, &at("net2", "vethpeer2"));
        let up: Vec<String> = from_peer.links_up.iter().map(|r| r.to_string()).collect();
        assert_eq!(up, ["net2:vethpeer2", "host:veth2", "host:br00"]);
        assert!(
            r.v6_link_local.is_empty(),
            "IPv6 is off in an IPv4-only scenario"
        );
    }

    #[test]
    fn only_a_link_that_will_carry_is_waited_for() {
        let src = SEED.replace(
            "veth2: { peer: net2:vethpeer2, master: br00 }",
            "veth2: { peer: net2:vethpeer2, master: br00, up: false }",
        );
        let sc =
            crate::scenario::load_str(Path::new("seed/bridge.yaml"), "seed/bridge", &src).unwrap();
        assert!(will_carry(&sc, &at("host", "veth1")));
        assert!(!will_carry(&sc, &at("host", "veth2")), "it stays down");
        assert!(
            !will_carry(&sc, &at("net2", "vethpeer2")),
            "a veth carries only when its peer is up"
        );
        assert!(!will_carry(&sc, &at("net9", "eth0")), "no such link");
        let p = plan(&sc);
        assert!(!p.ready.links_up.contains(&at("host", "veth2")));
    }

    #[test]
    fn an_ipv4_only_node_has_ipv6_disabled_for_all_and_default() {
        let off = ipv6_sysctls(&seed().nodes[0]);
        assert_eq!(
            off,
            [
                ("net.ipv6.conf.all.disable_ipv6".to_string(), "1"),
                ("net.ipv6.conf.default.disable_ipv6".to_string(), "1")
            ]
        );
    }

    #[test]
    fn readiness_waits_for_a_primary_only_where_the_bond_will_take_it() {
        let bond = |mode: &str, eth1: &str| {
            let src = format!(
                "nodes:\n  sw:\n    interfaces:\n      br0: {{ kind: bridge }}\n      p0: {{ peer: h:eth0, master: br0 }}\n      p1: {{ peer: h:eth1, master: br0{eth1} }}\n  h:\n    interfaces:\n      bond0: {{ kind: bond, bond: {{ mode: {mode}, miimon: 100ms, primary: eth1 }} }}\n      eth0: {{ master: bond0 }}\n      eth1: {{ master: bond0 }}\n"
            );
            let sc = crate::scenario::load_str(Path::new("b.yaml"), "b", &src).unwrap();
            plan(&sc).ready.bond_primaries
        };
        let waited = vec![(at("h", "bond0"), IfName::from("eth1"))];
        assert_eq!(bond("active-backup", ""), waited);
        assert!(
            bond("active-backup", ", up: false").is_empty(),
            "the primary's peer stays down: the bond cannot take it"
        );
    }
}
