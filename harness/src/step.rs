//! One step: act or observe, then judge with `expect`. Probes get the step's deadline,
//! so no step outlives its time bound.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::apply;
use crate::change;
use crate::check;
use crate::events::{self, Groups};
use crate::expect::{self, Verdict};
use crate::observe;
use crate::plan;
use crate::probe::{arping, capture, fmt_duration, fmt_ms, ping, send};
use crate::ready::{self, READY_DEADLINE};
use crate::sandbox::Sandbox;
use crate::scenario::{
    Action, ArpOp, Arping, CarrierStep, ChangeStep, Check, CheckStep, Connection, FrameBody,
    FrameSpec, Interface, LinkStep, ListenStep, Observe, Ping, Reach, RulesStep, Scenario, Send,
    Step, Wait, L4,
};
use crate::servers::Servers;
use crate::snapshot;
use crate::watches::Watches;

mod neighbour;
mod nodes;

/// What lives from one step to the next: watches, listeners, background commands.
#[derive(Default)]
pub(crate) struct Live {
    pub watches: Watches,
    pub servers: Servers,
    pub cni: crate::cni::Cni,
}

/// What a step did.
pub(crate) struct Done {
    pub verdict: Verdict,
    /// A snapshot step's label and text.
    pub snapshot: Option<(String, String)>,
    /// Addresses that answered a probe (an ICMP error's sender), for the report.
    pub answered_by: Vec<String>,
}

impl Done {
    pub(crate) fn judged(verdict: Verdict) -> Done {
        Done {
            verdict,
            snapshot: None,
            answered_by: Vec::new(),
        }
    }

    /// An action that did what it should.
    pub(crate) fn ok(detail: String) -> Done {
        Done::judged(Verdict {
            passed: true,
            expected: String::new(),
            actual: detail,
        })
    }

    /// Something netspec could not do (a socket, a dump) decides the step.
    pub(crate) fn broken(expected: &str, e: impl std::fmt::Display) -> Done {
        Done::judged(Verdict {
            passed: false,
            expected: expected.to_string(),
            actual: format!("error: {e}"),
        })
    }
}

/// The step in a few words, for titles.
pub(crate) fn title(step: &Step) -> String {
    let t = match &step.action {
        Action::Ping(p) => format!(
            "ping {} -> {}",
            p.from_if
                .as_ref()
                .map(|i| format!("{}:{i}", p.from))
                .unwrap_or(p.from.to_string()),
            p.to_label
        ),
        Action::Pings(list) => format!("{} pings at once", list.len()),
        Action::Arping(a) => format!("arping {} -> {}", a.from, a.to),
        Action::Send(x) => format!("send {} from {}", send_what(&x.frame), x.from),
        Action::Watch(w) => format!("watch {} at {}", w.name, w.at),
        Action::Link(LinkStep { dev, up }) => {
            format!("link {} {dev}", if *up { "up" } else { "down" })
        }
        Action::Carrier(CarrierStep { dev, on, .. }) => {
            format!("carrier {} {dev}", if *on { "on" } else { "off" })
        }
        Action::Check(CheckStep { check, .. }) => check::describe(check),
        Action::Snapshot(s) => format!("snapshot {}", s.label),
        Action::Sleep(d) => format!("sleep {}", fmt_duration(*d)),
        Action::Change(ChangeStep { change, .. }) => change::describe(change),
        Action::Listen(ListenStep { listen, stop }) => {
            format!(
                "{} {listen}",
                if *stop { "stop listening" } else { "listen" }
            )
        }
        Action::Connect(c) => format!(
            "connect {} -> {} {}/{}",
            c.from, c.to_label, c.proto, c.port
        ),
        Action::Exec(e) => format!("exec {}: {}", e.node, e.argv.join(" ")),
        Action::Rules(RulesStep { node, rules, .. }) => {
            format!("{} rules in {node}", rules.tool.key())
        }
        Action::Cni(c) => format!("cni {} {}", c.command.word(), c.attachment),
        Action::Netavark(n) => format!(
            "netavark {} {}",
            if n.setup { "setup" } else { "teardown" },
            n.container
        ),
    };
    match &step.name {
        Some(n) => format!("{n}: {t}"),
        None => t,
    }
}

