//! `cargo bench -p netspec --bench services`: what a step inside a node costs. A TCP
//! connect with 1 KB echoed and closed, a UDP echo, an `exec` of /bin/true, loading a
//! 20-rule nft ruleset and a 20-rule iptables ruleset at runtime, and reading a counter.
//! Timed per step by the run itself (the report's step times), in process, release
//! build. A benchmark, not a test: it prints figures and asserts only that the runs pass.
//! Needs root, nft and iptables-restore.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

const ROUNDS: usize = 200;

/// Rulesets are loaded each into a node of its own, as a topology loads them: a node's
/// first ruleset meets an empty kernel table. (A runtime `flush` costs the kernel an RCU
/// grace period, 5-10 ms, which would hide the tool's own cost.)
const RULESETS: usize = 20;

fn scenario() -> String {
    let mut s = String::from(
        "nodes:\n  a:\n    interfaces:\n      eth0: { peer: b:eth0, addresses: [10.1.0.1/24] }\n  b:\n    interfaces:\n      eth0: { addresses: [10.1.0.2/24] }\n",
    );
    for t in 0..RULESETS {
        let _ = writeln!(s, "  nft{t}: {{}}\n  ipt{t}: {{}}");
    }
    s += "listen:\n  - { node: b, port: 80 }\n  - { node: b, port: 53, proto: udp }\nsteps:\n";
    for _ in 0..ROUNDS {
        s += "  - connect: { from: a, to: b:eth0, port: 80, send: 1024 }\n";
        s += "  - connect: { from: a, to: b:eth0, port: 53, proto: udp, send: 1024 }\n";
        s += "  - exec: { node: a, cmd: [/bin/true] }\n";
    }
    for t in 0..RULESETS {
        s += &format!("  - netfilter:\n      node: nft{t}\n      nftables: |\n        table inet t {{\n          chain c {{\n            type filter hook input priority 0;\n");
        for r in 0..20 {
            let _ = writeln!(
                s,
                "            tcp dport {} counter accept comment \"r{r}\"",
                1000 + r
            );
        }
        s += "          }\n        }\n";
        let _ = write!(
            s,
            "  - netfilter:\n      node: ipt{t}\n      iptables: |\n        *filter\n"
        );
        for r in 0..20 {
            let _ = writeln!(
                s,
                "        -A INPUT -p tcp --dport {} -m comment --comment r{r} -j ACCEPT",
                2000 + r
            );
        }
        s += "        COMMIT\n";
        let _ = writeln!(
            s,
            "  - check:\n      counter: {{ node: nft{t}, rule: r0, packets: 0 }}"
        );
    }
    s
}

fn median_ms(mut v: Vec<Duration>) -> (f64, f64, usize) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[v.len() * 9 / 10]), v.len())
}

fn main() {
    if let Some(why) = netspec::missing_privileges() {
        eprintln!("skipped: {why}");
        return;
    }
    let sc = netspec::load_str(Path::new("services.yaml"), "bench-services", &scenario())
        .unwrap_or_else(|e| panic!("{e}"));
    let report = match netspec::run(&sc, &netspec::RunOptions::default()) {
        netspec::Outcome::Passed(r) => r,
        other => panic!("the benchmark scenario must pass: {other}"),
    };
    let kinds = [
        ("TCP connect + 1 KB echo + close", "tcp/80"),
        ("UDP 1 KB echo", "udp/53"),
        ("exec /bin/true", "exec a"),
        ("nft ruleset, 20 rules (runtime step)", "nftables rules"),
        (
            "iptables-restore, 20 rules (runtime step)",
            "iptables rules",
        ),
        ("counter check (nft list ruleset)", "check counter"),
    ];
    println!("| step | runs | median ms | p90 ms |");
    println!("|---|---:|---:|---:|");
    for (name, key) in kinds {
        let times: Vec<Duration> = report
            .steps
            .iter()
            .filter(|s| s.title.contains(key))
            .map(|s| s.elapsed)
            .collect();
        let (med, p90, n) = median_ms(times);
        println!("| {name} | {n} | {med:.3} | {p90:.3} |");
    }
}
