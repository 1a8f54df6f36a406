//! The command line as a user meets it: help and version exit 0, usage errors exit 2,
//! a closed stdout ends quietly, several files end with a summary, and the JSON and
//! JUnit results match golden files. Runs that build scenarios need root.

use std::io::Read;
use std::process::{Command, Stdio};

mod common;
use common::{netspec_exe, project_root};

fn netspec(args: &[&str]) -> std::process::Output {
    Command::new(netspec_exe())
        .args(args)
        .current_dir(project_root())
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn root() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
}

#[test]
fn help_and_version_exit_zero() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["run", "--help"],
        &["reap", "--help"],
        &["help", "run"],
    ] {
        let out = netspec(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
    }
    let help = text(&netspec(&["--help"]).stdout);
    for word in ["run", "check", "list", "test", "reap", "Exit status:", "77"] {
        assert!(help.contains(word), "--help lacks {word:?}:\n{help}");
    }
}

#[test]
fn check_and_list_speak_json_lines_and_colour_can_be_forced() {
    let out = netspec(&[
        "check",
        "--format",
        "json",
        "scenarios/seed/bridge.yaml",
        "scenarios/invalid/bad-mac.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "an invalid file makes it fail");
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["scenario"], "seed/bridge");
    assert_eq!(lines[0]["verdict"], "ok");
    assert_eq!(lines[0]["nodes"], 3);
    assert_eq!(lines[1]["verdict"], "invalid");
    assert!(lines[1]["message"]
        .as_str()
        .unwrap()
        .contains("invalid MAC"));
    let list = netspec(&["list", "scenarios", "--format", "json"]);
    assert_eq!(list.status.code(), Some(0));
    let first: serde_json::Value =
        serde_json::from_str(text(&list.stdout).lines().next().unwrap()).unwrap();
    assert!(first["scenario"].is_string() && first["description"].is_string());

    let coloured = |env: &[(&str, &str)]| {
        let mut c = Command::new(netspec_exe());
        c.current_dir(project_root())
            .args(["check", "scenarios/seed/bridge.yaml"]);
        c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            c.env(k, v);
        }
        text(&c.output().unwrap().stdout).contains("\x1b[")
    };
    assert!(!coloured(&[]), "piped: plain");
    assert!(coloured(&[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "0")]));
    assert!(
        !coloured(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        "NO_COLOR wins"
    );
}

#[test]
fn a_folder_inside_scenarios_runs_under_the_suites_names_and_snapshots() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let out = Command::new(netspec_exe())
        .current_dir(project_root())
        .env("CI", "true")
        .args(["test", "scenarios/seed", "--exact", "seed/bridge"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("test seed/bridge ... ok"), "{stdout}");
    assert!(stdout.contains(" 1 passed; 0 failed;"), "{stdout}");
}

#[test]
fn a_failing_trial_says_its_failing_step_on_one_error_line_for_nextests_junit() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let out = Command::new(netspec_exe())
        .current_dir(project_root())
        .env("CI", "true")
        .args(["test", "tests/wrong", "--exact", "ping-reachable"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(101),
        "{}{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.lines().any(|l| l.starts_with(
            "Error: scenario ping-reachable failed at step 2 (ping net1 -> 10.100.0.99)"
        )),
        "{stderr}"
    );
}

#[test]
fn the_binary_writes_its_completions_and_its_manual_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = netspec(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["netspec", "pause-on-failure", "up", "down"] {
            assert!(script.contains(word), "{shell} completions lack {word:?}");
        }
    }
    let man = netspec(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = text(&man.stdout);
    assert!(page.contains(".TH netspec 1"), "{page}");
    for word in ["run", "reap", "up", "completions"] {
        assert!(page.contains(word), "the manual page lacks {word:?}");
    }
    assert_eq!(netspec(&["completions", "nosh"]).status.code(), Some(2));
}

