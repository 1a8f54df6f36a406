//! What the in-process scenario tests share: a two-node topology, and running a
//! scenario written inline. Needs root (each test says so when it lacks it).

#![allow(dead_code)] // each test file uses its own part of it

use std::path::Path;

use netspec::{load_str, run, Outcome, RunOptions};

/// Two nodes joined by a veth pair: a (10.1.0.1) and b (10.1.0.2).
pub(crate) const PAIR: &str = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.1.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.1.0.2/24] }
";

/// Loads `src` (as `t.yaml`, named `name`) and runs it.
pub(crate) fn outcome(name: &str, src: &str) -> Outcome {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let sc = load_str(Path::new("t.yaml"), name, src).unwrap_or_else(|e| panic!("{e}"));
    run(&sc, &RunOptions::default())
}

/// The failure report of a scenario that must fail.
pub(crate) fn failure(name: &str, src: &str) -> String {
    match outcome(name, src) {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("{name} must fail, but: {other}"),
    }
}
