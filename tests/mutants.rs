//! Every expectation can fail: every step of every scenario (the ported selftests under
//! scenarios/kernel/ among them) that has an expectation is flipped in turn
//! (`netspec::mutate`), and the flipped scenario must fail at exactly that step. A step
//! whose flip still passes asserted nothing. One trial per step:
//! `cargo test --test mutants -- fib_nexthops`. Needs root, like the scenarios.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use netspec::{load_variants, mutate, run, Outcome, RunOptions, Scenario};

const ROOT: &str = "scenarios";

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

/// Runs `mutant` (step `index` flipped) and says why it did not fail at that step.
fn must_fail_at(mutant: &Scenario, index: usize) -> Result<(), Failed> {
    match run(mutant, &RunOptions::default()) {
        Outcome::Failed(f) => match &f.step {
            Some(at) if at.index == index => Ok(()),
            Some(at) => Err(format!(
                "the flipped step {index} passed; the run failed later, at step {}:\n{f}",
                at.index
            )
            .into()),
            None => Err(format!("the run failed outside the steps:\n{f}").into()),
        },
        Outcome::Passed(_) => {
            Err(format!("flipped, step {index} still passed: its expectation cannot fail").into())
        }
        other => Err(format!("the flipped run did not run: {other}").into()),
    }
}

fn trials() -> Vec<Trial> {
    let mut files = Vec::new();
    yaml_files(Path::new(ROOT), &mut files);
    files.retain(|f| !f.starts_with("scenarios/invalid"));
    let mut trials = Vec::new();
    let running = netspec::scenario::KernelVersion::running();
    for file in files {
        let variants = match load_variants(Path::new(ROOT), &file) {
            Ok(v) => v,
            Err(e) => {
                let name = file.display().to_string();
                trials.push(Trial::test(name, move || Err(e.to_string().into())));
                continue;
            }
        };
        for sc in variants {
            let missing = sc
                .requires
                .iter()
                .find_map(|f| netspec::features::missing(f));
            for step in &sc.steps {
                let Some(mutant) = mutate::flip_step(&sc, step.index) else {
                    continue;
                };
                let name = format!("{}{} step {}", sc.name, sc.variant, step.index);
                let index = step.index;
                let trial = Trial::test(name, move || {
                    if let Some(why) = netspec::missing_privileges() {
                        return Err(why.into());
                    }
                    must_fail_at(&mutant, index)
                });
                // A step whose `kernel:` excludes this kernel is not run here, so its
                // mutant cannot fail here either: ignored, visibly, like the step.
                let other_kernel = step
                    .kernel
                    .as_ref()
                    .filter(|k| !k.admits(running))
                    .map(|k| format!("step for kernel {}", k.text));
                trials.push(match missing.clone().or(other_kernel) {
                    // The scenario is skipped where the kernel lacks the feature: so is
                    // its mutant, visibly.
                    Some(why) => trial.with_ignored_flag(true).with_kind(why),
                    None => trial,
                });
            }
        }
    }
    trials
}

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit();
}
