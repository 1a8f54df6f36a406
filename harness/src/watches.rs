//! The watches a run has started (`watch:` steps): a tap each, kept open until the run
//! ends, and a count of the frames that matched its filter since it started.

use std::collections::BTreeMap;
use std::io;

use crate::observe;
use crate::probe::capture::{loss_text, Frame};
use crate::probe::frame;
use crate::probe::stream::{Sink, Stream};
use crate::sandbox::Sandbox;
use crate::scenario::{ArpOp, Direction, FrameFilter, Scenario, Watch};

/// Room for frames that come faster than the watch's thread reads them.
const BUFFER: i32 = 16 << 20;
/// How many of the latest matching frames a verdict shows.
const SHOWN: usize = 5;

/// Counts the frames that match, as its stream reads them.
struct Counter {
    filter: FrameFilter,
    count: u64,
    recent: std::collections::VecDeque<Frame>,
}

impl Sink for Counter {
    fn frame(&mut self, f: Frame) {
        if matches(&self.filter, &f) {
            self.count += 1;
            self.recent.push_back(f);
            if self.recent.len() > SHOWN {
                self.recent.pop_front();
            }
        }
    }
}

/// What a watch has counted so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    pub count: u64,
    /// The latest matching frames, one line each.
    pub recent: Vec<String>,
    /// Frames the kernel dropped before the watch could read them, where: the count
    /// is then a lower bound, and no check may pass on it.
    pub lost: Option<String>,
}

#[derive(Default)]
pub(crate) struct Watches {
    started: BTreeMap<String, Stream<Counter>>,
}

impl Watches {
    pub(crate) fn start(&mut self, sb: &Sandbox, w: &Watch) -> io::Result<()> {
        let taps = observe::open_with_buffer(sb, vec![w.at.clone()], Some(BUFFER))?;
        let counter = Counter {
            filter: w.filter.clone(),
            count: 0,
            recent: Default::default(),
        };
        self.started
            .insert(w.name.clone(), Stream::start(taps, counter)?);
        Ok(())
    }

    /// The watch's count so far: every frame the kernel queued before this call.
    pub(crate) fn tally(&mut self, name: &str, sc: &Scenario) -> io::Result<Tally> {
        let stream = self
            .started
            .get(name)
            .ok_or_else(|| io::Error::other(format!("watch {name} was not started")))?;
        let owner = observe::owner_of(sc);
        stream.with(|c, lost| Tally {
            count: c.count,
            recent: c
                .recent
                .iter()
                .filter_map(|f| {
                    let d = frame::decode(&f.bytes)?;
                    let dir = if f.outgoing { "out" } else { "in " };
                    Some(format!("{dir} {}", frame::describe(&d, &owner)))
                })
                .collect(),
            lost: loss_text(lost),
        })
    }

    /// Stops every watch and closes its tap.
    pub(crate) fn close(self) {
        for (_, s) in self.started {
            let _ = s.finish(|_, _| ());
        }
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
    let outer = u16::from_be_bytes([f.bytes[12], f.bytes[13]]);
    filter
        .ethertype
        .is_none_or(|t| t == ethertype || t == outer)
        && filter.vlan.is_none_or(|v| d.vlan == Some(v))
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
