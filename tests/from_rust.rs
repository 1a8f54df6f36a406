//! netspec from a user's own Rust test, as the README shows it (section "From Rust"):
//! a scenario written inline, run, and its verdict asserted. The README's block must be
//! this file's `a_bridge_from_rust` word for word, so the documented example is the
//! tested one. Needs root.

use std::path::Path;

use netspec::{load_str, run_checked, Outcome, RunOptions};

// README: begin
const TWO_NODES: &str = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.7.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.7.0.2/24] }
steps:
  - ping: { from: a, to: 10.7.0.2 }
  - connect: { from: a, to: 10.7.0.2, port: 9, expect: refused }
";

#[test]
fn a_bridge_from_rust() {
    // A load error is a Diagnostic with file:line:column, as from a .yaml file.
    let sc = load_str(Path::new("two-nodes.yaml"), "my/two-nodes", TWO_NODES)
        .unwrap_or_else(|e| panic!("{e}"));
    match run_checked(&sc, &RunOptions::default()) {
        Outcome::Passed(report) => assert_eq!(report.steps.len(), 2),
        // A skip (a kernel feature missing here) is not a pass: say so.
        Outcome::Skipped(s) => panic!("skipped: {}", s.reason),
        other => panic!("{other}"),
    }
}
// README: end

#[test]
fn the_readme_shows_this_example_word_for_word() {
    let me = std::fs::read_to_string("tests/from_rust.rs").unwrap();
    let start = me.find("// README: begin\n").unwrap() + "// README: begin\n".len();
    let example = &me[start..me.find("// README: end").unwrap()];
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&format!("```rust\n{example}```")),
        "README's \"From Rust\" block differs from tests/from_rust.rs"
    );
}

#[test]
fn a_wrong_expectation_written_in_rust_fails_with_its_line() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let wrong = TWO_NODES.replace("port: 9, expect: refused", "port: 9");
    let sc = load_str(Path::new("two-nodes.yaml"), "my/two-nodes", &wrong).unwrap();
    match run_checked(&sc, &RunOptions::default()) {
        Outcome::Failed(f) => {
            let text = f.to_string();
            assert!(text.contains("--> two-nodes.yaml:11:5"), "{text}");
            assert!(text.contains("refused"), "{text}");
        }
        other => panic!("must fail: {other}"),
    }
}
