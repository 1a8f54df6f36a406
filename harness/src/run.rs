//! Running a scenario: build the sandbox, run each step against its expectation,
//! tear down. One tokio current-thread runtime per scenario, on the caller's thread.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::change;
use crate::check;
use crate::plan;
use crate::probe::{arping, fmt_duration, ping};
use crate::sandbox::Sandbox;
use crate::scenario::{Action, ArpExpect, Reach, Scenario, Step};
use crate::snapshot;

/// How a scenario is run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where `snapshot` steps assert their `.snap` files; None prints them instead.
    pub snapshot_dir: Option<PathBuf>,
    /// Print each step's verdict as it finishes.
    pub verbose: bool,
    /// Where a failure report is written, as `<dir>/<scenario>/failure.txt` (CI artifacts).
    pub report_dir: Option<PathBuf>,
}

/// One step's result.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub index: usize,
    pub title: String,
    pub passed: bool,
    /// What happened, in words (the verdict).
    pub detail: String,
    pub elapsed: Duration,
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} step {:>2} {}: {} [{:.2} ms]",
            if self.passed { "ok  " } else { "FAIL" },
            self.index,
            self.title,
            self.detail,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// A passed scenario.
#[derive(Debug, Clone)]
pub struct Report {
    pub scenario: String,
    pub steps: Vec<StepOutcome>,
    pub setup: Duration,
    pub teardown: Duration,
    /// Text of each snapshot step, by label.
    pub snapshots: Vec<(String, String)>,
    /// Inode numbers of the namespaces the run created (all freed by now).
    pub namespaces: Vec<u64>,
}

