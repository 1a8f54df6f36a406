//! Nothing leaks: after a failing scenario and after a panicking step, this process
//! holds none of the scenario's namespaces (no thread, fd or socket in them, so the
//! kernel frees them), and the machine's own namespace is unchanged. Needs root.
//!
//! One test function, so that no other test's namespaces run in this process at the
//! same time.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use netspec::leaks::{held_namespaces, host_state, suite_interfaces, HostLock};
use netspec::{load_file, run, run_with_hook, RunOptions};

/// Waits (with a deadline, for sockets closed on background threads) until this
/// process holds exactly the namespaces it held before.
fn assert_released(before: &BTreeSet<u64>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = held_namespaces();
        if &now == before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still holding namespaces {:?}",
            now.difference(before).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn nothing_is_left_after_a_failure_or_a_panic() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let _one = HostLock::acquire().unwrap();
    let ours = suite_interfaces(&[Path::new("scenarios"), Path::new("tests")]);
    let host_before = host_state(&ours);
    let held_before = held_namespaces();
    assert_eq!(
        held_before.len(),
        1,
        "only the machine's own namespace at the start"
    );

    // A failing scenario.
    let dir = Path::new("tests/wrong");
    let sc = load_file(dir, &dir.join("arping-mac.yaml")).unwrap();
    let failure = run(&sc, &RunOptions::default())
        .failure()
        .expect("this scenario must fail");
    assert_eq!(failure.namespaces.len(), 3, "it built its three nodes");
    assert!(
        failure.namespaces.iter().all(|n| !held_before.contains(n)),
        "no node is the machine's namespace"
    );
    assert_released(&held_before, "after a failing scenario");

    // A step that panics, in the middle of a scenario with an arping socket open.
    let sc = load_file(Path::new("scenarios"), Path::new("scenarios/seed/arp.yaml")).unwrap();
    let mut during = BTreeSet::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_with_hook(&sc, &RunOptions::default(), |step| {
            if step.index == 4 {
                during = held_namespaces();
                panic!("a step panicked on purpose");
            }
        })
    }));
    assert!(panicked.is_err(), "the panic must reach the caller");
    assert_eq!(
        during.difference(&held_before).count(),
        3,
        "the three nodes were held while the scenario ran"
    );
    assert_released(&held_before, "after a panicking step");

    assert_eq!(
        host_state(&ours),
        host_before,
        "the machine's own namespace changed"
    );
}
