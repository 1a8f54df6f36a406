//! What runs in the nodes while the steps go on: echo listeners and background
//! commands. Everything here stops at teardown, or when dropped, so that no socket,
//! thread or process outlives its scenario (each would keep a namespace alive).
//!
//! A listener echoes what it receives and records who sent it. A `connect` step opens
//! its data with a token (`TOKEN_LEN` bytes); the listener files the peer address under
//! that token, so the step can ask which source address arrived after any NAT.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, SockaddrIn6,
    SockaddrStorage,
};

use crate::netns::Netns;
use crate::nsexec::{Finished, Running};
use crate::scenario::{Listen, Proto};

/// Every `connect` opens with `TOKEN_MAGIC` plus a 12-byte id.
pub(crate) const TOKEN_LEN: usize = 16;
pub(crate) const TOKEN_MAGIC: &[u8; 4] = b"nspc";
pub(crate) type Token = [u8; TOKEN_LEN];

/// Who each token came from, shared by every listener of a run.
pub(crate) type Seen = Arc<Mutex<HashMap<Token, SocketAddr>>>;

struct Listener {
    /// Dropping it wakes every thread of this listener, which then ends.
    stop: OwnedFd,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Listener {
    fn close(self) {
        drop(self.stop);
        // Connection threads may still be added while the accept threads end.
        loop {
            let next = self.threads.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match next {
                Some(t) => {
                    let _ = t.join();
                }
                None => break,
            }
        }
    }
}

/// The listeners and background commands of one run.
#[derive(Default)]
pub(crate) struct Servers {
    listeners: BTreeMap<(String, Proto, u16), Listener>,
    background: Vec<(String, Running)>,
    seen: Seen,
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Servers")
            .field("listeners", &self.listeners.len())
            .field("background", &self.background.len())
            .finish()
    }
}

impl Servers {
    pub(crate) fn seen(&self, token: &Token) -> Option<SocketAddr> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .copied()
    }

    /// Starts an echo server on `l.port` for IPv4 and IPv6, inside the node.
    pub(crate) fn listen(&mut self, ns: &Netns, l: &Listen) -> io::Result<()> {
        let key = (l.node.to_string(), l.proto, l.port);
        if self.listeners.contains_key(&key) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{l} is already listening"),
            ));
        }
        let (proto, port) = (l.proto, l.port);
        let sockets = ns.run_in(move || {
            let v4 = bind(proto, SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))?;
            // A node without IPv6 still serves IPv4.
            let v6 = bind(proto, SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))).ok();
            Ok([Some(v4), v6])
        })?;
        let (stop_r, stop_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let threads = Arc::new(Mutex::new(Vec::new()));
        for sock in sockets.into_iter().flatten() {
            let stop = stop_r.try_clone()?;
            let seen = self.seen.clone();
            let all = threads.clone();
            let t = std::thread::Builder::new()
                .name(format!("netspec-{proto}-{port}"))
                .spawn(move || match proto {
                    Proto::Tcp => accept_loop(sock, stop, seen, all),
                    Proto::Udp => udp_loop(sock, stop, seen),
                })?;
            threads.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        }
        self.listeners.insert(
            key,
            Listener {
                stop: stop_w,
                threads,
            },
        );
        Ok(())
    }

    pub(crate) fn stop_listening(&mut self, l: &Listen) -> io::Result<()> {
        let key = (l.node.to_string(), l.proto, l.port);
        match self.listeners.remove(&key) {
            Some(x) => {
                x.close();
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("nothing listens on {l}"),
            )),
        }
    }

    pub(crate) fn keep_running(&mut self, what: String, r: Running) {
        self.background.push((what, r));
    }

    /// Stops everything; returns what each background command wrote, for reports.
    pub(crate) fn close(&mut self) -> Vec<(String, Finished)> {
        for (_, l) in std::mem::take(&mut self.listeners) {
            l.close();
        }
        std::mem::take(&mut self.background)
            .into_iter()
            .map(|(w, r)| (w, r.stop()))
            .collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.close();
    }
}

fn bind(proto: Proto, addr: SocketAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let ty = match proto {
        Proto::Tcp => SockType::Stream,
        Proto::Udp => SockType::Datagram,
    };
    let fd = socket::socket(family, ty, SockFlag::SOCK_CLOEXEC, None)?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    match addr {
        SocketAddr::V4(a) => {
            if proto == Proto::Udp {
                socket::setsockopt(&fd, sockopt::Ipv4PacketInfo, &true)?;
            }
            socket::bind(fd.as_raw_fd(), &SockaddrIn::from(a))?;
        }
        SocketAddr::V6(a) => {
            socket::setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
            if proto == Proto::Udp {
                socket::setsockopt(&fd, sockopt::Ipv6RecvPacketInfo, &true)?;
            }
            socket::bind(fd.as_raw_fd(), &SockaddrIn6::from(a))?;
        }
    }
    if proto == Proto::Tcp {
        socket::listen(&fd, Backlog::new(128).unwrap_or(Backlog::MAXCONN))?;
    }
    Ok(fd)
}

