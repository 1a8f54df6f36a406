//! NETSPEC_KEEP=1: a failed scenario's namespaces are pinned under
//! `/run/netns/netspec-<pid>x<run>-<node>` so that `ip netns exec` can enter them after
//! the run; `netspec reap` removes the pins whose run has ended. Nothing else in netspec
//! ever writes to `/run/netns`, and neither ever touches an entry that netspec did not
//! make: a pin is created with O_EXCL|O_NOFOLLOW (never through a symlink, never over a
//! file), and reap removes only nsfs mounts that follow netspec's naming.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::sandbox::Sandbox;

const NETNS_DIR: &str = "/run/netns";
/// statfs(2) f_type of the namespace filesystem: what a namespace pin is a mount of.
const NSFS_MAGIC: i64 = 0x6e73_6673;
static RUNS: AtomicU32 = AtomicU32::new(0);

pub(crate) fn wanted() -> bool {
    std::env::var("NETSPEC_KEEP").is_ok_and(|v| v == "1")
}

/// Pins every namespace of the sandbox and returns the lines to enter them. All or
/// nothing: when one pin fails, the ones made before it are removed again.
pub(crate) fn pin(sb: &Sandbox) -> Result<Vec<String>, String> {
    let pins = pin_prefixed(sb, &run_prefix())?;
    let mut lines: Vec<String> = pins
        .iter()
        .map(|(node, name)| format!("ip netns exec {name} bash    # node {node}"))
        .collect();
    lines.push("netspec reap    # removes these pins".into());
    Ok(lines)
}

