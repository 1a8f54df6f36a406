//! What a run reports: step outcomes, a passed scenario, a failure with the state of the
//! nodes involved, a skip; and the report folder (`<target>/netspec/<scenario>/`), which
//! holds `failure.txt` after a failed run and nothing after a passed one.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Skip;
use crate::ownfs::Dir;
use crate::scenario::{
    Action, CarrierStep, Change, ChangeStep, Check, CheckStep, CounterCheck, FdbCheck, FramesCheck,
    LinkCheck, LinkStep, ListenStep, LoadError, NeighCheck, NexthopCheck, NodeName, RouteCheck,
    RulesStep, Scenario, Step, VlanCheck,
};

/// One step's result.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub index: usize,
    /// The step's key: `ping`, `connect`, `check`...
    pub kind: &'static str,
    pub title: String,
    pub passed: bool,
    /// Not run: its `kernel:` excludes the running kernel (then `passed` is false).
    pub skipped: bool,
    /// What the step expected, in words (empty for an action that only has to work).
    pub expected: String,
    /// What happened, in words (the verdict).
    pub detail: String,
    pub elapsed: Duration,
    /// Where the step is written: 1-based line and column in the scenario file.
    pub line: usize,
    pub col: usize,
}

impl StepOutcome {
    /// The line `netspec run` prints, with `ok`/`FAIL` in colour when colour is on.
    pub fn painted(&self) -> String {
        let text = self.to_string();
        let (word, code) = if self.skipped {
            ("skip", "33")
        } else if self.passed {
            ("ok  ", "32")
        } else {
            ("FAIL", "1;31")
        };
        match text.strip_prefix(word) {
            Some(rest) => format!("{}{rest}", crate::say::paint(code, word)),
            None => text,
        }
    }
}

impl fmt::Display for StepOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} step {:>2} {}: {} [{:.2} ms]",
            if self.skipped {
                "skip"
            } else if self.passed {
                "ok  "
            } else {
                "FAIL"
            },
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
    /// The scenario's pcapng capture, if it asked for one.
    pub capture: Option<PathBuf>,
    /// What the capture lacks (frames the kernel dropped, or past its bound), if any.
    pub capture_incomplete: Option<String>,
}

/// Where a failing step sits in its file.
#[derive(Debug, Clone)]
pub struct StepAt {
    pub index: usize,
    pub kind: &'static str,
    pub title: String,
    pub line: usize,
    pub col: usize,
    /// How long the step ran before it failed.
    pub elapsed: Duration,
}

