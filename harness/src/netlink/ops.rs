//! Changes: the operations of a plan, each one netlink request.

use std::net::IpAddr;
use std::os::fd::RawFd;

use netlink_packet_route::address::{AddressAttribute, AddressFlags};
use netlink_packet_route::link::{BridgeStpState, InfoData, InfoVeth, MacVlanMode};
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType as NlRouteType};
use rtnetlink::{
    LinkBridge, LinkMacVlan, LinkMessageBuilder, LinkUnspec, LinkVeth, LinkVxlan,
    RouteMessageBuilder,
};

use super::{Nl, NlError};
use crate::scenario::{BridgeOptions, Cidr, Mac, MacvlanMode, Route, RouteType};

impl Nl {
    pub(crate) async fn add_bridge(
        &self,
        index: u32,
        name: &str,
        mac: Mac,
        mtu: Option<u32>,
        opts: &BridgeOptions,
    ) -> Result<(), NlError> {
        let mut b = LinkBridge::new(name).index(index).address(mac.0.to_vec());
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        if let Some(stp) = opts.stp {
            b = b.stp_state(if stp {
                BridgeStpState::KernelStp
            } else {
                BridgeStpState::Disabled
            });
        }
        if let Some(a) = opts.ageing_time_cs {
            b = b.ageing_time(a);
        }
        if let Some(f) = opts.forward_delay_cs {
            b = b.forward_delay(f);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create bridge {name}"), &e))
    }

    /// Creates a veth pair whose peer is born directly in `peer_ns`: moving it
    /// afterwards would cost 15-35 ms.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_veth(
        &self,
        index: u32,
        name: &str,
        mac: Mac,
        mtu: Option<u32>,
        peer_ns: RawFd,
        peer_node: &str,
        peer_name: &str,
        peer_index: u32,
        peer_mac: Mac,
        peer_mtu: Option<u32>,
    ) -> Result<(), NlError> {
        let mut peer = LinkUnspec::new_with_name(peer_name)
            .index(peer_index)
            .address(peer_mac.0.to_vec())
            .setns_by_fd(peer_ns);
        if let Some(m) = peer_mtu {
            peer = peer.mtu(m);
        }
        let mut b = LinkMessageBuilder::<LinkVeth>::new(name, peer_name)
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer.build())))
            .index(index)
            .address(mac.0.to_vec());
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| {
                self.err(
                    format!("create veth {name}/{peer_name} (peer in {peer_node})"),
                    &e,
                )
            })
    }

    pub(crate) async fn add_macvlan(
        &self,
        index: u32,
        name: &str,
        mac: Mac,
        mtu: Option<u32>,
        parent_index: u32,
        mode: MacvlanMode,
    ) -> Result<(), NlError> {
        let mode = match mode {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Vepa => MacVlanMode::Vepa,
            MacvlanMode::Bridge => MacVlanMode::Bridge,
            MacvlanMode::Passthru => MacVlanMode::Passthrough,
        };
        let mut b = LinkMacVlan::new(name, parent_index, mode)
            .index(index)
            .address(mac.0.to_vec());
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create macvlan {name}"), &e))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn add_vxlan(
        &self,
        index: u32,
        name: &str,
        mac: Mac,
        mtu: Option<u32>,
        vni: u32,
        local: Option<IpAddr>,
        remote: Option<IpAddr>,
        dev_index: Option<u32>,
        dstport: u16,
    ) -> Result<(), NlError> {
        let mut b = LinkVxlan::new(name, vni)
            .index(index)
            .port(dstport)
            .address(mac.0.to_vec());
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        if let Some(d) = dev_index {
            b = b.dev(d);
        }
        match local {
            Some(IpAddr::V4(a)) => b = b.local(a),
            Some(IpAddr::V6(a)) => b = b.local6(a),
            None => {}
        }
        match remote {
            Some(IpAddr::V4(a)) => b = b.remote(a),
            Some(IpAddr::V6(a)) => b = b.remote6(a),
            None => {}
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create vxlan {name}"), &e))
    }

    pub(crate) async fn set_master(
        &self,
        index: u32,
        name: &str,
        master: u32,
        master_name: &str,
    ) -> Result<(), NlError> {
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).controller(master).build())
            .execute()
            .await
            .map_err(|e| self.err(format!("set master of {name} to {master_name}"), &e))
    }

    pub(crate) async fn set_up(&self, index: u32, name: &str, up: bool) -> Result<(), NlError> {
        let b = LinkUnspec::new_with_index(index);
        let msg = if up { b.up() } else { b.down() }.build();
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("set {name} {}", if up { "up" } else { "down" }), &e))
    }

    /// Adds an address; IPv6 ones skip DAD unless asked for, because DAD costs 1-2 s.
    pub(crate) async fn add_address(
        &self,
        index: u32,
        name: &str,
        cidr: Cidr,
        dad: bool,
    ) -> Result<(), NlError> {
        let mut req = self.handle.address().add(index, cidr.addr, cidr.prefix);
        if cidr.addr.is_ipv6() && !dad {
            req.message_mut()
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        req.execute()
            .await
            .map_err(|e| self.err(format!("add address {cidr} to {name}"), &e))
    }

    pub(crate) async fn add_route(&self, route: &Route, oif: Option<u32>) -> Result<(), NlError> {
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(route.dst.addr, route.dst.prefix)
            .map_err(|e| NlError {
                op: format!("add route `{}`", route.text),
                node: self.node.clone(),
                detail: e.to_string(),
            })?
            .protocol(RouteProtocol::Static);
        if let Some(v) = route.via {
            b = b.gateway(v).map_err(|e| NlError {
                op: format!("add route `{}`", route.text),
                node: self.node.clone(),
                detail: e.to_string(),
            })?;
        }
        if let Some(i) = oif {
            b = b.output_interface(i);
        }
        if let Some(m) = route.metric {
            b = b.priority(m);
        }
        if let Some(t) = route.table {
            b = b.table_id(t);
        }
        b = match route.kind {
            RouteType::Unicast => b,
            RouteType::Blackhole => b.kind(NlRouteType::BlackHole).scope(RouteScope::Universe),
            RouteType::Unreachable => b.kind(NlRouteType::Unreachable).scope(RouteScope::Universe),
        };
        if route.kind == RouteType::Unicast && route.via.is_none() {
            b = b.scope(RouteScope::Link);
        }
        self.handle
            .route()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("add route `{}`", route.text), &e))
    }
}
