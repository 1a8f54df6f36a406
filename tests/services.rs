//! Commands, listeners and rules at their edges: a refused rule names its node and its
//! line in the YAML; a command past its time bound is killed with everything it started;
//! a background command ends at teardown; commands never run in the machine's own
//! namespace. Needs root.

mod common;

use std::path::Path;

use common::{failure, outcome, PAIR};
use netspec::{run, Outcome, RunOptions};

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
    // A block that starts with a blank line: once one line off.
    let src = src.replace("nftables: |\n", "nftables: |\n\n");
    let msg = failure("nft-refused-blank", &src);
    let line = src.lines().position(|l| l.contains("bogus")).unwrap() + 1;
    assert!(
        msg.contains(&format!("t.yaml:{line}: node b refused the rules")),
        "{msg}"
    );
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
    // The node's links in /sys and in netlink, its own PID namespace (PID 1 is netspec's
    // init, the command PID 2), no /run/netns.
    let src = format!(
        "{PAIR}steps:\n  - exec:\n      node: a\n      sh: ls /sys/class/net; ip -brief link | cut -d@ -f1 | cut -d' ' -f1; echo pid $$; ls -A /run/netns | wc -l\n      expect: {{ stdout: \"eth0\\nlo\\nlo\\neth0\\npid 2\\n0\" }}\n"
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

/// Runs `src` on a thread of its own, so that a hang fails this test instead of hanging it.
fn outcome_within(name: &'static str, src: String, bound: std::time::Duration) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(outcome(name, &src));
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|_| panic!("{name} still ran after {bound:?}: its time bound did not hold"))
}

#[test]
fn a_command_has_its_own_hostname_and_ipc_and_cannot_change_the_machines() {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    let src = format!(
        "{PAIR}steps:\n  - exec:\n      node: a\n      sh: hostname; hostname changed-by-netspec-test; hostname; readlink /proc/self/ns/ipc\n      expect: {{ stdout: {{ regex: \"^a\\nchanged-by-netspec-test\\nipc:\" }} }}\n"
    );
    let out = outcome("exec-uts", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host,
        "the machine's hostname changed"
    );
    // The command's IPC namespace was a new one.
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: readlink /proc/self/ns/ipc, expect: {{ stdout: {:?} }} }}\n",
        ipc.to_string_lossy()
    );
    assert!(matches!(outcome("exec-ipc", &src), Outcome::Failed(_)));
}

#[test]
fn unmounting_proc_reveals_nothing_of_the_host() {
    // Under the node's /proc there is no host /proc: a command that unmounts it sees an
    // empty directory, and cannot name the machine's namespace to move a link into it.
    let src = format!(
        "{PAIR}steps:\n  - exec:\n      node: a\n      sh: umount /proc; umount /sys; echo proc $(ls -A /proc | wc -l) sys $(ls -A /sys | wc -l); ip link set eth0 netns /proc/1/ns/net\n      expect: {{ stdout: \"proc 0 sys 0\", exit: 255 }}\n  - check: {{ link: {{ dev: a:eth0, state: up }} }}\n"
    );
    let out = outcome("exec-proc", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
}

#[test]
fn a_stdout_handed_to_a_daemon_does_not_defeat_the_bound() {
    // The daemon takes the command's stdout over an abstract unix socket (per node) and
    // keeps it open forever; the step must still end, and say why it is incomplete.
    let daemon = "import socket,time\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind('\\0netspec-hold')\nm,fds,f,a=socket.recv_fds(s,16,4)\ntime.sleep(1000)\n";
    let sender = "import socket,time\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\nfor i in range(200):\n  try:\n    s.connect('\\0netspec-hold'); socket.send_fds(s,[b'x'],[1]); break\n  except OSError: time.sleep(0.01)\nprint('handed over')\n";
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, cmd: [python3, -c, {daemon:?}], background: true }}\n  - exec: {{ node: a, cmd: [python3, -c, {sender:?}], expect: {{ stdout: handed over }} }}\n    timeout: 5s\n"
    );
    let msg = match outcome_within("exec-held", src, std::time::Duration::from_secs(30)) {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("must fail, but: {other}"),
    };
    assert!(
        msg.contains("stdout was still held open by another process after it ended"),
        "{msg}"
    );
}

