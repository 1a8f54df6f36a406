//! NETSPEC_KEEP=1: a failed scenario's namespaces are pinned under
//! `/run/netns/netspec-<run>-<node>` so that `ip netns exec` can enter them after the
//! run; `netspec reap` removes the pins whose run has ended. Nothing else in netspec
//! ever writes to `/run/netns`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::sandbox::Sandbox;

const NETNS_DIR: &str = "/run/netns";
static RUNS: AtomicU32 = AtomicU32::new(0);

pub(crate) fn wanted() -> bool {
    std::env::var("NETSPEC_KEEP").is_ok_and(|v| v == "1")
}

/// Pins every namespace of the sandbox; returns the lines to enter them.
pub(crate) fn pin(sb: &Sandbox) -> Result<Vec<String>, String> {
    let run = format!(
        "{}x{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    std::fs::create_dir_all(NETNS_DIR).map_err(|e| format!("cannot create {NETNS_DIR}: {e}"))?;
    let mut lines = Vec::new();
    for (node, h) in &sb.nodes {
        let name = format!("netspec-{run}-{node}");
        let target = Path::new(NETNS_DIR).join(&name);
        std::fs::File::create(&target)
            .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        let source = format!("/proc/self/fd/{}", h.ns.raw_fd());
        mount(
            Some(source.as_str()),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| format!("cannot pin node {node} at {}: {e}", target.display()))?;
        lines.push(format!("ip netns exec {name} bash    # node {node}"));
    }
    lines.push("netspec reap    # removes these pins".into());
    Ok(lines)
}

/// Removes the pins of runs whose process has ended; returns what it removed.
pub fn reap() -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Ok(removed);
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix("netspec-") else {
            continue;
        };
        let Some(pid) = rest.split('x').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue; // that run is still going
        }
        let path = e.path();
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        std::fs::remove_file(&path)?;
        removed.push(path);
    }
    Ok(removed)
}
