//! Crafted frames (`send:`), written byte by byte and sent over an AF_PACKET socket
//! bound to one interface, as mausezahn or `arping -A/-U` would. Each frame carries
//! netspec's marker (`nsp1`, a per-step nonce, the frame's number) in its payload, or in
//! the Ethernet padding after an ARP body, so the step's frames can be told from others.

use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{checksum, close_later, fmt_ms, hardware_address, ones_sum, send_packet, socket};
use crate::netns::Netns;
use crate::scenario::{ArpOp, FrameBody, FrameSpec, Mac, Send, L4};

static NONCE: AtomicU32 = AtomicU32::new(1);

/// What a send did.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub frames: u32,
    /// The step's time bound ran out before every frame was sent.
    pub cut_short: bool,
    /// The first 8 bytes of every frame's marker.
    pub marker: [u8; 8],
    pub elapsed: Duration,
}

impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frame{} sent in {}",
            self.frames,
            if self.frames == 1 { "" } else { "s" },
            fmt_ms(self.elapsed)
        )?;
        if self.cut_short {
            write!(f, "; cut short by the step's time bound")?;
        }
        Ok(())
    }
}

/// Sends `s.count` frames, `s.interval` apart, never past `until`.
pub(crate) fn send(ns: &Netns, s: &Send, until: Instant) -> io::Result<Sent> {
    let name = s.from.ifname.to_string();
    let (fd, ifindex, own) = ns.run_in(move || {
        // Protocol 0: a socket that only sends is never hooked into receive.
        let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let ifindex = nix::net::if_::if_nametoindex(name.as_str()).map_err(io::Error::from)?;
        let own = hardware_address(&fd, &name)?;
        Ok((fd, ifindex, own))
    })?;
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed) ^ std::process::id().rotate_left(16);
    let mut marker = [0u8; 8];
    marker[..4].copy_from_slice(b"nsp1");
    marker[4..].copy_from_slice(&nonce.to_be_bytes());
    let start = Instant::now();
    let mut sent = Sent {
        frames: 0,
        cut_short: false,
        marker,
        elapsed: Duration::ZERO,
    };
    for i in 0..s.count {
        if Instant::now() >= until {
            sent.cut_short = true;
            break;
        }
        let frame = craft(&s.frame, own, nonce, i);
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[..6]);
        if let Err(e) = send_packet(&fd, ifindex, 0, dst, &frame) {
            close_later(fd);
            return Err(e);
        }
        sent.frames += 1;
        if !s.interval.is_zero() && i + 1 < s.count {
            let next = (Instant::now() + s.interval).min(until);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    }
    sent.elapsed = start.elapsed();
    close_later(fd);
    Ok(sent)
}

fn marker_bytes(nonce: u32, i: u32) -> [u8; 12] {
    let mut m = [0u8; 12];
    m[..4].copy_from_slice(b"nsp1");
    m[4..8].copy_from_slice(&nonce.to_be_bytes());
    m[8..].copy_from_slice(&i.to_be_bytes());
    m
}

/// Frame number `i` of a spec; `own` is the interface's MAC, for what the spec leaves out.
pub(crate) fn craft(spec: &FrameSpec, own: Mac, nonce: u32, i: u32) -> Vec<u8> {
    let mut f = Vec::with_capacity(128);
    f.extend_from_slice(&spec.dst.0);
    f.extend_from_slice(&spec.src.unwrap_or(own).0);
    if let Some(v) = spec.vlan {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&v.to_be_bytes());
    }
    let marker = marker_bytes(nonce, i);
    match &spec.body {
        FrameBody::Raw { ethertype, payload } => {
            f.extend_from_slice(&ethertype.to_be_bytes());
            f.extend_from_slice(&padded(&marker, *payload));
        }
        FrameBody::Arp {
            op,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
        } => {
            f.extend_from_slice(&0x0806u16.to_be_bytes());
            f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0]);
            f.push(if *op == ArpOp::Request { 1 } else { 2 });
            f.extend_from_slice(&sender_mac.unwrap_or(own).0);
            f.extend_from_slice(&sender_ip.octets());
            f.extend_from_slice(&target_mac.unwrap_or(own).0);
            f.extend_from_slice(&target_ip.octets());
            // The marker rides in the padding up to the 60-byte minimum frame.
            f.extend_from_slice(&marker);
        }
        FrameBody::Ip { .. } => f.extend_from_slice(&ip_packet(&spec.body, &marker, nonce, i)),
    }
    if f.len() < 60 {
        f.resize(60, 0);
    }
    f
}

