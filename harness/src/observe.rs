//! Observing a probe's frames: taps on the interfaces a step names, opened before the
//! probe sends, drained after it, and the probe's own frames picked out of what they
//! saw. The verdict is `expect::observed`.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;

use crate::probe::capture::{self, Frame, Tap};
use crate::probe::frame::{self, Payload};
use crate::sandbox::Sandbox;
use crate::scenario::{IfRef, Mac, NodeName, Observe, Scenario};

/// One of the probe's frames, where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sighting {
    pub at: IfRef,
    /// A reply (else a request).
    pub reply: bool,
    /// The echo sequence (1 for the first request); 1 for ARP.
    pub seq: u16,
    pub outgoing: bool,
    /// The frame in one line, MACs annotated by owner.
    pub line: String,
}

/// The interfaces to tap: every interface of the scenario when a path is asked (a path
/// must show where else the frames went), else the ones named.
pub(crate) fn interfaces(o: &Observe, sc: &Scenario) -> Vec<IfRef> {
    if o.path.is_some() || o.reply_path.is_some() {
        return sc.interface_refs().collect();
    }
    let mut v: Vec<IfRef> = o.seen.iter().chain(&o.not_seen).cloned().collect();
    v.sort();
    v.dedup();
    v
}

/// Opens the taps, one thread per node, before the probe sends.
pub(crate) fn open(sb: &Sandbox, ifaces: Vec<IfRef>) -> io::Result<Vec<Tap>> {
    open_with_buffer(sb, ifaces, None)
}

/// Like `open`, with a receive buffer of `bytes` per tap.
pub(crate) fn open_with_buffer(
    sb: &Sandbox,
    ifaces: Vec<IfRef>,
    bytes: Option<i32>,
) -> io::Result<Vec<Tap>> {
    let mut by_node: BTreeMap<NodeName, Vec<IfRef>> = BTreeMap::new();
    for r in ifaces {
        by_node.entry(r.node.clone()).or_default().push(r);
    }
    let mut taps = Vec::new();
    for (node, refs) in by_node {
        taps.extend(capture::open(sb.ns(&node), refs, bytes)?);
    }
    Ok(taps)
}

/// Who owns a MAC, as `node:if`, for annotating frames.
pub(crate) fn owner_of(sc: &Scenario) -> impl Fn(Mac) -> Option<String> + '_ {
    |m| sc.mac_owner(m).map(|o| o.to_string())
}

/// The frames of the ping whose echoes carry `id`.
pub(crate) fn of_ping(frames: &[Frame], id: u16, sc: &Scenario) -> Vec<Sighting> {
    pick(frames, sc, |p| match p {
        Payload::Echo {
            request,
            id: i,
            seq,
            ..
        } if *i == id => Some((!request, *seq)),
        _ => None,
    })
}

/// The frames of an arping from `mac`/`ip` asking for `target`, and the replies to it.
pub(crate) fn of_arping(
    frames: &[Frame],
    mac: Mac,
    ip: Ipv4Addr,
    target: Ipv4Addr,
    sc: &Scenario,
) -> Vec<Sighting> {
    pick(frames, sc, |p| match p {
        Payload::Arp {
            request: true,
            sender_mac,
            sender_ip,
            target_ip,
        } if *sender_mac == mac && *sender_ip == ip && *target_ip == target => Some((false, 1)),
        Payload::Arp {
            request: false,
            sender_ip,
            target_ip,
            ..
        } if *sender_ip == target && *target_ip == ip => Some((true, 1)),
        _ => None,
    })
}

/// The crafted frames that carry `marker`, and the echo replies that carry it back.
pub(crate) fn of_send(frames: &[Frame], marker: &[u8; 8], sc: &Scenario) -> Vec<Sighting> {
    let owner = owner_of(sc);
    frames
        .iter()
        .filter(|f| f.bytes.windows(marker.len()).any(|w| w == marker))
        .filter_map(|f| {
            let d = frame::decode(&f.bytes)?;
            let reply = matches!(d.payload, Payload::Echo { request: false, .. });
            Some(Sighting {
                at: f.at.clone(),
                reply,
                seq: 1,
                outgoing: f.outgoing,
                line: frame::describe(&d, &owner),
            })
        })
        .collect()
}

fn pick(
    frames: &[Frame],
    sc: &Scenario,
    ours: impl Fn(&Payload) -> Option<(bool, u16)>,
) -> Vec<Sighting> {
    let owner = owner_of(sc);
    frames
        .iter()
        .filter_map(|f| {
            let d = frame::decode(&f.bytes)?;
            let (reply, seq) = ours(&d.payload)?;
            Some(Sighting {
                at: f.at.clone(),
                reply,
                seq,
                outgoing: f.outgoing,
                line: frame::describe(&d, &owner),
            })
        })
        .collect()
}
