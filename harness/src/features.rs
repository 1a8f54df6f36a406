//! Kernel features a scenario can require (`requires: [vlan, vlan_filtering]`), probed
//! once per process in a scratch namespace. A scenario whose feature is missing is
//! reported as skipped with the reason, never as passed.

use std::collections::HashMap;
use std::sync::Mutex;

use netlink_packet_route::link::InfoKind;
use rtnetlink::{LinkBridge, LinkMessageBuilder, LinkUnspec};

use crate::netlink;
use crate::netns::Netns;

/// The names `requires:` takes (the scenario format owns the list; this module probes
/// them).
pub const KNOWN: &[&str] = crate::scenario::FEATURES;

static PROBED: Mutex<Option<HashMap<String, Option<String>>>> = Mutex::new(None);

/// None when the kernel has `feature`, else why not (the kernel's own answer).
pub fn missing(feature: &str) -> Option<String> {
    let mut cache = PROBED.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(r) = cache.get(feature) {
        return r.clone();
    }
    let r = probe(feature);
    cache.insert(feature.to_string(), r.clone());
    r
}

fn probe(feature: &str) -> Option<String> {
    if feature == "br_netfilter" {
        return probe_br_netfilter();
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Some(format!("cannot probe it: {e}")),
    };
    rt.block_on(async {
        let (_ns, fd) = match Netns::spawn_create(netlink::open_socket).map(|h| h.join()) {
            Ok(Ok(Ok(x))) => x,
            _ => return Some("cannot probe it: no scratch namespace".to_string()),
        };
        let nl = netlink::connect(fd, "probe");
        let msg = if feature == "vlan_filtering" {
            LinkBridge::new("probe0").vlan_filtering(true).build()
        } else {
            LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Other(
                feature.to_string(),
            ))
            .name("probe0".to_string())
            .build()
        };
        match nl.handle.link().add(msg).execute().await {
            // Only "not supported" means missing: other errors (a vlan needs a parent, say)
            // come from a kernel that knows the kind.
            Err(rtnetlink::Error::NetlinkError(m))
                if m.code.is_some_and(|c| -c.get() == libc::EOPNOTSUPP) =>
            {
                Some(format!(
                    "the kernel lacks {feature}: {}",
                    netlink::describe(&rtnetlink::Error::NetlinkError(m))
                ))
            }
            _ => None,
        }
    })
}

/// Runs the kernel's own `modprobe`; its failure shows as the feature still missing.
fn load_module(name: &str) {
    let _ = std::process::Command::new("modprobe")
        .arg(name)
        .env("PATH", "/usr/sbin:/sbin:/usr/bin:/bin")
        .stdin(std::process::Stdio::null())
        .status();
}

/// br_netfilter shows itself as `net.bridge.bridge-nf-call-iptables` in every namespace.
/// The kernel never loads it on demand. In netspec's VM the whole kernel belongs to the
/// test, so netspec loads it; on the machine itself it never does (that would change
/// the host), and the scenario is skipped.
fn probe_br_netfilter() -> Option<String> {
    let key = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    if crate::vm::inside() && !std::path::Path::new(key).exists() {
        load_module("br_netfilter");
    }
    match Netns::spawn_create(move || Ok(std::path::Path::new(key).exists())).map(|h| h.join()) {
        Ok(Ok(Ok((_ns, true)))) => None,
        Ok(Ok(Ok((_ns, false)))) => Some(format!(
            "the kernel lacks br_netfilter: there is no {key} (CONFIG_BRIDGE_NETFILTER, or `modprobe br_netfilter` on the host)"
        )),
        _ => Some("cannot probe br_netfilter: no scratch namespace".to_string()),
    }
}