/// Polls `fd` for `events` and `stop` for its closing; false when stopped.
fn wait(fd: &OwnedFd, events: nix::poll::PollFlags, stop: &OwnedFd) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [
            PollFd::new(fd.as_fd(), events),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {
                if fds[1].any().unwrap_or(true) {
                    return false;
                }
                if fds[0].any().unwrap_or(false) {
                    return true;
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
}

pub(crate) fn socket_addr(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(a) = s.as_sockaddr_in() {
        return Some(SocketAddr::from((a.ip(), a.port())));
    }
    s.as_sockaddr_in6()
        .map(|a| SocketAddr::from((IpAddr::V6(a.ip()), a.port())))
}

fn record(seen: &Seen, data: &[u8], from: SocketAddr) {
    if data.len() >= TOKEN_LEN && data.starts_with(TOKEN_MAGIC) {
        let mut t = [0u8; TOKEN_LEN];
        t.copy_from_slice(&data[..TOKEN_LEN]);
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(t, from);
    }
}

/// The most connections one TCP listener serves at once; more are closed as they come.
pub(crate) const MAX_CONNECTIONS: usize = 64;

fn accept_loop(sock: OwnedFd, stop: OwnedFd, seen: Seen, threads: Arc<Mutex<Vec<JoinHandle<()>>>>) {
    while wait(&sock, nix::poll::PollFlags::POLLIN, &stop) {
        let Ok(conn) = socket::accept4(&sock, SockFlag::SOCK_CLOEXEC) else {
            continue;
        };
        let peer = socket::getpeername::<SockaddrStorage>(conn.as_raw_fd())
            .ok()
            .and_then(|s| socket_addr(&s));
        let (Ok(stop), Some(peer)) = (stop.try_clone(), peer) else {
            continue;
        };
        let mut live = threads.lock().unwrap_or_else(|e| e.into_inner());
        // Finished connections give their place back (and their handle is dropped).
        live.retain(|t| !t.is_finished());
        if live.len() > MAX_CONNECTIONS {
            // One thread a connection: a flood of clients must not flood the machine.
            // Closing it at once tells the client (a reset or EOF), never a hang.
            drop(conn);
            continue;
        }
        let seen = seen.clone();
        let t = std::thread::Builder::new()
            .name("netspec-echo".into())
            .stack_size(128 * 1024)
            .spawn(move || echo_stream(conn, stop, seen, peer));
        if let Ok(t) = t {
            live.push(t);
        }
    }
}

/// Echoes one TCP connection until the peer closes it or the listener stops.
fn echo_stream(conn: OwnedFd, stop: OwnedFd, seen: Seen, peer: SocketAddr) {
    use nix::poll::PollFlags;
    let mut head = Vec::with_capacity(TOKEN_LEN);
    let mut buf = vec![0u8; 64 * 1024];
    while wait(&conn, PollFlags::POLLIN, &stop) {
        let n = match nix::unistd::read(&conn, &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if head.len() < TOKEN_LEN {
            let take = (TOKEN_LEN - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
            if head.len() == TOKEN_LEN {
                record(&seen, &head, peer);
            }
        }
        let mut off = 0;
        while off < n {
            if !wait(&conn, PollFlags::POLLOUT, &stop) {
                return;
            }
            match nix::unistd::write(&conn, &buf[off..n]) {
                Ok(w) => off += w,
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                Err(_) => return,
            }
        }
    }
}

/// Echoes datagrams, replying from the address each one was sent to.
fn udp_loop(sock: OwnedFd, stop: OwnedFd, seen: Seen) {
    use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
    let mut buf = vec![0u8; 65536];
    while wait(&sock, nix::poll::PollFlags::POLLIN, &stop) {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo);
        let (n, from, info4, info6) = {
            let mut iov = [io::IoSliceMut::new(&mut buf)];
            let Ok(msg) = recvmsg::<SockaddrStorage>(
                sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::empty(),
            ) else {
                continue;
            };
            let (mut i4, mut i6) = (None, None);
            for c in msg.cmsgs().into_iter().flatten() {
                match c {
                    ControlMessageOwned::Ipv4PacketInfo(i) => i4 = Some(i),
                    ControlMessageOwned::Ipv6PacketInfo(i) => i6 = Some(i),
                    _ => {}
                }
            }
            (msg.bytes, msg.address, i4, i6)
        };
        let Some(from) = from else { continue };
        if let Some(peer) = socket_addr(&from) {
            record(&seen, &buf[..n], peer);
        }
        let iov = [io::IoSlice::new(&buf[..n])];
        let mut cmsgs = Vec::new();
        let reply4 = info4.map(|mut i| {
            i.ipi_spec_dst = i.ipi_addr;
            i.ipi_ifindex = 0;
            i
        });
        if let Some(i) = &reply4 {
            cmsgs.push(ControlMessage::Ipv4PacketInfo(i));
        }
        if let Some(i) = &info6 {
            cmsgs.push(ControlMessage::Ipv6PacketInfo(i));
        }
        // A reply that cannot go out is the client's timeout to report.
        let _ = sendmsg(
            sock.as_raw_fd(),
            &iov,
            &cmsgs,
            MsgFlags::empty(),
            Some(&from),
        );
    }
}
