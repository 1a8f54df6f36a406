//! A TCP or UDP client: connect, send data that must come back, and tell how it ended.
//! The socket is created inside the source node; every wait polls with the deadline.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;
use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};

use super::wait_for as wait;
use crate::netns::Netns;
use crate::scenario::{Connect, Connection, Proto};
use crate::servers::{Token, TOKEN_LEN, TOKEN_MAGIC};

/// How a `connect` went.
#[derive(Debug)]
pub(crate) struct Attempt {
    pub outcome: Connection,
    pub token: Token,
    /// Whether data was sent, and what went wrong with its echo, if anything.
    pub exchanged: bool,
    pub echo_problem: Option<String>,
    pub local: Option<SocketAddr>,
    pub elapsed: Duration,
}

fn new_token() -> Token {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mut t = [0u8; TOKEN_LEN];
    t[..4].copy_from_slice(TOKEN_MAGIC);
    t[4..8].copy_from_slice(&std::process::id().to_be_bytes());
    t[8..].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    t
}

/// The token, then `n` bytes of a fixed pattern.
fn payload(token: &Token, n: u32) -> Vec<u8> {
    let mut p = token.to_vec();
    p.extend((0..n).map(|i| (i % 251) as u8));
    p
}

fn classify(e: Errno) -> Connection {
    match e {
        Errno::ECONNREFUSED => Connection::Refused,
        Errno::ETIMEDOUT => Connection::Timeout,
        e => Connection::Errno(e as i32),
    }
}

pub(crate) fn connect(ns: &Netns, c: &Connect, until: Instant) -> io::Result<Attempt> {
    let start = Instant::now();
    let deadline = until.min(start + c.timeout);
    let to = SocketAddr::new(c.to, c.port);
    let (family, ty) = (
        if to.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        },
        match c.proto {
            Proto::Tcp => SockType::Stream,
            Proto::Udp => SockType::Datagram,
        },
    );
    let fd = ns.run_in(move || {
        Ok(socket::socket(
            family,
            ty,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )?)
    })?;
    let token = new_token();
    let data = payload(&token, c.send);
    let mut a = Attempt {
        outcome: Connection::Timeout,
        token,
        exchanged: false,
        echo_problem: None,
        local: None,
        elapsed: Duration::ZERO,
    };
    a.outcome = match c.proto {
        Proto::Tcp => tcp(&fd, to, deadline)?,
        Proto::Udp => udp(&fd, to, &data, deadline, &mut a)?,
    };
    a.local = socket::getsockname::<SockaddrStorage>(fd.as_raw_fd())
        .ok()
        .and_then(|s| crate::servers::socket_addr(&s));
    if c.proto == Proto::Tcp
        && a.outcome == Connection::Connected
        && (c.send > 0 || c.peer.is_some())
    {
        a.exchanged = true;
        a.echo_problem = exchange(&fd, &data, deadline)?;
    }
    a.elapsed = start.elapsed();
    Ok(a)
}

fn tcp(fd: &OwnedFd, to: SocketAddr, deadline: Instant) -> io::Result<Connection> {
    match socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(to)) {
        Ok(()) => return Ok(Connection::Connected),
        Err(Errno::EINPROGRESS) => {}
        Err(e) => return Ok(classify(e)),
    }
    if wait(fd, PollFlags::POLLOUT, deadline)?.is_none() {
        return Ok(Connection::Timeout);
    }
    Ok(match socket::getsockopt(fd, sockopt::SocketError)? {
        0 => Connection::Connected,
        e => classify(Errno::from_raw(e)),
    })
}

/// Sends the datagram and waits for its echo, an error, or the deadline.
fn udp(
    fd: &OwnedFd,
    to: SocketAddr,
    data: &[u8],
    deadline: Instant,
    a: &mut Attempt,
) -> io::Result<Connection> {
    if let Err(e) = socket::connect(fd.as_raw_fd(), &SockaddrStorage::from(to)) {
        return Ok(classify(e));
    }
    if let Err(e) = socket::send(fd.as_raw_fd(), data, socket::MsgFlags::empty()) {
        return Ok(classify(e));
    }
    a.exchanged = true;
    let mut buf = vec![0u8; data.len() + 1];
    if wait(fd, PollFlags::POLLIN, deadline)?.is_none() {
        return Ok(Connection::Timeout);
    }
    match socket::recv(fd.as_raw_fd(), &mut buf, socket::MsgFlags::empty()) {
        Ok(n) => {
            if buf[..n] != *data {
                a.echo_problem = Some(format!(
                    "the reply ({n} bytes) is not the {} bytes sent",
                    data.len()
                ));
            }
            Ok(Connection::Connected)
        }
        Err(e) => Ok(classify(e)),
    }
}

/// Writes `data` and reads it back, interleaved so that neither side's buffers fill.
fn exchange(fd: &OwnedFd, data: &[u8], deadline: Instant) -> io::Result<Option<String>> {
    let (mut sent, mut got) = (0usize, 0usize);
    let mut buf = vec![0u8; 64 * 1024];
    while got < data.len() {
        let mut events = PollFlags::POLLIN;
        if sent < data.len() {
            events |= PollFlags::POLLOUT;
        }
        let Some(ready) = wait(fd, events, deadline)? else {
            return Ok(Some(format!(
                "{got} of {} bytes came back before the timeout",
                data.len()
            )));
        };
        if ready.contains(PollFlags::POLLOUT) && sent < data.len() {
            match nix::unistd::write(fd, &data[sent..]) {
                Ok(n) => sent += n,
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(e) => return Ok(Some(format!("sending failed after {sent} bytes: {e}"))),
            }
        }
        if ready.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) => {
                    return Ok(Some(format!(
                        "the peer closed after echoing {got} of {} bytes",
                        data.len()
                    )))
                }
                Ok(n) => {
                    let end = (got + n).min(data.len());
                    if buf[..end - got] != data[got..end] || got + n > data.len() {
                        return Ok(Some(format!(
                            "the echo differs from what was sent after byte {got}"
                        )));
                    }
                    got += n;
                }
                Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(e) => return Ok(Some(format!("receiving failed after {got} bytes: {e}"))),
            }
        }
    }
    Ok(None)
}
