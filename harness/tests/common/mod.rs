//! Where a test finds the project and the netspec binary: where it runs, not where it
//! was built. Cargo and nextest both set `CARGO_MANIFEST_DIR` when they run a test, and
//! nextest sets `NEXTEST_BIN_EXE_netspec`; a nextest archive run from another checkout
//! (`--workspace-remap`) points them there. The compile-time values are the fallback.

#![allow(dead_code)] // each test file uses its own part of it

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The project root: the folder above the harness crate.
pub(crate) fn project_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let harness = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        harness
            .parent()
            .expect("the harness crate has a parent")
            .to_path_buf()
    })
}

/// The netspec binary built for these tests.
pub(crate) fn netspec_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        std::env::var_os("NEXTEST_BIN_EXE_netspec").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_netspec")),
            PathBuf::from,
        )
    })
}
