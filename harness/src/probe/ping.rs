//! ICMP and ICMPv6 echo over raw sockets.
//!
//! Raw, not datagram, sockets: `SOCK_DGRAM` ICMP fails with EACCES in a fresh namespace
//! (`ping_group_range` is "1 0"). A raw ICMP socket also receives the ICMP errors that
//! routers and the local stack send back, which is how the verdict can say who answered.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use super::{checksum, fmt_duration, fmt_ms, setsockopt, socket};
use crate::netns::Netns;
use crate::scenario::Ping;

static NEXT_ID: AtomicU16 = AtomicU16::new(0);

/// What the network or the kernel said instead of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `sendto` failed: the local kernel refused to send (no route, message too long, ...).
    Send(String),
    /// An ICMP error came back.
    Icmp { from: IpAddr, what: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Send(e) => write!(f, "the kernel refused to send: {e}"),
            Refusal::Icmp { from, what } => write!(f, "{what}, from {from}"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PingResult {
    pub sent: u32,
    pub rtts: Vec<Duration>,
    pub refusal: Option<Refusal>,
    pub timeout: Duration,
    /// The step's time bound ran out before the probe had its answer.
    pub cut_short: bool,
    /// The ICMP id of its echoes, which tells its frames from any others.
    pub id: u16,
}

impl PingResult {
    pub(crate) fn received(&self) -> u32 {
        self.rtts.len() as u32
    }

    /// The address whose ICMP error answered the ping, if one did.
    pub(crate) fn answered_by(&self) -> Option<String> {
        match &self.refusal {
            Some(Refusal::Icmp { from, .. }) => Some(from.to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for PingResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} replies", self.received(), self.sent)?;
        if !self.rtts.is_empty() {
            let min = self.rtts.iter().min().copied().unwrap_or_default();
            let max = self.rtts.iter().max().copied().unwrap_or_default();
            let avg = self.rtts.iter().sum::<Duration>() / self.rtts.len() as u32;
            write!(
                f,
                ", rtt min/avg/max {}/{}/{}",
                fmt_ms(min),
                fmt_ms(avg),
                fmt_ms(max)
            )?;
        }
        match &self.refusal {
            Some(r) => write!(f, "; {r}"),
            None if self.cut_short => write!(f, "; cut short by the step's time bound"),
            None if self.received() < self.sent => {
                write!(f, "; no reply within {}", fmt_duration(self.timeout))
            }
            None => Ok(()),
        }
    }
}

/// Sends `p.count` echo requests one after another, each waiting up to `p.timeout`,
/// and never waits past `until` (the step's time bound): the probe is then cut short.
pub(crate) fn ping(ns: &Netns, p: &Ping, until: Instant) -> io::Result<PingResult> {
    ping_many(&[(ns, p)], until)
        .pop()
        .unwrap_or_else(|| Err(io::Error::other("no ping ran")))
}

/// Runs every ping of `list` at once on the calling thread, each as `ping` would: the
/// sockets of one namespace open on one thread that enters it, and one poll waits for
/// the answers of all of them. No thread per ping: a `pings` step of a hundred probes
/// would otherwise create two hundred threads.
pub(crate) fn ping_many(list: &[(&Netns, &Ping)], until: Instant) -> Vec<io::Result<PingResult>> {
    let mut fds: Vec<Option<io::Result<OwnedFd>>> = list.iter().map(|_| None).collect();
    // Each namespace's pings, by index, in one group.
    let mut by_ns: std::collections::BTreeMap<_, (&Netns, Vec<usize>)> = Default::default();
    for (i, (ns, _)) in list.iter().enumerate() {
        by_ns
            .entry(ns.raw_fd())
            .or_insert((*ns, Vec::new()))
            .1
            .push(i);
    }
    for (ns, mine) in by_ns.into_values() {
        let wanted: Vec<(bool, Option<crate::scenario::IfName>, bool)> = mine
            .iter()
            .map(|&i| {
                (
                    list[i].1.to.is_ipv6(),
                    list[i].1.from_if.clone(),
                    list[i].1.df,
                )
            })
            .collect();
        let opened = ns.run_in(move || {
            Ok(wanted
                .iter()
                .map(|(v6, bind_if, df)| open(*v6, bind_if.as_deref(), *df))
                .collect::<Vec<_>>())
        });
        match opened {
            Ok(each) => mine.iter().zip(each).for_each(|(&i, fd)| fds[i] = Some(fd)),
            Err(e) => mine.iter().for_each(|&i| {
                fds[i] = Some(Err(io::Error::new(e.kind(), e.to_string())));
            }),
        }
    }
    let mut probes: Vec<io::Result<Probe<'_>>> = list
        .iter()
        .zip(fds)
        .map(|((_, p), fd)| {
            let fd = fd.unwrap_or_else(|| Err(io::Error::other("no socket")))?;
            Ok(Probe::start(p, fd, until))
        })
        .collect();
    run_all(&mut probes, until);
    probes
        .into_iter()
        .map(|p| {
            p.and_then(|p| match p.failed {
                Some(e) => Err(e),
                None => Ok(p.result),
            })
        })
        .collect()
}

/// One ping in flight: its socket, the echo it waits for, and what it has so far.
struct Probe<'a> {
    p: &'a Ping,
    fd: OwnedFd,
    v6: bool,
    seq: u16,
    count: u16,
    sent_at: Instant,
    /// When the current echo's own timeout runs out.
    own: Instant,
    done: bool,
    /// Reading its socket failed: the probe has no verdict, the step is broken.
    failed: Option<io::Error>,
    result: PingResult,
}

impl<'a> Probe<'a> {
    fn start(p: &'a Ping, fd: OwnedFd, until: Instant) -> Probe<'a> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) ^ (std::process::id() as u16);
        let now = Instant::now();
        let mut probe = Probe {
            p,
            fd,
            v6: p.to.is_ipv6(),
            seq: 0,
            // Resolve checked that the count fits the 16-bit sequence numbers.
            count: u16::try_from(p.count).unwrap_or(u16::MAX),
            sent_at: now,
            own: now,
            done: false,
            failed: None,
            result: PingResult {
                sent: 0,
                rtts: Vec::new(),
                refusal: None,
                timeout: p.timeout,
                cut_short: false,
                id,
            },
        };
        probe.next(until);
        probe
    }

    /// Sends the next echo request, or ends the probe: all sent, the step's bound
    /// reached, or the kernel refused to send.
    fn next(&mut self, until: Instant) {
        if self.seq >= self.count {
            self.done = true;
            return;
        }
        if Instant::now() >= until {
            self.result.cut_short = true;
            self.done = true;
            return;
        }
        self.seq += 1;
        let pkt = echo_request(self.v6, self.result.id, self.seq, self.p.size as usize);
        self.sent_at = Instant::now();
        self.own = self.sent_at + self.p.timeout;
        self.result.sent += 1;
        if let Err(e) = send_to(&self.fd, &pkt, self.p.to) {
            self.result.refusal = Some(Refusal::Send(errno_text(&e)));
            self.done = true;
        }
    }

    fn deadline(&self, until: Instant) -> Instant {
        self.own.min(until)
    }

    /// Reads what is queued on the socket; true when the awaited echo was answered.
    fn read(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 2048];
        loop {
            // Never blocks: one poll serves every probe, and the socket stays blocking
            // for sends.
            let (n, from) = match recv_queued(&self.fd, &mut buf) {
                Ok(x) => x,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::EAGAIN) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            let (id, seq) = (self.result.id, self.seq);
            let parsed = if self.v6 {
                parse_v6(&buf[..n], id, seq)
            } else {
                parse_v4(&buf[..n], id, seq)
            };
            match parsed {
                Some(Parsed::Echo) => {
                    self.result.rtts.push(self.sent_at.elapsed());
                    return Ok(true);
                }
                Some(Parsed::Error(what, src)) => {
                    let from_ip = from.and_then(|s| {
                        s.as_sockaddr_in()
                            .map(|a| IpAddr::V4(a.ip()))
                            .or_else(|| s.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
                    });
                    let from = src.or(from_ip).unwrap_or(IpAddr::from([0u8; 4]));
                    self.result.refusal = Some(Refusal::Icmp { from, what });
                    self.done = true;
                    return Ok(true);
                }
                None => {}
            }
        }
    }
}

/// One datagram already queued on `fd`, and who sent it; EAGAIN when none is.
fn recv_queued(
    fd: &OwnedFd,
    buf: &mut [u8],
) -> nix::Result<(usize, Option<nix::sys::socket::SockaddrStorage>)> {
    use nix::sys::socket::SockaddrLike;
    // SAFETY: sockaddr_storage is plain data, filled by recvfrom up to `len`.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `buf` and `addr` are valid for writes of the lengths given.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
            std::ptr::addr_of_mut!(addr).cast(),
            &mut len,
        )
    };
    if n < 0 {
        return Err(nix::errno::Errno::last());
    }
    // SAFETY: the kernel wrote `len` bytes of a valid socket address.
    let from = unsafe {
        nix::sys::socket::SockaddrStorage::from_raw(std::ptr::addr_of!(addr).cast(), Some(len))
    };
    Ok((n as usize, from))
}

