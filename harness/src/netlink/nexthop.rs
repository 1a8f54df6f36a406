//! Nexthop objects (`ip nexthop`), spoken in raw netlink: netlink-packet-route has no
//! RTM_*NEXTHOP messages. Each request opens a short-lived socket inside the node's
//! namespace, sends one message and reads until the kernel's ACK or the end of a dump.

use std::io;
use std::net::IpAddr;

use crate::netns::Netns;

use super::NlError;

const RTM_NEWNEXTHOP: u16 = 104;
const RTM_DELNEXTHOP: u16 = 105;
const RTM_GETNEXTHOP: u16 = 106;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_DUMP: u16 = 0x300;

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;

const RTNH_F_DEAD: u32 = 1;
const RTNH_F_ONLINK: u32 = 4;
const RTNH_F_LINKDOWN: u32 = 16;

/// What a nexthop is, as the kernel is told or tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NexthopBody {
    Path {
        via: Option<IpAddr>,
        oif: Option<u32>,
    },
    Blackhole,
    /// Member ids with their weights (1 to 256).
    Group(Vec<(u32, u16)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NexthopState {
    pub id: u32,
    pub body: NexthopBody,
    /// `dead`, `onlink`, `linkdown`, as iproute2 prints them.
    pub flags: Vec<&'static str>,
}

/// `ip nexthop add` (or `replace`): `v6` is the family of a path without a gateway,
/// or of a blackhole.
pub(crate) fn add(
    ns: &Netns,
    node: &str,
    id: u32,
    body: &NexthopBody,
    (v6, onlink, replace): (bool, bool, bool),
) -> Result<(), NlError> {
    let family = match body {
        NexthopBody::Group(_) => 0,
        NexthopBody::Path { via: Some(v), .. } => family_of(*v),
        _ if v6 => libc::AF_INET6 as u8,
        _ => libc::AF_INET as u8,
    };
    let flags = if onlink { RTNH_F_ONLINK } else { 0 };
    let mut attrs = Vec::new();
    push_attr(&mut attrs, NHA_ID, &id.to_ne_bytes());
    match body {
        NexthopBody::Path { via, oif } => {
            if let Some(oif) = oif {
                push_attr(&mut attrs, NHA_OIF, &oif.to_ne_bytes());
            }
            match via {
                Some(IpAddr::V4(a)) => push_attr(&mut attrs, NHA_GATEWAY, &a.octets()),
                Some(IpAddr::V6(a)) => push_attr(&mut attrs, NHA_GATEWAY, &a.octets()),
                None => {}
            }
        }
        NexthopBody::Blackhole => push_attr(&mut attrs, NHA_BLACKHOLE, &[]),
        NexthopBody::Group(members) => {
            // struct nexthop_grp: id, weight - 1, weight_high, reserved.
            let mut g = Vec::new();
            for (m, w) in members {
                g.extend_from_slice(&m.to_ne_bytes());
                let w = w.saturating_sub(1);
                g.extend_from_slice(&[(w & 0xff) as u8, (w >> 8) as u8, 0, 0]);
            }
            push_attr(&mut attrs, NHA_GROUP, &g);
        }
    }
    let how = if replace { NLM_F_REPLACE } else { NLM_F_EXCL };
    let msg = message(
        RTM_NEWNEXTHOP,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | how,
        family,
        flags,
        &attrs,
    );
    request(ns, msg)
        .map(drop)
        .map_err(|e| nl_error(node, format!("add nexthop {id}"), e))
}

/// `ip nexthop del id N`.
pub(crate) fn del(ns: &Netns, node: &str, id: u32) -> Result<(), NlError> {
    let mut attrs = Vec::new();
    push_attr(&mut attrs, NHA_ID, &id.to_ne_bytes());
    let msg = message(RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_ACK, 0, 0, &attrs);
    request(ns, msg)
        .map(drop)
        .map_err(|e| nl_error(node, format!("delete nexthop {id}"), e))
}

/// `ip nexthop show`, sorted by id.
pub(crate) fn dump(ns: &Netns, node: &str) -> Result<Vec<NexthopState>, NlError> {
    let msg = message(RTM_GETNEXTHOP, NLM_F_REQUEST | NLM_F_DUMP, 0, 0, &[]);
    let replies = request(ns, msg).map_err(|e| nl_error(node, "dump nexthops", e))?;
    let mut all: Vec<NexthopState> = replies.iter().filter_map(|m| parse(m)).collect();
    all.sort_by_key(|n| n.id);
    Ok(all)
}

fn family_of(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn push_attr(buf: &mut Vec<u8>, kind: u16, value: &[u8]) {
    buf.extend(super::wire::attr(kind, value));
}

/// A netlink header, a `struct nhmsg` and the attributes.
fn message(kind: u16, flags: u16, family: u8, nh_flags: u32, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 8 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    m.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel fills it
    m.extend_from_slice(&[family, 0, 0, 0]);
    m.extend_from_slice(&nh_flags.to_ne_bytes());
    m.extend_from_slice(attrs);
    m
}

/// Why a request failed: an errno with the kernel's text, or an I/O error.
#[derive(Debug)]
pub(crate) enum Failure {
    Kernel(i32, Option<String>),
    Io(io::Error),
}

fn nl_error(node: &str, op: impl Into<String>, f: Failure) -> NlError {
    let (detail, errno) = match f {
        Failure::Kernel(errno, msg) => {
            let text = io::Error::from_raw_os_error(errno).to_string();
            (
                match msg {
                    Some(m) => format!("{text}: {m}"),
                    None => text,
                },
                Some(errno),
            )
        }
        Failure::Io(e) => (e.to_string(), e.raw_os_error()),
    };
    NlError {
        op: op.into(),
        node: node.to_string(),
        detail,
        errno,
    }
}

/// Sends `msg` from a socket opened in `ns` and returns the payloads (after the
/// netlink header) of the replies before the ACK or NLMSG_DONE.
fn request(ns: &Netns, msg: Vec<u8>) -> Result<Vec<Vec<u8>>, Failure> {
    ns.run_in(move || {
        let fd = super::open_socket()?;
        // SAFETY: `fd` is ours alone from here on; OwnedFd closes it.
        let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        exchange(&fd, &msg)
    })
    .map_err(Failure::Io)?
}

pub(crate) fn exchange(
    fd: &std::os::fd::OwnedFd,
    msg: &[u8],
) -> io::Result<Result<Vec<Vec<u8>>, Failure>> {
    use std::os::fd::AsRawFd;
    let raw = fd.as_raw_fd();
    // Bounded: a kernel that never answers must not hang the step.
    let tv = libc::timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    // SAFETY: valid option and buffer on our own socket.
    unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as u32,
        );
        if libc::send(raw, msg.as_ptr().cast(), msg.len(), 0) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is a valid writable buffer of its length.
        let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        for (kind, _, payload) in super::wire::messages(&buf[..n as usize]) {
            match kind {
                NLMSG_DONE => return Ok(Ok(out)),
                NLMSG_ERROR => {
                    let code = payload
                        .get(0..4)
                        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .unwrap_or(0);
                    if code == 0 {
                        return Ok(Ok(out));
                    }
                    let text = super::extack_message(payload.get(4..).unwrap_or(&[]));
                    return Ok(Err(Failure::Kernel(-code, text)));
                }
                _ => out.push(payload.to_vec()),
            }
        }
    }
}

