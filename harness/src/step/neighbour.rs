//! Why a probe that should have been answered was not, when the cause is a
//! neighbour entry an earlier step left INCOMPLETE. The kernel queues new packets
//! on such an entry and asks again only when its retransmit timer fires (every
//! `retrans_time_ms`, 1 s by default), not when a link comes back up: whether the
//! answer lands inside the probe's timeout then depends on when that earlier step
//! ran. The verdict stays the kernel's; this note says why it can vary.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use netlink_packet_route::neighbour::NeighbourState;

use crate::netlink::Lookup;
use crate::probe::fmt_ms;
use crate::sandbox::Sandbox;
use crate::scenario::Scenario;

/// A packet's way out of `node` towards `to`: the interface and the address whose
/// neighbour entry it needs.
struct Hop {
    node: String,
    dev: String,
    index: u32,
    addr: IpAddr,
}

/// Notes for the sender's entry for its next hop and, when the target is a node of
/// the scenario, the target's entry for the way back; empty when neither entry is
/// an INCOMPLETE one older than the step.
pub(super) async fn left_over(
    sb: &Sandbox,
    sc: &Scenario,
    from: &str,
    to: IpAddr,
    started: Instant,
) -> Vec<String> {
    let mut notes = Vec::new();
    let Some((out, src)) = hop(sb, from, to, None).await else {
        return notes;
    };
    notes.extend(stale_incomplete(sb, &out, started).await);
    let back = match (src, sc.address_owner(to)) {
        (Some(src), Some(target)) => hop(sb, target, src, Some(to)).await,
        _ => None,
    };
    if let Some((back, _)) = back {
        notes.extend(stale_incomplete(sb, &back, started).await);
    }
    notes
}

/// The route from `node` to `to` (from `src` when given), and the source address
/// the kernel picked.
async fn hop(
    sb: &Sandbox,
    node: &str,
    to: IpAddr,
    src: Option<IpAddr>,
) -> Option<(Hop, Option<IpAddr>)> {
    let how = Lookup {
        from: src,
        ..Lookup::default()
    };
    // `ip route get`, with names, as a route check asks it.
    let r = crate::state::route_lookup(sb.nl(node), to, &how)
        .await
        .ok()??;
    let dev = r.dev?;
    let next = Hop {
        node: node.to_string(),
        index: sb.index(node, &dev).await.ok()?,
        dev,
        addr: r.via.unwrap_or(to),
    };
    Some((next, r.src))
}

/// The note for `hop`'s entry, if it is INCOMPLETE and changed state before the step.
async fn stale_incomplete(sb: &Sandbox, hop: &Hop, started: Instant) -> Option<String> {
    let e = sb
        .nl(&hop.node)
        .neigh_get(hop.index, hop.addr, false)
        .await
        .ok()??;
    let age = e.updated_ago?;
    // The kernel's age has a 10 ms grain: only an entry clearly older than the step
    // was left by an earlier one.
    let step_age = started.elapsed() + Duration::from_millis(10);
    if e.state != NeighbourState::Incomplete || age <= step_age {
        return None;
    }
    let family = if hop.addr.is_ipv4() { "ipv4" } else { "ipv6" };
    let retrans = sb
        .read_sysctl(
            &hop.node,
            &format!("net/{family}/neigh/{}/retrans_time_ms", hop.dev),
        )
        .map_or_else(
            || "its retransmit time".to_string(),
            |ms| format!("{ms} ms"),
        );
    Some(note(hop, age - started.elapsed().min(age), &retrans))
}

fn note(hop: &Hop, before: Duration, retrans: &str) -> String {
    format!(
        "{}'s neighbour entry for {} on {} was left INCOMPLETE by an earlier step \
         (about {} before this one): the kernel holds packets for it and asks \
         again only every {retrans}, not when a link comes up, so whether this step is \
         answered in time depends on when that step ran; `neigh: {{node: {}, flush: {}}}` \
         before this step makes it ask at once",
        hop.node,
        hop.addr,
        hop.dev,
        fmt_ms(before),
        hop.node,
        hop.dev
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_entry_the_timer_and_the_remedy() {
        let hop = Hop {
            node: "net1".into(),
            dev: "eth0".into(),
            index: 2,
            addr: "10.0.0.2".parse().unwrap(),
        };
        let n = note(&hop, Duration::from_millis(300), "1000 ms");
        assert!(
            n.starts_with("net1's neighbour entry for 10.0.0.2 on eth0"),
            "{n}"
        );
        assert!(n.contains("about 300.000 ms before this one)"), "{n}");
        assert!(n.contains("every 1000 ms"), "{n}");
        assert!(n.contains("`neigh: {node: net1, flush: eth0}`"), "{n}");
    }
}
