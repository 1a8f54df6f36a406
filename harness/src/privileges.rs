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