/// Why a scenario did not pass.
#[derive(Debug)]
pub struct Failure {
    pub scenario: String,
    pub file: PathBuf,
    /// The failing step (index, title, line, column), or None when building failed.
    pub step: Option<(usize, String, usize, usize)>,
    pub expected: String,
    pub actual: String,
    pub before: Vec<StepOutcome>,
    pub namespaces: Vec<u64>,
    /// The normalized state of the nodes the failed step involves.
    pub state: Option<String>,
    /// NETSPEC_KEEP=1: how to enter the pinned namespaces (or why pinning failed).
    pub kept: Vec<String>,
    /// Set when the kernel lacks something the scenario needs: a skip, not a failure.
    pub skip: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some((i, title, line, col)) => {
                writeln!(f, "scenario {} failed at step {i} ({title})", self.scenario)?;
                writeln!(f, "  --> {}:{line}:{col}", self.file.display())?;
            }
            None => {
                writeln!(f, "scenario {} failed", self.scenario)?;
                writeln!(f, "  --> {}", self.file.display())?;
            }
        }
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  actual:   {}", self.actual)?;
        if !self.before.is_empty() {
            write!(f, "\nsteps before it:")?;
            for s in &self.before {
                write!(f, "\n  {s}")?;
            }
        }
        if let Some(state) = &self.state {
            write!(f, "\nstate of the nodes involved, after the failure:")?;
            for line in state.lines() {
                write!(f, "\n  | {line}")?;
            }
        }
        if !self.kept.is_empty() {
            write!(
                f,
                "\nNETSPEC_KEEP=1: the namespaces are kept; enter them with:"
            )?;
            for line in &self.kept {
                write!(f, "\n  {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

fn title(step: &Step) -> String {
    let t = match &step.action {
        Action::Ping(p) => format!(
            "ping {} -> {}",
            p.from_if
                .as_ref()
                .map(|i| format!("{}:{i}", p.from))
                .unwrap_or(p.from.clone()),
            p.to_label
        ),
        Action::Arping(a) => format!("arping {} -> {}", a.from, a.to),
        Action::Link { dev, up } => format!("link {} {dev}", if *up { "up" } else { "down" }),
        Action::Check { check, .. } => check::describe(check),
        Action::Snapshot(s) => format!("snapshot {}", s.label),
        Action::Sleep(d) => format!("sleep {}", fmt_duration(*d)),
        Action::Change { change, .. } => change::describe(change),
    };
    match &step.name {
        Some(n) => format!("{n}: {t}"),
        None => t,
    }
}

/// Runs one scenario to the end or its first failure, then tears everything down.
pub fn run(sc: &Scenario, opts: &RunOptions) -> Result<Report, Box<Failure>> {
    run_with_hook(sc, opts, |_| {})
}

/// Like `run`, calling `hook` before each step (tests use it to make a step panic).
pub fn run_with_hook(
    sc: &Scenario,
    opts: &RunOptions,
    mut hook: impl FnMut(&Step),
) -> Result<Report, Box<Failure>> {
    let fail = |step: Option<&Step>,
                expected: String,
                actual: String,
                before: Vec<StepOutcome>,
                namespaces: Vec<u64>| {
        Box::new(Failure {
            scenario: sc.name.clone(),
            file: sc.file.clone(),
            step: step.map(|s| (s.index, title(s), s.pos.line, s.pos.col)),
            expected,
            actual,
            before,
            namespaces,
            state: None,
            kept: Vec::new(),
            skip: None,
        })
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            fail(
                None,
                "a tokio runtime".into(),
                e.to_string(),
                vec![],
                vec![],
            )
        })?;
    let start = Instant::now();
    let mut outcomes = Vec::new();
    let mut snapshots = Vec::new();
    let mut inodes = Vec::new();
    let result = rt.block_on(async {
        let plan = plan::plan(sc);
        let sb = Sandbox::create(sc, &plan).await.map_err(|e| {
            fail(
                None,
                "the topology to build".into(),
                e.to_string(),
                vec![],
                vec![],
            )
        })?;
        inodes = sb.inodes();
        if std::env::var_os("NETSPEC_TRACE").is_some() {
            eprintln!(
                "netspec: namespaces and sockets: {:.2} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        sb.apply(&plan).await.map_err(|e| {
            let skip = e.missing_feature();
            let mut f = fail(
                None,
                "the topology to build".into(),
                e.to_string(),
                vec![],
                inodes.clone(),
            );
            f.skip = skip;
            f
        })?;
        let setup = start.elapsed();
        if opts.verbose {
            println!(
                "     setup: {} nodes ready [{:.2} ms]",
                sc.nodes.len(),
                setup.as_secs_f64() * 1000.0
            );
        }
        for step in &sc.steps {
            hook(step);
            let t0 = Instant::now();
            let limit = step.timeout;
            let r = match tokio::time::timeout(limit, run_step(&sb, sc, step, opts)).await {
                Ok(r) => r,
                Err(_) => Err((
                    format!(
                        "step {} to finish within {}",
                        step.index,
                        fmt_duration(limit)
                    ),
                    format!(
                        "step {} timed out after {}",
                        step.index,
                        fmt_duration(limit)
                    ),
                )),
            };
            let elapsed = t0.elapsed();
            match r {
                Ok(StepResult { detail, snapshot }) => {
                    let o = StepOutcome {
                        index: step.index,
                        title: title(step),
                        passed: true,
                        detail,
                        elapsed,
                    };
                    if opts.verbose {
                        println!("  {o}");
                    }
                    if let Some(s) = snapshot {
                        if opts.verbose && opts.snapshot_dir.is_none() {
                            for line in s.1.lines() {
                                println!("        | {line}");
                            }
                        }
                        snapshots.push(s);
                    }
                    outcomes.push(o);
                }
                Err((expected, actual)) => {
                    if opts.verbose {
                        let o = StepOutcome {
                            index: step.index,
                            title: title(step),
                            passed: false,
                            detail: actual.clone(),
                            elapsed,
                        };
                        println!("  {o}");
                    }
                    let mut failure = fail(
                        Some(step),
                        expected,
                        actual,
                        std::mem::take(&mut outcomes),
                        inodes.clone(),
                    );
                    let involved = involved_nodes(sc, step);
                    failure.state = snapshot::render(&sb, sc, Some(&involved), None).await.ok();
                    if crate::keep::wanted() {
                        failure.kept = crate::keep::pin(&sb)
                            .unwrap_or_else(|e| vec![format!("not kept: {e}")]);
                    }
                    return Err(failure);
                }
            }
        }
        Ok(setup)
    });
    // Dropping the runtime closes every netlink socket; dropping the sandbox (inside
    // block_on) closed the namespace fds. The kernel now frees the namespaces.
    let t0 = Instant::now();
    drop(rt);
    arping::join_closers();
    let teardown = t0.elapsed();
    let setup = result.inspect_err(|f| {
        if let Some(dir) = &opts.report_dir {
            let dir = dir.join(&sc.name);
            let _ = std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(dir.join("failure.txt"), format!("{f}\n")));
        }
    })?;
    if opts.verbose {
        println!("  teardown [{:.2} ms]", teardown.as_secs_f64() * 1000.0);
    }
    Ok(Report {
        scenario: sc.name.clone(),
        steps: outcomes,
        setup,
        teardown,
        snapshots,
        namespaces: inodes,
    })
}

/// The nodes a step touches, for the failure report.
fn involved_nodes(sc: &Scenario, step: &Step) -> Vec<String> {
    let owner = |ip: &std::net::IpAddr| {
        sc.nodes
            .iter()
            .find(|n| {
                n.interfaces
                    .iter()
                    .any(|i| i.addresses.iter().any(|c| c.addr == *ip))
            })
            .map(|n| n.name.clone())
    };
    let peer = |r: &crate::scenario::IfRef| match sc.interface(r).map(|i| &i.kind) {
        Some(crate::scenario::IfKind::Veth { peer, .. }) => Some(peer.node.clone()),
        _ => None,
    };
    let mut v: Vec<String> = match &step.action {
        Action::Ping(p) => [Some(p.from.clone()), owner(&p.to)]
            .into_iter()
            .flatten()
            .collect(),
        Action::Arping(a) => [Some(a.from.node.clone()), owner(&a.to.into())]
            .into_iter()
            .flatten()
            .collect(),
        Action::Link { dev, .. } => [Some(dev.node.clone()), peer(dev)]
            .into_iter()
            .flatten()
            .collect(),
        Action::Check { check, .. } => vec![match check {
            crate::scenario::Check::Neigh { node, .. }
            | crate::scenario::Check::Fdb { node, .. }
            | crate::scenario::Check::Route { node, .. } => node.clone(),
            crate::scenario::Check::Link { dev, .. } => dev.node.clone(),
        }],
        Action::Change { change, .. } => vec![match change {
            crate::scenario::Change::LinkDelete { dev }
            | crate::scenario::Change::LinkSet { dev, .. }
            | crate::scenario::Change::Address { dev, .. } => dev.node.clone(),
            crate::scenario::Change::Route { node, .. }
            | crate::scenario::Change::Sysctl { node, .. }
            | crate::scenario::Change::Neigh { node, .. }
            | crate::scenario::Change::Fdb { node, .. } => node.clone(),
        }],
        Action::Snapshot(_) | Action::Sleep(_) => sc.nodes.iter().map(|n| n.name.clone()).collect(),
    };
    v.sort();
    v.dedup();
    v
}

struct StepResult {
    detail: String,
    snapshot: Option<(String, String)>,
}

fn ok(detail: String) -> Result<StepResult, (String, String)> {
    Ok(StepResult {
        detail,
        snapshot: None,
    })
}

async fn run_step(
    sb: &Sandbox,
    sc: &Scenario,
    step: &Step,
    opts: &RunOptions,
) -> Result<StepResult, (String, String)> {
    let io_err = |what: &str, e: std::io::Error| (what.to_string(), format!("error: {e}"));
    match &step.action {
        Action::Ping(p) => {
            let r = ping::ping(&sb.node(&p.from).ns, p).map_err(|e| io_err("a ping to run", e))?;
            let reachable = r.received() == r.sent;
            let unreachable = r.received() == 0;
            match p.expect {
                Reach::Reachable if reachable => ok(r.to_string()),
                Reach::Unreachable
                    if unreachable
                        && p.reason
                            .as_ref()
                            .is_none_or(|why| r.to_string().contains(why.as_str())) =>
                {
                    ok(r.to_string())
                }
                Reach::Reachable => Err((
                    format!(
                        "{} reachable from {} ({} of {} replies)",
                        p.to, p.from, p.count, p.count
                    ),
                    r.to_string(),
                )),
                Reach::Unreachable => Err((
                    match &p.reason {
                        Some(why) => format!(
                            "{} unreachable from {} (no reply, because: {why})",
                            p.to, p.from
                        ),
                        None => format!("{} unreachable from {} (no reply)", p.to, p.from),
                    },
                    r.to_string(),
                )),
            }
        }
        Action::Arping(a) => {
            let iface = sc.interface(&a.from).expect("resolved");
            let src_ip = iface
                .addresses
                .iter()
                .find_map(|c| match c.addr {
                    std::net::IpAddr::V4(v) => Some(v),
                    _ => None,
                })
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
            let r = arping::arping(
                &sb.node(&a.from.node).ns,
                &a.from.ifname,
                iface.mac,
                src_ip,
                a.to,
                a.timeout,
            )
            .map_err(|e| io_err("an arping to run", e))?;
            let got = r.answer.map(|(m, _)| m);
            let owner = |m| {
                sc.mac_owner(m)
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default()
            };
            let detail = match got {
                Some(m) => format!("{r}{}", owner(m)),
                None => r.to_string(),
            };
            match &a.expect {
                ArpExpect::Mac(m, label) if got == Some(*m) => ok(detail),
                ArpExpect::Mac(m, label) => {
                    Err((format!("{} answered by {m} ({label})", a.to), detail))
                }
                ArpExpect::Answered if got.is_some() => ok(detail),
                ArpExpect::Answered => Err((format!("{} answered", a.to), detail)),
                ArpExpect::Unanswered if got.is_none() => ok(detail),
                ArpExpect::Unanswered => Err((format!("{} unanswered", a.to), detail)),
            }
        }
        Action::Link { dev, up } => {
            let what = if *up { "up" } else { "down" };
            let h = sb.node(&dev.node);
            let idx = sb
                .index(&dev.node, &dev.ifname)
                .await
                .map_err(|e| (format!("{dev} set {what}"), e.to_string()))?;
            h.nl.set_up(idx, &dev.ifname, *up)
                .await
                .map_err(|e| (format!("{dev} set {what}"), e.to_string()))?;
            if *up {
                sb.wait_link_ready(sc, dev)
                    .await
                    .map_err(|e| (format!("{dev} up and carrying"), e.to_string()))?;
                ok(format!("{dev} is up"))
            } else {
                ok(format!("{dev} is down"))
            }
        }
        Action::Check { check, within } => {
            let deadline = Instant::now() + within.unwrap_or_default();
            let mut pause = Duration::from_millis(1);
            loop {
                let e = check::evaluate(sb, sc, check)
                    .await
                    .map_err(|e| ("a state dump".to_string(), e.to_string()))?;
                if e.passed {
                    return ok(e.actual);
                }
                if Instant::now() >= deadline {
                    let actual = match within {
                        Some(w) => format!("{} (still, after {})", e.actual, fmt_duration(*w)),
                        None => e.actual,
                    };
                    return Err((e.expected, actual));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
        Action::Snapshot(s) => {
            let text = snapshot::render(sb, sc, s.nodes.as_deref(), s.only.as_deref())
                .await
                .map_err(|e| ("a state dump".to_string(), e.to_string()))?;
            let name = snapshot::snapshot_name(&sc.name, &s.label);
            if let Some(dir) = &opts.snapshot_dir {
                assert_snapshot(dir, sc, &name, &text)
                    .map_err(|msg| (format!("state equal to snapshots/{name}.snap"), msg))?;
            }
            Ok(StepResult {
                detail: format!("{} lines", text.lines().count()),
                snapshot: Some((s.label.clone(), text)),
            })
        }
        Action::Change { change, error } => match (change::apply(sb, change).await, error) {
            (Ok(()), None) => ok("done".into()),
            (Ok(()), Some(e)) => Err((
                format!("the kernel to refuse it with {e:?}"),
                "it was accepted".into(),
            )),
            (Err(msg), None) => Err(("the kernel to accept it".into(), msg)),
            (Err(msg), Some(e)) if msg.contains(e.as_str()) => {
                ok(format!("refused as expected: {msg}"))
            }
            (Err(msg), Some(e)) => Err((format!("the kernel to refuse it with {e:?}"), msg)),
        },
        Action::Sleep(d) => {
            tokio::time::sleep(*d).await;
            ok(format!("slept {}", fmt_duration(*d)))
        }
    }
}

/// Asserts with insta; its panic (which prints the diff) becomes a step failure.
fn assert_snapshot(
    dir: &std::path::Path,
    sc: &Scenario,
    name: &str,
    text: &str,
) -> Result<(), String> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    // The snapshot's `source:` names the scenario, not this file.
    settings.set_input_file(&sc.file);
    if let Some(d) = &sc.description {
        settings.set_description(d.trim());
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.to_string(), text));
    }));
    r.map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!(
            "the snapshot differs or is new (diff above; accept with `cargo insta review`): {}",
            msg.lines().next().unwrap_or("")
        )
    })
}
