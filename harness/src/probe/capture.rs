//! Taps: AF_PACKET sockets on interfaces, opened in each interface's own namespace
//! before a probe sends and drained after it, so a step can say where its frames went.
//!
//! A tap sees every frame its interface sends (`PACKET_OUTGOING`) or receives, once, with
//! the kernel's timestamp, so the frames of one probe can be put in the order they
//! crossed the topology. Binding a tap does not make the interface promiscuous: a
//! bridge's own device sees only what the bridge delivers to it, not what it forwards.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::{bind_packet, close_later, setsockopt, socket};
use crate::netns::Netns;
use crate::scenario::IfRef;

const ETH_P_ALL: u16 = 0x0003;
const PACKET_OUTGOING: u8 = 4;
/// After a probe ends, frames still queued elsewhere (a flooded copy in a CPU's
/// backlog) may still come: the taps are read until they stay quiet this long...
const QUIET: Duration = Duration::from_micros(300);
/// ...but not longer than this in all.
const GRACE: Duration = Duration::from_millis(5);

/// One frame as a tap saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub at: IfRef,
    /// Kernel timestamp (CLOCK_REALTIME), for ordering across taps.
    pub when: Duration,
    /// The interface sent it (else it received it).
    pub outgoing: bool,
    pub bytes: Vec<u8>,
}

pub(crate) struct Tap {
    at: IfRef,
    fd: OwnedFd,
}

impl Tap {
    pub(crate) fn at(&self) -> &IfRef {
        &self.at
    }

    pub(crate) fn raw_fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// Frames the kernel dropped at this tap (its buffer was full) since the last ask.
    /// An observation with a loss is incomplete, and no verdict may pass on it.
    pub(crate) fn lost(&self) -> io::Result<u64> {
        #[repr(C)]
        struct TpacketStats {
            packets: u32,
            drops: u32,
        }
        let mut st = TpacketStats {
            packets: 0,
            drops: 0,
        };
        let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: st is a live tpacket_stats of the given size; reading resets it.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut TpacketStats as *mut libc::c_void,
                &mut len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(st.drops))
    }
}

/// What a set of taps read, and what each of them lost.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    pub frames: Vec<Frame>,
    /// Interfaces whose tap dropped frames, with how many.
    pub lost: Vec<(IfRef, u64)>,
}

impl Drained {
    /// "N frames at X, M at Y" when anything was lost.
    pub(crate) fn loss(&self) -> Option<String> {
        loss_text(&self.lost)
    }
}

/// Names the losses, or None when there were none.
pub(crate) fn loss_text(lost: &[(IfRef, u64)]) -> Option<String> {
    let parts: Vec<String> = lost
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(at, n)| format!("{n} at {at}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Opens taps on `ifaces` of one node, on one thread inside its namespace, with a
/// receive buffer of `bytes` if given (a whole-run capture is read between steps, so a
/// step's frames must fit).
pub(crate) fn open(ns: &Netns, ifaces: Vec<IfRef>, bytes: Option<i32>) -> io::Result<Vec<Tap>> {
    ingress_timestamps(ns);
    ns.run_in(move || {
        ifaces
            .into_iter()
            .map(|at| {
                // Protocol 0 at socket(), ETH_P_ALL at bind(): see bind_packet.
                let fd = socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)?;
                let one: libc::c_int = 1;
                setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one)?;
                // The kernel takes a received frame's 802.1Q tag into metadata; the
                // auxdata gives it back, and `read_all` puts it back into the frame.
                setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one)?;
                if let Some(b) = bytes {
                    // FORCE lifts the rmem_max cap (we hold CAP_NET_ADMIN in the node).
                    setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &b)
                        .or_else(|_| setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &b))?;
                }
                let ifindex =
                    nix::net::if_::if_nametoindex(at.ifname.as_str()).map_err(io::Error::from)?;
                bind_packet(&fd, ifindex, ETH_P_ALL)?;
                Ok(Tap { at, fd })
            })
            .collect()
    })
}

/// Turns on, for good, the kernel's stamping of frames as they pass, and waits until it
/// is on. The kernel stamps a frame when it crosses an interface only while some socket
/// asks for timestamps (the global `netstamp_needed` key), and the first such socket
/// turns the key on later, from a workqueue. Until then a tap's frames are stamped when
/// they are read, in the order the taps are read, and a path would come out in that
/// order. One unbound socket kept open in the process's own namespace (it sends
/// nothing there) keeps the key on; a datagram over the node's loopback shows when it
/// is on: stamped when sent, not when read.
fn ingress_timestamps(ns: &Netns) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static ON: AtomicBool = AtomicBool::new(false);
    static KEEPER: std::sync::Mutex<Option<OwnedFd>> = std::sync::Mutex::new(None);
    if ON.load(Ordering::Relaxed) {
        return;
    }
    {
        let mut keeper = KEEPER.lock().unwrap_or_else(|e| e.into_inner());
        if keeper.is_none() {
            let one: libc::c_int = 1;
            let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0).and_then(|fd| {
                setsockopt(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one).map(|()| fd)
            });
            *keeper = fd.ok();
        }
    }
    // Bounded: if it never shows, the probe still runs (and its order may be off).
    let on = ns
        .run_in(|| Ok(stamped_when_sent(Duration::from_secs(2))))
        .unwrap_or(false);
    if on {
        ON.store(true, Ordering::Relaxed);
    }
}

