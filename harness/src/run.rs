//! Running a scenario: plan, build the sandbox, run each step within its bound, report,
//! tear down. One tokio current-thread runtime per scenario, on the caller's thread.
//! `run_file` is the one "prepare and run" that the test harness and the CLI share.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::apply;
use crate::error::{ApplyError, Skip};
use crate::nsexec::Status;
use crate::plan;
use crate::probe;
use crate::recording::Recording;
use crate::report::{self, Failure, Outcome, Report, StepAt, StepOutcome};
use crate::sandbox::Sandbox;
use crate::scenario::{load_file, Scenario, Step};
use crate::snapshot;
use crate::step::{self, timed_out, Live};

/// How a scenario is run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where `snapshot` steps assert their `.snap` files; None prints them instead.
    pub snapshot_dir: Option<PathBuf>,
    /// Print each step's verdict as it finishes.
    pub verbose: bool,
    /// Where failure reports go, as `<dir>/<scenario>/failure.txt` (CI artifacts).
    pub report_dir: Option<PathBuf>,
    /// Trace every ping's path and print it with its verdict (`netspec run -v`).
    pub show_paths: bool,
    /// At a failing step, pin the namespaces, say how to enter them, and wait for
    /// Enter or a signal before tearing down (`netspec run --pause-on-failure`).
    pub pause_on_failure: bool,
}

/// Loads `file` (named under `root`), checks privileges and kernel features, and runs it.
pub fn run_file(root: &Path, file: &Path, opts: &RunOptions) -> Outcome {
    match load_file(root, file) {
        Ok(sc) => run_checked(&sc, opts),
        Err(e) => Outcome::Invalid(e),
    }
}

/// Runs a loaded scenario if this process may and the kernel can: a refusal without
/// privileges, a skip without a feature in `requires:`.
pub fn run_checked(sc: &Scenario, opts: &RunOptions) -> Outcome {
    if let Some(why) = crate::privileges::missing_privileges() {
        return Outcome::Refused(why);
    }
    if let Some(why) = sc.requires.iter().find_map(|f| crate::features::missing(f)) {
        return Outcome::Skipped(Skip { reason: why });
    }
    run(sc, opts)
}

/// Runs one scenario to the end or its first failure, then tears everything down.
pub fn run(sc: &Scenario, opts: &RunOptions) -> Outcome {
    run_with_hook(sc, opts, |_| {})
}

