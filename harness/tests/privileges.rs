//! Without CAP_SYS_ADMIN/CAP_NET_ADMIN/CAP_NET_RAW and without user namespaces, nothing
//! passes and nothing skips silently: every scenario fails with one line that says what
//! is needed. With user namespaces, an unprivileged user runs the whole suite.
//! Capabilities and users are dropped with `setpriv`, so this runs where the suite runs
//! (as root).

use std::process::Command;

mod common;
use common::{netspec_exe, project_root};

const DROP: &str = "--bounding-set=-sys_admin,-net_admin,-net_raw";
const LINE: &str = "netspec needs CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW to create and configure network namespaces";

/// Capabilities dropped, and the rootless fallback turned off, as on a system that
/// forbids unprivileged user namespaces.
fn unprivileged(args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .env("NETSPEC_NO_USERNS", "1")
        .args([
            DROP.as_ref(),
            "--inh-caps=-all".as_ref(),
            netspec_exe().as_os_str(),
        ])
        .args(args)
        .current_dir(project_root())
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

/// Where unprivileged user namespaces are allowed, a non-root user runs the whole suite:
/// the runner moves itself into a user and network namespace of its own.
#[test]
fn an_unprivileged_user_runs_the_suite() {
    let allowed = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "unshare",
            "-Urn",
            "true",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !allowed {
        eprintln!(
            "unprivileged user namespaces are not allowed here: the refusal tests above apply"
        );
        return;
    }
    // A copy that user `nobody` can read, with the suite beside it.
    let dir = std::env::temp_dir().join(format!("netspec-rootless-{}", std::process::id()));
    let root = project_root();
    std::fs::create_dir_all(&dir).unwrap();
    let copy = Command::new("cp")
        .arg("-r")
        .args([root.join("scenarios"), root.join("snapshots")])
        .arg(&dir)
        .status();
    assert!(copy.unwrap().success());
    std::fs::copy(netspec_exe(), dir.join("netspec")).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&dir)
        .status()
        .unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(dir.join("netspec"))
        .args(["test", "scenarios"])
        .current_dir(&dir)
        .env("CI", "true")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(" 0 failed;") && !stdout.contains(" 0 passed;"),
        "{stdout}"
    );
}
