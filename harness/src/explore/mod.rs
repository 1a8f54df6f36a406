//! `netspec explore`: random topologies, run against an independent model of what the
//! kernel must do with them. Each seed gives one topology (`topo`); the oracle
//! (`oracle`) predicts every ping between its hosts; the scenario (`render`) carries the
//! predictions as expectations and netspec runs it. A disagreement is shrunk (`shrink`)
//! to a minimal scenario and written out, to be explained: an oracle bug, or a kernel
//! behaviour the model did not know.

pub mod oracle;
pub mod render;
pub mod shrink;
pub mod topo;

use std::io::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{load_str, run, Outcome, RunOptions};
use oracle::{Answer, Oracle, Plant};
use render::Probe;
use topo::Topo;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silence_that_is_answered_on_the_rerun_is_not_a_disagreement() {
        let probe = |from, to: &str| Probe {
            from,
            to: to.parse().unwrap(),
            answer: Answer::Reply,
        };
        let p = probe(0, "10.6.0.2");
        let silent = |q: Probe| vec![(q, "0/1 replies; no reply within 200ms".to_string())];
        assert!(answered_on_rerun(&[], &p), "nothing wrong the second time");
        assert!(answered_on_rerun(&silent(probe(1, "10.6.0.2")), &p));
        assert!(answered_on_rerun(&silent(probe(0, "10.6.0.3")), &p));
        assert!(
            !answered_on_rerun(&silent(probe(0, "10.6.0.2")), &p),
            "the same probe wrong again: a disagreement"
        );
    }

    #[test]
    fn a_seed_gives_the_same_scenario_byte_for_byte() {
        for seed in [1, 7, 1234] {
            let text = |s| {
                let t = Topo::generate(s, 9);
                let probes = Oracle::new(&t, Plant::None).predict_all();
                render::yaml(&t, &probes, "x")
            };
            assert_eq!(text(seed), text(seed));
            assert_ne!(text(seed), text(seed + 1), "another seed, another topology");
        }
    }

    #[test]
    fn every_generated_scenario_loads() {
        for seed in 0..300 {
            for size in [2, 5, 12] {
                let t = Topo::generate(seed, size);
                let o = Oracle::new(&t, Plant::None);
                let probes = render::all_probes(&t, |f, to| o.ping(f, to));
                let text = render::yaml(&t, &probes, "x");
                if let Err(e) = load_str(Path::new("g.yaml"), "g", &text) {
                    panic!("seed {seed} size {size}:\n{e}\n{text}");
                }
            }
        }
    }

    #[test]
    fn shrinking_keeps_the_probe_ends_and_loses_one_element() {
        let t = Topo::generate(11, 8);
        let o = Oracle::new(&t, Plant::None);
        let probes = render::all_probes(&t, |f, to| o.ping(f, to));
        let p = &probes[0];
        for c in shrink::smaller(&t, p.from, p.to) {
            let from = shrink::moved(&c, &t, p.from).expect("the source stays");
            assert!(render::all_probes(&c, |_, _| Answer::Reply)
                .iter()
                .any(|q| q.from == from && q.to == p.to));
            let size = |x: &Topo| x.nodes.len() + x.segs.len() + x.routes.len() + x.downs.len();
            assert!(size(&c) <= size(&t));
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExploreOptions {
    pub seed: u64,
    pub count: u64,
    /// Nodes per topology, switches included.
    pub size: usize,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Where shrunk disagreements are written (a new file each); None writes nothing.
    pub out: Option<PathBuf>,
    pub plant: Plant,
}

/// One disagreement, shrunk.
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub seed: u64,
    /// The smallest topology that still disagrees, and its one probe.
    pub topo: Topo,
    pub probe: Probe,
    /// What the kernel did instead, as netspec's verdict says it.
    pub kernel: String,
    pub file: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub scenarios: u64,
    pub pings: u64,
    pub disagreements: Vec<Disagreement>,
    /// Scenarios that did not run to their pings (a bug in the generator, or netspec).
    pub errors: Vec<String>,
    pub elapsed: Duration,
    /// The slowest echo reply of all the pings that passed: what the timeout must exceed.
    pub slowest_reply: Duration,
}

impl Summary {
    pub fn per_second(&self) -> f64 {
        self.scenarios as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Explores `count` seeds from `seed` on, `jobs` at a time.
pub fn explore(opts: &ExploreOptions, progress: impl Fn(&Summary) + Sync) -> Summary {
    let t0 = Instant::now();
    let next = AtomicU64::new(0);
    let summary = Mutex::new(Summary::default());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= opts.count {
                    break;
                }
                let seed = opts.seed.wrapping_add(i);
                let result = one_seed(opts, seed);
                let mut sum = summary.lock().unwrap_or_else(|e| e.into_inner());
                sum.scenarios += 1;
                match result {
                    Ok((pings, slowest, d)) => {
                        sum.pings += pings;
                        sum.slowest_reply = sum.slowest_reply.max(slowest);
                        sum.disagreements.extend(d);
                    }
                    Err(e) => sum.errors.push(format!("seed {seed}: {e}")),
                }
                sum.elapsed = t0.elapsed();
                progress(&sum);
            });
        }
    });
    let mut sum = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    sum.elapsed = t0.elapsed();
    sum.disagreements.sort_by_key(|d| d.seed);
    sum
}