/// Runs one step; `until` is its time bound, which probes never wait past.
pub(crate) async fn run(
    sb: &Sandbox,
    sc: &Scenario,
    step: &Step,
    until: Instant,
    snapshot_dir: Option<&Path>,
    live: &mut Live,
    show_paths: bool,
) -> Done {
    let watches = &mut live.watches;
    match &step.action {
        Action::Ping(p) => {
            let started = Instant::now();
            let probe = || run_ping(sb, sc, step, p, until, show_paths);
            let mut done = nodes::traced(sb, p.trace.as_ref(), probe).await;
            if !done.verdict.passed && p.expect == Reach::Reachable {
                explain_silence(sb, sc, &p.from, p.to, started, &mut done).await;
            }
            done
        }
        Action::Pings(list) => run_pings(sb, step, list, until),
        Action::Arping(a) => run_arping(sb, sc, step, a, until),
        Action::Send(x) => run_send(sb, sc, step, x, until),
        Action::Watch(w) => match watches.start(sb, w) {
            Ok(()) => Done::ok(format!("counting at {}", w.at)),
            Err(e) => Done::broken(&format!("a tap on {}", w.at), e),
        },
        Action::Link(LinkStep { dev, up }) => link(sb, sc, dev, *up, until).await,
        Action::Check(CheckStep { check, wait }) => {
            run_check(sb, sc, check, *wait, step, until, watches).await
        }
        Action::Snapshot(s) => snapshot_step(sb, sc, s, snapshot_dir, live.cni.aliases()).await,
        Action::Change(ChangeStep { change, error }) => {
            let mut refusal = None;
            for op in change::lower(change) {
                if let Err(e) = apply::exec(sb, &op).await {
                    refusal = Some(e.to_string());
                    break;
                }
            }
            if refusal.is_none() {
                refusal = unapplied(sb, change).await;
            }
            Done::judged(expect::change(error.as_deref(), refusal.as_deref()))
        }
        Action::Sleep(d) => {
            tokio::time::sleep(*d).await;
            Done::ok(format!("slept {}", fmt_duration(*d)))
        }
        Action::Carrier(CarrierStep { dev, peer, on }) => {
            carrier(sb, sc, dev, peer.as_ref(), *on, until).await
        }
        Action::Listen(ListenStep { listen, stop }) => {
            nodes::listen(sb, &mut live.servers, listen, *stop)
        }
        Action::Connect(c) => {
            let started = Instant::now();
            let servers = &live.servers;
            let probe = || nodes::connect(sb, servers, step, c, until);
            let mut done = nodes::traced(sb, c.trace.as_ref(), probe).await;
            if !done.verdict.passed && c.expect == Connection::Connected {
                explain_silence(sb, sc, &c.from, c.to, started, &mut done).await;
            }
            done
        }
        Action::Exec(e) => nodes::exec(sb, &mut live.servers, e, until),
        Action::Rules(RulesStep { node, rules, error }) => {
            nodes::rules(sb, sc, node, rules, error.as_deref()).await
        }
        Action::Cni(c) => {
            let v = live
                .cni
                .run(sb, sc, c.command, &c.attachment, &c.expect, until);
            Done::judged(v.await)
        }
        Action::Netavark(n) => Done::judged(live.cni.netavark(sb, n, until).await),
    }
}