/// Why a scenario did not pass.
#[derive(Debug)]
pub struct Failure {
    pub scenario: String,
    pub file: PathBuf,
    /// The failing step, or None when building or tearing down failed.
    pub step: Option<StepAt>,
    pub expected: String,
    pub actual: String,
    pub before: Vec<StepOutcome>,
    pub namespaces: Vec<u64>,
    /// The normalized state of the nodes the failed step involves.
    pub state: Option<String>,
    /// NETSPEC_KEEP=1: how to enter the pinned namespaces; empty when none were pinned.
    pub kept: Vec<String>,
    /// What else explains the failure: background commands' output, why namespaces
    /// could not be kept, a report or capture that could not be written.
    pub notes: Vec<String>,
    /// Where this report was written, if it was.
    pub written_to: Option<PathBuf>,
    /// The scenario's pcapng capture, if it asked for one.
    pub capture: Option<PathBuf>,
    /// What the capture lacks (frames the kernel dropped, or past its bound), if any.
    pub capture_incomplete: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(s) => {
                writeln!(
                    f,
                    "scenario {} failed at step {} ({})",
                    self.scenario, s.index, s.title
                )?;
                writeln!(f, "  --> {}:{}:{}", self.file.display(), s.line, s.col)?;
            }
            None => {
                writeln!(f, "scenario {} failed", self.scenario)?;
                writeln!(f, "  --> {}", self.file.display())?;
            }
        }
        // The verdict is this kernel's: say which one.
        writeln!(f, "  kernel:   {}", crate::scenario::running_release())?;
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
        for note in &self.notes {
            write!(f, "\n{note}")?;
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
        if let Some(p) = &self.capture {
            write!(f, "\nthe frames, in pcapng: {}", p.display())?;
        }
        if let Some(lost) = &self.capture_incomplete {
            write!(f, "\nthe capture is incomplete: {lost}")?;
        }
        if let Some(p) = &self.written_to {
            write!(f, "\nthis report: {}", p.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// How one scenario ended.
#[derive(Debug)]
pub enum Outcome {
    Passed(Report),
    Failed(Box<Failure>),
    /// The kernel lacks something the scenario needs: neither a pass nor a failure.
    Skipped(Skip),
    /// The file does not load.
    Invalid(LoadError),
    /// netspec lacks the privileges to build anything (one line says which).
    Refused(String),
}

impl Outcome {
    /// The report of a passed run; otherwise the outcome in words.
    pub fn passed(self) -> Result<Report, String> {
        match self {
            Outcome::Passed(r) => Ok(r),
            other => Err(other.to_string()),
        }
    }

    /// The failure of a failed run, if it failed.
    pub fn failure(self) -> Option<Box<Failure>> {
        match self {
            Outcome::Failed(f) => Some(f),
            _ => None,
        }
    }
}

impl Report {
    /// `14 steps passed`, and how many a `kernel:` left out, if any.
    pub fn steps_summary(&self) -> String {
        let skipped = self.steps.iter().filter(|s| s.skipped).count();
        let passed = self.steps.len() - skipped;
        match skipped {
            0 => format!("{passed} steps passed"),
            n => format!("{passed} steps passed, {n} not run on this kernel"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed(r) => write!(f, "ok: {}", r.steps_summary()),
            Outcome::Failed(x) => x.fmt(f),
            Outcome::Skipped(s) => s.fmt(f),
            Outcome::Invalid(e) => e.fmt(f),
            Outcome::Refused(why) => write!(f, "error: {why}"),
        }
    }
}

/// The nodes a step touches, for the failure report: its own, and those that own the
/// addresses it names or that answered it.
pub(crate) fn involved_nodes(sc: &Scenario, step: &Step, answered_by: &[String]) -> Vec<NodeName> {
    let owner = |ip: &std::net::IpAddr| sc.address_owner(*ip).cloned();
    let peer = |r: &crate::scenario::IfRef| match sc.interface(r).map(|i| &i.kind) {
        Some(crate::scenario::IfKind::Veth { peer, .. }) => Some(peer.node.clone()),
        _ => None,
    };
    let mut v: Vec<NodeName> = match &step.action {
        Action::Ping(p) => [Some(p.from.clone()), owner(&p.to)]
            .into_iter()
            .flatten()
            .collect(),
        Action::Pings(list) => list
            .iter()
            .flat_map(|p| [Some(p.from.clone()), owner(&p.to)])
            .flatten()
            .collect(),
        Action::Arping(a) => [Some(a.from.node.clone()), owner(&a.to.into())]
            .into_iter()
            .flatten()
            .collect(),
        Action::Send(x) => std::iter::once(x.from.node.clone())
            .chain(x.observe.seen.iter().map(|r| r.node.clone()))
            .chain(x.observe.not_seen.iter().map(|r| r.node.clone()))
            .collect(),
        Action::Watch(w) => vec![w.at.node.clone()],
        Action::Link(LinkStep { dev, .. }) => [Some(dev.node.clone()), peer(dev)]
            .into_iter()
            .flatten()
            .collect(),
        Action::Check(CheckStep { check, .. }) => vec![match check {
            Check::Neigh(NeighCheck { node, .. })
            | Check::Fdb(FdbCheck { node, .. })
            | Check::Route(RouteCheck { node, .. })
            | Check::Nexthop(NexthopCheck { node, .. })
            | Check::Counter(CounterCheck { node, .. }) => node.clone(),
            Check::Link(LinkCheck { dev, .. }) | Check::Vlan(VlanCheck { dev, .. }) => {
                dev.node.clone()
            }
            Check::Frames(FramesCheck { at, .. }) => at.node.clone(),
        }],
        Action::Change(ChangeStep { change, .. }) => vec![match change {
            Change::LinkDelete { dev }
            | Change::LinkSet { dev, .. }
            | Change::Vlan { dev, .. }
            | Change::Address { dev, .. } => dev.node.clone(),
            Change::Route { node, .. }
            | Change::Sysctl { node, .. }
            | Change::Neigh { node, .. }
            | Change::Nexthop { node, .. }
            | Change::Fdb { node, .. } => node.clone(),
        }],
        Action::Snapshot(s) => s
            .nodes
            .clone()
            .unwrap_or_else(|| sc.nodes.iter().map(|n| n.name.clone()).collect()),
        Action::Sleep(_) => sc.nodes.iter().map(|n| n.name.clone()).collect(),
        Action::Listen(ListenStep { listen, .. }) => vec![listen.node.clone()],
        Action::Carrier(CarrierStep { dev, peer, .. }) => std::iter::once(dev.node.clone())
            .chain(peer.iter().map(|p| p.node.clone()))
            .collect(),
        Action::Connect(c) => [Some(c.from.clone()), owner(&c.to)]
            .into_iter()
            .flatten()
            .collect(),
        Action::Exec(e) => vec![e.node.clone()],
        Action::Rules(RulesStep { node, .. }) => vec![node.clone()],
        Action::Cni(c) => vec![c.attachment.container.clone(), c.attachment.host.clone()],
        Action::Netavark(n) => vec![n.container.clone(), n.host.clone()],
    };
    // The node that answered (a router's ICMP error, say) explains the verdict too.
    for ip in answered_by {
        if let Some(n) = ip.parse().ok().and_then(|ip| owner(&ip)) {
            v.push(n);
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The report folder of one scenario, each part created or opened through the one
/// before it (see `ownfs`): netspec never writes through a symlink it did not make.
pub(crate) fn folder(reports: &Path, scenario: &str) -> io::Result<Dir> {
    // The scenario name was checked at load time: a relative path of plain segments.
    Dir::root(reports)?.descend(scenario, true)
}

/// Writes `failure.txt` into the scenario's report folder.
pub(crate) fn write_failure(reports: &Path, f: &Failure) -> io::Result<PathBuf> {
    write_file(
        reports,
        &f.scenario,
        "failure.txt",
        format!("{f}\n").as_bytes(),
    )
}

/// Writes `name` into the scenario's report folder, atomically (a fresh file renamed
/// over the old one, so a symlink there is replaced, never followed).
pub(crate) fn write_file(
    reports: &Path,
    scenario: &str,
    name: &str,
    bytes: &[u8],
) -> io::Result<PathBuf> {
    folder(reports, scenario)?.write(name, bytes)
}

/// After a passed run: a `failure.txt` from an earlier run would now mislead. Only a
/// regular file in a folder netspec made is removed.
pub(crate) fn clear_failure(reports: &Path, scenario: &str) {
    let dir = Dir::root(reports).and_then(|r| r.descend(scenario, false));
    if let Ok(dir) = dir {
        let _ = dir.remove_file("failure.txt");
    }
}

/// `CARGO_TARGET_DIR` when set; else the cargo target directory this binary was built
/// into (its ancestor with cargo's `CACHEDIR.TAG`, or the target of an unpacked nextest
/// archive, which has no tag); else `./target`. Reports go under it, never into the
/// source tree.
pub fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| is_target_dir(a))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// A cargo target directory, as cargo marks it or as `cargo nextest run --archive-file
/// --extract-to` unpacks one.
pub fn is_target_dir(dir: &Path) -> bool {
    dir.join("CACHEDIR.TAG").is_file() || dir.join("nextest/binaries-metadata.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_involves_only_the_nodes_it_names() {
        let src = "nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.0.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.0.0.2/24] }
  c: {}
steps:
  - snapshot: { label: x, nodes: [a, b] }
  - ping: { from: c, to: 10.0.0.2 }
";
        let sc = crate::load_str(Path::new("t.yaml"), "t", src).unwrap();
        assert_eq!(involved_nodes(&sc, &sc.steps[0], &[]), ["a", "b"]);
        // The ping's own node, the target's owner, and whoever answered.
        assert_eq!(
            involved_nodes(&sc, &sc.steps[1], &["10.0.0.1".into()]),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn a_report_folder_never_goes_through_a_symlink() {
        let d = std::env::temp_dir().join(format!("netspec-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(d.join("elsewhere"), d.join("seed")).unwrap();
        let e = folder(&d, "seed/bridge").err().expect("must refuse");
        assert!(
            e.to_string().contains("not a directory netspec made"),
            "{e}"
        );
        assert!(std::fs::read_dir(d.join("elsewhere"))
            .unwrap()
            .next()
            .is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