/// The ethertype, IP header and L4 segment of an IP frame.
fn ip_packet(body: &FrameBody, marker: &[u8; 12], nonce: u32, i: u32) -> Vec<u8> {
    let FrameBody::Ip {
        src,
        dst,
        ttl,
        df,
        dscp,
        l4,
        payload,
    } = body
    else {
        unreachable!("called for IP frames")
    };
    let mut f = Vec::with_capacity(64 + payload);
    let data = padded(marker, *payload);
    let l4_bytes = transport(*l4, *src, *dst, &data, nonce, i);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f.extend_from_slice(&0x0800u16.to_be_bytes());
            let total = 20 + l4_bytes.len();
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[1] = dscp << 2;
            h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            h[4..6].copy_from_slice(&(i as u16).to_be_bytes());
            if *df {
                h[6] = 0x40;
            }
            h[8] = *ttl;
            h[9] = protocol(*l4, false);
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let c = checksum(&h, 0);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            f.extend_from_slice(&0x86ddu16.to_be_bytes());
            let mut h = [0u8; 40];
            let tc = u32::from(*dscp) << 2;
            h[0..4].copy_from_slice(&((6u32 << 28) | (tc << 20)).to_be_bytes());
            h[4..6].copy_from_slice(&(l4_bytes.len() as u16).to_be_bytes());
            h[6] = protocol(*l4, true);
            h[7] = *ttl;
            h[8..24].copy_from_slice(&s.octets());
            h[24..40].copy_from_slice(&d.octets());
            f.extend_from_slice(&h);
        }
        _ => unreachable!("resolve checked that the families match"),
    }
    f.extend_from_slice(&l4_bytes);
    f
}

fn padded(marker: &[u8; 12], len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    let n = len.min(marker.len());
    v[..n].copy_from_slice(&marker[..n]);
    v
}

fn protocol(l4: L4, v6: bool) -> u8 {
    match l4 {
        L4::IcmpEcho if v6 => 58,
        L4::IcmpEcho => 1,
        L4::Udp { .. } => 17,
        L4::TcpSyn { .. } => 6,
    }
}

/// The L4 header and payload, with its checksum (over the pseudo-header where due).
fn transport(l4: L4, src: IpAddr, dst: IpAddr, data: &[u8], nonce: u32, i: u32) -> Vec<u8> {
    let v6 = src.is_ipv6();
    let mut t = match l4 {
        L4::IcmpEcho => {
            let mut h = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
            h.extend_from_slice(&(nonce as u16).to_be_bytes());
            h.extend_from_slice(&((i + 1) as u16).to_be_bytes());
            h
        }
        L4::Udp { sport, dport } => {
            let mut h = Vec::with_capacity(8);
            h.extend_from_slice(&sport.to_be_bytes());
            h.extend_from_slice(&dport.to_be_bytes());
            h.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[0, 0]);
            h
        }
        L4::TcpSyn { sport, dport } => {
            let mut h = Vec::with_capacity(20);
            h.extend_from_slice(&sport.to_be_bytes());
            h.extend_from_slice(&dport.to_be_bytes());
            h.extend_from_slice(&nonce.wrapping_add(i).to_be_bytes());
            h.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x02]); // ack 0, 5 words, SYN
            h.extend_from_slice(&64240u16.to_be_bytes());
            h.extend_from_slice(&[0, 0, 0, 0]);
            h
        }
    };
    t.extend_from_slice(data);
    let (at, pseudo) = match l4 {
        L4::IcmpEcho if !v6 => (2, 0),
        L4::IcmpEcho => (2, pseudo_sum(src, dst, 58, t.len())),
        L4::Udp { .. } => (6, pseudo_sum(src, dst, 17, t.len())),
        L4::TcpSyn { .. } => (16, pseudo_sum(src, dst, 6, t.len())),
    };
    let mut c = checksum(&t, pseudo);
    if matches!(l4, L4::Udp { .. }) && c == 0 {
        c = 0xffff; // zero means "no checksum" in UDP
    }
    t[at..at + 2].copy_from_slice(&c.to_be_bytes());
    t
}

