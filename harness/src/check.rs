//! State checks (`check:` steps): what to look at for a check. The verdict is
//! `expect::check`, a pure function of what this module observes.

use crate::error::ObserveError;
use crate::events::Groups;
use crate::observation::Observation;
use crate::sandbox::Sandbox;
use crate::scenario::{
    Check, CounterCheck, FdbCheck, FramesCheck, LinkCheck, NeighCheck, NexthopCheck, RouteCheck,
    Scenario, VlanCheck,
};
use crate::state::{self, NodeState, Sections};
use crate::watches::Watches;

/// Looks at what `check` needs, once: a route lookup, or the node's state.
pub(crate) async fn observe(
    sb: &Sandbox,
    sc: &Scenario,
    check: &Check,
    watches: &mut Watches,
) -> Result<Observation, ObserveError> {
    Ok(match check {
        Check::Frames(FramesCheck { watch, at, .. }) => Observation::Frames(
            watches
                .tally(watch, sc)
                .map_err(|source| ObserveError::Watch {
                    watch: watch.clone(),
                    node: at.node.to_string(),
                    source,
                })?,
        ),
        Check::Route(RouteCheck {
            node,
            to,
            lookup: true,
            how,
            ..
        }) => {
            // Interfaces by index, as the kernel takes them.
            let index = |i: &Option<crate::scenario::IfName>| {
                let name = i.as_ref().map(|n| n.to_string());
                async move {
                    match name {
                        Some(n) => sb.index(node, &n).await.map(Some),
                        None => Ok(None),
                    }
                }
            };
            let lookup = crate::netlink::Lookup {
                from: how.from,
                oif: index(&how.oif).await?,
                iif: index(&how.iif).await?,
                mark: how.mark,
                tos: how.tos,
            };
            Observation::Lookup(state::route_lookup(sb.nl(node), to.addr, &lookup).await?)
        }
        Check::Neigh(NeighCheck {
            node,
            to,
            dev: Some(dev),
            proxy,
            ..
        }) => {
            let i = sb.index(node, dev).await?;
            Observation::Node(state::neigh_get(sb.nl(node), i, *to, *proxy).await?)
        }
        Check::Neigh(NeighCheck { node, .. }) => gather(sb, node, |s| s.neigh = true).await?,
        Check::Fdb(FdbCheck { node, .. }) => gather(sb, node, |s| s.fdb = true).await?,
        Check::Route(RouteCheck { node, .. }) => gather(sb, node, |s| s.routes = true).await?,
        Check::Nexthop(NexthopCheck { node, .. }) => {
            let mut st = NodeState::gather(sb.nl(node), Sections::LINKS).await?;
            st.nexthops = state::nexthops(&st, sb.ns(node), node)?;
            Observation::Node(st)
        }
        Check::Link(LinkCheck { dev, .. }) => {
            Observation::Node(NodeState::gather(sb.nl(&dev.node), Sections::LINKS).await?)
        }
        Check::Vlan(VlanCheck { dev, .. }) => gather(sb, &dev.node, |s| s.vlans = true).await?,
        Check::Counter(CounterCheck { node, what, .. }) => Observation::Counters(
            crate::netfilter::counters(sb, node, what).map_err(|source| {
                ObserveError::Netfilter {
                    what: "read the netfilter counters",
                    node: node.to_string(),
                    source,
                }
            })?,
        ),
    })
}

/// The node whose rtnetlink events can change what `check` sees, and which groups
/// announce them; None for what no rtnetlink event announces (tapped frames,
/// netfilter counters), which a wait can only look at again after a pause.
pub(crate) fn events(check: &Check) -> Option<(&str, Groups)> {
    let link = Groups::LINK;
    Some(match check {
        Check::Frames(_) | Check::Counter(_) => return None,
        // A route's state follows links and addresses too (a link down drops its
        // routes, and IPv4 does not announce that): everything a lookup uses.
        Check::Route(RouteCheck { node, .. }) => (node, Groups::FORWARDING),
        Check::Neigh(NeighCheck { node, .. }) | Check::Fdb(FdbCheck { node, .. }) => {
            (node, link.with(Groups::NEIGH))
        }
        Check::Nexthop(NexthopCheck { node, .. }) => (node, link.with(Groups::NEXTHOP)),
        Check::Link(LinkCheck { dev, .. }) => (&dev.node, link),
        Check::Vlan(VlanCheck { dev, .. }) => (&dev.node, link.with(Groups::BRVLAN)),
    })
}

/// A node's links and the one section `want` asks for.
async fn gather(
    sb: &Sandbox,
    node: &str,
    want: impl FnOnce(&mut Sections),
) -> Result<Observation, ObserveError> {
    let mut sections = Sections::LINKS;
    want(&mut sections);
    Ok(Observation::Node(
        NodeState::gather(sb.nl(node), sections).await?,
    ))
}

/// For messages: the check in a few words.
pub(crate) fn describe(check: &Check) -> String {
    match check {
        Check::Neigh(NeighCheck { node, to, .. }) => format!("check neigh {node} {to}"),
        Check::Fdb(FdbCheck {
            node,
            mac: (_, label),
            ..
        }) => format!("check fdb {node} {label}"),
        Check::Route(RouteCheck {
            node,
            to,
            lookup: true,
            ..
        }) => format!("check route get {node} {}", to.addr),
        Check::Route(RouteCheck { node, to, .. }) => format!(
            "check route {node} {}",
            if to.prefix == 0 {
                "default".into()
            } else {
                to.to_string()
            }
        ),
        Check::Link(LinkCheck { dev, .. }) => format!("check link {dev}"),
        Check::Vlan(VlanCheck { dev, vid, .. }) => format!("check vlan {dev} vid {vid}"),
        Check::Nexthop(NexthopCheck { node, id, .. }) => format!("check nexthop {node} id {id}"),
        Check::Frames(FramesCheck { watch, at, .. }) => format!("check frames {watch} at {at}"),
        Check::Counter(CounterCheck { node, what, .. }) => format!("check counter {node} {what}"),
    }
}
