//! CNI plugins that misbehave on purpose (tests/cni/plugins): a result the kernel does
//! not have fails the step; a plugin that hangs is killed at the step's bound with what
//! it started; an answer cut at netspec's limit fails as cut; a plugin sees no /run of
//! the machine's. And without the tools, the scenarios are skipped, naming the package.
//! Needs root.

use std::path::Path;
use std::time::{Duration, Instant};

use netspec::{load_file, run, Outcome, RunOptions};

fn outcome(name: &str) -> Outcome {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let dir = Path::new("tests/cni");
    let sc = load_file(dir, &dir.join(format!("{name}.yaml"))).unwrap_or_else(|e| panic!("{e}"));
    run(&sc, &RunOptions::default())
}

#[test]
fn misbehaving_plugins_get_honest_verdicts() {
    // One test, so that the variables are set before any tool is looked up.
    std::env::set_var("NETSPEC_CNI_PATH", "/nonexistent");
    std::env::set_var("NETSPEC_NETAVARK", "/nonexistent/netavark");
    for (file, package) in [
        (
            "scenarios/cni/check-del.yaml",
            "(Debian package containernetworking-plugins",
        ),
        ("scenarios/netavark/bridge.yaml", "(Debian package netavark"),
    ] {
        let sc = load_file(Path::new("scenarios"), Path::new(file)).unwrap();
        match run(&sc, &RunOptions::default()) {
            Outcome::Skipped(s) => assert!(s.reason.contains(package), "{}", s.reason),
            other => panic!("{file} without its tool must be skipped, but: {other}"),
        }
    }
    std::env::remove_var("NETSPEC_NETAVARK");
    let plugins = std::fs::canonicalize("tests/cni/plugins").unwrap();
    std::env::set_var("NETSPEC_CNI_PATH", plugins);

    let liar = match outcome("liar") {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("a result the kernel lacks must fail the step, but: {other}"),
    };
    for part in [
        "actual:   succeeded: interfaces [eth0 in c1]; ips [10.99.0.2/24 gw 10.99.0.1]",
        "the kernel disagrees with the result: address 10.99.0.2/24 is not on c1:eth0; route 0.0.0.0/0 via 10.99.0.1 is not in c1's main table",
    ] {
        assert!(liar.contains(part), "lacks {part:?}:\n{liar}");
    }

    let started = Instant::now();
    let sleeper = match outcome("sleeper") {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("a plugin that hangs must fail the step, but: {other}"),
    };
    assert!(
        sleeper.contains("plugin `sleeper` timed out (killed), with everything it started"),
        "{sleeper}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "bounded");
    assert_eq!(
        netspec::leaks::sleepers(&["9771", "9781"]),
        Vec::<u32>::new(),
        "the plugin's own child outlived it"
    );

    let flood = match outcome("flood") {
        Outcome::Failed(f) => f.to_string(),
        other => panic!("an answer cut at netspec's limit must fail: {other}"),
    };
    assert!(
        flood.contains(
            "plugin `flood` printed 9000000 bytes, of which only the first 8388608 were kept"
        ),
        "{flood}"
    );

    match outcome("snoop") {
        Outcome::Passed(_) => {}
        other => panic!("a plugin must see an empty /run and the run's folder: {other}"),
    }
}