/// A snapshot of the state, asserted against its `.snap` file when there is a folder.
async fn snapshot_step(
    sb: &Sandbox,
    sc: &Scenario,
    s: &crate::scenario::Snapshot,
    snapshot_dir: Option<&Path>,
    aliases: &crate::state::Aliases,
) -> Done {
    let text = match snapshot::render(sb, sc, s.nodes.as_deref(), s.only.as_deref(), aliases).await
    {
        Ok(t) => t,
        Err(e) => return Done::broken("a state dump", e),
    };
    let name = snapshot::snapshot_name(&sc.name, &s.label);
    if let Some(dir) = snapshot_dir {
        if let Err(msg) = snapshot::assert(dir, sc, &name, &text) {
            return Done::judged(Verdict {
                passed: false,
                expected: format!("state equal to snapshots/{name}.snap"),
                actual: msg,
            });
        }
    }
    Done {
        snapshot: Some((s.label.clone(), text.clone())),
        ..Done::ok(format!("{} lines", text.lines().count()))
    }
}

/// Sets a link down or up. Down: waits until a veth's peer has lost its carrier (it
/// learns through linkwatch, which can lag by up to a second under load), so that the
/// next step sees the link down from both ends, every time. Up: waits until it carries.
async fn link(
    sb: &Sandbox,
    sc: &Scenario,
    dev: &crate::scenario::IfRef,
    up: bool,
    until: Instant,
) -> Done {
    let what = if up { "up" } else { "down" };
    if let Err(e) = apply::exec(sb, &change::lower_link(dev, up)).await {
        return Done::broken(&format!("{dev} set {what}"), e);
    }
    if !up {
        let peer = sc.interface(dev).and_then(|i| match &i.kind {
            crate::scenario::IfKind::Veth { peer, .. } => Some(peer.clone()),
            _ => None,
        });
        if let Some(peer) = peer {
            if let Err(done) = wait_no_carrier(sb, &peer, until).await {
                return done;
            }
        }
        return Done::ok(format!("{dev} is down"));
    }
    let wait = plan::after_link_up(sc, dev);
    match ready::wait(sb, &wait, READY_DEADLINE.min(left(until))).await {
        Ok(()) => Done::ok(format!("{dev} is up")),
        Err(e) => Done::broken(&format!("{dev} up and carrying"), e),
    }
}

/// What a `link: {set}` the kernel accepted does not show on the link: a request the
/// kernel acknowledges can still be ignored (IFLA_INFO_DATA in RTM_SETLINK once was), so
/// the link is read back.
async fn unapplied(sb: &Sandbox, change: &crate::scenario::Change) -> Option<String> {
    let crate::scenario::Change::LinkSet { dev, set } = change else {
        return None;
    };
    let st = crate::state::NodeState::gather(sb.nl(&dev.node), crate::state::Sections::LINKS)
        .await
        .map_err(|e| format!("accepted, but the link could not be read back: {e}"));
    let missing = match st {
        Ok(st) => expect::link_set_missing(set, st.link(&dev.ifname)),
        Err(e) => return Some(e),
    };
    missing.map(|m| format!("accepted, but not applied: {m}"))
}

/// Sets the veth's peer down (or up), then waits until the veth reports the carrier
/// change, so that the next step sees it: `link` on the peer, which waits for just that.
/// A dummy's carrier is set directly, and the step waits for its oper state to follow.
async fn carrier(
    sb: &Sandbox,
    sc: &Scenario,
    dev: &crate::scenario::IfRef,
    peer: Option<&crate::scenario::IfRef>,
    on: bool,
    until: Instant,
) -> Done {
    let Some(peer) = peer else {
        return dummy_carrier(sb, dev, on, until).await;
    };
    let done = link(sb, sc, peer, on, until).await;
    if !done.verdict.passed {
        return done;
    }
    if on {
        Done::ok(format!("{dev} has carrier ({peer} is up)"))
    } else {
        Done::ok(format!("{dev} has no carrier ({peer} is down)"))
    }
}

