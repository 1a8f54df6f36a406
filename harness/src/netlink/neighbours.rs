//! Neighbour and bridge forwarding entries (`ip neigh`, `bridge fdb`).

use std::net::IpAddr;
use std::time::Duration;

use futures::TryStreamExt;
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::AddressFamily;

use super::dump::mac_of;
use super::{Nl, NlError};
use crate::scenario::Mac;

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
    /// NDA_VLAN: the VLAN of the entry, on a VLAN-aware bridge.
    pub vlan: Option<u16>,
}

pub(super) fn neigh_entry(m: &NeighbourMessage) -> Option<NeighEntry> {
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

impl Nl {
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
                let mut vlan = None;
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
                        NeighbourAttribute::Vlan(v) => vlan = Some(*v),
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
                    vlan,
                })
            })
            .collect())
    }
}
