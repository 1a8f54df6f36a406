//! Verdicts: `(expectation, observation) -> Verdict`, pure functions. Probes and state
//! dumps produce typed observations; nothing here touches the kernel, so every rule
//! that decides a pass or a fail is unit-tested without root.

use crate::observation::Observation;
use crate::observe::Sighting;
use crate::probe::arping::ArpResult;
use crate::probe::ping::PingResult;
use crate::scenario::{
    ArpExpect, Arping, Check, FdbCheck, FramesCheck, IfRef, LinkCheck, Mac, NeighCheck, Observe,
    Ping, Reach, Scenario, VlanCheck,
};
use crate::state::{NodeState, NudState};
use crate::watches::Tally;

mod cni;
mod routes;
mod services;
pub(crate) use cni::cni;
use routes::{nexthop, route_entry, route_lookup};
pub(crate) use services::{connect, counter, exec, trace};

/// What was expected, what was seen, and whether they agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub passed: bool,
    pub expected: String,
    pub actual: String,
}

impl Verdict {
    fn new(passed: bool, expected: String, actual: String) -> Verdict {
        Verdict {
            passed,
            expected,
            actual,
        }
    }
}

/// `02:.. (node:if)` when the scenario knows the MAC's owner.
fn owned(sc: &Scenario, mac: Mac) -> String {
    match sc.mac_owner(mac) {
        Some(o) => format!("{mac} ({o})"),
        None => mac.to_string(),
    }
}

/// `reachable`: every request answered. `unreachable`: none answered (and, with a
/// `reason`, the kernel's answer says so). A ping that sent nothing proves neither.
pub(crate) fn ping(p: &Ping, r: &PingResult) -> Verdict {
    let received = r.received();
    let actual = r.to_string();
    let sent_any = r.sent > 0;
    match p.expect {
        Reach::Reachable => Verdict::new(
            sent_any && received == r.sent && r.sent == p.count,
            format!(
                "{} reachable from {} ({} of {} replies)",
                p.to, p.from, p.count, p.count
            ),
            actual,
        ),
        Reach::Unreachable => {
            let because = p
                .reason
                .as_ref()
                .is_none_or(|why| actual.contains(why.as_str()));
            let expected = match &p.reason {
                Some(why) => format!(
                    "{} unreachable from {} (no reply, because: {why})",
                    p.to, p.from
                ),
                None => format!("{} unreachable from {} (no reply)", p.to, p.from),
            };
            Verdict::new(sent_any && received == 0 && because, expected, actual)
        }
    }
}

pub(crate) fn arping(a: &Arping, r: &ArpResult, sc: &Scenario) -> Verdict {
    let got = r.answer.map(|(m, _)| m);
    let actual = match got {
        Some(m) => match sc.mac_owner(m) {
            Some(o) => format!("{r} ({o})"),
            None => r.to_string(),
        },
        None => r.to_string(),
    };
    // An arping that sent no request has not asked, so silence proves nothing.
    let asked = r.sent > 0;
    match &a.expect {
        ArpExpect::Mac(m, label) => Verdict::new(
            got == Some(*m),
            format!("{} answered by {m} ({label})", a.to),
            actual,
        ),
        ArpExpect::Answered => Verdict::new(got.is_some(), format!("{} answered", a.to), actual),
        ArpExpect::Unanswered => Verdict::new(
            asked && got.is_none(),
            format!("{} unanswered", a.to),
            actual,
        ),
    }
}

/// A runtime change: the kernel's answer (None when it accepted) against `error`,
/// the text a refusal must contain.
pub(crate) fn change(error: Option<&str>, refusal: Option<&str>) -> Verdict {
    match (refusal, error) {
        (None, None) => Verdict::new(true, "the kernel to accept it".into(), "done".into()),
        (None, Some(e)) => Verdict::new(
            false,
            format!("the kernel to refuse it with {e:?}"),
            "it was accepted".into(),
        ),
        (Some(msg), None) => Verdict::new(false, "the kernel to accept it".into(), msg.into()),
        (Some(msg), Some(e)) => Verdict::new(
            msg.contains(e),
            format!("the kernel to refuse it with {e:?}"),
            if msg.contains(e) {
                format!("refused as expected: {msg}")
            } else {
                msg.into()
            },
        ),
    }
}