#[test]
fn output_is_judged_whole_or_said_to_be_cut() {
    // Past 64 KiB: still matched.
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: \"head -c 100000 /dev/zero | tr '\\\\\\\\0' a; echo; echo END\", expect: {{ stdout: {{ contains: END }} }} }}\n"
    );
    let out = outcome("exec-long", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    // Past what is kept: never judged on a part, and said so.
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: \"head -c 9000000 /dev/zero | tr '\\\\\\\\0' a\", expect: {{ stdout: {{ regex: \"^a+$\" }} }} }}\n"
    );
    let msg = failure("exec-cut", &src);
    assert!(
        msg.contains(
            "its stdout was cut: 9000000 bytes, of which only the first 8388608 were kept"
        ),
        "{msg}"
    );
}

#[test]
fn control_bytes_from_a_command_are_escaped() {
    let src = format!(
        "{PAIR}steps:\n  - exec: {{ node: a, sh: \"printf 'x\\\\033[2Jy\\\\007'\", expect: {{ stdout: z }} }}\n"
    );
    let msg = failure("exec-esc", &src);
    assert!(msg.contains("x\\u{1b}[2Jy\\u{7}"), "{msg}");
    assert!(
        !msg.contains('\u{1b}'),
        "a raw ESC reached the report:\n{msg}"
    );
}

#[test]
fn a_listener_serves_a_bounded_number_of_connections() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    // 300 clients connect and stay: the listener must not start a thread for each.
    let client = "import socket,time\nc=[]\nfor i in range(300):\n  s=socket.socket(); s.connect(('10.1.0.2',80)); c.append(s)\nprint('connected', flush=True)\ntime.sleep(1000)\n";
    let src = format!(
        "{PAIR}listen:\n  - {{ node: b, port: 80 }}\nsteps:\n  - exec: {{ node: a, cmd: [python3, -c, {client:?}], background: true }}\n  - sleep: 1s\n  - sleep: 10ms\n"
    );
    let sc = netspec::load_str(Path::new("t.yaml"), "listener-cap", &src).unwrap();
    let mut echo_threads = None;
    let out = netspec::run_with_hook(&sc, &RunOptions::default(), |step| {
        if step.index == 3 {
            let n = std::fs::read_dir("/proc/self/task")
                .unwrap()
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "netspec-echo")
                })
                .count();
            echo_threads = Some(n);
        }
    });
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    let n = echo_threads.expect("the hook ran");
    assert!(n > 0, "the clients were served");
    assert!(n <= 64, "{n} connection threads for one listener");
}

const TRACED: &str = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.1.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.1.0.2/24] }
    iptables: |
      *raw
      -A PREROUTING -j NFLOG --nflog-group 7
      COMMIT
listen:
  - { node: b, port: 80 }
";

#[test]
fn a_trace_keeps_up_with_200_pings_and_names_tcp_flags() {
    // 200 requests once overflowed the NFLOG socket (ENOBUFS) and failed the step.
    let src = format!(
        "{TRACED}steps:\n  - ping: {{ from: a, to: b:eth0, count: 200, trace: {{ node: b, group: 7, expect: [TYPE=8 CODE=0] }} }}\n  - connect: {{ from: a, to: b:eth0, port: 80, trace: {{ node: b, group: 7, expect: [PROTO=TCP DPT=80 SYN, PROTO=TCP DPT=80 ACK] }} }}\n"
    );
    let out = outcome("trace-200", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    // A SYN is not an ACK: the same trace asking for a RST fails.
    let wrong = src.replace("DPT=80 ACK]", "DPT=80 RST]");
    let msg = failure("trace-rst", &wrong);
    assert!(msg.contains("SYN"), "{msg}");
}

#[test]
fn connect_takes_any_errno_name_the_platform_knows() {
    // An ICMP protocol unreachable ends a UDP exchange in ENOPROTOOPT, once refused as
    // an unknown outcome.
    let src = format!(
        "{PAIR}    nftables: |\n      table ip f {{\n        chain input {{\n          type filter hook input priority 0;\n          udp dport 9 reject with icmp type prot-unreachable\n        }}\n      }}\nsteps:\n  - connect: {{ from: a, to: b:eth0, port: 9, proto: udp, timeout: 1s, expect: ENOPROTOOPT }}\n"
    );
    let out = outcome("connect-enoprotoopt", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    // And a wrong name still fails, naming what happened.
    let msg = failure(
        "connect-wrong-errno",
        &src.replace("expect: ENOPROTOOPT", "expect: EHOSTUNREACH"),
    );
    assert!(msg.contains("ENOPROTOOPT"), "{msg}");
}
