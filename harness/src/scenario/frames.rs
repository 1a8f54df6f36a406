//! The model of frame-level steps: crafted frames (`send`), where a probe's frames must
//! go (`seen`, `not_seen`, `path`), and counting frames (`watch`, `check: frames`).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::values::{IfRef, Mac};

/// `send:` `count` crafted frames, `interval` apart, out of `from`.
#[derive(Debug, Clone)]
pub struct Send {
    pub from: IfRef,
    pub count: u32,
    pub interval: Duration,
    pub frame: FrameSpec,
    pub observe: Observe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArpOp {
    Request,
    Reply,
}

/// A frame to craft. A source MAC left out is the interface's own when the step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    pub src: Option<Mac>,
    pub dst: Mac,
    pub vlan: Option<u16>,
    pub body: FrameBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameBody {
    /// Any ethertype, `payload` bytes (netspec's marker first).
    Raw { ethertype: u16, payload: usize },
    Arp {
        op: ArpOp,
        /// None: the interface's own MAC.
        sender_mac: Option<Mac>,
        sender_ip: std::net::Ipv4Addr,
        /// None: the interface's own MAC (a gratuitous reply, as `arping -A` sends).
        target_mac: Option<Mac>,
        target_ip: std::net::Ipv4Addr,
    },
    Ip {
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        df: bool,
        dscp: u8,
        l4: L4,
        payload: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    IcmpEcho,
    Udp { sport: u16, dport: u16 },
    TcpSyn { sport: u16, dport: u16 },
}

/// Where a probe's own frames must and must not appear (its requests and their replies,
/// told from other traffic by the echo id and sequence, or the ARP addresses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observe {
    pub seen: Vec<IfRef>,
    pub not_seen: Vec<IfRef>,
    /// The interfaces the first request crossed, in order.
    pub path: Option<Vec<IfRef>>,
    /// The interfaces the first request's reply crossed, in order.
    pub reply_path: Option<Vec<IfRef>>,
}

impl Observe {
    pub fn is_empty(&self) -> bool {
        *self == Observe::default()
    }
}

/// `watch:` count, from this step on, the frames at `at` that match `filter`.
#[derive(Debug, Clone)]
pub struct Watch {
    pub name: String,
    pub at: IfRef,
    pub filter: FrameFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The interface received it.
    In,
    /// The interface sent it.
    Out,
}

/// Which frames a watch counts; what is left out matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameFilter {
    /// The outer ethertype or, behind an 802.1Q tag, the inner one.
    pub ethertype: Option<u16>,
    /// The VLAN id of the frame's 802.1Q tag.
    pub vlan: Option<u16>,
    pub src: Option<Mac>,
    pub dst: Option<Mac>,
    pub arp: Option<ArpOp>,
    /// The IP protocol number (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6).
    pub proto: Option<u8>,
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub direction: Option<Direction>,
}

/// How many frames: exactly, at least or at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(u64),
    AtLeast(u64),
    AtMost(u64),
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exactly(n) => write!(f, "exactly {n}"),
            Count::AtLeast(n) => write!(f, "at least {n}"),
            Count::AtMost(n) => write!(f, "at most {n}"),
        }
    }
}

impl Count {
    pub fn holds(self, n: u64) -> bool {
        match self {
            Count::Exactly(x) => n == x,
            Count::AtLeast(x) => n >= x,
            Count::AtMost(x) => n <= x,
        }
    }
}
