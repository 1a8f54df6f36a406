//! The bad-input corpus: every file in scenarios/invalid/ must be rejected at load time,
//! without a panic and without creating a namespace, with exactly the message in its
//! insta snapshot (file:line:col, the source line with a caret, a hint). One trial per
//! file: `cargo test --test invalid -- ping-count-huge`. Review changed messages with
//! `cargo insta review`, as every other golden in the project. Needs no root.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};

const DIR: &str = "scenarios/invalid";

fn check(file: &Path) -> Result<(), Failed> {
    let held_before = netspec::leaks::held_namespaces();
    let result = std::panic::catch_unwind(|| netspec::load_file(Path::new("scenarios"), file));
    let message = match result {
        Err(_) => return Err("loading panicked".into()),
        Ok(Ok(_)) => return Err("it loaded, but it is invalid".into()),
        Ok(Err(e)) => format!("{e}\n"),
    };
    if netspec::leaks::held_namespaces() != held_before {
        return Err("loading created a namespace".into());
    }
    if !message.contains(&format!("--> {}:", file.display())) {
        return Err(format!("the message lacks file:line:col:\n{message}").into());
    }
    let name = file.file_stem().unwrap_or_default().to_string_lossy();
    let mut settings = insta::Settings::clone_current();
    // The package root, where cargo and nextest run the test; insta wants it absolute.
    settings.set_snapshot_path(std::env::current_dir()?.join("snapshots/invalid"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(file);
    let asserted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.to_string(), message));
    }));
    asserted.map_err(|_| {
        Failed::from("the message differs from its snapshot (diff above; `cargo insta review`)")
    })
}

fn main() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("scenarios/invalid exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let trials = files
        .into_iter()
        .map(|f| {
            let name = format!(
                "invalid/{}",
                f.file_stem().unwrap_or_default().to_string_lossy()
            );
            Trial::test(name, move || check(&f))
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}
