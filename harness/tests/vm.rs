//! `netspec vm`: the inner exit code comes back; a kernel that panics, does not boot in
//! time or cannot mount the machine's root fails with its reason within a bound; and
//! killing netspec kills QEMU. Each boots a real kernel under QEMU, so they need
//! qemu-system-x86, busybox-static and a kernel prepared by tools/kernel-from-packages,
//! named by NETSPEC_TEST_KERNEL. .ci/run prepares Debian's 6.1 and runs them.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{netspec_exe, project_root};
const NEEDS: &str = "needs QEMU and a kernel: NETSPEC_TEST_KERNEL=$(tools/kernel-from-packages linux-image-6.1.0-57-amd64); .ci/run runs these with --include-ignored";

fn kernel() -> PathBuf {
    let k = std::env::var_os("NETSPEC_TEST_KERNEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("NETSPEC_TEST_KERNEL is not set: these tests {NEEDS}"));
    assert!(
        k.exists(),
        "NETSPEC_TEST_KERNEL={}: no such kernel",
        k.display()
    );
    k
}

fn vm(extra: &[&str], inner: &[&str]) -> (Output, Duration) {
    let k = kernel();
    let mut c = Command::new(netspec_exe());
    c.current_dir(project_root())
        .arg("vm")
        .arg("--kernel")
        .arg(&k)
        .args(extra)
        .arg("--")
        .args(inner)
        .env_remove("NETSPEC_KERNEL");
    let t0 = Instant::now();
    let out = c.output().expect("run netspec vm");
    (out, t0.elapsed())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn the_inner_command_runs_under_the_chosen_kernel_and_its_exit_code_comes_back() {
    let (out, _) = vm(&[], &["check", "scenarios/seed/bridge.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("seed/bridge: ok"),
        "{}",
        text(&out.stdout)
    );
    // A usage error inside (exit 2) is the VM's exit code, not netspec vm's own 3.
    let (out, _) = vm(&[], &["check", "no-such-file.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no such scenario file"));
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn a_kernel_that_panics_is_reported_with_its_console_within_the_bound() {
    // No init in the initramfs by that name: the kernel panics ("No working init
    // found" or "Unable to mount root fs"), and panic=-1 ends QEMU at once.
    let (out, took) = vm(
        &["--append", "rdinit=/no-such-init", "--boot-timeout", "120"],
        &["--version"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("QEMU ended"), "{err}");
    assert!(
        err.contains("Kernel panic"),
        "the console's tail is shown: {err}"
    );
    assert!(
        took < Duration::from_secs(120),
        "ended by the panic, not the bound: {took:?}"
    );
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn a_boot_that_does_not_finish_in_time_is_stopped_with_the_bound_named() {
    let (out, took) = vm(&["--boot-timeout", "1"], &["--version"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("did not happen within 1s"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn a_kernel_that_cannot_mount_the_root_says_so() {
    // The image alone, without its module folder: Debian's kernels have 9p (and on
    // 6.1 virtio_pci) only as modules, so init cannot mount the machine's root.
    let k = kernel();
    let image = std::fs::read_dir(k.join("boot"))
        .expect("a prepared kernel folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinux-"))
        })
        .expect("a vmlinux in the prepared folder");
    let out = Command::new(netspec_exe())
        .current_dir(project_root())
        .args(["vm", "--kernel"])
        .arg(&image)
        .args(["--", "--version"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot mount the 9p share root"), "{err}");
    assert!(
        err.contains("virtio_pci, 9pnet_virtio and 9p"),
        "the hint: {err}"
    );
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn wrong_expectations_on_kinds_this_machine_may_lack_fail_in_the_vm() {
    // dummy, vlan, bond and vrf devices, port VLANs: the machine's kernel may lack them (this one does), so
    // their wrong-expectation scenarios are checked under the chosen kernel.
    let (out, _) = vm(
        &[],
        &[
            "run",
            "tests/wrong/dummy-state.yaml",
            "tests/wrong/vlan-mismatch.yaml",
            "tests/wrong/port-vlans.yaml",
            "tests/wrong/bond-active.yaml",
            "tests/wrong/vrf-route-table.yaml",
            "tests/wrong/vlan-pvid.yaml",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "all fail, none is skipped: {err}"
    );
    for wanted in [
        "scenario dummy-state failed at step 2 (check link t:dummy0)",
        "expected: t:dummy0 state up",
        "actual:   t:dummy0 state unknown",
        "scenario vlan-mismatch failed at step 1 (ping a -> b:v)",
        "expected: 10.10.0.2 reachable from a",
        "0/1 replies",
        "scenario port-vlans failed at step 1 (ping h1 -> h2:eth0)",
        "expected: 10.40.0.2 reachable from h1",
        "scenario bond-active failed at step 1 (check link h:bond0)",
        "expected: h:bond0 active eth0",
        "active eth1",
        "scenario vrf-route-table failed at step 2 (check route r 192.0.2.0/24)",
        "expected: route 192.0.2.0/24 dev eth0 in r",
        "scenario vlan-pvid failed at step 1 (check vlan sw:swp1 vid 20)",
        "expected: sw:swp1 in VLAN 20 pvid",
        "actual:   sw:swp1 VLANs: 20",
    ] {
        assert!(
            err.contains(wanted),
            "lacks {wanted:?}:\n{err}\nstdout:\n{}",
            text(&out.stdout)
        );
    }
    assert!(text(&out.stdout).contains("0 passed, 6 failed, 0 skipped"));
}

/// QEMU processes whose command line holds `mark`.
fn qemus_with(mark: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(mark))
        })
        .collect()
}

#[test]
#[ignore = "needs QEMU and a prepared kernel (NETSPEC_TEST_KERNEL); .ci/run runs it"]
fn killing_netspec_kills_qemu() {
    let mark = format!("netspec.test_kill={}", std::process::id());
    let mut child = Command::new(netspec_exe())
        .current_dir(project_root())
        .args(["vm", "--kernel"])
        .arg(kernel())
        .args(["--append", &mark, "--", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while qemus_with(&mark).len() < 2 {
        // netspec itself holds the mark in its arguments; QEMU in its -append.
        assert!(t0.elapsed() < Duration::from_secs(30), "QEMU never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let t0 = Instant::now();
    while !qemus_with(&mark).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "QEMU outlived netspec: {:?}",
            qemus_with(&mark)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
