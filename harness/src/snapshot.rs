//! Normalized state as text: what a `snapshot` step records and a failure report shows.
//!
//! Names instead of ifindexes, `node:if` owners for MACs, neighbour states reduced to
//! what does not depend on timing, no timers or counters, everything sorted: the same
//! topology gives the same text on every run and machine.

use std::fmt::Write;

use crate::error::ObserveError;
use crate::sandbox::Sandbox;
use crate::scenario::{
    Action, Change, ChangeStep, IfKind, Mac, Node, NodeName, RoutePref, RouteProto, Scenario, Scope,
};
use crate::state::{FdbKind, FdbRow, NodeState, NudState, RouteKind, Sections};

fn owner_note(sc: &Scenario, mac: Mac) -> String {
    sc.mac_owner(mac)
        .map(|o| format!("  # {o}"))
        .unwrap_or_default()
}

/// Neighbour states that move with time are all `reachable`: the entry resolved.
fn stable_state(s: NudState) -> &'static str {
    match s {
        NudState::Reachable | NudState::Stale | NudState::Delay | NudState::Probe => "reachable",
        NudState::Failed => "failed",
        NudState::Incomplete => "incomplete",
        NudState::Permanent => "permanent",
        NudState::Noarp => "noarp",
        NudState::None => "none",
    }
}