/// `ip link set dev DUMMY carrier on|off`, then waits until its oper state says so: a
/// dummy without carrier is `down`, with it `unknown` (a dummy never says `up`).
async fn dummy_carrier(
    sb: &Sandbox,
    dev: &crate::scenario::IfRef,
    on: bool,
    until: Instant,
) -> Done {
    use crate::scenario::OperState;
    let nl = sb.nl(&dev.node);
    let set = match sb.index(&dev.node, &dev.ifname).await {
        Ok(i) => nl.set_carrier(i, &dev.ifname, on).await,
        Err(e) => Err(e),
    };
    if let Err(e) = set {
        return Done::broken(
            &format!("carrier {} on {dev}", if on { "on" } else { "off" }),
            e,
        );
    }
    let no_carrier =
        |s: Option<OperState>| matches!(s, Some(OperState::Down | OperState::LowerLayerDown));
    let what = if on {
        "gain its carrier"
    } else {
        "lose its carrier"
    };
    match wait_oper(sb, dev, until, |s| no_carrier(s) != on, what).await {
        Ok(()) => Done::ok(format!(
            "{dev} {}",
            if on { "has carrier" } else { "has no carrier" }
        )),
        Err(done) => done,
    }
}

/// Waits until `dev` reports an oper state other than up (its veth peer went down).
async fn wait_no_carrier(
    sb: &Sandbox,
    dev: &crate::scenario::IfRef,
    until: Instant,
) -> Result<(), Done> {
    use crate::scenario::OperState;
    let lost = |s: Option<OperState>| s.is_none_or(|s| s != OperState::Up);
    wait_oper(sb, dev, until, lost, "lose its carrier").await
}

