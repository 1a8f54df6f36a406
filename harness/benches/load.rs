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

/// Flow collections nested `depth` deep, repeated up to `bytes`.
fn nested(depth: usize, bytes: usize) -> String {
    let mut s = String::from("nodes: {}\nsteps:\n");
    let one = format!("  - sleep: 1ms\n    name: \"{}\"\n", "x".repeat(8));
    let deep = format!("description: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    s.push_str(&deep);
    while s.len() + one.len() < bytes {
        s.push_str(&one);
    }
    s
}

/// The biggest matrix file netspec expands: 64 trials of 64 KiB.
fn matrix_at_the_bound() -> String {
    let mut s = String::from(
        "matrix:\n  a: [0, 1, 2, 3, 4, 5, 6, 7]\n  b: [0, 1, 2, 3, 4, 5, 6, 7]\nnodes:\n  n${a}x${b}: {}\nsteps:\n",
    );
    while s.len() + 16 < (64 << 10) - 64 {
        s += "  - sleep: 1ms\n";
    }
    s
}

/// The median time of `runs` loads of `src`, from a file (a matrix expands from there).
fn median_of_file(runs: usize, src: &str, ok: bool) -> Duration {
    let dir = std::env::temp_dir().join(format!("netspec-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.yaml");
    std::fs::write(&file, src).unwrap();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            let r = netspec::load_variants(&dir, &file);
            let t = t0.elapsed();
            assert_eq!(r.is_ok(), ok, "{:?}", r.err().map(|e| e.to_string()));
            t
        })
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    times.sort();
    times[runs / 2]
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
    // The worst cases of each kind: what loads at the bounds, and what is refused.
    for (what, src, ok) in [
        (
            "4 MB, flow nesting 64 deep (the depth limit; parsed, then refused: no key takes it)",
            nested(64, (4 << 20) - 64),
            false,
        ),
        (
            "4 MB, flow nesting 80,000 deep (refused)",
            nested(80_000, (4 << 20) - 64),
            false,
        ),
        (
            "matrix: 64 trials of 64 KB (the expansion limit, 4 MB in all)",
            matrix_at_the_bound(),
            true,
        ),
        (
            "matrix: 64 trials of 4 MB (refused)",
            {
                let mut m = matrix_at_the_bound();
                while m.len() + 16 < (4 << 20) - 64 {
                    m += "  - sleep: 1ms\n";
                }
                m
            },
            false,
        ),
    ] {
        let t = median_of_file(3, &src, ok);
        println!(
            "| {what} | {} | {:.1} |",
            src.len(),
            t.as_secs_f64() * 1000.0
        );
    }
}
