//! Failure reports and snapshot folders stay where netspec owns them: `netspec run`
//! writes `failure.txt` under the cargo target directory and a later pass removes it;
//! the test harness never writes into the source tree; a missing snapshot folder is an
//! error, not a reason to write beside the harness's sources. Needs root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{netspec_exe, project_root};

fn netspec(args: &[&str], dir: &Path, target: Option<&Path>) -> Output {
    let mut c = Command::new(netspec_exe());
    c.args(args).current_dir(dir).env("CI", "true");
    match target {
        Some(t) => c.env("CARGO_TARGET_DIR", t),
        None => c.env_remove("CARGO_TARGET_DIR"),
    };
    c.output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn run_writes_a_failure_report_and_a_pass_clears_it() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let target = scratch("target");
    let report = target.join("netspec/report/stale/failure.txt");
    let root = project_root();
    let failed = netspec(&["run", "tests/report/fails.yaml"], root, Some(&target));
    assert!(!failed.status.success(), "{}", text(&failed));
    let written = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no {}: {e}\n{}", report.display(), text(&failed)));
    assert!(
        written.contains("expected: 10.1.0.99 reachable from a"),
        "{written}"
    );
    assert!(
        text(&failed).contains(&format!("this report: {}", report.display())),
        "{}",
        text(&failed)
    );
    let passed = netspec(&["run", "tests/report/passes.yaml"], root, Some(&target));
    assert!(passed.status.success(), "{}", text(&passed));
    assert!(!report.exists(), "a stale failure.txt stays after a pass");
    std::fs::remove_dir_all(&target).unwrap();
}

#[test]
fn the_harness_writes_reports_under_the_target_dir_not_beside_the_scenarios() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let root = project_root();
    let out = netspec(&["test", "tests/report", "--exact", "fails"], root, None);
    assert!(!out.status.success(), "fails.yaml fails: {}", text(&out));
    assert!(
        !root.join("tests/target").exists(),
        "a report landed in the source tree: tests/target"
    );
    // The binary lives in <target>/debug: its report is there (also when the target is
    // an unpacked nextest archive).
    let exe = netspec_exe();
    let target = exe.ancestors().find(|a| netspec::is_target_dir(a)).unwrap();
    assert!(target.join("netspec/report/stale").is_dir());
}

#[test]
fn a_missing_snapshot_folder_is_an_error_and_nothing_is_written() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let dir = scratch("nosnaps");
    std::fs::create_dir_all(dir.join("scenarios/seed")).unwrap();
    std::fs::copy(
        project_root().join("scenarios/seed/bridge.yaml"),
        dir.join("scenarios/seed/bridge.yaml"),
    )
    .unwrap();
    let out = netspec(&["test", "scenarios"], &dir, None);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("snapshots does not exist; create it"), "{all}");
    let harness_snaps = project_root().join("harness/src/snapshots");
    assert!(
        !harness_snaps.exists(),
        "insta wrote beside the harness's sources"
    );
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries, ["scenarios"], "nothing else was written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_new_snapshot_names_its_scenario_as_its_source() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let dir = scratch("newsnap");
    std::fs::create_dir_all(dir.join("scenarios/seed")).unwrap();
    std::fs::create_dir_all(dir.join("snapshots")).unwrap();
    std::fs::copy(
        project_root().join("scenarios/seed/bridge.yaml"),
        dir.join("scenarios/seed/bridge.yaml"),
    )
    .unwrap();
    let out = Command::new(netspec_exe())
        .args(["test", "scenarios"])
        .current_dir(&dir)
        .env_remove("CI")
        .env("INSTA_UPDATE", "always")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let snap = std::fs::read_to_string(dir.join("snapshots/seed__bridge@after-ping.snap")).unwrap();
    assert!(
        snap.contains("source: scenarios/seed/bridge.yaml"),
        "insta names netspec's own source instead: {snap}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pass_never_removes_a_file_through_a_symlinked_report_folder() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let root = project_root();
    // Someone else's failure.txt, reached through target/netspec or target/netspec/report.
    for linked in ["netspec", "netspec/report"] {
        let target = scratch("target-link");
        let theirs = target.join("theirs");
        std::fs::create_dir_all(theirs.join("report/stale")).unwrap();
        std::fs::write(theirs.join("report/stale/failure.txt"), "theirs").unwrap();
        std::fs::create_dir_all(theirs.join("stale")).unwrap();
        std::fs::write(theirs.join("stale/failure.txt"), "theirs").unwrap();
        let link = target.join(linked);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let to = if linked == "netspec" {
            theirs.clone()
        } else {
            theirs.join("report")
        };
        std::os::unix::fs::symlink(&to, &link).unwrap();
        let passed = netspec(&["run", "tests/report/passes.yaml"], root, Some(&target));
        assert!(passed.status.success(), "{}", text(&passed));
        for f in ["report/stale/failure.txt", "stale/failure.txt"] {
            assert_eq!(
                std::fs::read_to_string(theirs.join(f)).unwrap(),
                "theirs",
                "{linked}: a pass removed {f} through a symlink"
            );
        }
        // A failing run refuses to write there, and says so.
        let failed = netspec(&["run", "tests/report/fails.yaml"], root, Some(&target));
        assert!(
            text(&failed).contains("is not a directory netspec made"),
            "{}",
            text(&failed)
        );
        std::fs::remove_dir_all(&target).unwrap();
    }
}
