//! A topology entered by hand: `netspec up` keeps it, `netspec exec`/`shell` enter a
//! node, `netspec down` removes it; `netspec run --pause-on-failure` waits at the
//! failing step with its nodes open, and leaves nothing once it goes on, by Enter or by
//! SIGINT. The machine's own state is the same after each. Needs root.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use netspec::leaks::{host_state, suite_interfaces, HostLock};

mod common;
use common::{netspec_exe, project_root};

fn netspec() -> Command {
    let mut c = Command::new(netspec_exe());
    c.current_dir(project_root());
    c
}

fn ours() -> BTreeSet<String> {
    let root = project_root();
    suite_interfaces(&[&root.join("scenarios"), &root.join("tests")])
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn root_or_panic() -> HostLock {
    let lock = HostLock::acquire().unwrap();
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    lock
}

#[test]
fn a_lab_that_is_up_can_be_entered_and_taken_down() {
    let _one = root_or_panic();
    let before = host_state(&ours());
    let lab = "labtest";
    let up = netspec()
        .args(["up", "scenarios/seed/bridge.yaml", "--lab", lab])
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", text(&up));
    assert!(
        text(&up).contains("netspec shell --lab labtest net1"),
        "{}",
        text(&up)
    );
    let again = netspec()
        .args(["up", "scenarios/seed/bridge.yaml", "--lab", lab])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        text(&again).contains("lab `labtest` is already up"),
        "{}",
        text(&again)
    );

    // The node's own addresses and /sys; the ping crosses the kept bridge.
    let exec = netspec()
        .args(["exec", "--lab", lab, "net1", "--", "sh", "-c"])
        .arg("cat /sys/class/net/vethpeer1/operstate; ping -c1 -W2 10.100.0.20 >/dev/null && echo reached")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&exec.stdout),
        "up\nreached\n",
        "{}",
        text(&exec)
    );
    let mut shell = netspec()
        .args(["shell", "--lab", lab, "host"])
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(b"ls /sys/class/net\n")
        .unwrap();
    let out = shell.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "br00\nlo\nveth1\nveth2\n"
    );
    let missing = netspec()
        .args(["exec", "nosuchnode", "--", "true"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(text(&missing).contains("no lab that is up has a node `nosuchnode`"));

    let down = netspec().args(["down", lab]).output().unwrap();
    assert!(down.status.success(), "{}", text(&down));
    assert_eq!(
        text(&down)
            .matches("removed /run/netns/netspec-up.labtest.")
            .count(),
        3
    );
    assert_eq!(
        host_state(&ours()),
        before,
        "down leaves the machine as up found it"
    );
}

/// Runs a failing scenario with --pause-on-failure; returns once it is paused, with
/// the pins it printed; `go_on` makes it continue.
fn paused_run(go_on: impl FnOnce(&mut std::process::Child)) {
    let before = host_state(&ours());
    let mut run = netspec()
        .args(["run", "--pause-on-failure", "tests/wrong/exec-exit.yaml"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(run.stdout.take().unwrap()).lines();
    let mut pins = Vec::new();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if let Some(rest) = line.trim().strip_prefix("netspec shell ") {
            pins.push(rest.split_whitespace().next().unwrap().to_string());
        }
        if line.starts_with("press Enter") {
            break;
        }
    }
    assert_eq!(pins.len(), 2, "{seen:?}");
    let exec = netspec()
        .args(["exec", &pins[0], "--", "cat", "/sys/class/net/eth0/address"])
        .output()
        .unwrap();
    assert!(
        exec.status.success(),
        "the paused node can be entered: {}",
        text(&exec)
    );
    go_on(&mut run);
    let mut rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut run.stderr.take().unwrap(), &mut err).unwrap();
    rest.extend(err.lines().map(String::from));
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the run still fails: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("failed at step 2")),
        "{rest:?}"
    );
    for p in &pins {
        assert!(!Path::new("/run/netns").join(p).exists(), "{p} is unpinned");
    }
    assert_eq!(host_state(&ours()), before);
}

#[test]
fn a_paused_run_goes_on_at_enter_and_leaves_nothing() {
    let _one = root_or_panic();
    paused_run(|run| run.stdin.take().unwrap().write_all(b"\n").unwrap());
}

#[test]
fn a_paused_run_goes_on_at_sigint_and_leaves_nothing() {
    let _one = root_or_panic();
    paused_run(|run| {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(run.id() as i32, libc::SIGINT) };
    });
}
