//! An independent model of L2 and L3 forwarding that predicts what a ping does in a
//! random topology. It shares no code with the build or the probes: it reads only the
//! explorer's `Topo`, and knows the kernel only through the rules written here.
//!
//! L2: a veth pair always delivers; a bridge floods broadcasts to every port, unknown
//! unicast only to `flood` ports, and delivers known unicast (a MAC learned on a
//! `learning` port, or a static entry); two isolated ports never talk; a locked port
//! drops frames from a MAC without an entry on it; a port that is down passes nothing.
//! L3: longest-prefix match over connected, static, blackhole and unreachable routes;
//! ARP/ND resolution of the next hop (IPv4 answers for any local address, IPv6 only for
//! the receiving interface's; proxy ARP on forwarding interfaces for targets routed out
//! of another one); forwarding on or off; IPv4 rp_filter; ICMP errors back to the source.

use std::net::IpAddr;

use super::topo::{Topo, Via};

/// What a ping gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Reply,
    /// Nothing comes back.
    Timeout,
    /// The source's kernel refuses to send: `EINVAL`, `EHOSTUNREACH`, `ENETUNREACH`.
    SendError(&'static str),
    /// An ICMP error: its text as netspec prints it, and who sent it.
    Icmp {
        what: &'static str,
        from: IpAddr,
    },
    /// Unreachable, but how is not modelled (a routing loop).
    Unknown,
    /// Two answers race (an owner and a proxy answer the same ARP request): not probed.
    Race,
    /// Unreachable the way the kernel said it (a kept case's expectation, never a
    /// prediction).
    Said(String),
}

/// ICMP errors from one router to one host are rate-limited (a token bucket per host):
/// of several in a burst only the first get through, which ones is a race, and an ICMP
/// redirect to that host spends the same budget. Where a router owes one host more than
/// one error in a batch of pings, or redirected it, the answer is only "unreachable".
pub fn settle(probes: &mut [super::render::Probe], o: &Oracle) {
    let key = |p: &super::render::Probe| match p.answer {
        Answer::Icmp { from, .. } => Some((o.owner(from), p.from, from.is_ipv6())),
        _ => None,
    };
    let keys: Vec<_> = probes.iter().map(key).collect();
    for (i, p) in probes.iter_mut().enumerate() {
        let Some((Some(router), _, _)) = keys[i] else {
            continue;
        };
        let saddr = o.source_address(p.from, p.to);
        let redirected = saddr.is_some_and(|s| o.redirected(router, s));
        if redirected || keys.iter().filter(|k| **k == keys[i]).count() > 1 {
            p.answer = Answer::Unknown;
        }
    }
}

/// A bug to plant in the oracle, to prove that exploring finds and shrinks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Plant {
    #[default]
    None,
    /// Isolated ports talk to each other.
    IgnoreIsolation,
}

/// An interface: node, segment (index), host number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct If {
    node: usize,
    seg: usize,
    member: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Local,
    Out { oif: If, next: IpAddr },
    Blackhole,
    Unreachable,
    NoRoute,
}

#[derive(Debug)]
pub struct Oracle<'t> {
    t: &'t Topo,
    plant: Plant,
    /// (router, source address): redirects the pings so far made a router send.
    redirects: std::cell::RefCell<Vec<(usize, IpAddr)>>,
    /// Set while one ping is simulated: two ARP answers raced.
    raced: std::cell::Cell<bool>,
    /// Every sender address a node's requests for a neighbour used, over the batch.
    arp_senders: std::cell::RefCell<NeighbourAsks>,
    /// The batch has been simulated once: `arp_senders` is complete.
    second_pass: std::cell::Cell<bool>,
}

type NeighbourAsks =
    std::collections::BTreeMap<(usize, usize, IpAddr), std::collections::BTreeSet<IpAddr>>;

pub fn addr(t: &Topo, seg: usize, host: u8, v6: bool) -> IpAddr {
    let id = t.segs[seg].id;
    if v6 {
        IpAddr::V6(std::net::Ipv6Addr::new(
            0xfd00,
            u16::from(id),
            0,
            0,
            0,
            0,
            0,
            u16::from(host),
        ))
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(10, id, 0, host))
    }
}

