//! Names and keys a scenario gives that become kernel names, paths or sysctl writes:
//! what the kernel (or netspec's own folders) accept, checked once, with the reason.

use super::resolve::IFNAME_MAX;

/// Link kinds that can be probed by creating one; plus `vlan_filtering` on a bridge and
/// `br_netfilter` (bridged packets through iptables), probed by its sysctl.
pub const FEATURES: &[&str] = &[
    "bond",
    "bridge",
    "br_netfilter",
    "dummy",
    "geneve",
    "gre",
    "gretap",
    "ifb",
    "ip6gre",
    "ipvlan",
    "macvlan",
    "macvtap",
    "veth",
    "vlan",
    "vlan_filtering",
    "vrf",
    "vxlan",
    "wireguard",
];

pub(crate) fn check_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > IFNAME_MAX {
        return Err(format!(
            "it is {} bytes; the kernel allows at most {IFNAME_MAX} (IFNAMSIZ - 1)",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err("the kernel rejects `.` and `..`".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || c.is_whitespace())
    {
        return Err(format!("it contains {c:?}; the kernel rejects `/` and whitespace, and `:` separates node from interface"));
    }
    // The kernel reads `eth%d` as a template and names the link `eth0`: netspec would
    // then wait for a link that never appears.
    if name.contains('%') {
        return Err(
            "it contains '%', which the kernel reads as a name template (`eth%d` becomes `eth0`)"
                .into(),
        );
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("it contains the control character {c:?}"));
    }
    if name == "lo" {
        return Err("`lo` exists in every node already".into());
    }
    Ok(())
}

/// A scenario name becomes a folder under the report directory and part of snapshot
/// file names, so it must stay a short relative path.
pub(crate) fn check_scenario_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > 120 {
        return Err(format!("it is {} bytes; at most 120", name.len()));
    }
    if name.starts_with('/') {
        return Err("it is an absolute path".into());
    }
    for seg in name.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!("it has a `{seg}` path segment"));
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!("it contains {c:?}"));
        }
    }
    Ok(())
}

pub(crate) fn check_node_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 32 {
        return Err("use 1 to 32 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("use letters, digits, `-` and `_`".into());
    }
    Ok(())
}

/// Sysctls under `net.` that a namespace may see but that act on the whole kernel.
/// This is the one list netspec refuses; each entry says why. Never write one of these,
/// not even in a test: the change outlives the scenario and reaches the host.
pub(crate) const HOST_WIDE_SYSCTLS: &[(&str, &str)] = &[(
    "net.netfilter.nf_hooks_lwtunnel",
    "it switches on a kernel-wide static key that can never be turned off again",
)];

/// A sysctl key's parts: split at `/` when it has one (as `sysctl` reads
/// `net/ipv4/conf/eth0.1/rp_filter`), else at `.`.
fn sysctl_segments(k: &str) -> Vec<&str> {
    if k.contains('/') {
        k.split('/').collect()
    } else {
        k.split('.').collect()
    }
}

