//! The bad-input corpus: every file in scenarios/invalid/ must be rejected at load time
//! with exactly the message in its `.expected` golden file (file:line:col, the source
//! line with a caret, a hint). Loading builds nothing, so this needs no root.
//! `NETSPEC_BLESS=1 cargo test --test invalid` rewrites the goldens after a deliberate change.

use std::path::{Path, PathBuf};

#[test]
fn every_invalid_scenario_is_rejected_with_its_golden_message() {
    let dir = Path::new("scenarios/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "the corpus has {} files", files.len());
    let bless = std::env::var_os("NETSPEC_BLESS").is_some();
    let held_before = netspec::leaks::held_namespaces();
    let mut problems = Vec::new();
    for f in &files {
        let result = std::panic::catch_unwind(|| netspec::load_file(Path::new("scenarios"), f));
        let message = match result {
            Err(_) => {
                problems.push(format!("{}: loading panicked", f.display()));
                continue;
            }
            Ok(Ok(_)) => {
                problems.push(format!("{}: loaded, but it is invalid", f.display()));
                continue;
            }
            Ok(Err(e)) => format!("{e}\n"),
        };
        if !message.contains(&format!("--> {}:", f.display())) {
            problems.push(format!(
                "{}: the message lacks file:line:col:\n{message}",
                f.display()
            ));
        }
        let golden = f.with_extension("expected");
        if bless {
            std::fs::write(&golden, &message).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(g) if g == message => {}
            Ok(g) => problems.push(format!(
                "{}: message changed\n--- expected\n{g}--- actual\n{message}",
                f.display()
            )),
            Err(_) => problems.push(format!(
                "{}: no golden file {} (NETSPEC_BLESS=1 writes it)",
                f.display(),
                golden.display()
            )),
        }
    }
    assert_eq!(
        netspec::leaks::held_namespaces(),
        held_before,
        "loading must not create namespaces"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
