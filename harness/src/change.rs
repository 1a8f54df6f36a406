//! Runtime change steps (`link: {set}`, `address`, `route`, `sysctl`, `neigh`, `fdb`,
//! link up and down): what they are in words, and the plan ops they lower to.

use crate::plan::{EntryOp, LinkOp, Op};
use crate::scenario::{Change, FdbOp, IfRef, LinkSet, NeighOp, NodeName};

/// The change in a few words, for step titles.
pub(crate) fn describe(c: &Change) -> String {
    match c {
        Change::LinkSet { dev, set } => {
            let mut parts = Vec::new();
            if let Some(m) = set.mtu {
                parts.push(format!("mtu {m}"));
            }
            if let Some(m) = set.mac {
                parts.push(format!("mac {m}"));
            }
            match &set.master {
                Some(Some(m)) => parts.push(format!("master {m}")),
                Some(None) => parts.push("nomaster".into()),
                None => {}
            }
            if !set.port.is_empty() {
                parts.push("port options".into());
            }
            format!("link set {dev} {}", parts.join(" "))
        }
        Change::LinkDelete { dev } => format!("link delete {dev}"),
        Change::Address { dev, cidr, add } => format!(
            "address {} {cidr} dev {dev}",
            if *add { "add" } else { "del" }
        ),
        Change::Route { node, route, add } => format!(
            "route {} {} in {node}",
            if *add { "add" } else { "del" },
            route.text
        ),
        Change::Sysctl { node, key, value } => format!("sysctl {key}={value} in {node}"),
        Change::Neigh { node, op } => match op {
            NeighOp::Add(n) => format!("neigh add {n} in {node}"),
            NeighOp::Del { to, dev, proxy } => format!(
                "neigh del {}{to} dev {dev} in {node}",
                if *proxy { "proxy " } else { "" }
            ),
            NeighOp::Flush { dev } => format!("neigh flush dev {dev} in {node}"),
        },
        Change::Fdb { node, op } => fdb_text(node, op),
        Change::Vlan {
            dev,
            vlan,
            add,
            on_self,
        } => vlan_text(dev, vlan, *add, *on_self),
        Change::Nexthop {
            node,
            add,
            replace,
            del,
        } => match (add, del) {
            (Some(nh), _) => format!(
                "nexthop {} {} in {node}",
                if *replace { "replace" } else { "add" },
                nh.text
            ),
            (None, Some(id)) => format!("nexthop del id {id} in {node}"),
            (None, None) => format!("nexthop in {node}"),
        },
    }
}

/// The operations a change lowers to: the same ops a plan is made of, run by the
/// same interpreter (`apply::exec`). Pure, so the lowering is tested without root.
pub(crate) fn lower(c: &Change) -> Vec<Op> {
    match c {
        Change::LinkSet { dev, set } => lower_link_set(dev, set),
        Change::LinkDelete { dev } => vec![Op::Link(LinkOp::DelLink {
            node: dev.node.clone(),
            name: dev.ifname.clone(),
        })],
        Change::Address { dev, cidr, add } => {
            let (node, name, cidr) = (dev.node.clone(), dev.ifname.clone(), *cidr);
            vec![if *add {
                // Without NODAD: the node's accept_dad decides, which netspec sets to 0 in
                // IPv6 nodes unless an interface asks for DAD. The address is then valid at
                // once, and the kernel announces it (an unsolicited NA) when ndisc_notify
                // asks it to, as on a real host; with NODAD it never would.
                Op::Link(LinkOp::AddAddress {
                    node,
                    name,
                    cidr,
                    dad: true,
                })
            } else {
                Op::Link(LinkOp::DelAddress { node, name, cidr })
            }]
        }
        Change::Route { node, route, add } => {
            let (node, route) = (node.clone(), route.clone());
            vec![if *add {
                Op::Entry(EntryOp::AddRoute { node, route })
            } else {
                Op::Entry(EntryOp::DelRoute { node, route })
            }]
        }
        Change::Nexthop {
            node,
            add,
            replace,
            del,
        } => {
            let node = node.clone();
            add.iter()
                .map(|nh| {
                    Op::Entry(EntryOp::AddNexthops {
                        node: node.clone(),
                        nexthops: vec![nh.clone()],
                        replace: *replace,
                    })
                })
                .chain(del.iter().map(|id| {
                    Op::Entry(EntryOp::DelNexthop {
                        node: node.clone(),
                        id: *id,
                    })
                }))
                .collect()
        }
        Change::Sysctl { node, key, value } => vec![Op::Sysctl {
            node: node.clone(),
            key: key.clone(),
            value: value.clone(),
        }],
        Change::Neigh { node, op } => vec![lower_neigh(node, op)],
        Change::Fdb { node, op } => vec![lower_fdb(node, op)],
        Change::Vlan {
            dev,
            vlan,
            add,
            on_self,
        } => vec![Op::Link(LinkOp::PortVlan {
            node: dev.node.clone(),
            name: dev.ifname.clone(),
            vlan: *vlan,
            add: *add,
            on_self: *on_self,
        })],
    }
}

