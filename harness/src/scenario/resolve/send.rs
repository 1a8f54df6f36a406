//! `send:` crafted frames: Ethernet, ARP, IPv4/IPv6 with ICMP echo, UDP or TCP SYN.

use super::*;

/// At most this many frames per step; 10,000 take a few milliseconds.
const MAX_FRAMES: u32 = 100_000;
/// The longest payload netspec crafts (a jumbo frame's worth).
const MAX_PAYLOAD: u32 = 9000;
/// The marker netspec puts in a payload to tell its frames from others.
pub(crate) const MARKER_LEN: usize = 12;
const BROADCAST: Mac = Mac([0xff; 6]);

impl Resolver<'_> {
    pub(super) fn send(&mut self, path: &str, s: &RawSend, sc: &Scenario) -> Option<Send> {
        let from = self.sc_ifref(&format!("{path}.from"), &s.from, sc)?;
        let count = s.count.unwrap_or(1);
        if !(1..=MAX_FRAMES).contains(&count) {
            self.at(
                &format!("{path}.count"),
                format!("count {count} is out of range"),
                Some(format!("send 1 to {MAX_FRAMES} frames")),
            );
            return None;
        }
        let interval = match &s.interval {
            Some(i) => self.duration(&format!("{path}.interval"), i)?,
            None => Duration::ZERO,
        };
        let observe = self.observe(path, [&s.seen, &s.not_seen, &None, &None], sc)?;
        let eth = s.eth.as_ref();
        let (src, dst, vlan) = self.eth_header(path, eth, sc)?;
        let ethertype = eth.and_then(|e| e.ethertype);
        let kinds = [s.arp.is_some(), s.ip.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        let (body, default_dst) = match (&s.arp, &s.ip, ethertype) {
            (Some(a), None, None) => self.arp_frame(path, a, &from, sc)?,
            (None, Some(ip), None) => (self.ip_frame(path, s, ip, &from, &observe, sc)?, None),
            (None, None, Some(t)) => (self.raw_frame(path, s, t)?, Some(BROADCAST)),
            _ => {
                let msg = if kinds > 1 || ethertype.is_some() && kinds > 0 {
                    "a frame is one of `arp`, `ip`, or a raw `eth: {type}`, not several"
                } else {
                    "nothing to send: give `arp`, `ip` (with `icmp`, `udp` or `tcp`), or `eth: {type}`"
                };
                self.at(
                    path,
                    msg,
                    Some("e.g. `send: { from: h1:eth0, arp: { gratuitous: reply } }`".into()),
                );
                return None;
            }
        };
        let Some(dst) = dst.or(default_dst) else {
            self.at(
                &format!("{path}.eth"),
                "an IP frame needs `eth: { dst }`: netspec does not resolve the next hop",
                Some("name the next hop's MAC, e.g. `eth: { dst: r:eth0 }`".into()),
            );
            return None;
        };
        Some(Send {
            from,
            count,
            interval,
            frame: FrameSpec {
                src,
                dst,
                vlan,
                body,
            },
            observe,
        })
    }

    /// An ARP frame and the Ethernet destination it implies.
    fn arp_frame(
        &mut self,
        path: &str,
        a: &RawArpFrame,
        from: &IfRef,
        sc: &Scenario,
    ) -> Option<(FrameBody, Option<Mac>)> {
        let p = format!("{path}.arp");
        let own_ip = sc.interface(from).and_then(Interface::first_ipv4);
        let ip = |r: &mut Self, key: &str, v: &Option<String>| -> Option<Option<Ipv4Addr>> {
            match v {
                None => Some(None),
                Some(t) => match r.target(&format!("{p}.{key}"), t, sc, true)? {
                    IpAddr::V4(a) => Some(Some(a)),
                    IpAddr::V6(_) => None,
                },
            }
        };
        let sender_ip = ip(self, "sender_ip", &a.sender_ip)?.or(own_ip);
        let target_ip = ip(self, "target_ip", &a.target_ip)?;
        let sender_mac = match &a.sender_mac {
            Some(m) => Some(self.mac_ref(&format!("{p}.sender_mac"), m, sc)?.0),
            None => None,
        };
        let target_mac = match &a.target_mac {
            Some(m) => Some(Some(self.mac_ref(&format!("{p}.target_mac"), m, sc)?.0)),
            None => None,
        };
        let Some(sender_ip) = sender_ip else {
            self.at(
                &p,
                format!("{from} has no IPv4 address to send from"),
                Some("give `sender_ip`".into()),
            );
            return None;
        };
        let (op, target_ip, target_mac) =
            self.arp_operation(&p, a, sender_ip, target_ip, target_mac)?;
        // A request (and a gratuitous frame) is broadcast; a plain reply goes to its target.
        let dst = match (op, a.gratuitous, target_mac) {
            (ArpOp::Reply, None, Some(m)) if m != Mac([0; 6]) => m,
            _ => BROADCAST,
        };
        Some((
            FrameBody::Arp {
                op,
                sender_mac,
                sender_ip,
                target_mac,
                target_ip,
            },
            Some(dst),
        ))
    }

    fn ip_frame(
        &mut self,
        path: &str,
        s: &RawSend,
        ip: &RawIp,
        from: &IfRef,
        observe: &Observe,
        sc: &Scenario,
    ) -> Option<FrameBody> {
        let p = format!("{path}.ip");
        let dst = self.target(&format!("{p}.dst"), &ip.dst, sc, false)?;
        let src = match &ip.src {
            Some(a) => self.target(&format!("{p}.src"), a, sc, false)?,
            None => {
                let own = sc.interface(from).and_then(|i| {
                    i.addresses
                        .iter()
                        .find(|c| c.addr.is_ipv4() == dst.is_ipv4())
                        .map(|c| c.addr)
                });
                let Some(a) = own else {
                    self.at(
                        &p,
                        format!("{from} has no address of {dst}'s family to send from"),
                        Some("give `src` (a spoofed one is fine)".into()),
                    );
                    return None;
                };
                a
            }
        };
        if src.is_ipv4() != dst.is_ipv4() {
            self.at(
                &format!("{p}.src"),
                format!("{src} and {dst} are of different families"),
                None,
            );
            return None;
        }
        if ip.df == Some(true) && dst.is_ipv6() {
            self.at(&format!("{p}.df"), "`df` applies to IPv4 only", None);
            return None;
        }
        if ip.dscp.is_some_and(|d| d > 63) {
            self.at(&format!("{p}.dscp"), "DSCP is 0 to 63", None);
            return None;
        }
        let l4 = self.l4(path, s)?;
        // netspec's marker rides in the payload (an echo reply carries it back).
        let default = match l4 {
            L4::TcpSyn { .. } if observe.is_empty() => 0,
            _ => 16,
        };
        let payload = s.payload.unwrap_or(default);
        if payload > MAX_PAYLOAD {
            self.at(
                &format!("{path}.payload"),
                format!("payload {payload} is out of range"),
                Some(format!("at most {MAX_PAYLOAD} bytes")),
            );
            return None;
        }
        if !observe.is_empty() && (payload as usize) < MARKER_LEN {
            self.at(
                &format!("{path}.payload"),
                format!("a payload of {payload} bytes cannot carry netspec's marker"),
                Some(format!(
                    "with `seen` or `not_seen`, give at least {MARKER_LEN} bytes"
                )),
            );
            return None;
        }
        Some(FrameBody::Ip {
            src,
            dst,
            ttl: ip.ttl.unwrap_or(64),
            df: ip.df.unwrap_or(false),
            dscp: ip.dscp.unwrap_or(0),
            l4,
            payload: payload as usize,
        })
    }

    /// A raw frame of `ethertype`: netspec's marker, then zeros.
    fn raw_frame(&mut self, path: &str, s: &RawSend, ethertype: u16) -> Option<FrameBody> {
        let payload = s.payload.unwrap_or(46);
        if !(MARKER_LEN as u32..=MAX_PAYLOAD).contains(&payload) {
            self.at(
                &format!("{path}.payload"),
                format!("payload {payload} is out of range"),
                Some(format!(
                    "{MARKER_LEN} to {MAX_PAYLOAD} bytes (netspec's marker takes {MARKER_LEN})"
                )),
            );
            return None;
        }
        Some(FrameBody::Raw {
            ethertype,
            payload: payload as usize,
        })
    }

    /// `eth: {src, dst, vlan}`; a MAC is written as one, as `node:if`, or `broadcast`.
    #[allow(clippy::type_complexity)]
    fn eth_header(
        &mut self,
        path: &str,
        eth: Option<&RawEth>,
        sc: &Scenario,
    ) -> Option<(Option<Mac>, Option<Mac>, Option<u16>)> {
        let src = self.mac_or_broadcast(
            &format!("{path}.eth.src"),
            eth.and_then(|e| e.src.as_deref()),
            sc,
        )?;
        let dst = self.mac_or_broadcast(
            &format!("{path}.eth.dst"),
            eth.and_then(|e| e.dst.as_deref()),
            sc,
        )?;
        let vlan = eth.and_then(|e| e.vlan);
        if vlan.is_some_and(|v| v > 4094) {
            self.at(&format!("{path}.eth.vlan"), "a VLAN id is 0 to 4094", None);
            return None;
        }
        Some((src, dst, vlan))
    }

    /// The transport of an IP frame: exactly one of icmp, udp, tcp.
    fn l4(&mut self, path: &str, s: &RawSend) -> Option<L4> {
        match (&s.icmp, &s.udp, &s.tcp) {
            (Some(i), None, None) if i.echo != Some(false) => Some(L4::IcmpEcho),
            (None, Some(u), None) => Some(L4::Udp {
                sport: u.sport.unwrap_or(40000),
                dport: u.dport,
            }),
            (None, None, Some(t)) => Some(L4::TcpSyn {
                sport: t.sport.unwrap_or(40000),
                dport: t.dport,
            }),
            _ => {
                self.at(
                    path,
                    "an IP frame carries exactly one of `icmp: {echo: true}`, `udp: {dport}` or `tcp: {dport}` (a SYN)",
                    None,
                );
                None
            }
        }
    }

    /// The operation and target of an ARP frame: as given, or what `gratuitous` implies.
    #[allow(clippy::type_complexity)]
    fn arp_operation(
        &mut self,
        p: &str,
        a: &RawArpFrame,
        sender_ip: Ipv4Addr,
        target_ip: Option<Ipv4Addr>,
        target_mac: Option<Option<Mac>>,
    ) -> Option<(ArpOp, Ipv4Addr, Option<Mac>)> {
        Some(match (a.gratuitous, a.op) {
            (Some(_), Some(_)) => {
                self.at(
                    &format!("{p}.op"),
                    "`gratuitous` sets the operation itself",
                    Some("write `gratuitous: request` (arping -U) or `gratuitous: reply` (arping -A)".into()),
                );
                return None;
            }
            // As arping -U: a request for our own address, target MAC unknown.
            (Some(ArpOp::Request), None) => (
                ArpOp::Request,
                target_ip.unwrap_or(sender_ip),
                target_mac.unwrap_or(Some(Mac([0; 6]))),
            ),
            // As arping -A: a reply about our own address, target MAC our own.
            (Some(ArpOp::Reply), None) => (
                ArpOp::Reply,
                target_ip.unwrap_or(sender_ip),
                target_mac.unwrap_or(None),
            ),
            (None, op) => {
                let Some(t) = target_ip else {
                    self.at(
                        p,
                        "an ARP frame needs `target_ip`",
                        Some("or `gratuitous: request|reply` for the sender's own address".into()),
                    );
                    return None;
                };
                (
                    op.unwrap_or(ArpOp::Request),
                    t,
                    target_mac.unwrap_or(Some(Mac([0; 6]))),
                )
            }
        })
    }
}