/// What of a `link: {set}` the link does not show, in words; None when it shows all.
/// Port flags are not read back here: a `check: {link}` or a snapshot shows them.
pub(crate) fn link_set_missing(
    set: &crate::scenario::LinkSet,
    l: Option<&crate::state::Link>,
) -> Option<String> {
    let Some(l) = l else {
        return Some("the link is gone".into());
    };
    let mut missing = Vec::new();
    if let Some(m) = set.mtu.filter(|m| *m != l.mtu) {
        missing.push(format!("mtu {m} (it has {})", l.mtu));
    }
    if let Some(m) = set.mac.filter(|m| l.mac != Some(*m)) {
        missing.push(format!("mac {m}"));
    }
    if let Some(m) = &set.master {
        if m.as_deref() != l.master.as_deref() {
            let want = m.as_deref().unwrap_or("none");
            let have = l.master.as_deref().unwrap_or("none");
            missing.push(format!("master {want} (it has {have})"));
        }
    }
    if let Some(r) = set.remote {
        let shown = l
            .vxlan
            .as_ref()
            .map(|(v, _)| v.as_str())
            .unwrap_or_default();
        if !shown
            .split(' ')
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w == ["remote", &r.to_string()])
        {
            missing.push(format!("remote {r} (it has `{shown}`)"));
        }
    }
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// A verdict whose observation turned out incomplete: it fails, saying why, whatever
/// it was going to say.
/// The same verdict with notes that explain it (each on its own `note:` line); the
/// notes never change whether it passed.
pub(crate) fn noted(v: Verdict, notes: &[String]) -> Verdict {
    let mut actual = v.actual;
    for n in notes {
        actual += &format!("\n  note: {n}");
    }
    Verdict::new(v.passed, v.expected, actual)
}

pub(crate) fn incomplete(v: Verdict, why: String) -> Verdict {
    Verdict::new(
        false,
        v.expected,
        format!("{}; incomplete: {why}", v.actual),
    )
}

pub(crate) fn check(c: &Check, seen: &Observation, sc: &Scenario) -> Verdict {
    match (c, seen) {
        (Check::Route(r), Observation::Lookup(found)) if r.lookup => {
            route_lookup(r, found.as_ref())
        }
        (Check::Frames(f), Observation::Frames(t)) => frames(f, t),
        (Check::Counter(k), Observation::Counters(found)) => counter(k, found),
        (Check::Neigh(n), Observation::Node(st)) => neigh(n, st, sc),
        (Check::Fdb(f), Observation::Node(st)) => fdb(f, st),
        (Check::Route(r), Observation::Node(st)) if !r.lookup => route_entry(r, st),
        (Check::Link(l), Observation::Node(st)) => link(l, st),
        (Check::Vlan(v), Observation::Node(st)) => vlan(v, st),
        (Check::Nexthop(n), Observation::Node(st)) => nexthop(n, st),
        (_, _) => mismatched(c),
    }
}

/// The frames a watch counted; a count the kernel made incomplete is only a lower
/// bound, so it never passes.
fn frames(c: &FramesCheck, t: &Tally) -> Verdict {
    let FramesCheck { watch, at, count } = c;
    let mut actual = format!(
        "{} frame{} at {at}",
        t.count,
        if t.count == 1 { "" } else { "s" }
    );
    if !count.holds(t.count) && !t.recent.is_empty() {
        actual += ", the latest:";
        for l in &t.recent {
            actual += &format!("\n    {l}");
        }
    }
    let mut passed = count.holds(t.count);
    if let Some(lost) = &t.lost {
        // Any count is then a lower bound: "< 5000" could be false.
        passed = false;
        actual += &format!(
            "; incomplete: the kernel dropped {lost} before the watch read them, so the count is a lower bound"
        );
    }
    Verdict::new(
        passed,
        format!("{count} frames matching watch {watch} at {at}"),
        actual,
    )
}

/// ` router extern_learn`, ` (no flags)`, or nothing when the check names none.
pub(super) fn flags_text(want: Option<&Vec<String>>) -> String {
    match want {
        Some(f) if f.is_empty() => " (no flags)".into(),
        Some(f) => format!(" {}", f.join(" ")),
        None => String::new(),
    }
}