/// The segment whose subnet holds `a`, if any.
fn subnet_of(t: &Topo, a: IpAddr) -> Option<usize> {
    let id = match a {
        IpAddr::V4(v) if v.octets()[0] == 10 && v.octets()[2] == 0 => v.octets()[1],
        IpAddr::V6(v) if v.segments()[0] == 0xfd00 && v.segments()[2..7] == [0; 5] => {
            u8::try_from(v.segments()[1]).ok()?
        }
        _ => return None,
    };
    t.segs.iter().position(|s| s.id == id)
}

impl<'t> Oracle<'t> {
    pub fn new(t: &'t Topo, plant: Plant) -> Oracle<'t> {
        Oracle {
            t,
            plant,
            redirects: Default::default(),
            raced: Default::default(),
            arp_senders: Default::default(),
            second_pass: Default::default(),
        }
    }

    /// A ping from `src` (a node, which picks its source address) to `dst`.
    pub fn ping(&self, src: usize, dst: IpAddr) -> Answer {
        self.raced.set(false);
        let a = self.ping_once(src, dst);
        if self.raced.get() {
            Answer::Race
        } else {
            a
        }
    }

    /// Every probe of the topology with its prediction. Twice over the batch: the
    /// first pass learns what every ping makes each node ask its neighbours, the second
    /// predicts knowing it; then `settle` weighs the ICMP budget.
    pub fn predict_all(&self) -> Vec<super::render::Probe> {
        let _ = super::render::all_probes(self.t, |f, to| self.ping(f, to));
        self.second_pass.set(true);
        self.redirects.borrow_mut().clear();
        let mut probes = super::render::all_probes(self.t, |f, to| self.ping(f, to));
        settle(&mut probes, self);
        probes
    }

    /// Whether `router` sent a redirect to `saddr` in any ping simulated so far.
    pub fn redirected(&self, router: usize, saddr: IpAddr) -> bool {
        self.redirects.borrow().contains(&(router, saddr))
    }

    fn ping_once(&self, src: usize, dst: IpAddr) -> Answer {
        let v6 = dst.is_ipv6();
        let saddr = match self.lookup(src, dst) {
            Hop::Out { oif, .. } => addr(self.t, oif.seg, self.host(oif), v6),
            Hop::Local => return Answer::Reply,
            Hop::Blackhole => return Answer::SendError("EINVAL"),
            Hop::Unreachable => return Answer::SendError("EHOSTUNREACH"),
            Hop::NoRoute => return Answer::SendError("ENETUNREACH"),
        };
        match self.deliver(src, saddr, dst) {
            Fate::Arrived(at) => match self.deliver(at, dst, saddr) {
                Fate::Arrived(back) if back == src => Answer::Reply,
                Fate::Arrived(_) | Fate::Lost | Fate::Refused(..) => Answer::Timeout,
                Fate::Looped => Answer::Unknown,
            },
            Fate::Lost => Answer::Timeout,
            Fate::Looped => Answer::Unknown,
            Fate::Refused(what, from, router) => match self.deliver(router, from, saddr) {
                Fate::Arrived(back) if back == src => Answer::Icmp { what, from },
                Fate::Looped => Answer::Unknown,
                _ => Answer::Timeout,
            },
        }
    }

    /// The address a ping from `src` to `dst` leaves with.
    pub fn source_address(&self, src: usize, dst: IpAddr) -> Option<IpAddr> {
        match self.lookup(src, dst) {
            Hop::Out { oif, .. } => Some(addr(self.t, oif.seg, self.host(oif), dst.is_ipv6())),
            _ => None,
        }
    }

    /// The node that owns an address.
    pub fn owner(&self, a: IpAddr) -> Option<usize> {
        (0..self.t.nodes.len()).find(|&n| self.owns(n, a))
    }

    fn host(&self, i: If) -> u8 {
        self.t.segs[i.seg].members[i.member].host
    }

    /// The node's interface on a segment, if it has one and it is up.
    fn iface(&self, node: usize, seg: usize) -> Option<If> {
        let member = self.t.segs[seg]
            .members
            .iter()
            .position(|m| m.node == node)?;
        let down = self.t.downs.contains(&(node, seg));
        (!down).then_some(If { node, seg, member })
    }

    fn owns(&self, node: usize, a: IpAddr) -> bool {
        let Some(seg) = subnet_of(self.t, a) else {
            return false;
        };
        self.t.segs[seg].members.iter().any(|m| {
            m.node == node
                && addr(self.t, seg, m.host, a.is_ipv6()) == a
                // IPv4 keeps an address (and its local route) on a down link; IPv6 drops it.
                && (a.is_ipv4() || !self.t.downs.contains(&(node, seg)))
        })
    }

    /// The node's route to `dst`: local, connected, then the longest static prefix.
    fn lookup(&self, node: usize, dst: IpAddr) -> Hop {
        if self.owns(node, dst) {
            return Hop::Local;
        }
        let v6 = dst.is_ipv6();
        let dseg = subnet_of(self.t, dst);
        if let Some(s) = dseg {
            if let Some(i) = self.iface(node, s) {
                return Hop::Out { oif: i, next: dst };
            }
        }
        let specific = self
            .t
            .routes
            .iter()
            .filter(|r| r.node == node && r.v6 == v6 && r.dst.is_some() && r.dst == dseg);
        let default = self
            .t
            .routes
            .iter()
            .filter(|r| r.node == node && r.v6 == v6 && r.dst.is_none());
        for r in specific.chain(default) {
            match r.via {
                Via::Blackhole => return Hop::Blackhole,
                Via::Unreachable => return Hop::Unreachable,
                // A route through a down interface went with it.
                Via::Dev { seg } => {
                    if let Some(i) = self.iface(node, seg) {
                        return Hop::Out { oif: i, next: dst };
                    }
                }
                Via::Gateway { seg, host } => {
                    if let Some(i) = self.iface(node, seg) {
                        return Hop::Out {
                            oif: i,
                            next: addr(self.t, seg, host, v6),
                        };
                    }
                }
            }
        }
        Hop::NoRoute
    }
}

/// Where a packet ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Arrived(usize),
    Lost,
    /// An ICMP error: its text, the router's address, the router.
    Refused(&'static str, IpAddr, usize),
    Looped,
}

impl Oracle<'_> {
    /// A packet from `saddr`, sent by `node`, to `dst`: hop by hop.
    fn deliver(&self, node: usize, saddr: IpAddr, dst: IpAddr) -> Fate {
        let mut at = node;
        let mut came_in: Option<If> = None;
        for _ in 0..64 {
            if let Some(inif) = came_in {
                if !self.source_valid(at, inif, saddr) {
                    return Fate::Lost;
                }
            }
            let hop = self.lookup(at, dst);
            // A host drops what is not for it. IPv6 looks the route up first, though,
            // and a missing or unreachable one answers with ICMPv6 all the same.
            let v6_refuses = dst.is_ipv6() && matches!(hop, Hop::NoRoute | Hop::Unreachable);
            if came_in.is_some() && hop != Hop::Local && !self.t.nodes[at].forward && !v6_refuses {
                return Fate::Lost;
            }
            let (oif, next) = match hop {
                Hop::Local => return Fate::Arrived(at),
                Hop::Out { oif, next } => (oif, next),
                Hop::Blackhole => return Fate::Lost,
                _ if came_in.is_none() => return Fate::Lost,
                Hop::Unreachable => return self.refuse(at, saddr, true),
                Hop::NoRoute => return self.refuse(at, saddr, false),
            };
            // Out of the interface it came in on, towards the source's own subnet: the
            // router sends the source an ICMP redirect.
            if came_in == Some(oif) && subnet_of(self.t, saddr) == Some(oif.seg) {
                self.redirects.borrow_mut().push((at, saddr));
            }
            match self.resolve(oif, next, saddr) {
                Some(to) => {
                    at = to.node;
                    came_in = Some(to);
                }
                None => return Fate::Lost,
            }
        }
        Fate::Looped
    }

