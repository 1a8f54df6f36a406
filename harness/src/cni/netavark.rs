//! netavark, podman's network tool: `setup` and `teardown` of one container, the
//! network options on stdin, its status block (or `{"error": ...}`) on stdout. Run like
//! a plugin: in the host node, under netspec's init, with `--config` in the run's
//! private folder and the container's namespace as `/proc/1/fd/5`.

use std::path::PathBuf;
use std::time::Instant;

use super::exec::{NETNS_IN_PLUGIN, SCRATCH_IN_PLUGIN};
use crate::nsexec::{self, Program, Status};
use crate::sandbox::Sandbox;
use crate::scenario::NetavarkStep;
use crate::tool_answer::{ToolError, ToolResult};

/// Where distributions install it; `NETSPEC_NETAVARK` (an absolute path) overrides.
const PLACES: &[&str] = &[
    "/usr/lib/podman/netavark",
    "/usr/libexec/podman/netavark",
    "/usr/local/libexec/podman/netavark",
];

pub(crate) fn find_netavark() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("NETSPEC_NETAVARK") {
        let p = PathBuf::from(p);
        return (p.is_absolute() && nsexec::find_program(&p.to_string_lossy()).is_some())
            .then_some(p);
    }
    PLACES
        .iter()
        .map(PathBuf::from)
        .find(|p| nsexec::find_program(&p.to_string_lossy()).is_some())
}

type Reply = (Result<Option<ToolResult>, ToolError>, String);

/// Runs one `setup` or `teardown`; its answer and its stderr.
pub(super) fn run(
    sb: &Sandbox,
    n: &NetavarkStep,
    scratch: i32,
    until: Instant,
) -> Result<Reply, String> {
    let bin = find_netavark().ok_or("netavark is not installed (Debian package netavark)")?;
    let verb = if n.setup { "setup" } else { "teardown" };
    let p = Program {
        argv: vec![
            bin.to_string_lossy().into_owned(),
            "--config".into(),
            format!("{SCRATCH_IN_PLUGIN}/netavark"),
            "--rootless".into(),
            "false".into(),
            verb.into(),
            NETNS_IN_PLUGIN.into(),
        ],
        // The iptables driver: never firewalld's D-Bus (which /run hides anyway).
        env: vec![("NETAVARK_FW".into(), "iptables".into())],
        stdin: Some(n.options.to_string().into_bytes()),
        net_only: false,
        held_fds: vec![sb.ns(&n.container).raw_fd(), scratch],
        hide_run: true,
    };
    let f = nsexec::start(sb.ns(&n.host), &n.host, &p)
        .map_err(|e| format!("could not start netavark: {e}"))?
        .wait(until);
    let stderr = if f.stderr.total > 0 {
        format!("    netavark: {}\n", f.stderr.shown(2000).trim_end())
    } else {
        String::new()
    };
    let out = f.stdout.text();
    let result = match f.status {
        Status::Exited(0) if n.setup => match serde_json::from_str(&out) {
            Ok(v) => ToolResult::from_netavark(&v)
                .map(Some)
                .map_err(|why| ToolError {
                    code: None,
                    msg: format!("netavark's answer is not a status block: {why}"),
                    details: String::new(),
                }),
            Err(e) => Err(ToolError {
                code: None,
                msg: format!("netavark printed no JSON status: {e}"),
                details: String::new(),
            }),
        },
        Status::Exited(0) => Ok(None),
        Status::Exited(_) => Err(ToolError::from_output(&out, &f.stderr.text())),
        other => Err(ToolError {
            code: None,
            msg: format!("netavark {other}, with everything it started"),
            details: String::new(),
        }),
    };
    Ok((result, stderr))
}
