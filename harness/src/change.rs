//! Runtime change steps (`link: {set}`, `address`, `route`, `sysctl`, `neigh`, `fdb`):
//! each one netlink request (or sysctl write) whose answer is the step's outcome.

use crate::sandbox::Sandbox;
use crate::scenario::{Change, FdbOp, LinkSet, NeighOp};

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
            NeighOp::Add(n) => format!(
                "neigh add {} lladdr {} dev {} in {node}",
                n.to, n.mac, n.dev
            ),
            NeighOp::Del { to, dev } => format!("neigh del {to} dev {dev} in {node}"),
            NeighOp::Flush { dev } => format!("neigh flush dev {dev} in {node}"),
        },
        Change::Fdb { node, op } => match op {
            FdbOp::Add(f) => format!(
                "fdb add {} dev {} {}{} in {node}",
                f.mac,
                f.port,
                f.state,
                if f.sticky { " sticky" } else { "" }
            ),
            FdbOp::Del { mac, port } => format!("fdb del {mac} dev {port} in {node}"),
            FdbOp::Flush { port } => format!("fdb flush dev {port} in {node}"),
        },
    }
}

/// Applies a change; Err holds the kernel's refusal, with context.
pub(crate) async fn apply(sb: &Sandbox, c: &Change) -> Result<(), String> {
    let s = |e: crate::netlink::NlError| e.to_string();
    match c {
        Change::LinkSet { dev, set } => {
            let nl = &sb.node(&dev.node).nl;
            let i = sb.index(&dev.node, &dev.ifname).await.map_err(s)?;
            let LinkSet {
                mtu,
                mac,
                master,
                port,
            } = set;
            if mtu.is_some() || mac.is_some() {
                nl.set_link(i, &dev.ifname, *mtu, *mac).await.map_err(s)?;
            }
            match master {
                Some(Some(m)) => {
                    let mi = sb.index(&dev.node, m).await.map_err(s)?;
                    nl.set_master(i, &dev.ifname, mi, m).await.map_err(s)?;
                }
                Some(None) => nl.set_nomaster(i, &dev.ifname).await.map_err(s)?,
                None => {}
            }
            if !port.is_empty() {
                nl.set_port(i, &dev.ifname, port).await.map_err(s)?;
            }
            Ok(())
        }
        Change::LinkDelete { dev } => {
            let i = sb.index(&dev.node, &dev.ifname).await.map_err(s)?;
            sb.node(&dev.node)
                .nl
                .del_link(i, &dev.ifname)
                .await
                .map_err(s)
        }
        Change::Address { dev, cidr, add } => {
            let nl = &sb.node(&dev.node).nl;
            let i = sb.index(&dev.node, &dev.ifname).await.map_err(s)?;
            if *add {
                nl.add_address(i, &dev.ifname, *cidr, false)
                    .await
                    .map_err(s)
            } else {
                nl.del_address(i, &dev.ifname, *cidr).await.map_err(s)
            }
        }
        Change::Route { node, route, add } => {
            let oif = match &route.dev {
                Some(d) => Some(sb.index(node, d).await.map_err(s)?),
                None => None,
            };
            let nl = &sb.node(node).nl;
            if *add {
                nl.add_route(route, oif).await.map_err(s)
            } else {
                nl.del_route(route, oif).await.map_err(s)
            }
        }
        Change::Sysctl { node, key, value } => sb
            .write_sysctls(node, vec![(key.clone(), value.clone())])
            .map_err(|e| e.to_string()),
        Change::Neigh { node, op } => {
            let nl = &sb.node(node).nl;
            match op {
                NeighOp::Add(n) => nl
                    .add_neigh(sb.index(node, &n.dev).await.map_err(s)?, n)
                    .await
                    .map_err(s),
                NeighOp::Del { to, dev } => nl
                    .del_neigh(sb.index(node, dev).await.map_err(s)?, *to, dev)
                    .await
                    .map_err(s),
                NeighOp::Flush { dev } => nl
                    .flush_neigh(sb.index(node, dev).await.map_err(s)?, dev)
                    .await
                    .map_err(s),
            }
        }
        Change::Fdb { node, op } => {
            let nl = &sb.node(node).nl;
            match op {
                FdbOp::Add(f) => nl
                    .add_fdb(sb.index(node, &f.port).await.map_err(s)?, f)
                    .await
                    .map_err(s),
                FdbOp::Del { mac, port } => nl
                    .del_fdb(sb.index(node, port).await.map_err(s)?, *mac, port)
                    .await
                    .map_err(s),
                FdbOp::Flush { port } => nl
                    .flush_port_fdb(sb.index(node, port).await.map_err(s)?, port)
                    .await
                    .map_err(s),
            }
        }
    }
}
