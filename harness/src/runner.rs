//! Discovery of `scenarios/**/*.yaml` and one libtest-mimic trial per scenario, named
//! by its path without extension (`seed/bridge`).

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::report::{target_dir, Outcome};
use crate::run::{run_file, RunOptions};
use crate::scenario::scenario_name;

/// The test harness: `fn main() { netspec::Harness::new("scenarios").run() }`.
#[derive(Debug)]
pub struct Harness {
    root: PathBuf,
    snapshots: PathBuf,
    /// Failure reports, for CI artifacts: `<cargo target dir>/netspec/<scenario>/failure.txt`.
    reports: PathBuf,
}

impl Harness {
    /// `dir` is relative to the current directory (cargo runs tests from the package
    /// root). Snapshots live in `snapshots/` beside it; failure reports go under the
    /// cargo target directory, never into the source tree.
    pub fn new(dir: impl AsRef<Path>) -> Harness {
        let root = dir.as_ref().to_path_buf();
        let beside = root.parent().unwrap_or(Path::new(".")).join("snapshots");
        // Absolute: insta reads a relative snapshot path against its caller's source file.
        let snapshots = std::path::absolute(&beside).unwrap_or(beside);
        Harness {
            root,
            snapshots,
            reports: target_dir().join("netspec"),
        }
    }

    /// Every scenario file under the root, sorted; `invalid/` holds bad-input tests, not scenarios.
    pub fn discover(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(&self.root, &mut files);
        files.retain(|f| {
            !f.strip_prefix(&self.root)
                .is_ok_and(|r| r.starts_with("invalid"))
        });
        files.sort();
        files
    }

    pub fn trials(&self) -> Vec<Trial> {
        self.discover()
            .into_iter()
            .map(|file| {
                let mut name = scenario_name(&self.root, &file);
                // Known when the trials are listed, so that nextest shows SKIP and
                // cargo test `ignored`, never a pass; the reason goes in the name,
                // the one place both show.
                let skip = skip_reason(&self.root, &file);
                if let Some(why) = &skip {
                    name = format!("{name} (skipped: {why})");
                }
                let root = self.root.clone();
                let opts = RunOptions {
                    snapshot_dir: Some(self.snapshots.clone()),
                    verbose: false,
                    report_dir: Some(self.reports.clone()),
                    show_paths: false,
                };
                Trial::ignorable_test(name, move || match run_file(&root, &file, &opts) {
                    Outcome::Passed(_) => Ok(Completion::Completed),
                    Outcome::Skipped(s) => Ok(Completion::ignored_with(s.to_string())),
                    Outcome::Refused(why) if std::env::var_os("NETSPEC_NO_USERNS").is_none() => {
                        Err(Failed::from(format!(
                            "{why}, or a system that allows unprivileged user namespaces"
                        )))
                    }
                    other => Err(Failed::from(other.to_string())),
                })
                .with_ignored_flag(skip.is_some())
            })
            .collect()
    }

    /// Parses the test binary's arguments, runs the trials and exits.
    pub fn run(self) -> ! {
        crate::enter_user_namespace_if_needed();
        let args = Arguments::from_args();
        libtest_mimic::run(&args, self.trials()).exit()
    }

    /// Runs the trials with libtest arguments given explicitly (`netspec test`).
    pub fn run_with_args(self, args: impl IntoIterator<Item = String>) -> ! {
        crate::enter_user_namespace_if_needed();
        let args = Arguments::from_iter(std::iter::once("netspec".to_string()).chain(args));
        libtest_mimic::run(&args, self.trials()).exit()
    }
}

/// Why a scenario cannot run here, found without building it: a kernel feature in its
/// `requires:` or a tool it needs is missing. None when it can run, when it does not
/// load (its run reports that), or when this process may not probe (no privileges:
/// the run refuses then, and says why).
fn skip_reason(root: &Path, file: &Path) -> Option<String> {
    if crate::privileges::missing_privileges().is_some() {
        return None;
    }
    let sc = crate::scenario::load_file(root, file).ok()?;
    sc.requires
        .iter()
        .find_map(|f| crate::features::missing(f))
        .or_else(|| crate::netfilter::missing_tools(&sc).map(|s| s.reason))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}
