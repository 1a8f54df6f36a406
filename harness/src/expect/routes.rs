//! Route, lookup and nexthop checks: does the kernel's table hold what was expected.

use std::net::IpAddr;

use super::{flags_text, same_flags, Verdict};
use crate::scenario::{NexthopCheck, RouteAttrs, RouteCheck};
use crate::state::{NodeState, RouteEntry, RouteKind};

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
fn goes(r: &RouteEntry, via: Option<IpAddr>, dev: Option<&str>) -> bool {
    via.is_none_or(|v| r.via == Some(v)) && dev.is_none_or(|d| r.dev.as_deref() == Some(d))
}

/// Whether a route has every attribute the check names.
fn has(r: &RouteEntry, a: &RouteAttrs) -> bool {
    a.proto.is_none_or(|p| r.proto == p)
        && a.scope.is_none_or(|s| r.scope == s)
        && a.src.is_none_or(|s| r.src == Some(s))
        && a.metric.is_none_or(|m| r.metric.unwrap_or(0) == m)
        && a.mtu.is_none_or(|m| r.mtu == Some(m))
        && a.lock.is_none_or(|l| r.mtu_locked == l)
        && a.nhid.is_none_or(|n| r.nhid == Some(n))
        && a.pref.is_none_or(|p| r.pref == Some(p))
        && a.hops.as_ref().is_none_or(|want| {
            want.len() == r.hops.len()
                && want.iter().zip(&r.hops).all(|(w, g)| {
                    w.via == g.via
                        && w.dev.as_deref().is_none_or(|d| g.dev.as_deref() == Some(d))
                        && w.weight == g.weight
                })
        })
        && same_flags(a.flags.as_ref(), &r.flags)
}

/// A route's attributes as iproute2 prints them, for `actual`.
fn attrs_of(r: &RouteEntry) -> String {
    RouteAttrs {
        proto: Some(r.proto),
        scope: Some(r.scope),
        src: r.src,
        metric: r.metric,
        flags: Some(r.flags.iter().map(|f| f.to_string()).collect()),
        mtu: r.mtu,
        lock: Some(r.mtu_locked).filter(|l| *l),
        nhid: r.nhid,
        pref: r.pref,
        hops: Some(r.hops.iter().map(model_hop).collect()).filter(|h: &Vec<_>| !h.is_empty()),
    }
    .to_string()
}

fn model_hop(h: &crate::state::Hop) -> crate::scenario::Hop {
    crate::scenario::Hop {
        via: h.via,
        dev: h.dev.as_deref().map(Into::into),
        weight: h.weight,
    }
}

pub(super) fn nexthop(c: &NexthopCheck, st: &NodeState) -> Verdict {
    let NexthopCheck {
        id,
        present,
        is,
        flags,
        ..
    } = c;
    let found = st.nexthops.iter().find(|n| n.id == *id);
    let mut want = format!("nexthop {id}");
    if !present {
        want += " absent";
    }
    if let Some(k) = is {
        want += &format!(" {k}");
    }
    want += &flags_text(flags.as_ref());
    let actual = match found {
        Some(n) => format!("nexthop {id} {n}"),
        None => format!(
            "no nexthop {id}; the node has {}",
            match st.nexthops.len() {
                0 => "none".to_string(),
                _ => st
                    .nexthops
                    .iter()
                    .map(|n| n.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        ),
    };
    let ok = match found {
        None => !present,
        Some(n) => {
            *present
                && is.as_ref().is_none_or(|k| nexthop_is(n, k))
                && same_flags(flags.as_ref(), &n.flags)
        }
    };
    Verdict::new(ok, want, actual)
}

fn nexthop_is(n: &crate::state::NexthopRow, k: &crate::scenario::NexthopKind) -> bool {
    use crate::scenario::NexthopKind;
    match k {
        NexthopKind::Path { via, dev, .. } => {
            n.group.is_none() && !n.blackhole && n.via == *via && n.dev.as_deref() == dev.as_deref()
        }
        NexthopKind::Blackhole { .. } => n.blackhole,
        NexthopKind::Group(m) => n.group.as_ref() == Some(m),
    }
}

pub(super) fn route_lookup(c: &RouteCheck, found: Option<&RouteEntry>) -> Verdict {
    let RouteCheck {
        node,
        to,
        via,
        dev,
        present,
        attrs,
        how,
        ..
    } = c;
    let expected = if *present {
        format!(
            "{node} routes {}{how}{}{attrs}",
            to.addr,
            via_dev(*via, dev.as_deref())
        )
    } else {
        format!("{node} has no route to {}", to.addr)
    };
    let actual = match found {
        None => format!("{node} has no route to {}", to.addr),
        Some(r) => {
            let kind = match r.kind {
                RouteKind::Local | RouteKind::Blackhole | RouteKind::Unreachable => {
                    format!(" ({})", r.kind.prefix().unwrap_or_default())
                }
                _ => String::new(),
            };
            let extra = if attrs.is_empty() {
                String::new()
            } else {
                attrs_of(r)
            };
            format!(
                "{node} routes {}{}{kind}{extra}",
                to.addr,
                via_dev(r.via, r.dev.as_deref())
            )
        }
    };
    let passed = match found {
        None => !*present,
        Some(r) => *present && goes(r, *via, dev.as_deref()) && has(r, attrs),
    };
    Verdict::new(passed, expected, actual)
}

pub(super) fn route_entry(c: &RouteCheck, st: &NodeState) -> Verdict {
    let RouteCheck {
        node,
        to,
        via,
        dev,
        table,
        present,
        attrs,
        ..
    } = c;
    let want_table = table.unwrap_or(254);
    let routes: Vec<_> = st
        .routes
        .iter()
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
        format!("route {}{attrs} in {node}", render(*via, dev.as_deref()))
    } else {
        format!("no route {dst}{tbl} in {node}")
    };
    let passed = if *present {
        routes
            .iter()
            .any(|r| goes(r, *via, dev.as_deref()) && has(r, attrs))
    } else {
        routes.is_empty()
    };
    let actual = if routes.is_empty() {
        format!("no route {dst}{tbl} in {node}")
    } else {
        routes
            .iter()
            .map(|r| {
                let extra = if attrs.is_empty() {
                    String::new()
                } else {
                    attrs_of(r)
                };
                format!("{}{extra}", render(r.via, r.dev.as_deref()))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Verdict::new(passed, expected, actual)
}
