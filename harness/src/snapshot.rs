//! Normalized state as text: what a `snapshot` step records and a failure report shows.
//!
//! Names instead of ifindexes, `node:if` owners for MACs, neighbour states reduced to
//! what does not depend on timing, no timers or counters, everything sorted: the same
//! topology gives the same text on every run and machine.

use std::collections::HashMap;
use std::fmt::Write;

use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourState};
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};

use crate::netlink::NlError;
use crate::sandbox::Sandbox;
use crate::scenario::{IfKind, Mac, Scenario};

fn owner_note(sc: &Scenario, mac: Mac) -> String {
    sc.mac_owner(mac)
        .map(|o| format!("  # {o}"))
        .unwrap_or_default()
}

fn table_name(t: u32) -> String {
    match t {
        254 => "main".into(),
        255 => "local".into(),
        253 => "default".into(),
        t => t.to_string(),
    }
}

/// Neighbour states that move with time are all `reachable`: the entry resolved.
fn stable_state(s: NeighbourState) -> &'static str {
    match s {
        NeighbourState::Reachable
        | NeighbourState::Stale
        | NeighbourState::Delay
        | NeighbourState::Probe => "reachable",
        NeighbourState::Failed => "failed",
        NeighbourState::Incomplete => "incomplete",
        NeighbourState::Permanent => "permanent",
        NeighbourState::Noarp => "noarp",
        _ => "none",
    }
}

