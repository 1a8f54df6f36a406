//! One test per scenario file: `cargo test --test scenarios -- seed/bridge`.
fn main() {
    // cargo runs integration tests from the package root.
    netspec::Harness::new("scenarios").run()
}
