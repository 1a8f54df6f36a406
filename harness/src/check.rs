//! State checks (`check:` steps): what was expected, what the kernel shows.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::neighbour::NeighbourState;

use crate::netlink::{FdbEntry, LinkState, NlError, RouteState};
use crate::sandbox::Sandbox;
use crate::scenario::{Check, Mac, Scenario};

/// The result of evaluating a check once.
pub(crate) struct Evaluation {
    pub passed: bool,
    pub expected: String,
    pub actual: String,
}

pub(crate) fn neigh_state(s: NeighbourState) -> String {
    match s {
        NeighbourState::Incomplete => "incomplete".into(),
        NeighbourState::Reachable => "reachable".into(),
        NeighbourState::Stale => "stale".into(),
        NeighbourState::Delay => "delay".into(),
        NeighbourState::Probe => "probe".into(),
        NeighbourState::Failed => "failed".into(),
        NeighbourState::Noarp => "noarp".into(),
        NeighbourState::Permanent => "permanent".into(),
        NeighbourState::None => "none".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn owned(sc: &Scenario, mac: Mac) -> String {
    match sc.mac_owner(mac) {
        Some(o) => format!("{mac} ({o})"),
        None => mac.to_string(),
    }
}

fn names(links: &[LinkState]) -> HashMap<u32, String> {
    links.iter().map(|l| (l.index, l.name.clone())).collect()
}

/// ` via A dev X`, for whichever is given.
fn via_dev(via: Option<IpAddr>, dev: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(v) = via {
        s += &format!(" via {v}");
    }
    if let Some(d) = dev {
        s += &format!(" dev {d}");
    }
    s
}

/// Whether a route goes via `via` and out of `dev`, for whichever is given.
fn goes(
    r: &RouteState,
    via: Option<IpAddr>,
    dev: Option<&str>,
    links: &HashMap<u32, String>,
) -> bool {
    via.is_none_or(|v| r.via == Some(v))
        && dev.is_none_or(|d| r.oif.and_then(|i| links.get(&i)).map(String::as_str) == Some(d))
}

pub(crate) async fn evaluate(
    sb: &Sandbox,
    sc: &Scenario,
    check: &Check,
) -> Result<Evaluation, NlError> {
    Ok(match check {
        Check::Neigh {
            node,
            to,
            mac,
            state,
            present,
        } => {
            let nl = &sb.node(node).nl;
            let links = names(&nl.links().await?);
            let entries: Vec<_> = nl
                .neighbours()
                .await?
                .into_iter()
                .filter(|e| e.dst == *to)
                .collect();
            let mut expected = if *present {
                format!("{node} has a neighbour entry for {to}")
            } else {
                format!("{node} has no neighbour entry for {to}")
            };
            if let Some((m, label)) = mac {
                expected += &format!(" with lladdr {m} ({label})");
            }
            if let Some(s) = state {
                expected += &format!(" in state {s}");
            }
            let passed = if *present {
                entries.iter().any(|e| {
                    mac.as_ref().is_none_or(|(m, _)| e.mac == Some(*m))
                        && state.is_none_or(|s| neigh_state(e.state) == s.to_string())
                        && e.state != NeighbourState::None
                })
            } else {
                entries.is_empty()
            };
            let actual = if entries.is_empty() {
                format!("{node} has no neighbour entry for {to}")
            } else {
                entries
                    .iter()
                    .map(|e| {
                        let dev = links
                            .get(&e.index)
                            .cloned()
                            .unwrap_or_else(|| format!("if{}", e.index));
                        let ll = e
                            .mac
                            .map(|m| format!("lladdr {} ", owned(sc, m)))
                            .unwrap_or_default();
                        format!("{to} dev {dev} {ll}{}", neigh_state(e.state))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Evaluation {
                passed,
                expected,
                actual,
            }
        }
        Check::Fdb {
            node,
            mac: (mac, label),
            port,
            present,
        } => {
            let nl = &sb.node(node).nl;
            let links = names(&nl.links().await?);
            let entries: Vec<FdbEntry> = nl
                .fdb()
                .await?
                .into_iter()
                .filter(|e| e.mac == *mac && e.master.is_some())
                .collect();
            let port_of = |e: &FdbEntry| {
                links
                    .get(&e.index)
                    .cloned()
                    .unwrap_or_else(|| format!("if{}", e.index))
            };
            let expected = match (present, port) {
                (true, Some(p)) => format!("{mac} ({label}) learned on port {p}"),
                (true, None) => format!("{mac} ({label}) in the FDB of {node}"),
                (false, Some(p)) => format!("no FDB entry for {mac} ({label}) on port {p}"),
                (false, None) => format!("no FDB entry for {mac} ({label}) in {node}"),
            };
            let on_port = |e: &&FdbEntry| port.as_ref().is_none_or(|p| &port_of(e) == p);
            let matching = entries.iter().filter(on_port).count();
            let passed = if *present {
                matching > 0
            } else {
                matching == 0
            };
            let actual = if entries.is_empty() {
                format!("no FDB entry for {mac} in {node}")
            } else {
                entries
                    .iter()
                    .map(|e| {
                        let br = e
                            .master
                            .and_then(|m| links.get(&m).cloned())
                            .unwrap_or_default();
                        let st = if e.state == NeighbourState::Permanent {
                            " permanent"
                        } else if e.state == NeighbourState::Noarp {
                            " static"
                        } else {
                            ""
                        };
                        format!("{mac} dev {} master {br}{st}", port_of(e))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Evaluation {
                passed,
                expected,
                actual,
            }
        }
        Check::Route {
            node,
            to,
            lookup: true,
            via,
            dev,
            present,
            ..
        } => {
            let nl = &sb.node(node).nl;
            let links = names(&nl.links().await?);
            let route = nl.route_lookup(to.addr).await?;
            let expected = if *present {
                format!("{node} routes {}{}", to.addr, via_dev(*via, dev.as_deref()))
            } else {
                format!("{node} has no route to {}", to.addr)
            };
            let actual = match &route {
                None => format!("{node} has no route to {}", to.addr),
                Some(r) => {
                    let kind = match r.kind {
                        netlink_packet_route::route::RouteType::Local => " (local)",
                        netlink_packet_route::route::RouteType::BlackHole => " (blackhole)",
                        netlink_packet_route::route::RouteType::Unreachable => " (unreachable)",
                        _ => "",
                    };
                    let d = r.oif.and_then(|i| links.get(&i)).map(String::as_str);
                    format!("{node} routes {}{}{kind}", to.addr, via_dev(r.via, d))
                }
            };
            let passed = match &route {
                None => !*present,
                Some(r) => *present && goes(r, *via, dev.as_deref(), &links),
            };
            Evaluation {
                passed,
                expected,
                actual,
            }
        }
        Check::Route {
            node,
            to,
            via,
            dev,
            table,
            present,
            ..
        } => {
            let nl = &sb.node(node).nl;
            let links = names(&nl.links().await?);
            let want_table = table.unwrap_or(254);
            let routes: Vec<_> = nl
                .routes()
                .await?
                .into_iter()
                .filter(|r| r.dst == *to && r.table == want_table)
                .collect();
            let dst = if to.prefix == 0 {
                "default".to_string()
            } else {
                to.to_string()
            };
            let tbl = if want_table == 254 {
                String::new()
            } else {
                format!(" table {want_table}")
            };
            let render =
                |via: Option<IpAddr>, dev: Option<&str>| format!("{dst}{}{tbl}", via_dev(via, dev));
            let expected = if *present {
                format!("route {} in {node}", render(*via, dev.as_deref()))
            } else {
                format!("no route {dst}{tbl} in {node}")
            };
            let passed = if *present {
                routes.iter().any(|r| goes(r, *via, dev.as_deref(), &links))
            } else {
                routes.is_empty()
            };
            let actual = if routes.is_empty() {
                format!("no route {dst}{tbl} in {node}")
            } else {
                routes
                    .iter()
                    .map(|r| render(r.via, r.oif.and_then(|i| links.get(&i)).map(String::as_str)))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            Evaluation {
                passed,
                expected,
                actual,
            }
        }
        Check::Link {
            dev,
            present,
            state,
            port,
            mtu,
            master,
        } => {
            let nl = &sb.node(&dev.node).nl;
            let links = nl.links().await?;
            let by_index = names(&links);
            let mut expected = Vec::new();
            if let Some(s) = state {
                expected.push(format!("state {s}"))
            }
            if let Some(p) = port {
                expected.push(format!("port {p}"))
            }
            if let Some(m) = mtu {
                expected.push(format!("mtu {m}"))
            }
            if let Some(m) = master {
                expected.push(format!("master {}", m.as_deref().unwrap_or("none")))
            }
            let expected = format!("{dev} {}", expected.join(" "));
            let found = links.iter().find(|l| l.name == dev.ifname);
            if !present {
                let exists = if found.is_some() {
                    "exists"
                } else {
                    "does not exist"
                };
                return Ok(Evaluation {
                    passed: found.is_none(),
                    expected: format!("{dev} does not exist"),
                    actual: format!("{dev} {exists}"),
                });
            }
            match found {
                None => Evaluation {
                    passed: false,
                    expected,
                    actual: format!("{dev} does not exist"),
                },
                Some(l) => {
                    let actual_master = l.master.and_then(|m| by_index.get(&m).cloned());
                    let passed = state.is_none_or(|s| s == l.oper)
                        && port
                            .as_ref()
                            .is_none_or(|p| l.port_state.as_ref() == Some(p))
                        && mtu.is_none_or(|m| m == l.mtu)
                        && master.as_ref().is_none_or(|m| *m == actual_master);
                    let mut actual = format!("{dev} state {}", l.oper);
                    if let Some(p) = &l.port_state {
                        actual += &format!(" port {p}");
                    }
                    actual += &format!(
                        " mtu {} master {}",
                        l.mtu,
                        actual_master.as_deref().unwrap_or("none")
                    );
                    Evaluation {
                        passed,
                        expected,
                        actual,
                    }
                }
            }
        }
    })
}

/// For messages: the check in a few words.
pub(crate) fn describe(check: &Check) -> String {
    match check {
        Check::Neigh { node, to, .. } => format!("check neigh {node} {to}"),
        Check::Fdb {
            node,
            mac: (_, label),
            ..
        } => format!("check fdb {node} {label}"),
        Check::Route {
            node,
            to,
            lookup: true,
            ..
        } => format!("check route get {node} {}", to.addr),
        Check::Route { node, to, .. } => format!(
            "check route {node} {}",
            if to.prefix == 0 {
                "default".into()
            } else {
                to.to_string()
            }
        ),
        Check::Link { dev, .. } => format!("check link {dev}"),
    }
}