/// Gathers and renders the state of `nodes` (all when None), limited to `only` sections.
pub(crate) async fn render(
    sb: &Sandbox,
    sc: &Scenario,
    nodes: Option<&[NodeName]>,
    only: Option<&[String]>,
    aliases: &crate::state::Aliases,
) -> Result<String, ObserveError> {
    let want = |s: &str| only.is_none_or(|o| o.iter().any(|x| x == s));
    let sections = Sections {
        addresses: want("addresses"),
        routes: want("routes"),
        neigh: want("neigh"),
        fdb: want("fdb"),
        vlans: false,
        rules: want("rules"),
    };
    let mut out = String::new();
    for n in &sc.nodes {
        if nodes.is_some_and(|ns| !ns.contains(&n.name)) {
            continue;
        }
        let sections = Sections {
            vlans: want("vlans") && has_vlan_bridge(n),
            ..sections
        };
        let mut st = NodeState::gather(sb.nl(&n.name), sections).await?;
        st.disguise(&aliases.of(&n.name));
        if want("nexthops") && uses_nexthops(sc, n) {
            st.nexthops = crate::state::nexthops(&st, sb.ns(&n.name), &n.name)?;
        }
        render_node(&mut out, sc, n, &st, want("links"), sections);
        if want("netfilter") && crate::netfilter::node_has_rules(sc, &n.name) {
            let rules = crate::netfilter::ruleset(sb, &n.name).map_err(|source| {
                ObserveError::Netfilter {
                    what: "list the netfilter ruleset",
                    node: n.name.to_string(),
                    source,
                }
            })?;
            out.push_str("netfilter\n");
            for l in rules.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
    Ok(out)
}

/// Whether a node declares a VLAN-aware bridge: only then has it VLANs to show.
fn has_vlan_bridge(n: &Node) -> bool {
    n.interfaces.iter().any(|i| i.kind.is_vlan_aware_bridge())
}

/// Whether a node can have nexthop objects: the dump costs a socket, so only then.
fn uses_nexthops(sc: &Scenario, n: &Node) -> bool {
    !n.nexthops.is_empty()
        || sc.steps.iter().any(|s| {
            matches!(&s.action, Action::Change(ChangeStep { change: Change::Nexthop { node, .. }, .. }) if *node == n.name)
        })
}

/// One node's section of a snapshot: a pure function of its state.
pub(crate) fn render_node(
    out: &mut String,
    sc: &Scenario,
    n: &Node,
    st: &NodeState,
    links: bool,
    want: Sections,
) {
    let _ = writeln!(out, "== {}", n.name);
    if links {
        render_links(out, n, st);
    }
    if want.addresses {
        render_addresses(out, st);
    }
    if want.routes {
        render_routes(out, st);
    }
    // Only rules a namespace is not born with, so older snapshots stay as they were.
    if want.rules && !st.rules.is_empty() {
        out.push_str("rules\n");
        for r in &st.rules {
            let _ = writeln!(out, "  {r}");
        }
    }
    if !st.nexthops.is_empty() {
        out.push_str("nexthops\n");
        for nh in &st.nexthops {
            let _ = writeln!(out, "  id {} {nh}", nh.id);
        }
    }
    if want.neigh {
        render_neigh(out, sc, st);
    }
    // A bridge a CNI plugin made counts too.
    let has_bridge = n
        .interfaces
        .iter()
        .any(|i| matches!(i.kind, IfKind::Bridge(_) | IfKind::Vxlan(_)))
        || st.links.iter().any(|l| l.kind.as_deref() == Some("bridge"));
    if want.fdb && has_bridge {
        render_fdb(out, sc, n, st);
    }
    if want.vlans {
        out.push_str("vlans\n");
        for (dev, vlans) in &st.vlans {
            let _ = writeln!(out, "  {dev:<8} {}", vlan_words(vlans));
        }
    }
}

/// A port's VLANs as `bridge vlan show` prints them, on one line: `1 pvid untagged, 10`.
pub(crate) fn vlan_words(vlans: &[crate::scenario::PortVlan]) -> String {
    vlans
        .iter()
        .map(|v| {
            let mut w = v.vid.to_string();
            if v.pvid {
                w += " pvid";
            }
            if v.untagged {
                w += " untagged";
            }
            w
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_links(out: &mut String, n: &Node, st: &NodeState) {
    out.push_str("links\n");
    let mut ls = st.links.clone();
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
        if let Some(m) = &l.master {
            let _ = write!(line, "  master {m}");
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
                let _ = write!(line, " dev {d}");
            }
        }
        if let Some(t) = l.vrf_table {
            let _ = write!(line, "  vrf table {t}");
        }
        if let Some(p) = l.bond_port {
            let _ = write!(line, "  bond_port {p}");
        }
        if let Some((settings, active, primary)) = &l.bond {
            let _ = write!(line, "\n           bond {settings}");
            if let Some(a) = active {
                let _ = write!(line, " active {a}");
            }
            if let Some(p) = primary {
                let _ = write!(line, " primary {p}");
            }
        }
        if let Some(m) = &l.macvlan_mode {
            let _ = write!(line, "  mode {m}");
            if let Some(IfKind::Macvlan { parent, .. }) = n.interface(&l.name).map(|i| &i.kind) {
                let _ = write!(line, "  parent {parent}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn render_addresses(out: &mut String, st: &NodeState) {
    out.push_str("addresses\n");
    let mut lines: Vec<String> = st
        .addresses
        .iter()
        .map(|a| {
            let mut s = format!("  {:<8} {}", a.dev, a.cidr);
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

fn render_routes(out: &mut String, st: &NodeState) {
    out.push_str("routes\n");
    let mut lines: Vec<(u32, bool, String)> = st
        .routes
        .iter()
        .filter(|r| !(r.dst.addr.is_ipv6() && r.table == 255 && r.kind == RouteKind::Multicast))
        .map(|r| {
            let mut s = String::new();
            if let Some(k) = r.kind.prefix() {
                s += k;
                s += " ";
            }
            s += &if r.dst.prefix == 0 {
                "default".to_string()
            } else {
                r.dst.to_string()
            };
            if let Some(v) = r.via {
                let _ = write!(s, " via {v}");
            }
            if let Some(d) = &r.dev {
                let _ = write!(s, " dev {d}");
            }
            // iproute2 leaves out what a route has unless told: boot, universe.
            if r.proto != RouteProto::BOOT {
                let _ = write!(s, " proto {}", r.proto);
            }
            if r.scope != Scope::Universe {
                let _ = write!(s, " scope {}", r.scope);
            }
            if let Some(src) = r.src {
                let _ = write!(s, " src {src}");
            }
            if let Some(m) = r.metric {
                let _ = write!(s, " metric {m}");
            }
            for f in &r.flags {
                let _ = write!(s, " {f}");
            }
            if let Some(n) = r.nhid {
                let _ = write!(s, " nhid {n}");
            }
            // Every IPv6 route has one; only a non-default one is news.
            if let Some(p) = r.pref.filter(|p| *p != RoutePref::Medium) {
                let _ = write!(s, " pref {p}");
            }
            for h in &r.hops {
                s += " nexthop";
                if let Some(v) = h.via {
                    let _ = write!(s, " via {v}");
                }
                if let Some(d) = &h.dev {
                    let _ = write!(s, " dev {d}");
                }
                let _ = write!(s, " weight {}", h.weight);
                for f in &h.flags {
                    let _ = write!(s, " {f}");
                }
            }
            if r.table != 254 {
                let _ = write!(s, " table {}", crate::scenario::table_name(r.table));
            }
            (r.table, r.dst.addr.is_ipv6(), s)
        })
        .collect();
    lines.sort();
    for (_, _, l) in lines {
        let _ = writeln!(out, "  {l}");
    }
}

fn render_neigh(out: &mut String, sc: &Scenario, st: &NodeState) {
    out.push_str("neigh\n");
    let mut lines: Vec<String> = st
        .neigh
        .iter()
        // Multicast entries come from IGMP/MLD, not from ARP or ND.
        .filter(|e| (e.state != NudState::None || e.proxy) && !e.dst.is_multicast())
        .map(|e| {
            if e.proxy {
                return format!("  proxy {} dev {}", e.dst, e.dev);
            }
            let mut s = format!("  {} dev {}", e.dst, e.dev);
            if let Some(m) = e.mac {
                let _ = write!(s, " lladdr {m}");
            }
            for f in &e.flags {
                let _ = write!(s, " {f}");
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

/// The VLAN of an entry is shown where the scenario made its bridge VLAN-aware. A kernel
/// built with VLAN filtering also files the entries of a bridge that does not filter
/// under the default VLAN 1, beside VLAN 0; a kernel built without has only VLAN 0.
/// Without filtering the two are the same entry to forwarding, so they show as one.
fn render_fdb(out: &mut String, sc: &Scenario, n: &Node, st: &NodeState) {
    out.push_str("fdb\n");
    let aware = |bridge: Option<&String>| {
        bridge
            .and_then(|b| n.interface(b))
            .is_some_and(|i| i.kind.is_vlan_aware_bridge())
    };
    let mut lines: Vec<String> = st
        .fdb_entries()
        .map(|e| {
            let mut e = e.clone();
            if !aware(e.master.as_ref()) {
                e.vlan = None;
            }
            format!("  {}{}", fdb_line(&e), owner_note(sc, e.mac))
        })
        .collect();
    lines.sort();
    lines.dedup();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
}

/// One entry as `bridge fdb show` prints it: `MAC dev PORT [dst IP] master BR|self flags state`.
pub(crate) fn fdb_line(e: &FdbRow) -> String {
    let mut s = format!("{} dev {}", e.mac, e.port);
    if let Some(v) = e.vlan {
        let _ = write!(s, " vlan {v}");
    }
    if let Some(d) = e.dst {
        let _ = write!(s, " dst {d}");
    }
    match &e.master {
        Some(m) => {
            let _ = write!(s, " master {m}");
        }
        None => s += " self",
    }
    for f in &e.flags {
        let _ = write!(s, " {f}");
    }
    match e.kind {
        FdbKind::Permanent => s += " permanent",
        FdbKind::Static => s += " static",
        FdbKind::Dynamic => {}
    }
    s
}

/// The snapshot file name: the scenario path with `/` as `__`, then `@label`.
pub(crate) fn snapshot_name(scenario: &str, label: &str) -> String {
    format!("{}@{label}", scenario.replace('/', "__"))
}

thread_local! {
    /// Set while insta asserts, so its panic (the diff is already printed) stays quiet.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs, once, a panic hook that says nothing for the panics of a snapshot
/// assertion and hands every other panic to the hook that was there before.
fn quiet_panics_of_assertions() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
}

/// insta writes `<name>.snap.new` (and `.snap`, with INSTA_UPDATE=always) by path, so a
/// symlink there would have its target overwritten: refuse one before insta runs, and
/// a snapshot folder that is itself a symlink.
fn refuse_symlinks(dir: &std::path::Path, name: &str) -> Result<(), String> {
    let is_link = |p: &std::path::Path| {
        std::fs::symlink_metadata(p)
            .is_ok_and(|m| !m.file_type().is_file() && !m.file_type().is_dir())
    };
    if is_link(dir) {
        return Err(format!(
            "the snapshot folder {} is a symlink; netspec writes snapshots only into a real folder",
            dir.display()
        ));
    }
    for ext in ["snap", "snap.new", "pending-snap"] {
        let p = dir.join(format!("{name}.{ext}"));
        let m = std::fs::symlink_metadata(&p);
        if is_link(&p) || m.is_ok_and(|m| m.file_type().is_dir()) {
            return Err(format!(
                "{} is not a regular file (a symlink?); netspec never writes through it: remove it",
                p.display()
            ));
        }
    }
    Ok(())
}

/// Asserts `text` against `<dir>/<name>.snap` with insta, whose diff is the message.
/// `dir` must exist: without it insta would write beside the harness's own sources.
/// The snapshot's `source:` is the scenario file, as `cargo insta review` shows it.
pub(crate) fn assert(
    dir: &std::path::Path,
    sc: &Scenario,
    name: &str,
    text: &str,
) -> Result<(), String> {
    let dir =
        std::path::absolute(dir).map_err(|e| format!("snapshot folder {}: {e}", dir.display()))?;
    if !dir.is_dir() {
        return Err(format!(
            "the snapshot folder {} does not exist; create it (netspec writes snapshots only there)",
            dir.display()
        ));
    }
    refuse_symlinks(&dir, name)?;
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_input_file(&sc.file);
    if let Some(d) = &sc.description {
        settings.set_description(d.trim());
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // The workspace is the folder above the snapshots; the source is the scenario.
    let workspace = dir.parent().unwrap_or(&dir).to_path_buf();
    let source = sc.file.to_string_lossy().to_string();
    quiet_panics_of_assertions();
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| {
            // The macro's own expansion, with the scenario as the assertion's file.
            insta::_macro_support::assert_snapshot(
                (name.to_string(), text).into(),
                &workspace,
                "scenario",
                "netspec",
                &source,
                0,
                "",
            )
        })
    }));
    QUIET.with(|q| q.set(false));
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("insta could not assert the snapshot: {e}")),
        Err(_) => Err(
            "the snapshot differs or is new (diff above; accept with `cargo insta review`)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_their_iproute2_names_and_others_their_number() {
        assert_eq!(crate::scenario::table_name(254), "main");
        assert_eq!(crate::scenario::table_name(255), "local");
        assert_eq!(crate::scenario::table_name(253), "default");
        assert_eq!(crate::scenario::table_name(100), "100");
    }

    #[test]
    fn neighbour_states_that_move_with_time_are_one_state() {
        for s in [
            NudState::Reachable,
            NudState::Stale,
            NudState::Delay,
            NudState::Probe,
        ] {
            assert_eq!(stable_state(s), "reachable");
        }
        assert_eq!(stable_state(NudState::Incomplete), "incomplete");
        assert_eq!(stable_state(NudState::Failed), "failed");
    }

    #[test]
    fn an_fdb_line_reads_as_bridge_fdb_show_prints_it() {
        let mut e = FdbRow {
            mac: Mac([2, 0, 0, 0, 0, 1]),
            port: "vx0".into(),
            master: None,
            kind: FdbKind::Permanent,
            dst: Some("10.0.0.2".parse().unwrap()),
            flags: vec![],
            vlan: None,
        };
        assert_eq!(
            fdb_line(&e),
            "02:00:00:00:00:01 dev vx0 dst 10.0.0.2 self permanent"
        );
        e.master = Some("br0".into());
        e.dst = None;
        e.kind = FdbKind::Dynamic;
        e.flags = vec!["sticky"];
        assert_eq!(fdb_line(&e), "02:00:00:00:00:01 dev vx0 master br0 sticky");
        e.port = "swp1".into();
        e.vlan = Some(10);
        assert_eq!(
            fdb_line(&e),
            "02:00:00:00:00:01 dev swp1 vlan 10 master br0 sticky",
            "a VLAN-aware bridge's entry names its VLAN where bridge fdb does"
        );
    }

    #[test]
    fn a_snapshot_name_keeps_the_scenario_path_without_slashes() {
        assert_eq!(
            snapshot_name("seed/bridge", "after-ping"),
            "seed__bridge@after-ping"
        );
    }

    #[test]
    fn a_symlink_where_a_snapshot_would_go_is_refused() {
        let dir = std::env::temp_dir().join(format!("netspec-snap-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        assert_eq!(refuse_symlinks(&dir, "a@x"), Ok(()));
        std::fs::write(dir.join("a@x.snap"), "").unwrap();
        assert_eq!(
            refuse_symlinks(&dir, "a@x"),
            Ok(()),
            "a regular file is ours to compare"
        );
        std::os::unix::fs::symlink("/etc/hostname", dir.join("b@x.snap.new")).unwrap();
        let e = refuse_symlinks(&dir, "b@x").unwrap_err();
        assert!(e.contains("b@x.snap.new is not a regular file"), "{e}");
        let link = dir.with_extension("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(refuse_symlinks(&link, "a@x")
            .unwrap_err()
            .contains("is a symlink"));
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
