//! One line per scenario trial, for the README's table of kernels: with
//! `NETSPEC_RESULTS=FILE`, the test harness appends `{scenario, kernel, verdict,
//! message}` for every trial it passes, fails or skips, inside a VM as on the machine.
//! `tests/kernel_table.rs` renders the table from such files, recorded from real runs.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

/// The variable that names the file.
pub const ENV: &str = "NETSPEC_RESULTS";

/// Appends one trial's verdict (`passed`, `failed`, `skipped`) to the results file, if
/// one is asked for. A line is one write on a file opened for appending, so trials
/// running in parallel do not interleave. The file is never followed through a symlink.
pub fn record(scenario: &str, verdict: &str, message: &str) {
    let Some(path) = std::env::var_os(ENV) else {
        return;
    };
    let line = serde_json::json!({
        "scenario": scenario,
        "kernel": crate::scenario::running_release(),
        "verdict": verdict,
        "message": message,
    });
    let opened = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path);
    let written = opened.and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = written {
        // A lost line would make the table lie; say so loudly, the trial goes on.
        eprintln!(
            "netspec: cannot append to {ENV}={}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}
