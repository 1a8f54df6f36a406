//! Routes: dumps and lookups (`ip route show table all`, `ip route get`).

use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::AddressFamily;
use rtnetlink::RouteMessageBuilder;

use super::{Nl, NlError};
use crate::scenario::{Cidr, RoutePref};

#[derive(Debug, Clone)]
pub(crate) struct RouteState {
    pub dst: Cidr,
    pub table: u32,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
    pub kind: netlink_packet_route::route::RouteType,
    pub protocol: netlink_packet_route::route::RouteProtocol,
    pub metric: Option<u32>,
    pub pref_src: Option<IpAddr>,
    pub scope: netlink_packet_route::route::RouteScope,
    /// The next-hop flags iproute2 prints: `dead`, `onlink`, `linkdown`.
    pub flags: Vec<&'static str>,
    /// The MTU metric (a cached PMTU exception, in a lookup's answer), and whether it
    /// is locked.
    pub mtu: Option<u32>,
    pub mtu_locked: bool,
    pub nhid: Option<u32>,
    /// RTA_PREF of an IPv6 route: `low`, `medium`, `high`.
    pub pref: Option<RoutePref>,
    /// The paths of a multipath route (or of a route through a nexthop group).
    pub hops: Vec<HopState>,
}

/// One path of a multipath route.
#[derive(Debug, Clone)]
pub(crate) struct HopState {
    pub via: Option<IpAddr>,
    pub oif: u32,
    pub weight: u16,
    pub flags: Vec<&'static str>,
}

/// What `ip route get` takes besides the destination.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookup {
    pub from: Option<IpAddr>,
    pub oif: Option<u32>,
    pub iif: Option<u32>,
    pub mark: Option<u32>,
    pub tos: Option<u8>,
}

impl Nl {
    /// Every route of every table, both families (the two dumps at once).
    pub(crate) async fn routes(&self) -> Result<Vec<RouteState>, NlError> {
        let (v4, v6) = futures::try_join!(
            self.routes_of(AddressFamily::Inet),
            self.routes_of(AddressFamily::Inet6)
        )?;
        Ok(v4.into_iter().chain(v6).collect())
    }

    async fn routes_of(&self, family: AddressFamily) -> Result<Vec<RouteState>, NlError> {
        let mut msg = RouteMessageBuilder::<IpAddr>::new().build();
        msg.header.address_family = family;
        msg.header.table = 0;
        msg.header.protocol = netlink_packet_route::route::RouteProtocol::Unspec;
        msg.header.scope = netlink_packet_route::route::RouteScope::Universe;
        msg.header.kind = netlink_packet_route::route::RouteType::Unspec;
        let msgs: Vec<RouteMessage> = self
            .handle
            .route()
            .get(msg)
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump routes", &e))?;
        Ok(msgs.into_iter().filter_map(route_state).collect())
    }

    /// The kernel's route for `dst` (`ip route get`); None when it has none.
    pub(crate) async fn route_lookup(
        &self,
        dst: IpAddr,
        how: &Lookup,
    ) -> Result<Option<RouteState>, NlError> {
        let prefix = if dst.is_ipv4() { 32 } else { 128 };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(dst, prefix)
            .map_err(|e| NlError {
                op: format!("look up the route to {dst}"),
                node: self.node.clone(),
                detail: e.to_string(),
                errno: Some(libc::EINVAL),
            })?;
        if let Some(i) = how.oif {
            b = b.output_interface(i);
        }
        if let Some(i) = how.iif {
            b = b.input_interface(i);
        }
        if let Some(m) = how.mark {
            b = b.mark(m);
        }
        if let Some(t) = how.tos {
            b = b.tos(t);
        }
        let mut msg = b.build();
        if let Some(from) = how.from {
            use netlink_packet_route::route::RouteAddress;
            msg.header.source_prefix_length = if from.is_ipv4() { 32 } else { 128 };
            msg.attributes.push(RouteAttribute::Source(match from {
                IpAddr::V4(a) => RouteAddress::Inet(a),
                IpAddr::V6(a) => RouteAddress::Inet6(a),
            }));
        }
        let mut found = self.handle.route().get(msg).execute();
        match found.try_next().await {
            Ok(m) => Ok(m.and_then(route_state)),
            Err(rtnetlink::Error::NetlinkError(e))
                if e.code.is_some_and(|c| {
                    [libc::ENETUNREACH, libc::EHOSTUNREACH].contains(&-c.get())
                }) =>
            {
                Ok(None)
            }
            // An IPv4 output lookup that meets a blackhole route fails with EINVAL
            // (`ip route get` says "Invalid argument"): that is the kernel's answer, a
            // blackhole, not a broken request.
            Err(rtnetlink::Error::NetlinkError(e))
                if dst.is_ipv4()
                    && how.iif.is_none()
                    && e.code.is_some_and(|c| -c.get() == libc::EINVAL) =>
            {
                Ok(Some(blackhole_answer(dst)))
            }
            Err(rtnetlink::Error::NetlinkError(e))
                if e.code.is_some_and(|c| -c.get() == libc::EACCES) =>
            {
                Err(self.err(
                    format!("look up the route to {dst} (EACCES: the kernel's answer for a prohibit route)"),
                    &rtnetlink::Error::NetlinkError(e),
                ))
            }
            Err(e) => Err(self.err(format!("look up the route to {dst}"), &e)),
        }
    }
}