/// Like `run`, calling `hook` before each step (tests use it to make a step panic).
pub fn run_with_hook(sc: &Scenario, opts: &RunOptions, hook: impl FnMut(&Step)) -> Outcome {
    let fail = |expected: &str, actual: String| {
        Outcome::Failed(Box::new(failure(sc, None, expected.into(), actual)))
    };
    if let Some(skip) =
        crate::netfilter::missing_tools(sc).or_else(|| crate::cni::missing_tools(sc))
    {
        return Outcome::Skipped(skip);
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail("a tokio runtime", e.to_string()),
    };
    let t0 = Instant::now();
    let (outcome, teardown_errors) = rt.block_on(async {
        let plan = plan::plan(sc);
        let sb = match Sandbox::create(sc, &plan).await {
            Ok(sb) => sb,
            Err(e) => return (build_failed(sc, e, Vec::new()), Vec::new()),
        };
        let inodes = sb.inodes();
        if let Err(e) = build(&sb, &plan).await {
            return (build_failed(sc, e, inodes), sb.teardown());
        }
        let rec = match Recording::start(&sb, sc) {
            Ok(r) => r,
            Err(e) => {
                let f = failure(sc, None, "taps for `capture`".into(), e.to_string());
                return (Outcome::Failed(Box::new(f)), sb.teardown());
            }
        };
        let mut outcome = steps(&sb, sc, opts, hook, t0).await;
        if let Some(rec) = rec {
            let written = rec.finish(opts.report_dir.as_deref(), &sc.name);
            match (&mut outcome, written) {
                (Outcome::Failed(f), Ok(w)) => {
                    f.capture = w.path;
                    f.capture_incomplete = w.incomplete;
                }
                (Outcome::Passed(r), Ok(w)) => {
                    r.capture = w.path;
                    r.capture_incomplete = w.incomplete;
                }
                (Outcome::Failed(f), Err(e)) => f
                    .notes
                    .push(format!("(the capture could not be written: {e})")),
                (o, Err(e)) => {
                    let f = failure(sc, None, "the capture to be written".into(), e.to_string());
                    *o = Outcome::Failed(Box::new(f));
                }
                _ => {}
            }
        }
        (outcome, sb.teardown())
    });
    // Dropping the runtime closes every netlink socket; the sandbox closed the
    // namespace fds. The kernel now frees the namespaces.
    let t1 = Instant::now();
    drop(rt);
    probe::join_closers();
    let teardown = t1.elapsed();
    let mut outcome = match (outcome, teardown_errors.is_empty()) {
        (Outcome::Passed(r), false) => fail(
            "every namespace and socket to close",
            format!("{} ({})", teardown_errors.join("; "), r.scenario),
        ),
        (o, _) => o,
    };
    if let Outcome::Passed(r) = &mut outcome {
        r.teardown = teardown;
        if opts.verbose {
            crate::say::line(&format!(
                "  teardown [{:.2} ms]",
                teardown.as_secs_f64() * 1000.0
            ));
        }
    }
    file_report(opts, sc, &mut outcome);
    outcome
}

/// A failure report goes to the report folder; a pass clears the folder's old one.
fn file_report(opts: &RunOptions, sc: &Scenario, outcome: &mut Outcome) {
    let Some(dir) = &opts.report_dir else {
        return;
    };
    match outcome {
        Outcome::Failed(f) => match report::write_failure(dir, f) {
            Ok(p) => f.written_to = Some(p),
            Err(e) => f
                .notes
                .push(format!("(the report could not be written: {e})")),
        },
        Outcome::Passed(_) => report::clear_failure(dir, &sc.name),
        _ => {}
    }
}

fn failure(sc: &Scenario, step: Option<&Step>, expected: String, actual: String) -> Failure {
    Failure {
        scenario: sc.name.clone(),
        file: sc.file.clone(),
        step: step.map(|s| StepAt {
            index: s.index,
            kind: s.action.kind(),
            title: step::title(s),
            line: s.pos.line,
            col: s.pos.col,
            elapsed: Default::default(),
        }),
        expected,
        actual,
        before: Vec::new(),
        namespaces: Vec::new(),
        state: None,
        kept: Vec::new(),
        notes: Vec::new(),
        written_to: None,
        capture: None,
        capture_incomplete: None,
    }
}

/// The topology, its netfilter rules last (they may name any interface).
async fn build(sb: &Sandbox, plan: &plan::Plan) -> Result<(), ApplyError> {
    apply::apply(sb, plan).await
}

/// Building failed: a skip when the kernel lacks the feature, else a failure.
fn build_failed(sc: &Scenario, e: ApplyError, inodes: Vec<u64>) -> Outcome {
    if let Some(skip) = e.missing_feature() {
        return Outcome::Skipped(skip);
    }
    let mut f = failure(sc, None, "the topology to build".into(), e.to_string());
    f.namespaces = inodes;
    Outcome::Failed(Box::new(f))
}

