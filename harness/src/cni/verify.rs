//! Beyond what any runtime checks: the result must match the kernel. Every interface
//! it lists exists in the namespace it names, with its MAC; every address is on the
//! interface it names; every route is in the container's main table.

use crate::netlink::{LinkState, NlError};
use crate::sandbox::Sandbox;
use crate::tool_answer::ToolResult;

/// The main routing table.
const MAIN: u32 = 254;

/// What the result claims that the kernel does not have, one line each.
pub(super) async fn differences(
    sb: &Sandbox,
    container: &str,
    host: &str,
    r: &ToolResult,
) -> Result<Vec<String>, NlError> {
    let c_links = sb.nl(container).links().await?;
    let h_links = sb.nl(host).links().await?;
    let c_addrs = sb.nl(container).addresses().await?;
    let h_addrs = sb.nl(host).addresses().await?;
    let mut out = Vec::new();
    let side = |in_container: bool| {
        if in_container {
            (container, &c_links, &c_addrs)
        } else {
            (host, &h_links, &h_addrs)
        }
    };
    let mut found: Vec<Option<&LinkState>> = Vec::new();
    for i in &r.interfaces {
        let (node, links, _) = side(i.in_container);
        let link = links.iter().find(|l| l.name == i.name);
        match (link, &i.mac) {
            (None, _) => out.push(format!("interface {} is not in {node}", i.name)),
            (Some(l), Some(mac)) if l.mac.map(|m| m.to_string()) != Some(mac.clone()) => {
                out.push(format!(
                    "{node}:{} has MAC {}, not {mac}",
                    i.name,
                    l.mac.map_or("(none)".into(), |m| m.to_string())
                ))
            }
            _ => {}
        }
        found.push(link);
    }
    for ip in &r.ips {
        let (node, link) = match ip.interface {
            Some(n) => (side(r.interfaces[n].in_container).0, found[n]),
            None => (container, None),
        };
        let addrs = if node == container {
            &c_addrs
        } else {
            &h_addrs
        };
        let on = addrs
            .iter()
            .any(|a| a.cidr == ip.cidr && link.is_none_or(|l| l.index == a.index));
        let unlisted = ip.interface.is_some() && link.is_none();
        if !on && !unlisted {
            let place = link.map_or(node.to_string(), |l| format!("{node}:{}", l.name));
            out.push(format!("address {} is not on {place}", ip.cidr));
        }
    }
    if !r.routes.is_empty() {
        let routes = sb.nl(container).routes().await?;
        for want in &r.routes {
            let there = routes.iter().any(|k| {
                k.table == MAIN
                    && k.dst.network() == want.dst.network()
                    && want.gw.is_none_or(|g| k.via == Some(g))
            });
            if !there {
                let via = want.gw.map(|g| format!(" via {g}")).unwrap_or_default();
                out.push(format!(
                    "route {}{via} is not in {container}'s main table",
                    want.dst
                ));
            }
        }
    }
    Ok(out)
}
