//! Shrinking: remove one element of a topology at a time (a node, a link, a route, a
//! flag, a step) and keep the removal while the disagreement persists.

use std::net::IpAddr;

use super::topo::{Port, Topo, Via};

/// Every topology one element smaller than `t` that still has the probe's two ends.
pub fn smaller(t: &Topo, from: usize, to: IpAddr) -> Vec<Topo> {
    let mut out = Vec::new();
    for n in 0..t.nodes.len() {
        out.extend(without_node(t, n));
    }
    for s in 0..t.segs.len() {
        out.extend(without_segment(t, s));
        for m in 0..t.segs[s].members.len() {
            out.extend(without_member(t, s, m));
        }
    }
    for r in 0..t.routes.len() {
        let mut c = t.clone();
        c.routes.remove(r);
        out.push(c);
    }
    for d in 0..t.downs.len() {
        let mut c = t.clone();
        c.downs.remove(d);
        out.push(c);
    }
    out.extend(plainer(t));
    if t.v6 && to.is_ipv4() {
        let mut c = t.clone();
        c.v6 = false;
        c.routes.retain(|r| !r.v6);
        out.push(c);
    }
    // The probe's ends must survive, under their new indexes.
    out.into_iter()
        .filter(|c| ends_exist(c, t, from, to))
        .collect()
}

/// Where the probe's source went in `c` (nodes keep their names).
pub fn moved(c: &Topo, t: &Topo, from: usize) -> Option<usize> {
    c.nodes.iter().position(|n| n.name == t.nodes[from].name)
}

fn ends_exist(c: &Topo, t: &Topo, from: usize, to: IpAddr) -> bool {
    let Some(f) = moved(c, t, from) else {
        return false;
    };
    let owner = c.segs.iter().enumerate().any(|(s, seg)| {
        seg.members
            .iter()
            .any(|m| m.node != f && super::oracle::addr(c, s, m.host, to.is_ipv6()) == to)
    });
    owner && (!to.is_ipv6() || c.v6)
}

/// Flags back to their defaults, one at a time.
fn plainer(t: &Topo) -> Vec<Topo> {
    let mut out = Vec::new();
    for n in 0..t.nodes.len() {
        if t.nodes[n].forward {
            let mut c = t.clone();
            c.nodes[n].forward = false;
            out.push(c);
        }
        if t.nodes[n].rp_filter != 0 {
            let mut c = t.clone();
            c.nodes[n].rp_filter = 0;
            out.push(c);
        }
    }
    for s in 0..t.segs.len() {
        for m in 0..t.segs[s].members.len() {
            let member = &t.segs[s].members[m];
            if member.proxy_arp {
                let mut c = t.clone();
                c.segs[s].members[m].proxy_arp = false;
                out.push(c);
            }
            if member.port != Port::default() {
                let mut c = t.clone();
                c.segs[s].members[m].port = Port::default();
                out.push(c);
            }
        }
    }
    out
}

fn without_node(t: &Topo, n: usize) -> Option<Topo> {
    let mut c = t.clone();
    // Its segments lose it; a switch takes its bridges' segments along.
    let segs: Vec<usize> = (0..c.segs.len())
        .rev()
        .filter(|&s| c.segs[s].bridge == Some(n))
        .collect();
    for s in segs {
        c = without_segment(&c, s)?;
    }
    for s in (0..c.segs.len()).rev() {
        if let Some(m) = c.segs[s].members.iter().position(|m| m.node == n) {
            c = without_member(&c, s, m)?;
        }
    }
    c.nodes.remove(n);
    let shift = |x: usize| if x > n { x - 1 } else { x };
    for seg in &mut c.segs {
        seg.bridge = seg.bridge.map(shift);
        for m in &mut seg.members {
            m.node = shift(m.node);
        }
    }
    c.routes.retain(|r| r.node != n);
    for r in &mut c.routes {
        r.node = shift(r.node);
    }
    c.downs.retain(|d| d.0 != n);
    for d in &mut c.downs {
        d.0 = shift(d.0);
    }
    Some(c)
}

fn without_member(t: &Topo, s: usize, m: usize) -> Option<Topo> {
    if t.segs[s].members.len() <= 2 {
        return without_segment(t, s);
    }
    let mut c = t.clone();
    let node = c.segs[s].members.remove(m).node;
    drop_refs(&mut c, node, s);
    Some(c)
}

/// Routes and downs of `node` that name segment `s`, which it is no longer on.
fn drop_refs(c: &mut Topo, node: usize, s: usize) {
    c.routes.retain(|r| {
        !(r.node == node
            && matches!(r.via, Via::Gateway { seg, .. } | Via::Dev { seg } if seg == s))
    });
    c.downs.retain(|d| *d != (node, s));
    // A gateway that left the segment leaves its routes without a gateway.
    let hosts: Vec<u8> = c.segs[s].members.iter().map(|m| m.host).collect();
    c.routes.retain(
        |r| !matches!(r.via, Via::Gateway { seg, host } if seg == s && !hosts.contains(&host)),
    );
}

fn without_segment(t: &Topo, s: usize) -> Option<Topo> {
    let mut c = t.clone();
    c.segs.remove(s);
    c.routes.retain(|r| {
        r.dst != Some(s)
            && !matches!(r.via, Via::Gateway { seg, .. } | Via::Dev { seg } if seg == s)
    });
    let shift = |x: usize| if x > s { x - 1 } else { x };
    for r in &mut c.routes {
        r.dst = r.dst.map(shift);
        r.via = match r.via {
            Via::Gateway { seg, host } => Via::Gateway {
                seg: shift(seg),
                host,
            },
            Via::Dev { seg } => Via::Dev { seg: shift(seg) },
            other => other,
        };
    }
    c.downs.retain(|d| d.1 != s);
    for d in &mut c.downs {
        d.1 = shift(d.1);
    }
    Some(c)
}
