//! The README's table of kernels is rendered from real runs: `docs/kernels/<release>.jsonl`
//! holds one line per scenario trial, as the test harness records it with
//! `NETSPEC_RESULTS` (see "Another kernel" in the README). These tests keep the table and
//! the recordings true: every scenario has a result on every recorded kernel, none failed,
//! and the table is what the recordings say. `.ci/run` records a fresh run under Debian's
//! 6.1 and checks it against the recording (`fresh_results_match_the_recorded_ones`).
//!
//! After recording: `NETSPEC_UPDATE_README=1 cargo test --test kernel_table` rewrites the
//! table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const START: &str =
    "<!-- kernel-table: rendered by tests/kernel_table.rs from docs/kernels/*.jsonl -->";
const END: &str = "<!-- kernel-table: end -->";

/// One kernel's results: scenario -> (verdict, message).
type Results = BTreeMap<String, (String, String)>;

fn parse(path: &Path) -> (String, Results) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut kernel = None;
    let mut out = Results::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
        let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let k = field("kernel");
        match &kernel {
            None => kernel = Some(k),
            Some(first) => assert_eq!(
                *first,
                k,
                "{}:{}: one file holds one kernel's runs",
                path.display(),
                i + 1
            ),
        }
        let previous = out.insert(field("scenario"), (field("verdict"), field("message")));
        assert!(
            previous.is_none(),
            "{}:{}: {} is recorded twice",
            path.display(),
            i + 1,
            field("scenario")
        );
    }
    (kernel.expect("a recording with no line"), out)
}

/// The recorded kernels, oldest first.
fn recorded() -> Vec<(String, Results)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("docs/kernels")
        .expect("docs/kernels")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut all: Vec<(String, Results)> = files.iter().map(|f| parse(f)).collect();
    all.sort_by_key(|(k, _)| version(k));
    all
}

/// `6.12.117+deb12-amd64` -> (6, 12, 117), for ordering.
fn version(release: &str) -> Vec<u32> {
    release
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|n| n.parse().unwrap_or(0))
        .collect()
}

/// A cell: `pass`, `pass, 1 step not run`, `skip: the kernel lacks vrf`, `FAIL`.
fn cell(r: Option<&(String, String)>) -> String {
    match r {
        None => "not recorded".into(),
        Some((v, m)) if v == "passed" => match m.split_once(", ") {
            Some((_, rest)) => format!("pass, {}", rest.replace(" on this kernel", "")),
            None => "pass".into(),
        },
        Some((v, m)) if v == "skipped" => {
            let short = m.split(':').next().unwrap_or(m).trim();
            format!("skip: {short}")
        }
        Some(_) => "FAIL".into(),
    }
}

fn render(kernels: &[(String, Results)]) -> String {
    let names: BTreeSet<&String> = kernels.iter().flat_map(|(_, r)| r.keys()).collect();
    // Matrix trials whose cells agree are one row: `name[*]`.
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut plain = 0;
    let mut grouped: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for n in names {
        let cells: Vec<String> = kernels.iter().map(|(_, r)| cell(r.get(n))).collect();
        let base = n
            .split_once('[')
            .map_or(n.clone(), |(b, _)| format!("{b}[*]"));
        grouped.entry(base).or_default().push(cells);
    }
    for (base, variants) in grouped {
        let all_same = variants.windows(2).all(|w| w[0] == w[1]);
        if all_same && variants[0].iter().all(|c| c == "pass") {
            plain += variants.len();
        } else if all_same {
            rows.insert(base, variants[0].clone());
        } else {
            for (i, v) in variants.into_iter().enumerate() {
                rows.insert(format!("{base} #{i}"), v);
            }
        }
    }
    let mut s = format!("{START}\n| scenario |");
    for (k, _) in kernels {
        s += &format!(" {k} |");
    }
    s += "\n|---|";
    s += &"---|".repeat(kernels.len());
    s += "\n";
    for (name, cells) in rows {
        s += &format!("| {name} | {} |\n", cells.join(" | "));
    }
    s += &format!(
        "| every other scenario ({plain} trials) |{}\n{END}",
        " pass |".repeat(kernels.len())
    );
    s
}