/// Renders the state of `nodes` (all when None), limited to `only` sections.
pub(crate) async fn render(
    sb: &Sandbox,
    sc: &Scenario,
    nodes: Option<&[String]>,
    only: Option<&[String]>,
) -> Result<String, NlError> {
    let want = |s: &str| only.is_none_or(|o| o.iter().any(|x| x == s));
    let mut out = String::new();
    for n in &sc.nodes {
        if nodes.is_some_and(|ns| !ns.contains(&n.name)) {
            continue;
        }
        let nl = &sb.node(&n.name).nl;
        let links = nl.links().await?;
        let name: HashMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
        let dev = |i: u32| name.get(&i).cloned().unwrap_or_else(|| format!("if{i}"));
        let _ = writeln!(out, "== {}", n.name);
        if want("links") {
            out.push_str("links\n");
            let mut ls = links.clone();
            ls.sort_by(|a, b| a.name.cmp(&b.name));
            for l in ls {
                let mut line = format!(
                    "  {:<8} {:<7} {}",
                    l.name,
                    l.kind.as_deref().unwrap_or("loopback"),
                    l.oper
                );
                if let Some(m) = l.mac {
                    let _ = write!(line, "  {m}");
                }
                let _ = write!(line, "  mtu {}", l.mtu);
                if let Some(m) = l.master {
                    let _ = write!(line, "  master {}", dev(m));
                }
                if let Some(IfKind::Veth { peer, .. }) = n.interface(&l.name).map(|i| &i.kind) {
                    let _ = write!(line, "  peer {peer}");
                }
                if let Some(ps) = &l.port_state {
                    let _ = write!(line, "  port {ps}");
                    for f in &l.port_flags {
                        let _ = write!(line, " {f}");
                    }
                }
                if let Some(b) = &l.bridge {
                    let _ = write!(line, "\n           bridge {b}");
                }
                if let Some((v, lower)) = &l.vxlan {
                    let _ = write!(line, "\n           vxlan {v}");
                    if let Some(d) = lower {
                        let _ = write!(line, " dev {}", dev(*d));
                    }
                }
                if let Some(m) = &l.macvlan_mode {
                    let _ = write!(line, "  mode {m}");
                    if let Some(IfKind::Macvlan { parent, .. }) =
                        n.interface(&l.name).map(|i| &i.kind)
                    {
                        let _ = write!(line, "  parent {parent}");
                    }
                }
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        if want("addresses") {
            out.push_str("addresses\n");
            let mut lines: Vec<String> = nl
                .addresses()
                .await?
                .into_iter()
                .map(|a| {
                    let mut s = format!("  {:<8} {}", dev(a.index), a.cidr);
                    // Link-local DAD runs in the background; its tentative flag is timing.
                    let link_local = matches!(a.cidr.addr, std::net::IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80);
                    if a.tentative && !link_local && !a.dadfailed {
                        s += " tentative";
                    }
                    if a.dadfailed {
                        s += " dadfailed";
                    }
                    s
                })
                .collect();
            lines.sort();
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
        if want("routes") {
            out.push_str("routes\n");
            let mut lines: Vec<(u32, bool, String)> = nl
                .routes()
                .await?
                .into_iter()
                .filter(|r| {
                    !(r.dst.addr.is_ipv6() && r.table == 255 && r.kind == RouteType::Multicast)
                })
                .map(|r| {
                    let mut s = String::new();
                    match r.kind {
                        RouteType::BlackHole => s += "blackhole ",
                        RouteType::Unreachable => s += "unreachable ",
                        RouteType::Local => s += "local ",
                        RouteType::Broadcast => s += "broadcast ",
                        RouteType::Multicast => s += "multicast ",
                        _ => {}
                    }
                    s += &if r.dst.prefix == 0 {
                        "default".to_string()
                    } else {
                        r.dst.to_string()
                    };
                    if let Some(v) = r.via {
                        let _ = write!(s, " via {v}");
                    }
                    if let Some(o) = r.oif {
                        let _ = write!(s, " dev {}", dev(o));
                    }
                    match r.protocol {
                        RouteProtocol::Kernel => s += " proto kernel",
                        RouteProtocol::Static => s += " proto static",
                        RouteProtocol::Boot => {}
                        other => {
                            let _ = write!(s, " proto {}", format!("{other:?}").to_lowercase());
                        }
                    }
                    match r.scope {
                        RouteScope::Link => s += " scope link",
                        RouteScope::Host => s += " scope host",
                        _ => {}
                    }
                    if let Some(src) = r.pref_src {
                        let _ = write!(s, " src {src}");
                    }
                    if let Some(m) = r.metric {
                        let _ = write!(s, " metric {m}");
                    }
                    if r.table != 254 {
                        let _ = write!(s, " table {}", table_name(r.table));
                    }
                    (r.table, r.dst.addr.is_ipv6(), s)
                })
                .collect();
            lines.sort();
            for (_, _, l) in lines {
                let _ = writeln!(out, "  {l}");
            }
        }
        if want("neigh") {
            out.push_str("neigh\n");
            let mut lines: Vec<String> = nl
                .neighbours()
                .await?
                .into_iter()
                // Multicast entries come from IGMP/MLD, not from ARP or ND.
                .filter(|e| e.state != NeighbourState::None && !e.dst.is_multicast())
                .map(|e| {
                    let mut s = format!("  {} dev {}", e.dst, dev(e.index));
                    if let Some(m) = e.mac {
                        let _ = write!(s, " lladdr {m}");
                    }
                    s += " ";
                    s += stable_state(e.state);
                    if let Some(m) = e.mac {
                        s += &owner_note(sc, m);
                    }
                    s
                })
                .collect();
            lines.sort();
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
        let has_bridge = n
            .interfaces
            .iter()
            .any(|i| matches!(i.kind, IfKind::Bridge(_)));
        if want("fdb") && has_bridge {
            out.push_str("fdb\n");
            let mut lines: Vec<String> = nl
                .fdb()
                .await?
                .into_iter()
                .filter(|e| e.master.is_some())
                .map(|e| {
                    let mut s = format!("  {} dev {}", e.mac, dev(e.index));
                    match e.master {
                        Some(m) => {
                            let _ = write!(s, " master {}", dev(m));
                        }
                        None => s += " self",
                    }
                    if e.flags.contains(NeighbourFlags::Sticky) {
                        s += " sticky"
                    }
                    match e.state {
                        NeighbourState::Permanent => s += " permanent",
                        NeighbourState::Noarp => s += " static",
                        _ => {}
                    }
                    s + &owner_note(sc, e.mac)
                })
                .collect();
            lines.sort();
            lines.dedup();
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }
    Ok(out)
}

/// The snapshot file name: the scenario path with `/` as `__`, then `@label`.
pub(crate) fn snapshot_name(scenario: &str, label: &str) -> String {
    format!("{}@{label}", scenario.replace('/', "__"))
}
