//! Discovery of `scenarios/**/*.yaml` and one libtest-mimic trial per scenario, named
//! by its path without extension (`seed/bridge`).

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::privileges::missing_privileges;
use crate::run::{run, RunOptions};
use crate::scenario::{load_file, scenario_name};

/// The test harness: `fn main() { netspec::Harness::new("scenarios").run() }`.
pub struct Harness {
    root: PathBuf,
    snapshots: PathBuf,
    /// Failure reports, for CI artifacts: `target/netspec/<scenario>/failure.txt`.
    reports: PathBuf,
}

impl Harness {
    /// `dir` is relative to the current directory (cargo runs tests from the package root).
    pub fn new(dir: impl AsRef<Path>) -> Harness {
        let root = dir.as_ref().to_path_buf();
        let snapshots = root.parent().unwrap_or(Path::new(".")).join("snapshots");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.parent().unwrap_or(Path::new(".")).join("target"));
        Harness {
            root,
            snapshots: std::fs::canonicalize(&snapshots).unwrap_or(snapshots),
            reports: target.join("netspec"),
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
        let refusal = missing_privileges().map(|why| {
            if std::env::var_os("NETSPEC_NO_USERNS").is_some() {
                why
            } else {
                format!("{why}, or a system that allows unprivileged user namespaces")
            }
        });
        self.discover()
            .into_iter()
            .map(|file| {
                let name = scenario_name(&self.root, &file);
                let refusal = refusal.clone();
                let snapshots = self.snapshots.clone();
                let reports = self.reports.clone();
                let root = self.root.clone();
                Trial::ignorable_test(name, move || {
                    let sc = load_file(&root, &file).map_err(|e| Failed::from(e.to_string()))?;
                    if let Some(why) = refusal {
                        return Err(Failed::from(why));
                    }
                    if let Some(why) = sc.requires.iter().find_map(|f| crate::features::missing(f))
                    {
                        return Ok(Completion::ignored_with(format!("skipped: {why}")));
                    }
                    let opts = RunOptions {
                        snapshot_dir: Some(snapshots),
                        verbose: false,
                        report_dir: Some(reports),
                    };
                    match run(&sc, &opts) {
                        Ok(_) => Ok(Completion::Completed),
                        Err(f) => match &f.skip {
                            Some(why) => Ok(Completion::ignored_with(format!("skipped: {why}"))),
                            None => Err(Failed::from(f.to_string())),
                        },
                    }
                })
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