/// One RTM_NEWNEXTHOP payload: `struct nhmsg`, then attributes.
fn parse(p: &[u8]) -> Option<NexthopState> {
    let flags = u32::from_ne_bytes(p.get(4..8)?.try_into().ok()?);
    let (mut id, mut oif, mut via, mut blackhole, mut group) = (None, None, None, false, None);
    for (kind, v) in super::wire::attrs(p.get(8..)?) {
        match kind {
            NHA_ID => id = Some(u32::from_ne_bytes(v.get(0..4)?.try_into().ok()?)),
            NHA_OIF => oif = Some(u32::from_ne_bytes(v.get(0..4)?.try_into().ok()?)),
            NHA_BLACKHOLE => blackhole = true,
            NHA_GATEWAY => {
                via = match v.len() {
                    4 => Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
                    16 => Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
                    _ => None,
                }
            }
            NHA_GROUP => {
                group = Some(
                    v.chunks_exact(8)
                        .map(|c| {
                            let m = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
                            (m, u16::from(c[4]) + (u16::from(c[5]) << 8) + 1)
                        })
                        .collect(),
                )
            }
            _ => {}
        }
    }
    let body = match (group, blackhole) {
        (Some(g), _) => NexthopBody::Group(g),
        (None, true) => NexthopBody::Blackhole,
        (None, false) => NexthopBody::Path { via, oif },
    };
    let flags = [
        (RTNH_F_DEAD, "dead"),
        (RTNH_F_ONLINK, "onlink"),
        (RTNH_F_LINKDOWN, "linkdown"),
    ]
    .into_iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| n)
    .collect();
    Some(NexthopState {
        id: id?,
        body,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_message_carries_weights_minus_one() {
        let mut attrs = Vec::new();
        push_attr(&mut attrs, NHA_ID, &7u32.to_ne_bytes());
        let mut g = Vec::new();
        g.extend_from_slice(&1u32.to_ne_bytes());
        g.extend_from_slice(&[2, 0, 0, 0]);
        push_attr(&mut attrs, NHA_GROUP, &g);
        let mut payload = vec![0, 0, 0, 0];
        payload.extend_from_slice(&RTNH_F_DEAD.to_ne_bytes());
        payload.extend_from_slice(&attrs);
        let st = parse(&payload).expect("parses");
        assert_eq!(st.id, 7);
        assert_eq!(st.body, NexthopBody::Group(vec![(1, 3)]));
        assert_eq!(st.flags, vec!["dead"]);
    }

    #[test]
    fn a_reply_without_an_id_is_not_understood() {
        let mut payload = vec![2, 0, 0, 0, 0, 0, 0, 0];
        push_attr(&mut payload, NHA_OIF, &1u32.to_ne_bytes());
        assert_eq!(parse(&payload), None);
    }

    #[test]
    fn no_bytes_make_the_nexthop_reader_panic() {
        for b in crate::testing::random_bytes(32, 5000, 96) {
            let _ = parse(&b);
        }
    }
}
