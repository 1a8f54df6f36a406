//! Discovery of `scenarios/**/*.yaml` and one libtest-mimic trial per scenario, named
//! by its path without extension (`seed/bridge`).

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::report::{target_dir, Outcome};
use crate::run::{run_checked, RunOptions};
use crate::scenario::{load_variants, scenario_name, Scenario};

/// The test harness: `fn main() { netspec::Harness::new("scenarios").run() }`.
#[derive(Debug)]
pub struct Harness {
    /// Where names start: `scenarios/`, found upward from the folder given.
    root: PathBuf,
    /// The folder whose scenarios run.
    scope: PathBuf,
    snapshots: PathBuf,
    /// Failure reports, for CI artifacts: `<cargo target dir>/netspec/<scenario>/failure.txt`.
    reports: PathBuf,
}

impl Harness {
    /// `dir` is relative to the current directory (cargo runs tests from the package
    /// root). A folder inside a `scenarios/` folder runs only its own scenarios, named
    /// from `scenarios/` all the same (`netspec test scenarios/seed` runs `seed/bridge`).
    /// Snapshots live in `snapshots/` beside `scenarios/`; failure reports go under the
    /// cargo target directory, never into the source tree.
    pub fn new(dir: impl AsRef<Path>) -> Harness {
        let scope = dir.as_ref().to_path_buf();
        let root = scope
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "scenarios"))
            .unwrap_or(&scope)
            .to_path_buf();
        let beside = root.parent().unwrap_or(Path::new(".")).join("snapshots");
        // Absolute: insta reads a relative snapshot path against its caller's source file.
        let snapshots = std::path::absolute(&beside).unwrap_or(beside);
        Harness {
            root,
            scope,
            snapshots,
            reports: target_dir().join("netspec"),
        }
    }

    /// Every scenario file under the root, sorted; `invalid/` holds bad-input tests, not scenarios.
    pub fn discover(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        walk(&self.scope, &mut files);
        files.retain(|f| {
            !f.strip_prefix(&self.root)
                .is_ok_and(|r| r.starts_with("invalid"))
        });
        files.sort();
        files
    }

    /// One trial per scenario: per file, or per combination of a file's `matrix:`.
    pub fn trials(&self) -> Vec<Trial> {
        self.trials_and_skips().0
    }

    /// The trials, and (name, reason) of each one that cannot run here.
    fn trials_and_skips(&self) -> (Vec<Trial>, Vec<(String, String)>) {
        let mut skips = Vec::new();
        let opts = RunOptions {
            snapshot_dir: Some(self.snapshots.clone()),
            verbose: false,
            report_dir: Some(self.reports.clone()),
            show_paths: false,
            pause_on_failure: false,
        };
        let mut trials = Vec::new();
        let mut names = crate::scenario::UniqueNames::default();
        for file in self.discover() {
            let base = scenario_name(&self.root, &file);
            match load_variants(&self.root, &file) {
                Ok(variants) => trials.extend(variants.into_iter().map(|sc| {
                    // Trials are named by path (plus a matrix's `[key=value]`), whatever
                    // `name:` says, so `--exact <path>` finds them.
                    let path_name = format!("{base}{}", sc.variant);
                    if let Err(e) = names.claim(&sc.name, &file) {
                        return Trial::test(path_name, move || Err(Failed::from(e)));
                    }
                    // Known when the trials are listed, so that nextest shows SKIP and
                    // cargo test `ignored`, never a pass. The name stays the path; the
                    // reason is printed before the run, and run with --include-ignored
                    // the trial reports it as its skip message.
                    let skip = skip_reason(&sc);
                    if let Some(why) = &skip {
                        skips.push((path_name.clone(), why.clone()));
                    }
                    trial(path_name, opts.clone(), move |o| run_checked(&sc, o))
                        .with_ignored_flag(skip.is_some())
                })),
                // It does not load: one trial that says why.
                Err(e) => {
                    trials.push(trial(base, opts.clone(), move |_| Outcome::Invalid(e)));
                }
            }
        }
        (trials, skips)
    }

    /// Runs the trials, after saying on stderr which cannot run here and why (libtest
    /// shows an ignored trial without a reason; a listing stays clean).
    fn run_trials(self, args: &Arguments) -> ! {
        let (trials, skips) = self.trials_and_skips();
        let shown: Vec<&(String, String)> = trials
            .iter()
            .filter(|t| t.has_ignored_flag() && !args.list && !args.is_filtered_out(t))
            .filter_map(|t| skips.iter().find(|(name, _)| name == t.name()))
            .collect();
        if !args.include_ignored && !args.ignored && !args.list {
            // Listed as ignored, so never run: their skip is their result.
            for (name, why) in &shown {
                crate::results::record(name, "skipped", why);
            }
        }
        if !shown.is_empty() && !args.include_ignored && !args.ignored {
            eprintln!(
                "{} cannot run here, so {} listed as ignored (--include-ignored runs {} and shows the skip):",
                if shown.len() == 1 { "1 scenario" } else { "these scenarios" },
                if shown.len() == 1 { "it is" } else { "they are" },
                if shown.len() == 1 { "it" } else { "them" },
            );
            for (name, why) in shown {
                eprintln!("  {name}: {why}");
            }
        }
        libtest_mimic::run(args, trials).exit()
    }

    /// Parses the test binary's arguments, runs the trials and exits.
    /// With `NETSPEC_KERNEL` set, it runs them all inside a VM booted on that kernel.
    pub fn run(self) -> ! {
        crate::vm::rerun_under_chosen_kernel();
        crate::enter_user_namespace_if_needed();
        let args = Arguments::from_args();
        self.run_trials(&args)
    }

    /// Runs the trials with libtest arguments given explicitly (`netspec test`).
    pub fn run_with_args(self, args: impl IntoIterator<Item = String>) -> ! {
        crate::vm::rerun_under_chosen_kernel();
        crate::enter_user_namespace_if_needed();
        let args = Arguments::from_iter(std::iter::once("netspec".to_string()).chain(args));
        self.run_trials(&args)
    }
}

