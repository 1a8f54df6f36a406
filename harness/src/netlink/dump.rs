//! State dumps, reduced to what netspec checks and renders.

use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, LinkAttribute, LinkInfo, State,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourState,
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
}

#[derive(Debug, Clone)]
pub(crate) struct NeighEntry {
    pub index: u32,
    pub dst: IpAddr,
    pub mac: Option<Mac>,
    pub state: NeighbourState,
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
                                        for pa in attrs {
                                            if let InfoBridgePort::State(s) = pa {
                                                l.port_state =
                                                    Some(format!("{s:?}").to_lowercase());
                                            }
                                        }
                                    }
                                    LinkInfo::Data(InfoData::Bridge(_)) => {}
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

    /// ARP and ND entries.
    pub(crate) async fn neighbours(&self) -> Result<Vec<NeighEntry>, NlError> {
        let msgs: Vec<_> = self
            .handle
            .neighbours()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| self.err("dump neighbours", &e))?;
        Ok(msgs
            .into_iter()
            .filter(|m| matches!(m.header.family, AddressFamily::Inet | AddressFamily::Inet6))
            .filter_map(|m| {
                let mut dst = None;
                let mut mac = None;
                for a in &m.attributes {
                    match a {
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
                Some(NeighEntry {
                    index: m.header.ifindex,
                    dst: dst?,
                    mac,
                    state: m.header.state,
                })
            })
            .collect())
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
                let mut mac = None;
                let mut master = None;
                for a in &m.attributes {
                    match a {
                        NeighbourAttribute::LinkLayerAddress(b) => mac = mac_of(b),
                        NeighbourAttribute::Controller(c) => master = Some(*c),
                        _ => {}
                    }
                }
                Some(FdbEntry {
                    index: m.header.ifindex,
                    mac: mac?,
                    master,
                    state: m.header.state,
                    flags: m.header.flags,
                })
            })
            .collect())
    }
}

fn route_state(m: RouteMessage) -> Option<RouteState> {
    let h = &m.header;
    let mut table = u32::from(h.table);
    let mut dst = None;
    let mut via = None;
    let mut oif = None;
    let mut metric = None;
    let mut pref_src = None;
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = route_ip(d),
            RouteAttribute::Gateway(g) => via = route_ip(g),
            RouteAttribute::Via(v) => {
                if let netlink_packet_route::route::RouteVia::Inet(a) = v {
                    via = Some(IpAddr::V4(*a))
                }
                if let netlink_packet_route::route::RouteVia::Inet6(a) = v {
                    via = Some(IpAddr::V6(*a))
                }
            }
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::PrefSource(s) => pref_src = route_ip(s),
            _ => {}
        }
    }
    let zero = match h.address_family {
        AddressFamily::Inet => IpAddr::from([0u8; 4]),
        AddressFamily::Inet6 => IpAddr::from([0u16; 8]),
        _ => return None,
    };
    Some(RouteState {
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