/// Drives every probe to its end: one poll over the sockets of those still waiting,
/// until the earliest deadline among them.
fn run_all(probes: &mut [io::Result<Probe<'_>>], until: Instant) {
    loop {
        let mut waiting: Vec<&mut Probe<'_>> = probes
            .iter_mut()
            .filter_map(|p| p.as_mut().ok())
            .filter(|p| !p.done)
            .collect();
        let Some(first) = waiting.iter().map(|p| p.deadline(until)).min() else {
            return;
        };
        let fds: Vec<_> = waiting.iter().map(|p| p.fd.as_raw_fd()).collect();
        let left = first.saturating_duration_since(Instant::now());
        let ready = match super::readable(&fds, left) {
            Ok(r) => r,
            Err(e) => {
                for p in waiting {
                    p.failed = Some(io::Error::new(e.kind(), e.to_string()));
                    p.done = true;
                }
                return;
            }
        };
        let now = Instant::now();
        for (probe, r) in waiting.iter_mut().zip(ready) {
            if r {
                match probe.read() {
                    Ok(true) if !probe.done => probe.next(until),
                    Ok(_) => {}
                    Err(e) => {
                        probe.failed = Some(e);
                        probe.done = true;
                    }
                }
            }
            if !probe.done && now >= probe.deadline(until) {
                if until < probe.own {
                    probe.result.cut_short = true;
                    probe.done = true;
                } else {
                    probe.next(until);
                }
            }
        }
    }
}

fn errno_text(e: &io::Error) -> String {
    let Some(name) = e.raw_os_error().and_then(crate::scenario::errno_name) else {
        return e.to_string();
    };
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    format!("{text} ({name})")
}

fn open(v6: bool, bind_if: Option<&str>, df: bool) -> io::Result<OwnedFd> {
    let fd = if v6 {
        socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6)?
    } else {
        socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP)?
    };
    if let Some(ifname) = bind_if {
        let mut name = [0u8; 16];
        name[..ifname.len()].copy_from_slice(ifname.as_bytes());
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &name)?;
    }
    if !v6 {
        let mode: libc::c_int = if df {
            libc::IP_PMTUDISC_DO
        } else {
            libc::IP_PMTUDISC_DONT
        };
        setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, &mode)?;
    }
    Ok(fd)
}

