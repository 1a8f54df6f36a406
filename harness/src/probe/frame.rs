//! Reading captured Ethernet frames: just enough to tell a probe's own frames from any
//! other traffic (an echo's id and sequence, an ARP exchange's addresses) and to show a
//! frame in one short tcpdump-like line. Pure, tested without root.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::scenario::Mac;

const ETH_HLEN: usize = 14;

/// What a frame carries, as far as netspec looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Payload {
    Echo {
        request: bool,
        src: IpAddr,
        dst: IpAddr,
        id: u16,
        seq: u16,
    },
    Arp {
        request: bool,
        sender_mac: Mac,
        sender_ip: Ipv4Addr,
        target_ip: Ipv4Addr,
    },
    Other {
        ethertype: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub src: Mac,
    pub dst: Mac,
    pub vlan: Option<u16>,
    pub payload: Payload,
}

fn mac(b: &[u8]) -> Mac {
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[..6]);
    Mac(m)
}

/// Decodes an Ethernet frame (with at most one 802.1Q tag); None if it is too short.
pub(crate) fn decode(f: &[u8]) -> Option<Decoded> {
    if f.len() < ETH_HLEN {
        return None;
    }
    let (dst, src) = (mac(&f[0..6]), mac(&f[6..12]));
    let mut ethertype = u16::from_be_bytes([f[12], f[13]]);
    let mut off = ETH_HLEN;
    let mut vlan = None;
    if ethertype == 0x8100 && f.len() >= off + 4 {
        vlan = Some(u16::from_be_bytes([f[14], f[15]]) & 0x0fff);
        ethertype = u16::from_be_bytes([f[16], f[17]]);
        off += 4;
    }
    let body = &f[off..];
    let payload = match ethertype {
        0x0800 => ipv4(body),
        0x86dd => ipv6(body),
        0x0806 => arp(body),
        _ => None,
    }
    .unwrap_or(Payload::Other { ethertype });
    Some(Decoded {
        src,
        dst,
        vlan,
        payload,
    })
}

fn ipv4(p: &[u8]) -> Option<Payload> {
    let ihl = usize::from(*p.first()? & 0x0f) * 4;
    // A header shorter than 20 bytes is malformed, and its addresses are not there.
    if ihl < 20 || p.len() < ihl + 8 || p[9] != 1 {
        return None;
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]).into();
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]).into();
    let icmp = &p[ihl..];
    let request = match icmp[0] {
        8 => true,
        0 => false,
        _ => return None,
    };
    Some(echo(request, src, dst, icmp))
}

fn ipv6(p: &[u8]) -> Option<Payload> {
    // No extension headers: an echo from netspec's own ping carries none.
    if p.len() < 48 || p[6] != 58 {
        return None;
    }
    let addr = |o: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&p[o..o + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let icmp = &p[40..];
    let request = match icmp[0] {
        128 => true,
        129 => false,
        _ => return None,
    };
    Some(echo(request, addr(8), addr(24), icmp))
}

fn echo(request: bool, src: IpAddr, dst: IpAddr, icmp: &[u8]) -> Payload {
    Payload::Echo {
        request,
        src,
        dst,
        id: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
    }
}

fn arp(p: &[u8]) -> Option<Payload> {
    if p.len() < 28 || p[0..2] != [0, 1] || p[2..4] != [8, 0] {
        return None;
    }
    let request = match u16::from_be_bytes([p[6], p[7]]) {
        1 => true,
        2 => false,
        _ => return None,
    };
    Some(Payload::Arp {
        request,
        sender_mac: mac(&p[8..14]),
        sender_ip: Ipv4Addr::new(p[14], p[15], p[16], p[17]),
        target_ip: Ipv4Addr::new(p[24], p[25], p[26], p[27]),
    })
}

/// The L3/L4 facts a filter looks at: addresses, protocol, ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

/// The ethertype after any VLAN tag, and the IP facts of an IPv4/IPv6 frame.
pub(crate) fn ip_info(f: &[u8]) -> (u16, Option<IpInfo>) {
    if f.len() < ETH_HLEN {
        return (0, None);
    }
    let mut ethertype = u16::from_be_bytes([f[12], f[13]]);
    let mut off = ETH_HLEN;
    if ethertype == 0x8100 && f.len() >= off + 4 {
        ethertype = u16::from_be_bytes([f[16], f[17]]);
        off += 4;
    }
    let p = &f[off..];
    let ports = |l4: &[u8], proto: u8| match proto {
        6 | 17 if l4.len() >= 4 => (
            Some(u16::from_be_bytes([l4[0], l4[1]])),
            Some(u16::from_be_bytes([l4[2], l4[3]])),
        ),
        _ => (None, None),
    };
    let info = match ethertype {
        0x0800 if p.len() >= 20 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let (sport, dport) = ports(p.get(ihl..).unwrap_or(&[]), p[9]);
            Some(IpInfo {
                src: Ipv4Addr::new(p[12], p[13], p[14], p[15]).into(),
                dst: Ipv4Addr::new(p[16], p[17], p[18], p[19]).into(),
                proto: p[9],
                sport,
                dport,
            })
        }
        0x86dd if p.len() >= 40 => {
            let addr = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&p[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(a))
            };
            let (sport, dport) = ports(&p[40..], p[6]);
            Some(IpInfo {
                src: addr(8),
                dst: addr(24),
                proto: p[6],
                sport,
                dport,
            })
        }
        _ => None,
    };
    (ethertype, info)
}

