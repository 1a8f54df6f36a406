//! The watches a run has started (`watch:` steps): a tap each, kept open until the run
//! ends, and a count of the frames that matched its filter since it started.

use std::collections::BTreeMap;
use std::io;

use crate::observe;
use crate::probe::capture::{self, Frame, Tap};
use crate::probe::frame;
use crate::sandbox::Sandbox;
use crate::scenario::{ArpOp, Direction, FrameFilter, Scenario, Watch};

/// Room for the frames between two reads.
const BUFFER: i32 = 4 << 20;
/// How many of the latest matching frames a verdict shows.
const SHOWN: usize = 5;

struct Counter {
    tap: Tap,
    filter: FrameFilter,
    count: u64,
    recent: Vec<String>,
}

/// What a watch has counted so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    pub count: u64,
    /// The latest matching frames, one line each.
    pub recent: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Watches {
    started: BTreeMap<String, Counter>,
}

impl Watches {
    pub(crate) fn start(&mut self, sb: &Sandbox, w: &Watch) -> io::Result<()> {
        let mut taps = observe::open_with_buffer(sb, vec![w.at.clone()], Some(BUFFER))?;
        let tap = taps.pop().expect("one tap for one interface");
        self.started.insert(
            w.name.clone(),
            Counter {
                tap,
                filter: w.filter.clone(),
                count: 0,
                recent: Vec::new(),
            },
        );
        Ok(())
    }

    /// Reads the watch's tap and returns its count so far.
    pub(crate) fn tally(&mut self, name: &str, sc: &Scenario) -> io::Result<Tally> {
        let c = self
            .started
            .get_mut(name)
            .ok_or_else(|| io::Error::other(format!("watch {name} was not started")))?;
        let mut frames = Vec::new();
        capture::read_now(std::slice::from_ref(&c.tap), &mut frames)?;
        let owner = observe::owner_of(sc);
        for f in frames.iter().filter(|f| matches(&c.filter, f)) {
            c.count += 1;
            if let Some(d) = frame::decode(&f.bytes) {
                let dir = if f.outgoing { "out" } else { "in " };
                c.recent
                    .push(format!("{dir} {}", frame::describe(&d, &owner)));
                if c.recent.len() > SHOWN {
                    c.recent.remove(0);
                }
            }
        }
        Ok(Tally {
            count: c.count,
            recent: c.recent.clone(),
        })
    }

    /// Closes every tap.
    pub(crate) fn close(self) {
        capture::close(self.started.into_values().map(|c| c.tap).collect());
    }
}

/// Whether a frame passes every part of the filter that is given.
pub(crate) fn matches(filter: &FrameFilter, f: &Frame) -> bool {
    let Some(d) = frame::decode(&f.bytes) else {
        return false;
    };
    let (ethertype, ip) = frame::ip_info(&f.bytes);
    let arp_op = match d.payload {
        frame::Payload::Arp { request, .. } => Some(if request {
            ArpOp::Request
        } else {
            ArpOp::Reply
        }),
        _ => None,
    };
    let dir = if f.outgoing {
        Direction::Out
    } else {
        Direction::In
    };
    filter.ethertype.is_none_or(|t| t == ethertype)
        && filter.src.is_none_or(|m| m == d.src)
        && filter.dst.is_none_or(|m| m == d.dst)
        && filter.arp.is_none_or(|op| arp_op == Some(op))
        && filter.direction.is_none_or(|x| x == dir)
        && filter
            .proto
            .is_none_or(|p| ip.is_some_and(|i| i.proto == p))
        && filter.src_ip.is_none_or(|a| ip.is_some_and(|i| i.src == a))
        && filter.dst_ip.is_none_or(|a| ip.is_some_and(|i| i.dst == a))
        && filter
            .sport
            .is_none_or(|p| ip.is_some_and(|i| i.sport == Some(p)))
        && filter
            .dport
            .is_none_or(|p| ip.is_some_and(|i| i.dport == Some(p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{IfRef, Mac};

    fn frame(bytes: Vec<u8>, outgoing: bool) -> Frame {
        Frame {
            at: IfRef {
                node: "h".into(),
                ifname: "eth0".into(),
            },
            when: std::time::Duration::ZERO,
            outgoing,
            bytes,
        }
    }

    fn udp(dport: u16) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
        f.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x9c, 0x40]);
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0, 8, 0, 0]);
        f
    }

    #[test]
    fn every_given_part_of_a_filter_must_match() {
        let f = frame(udp(53), true);
        assert!(
            matches(&FrameFilter::default(), &f),
            "an empty filter matches all"
        );
        let by = |filter: FrameFilter| matches(&filter, &f);
        assert!(by(FrameFilter {
            ethertype: Some(0x0800),
            proto: Some(17),
            dport: Some(53),
            src_ip: Some("10.0.0.1".parse().unwrap()),
            src: Some(Mac([2, 0, 0, 0, 0, 1])),
            direction: Some(Direction::Out),
            ..FrameFilter::default()
        }));
        assert!(!by(FrameFilter {
            dport: Some(54),
            ..FrameFilter::default()
        }));
        assert!(!by(FrameFilter {
            direction: Some(Direction::In),
            ..FrameFilter::default()
        }));
        assert!(
            !by(FrameFilter {
                arp: Some(ArpOp::Request),
                ..FrameFilter::default()
            }),
            "a UDP frame is no ARP request"
        );
        assert!(!by(FrameFilter {
            proto: Some(6),
            ..FrameFilter::default()
        }));
    }
}
