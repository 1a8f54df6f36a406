//! `cargo bench -p netspec --bench cni`: what netspec adds to a CNI plugin's own time.
//! ROUNDS pairs of ADD and DEL of one container on a bridge + host-local network. For
//! each step, the report gives the step's time and, in its detail, how long the plugin
//! processes ran (start to exit); the difference is netspec's own cost: building the
//! config, starting the plugin under its init, reading the result, and, for ADD, checking
//! the result against the kernel. A benchmark, not a test: it prints figures and asserts
//! only that the run passes. Needs root and the CNI plugins.

use std::path::Path;
use std::time::Duration;

const ROUNDS: usize = 100;

fn scenario() -> String {
    let mut s = String::from(
        "cni:\n  net:\n    cniVersion: 1.0.0\n    type: bridge\n    bridge: cni0\n    isGateway: true\n    ipam: { type: host-local, ranges: [[{ subnet: 10.50.0.0/16 }]], routes: [{ dst: 0.0.0.0/0 }] }\nnodes:\n  host:\n    interfaces:\n      cni0: { kind: bridge }\n  c1: {}\nsteps:\n",
    );
    for _ in 0..ROUNDS {
        s += "  - cni: { add: c1, network: net }\n  - cni: { del: c1, network: net }\n";
    }
    s
}

fn tool_ms(detail: &str) -> Option<f64> {
    let (_, rest) = detail.rsplit_once("the tools ran for ")?;
    rest.split_whitespace().next()?.parse().ok()
}

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() * 9 / 10])
}

fn main() {
    if let Some(why) = netspec::missing_privileges() {
        eprintln!("skipped: {why}");
        return;
    }
    let sc = netspec::load_str(Path::new("cni.yaml"), "bench-cni", &scenario())
        .unwrap_or_else(|e| panic!("{e}"));
    let report = match netspec::run(&sc, &netspec::RunOptions::default()) {
        netspec::Outcome::Passed(r) => r,
        other => {
            panic!("the benchmark scenario must pass (are the CNI plugins installed?): {other}")
        }
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| command | runs | step median ms | plugin median ms | netspec's own, median ms | p90 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut pair = vec![0.0; ROUNDS];
    for word in ["ADD", "DEL"] {
        let steps: Vec<_> = report
            .steps
            .iter()
            .filter(|s| s.title.contains(word))
            .collect();
        let total: Vec<f64> = steps.iter().map(|s| ms(s.elapsed)).collect();
        let tool: Vec<f64> = steps
            .iter()
            .map(|s| tool_ms(&s.detail).expect("tool time"))
            .collect();
        let own: Vec<f64> = total.iter().zip(&tool).map(|(t, p)| t - p).collect();
        for (p, o) in pair.iter_mut().zip(&own) {
            *p += o;
        }
        let n = steps.len();
        let (t, _) = median(total);
        let (p, _) = median(tool);
        let (o, o90) = median(own);
        println!("| {word} | {n} | {t:.2} | {p:.2} | {o:.2} | {o90:.2} |");
    }
    let (o, o90) = median(pair);
    println!("| ADD+DEL pair | {ROUNDS} | | | {o:.2} | {o90:.2} |");
}