    /// A router that cannot forward answers with an ICMP error from its address on the
    /// way back to the source, if it has one.
    fn refuse(&self, router: usize, saddr: IpAddr, host: bool) -> Fate {
        let what = match (saddr.is_ipv6(), host) {
            (true, _) => "no route to destination",
            (false, true) => "destination host unreachable",
            (false, false) => "destination net unreachable",
        };
        match self.lookup(router, saddr) {
            Hop::Out { oif, .. } => {
                let from = addr(self.t, oif.seg, self.host(oif), saddr.is_ipv6());
                Fate::Refused(what, from, router)
            }
            _ => Fate::Lost,
        }
    }

    /// IPv4 rp_filter: strict wants the route back out of the interface the packet came
    /// in on, loose any unicast route back.
    fn source_valid(&self, node: usize, inif: If, saddr: IpAddr) -> bool {
        if saddr.is_ipv6() {
            return true;
        }
        match self.t.nodes[node].rp_filter {
            0 => true,
            mode => match self.lookup(node, saddr) {
                Hop::Out { oif, .. } => mode == 2 || oif == inif,
                _ => false,
            },
        }
    }

    /// ARP/ND for `next` out of `oif`, then the frame: the interface it reaches.
    fn resolve(&self, oif: If, next: IpAddr, saddr: IpAddr) -> Option<If> {
        // The request speaks for the packet's own source when the node owns it
        // (arp_announce 0), else for the interface's address.
        let sender = if !next.is_ipv6() && self.owns(oif.node, saddr) {
            saddr
        } else {
            addr(self.t, oif.seg, self.host(oif), next.is_ipv6())
        };
        let key = (oif.node, oif.seg, next);
        self.arp_senders
            .borrow_mut()
            .entry(key)
            .or_default()
            .insert(sender);
        // The first packet of the batch to need this neighbour decides who asks, and so
        // whether the answerer's rp_filter lets the request in: if the senders of the
        // whole batch do not all fare the same, which one came first is a race.
        if self.second_pass.get() {
            let senders: Vec<IpAddr> = self.arp_senders.borrow()[&key].iter().copied().collect();
            let fates: Vec<Option<If>> = senders
                .iter()
                .map(|&s| self.resolve_as(oif, next, s))
                .collect();
            if fates.windows(2).any(|w| w[0] != w[1]) {
                self.raced.set(true);
            }
        }
        self.resolve_as(oif, next, sender)
    }

