//! ARP requests over an AF_PACKET socket bound to one interface.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::{
    bind_packet, close_later, fmt_duration, fmt_ms, hardware_address, send_packet, socket,
    wait_readable,
};
use crate::netns::Netns;
use crate::scenario::Mac;

const ETH_P_ARP: u16 = 0x0806;
/// Requests are repeated this often until an answer or the timeout, as a lost
/// request (a port still learning, say) should not decide the verdict alone.
const RESEND: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub(crate) struct ArpResult {
    pub answer: Option<(Mac, Duration)>,
    pub sent: u32,
    pub timeout: Duration,
    /// The step's time bound ran out first.
    pub cut_short: bool,
    /// The sender MAC its requests carried (the interface's own, read when it ran).
    pub src_mac: Mac,
}

impl fmt::Display for ArpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.answer {
            Some((mac, rtt)) => write!(f, "answered by {mac} in {}", fmt_ms(*rtt)),
            None if self.cut_short => write!(
                f,
                "no answer before the step's time bound ({} requests)",
                self.sent
            ),
            None => write!(
                f,
                "no answer within {} ({} requests)",
                fmt_duration(self.timeout),
                self.sent
            ),
        }
    }
}

/// Asks `target` for its MAC from `ifname`, resending every 100 ms, until an answer,
/// `timeout`, or `until` (the step's time bound: then cut short). The request carries
/// the interface's MAC as it is now, not as the scenario declared it: a step may have
/// changed it, and the neighbour must learn the real one.
pub(crate) fn arping(
    ns: &Netns,
    ifname: &str,
    src_ip: Ipv4Addr,
    target: Ipv4Addr,
    timeout: Duration,
    until: Instant,
) -> io::Result<ArpResult> {
    let name = ifname.to_string();
    let (fd, ifindex, src_mac) = ns.run_in(move || {
        // Protocol 0 at socket(), ETH_P_ARP at bind(): a socket born with a protocol
        // is hooked at once, and re-hooking it at bind() waits for an RCU grace period.
        let fd = socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        let ifindex = nix::net::if_::if_nametoindex(name.as_str()).map_err(io::Error::from)?;
        let mac = hardware_address(&fd, &name)?;
        bind_packet(&fd, ifindex, ETH_P_ARP)?;
        Ok((fd, ifindex, mac))
    })?;
    let req = request(src_mac, src_ip, target);
    let start = Instant::now();
    let deadline = (start + timeout).min(until);
    let mut result = ArpResult {
        answer: None,
        sent: 0,
        timeout,
        cut_short: false,
        src_mac,
    };
    while Instant::now() < deadline {
        send_packet(&fd, ifindex, ETH_P_ARP, [0xff; 6], &req)?;
        result.sent += 1;
        let wait = (Instant::now() + RESEND).min(deadline);
        if let Some(mac) = await_answer(&fd, target, wait)? {
            result.answer = Some((mac, start.elapsed()));
            break;
        }
    }
    result.cut_short = result.answer.is_none() && until < start + timeout;
    close_later(fd);
    Ok(result)
}

fn request(src_mac: Mac, src_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    p[4] = 6;
    p[5] = 4;
    p[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    p[8..14].copy_from_slice(&src_mac.0);
    p[14..18].copy_from_slice(&src_ip.octets());
    p[24..28].copy_from_slice(&target.octets());
    p
}

fn await_answer(fd: &OwnedFd, target: Ipv4Addr, deadline: Instant) -> io::Result<Option<Mac>> {
    let mut buf = [0u8; 128];
    while wait_readable(fd, deadline)? {
        // SAFETY: buf is valid for its length.
        let n = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) {
                continue;
            }
            return Err(e);
        }
        if let Some(mac) = parse_reply(&buf[..n as usize], target) {
            return Ok(Some(mac));
        }
    }
    Ok(None)
}

/// The sender MAC of an ARP reply whose sender IP is `target`.
fn parse_reply(p: &[u8], target: Ipv4Addr) -> Option<Mac> {
    if p.len() < 28 || p[6..8] != 2u16.to_be_bytes() || p[14..18] != target.octets() {
        return None;
    }
    Some(Mac(p[8..14].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_from_the_target_is_parsed_and_others_are_not() {
        let mac = Mac([2, 0, 0, 0, 0, 9]);
        let mut reply = request(mac, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        reply[6..8].copy_from_slice(&2u16.to_be_bytes());
        assert_eq!(parse_reply(&reply, Ipv4Addr::new(10, 0, 0, 2)), Some(mac));
        assert_eq!(parse_reply(&reply, Ipv4Addr::new(10, 0, 0, 3)), None);
        let req = request(mac, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            parse_reply(&req, Ipv4Addr::new(10, 0, 0, 2)),
            None,
            "a request is not an answer"
        );
    }

    #[test]
    fn no_bytes_make_the_reply_reader_panic() {
        let target = Ipv4Addr::new(10, 0, 0, 2);
        for b in crate::testing::random_bytes(31, 5000, 64) {
            if let Some(mac) = parse_reply(&b, target) {
                assert_eq!(&b[6..8], &[0, 2], "only a reply is an answer");
                assert_eq!(mac.0, b[8..14]);
            }
        }
    }
}