/// The one's-complement sum of the pseudo-header, to seed `checksum`.
fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut bytes = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&[0, proto]);
            bytes.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            bytes.extend_from_slice(&s.octets());
            bytes.extend_from_slice(&d.octets());
            bytes.extend_from_slice(&(len as u32).to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, proto]);
        }
        _ => {}
    }
    ones_sum(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::frame::{decode, Payload};

    const OWN: Mac = Mac([2, 0, 0, 0, 0, 1]);

    fn ip_spec(src: &str, dst: &str, l4: L4, payload: usize) -> FrameSpec {
        FrameSpec {
            src: None,
            dst: Mac([2, 0, 0, 0, 0, 2]),
            vlan: None,
            body: FrameBody::Ip {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                ttl: 7,
                df: true,
                dscp: 46,
                l4,
                payload,
            },
        }
    }

    #[test]
    fn an_ipv4_echo_has_valid_checksums_and_the_fields_asked_for() {
        let f = craft(
            &ip_spec("10.0.0.1", "10.0.0.2", L4::IcmpEcho, 16),
            OWN,
            0xabcd,
            0,
        );
        assert_eq!(&f[6..12], &OWN.0, "the interface's own MAC by default");
        let ip = &f[14..34];
        assert_eq!(checksum(ip, 0), 0, "IPv4 header checksum");
        assert_eq!(ip[1] >> 2, 46, "DSCP");
        assert_eq!(ip[6] & 0x40, 0x40, "DF");
        assert_eq!(ip[8], 7, "TTL");
        assert_eq!(checksum(&f[34..], 0), 0, "ICMP checksum");
        assert!(matches!(
            decode(&f).unwrap().payload,
            Payload::Echo {
                request: true,
                id: 0xabcd,
                seq: 1,
                ..
            }
        ));
        assert!(
            f.windows(8).any(|w| w == b"nsp1\0\0\xab\xcd"),
            "the marker is in the payload"
        );
    }

    #[test]
    fn udp_and_tcp_checksums_cover_the_pseudo_header() {
        for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            for l4 in [
                L4::Udp {
                    sport: 1,
                    dport: 53,
                },
                L4::TcpSyn {
                    sport: 2,
                    dport: 80,
                },
                L4::IcmpEcho,
            ] {
                let f = craft(&ip_spec(src, dst, l4, 20), OWN, 5, 3);
                let v6 = src.contains(':');
                let l4_at = 14 + if v6 { 40 } else { 20 };
                let seg = &f[l4_at..];
                let seed = match l4 {
                    L4::IcmpEcho if !v6 => 0,
                    _ => pseudo_sum(
                        src.parse().unwrap(),
                        dst.parse().unwrap(),
                        protocol(l4, v6),
                        seg.len(),
                    ),
                };
                assert_eq!(checksum(seg, seed), 0, "{l4:?} over {src}");
            }
        }
    }

    #[test]
    fn a_gratuitous_arp_reply_carries_the_interfaces_own_mac_and_the_marker() {
        let spec = FrameSpec {
            src: None,
            dst: Mac([0xff; 6]),
            vlan: Some(7),
            body: FrameBody::Arp {
                op: ArpOp::Reply,
                sender_mac: None,
                sender_ip: "10.0.0.1".parse().unwrap(),
                target_mac: None,
                target_ip: "10.0.0.1".parse().unwrap(),
            },
        };
        let f = craft(&spec, OWN, 9, 0);
        assert!(f.len() >= 60);
        let d = decode(&f).unwrap();
        assert_eq!(d.vlan, Some(7));
        assert!(
            matches!(d.payload, Payload::Arp { request: false, sender_mac, .. } if sender_mac == OWN)
        );
        assert_eq!(
            &f[18 + 18..18 + 24],
            &OWN.0,
            "target MAC: our own, as arping -A"
        );
        assert!(f.windows(8).any(|w| w == b"nsp1\0\0\0\x09"));
    }
}