    fn resolve_as(&self, oif: If, next: IpAddr, sender: IpAddr) -> Option<If> {
        let seg = &self.t.segs[oif.seg];
        let answers = |m: usize| -> bool {
            let peer = If {
                node: seg.members[m].node,
                seg: oif.seg,
                member: m,
            };
            if peer.node == oif.node || self.iface(peer.node, oif.seg).is_none() {
                return false;
            }
            let owner = if next.is_ipv6() {
                addr(self.t, oif.seg, seg.members[m].host, true) == next
            } else {
                self.owns(peer.node, next)
            };
            let proxy = !next.is_ipv6()
                && seg.members[m].proxy_arp
                && self.t.nodes[peer.node].forward
                && matches!(self.lookup(peer.node, next), Hop::Out { oif: o, .. } if o != peer);
            // The request's sender passes the answerer's rp_filter too.
            let asked = (owner || proxy)
                && (next.is_ipv6() || self.source_valid(peer.node, peer, sender))
                && self.l2(oif, peer, false);
            let delivered = self.l2(oif, peer, true);
            if asked && delivered && !self.l2(peer, oif, true) {
                // The answer cannot come back; but if the peer ever asked for us first
                // (another ping of the batch), our entry for it came from its request,
                // and the data goes through without an answer: a race.
                self.raced.set(true);
                return false;
            }
            asked && delivered
        };
        let all: Vec<usize> = (0..seg.members.len()).filter(|&m| answers(m)).collect();
        if all.len() > 1 {
            self.raced.set(true);
        }
        all.first().map(|&m| If {
            node: seg.members[m].node,
            seg: oif.seg,
            member: m,
        })
    }

