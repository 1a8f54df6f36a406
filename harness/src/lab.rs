//! `netspec up`: a scenario's topology built and kept, to be entered by hand. Its
//! namespaces are pinned as `/run/netns/netspec-up.<lab>.<node>` (names that neither a
//! lab nor a node can forge: neither may contain a dot), entered with `netspec shell`
//! and `netspec exec`, and removed with `netspec down`. Only the topology is built:
//! links, addresses, routes, sysctls, neighbours, FDB entries and netfilter rules; no
//! step runs and no CNI network is attached.

use std::io;
use std::path::{Path, PathBuf};

use crate::keep;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;

const PREFIX: &str = "netspec-up.";

/// A lab's name from the scenario file: its stem, with what a name may not hold made `_`.
pub fn lab_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "lab".into()
    } else {
        name
    }
}

/// Whether a lab name is one `up` accepts: 1 to 32 letters, digits, `-` and `_`.
pub fn valid_lab(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Builds the topology and pins it as lab `lab`; (node, pin path) for each node.
pub fn up(sc: &Scenario, lab: &str) -> Result<Vec<(String, PathBuf)>, String> {
    if !valid_lab(lab) {
        return Err(format!(
            "`{lab}` is not a lab name: use 1 to 32 letters, digits, `-` and `_`"
        ));
    }
    if let Some(why) = crate::privileges::missing_privileges() {
        return Err(why);
    }
    let prefix = format!("{PREFIX}{lab}.");
    if !keep::pins_named(&prefix).is_empty() {
        return Err(format!(
            "lab `{lab}` is already up: `netspec down {lab}` first"
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("a tokio runtime: {e}"))?;
    rt.block_on(async {
        let plan = crate::plan::plan(sc);
        let sb = Sandbox::create(sc, &plan)
            .await
            .map_err(|e| format!("the topology could not be built: {e}"))?;
        let built = crate::apply::apply(&sb, &plan).await;
        let pinned = match built {
            Ok(()) => keep::pin_prefixed(&sb, &prefix),
            Err(e) => Err(format!("the topology could not be built: {e}")),
        };
        // The pins hold the namespaces now; netspec's own descriptors go.
        sb.teardown();
        let pins = pinned?;
        Ok(pins
            .into_iter()
            .map(|(node, name)| (node, Path::new("/run/netns").join(name)))
            .collect())
    })
}

/// The labs that are up, by name, each with its nodes.
pub fn labs() -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pin in keep::pins_named(PREFIX) {
        let name = pin
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some((lab, node)) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        match out.iter_mut().find(|(l, _)| l == lab) {
            Some((_, nodes)) => nodes.push(node.to_string()),
            None => out.push((lab.to_string(), vec![node.to_string()])),
        }
    }
    out
}

/// Removes lab `lab` (every lab when None); the pins removed.
pub fn down(lab: Option<&str>) -> io::Result<Vec<PathBuf>> {
    let prefix = match lab {
        Some(l) if !valid_lab(l) => {
            return Err(io::Error::other(format!("`{l}` is not a lab name")));
        }
        Some(l) => format!("{PREFIX}{l}."),
        None => PREFIX.to_string(),
    };
    let pins = keep::pins_named(&prefix);
    keep::unpin_all(&pins)?;
    Ok(pins)
}

/// The pin of `node`: in lab `lab`, or in the one lab that has such a node; or a pin
/// named in full (`netspec-<pid>x<run>-<node>`, as a paused run prints).
pub fn find(node: &str, lab: Option<&str>) -> Result<PathBuf, String> {
    if node.starts_with("netspec-") && !node.contains('/') {
        let p = Path::new("/run/netns").join(node);
        if keep::pins_named(node).contains(&p) {
            return Ok(p);
        }
        return Err(format!("no pinned namespace {}", p.display()));
    }
    let matches: Vec<(String, String)> = labs()
        .into_iter()
        .filter(|(l, _)| lab.is_none_or(|want| want == l))
        .flat_map(|(l, nodes)| nodes.into_iter().map(move |n| (l.clone(), n)))
        .filter(|(_, n)| n == node)
        .collect();
    match matches.as_slice() {
        [(l, n)] => Ok(Path::new("/run/netns").join(format!("{PREFIX}{l}.{n}"))),
        [] => Err(match lab {
            Some(l) => format!("lab `{l}` has no node `{node}` (is it up? `netspec up FILE`)"),
            None => format!("no lab that is up has a node `{node}` (`netspec up FILE` first)"),
        }),
        many => Err(format!(
            "several labs have a node `{node}` ({}): name one with --lab",
            many.iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Enters the pinned namespace and replaces this process with `argv`: its network
/// namespace, a private mount namespace with the node's own /sys, and the hostname
/// left alone. Returns only on failure. Call it before any thread starts.
pub fn enter(pin: &Path, argv: &[String]) -> io::Error {
    use nix::sched::{setns, unshare, CloneFlags};
    let Some(program) = argv.first() else {
        return io::Error::other("no command");
    };
    let ns = match std::fs::File::open(pin) {
        Ok(f) => f,
        Err(e) => return io::Error::new(e.kind(), format!("{}: {e}", pin.display())),
    };
    if let Err(e) = setns(&ns, CloneFlags::CLONE_NEWNET) {
        return io::Error::other(format!("cannot enter {}: {e}", pin.display()));
    }
    // The node's own /sys, so that `ls /sys/class/net` shows its interfaces; the
    // machine's mounts are not changed.
    if unshare(CloneFlags::CLONE_NEWNS).is_ok() {
        use nix::mount::{mount, umount2, MntFlags, MsFlags};
        let none = None::<&str>;
        let _ = mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none);
        let _ = umount2("/sys", MntFlags::MNT_DETACH);
        let _ = mount(Some("sysfs"), "/sys", Some("sysfs"), MsFlags::empty(), none);
    }
    let err = std::os::unix::process::CommandExt::exec(
        std::process::Command::new(program).args(&argv[1..]),
    );
    io::Error::new(err.kind(), format!("cannot run `{program}`: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_is_named_after_its_file_and_never_holds_a_dot_or_a_slash() {
        assert_eq!(lab_name(Path::new("scenarios/seed/bridge.yaml")), "bridge");
        assert_eq!(lab_name(Path::new("a.b c.yaml")), "a_b_c");
        assert_eq!(lab_name(Path::new(".yaml")), "_yaml");
        assert!(valid_lab("seed-1_x"));
        for bad in ["", "a.b", "a/b", "a b", &"x".repeat(33), "é"] {
            assert!(!valid_lab(bad), "{bad:?}");
        }
    }
}
