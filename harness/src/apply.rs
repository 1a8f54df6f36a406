//! The one interpreter of operations: a plan's phases when the topology is built, and
//! the ops a runtime change lowers to (`change::lower`) while the steps run. It executes;
//! every decision about what to do was made by `plan` or `change`.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::future::try_join_all;

use crate::error::ApplyError;
use crate::netlink::nexthop::{self, NexthopBody};
use crate::netlink::{NewLink, NlError, PeerEnd, RouteOifs};
use crate::plan::{Create, EntryOp, LinkOp, Op, Plan};
use crate::ready::READY_DEADLINE;
use crate::sandbox::Sandbox;
use crate::scenario::{Nexthop, NexthopKind, Route};

/// Builds the topology and waits until it is ready.
pub(crate) async fn apply(sb: &Sandbox, plan: &Plan) -> Result<(), ApplyError> {
    // Loopback is down in a fresh namespace; a ping to a node's own address needs it.
    for (r, i) in &plan.indexes {
        sb.remember_index(&r.node, &r.ifname, *i);
    }
    let trace = std::env::var_os("NETSPEC_TRACE").is_some();
    for (name, ops) in &plan.phases {
        if ops.is_empty() {
            continue;
        }
        let t0 = Instant::now();
        run_phase(sb, ops).await?;
        if trace {
            eprintln!(
                "netspec: {name}: {} ops in {:.2} ms",
                ops.len(),
                t0.elapsed().as_secs_f64() * 1e3
            );
        }
    }
    let t0 = Instant::now();
    let r = crate::ready::wait(sb, &plan.ready, READY_DEADLINE).await;
    if trace {
        eprintln!(
            "netspec: readiness: {:.2} ms",
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
    r
}

async fn run_phase(sb: &Sandbox, ops: &[Op]) -> Result<(), ApplyError> {
    // sysctls are file writes from a thread inside the namespace: one thread per node.
    let mut sysctls: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for op in ops {
        if let Op::Sysctl { node, key, value } = op {
            sysctls
                .entry(node)
                .or_default()
                .push((key.clone(), value.clone()));
        }
    }
    for (node, kv) in sysctls {
        sb.write_sysctls(node, kv)?;
    }
    try_join_all(
        ops.iter()
            .filter(|o| !matches!(o, Op::Sysctl { .. }))
            .map(|op| exec(sb, op)),
    )
    .await?;
    Ok(())
}

/// Runs one operation: the only place where a topology op or a runtime change
/// becomes a netlink request or a sysctl write.
pub(crate) async fn exec(sb: &Sandbox, op: &Op) -> Result<(), ApplyError> {
    match op {
        Op::Sysctl { node, key, value } => {
            sb.write_sysctls(node, vec![(key.clone(), value.clone())])
        }
        Op::Create(c) => create(sb, c).await.map_err(ApplyError::CreateLink),
        Op::Link(l) => Ok(change_link(sb, l).await?),
        Op::Entry(e) => Ok(entry(sb, e).await?),
        // A tool run, synchronous: a phase's rulesets load one after another, in order.
        Op::Rules {
            node,
            rules,
            add,
            file,
        } => crate::netfilter::apply(sb, node, rules, *add, file),
    }
}

/// A link of the plan, born in its node with the index the plan fixed.
async fn create(sb: &Sandbox, c: &Create) -> Result<(), NlError> {
    let (node, name, mac, mtu) = c.link();
    let link = NewLink::new(sb.index(node, name).await?, name, mac, mtu);
    match c {
        Create::Bridge { opts, .. } => sb.nl(node).add_bridge(&link, opts).await,
        Create::Veth {
            peer,
            peer_mac,
            peer_mtu,
            ..
        } => {
            let other = sb.index(&peer.node, &peer.ifname).await?;
            let peer_end = PeerEnd {
                link: NewLink::new(other, &peer.ifname, *peer_mac, *peer_mtu),
                node: &peer.node,
                netns: sb.ns(&peer.node).raw_fd(),
            };
            sb.nl(node).add_veth(&link, &peer_end).await
        }
        Create::Macvlan { parent, mode, .. } => {
            // Asked of the parent's node; born in its own (the same, or another).
            let p = sb.index(&parent.node, &parent.ifname).await?;
            let target = (parent.node != *node).then(|| sb.ns(node).raw_fd());
            sb.nl(&parent.node)
                .add_macvlan(&link, p, *mode, target)
                .await
        }
        Create::Vxlan { vxlan, .. } => {
            let dev = match &vxlan.dev {
                Some(d) => Some(sb.index(node, d).await?),
                None => None,
            };
            sb.nl(node).add_vxlan(&link, vxlan, dev).await
        }
        Create::Dummy { .. } => sb.nl(node).add_dummy(&link).await,
        Create::Vlan { parent, id, .. } => {
            let p = sb.index(node, parent).await?;
            sb.nl(node).add_vlan(&link, p, *id).await
        }
        Create::Vrf { table, .. } => sb.nl(node).add_vrf(&link, *table).await,
        Create::Bond { opts, .. } => sb.nl(node).add_bond(&link, opts).await,
    }
}

/// A change to a link that exists: one request on its index.
async fn change_link(sb: &Sandbox, l: &LinkOp) -> Result<(), NlError> {
    match l {
        LinkOp::SetMaster { node, name, master } => {
            let i = sb.index(node, name).await?;
            let m = sb.index(node, master).await?;
            sb.nl(node).set_master(i, name, m, master).await
        }
        LinkOp::AddAddress {
            node,
            name,
            cidr,
            dad,
        } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).add_address(i, name, *cidr, *dad).await
        }
        LinkOp::SetUp { node, name } | LinkOp::SetDown { node, name } => {
            let up = matches!(l, LinkOp::SetUp { .. });
            let i = sb.index(node, name).await?;
            sb.nl(node).set_up(i, name, up).await
        }
        LinkOp::SetVxlanRemote { node, name, remote } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).set_vxlan_remote(i, name, *remote).await
        }
        LinkOp::SetLink {
            node,
            name,
            mtu,
            mac,
        } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).set_link(i, name, *mtu, *mac).await
        }
        LinkOp::SetNomaster { node, name } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).set_nomaster(i, name).await
        }
        LinkOp::DelLink { node, name } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).del_link(i, name).await
        }
        LinkOp::DelAddress { node, name, cidr } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).del_address(i, name, *cidr).await
        }
        LinkOp::SetPort { node, name, opts } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).set_port(i, name, opts).await?;
            match &opts.vlans {
                Some(v) => sb.nl(node).set_port_vlans(i, name, v, false).await,
                None => Ok(()),
            }
        }
        LinkOp::SetBridgeVlans { node, name, vlans } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).set_port_vlans(i, name, vlans, true).await
        }
        LinkOp::PortVlan {
            node,
            name,
            vlan,
            add,
            on_self,
        } => {
            let i = sb.index(node, name).await?;
            sb.nl(node).port_vlan(i, name, vlan, *on_self, *add).await
        }
        LinkOp::SetBondPrimary {
            node,
            name,
            primary,
        } => {
            let i = sb.index(node, name).await?;
            let p = sb.index(node, primary).await?;
            sb.nl(node).set_bond_primary(i, name, p, primary).await
        }
    }
}