    /// Whether a frame from `a` reaches `b` on their segment: a broadcast, or a unicast
    /// to `b`'s MAC.
    fn l2(&self, a: If, b: If, unicast: bool) -> bool {
        let seg = &self.t.segs[a.seg];
        if self.iface(a.node, a.seg).is_none() || self.iface(b.node, b.seg).is_none() {
            return false;
        }
        if seg.bridge.is_none() {
            return true;
        }
        let (pa, pb) = (seg.members[a.member].port, seg.members[b.member].port);
        if pa.down || pb.down {
            return false;
        }
        if pa.isolated && pb.isolated && self.plant != Plant::IgnoreIsolation {
            return false;
        }
        if pa.locked && !pa.static_entry {
            return false;
        }
        // Known: b's MAC was learned when b spoke first (it always has, in ARP), or is
        // static. Unknown unicast is flooded to `flood` ports only.
        let known = (pb.locked && pb.static_entry) || (pb.learning && !pb.locked);
        !unicast || known || pb.flood
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::topo::{Member, Port, Seg, TNode, TRoute};

    fn node(name: &str, forward: bool) -> TNode {
        TNode {
            name: name.into(),
            switch: false,
            forward,
            rp_filter: 0,
        }
    }

    fn member(node: usize, host: u8) -> Member {
        Member {
            node,
            host,
            proxy_arp: false,
            port: Port::default(),
        }
    }

    /// n0 - (seg 1) - n1 (router) - (seg 2) - n2, with default routes at the ends.
    fn chain(forward: bool) -> Topo {
        Topo {
            seed: 0,
            v6: false,
            nodes: vec![node("n0", false), node("n1", forward), node("n2", false)],
            segs: vec![
                Seg {
                    id: 1,
                    bridge: None,
                    members: vec![member(0, 1), member(1, 2)],
                },
                Seg {
                    id: 2,
                    bridge: None,
                    members: vec![member(1, 1), member(2, 2)],
                },
            ],
            routes: vec![
                TRoute {
                    node: 0,
                    v6: false,
                    dst: None,
                    via: Via::Gateway { seg: 0, host: 2 },
                },
                TRoute {
                    node: 2,
                    v6: false,
                    dst: None,
                    via: Via::Gateway { seg: 1, host: 1 },
                },
            ],
            downs: vec![],
        }
    }

    #[test]
    fn a_router_forwards_only_when_it_forwards() {
        let to = addr(&chain(true), 1, 2, false);
        assert_eq!(
            Oracle::new(&chain(true), Plant::None).ping(0, to),
            Answer::Reply
        );
        assert_eq!(
            Oracle::new(&chain(false), Plant::None).ping(0, to),
            Answer::Timeout
        );
    }

    #[test]
    fn no_route_is_refused_at_the_source_and_at_a_router() {
        let t = chain(true);
        let o = Oracle::new(&t, Plant::None);
        assert_eq!(
            o.ping(1, "10.9.0.1".parse().unwrap()),
            Answer::SendError("ENETUNREACH")
        );
        assert_eq!(
            o.ping(0, "10.9.0.1".parse().unwrap()),
            Answer::Icmp {
                what: "destination net unreachable",
                from: "10.1.0.2".parse().unwrap()
            }
        );
    }

    #[test]
    fn isolated_ports_do_not_talk_unless_the_plant_says_so() {
        let iso = Port {
            isolated: true,
            ..Port::default()
        };
        let t = Topo {
            seed: 0,
            v6: false,
            nodes: vec![
                node("n0", false),
                node("n1", false),
                TNode {
                    switch: true,
                    ..node("sw0", false)
                },
            ],
            segs: vec![Seg {
                id: 1,
                bridge: Some(2),
                members: vec![
                    Member {
                        port: iso,
                        ..member(0, 1)
                    },
                    Member {
                        port: iso,
                        ..member(1, 2)
                    },
                ],
            }],
            routes: vec![],
            downs: vec![],
        };
        let to = addr(&t, 0, 2, false);
        assert_eq!(Oracle::new(&t, Plant::None).ping(0, to), Answer::Timeout);
        assert_eq!(
            Oracle::new(&t, Plant::IgnoreIsolation).ping(0, to),
            Answer::Reply
        );
    }
}