/// A trial that runs `run` and reads its outcome as libtest does.
fn trial(
    name: String,
    opts: RunOptions,
    run: impl FnOnce(&RunOptions) -> Outcome + Send + 'static,
) -> Trial {
    let recorded = name.clone();
    Trial::ignorable_test(name, move || {
        let outcome = run(&opts);
        let (verdict, message) = match &outcome {
            Outcome::Passed(r) => ("passed", r.steps_summary()),
            Outcome::Skipped(s) => ("skipped", s.to_string()),
            other => ("failed", other.to_string()),
        };
        crate::results::record(&recorded, verdict, &message);
        match outcome {
            Outcome::Passed(_) => Ok(Completion::Completed),
            Outcome::Skipped(s) => Ok(Completion::ignored_with(s.to_string())),
            Outcome::Refused(why) if std::env::var_os("NETSPEC_NO_USERNS").is_none() => {
                Err(Failed::from(format!(
                    "{why}, or a system that allows unprivileged user namespaces"
                )))
            }
            other => {
                let text = other.to_string();
                // One `Error: ` line on stderr: nextest's JUnit takes it as the failure's
                // message (its heuristic for tests that return an error), so CI shows
                // the failing step without opening the output.
                eprintln!("Error: {}", text.lines().next().unwrap_or_default());
                Err(Failed::from(text))
            }
        }
    })
}

/// Why a scenario cannot run here, found without building it: a kernel feature in its
/// `requires:` or a tool it needs is missing. None when it can run, or when this process
/// may not probe (no privileges: the run refuses then, and says why).
fn skip_reason(sc: &Scenario) -> Option<String> {
    if crate::privileges::missing_privileges().is_some() {
        return None;
    }
    sc.requires
        .iter()
        .find_map(|f| crate::features::missing(f))
        .or_else(|| crate::netfilter::missing_tools(sc).map(|s| s.reason))
        .or_else(|| crate::cni::missing_tools(sc).map(|s| s.reason))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        // A symlink to a folder is not followed: one to `.` or a parent would loop.
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&p, out);
        } else if (ft.is_file() || ft.is_symlink() && p.is_file())
            && p.extension().is_some_and(|x| x == "yaml" || x == "yml")
        {
            out.push(p);
        }
    }
}