/// `fdb add 02:.. dev swp1 static in sw`.
fn fdb_text(node: &NodeName, op: &FdbOp) -> String {
    let vlan_word = |v: Option<u16>| v.map(|v| format!(" vlan {v}")).unwrap_or_default();
    let dst_word = |d: Option<std::net::IpAddr>| d.map(|d| format!(" dst {d}")).unwrap_or_default();
    match op {
        FdbOp::Add(f) => format!(
            "fdb {} {} dev {}{}{} {}{}{} in {node}",
            if f.append { "append" } else { "add" },
            f.mac,
            f.port,
            dst_word(f.dst),
            vlan_word(f.vlan),
            f.state,
            if f.sticky { " sticky" } else { "" },
            if f.extern_learn { " extern_learn" } else { "" }
        ),
        FdbOp::Del {
            mac,
            port,
            dst,
            vlan,
            ..
        } => format!(
            "fdb del {mac} dev {port}{}{} in {node}",
            dst_word(*dst),
            vlan_word(*vlan)
        ),
        FdbOp::Flush { port } => format!("fdb flush dev {port} in {node}"),
    }
}

/// `bridge vlan add dev swp1 vid 10 pvid untagged in sw`.
fn vlan_text(dev: &IfRef, vlan: &crate::scenario::PortVlan, add: bool, on_self: bool) -> String {
    format!(
        "bridge vlan {} dev {} vid {}{}{}{} in {}",
        if add { "add" } else { "del" },
        dev.ifname,
        vlan.vid,
        if vlan.pvid { " pvid" } else { "" },
        if vlan.untagged { " untagged" } else { "" },
        if on_self { " self" } else { "" },
        dev.node
    )
}

/// `link: {set}`: one op per thing it changes, the vxlan remote first.
fn lower_link_set(dev: &IfRef, set: &LinkSet) -> Vec<Op> {
    let (node, name) = (dev.node.clone(), dev.ifname.clone());
    let LinkSet {
        mtu,
        mac,
        master,
        port,
        remote,
    } = set;
    let mut ops = Vec::new();
    if let Some(r) = remote {
        ops.push(Op::Link(LinkOp::SetVxlanRemote {
            node: node.clone(),
            name: name.clone(),
            remote: *r,
        }));
    }
    if mtu.is_some() || mac.is_some() {
        ops.push(Op::Link(LinkOp::SetLink {
            node: node.clone(),
            name: name.clone(),
            mtu: *mtu,
            mac: *mac,
        }));
    }
    match master {
        Some(Some(m)) => ops.push(Op::Link(LinkOp::SetMaster {
            node: node.clone(),
            name: name.clone(),
            master: m.clone(),
        })),
        Some(None) => ops.push(Op::Link(LinkOp::SetNomaster {
            node: node.clone(),
            name: name.clone(),
        })),
        None => {}
    }
    if !port.is_empty() {
        ops.push(Op::Link(LinkOp::SetPort {
            node,
            name,
            opts: port.clone(),
        }));
    }
    ops
}

fn lower_neigh(node: &NodeName, op: &NeighOp) -> Op {
    match op {
        NeighOp::Add(n) => Op::Entry(EntryOp::AddNeigh {
            node: node.clone(),
            entry: n.clone(),
        }),
        NeighOp::Del { to, dev, proxy } => Op::Entry(EntryOp::DelNeigh {
            node: node.clone(),
            dev: dev.clone(),
            to: *to,
            proxy: *proxy,
        }),
        NeighOp::Flush { dev } => Op::Entry(EntryOp::FlushNeigh {
            node: node.clone(),
            dev: dev.clone(),
        }),
    }
}

fn lower_fdb(node: &NodeName, op: &FdbOp) -> Op {
    match op {
        FdbOp::Add(f) => Op::Entry(EntryOp::AddFdb {
            node: node.clone(),
            entry: f.clone(),
        }),
        FdbOp::Del {
            mac,
            port,
            dst,
            on_self,
            vlan,
        } => Op::Entry(EntryOp::DelFdb {
            node: node.clone(),
            port: port.clone(),
            mac: *mac,
            dst: *dst,
            on_self: *on_self,
            vlan: *vlan,
        }),
        FdbOp::Flush { port } => Op::Entry(EntryOp::FlushFdb {
            node: node.clone(),
            port: port.clone(),
        }),
    }
}

