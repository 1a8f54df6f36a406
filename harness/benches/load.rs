//! `cargo bench -p netspec --bench load`: loading and resolving large scenarios, in
//! process (no root). A benchmark, not a test: it prints figures and asserts only that
//! each file loads. Resolving is linear in the file: names are looked up in one symbol
//! table built once.

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// `nodes` nodes in a ring of veth pairs, then `steps` pings around it.
fn ring(nodes: usize, steps: usize) -> String {
    let mut s = String::from("nodes:\n");
    for i in 0..nodes {
        let _ = write!(
            s,
            "  n{i}:\n    interfaces:\n      e0: {{ peer: n{}:e1, addresses: [10.{}.{}.1/24] }}\n      e1: {{ addresses: [10.{}.{}.2/24] }}\n",
            (i + 1) % nodes,
            i / 250,
            i % 250,
            i / 250,
            i % 250
        );
    }
    s += "steps:\n";
    for i in 0..steps {
        let a = i % nodes;
        let _ = writeln!(
            s,
            "  - ping: {{ from: n{a}, to: n{}:e1, timeout: 100ms }}",
            (a + 1) % nodes
        );
    }
    s
}

fn sleeps(bytes: usize) -> String {
    let mut s =
        String::from("nodes:\n  a:\n    interfaces:\n      e0: { peer: b:e0 }\n  b: {}\nsteps:\n");
    while s.len() + 16 < bytes {
        s += "  - sleep: 1ms\n";
    }
    s
}

fn median_of(runs: usize, src: &str) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            let sc = netspec::load_str(Path::new("big.yaml"), "big", src);
            let t = t0.elapsed();
            assert!(sc.is_ok(), "the generated file loads");
            t
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    println!("| file | bytes | median ms (5 runs) |");
    println!("|---|---:|---:|");
    for (what, src) in [
        ("ring of 100 nodes, 2,000 pings", ring(100, 2_000)),
        ("ring of 1,000 nodes, 20,000 pings", ring(1_000, 20_000)),
        ("1 MB of sleep steps", sleeps(1 << 20)),
        (
            "4 MB of sleep steps (the size limit)",
            sleeps((4 << 20) - 64),
        ),
    ] {
        let t = median_of(5, &src);
        println!(
            "| {what} | {} | {:.1} |",
            src.len(),
            t.as_secs_f64() * 1000.0
        );
    }
}
