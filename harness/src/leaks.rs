//! What this process still holds of network namespaces: used by tests to prove
//! that a finished scenario left nothing behind.

use std::collections::BTreeSet;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

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

/// Every interface name that the scenarios under `dirs` declare: what netspec could
/// create, so the only links of the machine's own namespace worth comparing.
pub fn suite_interfaces(dirs: &[&Path]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for d in dirs {
        for f in crate::Harness::new(d).discover() {
            for sc in crate::load_variants(d, &f).unwrap_or_default() {
                for n in &sc.nodes {
                    names.extend(n.interfaces.iter().map(|i| i.name.to_string()));
                }
            }
        }
    }
    names
}

/// What a scenario must never change in the machine's own network namespace, as text,
/// limited to what netspec could have changed, so that other programs on the machine
/// cannot make a comparison fail: the links named in `ifnames` and their addresses,
/// routes and multicast memberships, netspec's own entries of /run/netns, the
/// sysctls netspec writes most, and the machine's netfilter rules that a CNI plugin or
/// netavark would write (lines naming CNI or NETAVARK chains), which must stay in the
/// nodes. Read from the main thread's view of /proc and /sys.
pub fn host_state(ifnames: &BTreeSet<String>) -> String {
    let ours = |dev: &str| ifnames.contains(dev);
    let listing = |dir: &str, keep: &dyn Fn(&str) -> bool| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| keep(n))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let mut s = format!(
        "links {:?}\n/run/netns {:?}\n",
        listing("/sys/class/net", &ours),
        listing("/run/netns", &|n: &str| n.starts_with("netspec-"))
    );
    // The device is the first column of these files and the last of the others.
    for (f, first) in [
        ("/proc/net/route", true),
        ("/proc/net/dev_mcast", false),
        ("/proc/net/ipv6_route", false),
        ("/proc/net/if_inet6", false),
    ] {
        for line in std::fs::read_to_string(f).unwrap_or_default().lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let dev = if first {
                cols.first()
            } else if f.ends_with("dev_mcast") {
                cols.get(1)
            } else {
                cols.last()
            };
            if dev.is_some_and(|d| ours(d)) {
                s += line;
                s += "\n";
            }
        }
    }
    s += &container_rules();
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

/// The processes whose command line is `sleep SECONDS` for one of `seconds`: how the
/// tests spot a command's children that might outlive it.
pub fn sleepers(seconds: &[&str]) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|p| p.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            seconds
                .iter()
                .any(|s| cmd == format!("sleep\0{s}\0").as_bytes())
        })
        .collect()
}

/// The machine's own netfilter rules that container network tools write, from
/// `iptables-save` and `nft list ruleset` (read-only; nothing when a tool is missing).
fn container_rules() -> String {
    let mut out = String::new();
    for argv in [
        &["iptables-save"][..],
        &["ip6tables-save"],
        &["nft", "list", "ruleset"],
    ] {
        let Ok(o) = std::process::Command::new(argv[0])
            .args(&argv[1..])
            .env("PATH", "/usr/sbin:/sbin:/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
        else {
            continue;
        };
        out += &container_lines(argv[0], &String::from_utf8_lossy(&o.stdout));
    }
    out
}

/// The lines of a ruleset dump that name CNI or NETAVARK chains, each labelled.
fn container_lines(tool: &str, dump: &str) -> String {
    let mut out = String::new();
    for line in dump.lines().map(str::trim) {
        // Comments carry dates; the rules themselves do not change on their own.
        if line.starts_with('#') || !(line.contains("CNI") || line.contains("NETAVARK")) {
            continue;
        }
        out += &format!("{tool}: {line}\n");
    }
    out
}

/// Serialises the tests that compare the machine's state across processes too
/// (`cargo nextest run` gives each test a process of its own, where a mutex would not
/// do): an exclusive `flock` on a file of netspec's own in the temp directory, released
/// when the guard drops.
#[derive(Debug)]
pub struct HostLock {
    /// Holding the file holds the lock; closing it releases the lock.
    _file: std::fs::File,
}

impl HostLock {
    pub fn acquire() -> std::io::Result<HostLock> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::temp_dir().join("netspec-host-state.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)?;
        // SAFETY: flock on our own open file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(HostLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_tools_chain_in_the_machines_rules_is_part_of_its_state() {
        let dump = "# Generated by iptables-save on a date\n*nat\n:CNI-HOSTPORT-DNAT - [0:0]\n-A PREROUTING -j CNI-HOSTPORT-DNAT\n:DOCKER - [0:0]\nCOMMIT\n";
        assert_eq!(
            container_lines("iptables-save", dump),
            "iptables-save: :CNI-HOSTPORT-DNAT - [0:0]\niptables-save: -A PREROUTING -j CNI-HOSTPORT-DNAT\n"
        );
        assert_eq!(container_lines("nft", "table ip filter {\n}\n"), "");
    }
}