#[test]
fn the_kernel_table_in_the_readme_is_rendered_from_recorded_runs() {
    let table = render(&recorded());
    let readme = std::fs::read_to_string("README.md").unwrap();
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the kernel table's markers:\n{START}\n...\n{END}");
    };
    let current = &readme[a..b + END.len()];
    if current != table && std::env::var_os("NETSPEC_UPDATE_README").is_some() {
        let updated = format!("{}{table}{}", &readme[..a], &readme[b + END.len()..]);
        std::fs::write("README.md", updated).unwrap();
        return;
    }
    assert_eq!(
        current, table,
        "the README's kernel table is not what docs/kernels/*.jsonl say; \
         NETSPEC_UPDATE_README=1 cargo test --test kernel_table rewrites it"
    );
}

#[test]
fn every_scenario_has_a_recorded_result_on_every_kernel() {
    let trials: BTreeSet<String> = netspec::Harness::new("scenarios")
        .trials()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    let kernels = recorded();
    assert!(
        kernels.len() >= 3,
        "the suite is recorded on at least three kernels"
    );
    let mut problems = Vec::new();
    for (k, r) in &kernels {
        let have: BTreeSet<String> = r.keys().cloned().collect();
        for missing in trials.difference(&have) {
            problems.push(format!("{k}: no result for {missing}"));
        }
        for gone in have.difference(&trials) {
            problems.push(format!(
                "{k}: a result for {gone}, which is no scenario now"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "record the suite again on these kernels (README, \"Another kernel\"):\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_recorded_run_failed() {
    let failed: Vec<String> = recorded()
        .iter()
        .flat_map(|(k, r)| {
            r.iter()
                .filter(|(_, (v, _))| v != "passed" && v != "skipped")
                .map(move |(n, (_, m))| format!("{k}: {n}: {m}"))
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
#[ignore = "needs a fresh recording in NETSPEC_FRESH_RESULTS; .ci/run makes one under Debian's 6.1"]
fn fresh_results_match_the_recorded_ones() {
    let fresh = std::env::var_os("NETSPEC_FRESH_RESULTS")
        .expect("NETSPEC_FRESH_RESULTS names a file the harness wrote with NETSPEC_RESULTS");
    let (kernel, now) = parse(Path::new(&fresh));
    let Some((_, then)) = recorded().into_iter().find(|(k, _)| *k == kernel) else {
        panic!("no recording of {kernel} in docs/kernels: add the fresh one there");
    };
    let mut differ = Vec::new();
    for (name, (v, m)) in &now {
        match then.get(name) {
            Some((w, _)) if w == v => {}
            Some((w, _)) => differ.push(format!("{name}: recorded {w}, now {v} ({m})")),
            None => differ.push(format!("{name}: not recorded, now {v}")),
        }
    }
    for name in then.keys().filter(|n| !now.contains_key(*n)) {
        differ.push(format!("{name}: recorded, not run now"));
    }
    assert!(
        differ.is_empty(),
        "{kernel} no longer does what docs/kernels records:\n{}",
        differ.join("\n")
    );
}

#[test]
fn cells_say_pass_skip_or_fail_in_short() {
    let r = |v: &str, m: &str| Some((v.to_string(), m.to_string()));
    assert_eq!(cell(r("passed", "9 steps passed").as_ref()), "pass");
    assert_eq!(
        cell(r("passed", "8 steps passed, 1 not run on this kernel").as_ref()),
        "pass, 1 not run"
    );
    assert_eq!(
        cell(r("skipped", "the kernel lacks vrf: Operation not supported").as_ref()),
        "skip: the kernel lacks vrf"
    );
    assert_eq!(cell(r("failed", "scenario x failed").as_ref()), "FAIL");
    assert_eq!(cell(None), "not recorded");
}