/// The steps, in order, each within its time bound, until the first failure.
async fn steps(
    sb: &Sandbox,
    sc: &Scenario,
    opts: &RunOptions,
    mut hook: impl FnMut(&Step),
    t0: Instant,
) -> Outcome {
    let setup = t0.elapsed();
    if opts.verbose {
        crate::say::line(&format!(
            "     setup: {} nodes ready [{:.2} ms]",
            sc.nodes.len(),
            setup.as_secs_f64() * 1000.0
        ));
    }
    let mut outcomes = Vec::new();
    let mut snapshots = Vec::new();
    let mut live = Live::default();
    let mut outcome = None;
    for l in &sc.listen {
        if let Err(e) = live.servers.listen(sb.ns(&l.node), l) {
            let f = failure(sc, None, format!("a listener on {l}"), e.to_string());
            outcome = Some(Outcome::Failed(Box::new(f)));
            break;
        }
    }
    if outcome.is_none() {
        outcome = attach_containers(sb, sc, &mut live).await;
    }
    if outcome.is_none() {
        outcome = run_steps(
            sb,
            sc,
            opts,
            &mut hook,
            &mut live,
            &mut outcomes,
            &mut snapshots,
        )
        .await;
    }
    live.watches.close();
    detach_containers(sb, sc, &mut live.cni, &mut outcome);
    let background = live.servers.close();
    if outcome.is_none() {
        // A daemon that ended before teardown did not do its job: say so.
        if let Some((what, done)) = background.iter().find(|(_, d)| d.status != Status::Stopped) {
            let f = failure(
                sc,
                None,
                format!("background {what} to run until teardown"),
                format!(
                    "it ended on its own: {}; stderr: {}",
                    done.status,
                    done.stderr.shown(1000).trim_end()
                ),
            );
            outcome = Some(Outcome::Failed(Box::new(f)));
        }
    }
    if let Some(Outcome::Failed(f)) = &mut outcome {
        // What the daemons said can explain the failure.
        for (what, done) in background {
            f.notes.push(format!(
                "background {what}: {}; stdout: {}; stderr: {}",
                done.status,
                done.stdout.shown(1000).trim_end(),
                done.stderr.shown(1000).trim_end()
            ));
        }
    }
    match outcome {
        Some(failed) => failed,
        None => Outcome::Passed(Report {
            scenario: sc.name.clone(),
            steps: outcomes,
            setup,
            teardown: Default::default(),
            snapshots,
            namespaces: sb.inodes(),
            capture: None,
            capture_incomplete: None,
        }),
    }
}

/// The topology's CNI attachments (`nodes.X.cni`), ADDed after the build.
async fn attach_containers(sb: &Sandbox, sc: &Scenario, live: &mut Live) -> Option<Outcome> {
    let (expected, actual) = live
        .cni
        .attach_topology(sb, sc, sc.step_timeout)
        .await
        .err()?;
    let f = failure(sc, None, format!("the topology's {expected}"), actual);
    Some(Outcome::Failed(Box::new(f)))
}

/// What is still attached is removed as a runtime would; a removal that fails fails a
/// run that had passed, and is noted on one that had failed.
fn detach_containers(
    sb: &Sandbox,
    sc: &Scenario,
    cni: &mut crate::cni::Cni,
    outcome: &mut Option<Outcome>,
) {
    let removed = cni.teardown(sb, sc);
    if removed.is_empty() {
        return;
    }
    match outcome {
        None => {
            let expected = "what the scenario attached to be removed cleanly".into();
            let f = failure(sc, None, expected, removed.join("; "));
            *outcome = Some(Outcome::Failed(Box::new(f)));
        }
        Some(Outcome::Failed(f)) => f.notes.extend(removed),
        Some(_) => {}
    }
}

/// Why a step's `requires:` or `unless:` keeps it from this kernel, if they do.
fn feature_mismatch(s: &Step) -> Option<String> {
    if s.requires.is_empty() && s.unless.is_empty() {
        return None;
    }
    // The probe runs a runtime of its own (and caches its answer): not on this one's thread.
    let has = |f: &String| {
        let f = f.clone();
        std::thread::spawn(move || crate::features::missing(&f).is_none())
            .join()
            .unwrap_or(false)
    };
    let release = crate::scenario::running_release();
    if let Some(f) = s.requires.iter().find(|f| !has(f)) {
        return Some(format!("not run: this kernel ({release}) lacks {f}"));
    }
    let f = s.unless.iter().find(|f| has(f))?;
    Some(format!("not run: this kernel ({release}) has {f}"))
}