/// Whether an entry has exactly the flags a check lists, in any order (no list: any).
pub(super) fn same_flags(want: Option<&Vec<String>>, got: &[&str]) -> bool {
    want.is_none_or(|w| {
        let mut w: Vec<&str> = w.iter().map(String::as_str).collect();
        let mut g = got.to_vec();
        w.sort_unstable();
        g.sort_unstable();
        w == g
    })
}

/// A check judged on an observation of another kind: a bug in netspec, never a pass.
pub(super) fn mismatched(c: &Check) -> Verdict {
    Verdict::new(
        false,
        crate::check::describe(c),
        "netspec looked at something else than this check needs (a bug)".into(),
    )
}

fn neigh(c: &NeighCheck, st: &NodeState, sc: &Scenario) -> Verdict {
    let NeighCheck {
        node,
        to,
        mac,
        state,
        present,
        dev,
        proxy,
        flags,
    } = c;
    let entries: Vec<_> = st
        .neigh
        .iter()
        .filter(|e| e.dst == *to && e.proxy == *proxy)
        .filter(|e| dev.as_ref().is_none_or(|d| e.dev == **d))
        .collect();
    let what = if *proxy {
        "proxy entry"
    } else {
        "neighbour entry"
    };
    let on = dev
        .as_ref()
        .map(|d| format!(" dev {d}"))
        .unwrap_or_default();
    let mut expected = if *present {
        format!("{node} has a {what} for {to}{on}")
    } else {
        format!("{node} has no {what} for {to}{on}")
    };
    if let Some((m, label)) = mac {
        expected += &format!(" with lladdr {m} ({label})");
    }
    if let Some(s) = state {
        expected += &format!(" in state {s}");
    }
    expected += &flags_text(flags.as_ref());
    let passed = if *present {
        entries.iter().any(|e| {
            mac.as_ref().is_none_or(|(m, _)| e.mac == Some(*m))
                && state.is_none_or(|s| e.state.name() == s.to_string())
                && (e.state != NudState::None || e.proxy)
                && same_flags(flags.as_ref(), &e.flags)
        })
    } else {
        entries.is_empty()
    };
    let actual = if entries.is_empty() {
        format!("{node} has no {what} for {to}{on}")
    } else {
        entries
            .iter()
            .map(|e| {
                if e.proxy {
                    return format!("proxy {to} dev {}", e.dev);
                }
                let ll = e
                    .mac
                    .map(|m| format!("lladdr {} ", owned(sc, m)))
                    .unwrap_or_default();
                let fl: String = e.flags.iter().map(|f| format!(" {f}")).collect();
                format!("{to} dev {} {ll}{}{fl}", e.dev, e.state.name())
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Verdict::new(passed, expected, actual)
}

fn fdb(c: &FdbCheck, st: &NodeState) -> Verdict {
    let FdbCheck {
        node,
        mac: (mac, label),
        port,
        present,
        dst,
        flags,
        vlan,
    } = c;
    let entries: Vec<_> = st.fdb_entries().filter(|e| e.mac == *mac).collect();
    // A MAC written as `node:if` is named both ways; one written as a MAC, once.
    let who = if *label == mac.to_string() {
        label.clone()
    } else {
        format!("{mac} ({label})")
    };
    let mut expected = match (present, port) {
        (true, Some(p)) => format!("{who} on port {p}"),
        (true, None) => format!("{who} in the FDB of {node}"),
        (false, Some(p)) => format!("no FDB entry for {who} on port {p}"),
        (false, None) => format!("no FDB entry for {who} in {node}"),
    };
    if let Some(d) = dst {
        expected += &format!(" dst {d}");
    }
    if let Some(v) = vlan {
        expected += &format!(" vlan {v}");
    }
    expected += &flags_text(flags.as_ref());
    let matching = entries
        .iter()
        .filter(|e| port.as_ref().is_none_or(|p| e.port == *p))
        .filter(|e| vlan.is_none_or(|v| e.vlan == Some(v)))
        .filter(|e| dst.is_none_or(|d| e.dst == Some(d)))
        .filter(|e| same_flags(flags.as_ref(), &e.flags))
        .count();
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
            .map(|e| crate::snapshot::fdb_line(e))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Verdict::new(passed, expected, actual)
}

fn vlan(c: &VlanCheck, st: &NodeState) -> Verdict {
    let VlanCheck {
        dev,
        vid,
        pvid,
        untagged,
        present,
    } = c;
    let mut expected = if *present {
        format!("{dev} in VLAN {vid}")
    } else {
        format!("{dev} not in VLAN {vid}")
    };
    for (word, want) in [("pvid", pvid), ("untagged", untagged)] {
        match want {
            Some(true) => expected += &format!(" {word}"),
            Some(false) => expected += &format!(" not {word}"),
            None => {}
        }
    }
    let vlans = st
        .vlans
        .iter()
        .find(|(d, _)| *d == dev.ifname.as_str())
        .map(|(_, v)| v.as_slice())
        .unwrap_or_default();
    let found = vlans.iter().find(|v| v.vid == *vid);
    let passed = match found {
        None => !present,
        Some(v) => {
            *present && pvid.is_none_or(|p| p == v.pvid) && untagged.is_none_or(|u| u == v.untagged)
        }
    };
    let actual = if vlans.is_empty() {
        format!("{dev} is in no VLAN")
    } else {
        format!("{dev} VLANs: {}", crate::snapshot::vlan_words(vlans))
    };
    Verdict::new(passed, expected, actual)
}

fn link(c: &LinkCheck, st: &NodeState) -> Verdict {
    let LinkCheck {
        dev,
        present,
        state,
        port,
        mtu,
        master,
        active,
    } = c;
    let found = st.link(&dev.ifname);
    if !present {
        let exists = if found.is_some() {
            "exists"
        } else {
            "does not exist"
        };
        return Verdict::new(
            found.is_none(),
            format!("{dev} does not exist"),
            format!("{dev} {exists}"),
        );
    }
    let mut want = Vec::new();
    if let Some(s) = state {
        want.push(format!("state {s}"))
    }
    if let Some(p) = port {
        want.push(format!("port {p}"))
    }
    if let Some(m) = mtu {
        want.push(format!("mtu {m}"))
    }
    if let Some(m) = master {
        want.push(format!("master {}", m.as_deref().unwrap_or("none")))
    }
    if let Some(a) = active {
        want.push(format!("active {}", a.as_deref().unwrap_or("none")))
    }
    let expected = format!("{dev} {}", want.join(" "));
    let Some(l) = found else {
        return Verdict::new(false, expected, format!("{dev} does not exist"));
    };
    let passed = state.is_none_or(|s| s == l.oper)
        && port.is_none_or(|p| l.port_state.as_deref() == Some(p.to_string().as_str()))
        && mtu.is_none_or(|m| m == l.mtu)
        && master
            .as_ref()
            .is_none_or(|m| m.as_deref() == l.master.as_deref())
        && active
            .as_ref()
            .is_none_or(|a| a.as_deref() == l.bond.as_ref().and_then(|(_, act, _)| act.as_deref()));
    let mut actual = format!("{dev} state {}", l.oper);
    if let Some(p) = &l.port_state {
        actual += &format!(" port {p}");
    }
    actual += &format!(
        " mtu {} master {}",
        l.mtu,
        l.master.as_deref().unwrap_or("none")
    );
    if let Some((_, act, _)) = &l.bond {
        actual += &format!(" active {}", act.as_deref().unwrap_or("none"));
    }
    Verdict::new(passed, expected, actual)
}

/// The interfaces the first request (or its reply) crossed, in order.
/// Every crossing of the first request (or its reply), in order: a frame received on
/// an interface and sent out of it again (a router on a stick) crosses it twice.
fn walk(seen: &[Sighting], reply: bool) -> Vec<IfRef> {
    seen.iter()
        .filter(|s| s.reply == reply && s.seq == 1)
        .map(|s| s.at.clone())
        .collect()
}

fn arrows(v: &[IfRef]) -> String {
    if v.is_empty() {
        "nowhere".to_string()
    } else {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

/// Where a probe's first request and its reply went, in words (`netspec run -v`).
pub(crate) fn paths(seen: &[Sighting]) -> String {
    format!(
        "the request crossed {}; the reply crossed {}",
        arrows(&walk(seen, false)),
        arrows(&walk(seen, true))
    )
}

/// Where a probe's frames went, against where they had to (and must not) go.
pub(crate) fn observed(o: &Observe, seen: &[Sighting]) -> Verdict {
    let at = |r: &IfRef| seen.iter().filter(|s| s.at == *r).count();
    let list = |v: &[IfRef]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut expected = Vec::new();
    let mut problems = Vec::new();
    let mut passed = true;
    if !o.seen.is_empty() {
        expected.push(format!("frames seen at {}", list(&o.seen)));
        let missing: Vec<IfRef> = o.seen.iter().filter(|r| at(r) == 0).cloned().collect();
        if !missing.is_empty() {
            passed = false;
            problems.push(format!("none at {}", list(&missing)));
        }
    }
    if !o.not_seen.is_empty() {
        expected.push(format!("none at {}", list(&o.not_seen)));
        let there: Vec<IfRef> = o.not_seen.iter().filter(|r| at(r) > 0).cloned().collect();
        if !there.is_empty() {
            passed = false;
            problems.push(format!("frames at {}", list(&there)));
        }
    }
    for (want, reply, what) in [(&o.path, false, "request"), (&o.reply_path, true, "reply")] {
        let Some(want) = want else { continue };
        let got = walk(seen, reply);
        expected.push(format!("the {what} crossing {}", arrows(want)));
        problems.push(format!("the {what} crossed {}", arrows(&got)));
        if got != *want {
            passed = false;
        }
    }
    let mut actual = problems.join("; ");
    if !passed {
        actual += "\n  frames of this step, in order:";
        if seen.is_empty() {
            actual += " none";
        }
        for s in seen {
            let dir = if s.outgoing { "out" } else { "in " };
            actual += &format!("\n    {} {dir} {}", s.at, s.line);
        }
    }
    Verdict::new(passed, expected.join("; "), actual)
}

/// Pings sent at once: one verdict that lists each that did not do what it expected.
pub(crate) fn pings(list: &[Ping], results: &[PingResult]) -> Verdict {
    let mut wrong = Vec::new();
    let mut slowest = std::time::Duration::ZERO;
    for (p, r) in list.iter().zip(results) {
        slowest = r
            .rtts
            .iter()
            .copied()
            .fold(slowest, std::time::Duration::max);
        let v = ping(p, r);
        if !v.passed {
            wrong.push(format!(
                "{}: expected {}; got {}",
                p.from, v.expected, v.actual
            ));
        }
    }
    let n = list.len();
    let actual = if wrong.is_empty() {
        format!(
            "{n} of {n} as expected; slowest reply {}",
            crate::probe::fmt_ms(slowest)
        )
    } else {
        format!(
            "{} of {n} not as expected:\n    {}",
            wrong.len(),
            wrong.join("\n    ")
        )
    };
    Verdict::new(
        wrong.is_empty(),
        format!("{n} pings as each expects"),
        actual,
    )
}

/// Crafted frames: sending them all is the probe's part; where they went is judged
/// by `with_observed`.
pub(crate) fn sent(x: &crate::scenario::Send, s: &crate::probe::send::Sent) -> Verdict {
    Verdict::new(
        s.frames == x.count && !s.cut_short,
        format!("{} frames sent", x.count),
        s.to_string(),
    )
}

/// A passing verdict that also says where its frames went (`netspec run -v`).
pub(crate) fn with_paths(v: Verdict, seen: &[Sighting]) -> Verdict {
    let actual = format!("{}; {}", v.actual, paths(seen));
    Verdict::new(v.passed, v.expected, actual)
}

/// The verdict of a step whose time bound ran out; `so_far` is what it saw.
pub(crate) fn timed_out(index: usize, limit: std::time::Duration, so_far: &str) -> Verdict {
    let limit = crate::probe::fmt_duration(limit);
    Verdict::new(
        false,
        format!("step {index} to finish within {limit}"),
        if so_far.is_empty() {
            format!("step {index} timed out after {limit}")
        } else {
            format!("step {index} timed out after {limit} ({so_far})")
        },
    )
}

/// The probe's verdict, then, if it passed, where its frames went.
pub(crate) fn with_observed(probe: Verdict, o: &Observe, seen: &[Sighting]) -> Verdict {
    if !probe.passed || o.is_empty() {
        return probe;
    }
    let v = observed(o, seen);
    if !v.passed {
        return v;
    }
    Verdict {
        actual: if v.actual.is_empty() {
            probe.actual
        } else {
            format!("{}; {}", probe.actual, v.actual)
        },
        ..probe
    }
}

#[cfg(test)]
mod tests;
