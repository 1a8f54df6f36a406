//! `cargo bench -p netspec --bench events`: how soon a `within` check passes after the
//! kernel event that satisfies it. A route check waits for a route that another
//! thread adds 1-4 ms later over its own netlink socket; each sample runs from just
//! before that request is sent to the check's verdict. Needs root. A benchmark, not a
//! test: it prints figures and fails only when a round's check does not pass.

use std::time::Duration;

fn main() {
    if !nix_is_root() {
        eprintln!("the events bench needs root (it builds namespaces)");
        std::process::exit(1);
    }
    let rounds = 500;
    let latency = match netspec::bench_support::within_latency(rounds) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("events bench: {e}");
            std::process::exit(1);
        }
    };
    println!("| what | rounds | min µs | median µs | p90 µs | p99 µs | max µs |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    row(
        "route added -> `within` check passed",
        latency.event_to_verdict,
    );
    row(
        "the same check with the route there (one look)",
        latency.one_look,
    );
    row(
        "route added -> netspec's event wait returned (no look)",
        latency.event_to_wake,
    );
}

fn row(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(samples[((samples.len() - 1) as f64 * q) as usize]);
    println!(
        "| {what} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
        samples.len(),
        at(0.0),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
