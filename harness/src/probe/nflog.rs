//! NFLOG: the packets that netfilter rules log (`-j NFLOG`, nft `log group N`), read
//! over nfnetlink_log in a node. The LOG target is silent in a namespace (its sysctl is
//! host-wide), NFLOG is not. Each message becomes a line in the LOG target's own words,
//! `PREFIX HOOK=.. IN=.. OUT=.. PHYSIN=.. PHYSOUT=.. SRC=.. DST=.. PROTO=..`, so that a
//! scenario reads like the seed's `dmesg`.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use crate::netlink::wire;
use crate::netns::Netns;

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_ULOG: u16 = 4;
const NFULNL_MSG_PACKET: u16 = 0;
const NFULNL_MSG_CONFIG: u16 = 1;
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULA_CFG_QTHRESH: u16 = 5;
const NFULNL_CFG_CMD_BIND: u8 = 1;
const NFULNL_COPY_PACKET: u8 = 2;
/// Enough of each packet for its IP and transport headers.
const COPY_RANGE: u32 = 128;
/// Room for the messages of a step: a trace is read after its probe, and a ping of
/// 200 requests logs 400 packets or more.
const BUFFER: i32 = 8 << 20;

/// One logged packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logged {
    pub prefix: String,
    pub family: u8,
    pub hook: u8,
    pub indev: Option<u32>,
    pub outdev: Option<u32>,
    pub physin: Option<u32>,
    pub physout: Option<u32>,
    pub payload: Vec<u8>,
}

/// What a trace read: the logged packets, and whether the kernel dropped some.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    pub logged: Vec<Logged>,
    /// The socket's buffer overflowed (ENOBUFS): some logged packets are missing.
    pub overflowed: bool,
}

/// A socket bound to one NFLOG group of a node.
#[derive(Debug)]
pub(crate) struct Tap {
    fd: OwnedFd,
}

fn config(seq: u32, group: u16, attrs: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    let len = 16 + 4 + attrs.len();
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG).to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    // nfgenmsg: AF_UNSPEC, version 0, the group in network order.
    m.extend_from_slice(&[libc::AF_UNSPEC as u8, 0]);
    m.extend_from_slice(&group.to_be_bytes());
    m.extend_from_slice(attrs);
    m
}

/// Binds `group` in the node: from now on its logged packets queue on this socket.
pub(crate) fn open(ns: &Netns, group: u16) -> io::Result<Tap> {
    let fd = ns.run_in(|| {
        super::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK,
            NETLINK_NETFILTER,
        )
    })?;
    // FORCE lifts the rmem_max cap (we hold CAP_NET_ADMIN in the node).
    super::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &BUFFER)
        .or_else(|_| super::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &BUFFER))?;
    // SAFETY: sockaddr_nl is plain data; zero means "the kernel picks our port id".
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: sa is a valid sockaddr_nl of the given size.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut mode = COPY_RANGE.to_be_bytes().to_vec();
    mode.extend_from_slice(&[NFULNL_COPY_PACKET, 0]);
    let msgs = [
        config(1, group, &wire::attr(NFULA_CFG_CMD, &[NFULNL_CFG_CMD_BIND])),
        config(2, group, &wire::attr(NFULA_CFG_MODE, &mode)),
        // Deliver each packet at once instead of batching a hundred.
        config(
            3,
            group,
            &wire::attr(NFULA_CFG_QTHRESH, &1u32.to_be_bytes()),
        ),
    ];
    let tap = Tap { fd };
    for (i, m) in msgs.iter().enumerate() {
        // SAFETY: m is a complete netlink message.
        if unsafe { libc::send(tap.fd.as_raw_fd(), m.as_ptr().cast(), m.len(), 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        tap.ack(i as u32 + 1, group)?;
    }
    Ok(tap)
}

impl Tap {
    /// Waits for the kernel's answer to config message `seq`.
    fn ack(&self, seq: u32, group: u16) -> io::Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut buf = vec![0u8; 8192];
        loop {
            if !super::wait_readable(&self.fd, deadline)? {
                return Err(io::Error::other("no answer from nfnetlink_log"));
            }
            let n = self.recv(&mut buf)?;
            for (ty, mseq, body) in wire::messages(&buf[..n]) {
                if ty == libc::NLMSG_ERROR as u16 && mseq == seq {
                    let errno = i32::from_ne_bytes(
                        body.get(..4)
                            .and_then(|b| b.try_into().ok())
                            .unwrap_or_default(),
                    );
                    if errno == 0 {
                        return Ok(());
                    }
                    let e = io::Error::from_raw_os_error(-errno);
                    return Err(io::Error::new(
                        e.kind(),
                        format!("cannot bind NFLOG group {group}: {e}"),
                    ));
                }
            }
        }
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: buf is valid for writes of its length.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Every packet logged so far. Logging happens while the kernel handles a packet,
    /// so once a probe has its answer (or its timeout), its log lines are all queued.
    /// If the socket overflowed (ENOBUFS), what is left is read all the same and the
    /// trace is marked incomplete: no verdict may pass on it.
    pub(crate) fn drain(self) -> io::Result<Drained> {
        let mut out = Drained::default();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = match self.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    out.overflowed = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            for (ty, _, body) in wire::messages(&buf[..n]) {
                if ty == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET {
                    out.logged.extend(parse(body));
                }
            }
        }
    }
}