/// Link up and down are changes too: the same ops as the plan's.
pub(crate) fn lower_link(dev: &IfRef, up: bool) -> Op {
    let (node, name) = (dev.node.clone(), dev.ifname.clone());
    if up {
        Op::Link(LinkOp::SetUp { node, name })
    } else {
        Op::Link(LinkOp::SetDown { node, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Cidr, Mac, PortOptions};

    #[test]
    fn a_link_set_lowers_to_one_op_per_kind_of_change() {
        let dev = IfRef {
            node: "sw".into(),
            ifname: "swp1".into(),
        };
        let set = LinkSet {
            mtu: Some(1400),
            mac: Some(Mac([2, 0, 0, 0, 0, 1])),
            master: Some(None),
            ..Default::default()
        };
        let ops = lower(&Change::LinkSet {
            dev: dev.clone(),
            set,
        });
        assert!(
            matches!(
                &ops[..],
                [
                    Op::Link(LinkOp::SetLink {
                        mtu: Some(1400),
                        mac: Some(_),
                        ..
                    }),
                    Op::Link(LinkOp::SetNomaster { .. })
                ]
            ),
            "{ops:?}"
        );
        let del = lower(&Change::Address {
            dev,
            cidr: Cidr::parse("10.0.0.1/24").unwrap(),
            add: false,
        });
        assert!(
            matches!(&del[..], [Op::Link(LinkOp::DelAddress { .. })]),
            "{del:?}"
        );
    }

    fn swp1() -> IfRef {
        IfRef {
            node: "sw".into(),
            ifname: "swp1".into(),
        }
    }

    #[test]
    fn a_vxlan_remote_goes_first_and_a_master_last_but_port_flags() {
        let set = LinkSet {
            remote: Some("10.0.0.9".parse().unwrap()),
            master: Some(Some("br0".into())),
            port: PortOptions {
                learning: Some(false),
                ..Default::default()
            },
            ..Default::default()
        };
        let ops = lower(&Change::LinkSet { dev: swp1(), set });
        assert!(
            matches!(
                &ops[..],
                [
                    Op::Link(LinkOp::SetVxlanRemote { .. }),
                    Op::Link(LinkOp::SetMaster { .. }),
                    Op::Link(LinkOp::SetPort { .. })
                ]
            ),
            "{ops:?}"
        );
        let none = lower(&Change::LinkSet {
            dev: swp1(),
            set: LinkSet::default(),
        });
        assert!(none.is_empty(), "a set that changes nothing asks nothing");
    }

    #[test]
    fn neighbour_and_fdb_changes_lower_to_one_entry_op_each() {
        let flush = lower(&Change::Neigh {
            node: "h1".into(),
            op: NeighOp::Flush { dev: "eth0".into() },
        });
        assert!(
            matches!(&flush[..], [Op::Entry(EntryOp::FlushNeigh { node, dev })] if node == "h1" && dev == "eth0"),
            "{flush:?}"
        );
        let del = lower(&Change::Fdb {
            node: "sw".into(),
            op: FdbOp::Del {
                mac: Mac([2, 0, 0, 0, 0, 2]),
                port: "vx0".into(),
                dst: None,
                on_self: true,
                vlan: None,
            },
        });
        assert!(
            matches!(&del[..], [Op::Entry(EntryOp::DelFdb { on_self: true, .. })]),
            "{del:?}"
        );
    }

    #[test]
    fn an_address_added_at_runtime_goes_through_dad_and_link_up_down_are_ops() {
        let add = lower(&Change::Address {
            dev: swp1(),
            cidr: Cidr::parse("fd00::1/64").unwrap(),
            add: true,
        });
        assert!(
            matches!(&add[..], [Op::Link(LinkOp::AddAddress { dad: true, .. })]),
            "{add:?}"
        );
        assert!(matches!(
            lower_link(&swp1(), true),
            Op::Link(LinkOp::SetUp { .. })
        ));
        assert!(matches!(
            lower_link(&swp1(), false),
            Op::Link(LinkOp::SetDown { .. })
        ));
    }

    #[test]
    fn a_nexthop_delete_and_a_sysctl_lower_to_one_op_each() {
        let ops = lower(&Change::Nexthop {
            node: "r".into(),
            add: None,
            replace: false,
            del: Some(7),
        });
        assert!(
            matches!(&ops[..], [Op::Entry(EntryOp::DelNexthop { id: 7, .. })]),
            "{ops:?}"
        );
        let sysctl = lower(&Change::Sysctl {
            node: "r".into(),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        });
        assert!(matches!(&sysctl[..], [Op::Sysctl { value, .. }] if value == "1"));
    }
}