/// A table entry to add or remove.
async fn entry(sb: &Sandbox, e: &EntryOp) -> Result<(), NlError> {
    match e {
        EntryOp::AddRoute { node, route } => {
            let oifs = route_oifs(sb, node, route).await?;
            sb.nl(node).add_route(route, &oifs).await
        }
        EntryOp::DelRoute { node, route } => {
            let oifs = route_oifs(sb, node, route).await?;
            sb.nl(node).del_route(route, &oifs).await
        }
        EntryOp::AddNexthops {
            node,
            nexthops,
            replace,
        } => {
            for nh in nexthops {
                add_nexthop(sb, node, nh, *replace).await?;
            }
            Ok(())
        }
        EntryOp::DelNexthop { node, id } => nexthop::del(sb.ns(node), node, *id),
        EntryOp::AddNeigh { node, entry } => {
            let i = sb.index(node, &entry.dev).await?;
            sb.nl(node).add_neigh(i, entry).await
        }
        EntryOp::DelNeigh {
            node,
            dev,
            to,
            proxy,
        } => {
            let i = sb.index(node, dev).await?;
            sb.nl(node).del_neigh(i, *to, dev, *proxy).await
        }
        EntryOp::FlushNeigh { node, dev } => {
            let i = sb.index(node, dev).await?;
            sb.nl(node).flush_neigh(i, dev).await
        }
        EntryOp::AddFdb { node, entry } => {
            let i = sb.index(node, &entry.port).await?;
            sb.nl(node).add_fdb(i, entry).await
        }
        EntryOp::DelFdb {
            node,
            port,
            mac,
            dst,
            on_self,
            vlan,
        } => {
            let i = sb.index(node, port).await?;
            let entry = (*mac, *dst, *vlan);
            sb.nl(node).del_fdb(i, port, entry, *on_self).await
        }
        EntryOp::FlushFdb { node, port } => {
            let i = sb.index(node, port).await?;
            sb.nl(node).flush_port_fdb(i, port).await
        }
    }
}

/// The indexes of the interfaces a route names, its paths' included.
async fn route_oifs(sb: &Sandbox, node: &str, route: &Route) -> Result<RouteOifs, NlError> {
    let mut oifs = RouteOifs::default();
    if let Some(d) = &route.dev {
        oifs.oif = Some(sb.index(node, d).await?);
    }
    for h in &route.hops {
        oifs.hops.push(match &h.dev {
            Some(d) => sb.index(node, d).await?,
            None => 0,
        });
    }
    Ok(oifs)
}

async fn add_nexthop(sb: &Sandbox, node: &str, nh: &Nexthop, replace: bool) -> Result<(), NlError> {
    let (body, v6, onlink) = match &nh.kind {
        NexthopKind::Path {
            via,
            dev,
            v6,
            onlink,
        } => {
            let oif = match dev {
                Some(d) => Some(sb.index(node, d).await?),
                None => None,
            };
            (NexthopBody::Path { via: *via, oif }, *v6, *onlink)
        }
        NexthopKind::Blackhole { v6 } => (NexthopBody::Blackhole, *v6, false),
        NexthopKind::Group(m) => (NexthopBody::Group(m.clone()), false, false),
    };
    nexthop::add(sb.ns(node), node, nh.id, &body, (v6, onlink, replace))
}