#[test]
fn usage_errors_exit_two_with_a_message() {
    for args in [
        &["bogus"][..],
        &["run"],
        &["run", "--no-such-flag", "scenarios/seed/bridge.yaml"],
        &["check", "scenarios/seed/bridge.yaml", "--verbose"],
        &["run", "no/such/file.yaml"],
        &["test", "/no/such/dir"],
        &["test", "harness/src"],
        &["list", "/no/such/dir"],
    ] {
        let out = netspec(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("error"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn check_and_list_need_no_root() {
    let out = netspec(&[
        "check",
        "scenarios/seed/bridge.yaml",
        "scenarios/seed/arp.yaml",
    ]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("seed/bridge: ok ("));
    let out = netspec(&["check", "scenarios/invalid/bad-mac.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let out = netspec(&["list", "scenarios", "--format", "markdown"]);
    assert!(out.status.success());
    let list = text(&out.stdout);
    assert!(
        list.contains("\n| scenario | description |\n|---|---|\n"),
        "{list}"
    );
    assert!(
        list.contains("| [`seed/bridge`](seed/bridge.yaml) | Two namespaces reach each other"),
        "{list}"
    );
    assert!(
        !list.contains("invalid/"),
        "the bad-input corpus is not a scenario"
    );
    let readme = project_root().join("scenarios/README.md");
    assert!(
        std::fs::read_to_string(readme).unwrap() == list,
        "scenarios/README.md is stale: run `cargo run -p netspec -- list scenarios --format markdown > scenarios/README.md`"
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    root();
    let mut child = Command::new(netspec_exe())
        .args([
            "run",
            "scenarios/seed/veth-pair.yaml",
            "scenarios/seed/bridge-sh.yaml",
        ])
        .current_dir(project_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then hang up, as `| head -1` does.
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 8];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn several_files_end_with_a_summary_and_the_worst_exit() {
    root();
    let out = netspec(&[
        "run",
        "--color",
        "never",
        "tests/cli/passes.yaml",
        "tests/cli/fails.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n1 passed, 1 failed, 0 skipped ["),
        "{stdout}"
    );
    let out = netspec(&[
        "run",
        "--fail-fast",
        "--color",
        "never",
        "tests/cli/fails.yaml",
        "tests/cli/passes.yaml",
    ]);
    assert!(
        text(&out.stdout).contains("0 passed, 1 failed, 0 skipped, 1 file not run (--fail-fast)")
    );
    let out = netspec(&["run", "--color", "always", "tests/cli/passes.yaml"]);
    assert!(
        text(&out.stdout).contains("\x1b[32mok"),
        "colour when asked"
    );
    let out = netspec(&["run", "tests/cli/passes.yaml"]);
    assert!(!text(&out.stdout).contains('\x1b'), "no colour into a pipe");
}

/// Times and durations change from run to run; everything else is golden.
fn normalize(s: &str) -> String {
    let re = regex::Regex::new(
        r#"("duration_ms":)[0-9.]+|time="[0-9.]+"|rtt min/avg/max [0-9./ ms]+|\[[0-9.]+ ms\]|this report: [^"<]+|("kernel":)"[^"]*"|(name="kernel" value=)"[^"]*"|(kernel:   )[^\n"\\]+"#,
    )
    .unwrap();
    re.replace_all(s, |c: &regex::Captures| match c.get(1) {
        Some(k) => format!("{}N", k.as_str()),
        // The kernel is the machine's (or the VM's).
        None if c.get(2).is_some() => format!("{}\"K\"", &c[2]),
        None if c.get(3).is_some() => format!("{}\"K\"", &c[3]),
        None if c.get(4).is_some() => format!("{}K", &c[4]),
        None if c[0].starts_with("time") => "time=\"N\"".into(),
        None if c[0].starts_with("rtt") => "rtt N".into(),
        // The report's path depends on where the repository is.
        None if c[0].starts_with("this report") => "this report: PATH".into(),
        None => "[N ms]".into(),
    })
    .into_owned()
}

#[test]
fn json_and_junit_results_match_their_golden_files() {
    root();
    let junit = std::env::temp_dir().join(format!("netspec-cli-{}.xml", std::process::id()));
    let out = netspec(&[
        "run",
        "--format",
        "json",
        "--junit",
        junit.to_str().unwrap(),
        "tests/cli/passes.yaml",
        "tests/cli/fails.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json = text(&out.stdout);
    // Every line keeps the contract in docs/output.schema.json.
    let schema_text =
        std::fs::read_to_string(project_root().join("docs/output.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let contract = jsonschema::validator_for(&schema).unwrap();
    let mut types = Vec::new();
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = contract.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
        types.push(v["type"].as_str().unwrap().to_string());
    }
    assert_eq!(types.first().map(String::as_str), Some("start"));
    assert_eq!(types.last().map(String::as_str), Some("summary"));
    assert_eq!(types.iter().filter(|t| *t == "scenario").count(), 2);
    // A line that breaks it is caught: the check can fail.
    let broken = serde_json::json!({"type": "step", "version": 1});
    assert!(!contract.is_valid(&broken));
    let xml = std::fs::read_to_string(&junit).unwrap();
    std::fs::remove_file(&junit).unwrap();
    // Before the goldens hide it: the results name the kernel that gave them.
    let release =
        String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout).unwrap();
    let release = release.trim();
    assert!(
        json.contains(&format!("\"kernel\":\"{release}\"")),
        "{json}"
    );
    assert!(xml.contains(&format!("<property name=\"kernel\" value=\"{release}\"/>")));
    assert!(
        json.contains(&format!("kernel:   {release}\\n")),
        "the failure names it"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(project_root().join("snapshots/cli"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("results.jsonl", normalize(&json));
        insta::assert_snapshot!("results.junit.xml", normalize(&xml));
    });
}

#[test]
fn the_topology_picture_matches_its_golden_files_and_the_readme() {
    let mermaid = netspec(&["graph", "scenarios/seed/bridge.yaml"]);
    assert!(mermaid.status.success(), "{}", text(&mermaid.stderr));
    let dot = netspec(&["graph", "--format", "dot", "scenarios/seed/bridge.yaml"]);
    assert!(dot.status.success());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(project_root().join("snapshots/cli"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("graph.mmd", text(&mermaid.stdout));
        insta::assert_snapshot!("graph.dot", text(&dot.stdout));
    });
    // The README shows this very picture.
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let block = format!("```mermaid\n{}```", text(&mermaid.stdout));
    assert!(
        readme.contains(&block),
        "README.md lacks the seed's picture:\n{block}"
    );
}

#[test]
fn junit_never_overwrites_a_file_that_is_not_its_own() {
    let dir = std::env::temp_dir().join(format!("netspec-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = dir.join("link.xml");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for target in [&victim, &link] {
        // A file that does not load exits early, but the report is still written.
        let out = netspec(&[
            "run",
            "--junit",
            target.to_str().unwrap(),
            "scenarios/invalid/bad-mac.yaml",
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("netspec overwrites only its own"),
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // Its own earlier report it replaces.
    let own = dir.join("junit.xml");
    for _ in 0..2 {
        let out = netspec(&[
            "run",
            "--junit",
            own.to_str().unwrap(),
            "scenarios/invalid/bad-mac.yaml",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("cannot write"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(std::fs::read_to_string(&own)
        .unwrap()
        .contains("<error message="));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explore_refuses_what_it_cannot_draw() {
    root();
    for args in [
        &["explore", "--count", "0"][..],
        &["explore", "--size", "1"],
        &["explore", "--size", "13"],
        &["explore", "--jobs", "0"],
        &["explore", "--seed", "-1"],
    ] {
        let out = netspec(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// A scratch folder of scenarios: two files that share one `name:`, and symlinks to
/// `.` and to the parent, which once made `list` and `test` loop.
fn crowded_folder() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("netspec-crowded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("scenarios/sub")).unwrap();
    let one = "name: same\nnodes:\n  a: {}\n";
    std::fs::write(d.join("scenarios/one.yaml"), one).unwrap();
    std::fs::write(d.join("scenarios/sub/two.yaml"), one).unwrap();
    std::os::unix::fs::symlink(".", d.join("scenarios/sub/again")).unwrap();
    std::os::unix::fs::symlink("..", d.join("scenarios/sub/up")).unwrap();
    d
}

#[test]
fn two_scenarios_of_one_name_are_refused_and_folder_links_are_not_followed() {
    let d = crowded_folder();
    let dir = d.join("scenarios");
    let list = Command::new(netspec_exe())
        .args(["list"])
        .arg(&dir)
        .output()
        .unwrap();
    let (out, err) = (text(&list.stdout), text(&list.stderr));
    assert_eq!(
        out.matches("same").count(),
        1,
        "each file once:\n{out}{err}"
    );
    assert!(
        err.contains("scenario name `same` of")
            && err.contains("their reports and snapshots would overwrite each other"),
        "{err}"
    );
    assert!(!list.status.success());
    let check = Command::new(netspec_exe())
        .arg("check")
        .arg(dir.join("one.yaml"))
        .arg(dir.join("sub/two.yaml"))
        .output()
        .unwrap();
    assert!(!check.status.success(), "{}", text(&check.stdout));
    assert!(text(&check.stderr).contains("is already the name of"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_readme_names_every_feature_requires_takes() {
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let at = readme
        .find("`requires: [")
        .expect("the README documents requires");
    let para = &readme[at..at + 600];
    for name in netspec::features::KNOWN {
        assert!(
            para.contains(&format!("`{name}`")),
            "README's requires list lacks {name}"
        );
    }
}
