//! A `Topo` and the oracle's predictions as scenario YAML, byte for byte the same for
//! the same input: the explorer runs what a user could run and keep.

use std::fmt::Write;
use std::net::IpAddr;

use super::oracle::{addr, Answer};
use super::topo::{Topo, Via};

/// How long a ping waits for a reply before the explorer calls it unreachable. A reply
/// over veths and bridges, ARP included, comes in well under a millisecond (BENCHMARKS.md
/// measures it under load); silence is the only answer that needs the wait.
pub const PING_TIMEOUT_MS: u64 = 200;

/// One probe: from a node to an address, with what the oracle predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub from: usize,
    pub to: IpAddr,
    pub answer: Answer,
}

/// Every ordered pair: each host to each address of every other host.
pub fn all_probes(t: &Topo, predict: impl Fn(usize, IpAddr) -> Answer) -> Vec<Probe> {
    let families: &[bool] = if t.v6 { &[false, true] } else { &[false] };
    let mut out = Vec::new();
    for from in (0..t.nodes.len()).filter(|&n| !t.nodes[n].switch) {
        for (s, seg) in t.segs.iter().enumerate() {
            for m in seg.members.iter().filter(|m| m.node != from) {
                for &v6 in families {
                    let to = addr(t, s, m.host, v6);
                    let answer = predict(from, to);
                    // A race has no one answer to expect: such a pair is not probed.
                    if answer != Answer::Race {
                        out.push(Probe { from, to, answer });
                    }
                }
            }
        }
    }
    out
}

fn ifname(t: &Topo, seg: usize) -> String {
    format!("s{}", t.segs[seg].id)
}

fn port_name(t: &Topo, seg: usize, node: usize) -> String {
    format!("p{}{}", t.segs[seg].id, t.nodes[node].name)
}

fn prefix(t: &Topo, seg: usize, v6: bool) -> String {
    let id = t.segs[seg].id;
    if v6 {
        format!("fd00:{id:x}::/64")
    } else {
        format!("10.{id}.0.0/24")
    }
}

/// The scenario text: `header` lines become its description.
pub fn yaml(t: &Topo, probes: &[Probe], description: &str) -> String {
    let mut y = String::new();
    y += "# yaml-language-server: $schema=../../scenario.schema.json\n";
    y += "description: >\n";
    for l in description.lines() {
        let _ = writeln!(y, "  {l}");
    }
    y += "\nnodes:\n";
    for n in 0..t.nodes.len() {
        node_yaml(&mut y, t, n);
    }
    y += "\nsteps:\n";
    for &(node, seg) in &t.downs {
        let _ = writeln!(
            y,
            "  - link: {{ down: {}:{} }}",
            t.nodes[node].name,
            ifname(t, seg)
        );
    }
    for (s, seg) in t.segs.iter().enumerate() {
        let Some(sw) = seg.bridge else { continue };
        for m in seg.members.iter().filter(|m| m.port.down) {
            let _ = writeln!(
                y,
                "  - link: {{ down: {}:{} }}",
                t.nodes[sw].name,
                port_name(t, s, m.node)
            );
        }
    }
    if !probes.is_empty() {
        y += "  - pings:\n";
        for p in probes {
            let _ = writeln!(y, "      - {}", ping_yaml(t, p));
        }
    }
    y
}

fn ping_yaml(t: &Topo, p: &Probe) -> String {
    let head = format!(
        "{{ from: {}, to: \"{}\", timeout: {PING_TIMEOUT_MS}ms",
        t.nodes[p.from].name, p.to
    );
    match &p.answer {
        Answer::Reply => format!("{head} }}"),
        Answer::Timeout => format!("{head}, expect: unreachable, reason: \"no reply within\" }}"),
        Answer::SendError(e) => format!("{head}, expect: unreachable, reason: \"({e})\" }}"),
        Answer::Icmp { what, from } => {
            format!("{head}, expect: unreachable, reason: \"{what}, from {from}\" }}")
        }
        Answer::Unknown | Answer::Race => format!("{head}, expect: unreachable }}"),
        Answer::Said(s) => format!("{head}, expect: unreachable, reason: \"{s}\" }}"),
    }
}