/// Looks at `dev`'s oper state, again on each link event, until `done` holds for it
/// (None: the link is gone), within the readiness bound; past it, says what was awaited
/// (`to {what}`) and what it reports.
async fn wait_oper(
    sb: &Sandbox,
    dev: &crate::scenario::IfRef,
    until: Instant,
    done: impl Fn(Option<crate::scenario::OperState>) -> bool,
    what: &str,
) -> Result<(), Done> {
    let deadline = Instant::now() + READY_DEADLINE.min(left(until));
    let subs = match sb.subscribe([dev.node.as_str()], Groups::LINK) {
        Ok(s) => s,
        Err(e) => return Err(Done::broken("link events", e)),
    };
    let mut pause = Duration::from_millis(1);
    loop {
        let links = match sb.nl(&dev.node).links().await {
            Ok(l) => l,
            Err(e) => return Err(Done::broken("a link dump", e)),
        };
        let state = links.iter().find(|l| l.name == dev.ifname).map(|l| l.oper);
        if done(state) {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Done::broken(
                &format!("{dev} to {what}"),
                format!(
                    "it still reports {}",
                    state.map_or("nothing".into(), |s| s.to_string())
                ),
            ));
        }
        // Linkwatch announces the change; the pause only backs the event up.
        events::wait(&subs, pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Adds to a failed probe's verdict why an answer may have come too late: a
/// neighbour entry an earlier step left INCOMPLETE (see `neighbour`).
async fn explain_silence(
    sb: &Sandbox,
    sc: &Scenario,
    from: &str,
    to: std::net::IpAddr,
    started: Instant,
    done: &mut Done,
) {
    let notes = neighbour::left_over(sb, sc, from, to, started).await;
    done.verdict = expect::noted(std::mem::take(&mut done.verdict), &notes);
}

/// A ping, and where its frames went when the step observes them.
/// With `show_paths` (`netspec run -v`), a ping that observes nothing is traced on
/// every interface anyway, and its verdict says where it went.
/// Every ping at once (one poll over all their sockets); one verdict that lists each
/// ping that did not do what it expected.
fn run_pings(sb: &Sandbox, step: &Step, list: &[Ping], until: Instant) -> Done {
    let probes: Vec<_> = list.iter().map(|p| (sb.ns(&p.from), p)).collect();
    let results = ping::ping_many(&probes, until);
    let mut done = Vec::new();
    for r in results {
        match r {
            Ok(r) if r.cut_short => return Done::judged(timed_out(step, r.to_string())),
            Ok(r) => done.push(r),
            Err(e) => return Done::broken("every ping to run", e),
        }
    }
    Done::judged(expect::pings(list, &done))
}

fn run_ping(
    sb: &Sandbox,
    sc: &Scenario,
    step: &Step,
    p: &Ping,
    until: Instant,
    show_paths: bool,
) -> Done {
    let trace = show_paths && p.observe.is_empty();
    let tapped = if trace {
        Observe {
            path: Some(Vec::new()),
            ..Observe::default()
        }
    } else {
        p.observe.clone()
    };
    let taps = match open_taps(sb, sc, &tapped) {
        Ok(t) => t,
        Err(e) => return Done::broken("taps on the observed interfaces", e),
    };
    let r = match ping::ping(sb.ns(&p.from), p, until) {
        Ok(r) if r.cut_short => return Done::judged(timed_out(step, r.to_string())),
        Ok(r) => r,
        Err(e) => return Done::broken("a ping to run", e),
    };
    let (mut v, sightings) = match judge_observed(expect::ping(p, &r), &p.observe, taps, |f| {
        observe::of_ping(f, r.id, sc)
    }) {
        Ok(x) => x,
        Err(e) => return Done::broken("the taps to be read", e),
    };
    if trace && v.passed {
        v = expect::with_paths(v, &sightings);
    }
    Done {
        answered_by: r.answered_by().into_iter().collect(),
        ..Done::judged(v)
    }
}

/// An arping, and where its frames went when the step observes them.
fn run_arping(sb: &Sandbox, sc: &Scenario, step: &Step, a: &Arping, until: Instant) -> Done {
    let src_ip = sc
        .interface(&a.from)
        .and_then(Interface::first_ipv4)
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
    let taps = match open_taps(sb, sc, &a.observe) {
        Ok(t) => t,
        Err(e) => return Done::broken("taps on the observed interfaces", e),
    };
    let ns = sb.ns(&a.from.node);
    let r = match arping::arping(ns, &a.from.ifname, src_ip, a.to, a.timeout, until) {
        Ok(r) if r.cut_short => return Done::judged(timed_out(step, r.to_string())),
        Ok(r) => r,
        Err(e) => return Done::broken("an arping to run", e),
    };
    let v = expect::arping(a, &r, sc);
    match judge_observed(v, &a.observe, taps, |f| {
        observe::of_arping(f, r.src_mac, src_ip, a.to, sc)
    }) {
        Ok((v, _)) => Done::judged(v),
        Err(e) => Done::broken("the taps to be read", e),
    }
}

/// Crafted frames, and where they went when the step observes them.
fn run_send(sb: &Sandbox, sc: &Scenario, step: &Step, x: &Send, until: Instant) -> Done {
    let taps = match open_taps(sb, sc, &x.observe) {
        Ok(t) => t,
        Err(e) => return Done::broken("taps on the observed interfaces", e),
    };
    let sent = match send::send(sb.ns(&x.from.node), x, until) {
        Ok(s) if s.cut_short => return Done::judged(timed_out(step, s.to_string())),
        Ok(s) => s,
        Err(e) => return Done::broken("the frames to be sent", e),
    };
    match judge_observed(expect::sent(x, &sent), &x.observe, taps, |f| {
        observe::of_send(f, &sent.marker, sc)
    }) {
        Ok((v, _)) => Done::judged(v),
        Err(e) => Done::broken("the taps to be read", e),
    }
}

/// The kind of frame, for titles.
fn send_what(f: &FrameSpec) -> String {
    match &f.body {
        FrameBody::Raw { ethertype, .. } => format!("ethertype 0x{ethertype:04x}"),
        FrameBody::Arp { op, target_ip, .. } => format!(
            "ARP {} for {target_ip}",
            if *op == ArpOp::Request {
                "request"
            } else {
                "reply"
            }
        ),
        FrameBody::Ip { dst, l4, .. } => match l4 {
            L4::IcmpEcho => format!("ICMP echo to {dst}"),
            L4::Udp { dport, .. } => format!("UDP to {dst} port {dport}"),
            L4::TcpSyn { dport, .. } => format!("TCP SYN to {dst} port {dport}"),
        },
    }
}

/// Taps on what the step observes; none (and no cost) when it observes nothing.
fn open_taps(sb: &Sandbox, sc: &Scenario, o: &Observe) -> std::io::Result<Vec<capture::Tap>> {
    if o.is_empty() {
        return Ok(Vec::new());
    }
    observe::open(sb, observe::interfaces(o, sc))
}

/// Reads the taps, picks the probe's own frames, and judges where they went after the
/// probe's own verdict.
fn judge_observed(
    probe: Verdict,
    o: &Observe,
    taps: Vec<capture::Tap>,
    pick: impl FnOnce(&[capture::Frame]) -> Vec<observe::Sighting>,
) -> std::io::Result<(Verdict, Vec<observe::Sighting>)> {
    let drained = capture::drain(taps)?;
    let sightings = pick(&drained.frames);
    let mut v = expect::with_observed(probe, o, &sightings);
    if let (true, Some(lost)) = (v.passed, drained.loss()) {
        // What was dropped might have crossed anywhere: no path or sighting holds.
        v = expect::incomplete(
            v,
            format!("the kernel dropped {lost} before the taps read them, so where the frames went cannot be judged"),
        );
    }
    Ok((v, sightings))
}

fn left(until: Instant) -> Duration {
    until.saturating_duration_since(Instant::now())
}

/// The verdict of a step whose time bound ran out.
pub(crate) fn timed_out(step: &Step, so_far: String) -> Verdict {
    expect::timed_out(step.index, step.timeout, &so_far)
}

/// Looks, judges, and looks again while the wait allows: `within` until it holds,
/// `for` as long as it holds. Between looks it sleeps until the kernel announces a
/// change that can matter (`check::events`), or a fallback pause has passed (1 ms,
/// backing off to 50 ms), so the time reported is that of the event, not of a poll.
async fn run_check(
    sb: &Sandbox,
    sc: &Scenario,
    c: &Check,
    wait: Wait,
    step: &Step,
    until: Instant,
    watches: &mut Watches,
) -> Done {
    let start = Instant::now();
    let window = match wait {
        Wait::Now => Duration::ZERO,
        Wait::Within(d) | Wait::For(d) => d,
    };
    let end = start + window;
    let subs = match (wait, check::events(c)) {
        (Wait::Now, _) | (_, None) => Vec::new(),
        (_, Some((node, groups))) => match sb.subscribe([node], groups) {
            Ok(s) => s,
            Err(e) => return Done::broken("rtnetlink events", e),
        },
    };
    let mut pause = Duration::from_millis(1);
    loop {
        let seen = match check::observe(sb, sc, c, watches).await {
            Ok(s) => s,
            Err(e) => return Done::broken("a state dump", e),
        };
        let mut v = expect::check(c, &seen, sc);
        let now = Instant::now();
        match wait {
            Wait::Now => return Done::judged(v),
            Wait::Within(_) if v.passed => {
                v.actual += &format!(" (after {})", fmt_ms(now - start));
                return Done::judged(v);
            }
            Wait::Within(w) if now >= end => {
                v.actual += &format!(" (still, after {})", fmt_duration(w));
                return Done::judged(v);
            }
            Wait::For(_) if !v.passed => {
                v.expected += &format!(" for {}", fmt_duration(window));
                v.actual += &format!(" (after {})", fmt_ms(now - start));
                return Done::judged(v);
            }
            Wait::For(w) if now >= end => {
                v.actual += &format!(" (held for {})", fmt_duration(w));
                return Done::judged(v);
            }
            _ => {}
        }
        if now >= until {
            return Done::judged(timed_out(step, String::new()));
        }
        let next = (now + pause).min(end).min(until);
        events::wait(&subs, next.saturating_duration_since(now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
