//! The seed bridge scenario's snapshot is byte-identical over 20 consecutive runs, and
//! over 8 runs at once on 8 threads. Needs root.

use std::path::Path;

use netspec::{load_file, run, RunOptions};

fn snapshot_of_one_run() -> String {
    let sc = load_file(
        Path::new("scenarios"),
        Path::new("scenarios/seed/bridge.yaml"),
    )
    .unwrap();
    let report = run(&sc, &RunOptions::default())
        .passed()
        .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.snapshots.len(), 1);
    report.snapshots[0].1.clone()
}

#[test]
fn the_seed_snapshot_never_changes() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let committed = std::fs::read_to_string("snapshots/seed__bridge@after-ping.snap").unwrap();
    let first = snapshot_of_one_run();
    assert!(
        committed.ends_with(&first),
        "the run differs from the committed snapshot:\n{first}"
    );
    for i in 2..=20 {
        assert_eq!(snapshot_of_one_run(), first, "consecutive run {i} differs");
    }
    let parallel: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(snapshot_of_one_run)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, p) in parallel.iter().enumerate() {
        assert_eq!(p, &first, "parallel run {i} differs");
    }
}
