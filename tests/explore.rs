//! `netspec explore` in the test suite: a short exploration agrees with the kernel, and
//! a bug planted in the oracle is found and shrunk to a scenario of at most 3 nodes.
//! Needs root. The long run is a command: `netspec explore --seed 1 --count 2000`.

use netspec::explore::oracle::Plant;
use netspec::explore::topo::Topo;
use netspec::explore::{explore, one_seed, ExploreOptions};

fn opts(plant: Plant) -> ExploreOptions {
    ExploreOptions {
        seed: 1,
        count: 25,
        size: 6,
        jobs: 4,
        out: None,
        plant,
    }
}

#[test]
fn twenty_five_random_scenarios_agree_with_the_oracle() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let sum = explore(&opts(Plant::None), |_| {});
    assert_eq!(sum.scenarios, 25);
    assert!(sum.pings > 25, "every scenario probes its pairs");
    assert!(sum.errors.is_empty(), "{:#?}", sum.errors);
    assert!(sum.disagreements.is_empty(), "{:#?}", sum.disagreements);
}

/// A topology where two hosts sit on isolated ports of one bridge: what the planted
/// bug (isolation ignored) gets wrong.
fn isolates_two(t: &Topo) -> bool {
    t.segs.iter().any(|s| {
        s.bridge.is_some()
            && s.members
                .iter()
                .filter(|m| m.port.isolated && !m.port.down && !m.port.locked)
                .count()
                >= 2
    })
}

#[test]
fn a_planted_oracle_bug_is_found_and_shrunk_to_three_nodes() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let opts = opts(Plant::IgnoreIsolation);
    for seed in 1..2000 {
        if !isolates_two(&Topo::generate(seed, opts.size)) {
            continue;
        }
        let (_, _, found) = one_seed(&opts, seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let Some(d) = found else { continue };
        assert!(
            d.topo.nodes.len() <= 3,
            "seed {seed} shrank to {} nodes: {:#?}",
            d.topo.nodes.len(),
            d.topo
        );
        assert!(
            d.topo
                .segs
                .iter()
                .any(|s| s.members.iter().filter(|m| m.port.isolated).count() >= 2),
            "the shrunk case keeps the isolated ports: {:#?}",
            d.topo
        );
        return;
    }
    panic!("no seed in 1..2000 showed the planted bug");
}
