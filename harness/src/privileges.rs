//! The privilege check: creating namespaces needs CAP_SYS_ADMIN, configuring them
//! CAP_NET_ADMIN, and raw ICMP and ARP sockets CAP_NET_RAW.

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_ADMIN: u32 = 21;

/// None when the process can run scenarios, else the one line that says what is missing.
pub fn missing_privileges() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let missing: Vec<&str> = [
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        (CAP_NET_RAW, "CAP_NET_RAW"),
    ]
    .iter()
    .filter(|(bit, _)| eff & (1 << bit) == 0)
    .map(|(_, n)| *n)
    .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "netspec needs {} to create and configure network namespaces: run as root (sudo -E cargo test)",
            missing.join(", ")
        )
    })
}

/// Rootless mode: when the process lacks the capabilities but may create user
/// namespaces, it moves itself into a new user, network and mount namespace, where it holds
/// them. This must run before any thread starts (the kernel refuses CLONE_NEWUSER in a
/// threaded process), so the test harness and the CLI call it first thing.
/// The new network namespace becomes the "machine's own" for this run: scenarios cannot
/// reach the real one at all. `NETSPEC_NO_USERNS=1` turns this off.
///
/// Returns true when it switched.
pub fn enter_user_namespace_if_needed() -> bool {
    if missing_privileges().is_none() || std::env::var_os("NETSPEC_NO_USERNS").is_some() {
        return false;
    }
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    // A mount namespace of its own too: the run's private tmpfs (`scratch`) may only be
    // made by a process that owns its mount namespace.
    if nix::sched::unshare(
        nix::sched::CloneFlags::CLONE_NEWUSER
            | nix::sched::CloneFlags::CLONE_NEWNET
            | nix::sched::CloneFlags::CLONE_NEWNS,
    )
    .is_err()
    {
        return false;
    }
    // Map ourselves to root inside; setgroups must be denied before an unprivileged gid_map.
    let ok = std::fs::write("/proc/self/setgroups", "deny").is_ok()
        && std::fs::write("/proc/self/uid_map", format!("0 {uid} 1")).is_ok()
        && std::fs::write("/proc/self/gid_map", format!("0 {gid} 1")).is_ok();
    ok && missing_privileges().is_none()
}
