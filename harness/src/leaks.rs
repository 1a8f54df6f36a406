//! What this process still holds of network namespaces: used by tests to prove
//! that a finished scenario left nothing behind.

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

const SIOCGSKNS: libc::c_ulong = 0x894C;

/// Inode numbers of every network namespace this process references: through a
/// thread, an open namespace fd, or a socket (asked with SIOCGSKNS).
pub fn held_namespaces() -> BTreeSet<u64> {
    let mut held = BTreeSet::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(m) = std::fs::metadata(t.path().join("ns/net")) {
                held.insert(m.ino());
            }
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy().to_string();
            let Ok(n) = fd.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if target.starts_with("net:[") {
                if let Ok(m) = std::fs::metadata(fd.path()) {
                    held.insert(m.ino());
                }
            } else if target.starts_with("socket:[") {
                // SAFETY: plain ioctl; on success it returns a new fd we own.
                let ns = unsafe { libc::ioctl(n, SIOCGSKNS as _) };
                if ns >= 0 {
                    // SAFETY: ns is a fresh fd.
                    let ns = unsafe { OwnedFd::from_raw_fd(ns) };
                    if let Ok(m) = std::fs::metadata(format!("/proc/self/fd/{}", ns.as_raw_fd())) {
                        held.insert(m.ino());
                    }
                }
            }
        }
    }
    held
}

/// What a scenario must never change in the machine's own network namespace, as text:
/// its links, IPv4 and IPv6 routes and addresses, multicast memberships, a few sysctls,
/// and the entries of /run/netns. Read from the main thread's view of /proc and /sys.
pub fn host_state() -> String {
    let listing = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let mut s = format!(
        "links {:?}\n/run/netns {:?}\n",
        listing("/sys/class/net"),
        listing("/run/netns")
    );
    for f in [
        "/proc/net/route",
        "/proc/net/ipv6_route",
        "/proc/net/if_inet6",
        "/proc/net/dev_mcast",
    ] {
        s += &std::fs::read_to_string(f).unwrap_or_default();
    }
    for f in [
        "ipv4/ip_forward",
        "ipv4/conf/all/forwarding",
        "ipv6/conf/all/disable_ipv6",
        "ipv6/conf/default/disable_ipv6",
    ] {
        s += &format!(
            "{f}={}",
            std::fs::read_to_string(format!("/proc/sys/net/{f}")).unwrap_or_default()
        );
    }
    s
}