fn echo_request(v6: bool, id: u16, seq: u16, size: usize) -> Vec<u8> {
    let mut pkt = vec![0u8; 8 + size];
    pkt[0] = if v6 { 128 } else { 8 };
    pkt[4..6].copy_from_slice(&id.to_be_bytes());
    pkt[6..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in pkt[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    if !v6 {
        // The kernel fills in the ICMPv6 checksum itself, but not the ICMPv4 one.
        let c = checksum(&pkt, 0);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    pkt
}

fn send_to(fd: &OwnedFd, pkt: &[u8], to: IpAddr) -> io::Result<()> {
    let addr = nix::sys::socket::SockaddrStorage::from(SocketAddr::new(to, 0));
    nix::sys::socket::sendto(
        fd.as_raw_fd(),
        pkt,
        &addr,
        nix::sys::socket::MsgFlags::empty(),
    )
    .map(|_| ())
    .map_err(io::Error::from)
}

enum Parsed {
    Echo,
    Error(String, Option<IpAddr>),
}

/// An IPv4 raw socket delivers the IP header too.
fn parse_v4(pkt: &[u8], id: u16, seq: u16) -> Option<Parsed> {
    let ihl = usize::from(*pkt.first()? & 0x0f) * 4;
    let src = IpAddr::from(<[u8; 4]>::try_from(pkt.get(12..16)?).ok()?);
    let icmp = pkt.get(ihl..)?;
    let (ty, code) = (*icmp.first()?, *icmp.get(1)?);
    let ours = |h: &[u8]| {
        h.len() >= 8
            && u16::from_be_bytes([h[4], h[5]]) == id
            && u16::from_be_bytes([h[6], h[7]]) == seq
    };
    match ty {
        0 if ours(icmp) => Some(Parsed::Echo),
        3 | 11 | 12 => {
            // The error quotes our packet: its IP header, then our echo header.
            let inner = icmp.get(8..)?;
            let inner_ihl = usize::from(*inner.first()? & 0x0f) * 4;
            let quoted = inner.get(inner_ihl..)?;
            (quoted.first() == Some(&8) && ours(quoted)).then(|| {
                let mtu = u16::from_be_bytes([icmp[6], icmp[7]]);
                Parsed::Error(icmp4_text(ty, code, mtu), Some(src))
            })
        }
        _ => None,
    }
}

fn icmp4_text(ty: u8, code: u8, mtu: u16) -> String {
    match (ty, code) {
        (3, 0) => "destination net unreachable".into(),
        (3, 1) => "destination host unreachable".into(),
        (3, 2) => "destination protocol unreachable".into(),
        (3, 3) => "destination port unreachable".into(),
        (3, 4) => format!("fragmentation needed and DF set (mtu {mtu})"),
        (3, 9 | 10 | 13) => "communication administratively prohibited".into(),
        (11, 0) => "time to live exceeded".into(),
        (11, 1) => "fragment reassembly time exceeded".into(),
        (12, _) => "parameter problem".into(),
        (t, c) => format!("ICMP type {t} code {c}"),
    }
}

/// An IPv6 raw socket delivers the ICMPv6 message only.
fn parse_v6(icmp: &[u8], id: u16, seq: u16) -> Option<Parsed> {
    let (ty, code) = (*icmp.first()?, *icmp.get(1)?);
    let ours = |h: &[u8]| {
        h.len() >= 8
            && u16::from_be_bytes([h[4], h[5]]) == id
            && u16::from_be_bytes([h[6], h[7]]) == seq
    };
    match ty {
        129 if ours(icmp) => Some(Parsed::Echo),
        1..=4 => {
            let quoted = icmp.get(8 + 40..)?;
            (quoted.first() == Some(&128) && ours(quoted)).then(|| {
                let mtu = u32::from_be_bytes([icmp[4], icmp[5], icmp[6], icmp[7]]);
                let what = match (ty, code) {
                    (1, 0) => "no route to destination".into(),
                    (1, 1) => "communication administratively prohibited".into(),
                    (1, 3) => "address unreachable".into(),
                    (1, 4) => "port unreachable".into(),
                    (1, 6) => "reject route to destination".into(),
                    (2, _) => format!("packet too big (mtu {mtu})"),
                    (3, _) => "hop limit exceeded".into(),
                    (t, c) => format!("ICMPv6 type {t} code {c}"),
                };
                Parsed::Error(what, None)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request_verifies() {
        let pkt = echo_request(false, 0x1234, 1, 56);
        assert_eq!(
            checksum(&pkt, 0),
            0,
            "a packet with its checksum sums to zero"
        );
    }

    #[test]
    fn parses_an_icmp_host_unreachable_quoting_our_echo() {
        let echo = echo_request(false, 7, 3, 8);
        let mut inner_ip = vec![0x45u8; 1];
        inner_ip.extend([0u8; 19]);
        let mut icmp = vec![3u8, 1, 0, 0, 0, 0, 0, 0];
        icmp.extend(&inner_ip);
        icmp.extend(&echo[..8]);
        let mut outer = vec![0x45u8];
        outer.extend([0u8; 11]);
        outer.extend([10, 0, 0, 1, 10, 0, 0, 2]);
        outer.extend(&icmp);
        match parse_v4(&outer, 7, 3) {
            Some(Parsed::Error(what, Some(from))) => {
                assert_eq!(what, "destination host unreachable");
                assert_eq!(from, IpAddr::from([10, 0, 0, 1]));
            }
            _ => panic!("not parsed as an error"),
        }
        assert!(
            parse_v4(&outer, 8, 3).is_none(),
            "another probe's error is not ours"
        );
    }
}
