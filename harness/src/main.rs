//! The `netspec` command: run one scenario and print each step with its verdict.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use netspec::{load_file, run_file, Outcome, RunOptions};

const USAGE: &str =
    "usage: netspec run [-v] <scenario.yaml>...   run scenarios, printing each step's verdict
                                             (-v: and the path every ping took)
       netspec check <scenario.yaml>...      load and resolve only (no root needed)
       netspec test <scenarios-dir> [ARGS]   run a directory as a test suite (libtest ARGS)
       netspec reap                          remove namespaces pinned by NETSPEC_KEEP=1 whose run ended";

fn main() -> ExitCode {
    // Before any thread exists: see enter_user_namespace_if_needed.
    netspec::enter_user_namespace_if_needed();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "reap") {
        return reap();
    }
    if let [cmd, dir, rest @ ..] = args.as_slice() {
        if cmd == "test" {
            netspec::Harness::new(dir).run_with_args(rest.iter().cloned());
        }
    }
    let (cmd, rest) = match args.split_first() {
        Some((c, f)) if c == "run" || c == "check" => (c.as_str(), f),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let show_paths = cmd == "run" && rest.iter().any(|a| a == "-v" || a == "--verbose");
    let files: Vec<String> = rest
        .iter()
        .filter(|a| !(cmd == "run" && (*a == "-v" || *a == "--verbose")))
        .cloned()
        .collect();
    if files.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    run_or_check(cmd, &files, show_paths)
}

/// `netspec reap`: removes the pins of ended runs, listing each.
fn reap() -> ExitCode {
    match netspec::reap() {
        Ok(removed) => {
            for p in &removed {
                println!("removed {}", p.display());
            }
            println!("{} pinned namespaces removed", removed.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: netspec reap: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `netspec run FILE...` or `netspec check FILE...`.
fn run_or_check(cmd: &str, files: &[String], show_paths: bool) -> ExitCode {
    let mut failed = false;
    let mut skipped = false;
    for f in files {
        let file = PathBuf::from(f);
        let root = scenarios_root(&file);
        if cmd == "check" {
            match load_file(&root, &file) {
                Ok(sc) => println!(
                    "{}: ok ({} nodes, {} steps)",
                    sc.name,
                    sc.nodes.len(),
                    sc.steps.len()
                ),
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
            continue;
        }
        println!(
            "scenario {}",
            netspec::scenario::scenario_name(&root, &file)
        );
        let t0 = std::time::Instant::now();
        let opts = RunOptions {
            snapshot_dir: None,
            verbose: true,
            report_dir: Some(netspec::target_dir().join("netspec")),
            show_paths,
        };
        match run_file(&root, &file, &opts) {
            Outcome::Passed(r) => println!(
                "ok: {} steps passed [{:.2} ms total]",
                r.steps.len(),
                t0.elapsed().as_secs_f64() * 1000.0
            ),
            Outcome::Skipped(s) => {
                println!("{s}");
                skipped = true;
            }
            Outcome::Refused(why) => {
                eprintln!("error: {why}");
                return ExitCode::FAILURE;
            }
            other => {
                eprintln!("\n{other}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else if skipped {
        // The automake convention for "skipped": neither a pass nor a failure.
        ExitCode::from(77)
    } else {
        ExitCode::SUCCESS
    }
}

/// Scenario names are relative to the nearest enclosing `scenarios/` directory.
fn scenarios_root(file: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    abs.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| abs.parent().unwrap_or(Path::new(".")).to_path_buf())
}
