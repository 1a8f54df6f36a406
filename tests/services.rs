//! Commands, listeners and rules at their edges: a refused rule names its node and its
//! line in the YAML; a command past its time bound is killed with everything it started;
//! a background command ends at teardown; commands never run in the machine's own
//! namespace. Needs root.

use std::path::Path;

use netspec::{load_str, run, Outcome, RunOptions};

const PAIR: &str = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.1.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.1.0.2/24] }
";

fn outcome(name: &str, src: &str) -> Outcome {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let sc = load_str(Path::new("t.yaml"), name, src).unwrap_or_else(|e| panic!("{e}"));
    run(&sc, &RunOptions::default())
}

fn failure(name: &str, src: &str) -> String {
    match outcome(name, src) {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("{name} must fail, but: {other}"),
    }
}

/// Processes whose command line is exactly `argv`.
fn processes(argv: &[&str]) -> usize {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| p.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|p| std::fs::read(p.path().join("cmdline")).unwrap_or_default() == want)
        .count()
}

#[test]
fn a_refused_nft_rule_names_the_node_and_the_yaml_line() {
    let src = format!(
        "{PAIR}    nftables: |\n      table inet f {{\n        chain c {{\n          type filter hook input priority 0;\n          bogus rule here\n        }}\n      }}\n"
    );
    let msg = failure("nft-refused", &src);
    let line = src.lines().position(|l| l.contains("bogus")).unwrap() + 1;
    for want in [
        "expected: the topology to build".to_string(),
        format!("t.yaml:{line}: node b refused the rules: nft ("),
        "line 4:11-14: Error: syntax error".to_string(),
    ] {
        assert!(msg.contains(&want), "lacks {want:?}:\n{msg}");
    }
}

#[test]
fn a_refused_iptables_line_names_the_yaml_line() {
    let src = format!(
        "{PAIR}steps:\n  - netfilter:\n      node: a\n      iptables: |\n        *filter\n        -A INPUT -j NOSUCHCHAIN\n        COMMIT\n"
    );
    let msg = failure("iptables-refused", &src);
    let line = src.lines().position(|l| l.contains("NOSUCHCHAIN")).unwrap() + 1;
    assert!(
        msg.contains(&format!(
            "t.yaml:{line}: node a refused the rules: iptables-restore"
        )),
        "{msg}"
    );
    // The step's `error:` turns the refusal into the expectation.
    let src = src.replace("node: a\n", "node: a\n      error: NOSUCHCHAIN\n");
    assert!(matches!(
        outcome("iptables-refused-expected", &src),
        Outcome::Passed(_)
    ));
}

#[test]
fn a_command_past_its_bound_dies_with_everything_it_started() {
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: \"sleep 961 & sleep 962\" }}\n    timeout: 200ms\n"
    );
    let msg = failure("exec-timeout", &src);
    assert!(msg.contains("timed out"), "{msg}");
    assert_eq!(
        processes(&["sleep", "961"]),
        0,
        "the command's child was killed"
    );
    assert_eq!(processes(&["sleep", "962"]), 0);
}

#[test]
fn a_background_command_ends_at_teardown() {
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: b, cmd: [sleep, \"963\"], background: true }}\n  - exec: {{ node: a, sh: \"pgrep -x sleep\", expect: {{ stdout: \"\" , exit: 1 }} }}\n"
    );
    assert!(matches!(outcome("background", &src), Outcome::Passed(_)));
    assert_eq!(processes(&["sleep", "963"]), 0);
}

#[test]
fn a_command_sees_its_node_not_the_host() {
    // The node's links in /sys and in netlink, its own PID namespace, no /run/netns.
    let src = format!(
        "{PAIR}steps:\n  - exec:\n      node: a\n      sh: ls /sys/class/net; ip -brief link | cut -d@ -f1 | cut -d' ' -f1; echo pid $$; ls -A /run/netns | wc -l\n      expect: {{ stdout: \"eth0\\nlo\\nlo\\neth0\\npid 1\\n0\" }}\n"
    );
    match outcome("exec-view", &src) {
        Outcome::Passed(_) => {}
        other => panic!("{other}"),
    }
}

#[test]
fn a_daemon_that_dies_at_once_fails_its_step() {
    // It dies before teardown: either its step or teardown notices.
    let src = format!("{PAIR}steps:\n  - exec: {{ node: a, sh: \"echo no >&2; exit 2\", background: true }}\n  - sleep: 100ms\n");
    let msg = failure("daemon-dies", &src);
    assert!(
        msg.contains("to keep running in the background") || msg.contains("to run until teardown"),
        "{msg}"
    );
    assert!(msg.contains("exit 2"), "{msg}");
    assert!(msg.contains("no"), "{msg}");
}

#[test]
fn a_command_starts_with_default_signals() {
    // Rust ignores SIGPIPE; a command must not inherit that, nor a blocked mask.
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: \"grep -E 'SigIgn|SigBlk' /proc/self/status\", expect: {{ stdout: \"SigBlk:\\t0000000000000000\\nSigIgn:\\t0000000000000000\" }} }}\n"
    );
    match outcome("exec-signals", &src) {
        Outcome::Passed(_) => {}
        other => panic!("{other}"),
    }
}

#[test]
fn a_matrix_gives_one_trial_per_value_and_each_can_fail_alone() {
    let dir = std::env::temp_dir().join(format!("netspec-matrix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mtu.yaml");
    // 1400-byte pings with DF fit an MTU of 1500 and not one of 1280: one trial fails.
    let src = format!(
        "matrix:\n  mtu: [1500, 1280]\n{}steps:\n  - link: {{ set: a:eth0, mtu: \"${{mtu}}\" }}\n  - ping: {{ from: a, to: b:eth0, size: 1400, df: true }}\n",
        PAIR.trim_start_matches('\n')
    );
    std::fs::write(&file, src).unwrap();
    let all = netspec::load_variants(&dir, &file).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    // In the order the values are written.
    assert_eq!(names, ["mtu[mtu=1500]", "mtu[mtu=1280]"]);
    let verdicts: Vec<String> = all
        .iter()
        .map(|sc| run(sc, &RunOptions::default()).to_string())
        .collect();
    assert!(verdicts[0].starts_with("ok:"), "{}", verdicts[0]);
    assert!(
        verdicts[1].contains("scenario mtu[mtu=1280] failed at step 2"),
        "{}",
        verdicts[1]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