/// A step whose `kernel:`, `requires:` or `unless:` excludes the running kernel:
/// reported as not run, never as a pass. An unknown running version excludes every step
/// that names versions.
fn not_for_this_kernel(
    s: &Step,
    running: Option<crate::scenario::KernelVersion>,
) -> Option<StepOutcome> {
    let detail = match &s.kernel {
        Some(req) if !req.admits(running) => format!(
            "not run: this kernel ({}) is not `{}`",
            crate::scenario::running_release(),
            req.text
        ),
        _ => feature_mismatch(s)?,
    };
    Some(StepOutcome {
        index: s.index,
        kind: s.action.kind(),
        title: step::title(s),
        passed: false,
        skipped: true,
        expected: String::new(),
        detail,
        elapsed: Duration::ZERO,
        line: s.pos.line,
        col: s.pos.col,
    })
}

/// The steps in order; the first failure, if any.
async fn run_steps(
    sb: &Sandbox,
    sc: &Scenario,
    opts: &RunOptions,
    hook: &mut impl FnMut(&Step),
    live: &mut Live,
    outcomes: &mut Vec<StepOutcome>,
    snapshots: &mut Vec<(String, String)>,
) -> Option<Outcome> {
    let running = crate::scenario::KernelVersion::running();
    for s in &sc.steps {
        if let Some(o) = not_for_this_kernel(s, running) {
            if opts.verbose {
                crate::say::line(&format!("  {}", o.painted()));
            }
            outcomes.push(o);
            continue;
        }
        hook(s);
        let start = Instant::now();
        let until = start + s.timeout;
        let snap_dir = opts.snapshot_dir.as_deref();
        let done = match tokio::time::timeout(
            s.timeout,
            step::run(sb, sc, s, until, snap_dir, live, opts.show_paths),
        )
        .await
        {
            Ok(done) => done,
            Err(_) => step::Done::judged(timed_out(s, String::new())),
        };
        let o = StepOutcome {
            index: s.index,
            kind: s.action.kind(),
            title: step::title(s),
            passed: done.verdict.passed,
            skipped: false,
            expected: done.verdict.expected.clone(),
            detail: done.verdict.actual.clone(),
            elapsed: start.elapsed(),
            line: s.pos.line,
            col: s.pos.col,
        };
        if opts.verbose {
            crate::say::line(&format!("  {}", o.painted()));
        }
        if !done.verdict.passed {
            let mut f = failure(sc, Some(s), done.verdict.expected, done.verdict.actual);
            if let Some(at) = &mut f.step {
                at.elapsed = o.elapsed;
            }
            f.before = std::mem::take(outcomes);
            f.namespaces = sb.inodes();
            let involved = report::involved_nodes(sc, s, &done.answered_by);
            f.state = snapshot::render(sb, sc, Some(&involved), None, live.cni.aliases())
                .await
                .ok();
            if opts.pause_on_failure {
                let at = format!("step {} ({}): {}", s.index, step::title(s), f.actual);
                f.notes.extend(crate::pause::pause(sb, &at));
            }
            if crate::keep::wanted() {
                match crate::keep::pin(sb) {
                    Ok(lines) => f.kept = lines,
                    Err(e) => f.notes.push(format!(
                        "NETSPEC_KEEP=1, but the namespaces are not kept: {e}"
                    )),
                }
            }
            return Some(Outcome::Failed(Box::new(f)));
        }
        if let Some(snap) = done.snapshot {
            if opts.verbose && opts.snapshot_dir.is_none() {
                for line in snap.1.lines() {
                    crate::say::line(&format!("        | {line}"));
                }
            }
            snapshots.push(snap);
        }
        outcomes.push(o);
    }
    None
}