/// Why a sysctl key may not be set in a node, if it may not. Keys are written with
/// dots (`net.ipv4.ip_forward`) or, as `sysctl` also accepts, with slashes
/// (`net/ipv4/conf/eth0.1/rp_filter`), which an interface name with a dot needs. Every
/// check is made on the key's segments, so `net/netfilter/./x` cannot pass as another
/// key: an empty, `.` or `..` segment is refused first. With `declared`, a per-interface
/// key must name an interface the node declares (or `all`, `default`, `lo`).
pub(crate) fn sysctl_refusal(
    k: &str,
    ifnames: &[&str],
    declared: bool,
) -> Option<(String, String)> {
    let segments = sysctl_segments(k);
    if !valid_sysctl_key(k)
        || segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Some((
            format!("invalid sysctl `{}`", k.escape_debug()),
            "write it as `sysctl -w` does, e.g. net.ipv4.ip_forward, with no empty, `.` or `..` part".into(),
        ));
    }
    let dotted = segments.join(".");
    if segments[0] != "net" {
        return Some((
            format!("sysctl `{k}` is not per network namespace"),
            "only net.* sysctls can be set in a node; others would change the host".into(),
        ));
    }
    if let Some((_, why)) = HOST_WIDE_SYSCTLS.iter().find(|(key, _)| *key == dotted) {
        return Some((
            format!("sysctl `{k}` acts on the whole kernel, not on one namespace: {why}"),
            "netspec never changes the host; test this outside netspec".into(),
        ));
    }
    if !k.contains('/') {
        if let Some(i) = ifnames.iter().find(|i| i.contains('.') && k.contains(*i)) {
            return Some((
                format!("sysctl `{k}` names interface `{i}`, whose dot reads as a separator"),
                format!(
                    "write the key with slashes: {}",
                    k.replace(*i, "\u{1}").replace('.', "/").replace('\u{1}', i)
                ),
            ));
        }
    }
    if declared {
        if let [_, "ipv4" | "ipv6", "conf" | "neigh", ifname, _, ..] = segments.as_slice() {
            let known = ["all", "default", "lo"].contains(ifname) || ifnames.contains(ifname);
            if !known {
                let hint = match super::diag::did_you_mean(ifname, ifnames.iter().copied()) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("the node's interfaces: {}", ifnames.join(", ")),
                };
                return Some((
                    format!(
                        "sysctl `{k}` names interface `{ifname}`, which the node does not have"
                    ),
                    hint,
                ));
            }
        }
    }
    None
}

pub(crate) fn valid_sysctl_key(k: &str) -> bool {
    // Segment checks (`.`, `..`, empty) are in `sysctl_refusal`.
    !k.is_empty()
        && !k.contains("..")
        && !k.contains("//")
        && !k.starts_with(['.', '/'])
        && !k.ends_with(['.', '/'])
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

/// The scenario names of one run: a name is its report folder and its snapshots'
/// prefix, so two scenarios of one name would overwrite each other's files.
#[derive(Debug, Default)]
pub struct UniqueNames {
    seen: std::collections::BTreeMap<String, std::path::PathBuf>,
}

impl UniqueNames {
    /// Takes `name` for `file`, or says which file has it already.
    pub fn claim(&mut self, name: &str, file: &std::path::Path) -> Result<(), String> {
        match self.seen.get(name) {
            Some(first) => Err(format!(
                "scenario name `{name}` of {} is already the name of {} in this run; their reports and snapshots would overwrite each other (give one a different `name:`)",
                file.display(),
                first.display()
            )),
            None => {
                self.seen.insert(name.to_string(), file.to_path_buf());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod unique_tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_name_is_claimed_once() {
        let mut n = UniqueNames::default();
        assert!(n.claim("a/b", Path::new("a/b.yaml")).is_ok());
        assert!(n.claim("a/c", Path::new("a/c.yaml")).is_ok());
        let e = n.claim("a/b", Path::new("x.yaml")).unwrap_err();
        assert!(e.contains("x.yaml is already the name of a/b.yaml"), "{e}");
    }
}

#[cfg(test)]
mod sysctl_tests {
    use super::*;

    #[test]
    fn keys_are_judged_on_their_segments() {
        let ifs = ["eth0", "br0"];
        for bad in [
            "net/netfilter/./nf_hooks_lwtunnel",
            "net/./netfilter/nf_hooks_lwtunnel",
            "net.netfilter.nf_hooks_lwtunnel",
            "net/netfilter/nf_hooks_lwtunnel",
            "net/ipv4/../../kernel/hostname",
            "kernel.hostname",
            "net//ipv4/ip_forward",
        ] {
            assert!(sysctl_refusal(bad, &ifs, true).is_some(), "{bad} passed");
        }
        for good in [
            "net.ipv4.ip_forward",
            "net/ipv4/conf/eth0/rp_filter",
            "net.ipv4.conf.all.forwarding",
        ] {
            assert_eq!(sysctl_refusal(good, &ifs, true), None, "{good}");
        }
        let (msg, hint) = sysctl_refusal("net.ipv4.conf.eth1.forwarding", &ifs, true).unwrap();
        assert!(
            msg.contains("names interface `eth1`, which the node does not have"),
            "{msg}"
        );
        assert!(hint.contains("eth0"), "{hint}");
        assert_eq!(
            sysctl_refusal("net.ipv4.conf.eth1.forwarding", &ifs, false),
            None
        );
    }
}
