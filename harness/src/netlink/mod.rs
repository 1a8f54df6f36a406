//! One rtnetlink handle per namespace: changes (`ops`) and state dumps (`dump` for
//! links and addresses, `routes`, `neighbours` for ARP/ND and fdb entries).

mod dump;
mod neighbours;
pub(crate) mod nexthop;
mod ops;
mod routes;
pub(crate) mod wire;

#[cfg(test)]
mod tests;

pub(crate) use dump::*;
pub(crate) use neighbours::*;
pub(crate) use ops::{NewLink, PeerEnd, RouteOifs};
pub(crate) use routes::*;

use std::io;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};

use netlink_sys::{protocols::NETLINK_ROUTE, Socket, TokioSocket};

pub(crate) use crate::error::NlError;

/// The errno text of a netlink error, with the kernel's extended-ack message if any:
/// `Invalid argument (os error 22): sticky and permanent are mutually exclusive`.
pub(crate) fn describe(e: &rtnetlink::Error) -> String {
    match e {
        rtnetlink::Error::NetlinkError(m) => {
            let errno = match m.code {
                Some(c) => io::Error::from_raw_os_error(-c.get()).to_string(),
                None => return "unexpected ACK".into(),
            };
            match extack_message(&m.header) {
                Some(msg) => format!("{errno}: {msg}"),
                None => errno,
            }
        }
        other => other.to_string(),
    }
}

/// With NETLINK_CAP_ACK the error quotes only the request's 16-byte header; with
/// NETLINK_EXT_ACK, attributes follow it. NLMSGERR_ATTR_MSG (1) is the kernel's text.
fn extack_message(payload: &[u8]) -> Option<String> {
    let (_, text) = wire::attrs(payload.get(16..)?).find(|(kind, _)| *kind == 1)?;
    let text = text.split(|b| *b == 0).next().unwrap_or(text);
    Some(String::from_utf8_lossy(text).trim().to_string()).filter(|t| !t.is_empty())
}

/// Opens a raw NETLINK_ROUTE socket. Call it on a thread inside the target namespace:
/// the socket stays bound to the namespace it was created in.
pub(crate) fn open_socket() -> io::Result<RawFd> {
    let sock = Socket::new(NETLINK_ROUTE)?;
    // Ask for the kernel's error text (extended ack), without the echoed request.
    const SOL_NETLINK: i32 = 270;
    const NETLINK_CAP_ACK: i32 = 10;
    const NETLINK_EXT_ACK: i32 = 11;
    for opt in [NETLINK_CAP_ACK, NETLINK_EXT_ACK] {
        let one: libc::c_int = 1;
        // SAFETY: a valid int option on our own socket.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&sock),
                SOL_NETLINK,
                opt,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as u32,
            )
        };
    }
    Ok(sock.into_raw_fd())
}

/// An ARP/ND message about `to` on interface `index` (a proxy entry's with `proxy`),
/// for `ip neigh del` and `ip neigh get`.
pub(crate) fn neigh_message(
    index: u32,
    to: std::net::IpAddr,
    proxy: bool,
) -> netlink_packet_route::neighbour::NeighbourMessage {
    use netlink_packet_route::neighbour::{
        NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
    };
    use netlink_packet_route::AddressFamily;
    let mut msg = NeighbourMessage::default();
    msg.header.family = if to.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    msg.header.ifindex = index;
    if proxy {
        msg.header.flags = NeighbourFlags::Proxy;
    }
    msg.attributes
        .push(NeighbourAttribute::Destination(match to {
            std::net::IpAddr::V4(a) => NeighbourAddress::Inet(a),
            std::net::IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    msg
}

/// The handle for a socket from `open_socket`; spawns its connection task on the
/// current tokio runtime, which owns the socket from now on.
pub(crate) fn connect(fd: RawFd, node: &str) -> Nl {
    // SAFETY: `fd` comes from `open_socket` and is owned by nothing else.
    let sock = unsafe { TokioSocket::from_raw_fd(fd) };
    let (conn, handle, _) = rtnetlink::from_socket(sock);
    tokio::spawn(conn);
    Nl {
        handle,
        node: node.to_string(),
    }
}

/// The netlink handle of one node.
#[derive(Clone)]
pub(crate) struct Nl {
    pub handle: rtnetlink::Handle,
    pub node: String,
}

impl Nl {
    pub(crate) fn err(&self, op: impl Into<String>, e: &rtnetlink::Error) -> NlError {
        let errno = match e {
            rtnetlink::Error::NetlinkError(m) => m.code.map(|c| -c.get()),
            _ => None,
        };
        NlError {
            op: op.into(),
            node: self.node.clone(),
            detail: describe(e),
            errno,
        }
    }
}