/// Generates, predicts and runs one seed; shrinks its first disagreement.
pub fn one_seed(
    opts: &ExploreOptions,
    seed: u64,
) -> Result<(u64, Duration, Option<Disagreement>), String> {
    let t = Topo::generate(seed, opts.size);
    let o = Oracle::new(&t, opts.plant);
    let probes = o.predict_all();
    let n = probes.len() as u64;
    let (wrong, slowest) = run_batch(&t, &probes, seed)?;
    let Some((probe, kernel)) = wrong.into_iter().next() else {
        return Ok((n, slowest, None));
    };
    if kernel.contains("no reply within") {
        confirm_silence(&t, &probes, &probe, seed)?;
    }
    let mut d = shrink_case(t, probe, kernel, opts.plant, seed);
    if let Some(dir) = &opts.out {
        d.file = Some(write_case(dir, &d, opts.plant)?);
    }
    Ok((n, slowest, Some(d)))
}

/// A ping that went unanswered may only have been late: with many scenarios at once
/// on few CPUs, a reply can miss the timeout. The batch runs once more; if the ping is
/// answered as predicted then, the seed is an error (the machine was too loaded for the
/// verdict), never a disagreement with the kernel.
fn confirm_silence(t: &Topo, probes: &[Probe], probe: &Probe, seed: u64) -> Result<(), String> {
    let again = run_probes(t, probes, seed)?;
    match answered_on_rerun(&again, probe) {
        false => Ok(()),
        true => Err(format!(
            "{} -> {} went unanswered within {}ms once and was answered as predicted when \
             run again: the machine was too loaded for the timeout (try fewer --jobs)",
            t.nodes[probe.from].name,
            probe.to,
            render::PING_TIMEOUT_MS
        )),
    }
}

/// Whether `probe` did as predicted on the rerun whose wrong probes are `again`.
fn answered_on_rerun(again: &[(Probe, String)], probe: &Probe) -> bool {
    !again
        .iter()
        .any(|(q, _)| q.from == probe.from && q.to == probe.to)
}

fn run_probes(t: &Topo, probes: &[Probe], seed: u64) -> Result<Vec<(Probe, String)>, String> {
    run_batch(t, probes, seed).map(|(w, _)| w)
}

/// Runs the topology with these probes: the ones that did not do as predicted, each
/// with what the kernel did, and the slowest reply of a run that passed.
fn run_batch(
    t: &Topo,
    probes: &[Probe],
    seed: u64,
) -> Result<(Vec<(Probe, String)>, Duration), String> {
    let text = render::yaml(t, probes, &format!("explore seed {seed}"));
    let sc = load_str(
        Path::new("explored.yaml"),
        &format!("explore-{seed}"),
        &text,
    )
    .map_err(|e| format!("the generated scenario does not load:\n{e}\n{text}"))?;
    match run(&sc, &RunOptions::default()) {
        Outcome::Passed(r) => Ok((Vec::new(), slowest(&r))),
        Outcome::Failed(f) if f.step.as_ref().is_some_and(|s| s.kind == "pings") => {
            let wrong = wrong_ones(t, probes, &f.actual);
            if wrong.is_empty() {
                return Err(format!("unreadable verdict: {}", f.actual));
            }
            Ok((wrong, Duration::ZERO))
        }
        other => Err(other.to_string()),
    }
}