/// One NFULNL_MSG_PACKET: nfgenmsg, then attributes.
fn parse(body: &[u8]) -> Option<Logged> {
    let family = *body.first()?;
    let mut l = Logged {
        prefix: String::new(),
        family,
        hook: 0,
        indev: None,
        outdev: None,
        physin: None,
        physout: None,
        payload: Vec::new(),
    };
    for (ty, data) in wire::attrs(body.get(4..)?) {
        let index = || {
            data.get(..4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        match ty {
            1 => l.hook = *data.get(2)?,
            4 => l.indev = index(),
            5 => l.outdev = index(),
            6 => l.physin = index(),
            7 => l.physout = index(),
            9 => l.payload = data.to_vec(),
            10 => {
                l.prefix = String::from_utf8_lossy(data)
                    .trim_end_matches('\0')
                    .to_string()
            }
            _ => {}
        }
    }
    Some(l)
}

fn hook_name(family: u8, hook: u8) -> &'static str {
    // NFPROTO_NETDEV has one hook that matters here.
    if family == 5 {
        return if hook == 0 { "INGRESS" } else { "EGRESS" };
    }
    match hook {
        0 => "PREROUTING",
        1 => "INPUT",
        2 => "FORWARD",
        3 => "OUTPUT",
        4 => "POSTROUTING",
        _ => "?",
    }
}

/// The LOG target's line for a logged packet; ifindexes become names.
pub(crate) fn describe(l: &Logged, names: &HashMap<u32, String>) -> String {
    let name = |i: Option<u32>| match i {
        Some(i) => names.get(&i).cloned().unwrap_or_else(|| i.to_string()),
        None => String::new(),
    };
    let mut s = format!(
        "{}HOOK={} IN={} OUT={}",
        if l.prefix.is_empty() || l.prefix.ends_with(' ') {
            l.prefix.clone()
        } else {
            format!("{} ", l.prefix)
        },
        hook_name(l.family, l.hook),
        name(l.indev),
        name(l.outdev)
    );
    if l.physin.is_some() {
        s += &format!(" PHYSIN={}", name(l.physin));
    }
    if l.physout.is_some() {
        s += &format!(" PHYSOUT={}", name(l.physout));
    }
    s + &packet(&l.payload)
}

/// ` SRC=.. DST=.. PROTO=..` and the ICMP type or the ports.
fn packet(p: &[u8]) -> String {
    let (src, dst, proto, l4): (String, String, u8, &[u8]) = match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 => {
            let ihl = usize::from(p[0] & 15) * 4;
            (
                Ipv4Addr::new(p[12], p[13], p[14], p[15]).to_string(),
                Ipv4Addr::new(p[16], p[17], p[18], p[19]).to_string(),
                p[9],
                p.get(ihl..).unwrap_or_default(),
            )
        }
        Some(6) if p.len() >= 40 => {
            let a =
                |o: usize| Ipv6Addr::from(<[u8; 16]>::try_from(&p[o..o + 16]).unwrap_or_default());
            (a(8).to_string(), a(24).to_string(), p[6], &p[40..])
        }
        _ => return String::new(),
    };
    let tail = match (proto, l4) {
        (1 | 58, [t, c, ..]) => format!(
            " PROTO={} TYPE={t} CODE={c}",
            if proto == 1 { "ICMP" } else { "ICMPv6" }
        ),
        (1 | 58, [t]) => format!(
            " PROTO={} TYPE={t}",
            if proto == 1 { "ICMP" } else { "ICMPv6" }
        ),
        (6, [a, b, c, d, rest @ ..]) => {
            let mut s = format!(
                " PROTO=TCP SPT={} DPT={}",
                u16::from_be_bytes([*a, *b]),
                u16::from_be_bytes([*c, *d])
            );
            // The flags byte is the 14th of the header, named as the LOG target does.
            if let Some(flags) = rest.get(9) {
                for (bit, name) in [
                    (0x80, "CWR"),
                    (0x40, "ECE"),
                    (0x20, "URG"),
                    (0x10, "ACK"),
                    (0x08, "PSH"),
                    (0x04, "RST"),
                    (0x02, "SYN"),
                    (0x01, "FIN"),
                ] {
                    if flags & bit != 0 {
                        s += " ";
                        s += name;
                    }
                }
            }
            s
        }
        (17, [a, b, c, d, ..]) => format!(
            " PROTO=UDP SPT={} DPT={}",
            u16::from_be_bytes([*a, *b]),
            u16::from_be_bytes([*c, *d])
        ),
        (p, _) => format!(" PROTO={p}"),
    };
    format!(" SRC={src} DST={dst}{tail}")
}

