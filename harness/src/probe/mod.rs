//! Native probes: ICMP/ICMPv6 echo and ARP, so no iputils is needed.
//! Sockets are created on a thread inside the source namespace and then used from
//! the caller's thread: a socket stays in the namespace it was created in.

pub(crate) mod arping;
pub(crate) mod capture;
pub(crate) mod connect;
pub(crate) mod frame;
pub(crate) mod nflog;
pub(crate) mod ping;
pub(crate) mod send;
pub(crate) mod stream;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::poll::PollFlags;

use crate::scenario::Mac;

/// Waits up to `wait` for any of `fds` to be readable (or to hold an error): which of
/// them are, in order; none on timeout.
pub(crate) fn readable(fds: &[RawFd], wait: Duration) -> io::Result<Vec<bool>> {
    let polled: Vec<_> = fds.iter().map(|&fd| (fd, PollFlags::POLLIN)).collect();
    Ok(poll(&polled, wait)?.iter().map(|r| !r.is_empty()).collect())
}

/// Waits until `fd` is readable or `deadline` passes; false on timeout.
pub(crate) fn wait_readable(fd: &OwnedFd, deadline: Instant) -> io::Result<bool> {
    Ok(wait_for(fd, PollFlags::POLLIN, deadline)?.is_some())
}

/// Waits for `events` on `fd` until `deadline`: the events that came, or None on
/// timeout.
pub(crate) fn wait_for(
    fd: &OwnedFd,
    events: PollFlags,
    deadline: Instant,
) -> io::Result<Option<PollFlags>> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(None);
    }
    let came = poll(&[(fd.as_raw_fd(), events)], left)?[0];
    Ok((!came.is_empty()).then_some(came))
}

/// Waits up to `wait` for each fd's events: what came on each, in order (all empty on
/// timeout). ppoll keeps sub-millisecond waits exact; a signal does not cut the wait
/// short. The one poll loop of the probes, the event waits and the tap drains.
fn poll(fds: &[(RawFd, PollFlags)], wait: Duration) -> io::Result<Vec<PollFlags>> {
    let deadline = Instant::now() + wait;
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events: events.bits(),
            revents: 0,
        })
        .collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ts = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        // SAFETY: `polled` and `ts` are valid for the call; no signal mask is changed.
        let n = unsafe {
            libc::ppoll(
                polled.as_mut_ptr(),
                polled.len() as libc::nfds_t,
                &ts,
                std::ptr::null(),
            )
        };
        if n >= 0 {
            return Ok(polled
                .iter()
                .map(|p| PollFlags::from_bits_truncate(p.revents))
                .collect());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub(crate) fn fmt_ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Creates a socket; `-1` from libc becomes the errno.
pub(crate) fn socket(domain: i32, ty: i32, proto: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is owned on success.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    use std::os::fd::FromRawFd;
    // SAFETY: fd is a fresh, valid descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) fn setsockopt<T>(fd: &impl AsRawFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: value points to a live T of the given size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Closing an AF_PACKET socket waits for an RCU grace period (`synchronize_net`),
/// 10-30 ms that the step should not pay. The socket is closed on a thread of its own;
/// `join_closers` waits for all of them before a run reports that it has finished.
pub(crate) fn close_later(fd: OwnedFd) {
    let t = std::thread::spawn(move || drop(fd));
    CLOSERS.lock().unwrap_or_else(|e| e.into_inner()).push(t);
}

static CLOSERS: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

/// Waits until every socket handed to `close_later` is closed.
pub(crate) fn join_closers() {
    let handles = std::mem::take(&mut *CLOSERS.lock().unwrap_or_else(|e| e.into_inner()));
    for h in handles {
        let _ = h.join();
    }
}

/// The interface's current MAC (SIOCGIFHWADDR), asked on a socket in its namespace.
pub(crate) fn hardware_address(fd: &OwnedFd, ifname: &str) -> io::Result<Mac> {
    // SAFETY: ifreq is plain data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(ifname.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: a valid ifreq for this ioctl, on our own socket.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFHWADDR filled ifru_hwaddr.
    let data = unsafe { req.ifr_ifru.ifru_hwaddr.sa_data };
    let mut mac = [0u8; 6];
    for (m, d) in mac.iter_mut().zip(data.iter()) {
        *m = *d as u8;
    }
    Ok(Mac(mac))
}

/// An AF_PACKET address: one interface, one ethertype, and a destination MAC if sending.
fn link_addr(ifindex: u32, protocol: u16, dst: Option<[u8; 6]>) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = protocol.to_be();
    sa.sll_ifindex = ifindex as i32;
    if let Some(d) = dst {
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&d);
    }
    sa
}

/// Binds an AF_PACKET socket to one interface and one ethertype (ETH_P_ALL for all).
/// Create the socket with protocol 0 and bind it here: a socket born with a protocol
/// is hooked at once, and re-hooking it at bind() waits for an RCU grace period.
pub(crate) fn bind_packet(fd: &OwnedFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    let sa = link_addr(ifindex, protocol, None);
    // SAFETY: sa is a valid sockaddr_ll of the given size.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends one frame (a whole Ethernet frame on a SOCK_RAW socket, the payload of
/// `protocol` on a SOCK_DGRAM one) out of `ifindex` to `dst`.
pub(crate) fn send_packet(
    fd: &OwnedFd,
    ifindex: u32,
    protocol: u16,
    dst: [u8; 6],
    frame: &[u8],
) -> io::Result<()> {
    let sa = link_addr(ifindex, protocol, Some(dst));
    // SAFETY: frame and sa are valid for the given lengths.
    let r = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            frame.as_ptr() as *const libc::c_void,
            frame.len(),
            0,
            &sa as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The 16-bit one's-complement sum of `data` as big-endian words (an odd last byte
/// padded with zero), not yet folded: a pseudo-header's sum seeds `checksum`.
pub(crate) fn ones_sum(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// The Internet checksum (RFC 1071) of `data`, starting from `seed`.
pub(crate) fn checksum(data: &[u8], seed: u32) -> u16 {
    let mut s = seed + ones_sum(data);
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_rfc_1071s_worked_example() {
        // RFC 1071, 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 after the carries.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data, 0), !0xddf2);
        // An odd byte counts as the high half of a last word.
        assert_eq!(checksum(&[0xab], 0), !0xab00);
        assert_eq!(checksum(&[], 0), 0xffff);
    }

    #[test]
    fn durations_are_written_in_milliseconds_or_their_unit() {
        assert_eq!(fmt_ms(Duration::from_micros(1500)), "1.500 ms");
        assert_eq!(fmt_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(fmt_duration(Duration::from_secs(2)), "2s");
    }
}
