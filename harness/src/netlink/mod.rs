//! One rtnetlink handle per namespace: changes (`ops`) and state dumps (`dump`).

mod dump;
mod ops;

pub(crate) use dump::*;

use std::fmt;
use std::io;
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};

use netlink_sys::{protocols::NETLINK_ROUTE, Socket, TokioSocket};

/// A netlink error with the operation and node it came from.
#[derive(Debug)]
pub struct NlError {
    pub op: String,
    pub node: String,
    pub detail: String,
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to {} in node {}: {}",
            self.op, self.node, self.detail
        )
    }
}

impl std::error::Error for NlError {}

/// The errno text of a netlink error, or its own description.
pub(crate) fn describe(e: &rtnetlink::Error) -> String {
    match e {
        rtnetlink::Error::NetlinkError(m) => match m.code {
            Some(c) => io::Error::from_raw_os_error(-c.get()).to_string(),
            None => "unexpected ACK".into(),
        },
        other => other.to_string(),
    }
}

/// Opens a raw NETLINK_ROUTE socket. Call it on a thread inside the target namespace:
/// the socket stays bound to the namespace it was created in.
pub(crate) fn open_socket() -> io::Result<RawFd> {
    Ok(Socket::new(NETLINK_ROUTE)?.into_raw_fd())
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
        NlError {
            op: op.into(),
            node: self.node.clone(),
            detail: describe(e),
        }
    }
}
