//! A scenario that needs a kernel feature this kernel lacks is reported as skipped with
//! the reason: never as passed, never as failed, under cargo test and nextest alike.
//! Needs root.

use std::process::Command;

mod common;
use common::{netspec_exe, project_root};

fn netspec(args: &[&str]) -> std::process::Output {
    Command::new(netspec_exe())
        .args(args)
        .current_dir(project_root())
        .env("CI", "true")
        .output()
        .unwrap()
}

#[test]
fn a_declared_missing_feature_skips_the_trial_with_its_reason() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let out = netspec(&["test", "scenarios", "kernel/bridge_vlan_aware/ping"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}");
    match netspec::features::missing("vlan_filtering") {
        Some(_) => {
            // Known when the trials are listed: the trial is ignored under its own name,
            // and the reason is said before the run.
            assert!(
                stdout.contains("test kernel/bridge_vlan_aware/ping ... ignored"),
                "{stdout}"
            );
            assert!(
                !stdout.contains("(skipped"),
                "the name is only the path: {stdout}"
            );
            assert!(
                stderr.contains(
                    "  kernel/bridge_vlan_aware/ping: the kernel lacks vlan_filtering: Operation not supported"
                ),
                "{stderr}"
            );
            assert!(
                stdout.contains(" 0 passed; 0 failed; 1 ignored;"),
                "{stdout}"
            );
            // Asked for by name, it runs and reports the skip with its reason.
            let named = netspec(&[
                "test",
                "scenarios",
                "--exact",
                "kernel/bridge_vlan_aware/ping",
                "--include-ignored",
            ]);
            let named_out = String::from_utf8_lossy(&named.stdout);
            assert!(named.status.success(), "{named_out}");
            assert!(
                named_out.contains(
                    "test kernel/bridge_vlan_aware/ping ... ignored (skipped: the kernel lacks vlan_filtering"
                ),
                "{named_out}"
            );
        }
        None => assert!(stdout.contains(" 1 passed; 0 failed;"), "{stdout}"),
    }
}

#[test]
fn an_undeclared_missing_feature_is_a_skip_too_not_a_pass() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let out = netspec(&["run", "tests/skip/undeclared-feature.yaml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if netspec::features::missing("vlan_filtering").is_none() {
        assert!(out.status.success(), "{stdout}");
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(77),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "skipped: the kernel refused to create bridge br0 in node sw: Operation not supported"
        ),
        "{stdout}"
    );
    // For CI systems that fail on any code but 0, a skip can be accepted explicitly.
    let allowed = netspec(&["run", "--allow-skip", "tests/skip/undeclared-feature.yaml"]);
    assert_eq!(allowed.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("skipped: the kernel refused"));
}

#[test]
fn nextest_lists_a_declared_missing_feature_as_ignored() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    // nextest asks the test binary for `--list --ignored` and shows those as SKIP.
    let out = netspec(&["test", "scenarios", "--list", "--ignored"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    match netspec::features::missing("vlan_filtering") {
        Some(_) => assert!(
            stdout.contains("kernel/bridge_vlan_aware/ping: test\n"),
            "{stdout}"
        ),
        None => assert!(!stdout.contains("vlan-filtering"), "{stdout}"),
    }
    assert!(
        !stdout.contains("seed/bridge"),
        "only the skipped ones: {stdout}"
    );
}

/// Runs `netspec run FILE` in a mount namespace of its own where each of `hidden` is
/// covered by /dev/null (so it is no longer an executable file or a loadable library).
fn run_without(hidden: &[&str], file: &str) -> (Option<i32>, String) {
    let covers: Vec<String> = hidden
        .iter()
        .map(|h| format!("mount --bind /dev/null {h} && "))
        .collect();
    let script = format!("{}exec \"$0\" run {file}", covers.concat());
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .arg(netspec_exe())
        .current_dir(project_root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn rules_snapshot_without_the_nft_program_or_skip_with_the_reason() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let nft = "/usr/sbin/nft";
    let lib = "/usr/lib/x86_64-linux-gnu/libnftables.so.1";
    for needed in [nft, lib, "/usr/sbin/iptables-restore"] {
        if !std::path::Path::new(needed).exists() {
            panic!("{needed} is missing: .ci/run installs nftables and iptables");
        }
    }
    // iptables and nft rules, and a snapshot that lists them: libnftables does it.
    let file = "scenarios/netfilter/drop-reject.yaml";
    let (code, text) = run_without(&[nft], file);
    assert_eq!(code, Some(0), "{text}");
    // Without the library too, the scenario cannot list its rules: a skip that says why.
    let (code, text) = run_without(&[nft, lib], file);
    assert_eq!(code, Some(77), "{text}");
    assert!(
        text.contains("needs `nft`, which is not installed (Debian package nftables)"),
        "{text}"
    );
}