/// `slowest reply 0.412 ms`, from a passed pings step's verdict.
fn slowest(r: &crate::Report) -> Duration {
    r.steps
        .iter()
        .filter_map(|s| {
            let ms = s
                .detail
                .split_once("slowest reply ")?
                .1
                .strip_suffix(" ms")?;
            ms.parse::<f64>()
                .ok()
                .map(|v| Duration::from_secs_f64(v / 1e3))
        })
        .max()
        .unwrap_or_default()
}

/// The probes a `pings` verdict lists as not as expected, with the kernel's answers.
fn wrong_ones(t: &Topo, probes: &[Probe], actual: &str) -> Vec<(Probe, String)> {
    let mut out = Vec::new();
    for line in actual.lines().map(str::trim) {
        let Some((from, rest)) = line.split_once(": expected ") else {
            continue;
        };
        let Some(to) = rest
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let Some((_, got)) = rest.split_once("; got ") else {
            continue;
        };
        if let Some(p) = probes
            .iter()
            .find(|p| t.nodes[p.from].name == from && p.to == to)
        {
            out.push((p.clone(), got.to_string()));
        }
    }
    out
}

/// Removes elements while the same probe still gets the same answer from the kernel,
/// against the oracle's (all the pings of the smaller topology run, as in the original:
/// they share the bridges' and neighbours' tables).
fn shrink_case(t: Topo, probe: Probe, kernel: String, plant: Plant, seed: u64) -> Disagreement {
    let mut cur = t;
    let p_to = probe.to;
    let mut p = probe;
    let still = |c: &Topo, from: usize| -> Option<Probe> {
        let o = Oracle::new(c, plant);
        let probes = o.predict_all();
        let wrong = run_probes(c, &probes, seed).ok()?;
        wrong
            .into_iter()
            .find(|(q, k)| q.from == from && q.to == p_to && *k == kernel)
            .map(|(q, _)| q)
    };
    'outer: loop {
        for c in shrink::smaller(&cur, p.from, p.to) {
            let Some(from) = shrink::moved(&c, &cur, p.from) else {
                continue;
            };
            if let Some(q) = still(&c, from) {
                cur = c;
                p = q;
                continue 'outer;
            }
        }
        break;
    }
    Disagreement {
        seed,
        topo: cur,
        probe: p,
        kernel,
        file: None,
    }
}

/// Writes the case as a new file, `seed-N.yaml`: never over a file, never through a link.
fn write_case(dir: &Path, d: &Disagreement, plant: Plant) -> Result<PathBuf, String> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "{} is a symbolic link: netspec writes only into a real folder",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("seed-{}.yaml", d.seed));
    // The whole batch, as it ran: the other pings share the tables that decide this one.
    let mut probes = Oracle::new(&d.topo, plant).predict_all();
    let observed = observed_probe(d);
    for p in probes
        .iter_mut()
        .filter(|p| p.from == d.probe.from && p.to == d.probe.to)
    {
        *p = observed.clone();
    }
    let text = render::yaml(
        &d.topo,
        &probes,
        &format!(
            "UNEXPLAINED. Found by `netspec explore` from seed {}: {} pinging {}.\nThe oracle predicted {:?}; the kernel answered: {}.\nExplain it in one sentence: an oracle bug, or a kernel behaviour.",
            d.seed, d.topo.nodes[d.probe.from].name, d.probe.to, d.probe.answer, d.kernel
        ),
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The probe with the kernel's answer as its expectation: a regression scenario.
fn observed_probe(d: &Disagreement) -> Probe {
    let answer = match d.kernel.split_once("replies; ") {
        _ if d.kernel.starts_with("1/1 replies") => Answer::Reply,
        Some((_, said)) => Answer::Said(said.to_string()),
        None => Answer::Unknown,
    };
    Probe {
        answer,
        ..d.probe.clone()
    }
}
