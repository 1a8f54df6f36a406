//! State dumps, reduced to what netspec checks and renders.

use std::net::IpAddr;
use std::time::Duration;

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoMacVlan, InfoPortData,
    InfoVxlan, LinkAttribute, LinkInfo, State,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::AddressFamily;
use rtnetlink::RouteMessageBuilder;

use super::{Nl, NlError};
use crate::scenario::{Cidr, Mac, OperState};

#[derive(Debug, Clone)]
pub(crate) struct LinkState {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub mac: Option<Mac>,
    pub mtu: u32,
    pub oper: OperState,
    pub master: Option<u32>,
    /// The bridge port state (`forwarding`, ...) for a bridge port.
    pub port_state: Option<String>,
    /// A bridge port's flags that differ from the kernel's defaults, e.g. `nolearning`, `isolated`.
    pub port_flags: Vec<String>,
    /// A bridge's own settings, as `stp off ageing_time 300s ...`.
    pub bridge: Option<String>,
    /// A vxlan's tunnel (`vni 42 remote ... dstport 4789`) and the ifindex of its `dev`.
    pub vxlan: Option<(String, Option<u32>)>,
    /// A macvlan's mode.
    pub macvlan_mode: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AddrState {
    pub index: u32,
    pub cidr: Cidr,
    pub tentative: bool,
    pub dadfailed: bool,
}

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
    pub pref: Option<&'static str>,
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

#[derive(Debug, Clone)]
pub(crate) struct NeighEntry {
    pub index: u32,
    pub dst: IpAddr,
    pub mac: Option<Mac>,
    pub state: NeighbourState,
    pub proxy: bool,
    /// `router`, `extern_learn`, as iproute2 prints them.
    pub flags: Vec<&'static str>,
    /// How long ago the entry last changed state (NDA_CACHEINFO, 10 ms grain).
    pub updated_ago: Option<Duration>,
}

#[derive(Debug, Clone)]
pub(crate) struct FdbEntry {
    /// The port (or the device itself for `self` entries).
    pub index: u32,
    pub mac: Mac,
    /// The bridge, for entries the bridge owns (`master`).
    pub master: Option<u32>,
    pub state: NeighbourState,
    pub flags: NeighbourFlags,
    /// A vxlan entry's remote VTEP.
    pub dst: Option<IpAddr>,
    /// NTF_EXT_LOCKED: the bridge saw this MAC on a locked port.
    pub locked: bool,
}

fn neigh_entry(m: &NeighbourMessage) -> Option<NeighEntry> {
    if !matches!(m.header.family, AddressFamily::Inet | AddressFamily::Inet6) {
        return None;
    }
    let mut dst = None;
    let mut mac = None;
    let mut updated_ago = None;
    for a in &m.attributes {
        match a {
            // The kernel gives ages in USER_HZ ticks, which are 10 ms on Linux.
            NeighbourAttribute::CacheInfo(c) => {
                updated_ago = Some(Duration::from_millis(u64::from(c.updated) * 10))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet(x)) => {
                dst = Some(IpAddr::V4(*x))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(x)) => {
                dst = Some(IpAddr::V6(*x))
            }
            NeighbourAttribute::LinkLayerAddress(b) => mac = mac_of(b),
            _ => {}
        }
    }
    let f = m.header.flags;
    Some(NeighEntry {
        index: m.header.ifindex,
        dst: dst?,
        mac,
        state: m.header.state,
        proxy: f.contains(NeighbourFlags::Proxy),
        flags: [
            (NeighbourFlags::Router, "router"),
            (NeighbourFlags::ExtLearned, "extern_learn"),
        ]
        .into_iter()
        .filter(|(x, _)| f.contains(*x))
        .map(|(_, n)| n)
        .collect(),
        updated_ago,
    })
}

fn mac_of(bytes: &[u8]) -> Option<Mac> {
    <[u8; 6]>::try_from(bytes).ok().map(Mac)
}

fn oper(s: &State) -> OperState {
    match s {
        State::Up => OperState::Up,
        State::Down => OperState::Down,
        State::LowerLayerDown => OperState::LowerLayerDown,
        _ => OperState::Unknown,
    }
}

impl Nl {
    pub(crate) async fn links(&self) -> Result<Vec<LinkState>, NlError> {
        let msgs: Vec<_> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump links", &e))?;
        Ok(msgs
            .into_iter()
            .map(|m| {
                let mut l = LinkState {
                    index: m.header.index,
                    name: String::new(),
                    kind: None,
                    mac: None,
                    mtu: 0,
                    oper: OperState::Unknown,
                    master: None,
                    port_state: None,
                    port_flags: Vec::new(),
                    bridge: None,
                    vxlan: None,
                    macvlan_mode: None,
                };
                for a in m.attributes {
                    match a {
                        LinkAttribute::IfName(n) => l.name = n,
                        LinkAttribute::Address(b) => l.mac = mac_of(&b),
                        LinkAttribute::Mtu(v) => l.mtu = v,
                        LinkAttribute::OperState(s) => l.oper = oper(&s),
                        LinkAttribute::Controller(c) => l.master = Some(c),
                        LinkAttribute::LinkInfo(infos) => {
                            for i in infos {
                                match i {
                                    LinkInfo::Kind(k) => l.kind = Some(kind_name(&k)),
                                    LinkInfo::PortData(InfoPortData::BridgePort(attrs)) => {
                                        (l.port_state, l.port_flags) = port_info(&attrs);
                                    }
                                    LinkInfo::Data(InfoData::Bridge(attrs)) => {
                                        l.bridge = Some(bridge_info(&attrs))
                                    }
                                    LinkInfo::Data(InfoData::Vxlan(attrs)) => {
                                        l.vxlan = Some(vxlan_info(&attrs))
                                    }
                                    LinkInfo::Data(InfoData::MacVlan(attrs)) => {
                                        l.macvlan_mode = attrs.iter().find_map(|a| match a {
                                            InfoMacVlan::Mode(m) => {
                                                Some(format!("{m:?}").to_lowercase())
                                            }
                                            _ => None,
                                        })
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                l
            })
            .collect())
    }

    pub(crate) async fn addresses(&self) -> Result<Vec<AddrState>, NlError> {
        let msgs: Vec<_> = self
            .handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump addresses", &e))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| {
                let mut addr = None;
                let mut local = None;
                let mut flags = AddressFlags::empty();
                for a in &m.attributes {
                    match a {
                        AddressAttribute::Address(x) => addr = Some(*x),
                        AddressAttribute::Local(x) => local = Some(*x),
                        AddressAttribute::Flags(f) => flags = *f,
                        _ => {}
                    }
                }
                // For IPv4, IFA_LOCAL is the interface's own address.
                let ip = local.or(addr)?;
                Some(AddrState {
                    index: m.header.index,
                    cidr: Cidr {
                        addr: ip,
                        prefix: m.header.prefix_len,
                    },
                    tentative: flags.contains(AddressFlags::Tentative),
                    dadfailed: flags.contains(AddressFlags::Dadfailed),
                })
            })
            .collect())
    }

    /// Every route of every table, both families.
    pub(crate) async fn routes(&self) -> Result<Vec<RouteState>, NlError> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
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
            out.extend(msgs.into_iter().filter_map(route_state));
        }
        Ok(out)
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

    /// ARP and ND entries.
    /// ARP and ND entries, then proxy entries (a second dump, with NTF_PROXY).
    pub(crate) async fn neighbours(&self) -> Result<Vec<NeighEntry>, NlError> {
        let mut all = self.neighbour_dump(false).await?;
        all.extend(self.neighbour_dump(true).await?);
        Ok(all)
    }

    /// One dump: the ARP and ND entries, or (`proxies`) the proxy entries.
    pub(crate) async fn neighbour_dump(&self, proxies: bool) -> Result<Vec<NeighEntry>, NlError> {
        let mut req = self.handle.neighbours().get();
        if proxies {
            req = req.proxies();
        }
        let msgs: Vec<_> = req
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump neighbours", &e))?;
        Ok(msgs.iter().filter_map(neigh_entry).collect())
    }

    /// `ip neigh get [proxy] ADDR dev DEV`: the kernel's answer for one entry, None
    /// when it has none (ENOENT).
    pub(crate) async fn neigh_get(
        &self,
        index: u32,
        to: IpAddr,
        proxy: bool,
    ) -> Result<Option<NeighEntry>, NlError> {
        use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
        use netlink_packet_route::RouteNetlinkMessage;
        let msg = super::neigh_message(index, to, proxy);
        let mut req = NetlinkMessage::from(RouteNetlinkMessage::GetNeighbour(msg));
        req.header.flags = NLM_F_REQUEST;
        let mut handle = self.handle.clone();
        let op = format!("get neighbour {}{to}", if proxy { "proxy " } else { "" });
        let mut resp = handle.request(req).map_err(|e| self.err(op.clone(), &e))?;
        let mut found = None;
        while let Some(m) = futures::StreamExt::next(&mut resp).await {
            match m.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNeighbour(n)) => {
                    found = neigh_entry(&n)
                }
                NetlinkPayload::Error(e) if e.code.is_some_and(|c| -c.get() == libc::ENOENT) => {
                    return Ok(None)
                }
                NetlinkPayload::Error(e) => {
                    return Err(self.err(op, &rtnetlink::Error::NetlinkError(e)))
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// The bridge forwarding database.
    pub(crate) async fn fdb(&self) -> Result<Vec<FdbEntry>, NlError> {
        let msgs: Vec<_> = self
            .handle
            .neighbours()
            .get()
            .set_address_family(AddressFamily::Bridge)
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump fdb", &e))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| {
                let (mut mac, mut master, mut dst, mut locked) = (None, None, None, false);
                for a in &m.attributes {
                    match a {
                        NeighbourAttribute::LinkLayerAddress(b) => mac = mac_of(b),
                        NeighbourAttribute::Controller(c) => master = Some(*c),
                        NeighbourAttribute::Destination(NeighbourAddress::Inet(x)) => {
                            dst = Some(IpAddr::V4(*x))
                        }
                        NeighbourAttribute::Destination(NeighbourAddress::Inet6(x)) => {
                            dst = Some(IpAddr::V6(*x))
                        }
                        // In AF_BRIDGE messages the address comes unparsed: 4 or 16 bytes.
                        NeighbourAttribute::Destination(NeighbourAddress::Other(b)) => {
                            dst = match b.len() {
                                4 => <[u8; 4]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                                16 => <[u8; 16]>::try_from(b.as_slice()).ok().map(IpAddr::from),
                                _ => None,
                            }
                        }
                        NeighbourAttribute::ExtFlags(f) => {
                            locked = f.contains(
                                netlink_packet_route::neighbour::NeighbourExtFlags::Locked,
                            )
                        }
                        _ => {}
                    }
                }
                Some(FdbEntry {
                    index: m.header.ifindex,
                    mac: mac?,
                    master,
                    state: m.header.state,
                    flags: m.header.flags,
                    dst,
                    locked,
                })
            })
            .collect())
    }
}

/// The port state, and the flags that differ from a new port's defaults.
fn port_info(attrs: &[InfoBridgePort]) -> (Option<String>, Vec<String>) {
    let mut state = None;
    let mut flags = Vec::new();
    let mut flag = |name: &str, on: bool, default: bool| {
        if on != default {
            flags.push(if on {
                name.to_string()
            } else {
                format!("no{name}")
            });
        }
    };
    for a in attrs {
        match a {
            InfoBridgePort::State(s) => state = Some(format!("{s:?}").to_lowercase()),
            InfoBridgePort::Learning(v) => flag("learning", *v, true),
            InfoBridgePort::UnicastFlood(v) => flag("flood", *v, true),
            InfoBridgePort::MulticastFlood(v) => flag("mcast_flood", *v, true),
            InfoBridgePort::BroadcastFlood(v) => flag("bcast_flood", *v, true),
            InfoBridgePort::Isolated(v) => flag("isolated", *v, false),
            InfoBridgePort::ProxyARP(v) => flag("proxy_arp", *v, false),
            InfoBridgePort::NeighSupress(v) => flag("neigh_suppress", *v, false),
            InfoBridgePort::Locked(v) => flag("locked", *v, false),
            InfoBridgePort::HairpinMode(v) => flag("hairpin", *v, false),
            _ => {}
        }
    }
    (state, flags)
}

/// A vxlan's tunnel settings, and its `dev`.
fn vxlan_info(attrs: &[InfoVxlan]) -> (String, Option<u32>) {
    let (mut vni, mut remote, mut local, mut port, mut dev) = (None, None, None, None, None);
    for a in attrs {
        match a {
            InfoVxlan::Id(v) => vni = Some(*v),
            InfoVxlan::Group(g) => remote = Some(IpAddr::V4(*g)),
            InfoVxlan::Group6(g) => remote = Some(IpAddr::V6(*g)),
            InfoVxlan::Local(l) => local = Some(IpAddr::V4(*l)),
            InfoVxlan::Local6(l) => local = Some(IpAddr::V6(*l)),
            InfoVxlan::Port(p) => port = Some(*p),
            InfoVxlan::Link(i) => dev = Some(*i),
            _ => {}
        }
    }
    let mut s = vni.map(|v| format!("vni {v}")).unwrap_or_default();
    if let Some(r) = remote {
        s += &format!(" remote {r}");
    }
    if let Some(l) = local {
        s += &format!(" local {l}");
    }
    if let Some(p) = port {
        s += &format!(" dstport {p}");
    }
    (s, dev)
}

/// A bridge's settings, in a fixed order.
fn bridge_info(attrs: &[InfoBridge]) -> String {
    let time = |cs: u32| {
        if cs.is_multiple_of(100) {
            format!("{}s", cs / 100)
        } else {
            format!("{}ms", cs * 10)
        }
    };
    // With STP on, a topology change swaps the ageing time for 2 x forward_delay for a
    // while: the value read depends on timing, so it is left out.
    let stp_on = attrs
        .iter()
        .any(|a| matches!(a, InfoBridge::StpState(s) if !matches!(s, BridgeStpState::Disabled)));
    let mut parts = Vec::new();
    for a in attrs {
        match a {
            InfoBridge::AgeingTime(_) if stp_on => {}
            InfoBridge::StpState(s) => {
                let on = !matches!(s, BridgeStpState::Disabled);
                parts.push((0, format!("stp {}", if on { "on" } else { "off" })))
            }
            InfoBridge::AgeingTime(t) => parts.push((1, format!("ageing_time {}", time(*t)))),
            InfoBridge::ForwardDelay(t) => parts.push((2, format!("forward_delay {}", time(*t)))),
            InfoBridge::HelloTime(t) => parts.push((3, format!("hello_time {}", time(*t)))),
            InfoBridge::Priority(p) => parts.push((4, format!("priority {p}"))),
            InfoBridge::MulticastSnooping(m) => parts.push((
                5,
                format!("mcast_snooping {}", if *m { "on" } else { "off" }),
            )),
            _ => {}
        }
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join(" ")
}

fn route_state(m: RouteMessage) -> Option<RouteState> {
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

fn pref_name(p: netlink_packet_route::route::RoutePreference) -> Option<&'static str> {
    use netlink_packet_route::route::RoutePreference;
    match p {
        RoutePreference::Low => Some("low"),
        RoutePreference::Medium => Some("medium"),
        RoutePreference::High => Some("high"),
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
fn hop_flags(bits: u32) -> Vec<&'static str> {
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

pub(crate) fn kind_name(k: &InfoKind) -> String {
    match k {
        InfoKind::Veth => "veth".into(),
        InfoKind::Bridge => "bridge".into(),
        InfoKind::MacVlan => "macvlan".into(),
        InfoKind::Vxlan => "vxlan".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// What an IPv4 lookup that met a blackhole route stands for: the kernel names no more
/// than that (no device, no table).
fn blackhole_answer(dst: IpAddr) -> RouteState {
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
