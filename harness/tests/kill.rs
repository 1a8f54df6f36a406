//! Nothing survives a killed run: a `netspec run` killed with SIGKILL, or interrupted
//! with SIGINT, in the middle of a step leaves no namespace, interface, mount or process
//! behind, and the machine's own namespace is unchanged. Also NETSPEC_KEEP=1 and
//! `netspec reap`. Needs root.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netspec::leaks::{host_state, sleepers, suite_interfaces, HostLock};

mod common;
use common::{netspec_exe, project_root};

/// The links netspec could create: every interface name of the suite and the tests.
fn ours() -> BTreeSet<String> {
    let root = project_root();
    suite_interfaces(&[&root.join("scenarios"), &root.join("tests")])
}

fn netspec() -> Command {
    let mut c = Command::new(netspec_exe());
    c.current_dir(project_root());
    c
}

/// Network namespaces a process references through its fds.
fn namespaces_of(pid: u32) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if std::fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy().starts_with("net:[")) {
            if let Ok(m) = std::fs::metadata(fd.path()) {
                out.insert(m.ino());
            }
        }
    }
    out
}

/// Every network namespace that any process, thread, fd or mount on the machine still
/// references.
fn referenced_anywhere() -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        out.extend(namespaces_of(pid));
        for t in std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(m) = std::fs::metadata(t.path().join("ns/net")) {
                out.insert(m.ino());
            }
        }
    }
    // Bind mounts of namespaces (what `ip netns add` makes) show up as nsfs mounts.
    for line in std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
    {
        if let Some(i) = line.find("net:[") {
            if let Ok(n) = line[i + 5..]
                .trim_end_matches(']')
                .split(']')
                .next()
                .unwrap_or("")
                .parse()
            {
                out.insert(n);
            }
        }
    }
    out
}

/// Starts the sleeping scenario and waits until it is inside its long step.
fn start_sleeping() -> (Child, BTreeSet<u64>) {
    let mut child = netspec()
        .args(["run", "tests/slow/sleeping.yaml"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let line = lines.next().expect("netspec ended early").unwrap();
        if line.contains("step  3") {
            break; // the ping passed: the next step, the 30 s sleep, is running
        }
    }
    let ns = namespaces_of(child.id());
    assert_eq!(ns.len(), 2, "both nodes exist while the step runs");
    (child, ns)
}

fn assert_gone(ns: &BTreeSet<u64>, how: &str) {
    // The kernel frees a namespace once nothing references it; wait with a deadline.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<u64> = referenced_anywhere().intersection(ns).copied().collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after {how}: namespaces still referenced: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn killed_or_interrupted_runs_leave_nothing() {
    let _one = HostLock::acquire().unwrap();
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let ours = ours();
    let before = host_state(&ours);
    for (signal, name) in [(libc::SIGKILL, "SIGKILL"), (libc::SIGINT, "SIGINT")] {
        let (mut child, ns) = start_sleeping();
        // 979 runs as nobody: the kernel cleared its death signal when it changed uid.
        let background = ["977", "978", "979"];
        // The shell starts its two sleeps on its own time: wait for all three.
        let deadline = Instant::now() + Duration::from_secs(5);
        while sleepers(&background).len() < 3 {
            assert!(
                Instant::now() < deadline,
                "{name}: the background command runs"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert!(!status.success(), "{name}: the run must not report success");
        assert!(
            !Path::new(&format!("/proc/{}", child.id())).exists(),
            "{name}: the process is gone"
        );
        assert_gone(&ns, name);
        assert!(
            sleepers(&background).is_empty(),
            "{name}: the background command and its child died with the run"
        );
        assert_eq!(
            host_state(&ours),
            before,
            "{name}: the machine's own namespace changed"
        );
    }
}

#[test]
fn keep_pins_a_failed_run_and_reap_removes_it() {
    let _one = HostLock::acquire().unwrap();
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let out = netspec()
        .args(["run", "tests/wrong/route-gateway.yaml"])
        .env("NETSPEC_KEEP", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let pins: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ip netns exec "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(pins.len(), 3, "{stderr}");
    for p in &pins {
        assert!(Path::new("/run/netns").join(p).exists(), "{p} is pinned");
    }
    let reaped = netspec().arg("reap").output().unwrap();
    assert!(reaped.status.success());
    for p in &pins {
        assert!(!Path::new("/run/netns").join(p).exists(), "{p} was reaped");
    }
}

/// The machine's own namespace is the same before and after a whole suite run: links,
/// addresses, routes, /run/netns, and every sysctl that some scenario sets in its nodes.
#[test]
fn the_suite_leaves_the_machine_as_it_found_it() {
    let _one = HostLock::acquire().unwrap();
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let root = project_root().join("scenarios");
    let harness = netspec::Harness::new(&root);
    let mut keys = std::collections::BTreeSet::new();
    for f in harness.discover() {
        for sc in netspec::load_variants(&root, &f).unwrap() {
            for n in &sc.nodes {
                keys.extend(n.sysctls.iter().map(|(k, _)| k.clone()));
            }
        }
    }
    assert!(!keys.is_empty());
    let sysctls = || -> Vec<(String, String)> {
        keys.iter()
            .map(|k| {
                // Per-interface keys name interfaces that only exist in the scenarios.
                let v = std::fs::read_to_string(format!("/proc/sys/{}", k.replace('.', "/")))
                    .unwrap_or_else(|_| "(absent)".into());
                (k.clone(), v)
            })
            .collect()
    };
    let ours = ours();
    let (host_before, sysctl_before) = (host_state(&ours), sysctls());
    let out = netspec()
        .args(["test", "scenarios", "--test-threads", "4"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        host_state(&ours),
        host_before,
        "links, addresses, routes or /run/netns changed"
    );
    assert_eq!(sysctls(), sysctl_before, "a sysctl of the machine changed");
}