/// A fresh `netspec-<pid>x<run>-`: the names `reap` removes once this process is gone.
pub(crate) fn run_prefix() -> String {
    format!(
        "netspec-{}x{}-",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Pins every namespace of the sandbox as `/run/netns/<prefix><node>`; (node, pin name)
/// for each. All or nothing.
pub(crate) fn pin_prefixed(sb: &Sandbox, prefix: &str) -> Result<Vec<(String, String)>, String> {
    let dir = Path::new(NETNS_DIR);
    ensure_dir(dir)?;
    let nodes: Vec<(&str, i32)> = sb.namespaces().map(|(n, ns)| (n, ns.raw_fd())).collect();
    pin_all(dir, prefix, &nodes, pin_one)
}

/// Pins each node with `pin`; on the first failure, removes the pins made before it.
fn pin_all(
    dir: &Path,
    prefix: &str,
    nodes: &[(&str, i32)],
    pin: impl Fn(&Path, i32) -> io::Result<()>,
) -> Result<Vec<(String, String)>, String> {
    let mut made: Vec<PathBuf> = Vec::new();
    let mut pins = Vec::new();
    for (node, fd) in nodes {
        let name = format!("{prefix}{node}");
        let target = dir.join(&name);
        if let Err(e) = pin(&target, *fd) {
            for p in made.iter().rev() {
                let _ = unpin(p);
            }
            return Err(format!(
                "cannot pin node {node} at {}: {e}",
                target.display()
            ));
        }
        made.push(target);
        pins.push((node.to_string(), name));
    }
    Ok(pins)
}

/// The namespace pins in `/run/netns` whose names start with `prefix`, sorted.
pub(crate) fn pins_named(prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .filter(|p| is_ns_pin(p))
        .collect();
    out.sort();
    out
}

/// Removes pins that `pins_named` or `pin_prefixed` gave.
pub(crate) fn unpin_all(pins: &[PathBuf]) -> io::Result<()> {
    for p in pins {
        if is_ns_pin(p) {
            unpin(p).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        }
    }
    Ok(())
}

/// `/run/netns` must be a real directory: created if missing, never followed if a symlink.
fn ensure_dir(dir: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "{} is not a directory (a symlink?); netspec does not follow it",
            dir.display()
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir(dir)
            .or_else(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        Err(e) => Err(format!("cannot look at {}: {e}", dir.display())),
    }
}

/// Creates the mount point (fails if anything exists there, a symlink included) and
/// bind-mounts the namespace on it, through the descriptor of the file just made: no
/// path is resolved again, so a symlink swapped in meanwhile is never followed.
fn pin_one(target: &Path, ns_fd: i32) -> io::Result<()> {
    let point = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(target)?;
    if let Err(e) = bind_onto(&point, ns_fd) {
        let _ = std::fs::remove_file(target);
        return Err(e);
    }
    Ok(())
}

/// Bind-mounts the namespace onto the file `point` is open on, whatever its path now is.
fn bind_onto(point: &std::fs::File, ns_fd: i32) -> io::Result<()> {
    let source = format!("/proc/self/fd/{ns_fd}");
    let onto = format!("/proc/self/fd/{}", point.as_raw_fd());
    mount(
        Some(source.as_str()),
        onto.as_str(),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(io::Error::from)
}

fn unpin(path: &Path) -> io::Result<()> {
    let _ = umount2(path, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW);
    std::fs::remove_file(path)
}

/// Whether `name` is one netspec gives its pins: `netspec-<pid>x<run>-<node>`; the pid.
fn pin_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("netspec-")?;
    let (run, node) = rest.split_once('-')?;
    let (pid, n) = run.split_once('x')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let node_ok = !node.is_empty()
        && node.len() <= 32
        && node
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (digits(pid) && digits(n) && node_ok).then(|| pid.parse().ok())?
}

/// Whether `path` is a namespace pin: a regular file (not a symlink) with an nsfs
/// mount on it.
fn is_ns_pin(path: &Path) -> bool {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !m.file_type().is_file() || m.file_type().is_symlink() || m.file_type().is_fifo() {
        return false;
    }
    let Ok(fs) = nix::sys::statfs::statfs(path) else {
        return false;
    };
    // The statfs above went through the same path: make sure nothing was swapped in.
    fs.filesystem_type().0 == NSFS_MAGIC
        && std::fs::symlink_metadata(path).is_ok_and(|n| n.ino() == m.ino())
}

/// Removes the pins of runs whose process has ended and returns them. Anything else in
/// `/run/netns` (other tools' namespaces, plain files, directories, live runs' pins) is
/// left alone.
pub fn reap() -> io::Result<Vec<PathBuf>> {
    reap_in(Path::new(NETNS_DIR))
}

fn reap_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = pin_pid(&name) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue; // that run is still going
        }
        let path = e.path();
        if !is_ns_pin(&path) {
            continue;
        }
        umount2(&path, MntFlags::MNT_DETACH)
            .map_err(|err| io::Error::other(format!("cannot unmount {}: {err}", path.display())))?;
        std::fs::remove_file(&path)
            .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
        removed.push(path);
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_netspec_names_are_pins() {
        assert_eq!(pin_pid("netspec-123x0-net1"), Some(123));
        assert_eq!(pin_pid("netspec-123x0-my_node-2"), Some(123));
        for other in [
            "netspec-123x-net1",
            "netspec-x0-net1",
            "netspec-123x0-",
            "netspec-123-net1",
            "netspec-123x0-a/b",
            "cni-123x0-net1",
            "netspec-12a3x0-net1",
        ] {
            assert_eq!(pin_pid(other), None, "{other}");
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("netspec-keep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_pin_never_goes_through_a_symlink_or_over_a_file() {
        let d = scratch("pin");
        let victim = d.join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = d.join("netspec-1x0-a");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let plain = d.join("netspec-1x0-b");
        std::fs::write(&plain, "mine").unwrap();
        let ns = std::fs::File::open("/proc/self/ns/net").unwrap();
        use std::os::fd::AsRawFd;
        for p in [&link, &plain] {
            let e = pin_one(p, ns.as_raw_fd()).expect_err("must refuse");
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{p:?}: {e}");
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "mine");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlink_swapped_in_after_the_pin_is_made_is_not_mounted_over() {
        let d = scratch("swap");
        let victim = d.join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let target = d.join("netspec-1x0-a");
        let point = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .unwrap();
        // Between creating the pin and mounting it, someone swaps in a symlink.
        std::fs::remove_file(&target).unwrap();
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let ns = std::fs::File::open("/proc/self/ns/net").unwrap();
        let mounted = bind_onto(&point, ns.as_raw_fd()).is_ok();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        if mounted {
            let onto = format!("/proc/self/fd/{}", point.as_raw_fd());
            let _ = umount2(onto.as_str(), MntFlags::MNT_DETACH);
        }
        assert!(
            !mounts.contains(victim.to_str().unwrap()),
            "the symlink's target was mounted over"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn when_one_pin_fails_none_is_left() {
        let d = scratch("all");
        // Stands in for the bind mount: a file; the third node's pin fails.
        let fake = |p: &Path, _fd: i32| -> io::Result<()> {
            if p.to_string_lossy().ends_with("-c") {
                return Err(io::Error::other("no room"));
            }
            std::fs::write(p, "")
        };
        let e =
            pin_all(&d, "netspec-1x0-", &[("a", 0), ("b", 0), ("c", 0)], fake).expect_err("fails");
        assert!(e.contains("cannot pin node c"), "{e}");
        assert!(
            !e.contains("ip netns exec"),
            "no pin is reported as kept: {e}"
        );
        assert!(
            std::fs::read_dir(&d).unwrap().next().is_none(),
            "a half-made pin remains"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_symlinked_pin_folder_is_not_followed() {
        let d = scratch("dir");
        let real = d.join("real");
        std::fs::create_dir(&real).unwrap();
        let link = d.join("netns");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = ensure_dir(&link).expect_err("must refuse");
        assert!(e.contains("not a directory"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reap_leaves_what_netspec_did_not_make() {
        let d = scratch("reap");
        // A pid that cannot exist (above pid_max's ceiling).
        let dead = "netspec-999999999x0";
        let entries = [
            format!("{dead}-file"),
            format!("{dead}-dir"),
            format!("{dead}-link"),
            "cni-1234".to_string(),
            "netspec-notours".to_string(),
        ];
        std::fs::write(d.join(&entries[0]), "plain file").unwrap();
        std::fs::create_dir(d.join(&entries[1])).unwrap();
        std::os::unix::fs::symlink("/proc/self/ns/net", d.join(&entries[2])).unwrap();
        std::fs::write(d.join(&entries[3]), "").unwrap();
        std::fs::write(d.join(&entries[4]), "").unwrap();
        let removed = reap_in(&d).expect("reap does not abort on a directory");
        assert!(removed.is_empty(), "{removed:?}");
        for e in &entries {
            assert!(
                std::fs::symlink_metadata(d.join(e)).is_ok(),
                "{e} is still there"
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