/// Sends datagrams to itself over loopback until one is stamped well before it is read.
fn stamped_when_sent(limit: Duration) -> bool {
    let Ok(rx) = std::net::UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let one: libc::c_int = 1;
    let stamped = setsockopt(&rx, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one);
    let (Ok(()), Ok(to)) = (stamped, rx.local_addr()) else {
        return false;
    };
    let start = Instant::now();
    while start.elapsed() < limit {
        if rx.send_to(b"t", to).is_err() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(300));
        let read_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        match recv_stamp(rx.as_raw_fd()) {
            Some(ts) if ts + Duration::from_micros(150) < read_at => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// One datagram's SCM_TIMESTAMPNS.
fn recv_stamp(fd: libc::c_int) -> Option<Duration> {
    let mut buf = [0u8; 16];
    let mut control = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: plain data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = control.len();
    // SAFETY: msg points at live buffers of the given sizes.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    timestamp(&msg)
}

/// Reads everything the taps hold, then waits for stragglers until the taps have been
/// quiet for `QUIET` (at most `GRACE`), then closes them.
pub(crate) fn drain(taps: Vec<Tap>) -> io::Result<Drained> {
    let mut frames = Vec::new();
    for t in &taps {
        read_all(t, &mut frames)?;
    }
    let until = Instant::now() + GRACE;
    while !taps.is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let fds: Vec<_> = taps.iter().map(|t| t.fd.as_raw_fd()).collect();
        let ready = super::readable(&fds, QUIET.min(left))?;
        if !ready.contains(&true) {
            break; // quiet
        }
        for (t, r) in taps.iter().zip(ready) {
            if r {
                read_all(t, &mut frames)?;
            }
        }
    }
    let mut lost = Vec::new();
    for t in &taps {
        lost.push((t.at.clone(), t.lost()?));
    }
    for t in taps {
        close_later(t.fd);
    }
    frames.sort_by_key(|f| f.when);
    Ok(Drained { frames, lost })
}

/// Closes taps (on threads of their own: see `close_later`).
pub(crate) fn close(taps: Vec<Tap>) {
    for t in taps {
        close_later(t.fd);
    }
}

pub(crate) fn read_all(t: &Tap, out: &mut Vec<Frame>) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    let mut control = [0u8; 128];
    loop {
        // SAFETY: plain data; all-zero is valid.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: plain data; all-zero is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = &mut from as *mut _ as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = control.len();
        // SAFETY: msg points at live buffers of the given sizes.
        let n = unsafe { libc::recvmsg(t.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) => Ok(()),
                // The tapped interface is or went down (the kernel says so once, at
                // bind or at NETDEV_DOWN): nothing crossed it meanwhile, and the tap
                // sees frames again once it is up.
                Some(libc::EINTR | libc::ENETDOWN) => continue,
                _ => Err(e),
            };
        }
        let n = n as usize;
        let bytes = match vlan_tag(&msg) {
            Some(tag) if n >= 12 => [&buf[..12], &tag[..], &buf[12..n]].concat(),
            _ => buf[..n].to_vec(),
        };
        out.push(Frame {
            at: t.at.clone(),
            when: timestamp(&msg).unwrap_or_default(),
            outgoing: from.sll_pkttype == PACKET_OUTGOING,
            bytes,
        });
    }
}

/// The 802.1Q tag (TPID and TCI) the kernel took out of a received frame, from its
/// PACKET_AUXDATA, as the four bytes to put back after the MACs.
fn vlan_tag(msg: &libc::msghdr) -> Option<[u8; 4]> {
    const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
    const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
    // SAFETY: walking the control messages the kernel wrote into msg's buffer.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA {
                let aux =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::tpacket_auxdata);
                if aux.tp_status & TP_STATUS_VLAN_VALID == 0 {
                    return None;
                }
                let tpid = if aux.tp_status & TP_STATUS_VLAN_TPID_VALID != 0 {
                    aux.tp_vlan_tpid
                } else {
                    0x8100
                };
                let [a, b] = tpid.to_be_bytes();
                let [c, d] = aux.tp_vlan_tci.to_be_bytes();
                return Some([a, b, c, d]);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

/// The SCM_TIMESTAMPNS of a received message.
fn timestamp(msg: &libc::msghdr) -> Option<Duration> {
    // SAFETY: walking the control messages the kernel wrote into msg's buffer.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}
