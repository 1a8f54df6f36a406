//! Without CAP_SYS_ADMIN/CAP_NET_ADMIN/CAP_NET_RAW, nothing passes and nothing skips
//! silently: every scenario fails with one line that says what is needed. The
//! capabilities are dropped with `setpriv`, so this runs where the suite runs (as root).

use std::process::Command;

const DROP: &str = "--bounding-set=-sys_admin,-net_admin,-net_raw";
const LINE: &str = "netspec needs CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW to create and configure network namespaces";

fn unprivileged(args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args([DROP, "--inh-caps=-all", env!("CARGO_BIN_EXE_netspec")])
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("setpriv (util-linux) must be installed")
}

#[test]
fn run_refuses_in_one_line() {
    let out = unprivileged(&["run", "scenarios/seed/bridge.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(LINE), "{stderr}");
}

#[test]
fn every_trial_fails_and_none_is_skipped() {
    let out = unprivileged(&["test", "scenarios"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let trial_lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("test ") && !l.starts_with("test result"))
        .collect();
    let trials = trial_lines.len();
    let failed = trial_lines.iter().filter(|l| l.ends_with("FAILED")).count();
    assert!(trials >= 4, "{stdout}");
    assert_eq!(failed, trials, "{stdout}");
    assert!(
        stdout.contains(" 0 passed;") && stdout.contains(" 0 ignored;"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches(LINE).count(),
        trials,
        "each trial says why: {stdout}"
    );
}

#[test]
fn loading_needs_no_privileges() {
    let out = unprivileged(&["check", "scenarios/seed/bridge.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
