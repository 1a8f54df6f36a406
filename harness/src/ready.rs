//! Readiness: the topology is ready when every link that should carry reports
//! oper-state UP, every IPv6 prefix route and settled link-local address the plan waits
//! for exists, and every bond the plan names has made its primary active. What to wait
//! for is decided by `plan`; this module only looks, with a deadline.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::try_join_all;

use crate::error::ApplyError;
use crate::events::{self, Groups};
use crate::netlink::{LinkState, NlError};
use crate::plan::Readiness;
use crate::sandbox::Sandbox;
use crate::scenario::OperState;

/// How long the topology may take to become ready. Generous: linkwatch is global
/// and can lag by 100 ms or more on a loaded machine.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(10);

/// Looks, with a deadline, until every link in `ready` is oper-up, every IPv6 prefix
/// route and link-local address is there, and every awaited bond has its primary
/// active. Between looks it sleeps until the kernel announces a link, route or address
/// change in one of the nodes (linkwatch's few hundred µs are seen at once), or a
/// fallback pause (1 ms, backing off to 10 ms) has passed, so a change the kernel does
/// not announce is still seen.
pub(crate) async fn wait(
    sb: &Sandbox,
    ready: &Readiness,
    deadline: Duration,
) -> Result<(), ApplyError> {
    let start = Instant::now();
    let nodes = ready
        .links_up
        .iter()
        .chain(ready.v6_prefix_routes.iter().map(|(r, _)| r))
        .chain(&ready.v6_link_local)
        .chain(ready.bond_primaries.iter().map(|(r, _)| r))
        .map(|r| r.node.as_str());
    let groups = Groups::LINK
        .with(Groups::IPV6_ROUTE)
        .with(Groups::IPV6_IFADDR);
    let subs = sb.subscribe(nodes, groups)?;
    let mut pause = Duration::from_millis(1);
    loop {
        let missing = not_ready(sb, ready).await?;
        if missing.is_empty() {
            return Ok(());
        }
        let waited = start.elapsed();
        if waited >= deadline {
            return Err(ApplyError::NotReady {
                after: deadline,
                waiting_for: missing,
            });
        }
        events::wait(&subs, pause.min(deadline - waited));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

async fn not_ready(sb: &Sandbox, ready: &Readiness) -> Result<Vec<String>, NlError> {
    let mut missing = Vec::new();
    let mut nodes: Vec<&str> = ready
        .links_up
        .iter()
        .chain(ready.bond_primaries.iter().map(|(r, _)| r))
        .map(|r| r.node.as_str())
        .collect();
    nodes.sort();
    nodes.dedup();
    let dumps = try_join_all(nodes.iter().map(|n| sb.nl(n).links())).await?;
    let links: HashMap<&str, Vec<LinkState>> = nodes.iter().copied().zip(dumps).collect();
    for (bond, primary) in &ready.bond_primaries {
        let node = &links[bond.node.as_str()];
        let index = |name: &str| node.iter().find(|l| l.name == name).map(|l| l.index);
        let active = node
            .iter()
            .find(|l| l.name == bond.ifname)
            .and_then(|l| l.bond.as_ref()?.active);
        if active.is_none() || active != index(primary) {
            missing.push(format!(
                "{bond} has not made its primary {primary} active yet"
            ));
        }
    }
    for r in &ready.links_up {
        let state = links[r.node.as_str()]
            .iter()
            .find(|l| l.name == r.ifname)
            .map(|l| l.oper);
        if state != Some(OperState::Up) {
            missing.push(format!(
                "{r} is {}, expected up",
                state
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "missing".into())
            ));
        }
    }
    let mut v6_nodes: Vec<&str> = ready
        .v6_prefix_routes
        .iter()
        .map(|(r, _)| r.node.as_str())
        .collect();
    v6_nodes.sort();
    v6_nodes.dedup();
    for n in v6_nodes {
        let routes = sb.nl(n).routes().await?;
        for (r, prefix) in ready.v6_prefix_routes.iter().filter(|(r, _)| r.node == n) {
            let idx = sb.index(n, &r.ifname).await?;
            if !routes
                .iter()
                .any(|rt| rt.dst == *prefix && rt.oif == Some(idx))
            {
                missing.push(format!("{r} has no route {prefix} yet"));
            }
        }
    }
    missing.extend(link_locals(sb, ready).await?);
    Ok(missing)
}

/// The links whose link-local address is missing or still tentative.
async fn link_locals(sb: &Sandbox, ready: &Readiness) -> Result<Vec<String>, NlError> {
    let mut missing = Vec::new();
    let mut nodes: Vec<&str> = ready
        .v6_link_local
        .iter()
        .map(|r| r.node.as_str())
        .collect();
    nodes.sort();
    nodes.dedup();
    for n in nodes {
        let addrs = sb.nl(n).addresses().await?;
        for r in ready.v6_link_local.iter().filter(|r| r.node == n) {
            let idx = sb.index(n, &r.ifname).await?;
            let settled = addrs.iter().any(|a| {
                a.index == idx
                    && matches!(a.cidr.addr, std::net::IpAddr::V6(v) if v.is_unicast_link_local())
                    && !a.tentative
            });
            if !settled {
                missing.push(format!("{r} has no settled IPv6 link-local address yet"));
            }
        }
    }
    Ok(missing)
}