fn node_yaml(y: &mut String, t: &Topo, n: usize) {
    let node = &t.nodes[n];
    let _ = writeln!(y, "  {}:", node.name);
    let mut sysctl = Vec::new();
    if node.forward {
        sysctl.push("net.ipv4.ip_forward: 1".to_string());
        if t.v6 {
            sysctl.push("net.ipv6.conf.all.forwarding: 1".to_string());
        }
    }
    if node.rp_filter > 0 {
        sysctl.push(format!("net.ipv4.conf.all.rp_filter: {}", node.rp_filter));
        sysctl.push(format!(
            "net.ipv4.conf.default.rp_filter: {}",
            node.rp_filter
        ));
    }
    for s in t.segments_of(n) {
        if t.segs[s].members.iter().any(|m| m.node == n && m.proxy_arp) {
            sysctl.push(format!("net.ipv4.conf.{}.proxy_arp: 1", ifname(t, s)));
            // Answer at once, not after a random wait of up to 0.8 s.
            sysctl.push(format!("net.ipv4.neigh.{}.proxy_delay: 0", ifname(t, s)));
        }
    }
    if !sysctl.is_empty() {
        let _ = writeln!(y, "    sysctl: {{ {} }}", sysctl.join(", "));
    }
    y.push_str("    interfaces:\n");
    if node.switch {
        switch_yaml(y, t, n);
        return;
    }
    for s in t.segments_of(n) {
        let seg = &t.segs[s];
        let Some(m) = seg.members.iter().find(|m| m.node == n) else {
            continue;
        };
        let mut addrs = vec![format!("{}/24", addr(t, s, m.host, false))];
        if t.v6 {
            addrs.push(format!("\"{}/64\"", addr(t, s, m.host, true)));
        }
        let peer = match seg.bridge {
            Some(sw) => format!(" peer: {}:{},", t.nodes[sw].name, port_name(t, s, n)),
            None if seg.members[0].node == n => {
                format!(
                    " peer: {}:{},",
                    t.nodes[seg.members[1].node].name,
                    ifname(t, s)
                )
            }
            None => String::new(),
        };
        let _ = writeln!(
            y,
            "      {}: {{{peer} addresses: [{}] }}",
            ifname(t, s),
            addrs.join(", ")
        );
    }
    let routes: Vec<String> = t
        .routes
        .iter()
        .filter(|r| r.node == n)
        .map(|r| {
            let dst = r
                .dst
                .map(|d| prefix(t, d, r.v6))
                .unwrap_or_else(|| "default".into());
            let line = match r.via {
                Via::Gateway { seg, host } => format!("{dst} via {}", addr(t, seg, host, r.v6)),
                Via::Dev { seg } => format!("{dst} dev {}", ifname(t, seg)),
                Via::Blackhole => format!("blackhole {dst}"),
                Via::Unreachable => format!("unreachable {dst}"),
            };
            format!("\"{line}\"")
        })
        .collect();
    if !routes.is_empty() {
        let _ = writeln!(y, "    routes: [{}]", routes.join(", "));
    }
}

fn switch_yaml(y: &mut String, t: &Topo, n: usize) {
    let mut fdb = Vec::new();
    for (s, seg) in t
        .segs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.bridge == Some(n))
    {
        let _ = writeln!(y, "      br{}: {{ kind: bridge }}", seg.id);
        for m in &seg.members {
            let p = m.port;
            let mut flags = Vec::new();
            for (on, name) in [
                (p.isolated, "isolated: true"),
                (!p.learning, "learning: false"),
                (!p.flood, "flood: false"),
                (p.locked, "locked: true"),
            ] {
                if on {
                    flags.push(name);
                }
            }
            let port = if flags.is_empty() {
                String::new()
            } else {
                format!(", port: {{ {} }}", flags.join(", "))
            };
            let _ = writeln!(
                y,
                "      {}: {{ master: br{}{port} }}",
                port_name(t, s, m.node),
                seg.id
            );
            if p.static_entry && p.locked {
                fdb.push(format!(
                    "{{ mac: {}:{}, port: {} }}",
                    t.nodes[m.node].name,
                    ifname(t, s),
                    port_name(t, s, m.node)
                ));
            }
        }
    }
    if !fdb.is_empty() {
        let _ = writeln!(y, "    fdb: [{}]", fdb.join(", "));
    }
}