pub(super) fn route_state(m: RouteMessage) -> Option<RouteState> {
    let h = &m.header;
    let mut table = u32::from(h.table);
    let mut dst = None;
    let mut via = None;
    let mut oif = None;
    let mut metric = None;
    let mut pref_src = None;
    let (mut mtu, mut mtu_locked) = (None, false);
    let (mut nhid, mut hops, mut pref) = (None, Vec::new(), None);
    for a in &m.attributes {
        match a {
            RouteAttribute::NhId(n) => nhid = Some(*n),
            RouteAttribute::Preference(p) => pref = pref_name(*p),
            RouteAttribute::MultiPath(list) => hops = list.iter().map(hop_state).collect(),
            RouteAttribute::Destination(d) => dst = route_ip(d),
            RouteAttribute::Gateway(g) => via = route_ip(g),
            RouteAttribute::Via(v) => via = via_ip(v),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(s) => pref_src = route_ip(s),
            RouteAttribute::Metrics(ms) => {
                use netlink_packet_route::route::RouteMetric;
                for m in ms {
                    match m {
                        RouteMetric::Mtu(v) => mtu = Some(*v),
                        // RTAX_LOCK is a bit mask over the metrics; bit RTAX_MTU (2).
                        RouteMetric::Lock(v) => mtu_locked = v & (1 << 2) != 0,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let zero = match h.address_family {
        AddressFamily::Inet => IpAddr::from([0u8; 4]),
        AddressFamily::Inet6 => IpAddr::from([0u16; 8]),
        _ => return None,
    };
    let flags = hop_flags(h.flags.bits());
    Some(RouteState {
        nhid,
        pref,
        hops,
        flags,
        mtu,
        mtu_locked,
        dst: Cidr {
            addr: dst.unwrap_or(zero),
            prefix: h.destination_prefix_length,
        },
        table,
        via,
        oif,
        kind: h.kind,
        protocol: h.protocol,
        metric,
        pref_src,
        scope: h.scope,
    })
}

fn pref_name(p: netlink_packet_route::route::RoutePreference) -> Option<RoutePref> {
    use netlink_packet_route::route::RoutePreference;
    match p {
        RoutePreference::Low => Some(RoutePref::Low),
        RoutePreference::Medium => Some(RoutePref::Medium),
        RoutePreference::High => Some(RoutePref::High),
        _ => None,
    }
}

fn hop_state(h: &netlink_packet_route::route::RouteNextHop) -> HopState {
    HopState {
        via: h.attributes.iter().find_map(|a| match a {
            RouteAttribute::Gateway(g) => route_ip(g),
            RouteAttribute::Via(v) => via_ip(v),
            _ => None,
        }),
        oif: h.interface_index,
        weight: u16::from(h.hops) + 1,
        flags: hop_flags(u32::from(h.flags.bits())),
    }
}

/// RTNH_F_DEAD, RTNH_F_ONLINK, RTNH_F_LINKDOWN, as iproute2 names them.
pub(super) fn hop_flags(bits: u32) -> Vec<&'static str> {
    [(1, "dead"), (4, "onlink"), (16, "linkdown")]
        .into_iter()
        .filter(|(f, _)| bits & f != 0)
        .map(|(_, n)| n)
        .collect()
}

fn via_ip(v: &netlink_packet_route::route::RouteVia) -> Option<IpAddr> {
    use netlink_packet_route::route::RouteVia;
    match v {
        RouteVia::Inet(a) => Some(IpAddr::V4(*a)),
        RouteVia::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(x) => Some(IpAddr::V4(*x)),
        RouteAddress::Inet6(x) => Some(IpAddr::V6(*x)),
        _ => None,
    }
}

/// What an IPv4 lookup that met a blackhole route stands for: the kernel names no more
/// than that (no device, no table).
pub(super) fn blackhole_answer(dst: IpAddr) -> RouteState {
    use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};
    RouteState {
        dst: Cidr {
            addr: dst,
            prefix: 32,
        },
        table: 0,
        via: None,
        oif: None,
        kind: RouteType::BlackHole,
        protocol: RouteProtocol::Unspec,
        metric: None,
        pref_src: None,
        scope: RouteScope::Universe,
        flags: Vec::new(),
        mtu: None,
        mtu_locked: false,
        nhid: None,
        pref: None,
        hops: Vec::new(),
    }
}

/// Policy routing rules, as `ip rule show` and `ip -6 rule show` print them, without
/// the ones every namespace is born with (local, main and default): `1000: from all
/// lookup [l3mdev-table]`. IPv4 first, each family in priority order.
impl Nl {
    pub(crate) async fn rules(&self) -> Result<Vec<String>, NlError> {
        use netlink_packet_route::rule::{RuleAction, RuleAttribute};
        use rtnetlink::IpVersion;
        let mut out = Vec::new();
        for (v, family) in [(IpVersion::V4, "ipv4"), (IpVersion::V6, "ipv6")] {
            let msgs: Vec<_> = self
                .handle
                .rule()
                .get(v)
                .execute()
                .try_collect()
                .await
                .map_err(|e| self.err("dump rules", &e))?;
            let mut rows: Vec<(u32, String)> = Vec::new();
            for m in msgs {
                let (mut prio, mut table, mut l3mdev) = (0, u32::from(m.header.table), false);
                let (mut from, mut to) = ("all".to_string(), None);
                let (mut iif, mut oif, mut mark) = (None, None, None);
                for a in &m.attributes {
                    match a {
                        RuleAttribute::Priority(p) => prio = *p,
                        RuleAttribute::Table(t) => table = *t,
                        RuleAttribute::L3MDev(on) => l3mdev = *on,
                        RuleAttribute::Source(s) => from = format!("{s}/{}", m.header.src_len),
                        RuleAttribute::Destination(d) => {
                            to = Some(format!("{d}/{}", m.header.dst_len))
                        }
                        RuleAttribute::Iifname(n) => iif = Some(n.clone()),
                        RuleAttribute::Oifname(n) => oif = Some(n.clone()),
                        RuleAttribute::FwMark(f) => mark = Some(*f),
                        _ => {}
                    }
                }
                let born = !l3mdev
                    && from == "all"
                    && to.is_none()
                    && iif.is_none()
                    && oif.is_none()
                    && mark.is_none()
                    && matches!((prio, table), (0, 255) | (32766, 254) | (32767, 253));
                if born {
                    continue;
                }
                let mut line = format!("{family} {prio}: from {from}");
                if let Some(t) = to {
                    line += &format!(" to {t}");
                }
                if let Some(f) = mark {
                    line += &format!(" fwmark {f:#x}");
                }
                if let Some(i) = iif {
                    line += &format!(" iif {i}");
                }
                if let Some(o) = oif {
                    line += &format!(" oif {o}");
                }
                line += &match (l3mdev, m.header.action) {
                    (true, _) => " lookup [l3mdev-table]".to_string(),
                    (false, RuleAction::ToTable) => {
                        format!(" lookup {}", crate::scenario::table_name(table))
                    }
                    (false, a) => format!(" {}", format!("{a:?}").to_lowercase()),
                };
                rows.push((prio, line));
            }
            rows.sort();
            out.extend(rows.into_iter().map(|(_, l)| l));
        }
        Ok(out)
    }
}