/// One line, as tcpdump -e would say it, with MACs annotated by `owner`.
pub(crate) fn describe(d: &Decoded, owner: &dyn Fn(Mac) -> Option<String>) -> String {
    let m = |x: Mac| match owner(x) {
        Some(o) => format!("{x} ({o})"),
        None => x.to_string(),
    };
    let vlan = d.vlan.map(|v| format!(" vlan {v}")).unwrap_or_default();
    let what = match &d.payload {
        Payload::Echo {
            request,
            src,
            dst,
            id,
            seq,
        } => format!(
            "{src} > {dst}: ICMP echo {} id {id} seq {seq}",
            if *request { "request" } else { "reply" }
        ),
        Payload::Arp {
            request: true,
            sender_ip,
            target_ip,
            ..
        } => format!("ARP who-has {target_ip} tell {sender_ip}"),
        Payload::Arp {
            request: false,
            sender_mac,
            sender_ip,
            ..
        } => format!("ARP reply {sender_ip} is-at {sender_mac}"),
        Payload::Other { ethertype } => format!("ethertype 0x{ethertype:04x}"),
    };
    format!("{} > {}{vlan}, {what}", m(d.src), m(d.dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any bytes, from a command on a watched link or a crafted frame: no panic. Random
    /// frames biased towards the types the decoder reads, and every cut of each.
    #[test]
    fn no_bytes_make_the_decoder_panic() {
        use rand_chacha::rand_core::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        let types: [u16; 5] = [0x0800, 0x86dd, 0x0806, 0x8100, 0x1234];
        let owner = |_: Mac| Some("x:y".to_string());
        for _ in 0..20_000 {
            let mut f = vec![0u8; 14 + (rng.next_u32() % 90) as usize];
            rng.fill_bytes(&mut f);
            let ty = types[(rng.next_u32() % 5) as usize];
            f[12..14].copy_from_slice(&ty.to_be_bytes());
            if ty == 0x8100 && f.len() >= 18 {
                let inner = types[(rng.next_u32() % 3) as usize];
                f[16..18].copy_from_slice(&inner.to_be_bytes());
            }
            let l3 = if ty == 0x8100 { 18 } else { 14 };
            if f.len() > l3 {
                // An IP version nibble and any header length, short ones included.
                f[l3] = if rng.next_u32() % 2 == 0 { 0x40 } else { 0x60 } | (f[l3] & 0x0f);
            }
            if f.len() > l3 + 9 && rng.next_u32() % 2 == 0 {
                f[l3 + 9] = 1;
            }
            for cut in 0..=f.len() {
                let bytes = &f[..cut];
                if let Some(d) = decode(bytes) {
                    let _ = describe(&d, &owner);
                }
                let _ = ip_info(bytes);
            }
        }
    }

    #[test]
    fn an_ipv4_header_shorter_than_20_bytes_is_not_read() {
        // ihl 0: the old check (ihl + 8) let p[9] and p[12..20] be read past the end.
        let f = eth([2; 6], [4; 6], 0x0800, &[0x40, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode(&f).unwrap().payload,
            Payload::Other { ethertype: 0x0800 }
        );
    }

    fn eth(dst: [u8; 6], src: [u8; 6], ty: u16, body: &[u8]) -> Vec<u8> {
        let mut f = [dst.as_slice(), src.as_slice(), &ty.to_be_bytes()].concat();
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn an_icmp_echo_request_is_read_with_its_id_and_sequence() {
        let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        ip.extend_from_slice(&[8, 0, 0, 0, 0x12, 0x34, 0, 7]);
        let f = eth([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip);
        let d = decode(&f).unwrap();
        assert_eq!(
            d.payload,
            Payload::Echo {
                request: true,
                src: "10.0.0.1".parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
                id: 0x1234,
                seq: 7
            }
        );
        let line = describe(&d, &|m| (m.0[5] == 1).then(|| "a:eth0".to_string()));
        assert_eq!(
            line,
            "02:00:00:00:00:01 (a:eth0) > 02:00:00:00:00:02, 10.0.0.1 > 10.0.0.2: ICMP echo request id 4660 seq 7"
        );
    }

    #[test]
    fn an_arp_reply_behind_a_vlan_tag_is_read() {
        let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 2];
        arp.extend_from_slice(&[2, 0, 0, 0, 0, 9, 10, 0, 0, 2]);
        arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
        let mut tagged = vec![0x00, 0x05, 0x08, 0x06];
        tagged.extend_from_slice(&arp);
        let f = eth([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 9], 0x8100, &tagged);
        let d = decode(&f).unwrap();
        assert_eq!(d.vlan, Some(5));
        assert!(matches!(
            d.payload,
            Payload::Arp { request: false, sender_ip, .. } if sender_ip == Ipv4Addr::new(10, 0, 0, 2)
        ));
    }

    #[test]
    fn short_or_foreign_frames_are_not_probes() {
        assert_eq!(decode(&[0; 10]), None);
        let f = eth([0xff; 6], [2, 0, 0, 0, 0, 1], 0x88cc, &[0; 30]);
        assert_eq!(
            decode(&f).unwrap().payload,
            Payload::Other { ethertype: 0x88cc }
        );
        // An ICMP that is not an echo (a port unreachable) is not the probe's.
        let mut ip = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        ip.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        let f = eth([2; 6], [4; 6], 0x0800, &ip);
        assert!(matches!(decode(&f).unwrap().payload, Payload::Other { .. }));
    }
}
