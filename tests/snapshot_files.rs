//! Every file under snapshots/ belongs to something that still asserts it: a snapshot
//! step of a scenario, a file of the bad-input corpus, or a golden of the CLI tests.
//! A stale snapshot fails here, so CI needs no second run of the suite under
//! `cargo insta test --unreferenced=reject`. Needs no root.

use std::collections::BTreeSet;
use std::path::Path;

use netspec::scenario::Action;

/// `seed__bridge@after-ping` for every snapshot step of every scenario.
fn referenced_by_scenarios(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in netspec::Harness::new(root).discover() {
        for sc in netspec::load_variants(root, &file).unwrap_or_else(|e| panic!("{e}")) {
            for s in &sc.steps {
                if let Action::Snapshot(snap) = &s.action {
                    out.insert(format!("{}@{}", sc.name.replace('/', "__"), snap.label));
                }
            }
        }
    }
    out
}

#[test]
fn every_snapshot_file_is_referenced() {
    // The package root, where cargo and nextest run the test.
    let here = Path::new(".");
    let steps = referenced_by_scenarios(&here.join("scenarios"));
    let cli_tests = std::fs::read_to_string(here.join("harness/tests/cli.rs")).unwrap();
    let mut stale = Vec::new();
    for dir in ["snapshots", "snapshots/invalid", "snapshots/cli"] {
        for e in std::fs::read_dir(here.join(dir)).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                continue;
            }
            let Some(stem) = name.strip_suffix(".snap") else {
                stale.push(format!(
                    "{dir}/{name} (not a snapshot: a leftover .snap.new?)"
                ));
                continue;
            };
            let used = match dir {
                "snapshots" => steps.contains(stem),
                "snapshots/invalid" => here
                    .join(format!("scenarios/invalid/{stem}.yaml"))
                    .is_file(),
                _ => cli_tests.contains(&format!("\"{stem}\"")),
            };
            if !used {
                stale.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots nothing asserts any more:\n  {}",
        stale.join("\n  ")
    );
    // The other way round: every snapshot step has its file.
    for s in &steps {
        assert!(
            here.join(format!("snapshots/{s}.snap")).is_file(),
            "{s}.snap is missing"
        );
    }
}