/// Whether a line has every token of `want` (as whole words): `IN=docker0 TYPE=8`.
pub(crate) fn line_matches(line: &str, want: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    want.split_whitespace().all(|w| words.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::wire::attr;

    #[test]
    fn describes_a_bridged_echo_request_like_the_log_target() {
        let mut payload = vec![0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0];
        payload.extend([10, 17, 0, 2, 10, 17, 0, 3, 8, 0]);
        let l = Logged {
            prefix: "seed: ".into(),
            family: 2,
            hook: 0,
            indev: Some(3),
            outdev: None,
            physin: Some(4),
            physout: None,
            payload,
        };
        let names = HashMap::from([(3, "docker0".to_string()), (4, "veth1".to_string())]);
        let line = describe(&l, &names);
        assert_eq!(
            line,
            "seed: HOOK=PREROUTING IN=docker0 OUT= PHYSIN=veth1 SRC=10.17.0.2 DST=10.17.0.3 PROTO=ICMP TYPE=8 CODE=0"
        );
        assert!(line_matches(&line, "seed: PHYSIN=veth1 TYPE=8"));
        assert!(line_matches(&line, "OUT="));
        assert!(!line_matches(&line, "PHYSIN=veth2"));
        assert!(!line_matches(&line, "PHYSOUT="));
    }

    #[test]
    fn tcp_flags_and_icmp_codes_are_named_as_the_log_target_does() {
        let ip = |proto: u8, l4: &[u8]| {
            let mut p = vec![0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, proto, 0, 0];
            p.extend([10, 0, 0, 1, 10, 0, 0, 2]);
            p.extend_from_slice(l4);
            p
        };
        let mut syn = vec![0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02];
        syn.extend([0; 6]);
        let mut ack = syn.clone();
        ack[13] = 0x10;
        let mut rst_ack = syn.clone();
        rst_ack[13] = 0x14;
        assert!(packet(&ip(6, &syn)).ends_with("PROTO=TCP SPT=40000 DPT=80 SYN"));
        assert!(packet(&ip(6, &ack)).ends_with("DPT=80 ACK"));
        assert!(packet(&ip(6, &rst_ack)).ends_with("DPT=80 ACK RST"));
        // Port unreachable (3/3) and host unreachable (3/1) differ.
        assert!(packet(&ip(1, &[3, 3, 0, 0])).ends_with("PROTO=ICMP TYPE=3 CODE=3"));
        assert!(packet(&ip(1, &[3, 1, 0, 0])).ends_with("PROTO=ICMP TYPE=3 CODE=1"));
        assert!(line_matches("x PROTO=TCP SYN", "SYN"));
        assert!(!line_matches("x PROTO=TCP SYN ACK", "RST"));
    }

    #[test]
    fn parses_attributes_and_skips_what_it_does_not_know() {
        let mut body = vec![2, 0, 0, 5];
        body.extend(attr(1, &[0x08, 0x00, 2, 0]));
        body.extend(attr(4, &7u32.to_be_bytes()));
        body.extend(attr(99, &[1, 2, 3]));
        body.extend(attr(10, b"fwd\0"));
        let l = parse(&body).unwrap();
        assert_eq!((l.hook, l.indev, l.prefix.as_str()), (2, Some(7), "fwd"));
    }

    /// A log message is kernel input a rule's payload decides: any bytes are read
    /// without a panic, and a packet's text is built for whatever was parsed.
    #[test]
    fn no_bytes_make_the_log_reader_panic() {
        for b in crate::testing::random_bytes(30, 5000, 128) {
            if let Some(l) = parse(&b) {
                let _ = packet(&l.payload);
            }
            let _ = packet(&b);
        }
    }
}
