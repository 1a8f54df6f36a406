//! The workflow (.github/workflows/ci.yml) and `.ci/run` make the same checks: the same
//! format and lint commands, the docs with warnings as errors, the same packages for
//! the scenarios' tools, the same toolchain, the archive route, and the README's test
//! command. `.ci/archived-test` finds the right binary in an unpacked archive. No root
//! needed.

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_workflow_and_ci_run_check_the_same_things() {
    let run = read(".ci/run");
    let workflow = read(".github/workflows/ci.yml");
    let readme = read("README.md");
    for command in [
        "cargo fmt --all -- --check",
        "cargo clippy --workspace --all-targets -- -D warnings",
        "cargo doc --workspace --no-deps",
    ] {
        assert!(run.contains(command), ".ci/run lacks `{command}`");
        assert!(workflow.contains(command), "the workflow lacks `{command}`");
    }
    assert!(run.contains("RUSTDOCFLAGS=\"-D warnings\" cargo doc"));
    assert!(workflow.contains("RUSTDOCFLAGS: -D warnings"));
    for package in [
        "nftables",
        "iptables",
        "util-linux",
        "containernetworking-plugins",
        "netavark",
    ] {
        assert!(run.contains(package), ".ci/run does not install {package}");
        assert!(
            workflow.contains(package),
            "the workflow does not install {package}"
        );
    }
    // The README's test command is what .ci/run ends with, and what the workflow's
    // nextest runs (`--workspace`, every test).
    assert!(readme.contains("cargo test --workspace"));
    assert!(
        run.trim_end().ends_with("cargo test --workspace"),
        ".ci/run must end with the README's test command"
    );
    // The workflow's shards run a nextest archive built once; .ci/run takes the same
    // route for one shard.
    for needle in [
        "cargo nextest archive --workspace --archive-file",
        "cargo-nextest nextest run",
        "--workspace-remap .",
        "--extract-to target/archive",
        "INSTA_WORKSPACE_ROOT=",
    ] {
        assert!(run.contains(needle), ".ci/run lacks `{needle}`");
        assert!(workflow.contains(needle), "the workflow lacks `{needle}`");
    }
    // .ci/run lints the workflow itself.
    assert!(run.contains("actionlint"));
    // Both validate the scenarios with check-jsonschema, and run the suite under
    // another kernel, from the archive, and check it against docs/kernels.
    for needle in [
        "check-jsonschema==0.39.0",
        "--schemafile scenario.schema.json",
        "NETSPEC_KERNEL=",
        "NETSPEC_RESULTS=",
        "NETSPEC_FRESH_RESULTS=",
        ".ci/archived-test target/archive/target scenarios",
        ".ci/archived-test target/archive/target kernel_table",
        "\"$kernel_table\" --include-ignored",
        "linux-image-6.1.0-57-amd64",
    ] {
        assert!(run.contains(needle), ".ci/run lacks `{needle}`");
        assert!(workflow.contains(needle), "the workflow lacks `{needle}`");
    }
}

#[test]
fn every_action_is_pinned_by_hash_and_checkout_keeps_no_credentials() {
    let workflow = read(".github/workflows/ci.yml");
    let mut uses = 0;
    for line in workflow.lines().map(str::trim) {
        let Some(action) = line
            .strip_prefix("- uses: ")
            .or_else(|| line.strip_prefix("uses: "))
        else {
            continue;
        };
        uses += 1;
        let (_, rev) = action.split_once('@').expect("an action with a ref");
        let sha = rev.split_whitespace().next().unwrap_or_default();
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "not pinned by commit hash: {line}"
        );
    }
    assert!(uses > 5, "{uses} actions");
    let checkouts = workflow.matches("uses: actions/checkout@").count();
    assert_eq!(
        workflow.matches("persist-credentials: false").count(),
        checkouts,
        "every checkout sets persist-credentials: false"
    );
    assert!(
        read(".ci/run").contains("zizmor"),
        ".ci/run audits the workflow with zizmor"
    );
}

#[test]
fn one_toolchain_everywhere() {
    // rust-toolchain.toml pins it; both crates say the same `rust-version`; CI installs
    // it from the file instead of naming a toolchain of its own.
    let pin = read("rust-toolchain.toml");
    let channel = pin
        .lines()
        .find_map(|l| l.trim().strip_prefix("channel = "))
        .expect("rust-toolchain.toml names a channel")
        .trim_matches('"');
    for manifest in ["Cargo.toml", "harness/Cargo.toml"] {
        let version = read(manifest)
            .lines()
            .find_map(|l| l.trim().strip_prefix("rust-version = ").map(str::to_owned))
            .unwrap_or_else(|| panic!("{manifest} has no rust-version"));
        let version = version.trim_matches('"');
        assert!(
            channel == version || channel.starts_with(&format!("{version}.")),
            "{manifest}: rust-version {version}, but rust-toolchain.toml pins {channel}"
        );
    }
    let workflow = read(".github/workflows/ci.yml");
    assert!(
        !workflow.contains("dtolnay/rust-toolchain"),
        "the workflow installs the toolchain of rust-toolchain.toml, not one of its own"
    );
    let jobs_that_build = workflow.matches("Swatinem/rust-cache@").count();
    assert_eq!(
        workflow.matches("run: rustup toolchain install").count(),
        jobs_that_build,
        "every job that builds installs the pinned toolchain"
    );
    assert!(read(".ci/run").contains("rustup toolchain install"));
}

#[test]
fn archived_test_finds_a_test_binary_in_an_unpacked_archive_and_refuses_the_rest() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    // An unpacked archive as nextest lays it out: the build machine's paths in the
    // metadata, the binaries under the unpacked target.
    let target = std::env::temp_dir().join(format!("netspec-archived-{}", std::process::id()));
    let deps = target.join("debug/deps");
    std::fs::create_dir_all(&deps).unwrap();
    std::fs::create_dir_all(target.join("nextest")).unwrap();
    let exe = deps.join("scenarios-0123abcd");
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let built = "/build/target";
    let meta = serde_json::json!({
        "rust-build-meta": { "target-directory": built },
        "rust-binaries": {
            "netspec-suite::scenarios": {
                "binary-name": "scenarios", "kind": "test",
                "binary-path": format!("{built}/debug/deps/scenarios-0123abcd"),
            },
            "netspec-suite::elsewhere": {
                "binary-name": "elsewhere", "kind": "test",
                "binary-path": "/somewhere/else/elsewhere-1",
            },
            "netspec::bin/netspec": {
                "binary-name": "netspec", "kind": "bin",
                "binary-path": format!("{built}/debug/netspec"),
            },
        },
    });
    std::fs::write(
        target.join("nextest/binaries-metadata.json"),
        meta.to_string(),
    )
    .unwrap();
    let run = |name: &str| {
        Command::new("python3")
            .arg(".ci/archived-test")
            .arg(&target)
            .arg(name)
            .output()
            .expect("python3 runs .ci/archived-test")
    };
    let found = run("scenarios");
    assert!(found.status.success(), "{found:?}");
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        exe.display().to_string()
    );
    for (name, why) in [
        ("kernel_table", "0 test binaries named 'kernel_table'"),
        ("netspec", "0 test binaries named 'netspec'"),
        ("elsewhere", "is outside the archived target"),
    ] {
        let refused = run(name);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{name}: {refused:?}");
        assert!(stderr.contains(why), "{name}: {stderr}");
    }
    std::fs::remove_dir_all(&target).unwrap();
}
