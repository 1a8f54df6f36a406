//! Changes: the operations of a plan, each one netlink request.

use std::net::IpAddr;
use std::os::fd::RawFd;

use netlink_packet_core::{
    NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    BridgeStpState, InfoData, InfoVeth, LinkAttribute, LinkMessage, MacVlanMode,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteNextHop, RouteNextHopFlags,
    RoutePreference, RouteProtocol, RouteScope, RouteType as NlRouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{
    LinkBond, LinkBridge, LinkBridgePort, LinkDummy, LinkMacVlan, LinkMessageBuilder, LinkUnspec,
    LinkVeth, LinkVlan, LinkVrf, LinkVxlan, RouteMessageBuilder,
};

use super::{Nl, NlError};
use crate::scenario::{
    BondOptions, BridgeOptions, Cidr, FdbState, Mac, MacvlanMode, PortOptions, PortVlan, Route,
    RoutePref, RouteType, StaticFdb, StaticNeigh, Vxlan,
};

/// A link to create, with what the plan fixed for it: index, name, MAC and MTU.
pub(crate) struct NewLink<'a> {
    pub index: u32,
    pub name: &'a str,
    pub mac: Mac,
    pub mtu: Option<u32>,
}

impl<'a> NewLink<'a> {
    pub(crate) fn new(index: u32, name: &'a str, mac: Mac, mtu: Option<u32>) -> NewLink<'a> {
        NewLink {
            index,
            name,
            mac,
            mtu,
        }
    }

    /// The builder with the index, MAC and MTU set.
    fn fixed<T>(&self, b: LinkMessageBuilder<T>) -> LinkMessageBuilder<T> {
        let b = b.index(self.index).address(self.mac.0.to_vec());
        match self.mtu {
            Some(m) => b.mtu(m),
            None => b,
        }
    }
}

/// The request that creates a veth pair, its peer born in `peer.netns` (`Nl::add_veth`).
pub(super) fn veth_request(link: &NewLink<'_>, peer: &PeerEnd<'_>) -> LinkMessage {
    let other = one_queue(
        peer.link
            .fixed(LinkUnspec::new_with_name(peer.link.name))
            .setns_by_fd(peer.netns),
    );
    one_queue(
        link.fixed(
            LinkMessageBuilder::<LinkVeth>::new(link.name, peer.link.name)
                .set_info_data(InfoData::Veth(InfoVeth::Peer(other.build()))),
        ),
    )
    .build()
}

/// One TX and one RX queue: what the kernel reduces a veth end to anyway (`add_veth`).
fn one_queue<T>(b: LinkMessageBuilder<T>) -> LinkMessageBuilder<T> {
    b.append_extra_attribute(LinkAttribute::NumTxQueues(1))
        .append_extra_attribute(LinkAttribute::NumRxQueues(1))
}

/// A veth's peer: the link, and the namespace it is born in.
pub(crate) struct PeerEnd<'a> {
    pub link: NewLink<'a>,
    /// The peer's node, for messages.
    pub node: &'a str,
    pub netns: RawFd,
}

impl Nl {
    pub(crate) async fn add_bridge(
        &self,
        link: &NewLink<'_>,
        opts: &BridgeOptions,
    ) -> Result<(), NlError> {
        let name = link.name;
        let mut b = link.fixed(LinkBridge::new(name));
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
        if let Some(h) = opts.hello_time_cs {
            b = b.hello_time(h);
        }
        if let Some(p) = opts.priority {
            b = b.priority(p);
        }
        if let Some(m) = opts.mcast_snooping {
            b = b.mcast_snooping(m);
        }
        if let Some(v) = opts.vlan_filtering {
            b = b.vlan_filtering(v);
        }
        if let Some(p) = opts.vlan_default_pvid {
            b = b.vlan_default_pvid(p);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create bridge {name}"), &e))
    }

    /// Creates a veth pair whose peer is born directly in its node: moving it
    /// afterwards would cost 15-35 ms.
    ///
    /// Both ends get one TX and one RX queue. Without them the kernel allocates one
    /// per CPU and, right after registering each end, cuts the real number down to
    /// one, which waits for an RCU grace period while holding rtnl: two per pair,
    /// stalling every other rtnetlink user meanwhile (BENCHMARKS.md).
    pub(crate) async fn add_veth(
        &self,
        link: &NewLink<'_>,
        peer: &PeerEnd<'_>,
    ) -> Result<(), NlError> {
        let (name, peer_name, peer_node) = (link.name, peer.link.name, peer.node);
        self.handle
            .link()
            .add(veth_request(link, peer))
            .execute()
            .await
            .map_err(|e| {
                self.err(
                    format!("create veth {name}/{peer_name} (peer in {peer_node})"),
                    &e,
                )
            })
    }

    /// A macvlan on `parent_index`, born in `netns` when given (another node's).
    pub(crate) async fn add_macvlan(
        &self,
        link: &NewLink<'_>,
        parent_index: u32,
        mode: MacvlanMode,
        netns: Option<RawFd>,
    ) -> Result<(), NlError> {
        let name = link.name;
        let mode = match mode {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Vepa => MacVlanMode::Vepa,
            MacvlanMode::Bridge => MacVlanMode::Bridge,
            MacvlanMode::Passthru => MacVlanMode::Passthrough,
        };
        let mut b = link.fixed(LinkMacVlan::new(name, parent_index, mode));
        if let Some(fd) = netns {
            b = b.setns_by_fd(fd);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create macvlan {name}"), &e))
    }

    /// A dummy device.
    pub(crate) async fn add_dummy(&self, link: &NewLink<'_>) -> Result<(), NlError> {
        let name = link.name;
        self.handle
            .link()
            .add(link.fixed(LinkDummy::new(name)).build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create dummy {name}"), &e))
    }

    /// An 802.1Q vlan device on `parent_index`, in the same namespace.
    pub(crate) async fn add_vlan(
        &self,
        link: &NewLink<'_>,
        parent_index: u32,
        id: u16,
    ) -> Result<(), NlError> {
        let name = link.name;
        self.handle
            .link()
            .add(link.fixed(LinkVlan::new(name, parent_index, id)).build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create vlan {name} id {id}"), &e))
    }

    /// A VRF device routing through `table`.
    pub(crate) async fn add_vrf(&self, link: &NewLink<'_>, table: u32) -> Result<(), NlError> {
        let name = link.name;
        self.handle
            .link()
            .add(link.fixed(LinkVrf::new(name, table)).build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create vrf {name} table {table}"), &e))
    }

    /// A bond, without its primary (set once its ports are attached).
    pub(crate) async fn add_bond(
        &self,
        link: &NewLink<'_>,
        opts: &BondOptions,
    ) -> Result<(), NlError> {
        use netlink_packet_route::link::BondMode as NlMode;
        let name = link.name;
        let mut b = link
            .fixed(LinkBond::new(name))
            .mode(NlMode::from(opts.mode.number()));
        if let Some(m) = opts.miimon_ms {
            b = b.miimon(m);
        }
        if let Some(d) = opts.updelay_ms {
            b = b.updelay(d);
        }
        if let Some(d) = opts.downdelay_ms {
            b = b.downdelay(d);
        }
        self.handle
            .link()
            .add(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("create bond {name} mode {}", opts.mode.name()), &e))
    }

    /// `ip link set dev BOND type bond primary PORT`.
    pub(crate) async fn set_bond_primary(
        &self,
        index: u32,
        name: &str,
        primary: u32,
        primary_name: &str,
    ) -> Result<(), NlError> {
        use netlink_packet_route::link::InfoBond;
        let m = LinkMessageBuilder::<LinkBond>::new(name)
            .index(index)
            .append_info_data(InfoBond::Primary(primary))
            .build();
        // RTM_NEWLINK on an existing link, as `ip link set ... type bond` sends: only it
        // reaches the bond's changelink.
        self.handle.link().change(m).execute().await.map_err(|e| {
            self.err(
                format!("make {primary_name} the primary of bond {name}"),
                &e,
            )
        })
    }

    /// A vxlan device; `dev_index` is its underlay's index, when it names one.
    pub(crate) async fn add_vxlan(
        &self,
        link: &NewLink<'_>,
        v: &Vxlan,
        dev_index: Option<u32>,
    ) -> Result<(), NlError> {
        let name = link.name;
        let mut b = link.fixed(LinkVxlan::new(name, v.vni).port(v.dstport));
        if let Some(d) = dev_index {
            b = b.dev(d);
        }
        match v.local {
            Some(IpAddr::V4(a)) => b = b.local(a),
            Some(IpAddr::V6(a)) => b = b.local6(a),
            None => {}
        }
        match v.remote {
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

    /// `ip link set dev NAME carrier on|off` (a dummy's; a veth refuses it).
    pub(crate) async fn set_carrier(
        &self,
        index: u32,
        name: &str,
        on: bool,
    ) -> Result<(), NlError> {
        let msg = LinkUnspec::new_with_index(index).carrier(on).build();
        self.handle.link().set(msg).execute().await.map_err(|e| {
            self.err(
                format!("set {name} carrier {}", if on { "on" } else { "off" }),
                &e,
            )
        })
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

    /// The message for `route` (iproute2's `ip route add|del ...`), without a protocol.
    fn route_message(
        &self,
        route: &Route,
        oifs: &RouteOifs,
        op: &str,
    ) -> Result<RouteMessage, NlError> {
        let oif = oifs.oif;
        let invalid = |e: &dyn std::fmt::Display| NlError {
            op: format!("{op} route `{}`", route.text),
            node: self.node.clone(),
            detail: e.to_string(),
            errno: Some(libc::EINVAL),
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(route.dst.addr, route.dst.prefix)
            .map_err(|e| invalid(&e))?;
        if let Some(v) = route.via {
            b = b.gateway(v).map_err(|e| invalid(&e))?;
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
            // As iproute2: only a plain `P dev X` route is scope link.
            RouteType::Unicast
                if route.via.is_none() && route.hops.is_empty() && route.nhid.is_none() =>
            {
                b.scope(RouteScope::Link)
            }
            RouteType::Unicast => b,
            RouteType::Blackhole => b.kind(NlRouteType::BlackHole).scope(RouteScope::Universe),
            RouteType::Unreachable => b.kind(NlRouteType::Unreachable).scope(RouteScope::Universe),
        };
        let mut msg = b.build();
        if route.onlink {
            msg.header.flags |= RouteFlags::Onlink;
        }
        if let Some(id) = route.nhid {
            msg.attributes.push(RouteAttribute::NhId(id));
        }
        if let Some(a) = route.src {
            msg.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(a)));
        }
        if let Some(p) = route.pref {
            msg.attributes.push(RouteAttribute::Preference(match p {
                RoutePref::Low => RoutePreference::Low,
                RoutePref::Medium => RoutePreference::Medium,
                RoutePref::High => RoutePreference::High,
            }));
        }
        if !route.hops.is_empty() {
            msg.attributes
                .push(RouteAttribute::MultiPath(multipath(route, &oifs.hops)));
        }
        Ok(msg)
    }

    pub(crate) async fn add_route(&self, route: &Route, oifs: &RouteOifs) -> Result<(), NlError> {
        let mut msg = self.route_message(route, oifs, "add")?;
        msg.header.protocol = RouteProtocol::Static;
        self.handle
            .route()
            .add(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("add route `{}`", route.text), &e))
    }
}

/// The interface indexes a route names: its `dev`, and each path's (0 for none).
#[derive(Debug, Default)]
pub(crate) struct RouteOifs {
    pub oif: Option<u32>,
    pub hops: Vec<u32>,
}

/// RTA_MULTIPATH: one `struct rtnexthop` per path, the weight stored minus one.
fn multipath(route: &Route, oifs: &[u32]) -> Vec<RouteNextHop> {
    route
        .hops
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut hop = RouteNextHop::default();
            if route.onlink {
                hop.flags = RouteNextHopFlags::Onlink;
            }
            hop.hops = (h.weight.clamp(1, 256) - 1) as u8;
            hop.interface_index = oifs.get(i).copied().unwrap_or(0);
            if let Some(v) = h.via {
                hop.attributes.push(RouteAttribute::Gateway(match v {
                    IpAddr::V4(a) => RouteAddress::Inet(a),
                    IpAddr::V6(a) => RouteAddress::Inet6(a),
                }));
            }
            hop
        })
        .collect()
}

fn neigh_address(a: IpAddr) -> NeighbourAddress {
    match a {
        IpAddr::V4(v) => NeighbourAddress::Inet(v),
        IpAddr::V6(v) => NeighbourAddress::Inet6(v),
    }
}

/// Runtime changes and static entries.
impl Nl {
    /// A bridge port's VLANs, or with `on_self` a bridge's own, exactly: `bridge vlan
    /// add` for each, and `bridge vlan del vid 1` when the default VLAN is not among them.
    pub(crate) async fn set_port_vlans(
        &self,
        index: u32,
        name: &str,
        vlans: &[PortVlan],
        on_self: bool,
    ) -> Result<(), NlError> {
        if !vlans.iter().any(|v| v.vid == 1) {
            let one = PortVlan {
                vid: 1,
                pvid: false,
                untagged: false,
            };
            self.port_vlan(index, name, &one, on_self, false).await?;
        }
        for v in vlans {
            self.port_vlan(index, name, v, on_self, true).await?;
        }
        Ok(())
    }

    /// `bridge vlan add|del dev NAME vid N [pvid] [untagged] [self]`.
    pub(crate) async fn port_vlan(
        &self,
        index: u32,
        name: &str,
        v: &PortVlan,
        on_self: bool,
        add: bool,
    ) -> Result<(), NlError> {
        use netlink_packet_route::link::{
            AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, LinkAttribute,
            LinkMessage,
        };
        let mut flags = BridgeVlanInfoFlags::empty();
        if v.pvid {
            flags |= BridgeVlanInfoFlags::Pvid;
        }
        if v.untagged {
            flags |= BridgeVlanInfoFlags::Untagged;
        }
        let mut m = LinkMessage::default();
        m.header.interface_family = AddressFamily::Bridge;
        m.header.index = index;
        let mut spec = vec![AfSpecBridge::VlanInfo(BridgeVlanInfo { flags, vid: v.vid })];
        if on_self {
            spec.insert(0, AfSpecBridge::Flags(BridgeFlag::LowerDev));
        }
        m.attributes.push(LinkAttribute::AfSpecBridge(spec));
        let (what, r) = if add {
            ("add", self.handle.link().set(m).execute().await)
        } else {
            (
                "remove",
                self.handle.link().del_with_message(m).execute().await,
            )
        };
        r.map_err(|e| self.err(format!("{what} VLAN {} on {name}", v.vid), &e))
    }

    pub(crate) async fn set_port(
        &self,
        index: u32,
        name: &str,
        p: &PortOptions,
    ) -> Result<(), NlError> {
        let mut b = LinkBridgePort::new(index);
        if let Some(v) = p.learning {
            b = b.learning(v);
        }
        if let Some(v) = p.flood {
            b = b.flood(v);
        }
        if let Some(v) = p.mcast_flood {
            b = b.mcast_flood(v);
        }
        if let Some(v) = p.bcast_flood {
            b = b.bcast_flood(v);
        }
        if let Some(v) = p.isolated {
            b = b.isolated(v);
        }
        if let Some(v) = p.proxy_arp {
            b = b.proxy_arp(v);
        }
        if let Some(v) = p.neigh_suppress {
            b = b.neigh_suppress(v);
        }
        if let Some(v) = p.locked {
            b = b.locked(v);
        }
        if let Some(v) = p.hairpin {
            b = b.hairpin(v);
        }
        // `link().set()` with port data returns Ok and does nothing; `set_port` works.
        self.handle
            .link()
            .set_port(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("set bridge port options of {name}"), &e))
    }

    pub(crate) async fn flush_port_fdb(&self, index: u32, name: &str) -> Result<(), NlError> {
        self.handle
            .link()
            .set_port(LinkBridgePort::new(index).fdb_flush().build())
            .execute()
            .await
            .map_err(|e| self.err(format!("flush the FDB entries of port {name}"), &e))
    }

    /// A vxlan changelink that names only the new default remote: the kernel keeps
    /// the rest of the config, and moves the all-zeros FDB entry to the new remote.
    pub(crate) async fn set_vxlan_remote(
        &self,
        index: u32,
        name: &str,
        remote: IpAddr,
    ) -> Result<(), NlError> {
        use netlink_packet_route::link::{InfoKind, InfoVxlan, LinkAttribute, LinkInfo};
        let mut msg = LinkUnspec::new_with_index(index).build();
        let group = match remote {
            IpAddr::V4(a) => InfoVxlan::Group(a),
            IpAddr::V6(a) => InfoVxlan::Group6(a),
        };
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(vec![group])),
        ]));
        // RTM_NEWLINK on an existing link, as `ip link set ... type vxlan` sends: the
        // kernel ignores IFLA_INFO_DATA in RTM_SETLINK, and would say nothing.
        self.handle
            .link()
            .change(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("set the remote of vxlan {name}"), &e))
    }

    pub(crate) async fn set_link(
        &self,
        index: u32,
        name: &str,
        mtu: Option<u32>,
        mac: Option<Mac>,
    ) -> Result<(), NlError> {
        let mut b = LinkUnspec::new_with_index(index);
        if let Some(m) = mtu {
            b = b.mtu(m);
        }
        if let Some(m) = mac {
            b = b.address(m.0.to_vec());
        }
        self.handle
            .link()
            .set(b.build())
            .execute()
            .await
            .map_err(|e| self.err(format!("set link {name}"), &e))
    }

    pub(crate) async fn del_link(&self, index: u32, name: &str) -> Result<(), NlError> {
        self.handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(|e| self.err(format!("delete link {name}"), &e))
    }

    pub(crate) async fn set_nomaster(&self, index: u32, name: &str) -> Result<(), NlError> {
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).nocontroller().build())
            .execute()
            .await
            .map_err(|e| self.err(format!("detach {name} from its bridge"), &e))
    }

    pub(crate) async fn del_address(
        &self,
        index: u32,
        name: &str,
        cidr: Cidr,
    ) -> Result<(), NlError> {
        let mut msg = AddressMessage::default();
        msg.header.family = if cidr.addr.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        msg.header.prefix_len = cidr.prefix;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(cidr.addr));
        if cidr.addr.is_ipv6() {
            msg.attributes.push(AddressAttribute::Address(cidr.addr));
        }
        self.handle
            .address()
            .del(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("delete address {cidr} from {name}"), &e))
    }

    pub(crate) async fn del_route(&self, route: &Route, oifs: &RouteOifs) -> Result<(), NlError> {
        let mut msg = self.route_message(route, oifs, "delete")?;
        // As `ip route del`: any protocol and scope match, so that a route another
        // program added (a CNI plugin's `proto boot`) can be deleted too.
        msg.header.protocol = netlink_packet_route::route::RouteProtocol::Unspec;
        msg.header.scope = RouteScope::NoWhere;
        self.handle
            .route()
            .del(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("delete route `{}`", route.text), &e))
    }

    pub(crate) async fn add_neigh(&self, index: u32, n: &StaticNeigh) -> Result<(), NlError> {
        let mut req = self
            .handle
            .neighbours()
            .add(index, n.to)
            .state(NeighbourState::Permanent);
        if let Some(m) = n.mac {
            req = req.link_layer_address(&m.0);
        }
        let flags = &mut req.message_mut().header.flags;
        for (on, f) in [
            (n.proxy, NeighbourFlags::Proxy),
            (n.router, NeighbourFlags::Router),
            (n.extern_learn, NeighbourFlags::ExtLearned),
        ] {
            if on {
                *flags |= f;
            }
        }
        req.execute()
            .await
            .map_err(|e| self.err(format!("add neighbour {n}"), &e))
    }

    pub(crate) async fn del_neigh(
        &self,
        index: u32,
        to: IpAddr,
        dev: &str,
        proxy: bool,
    ) -> Result<(), NlError> {
        let msg = super::neigh_message(index, to, proxy);
        self.handle
            .neighbours()
            .del(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("delete neighbour {to} dev {dev}"), &e))
    }

    /// Like `ip neigh flush dev X`: every entry of the link except permanent and noarp ones.
    pub(crate) async fn flush_neigh(&self, index: u32, dev: &str) -> Result<(), NlError> {
        for e in self.neighbour_dump(false).await? {
            if e.index == index
                && !matches!(e.state, NeighbourState::Permanent | NeighbourState::Noarp)
            {
                self.del_neigh(index, e.dst, dev, false).await?;
            }
        }
        Ok(())
    }

    /// `bridge fdb add MAC dev PORT master [static|dynamic] [sticky]`.
    /// `bridge fdb add|append MAC dev PORT [dst IP] [master|self] ...`.
    pub(crate) async fn add_fdb(&self, port_index: u32, f: &StaticFdb) -> Result<(), NlError> {
        let mut msg = NeighbourMessage::default();
        msg.header.family = AddressFamily::Bridge;
        msg.header.ifindex = port_index;
        msg.header.flags = if f.on_self {
            NeighbourFlags::Own
        } else {
            NeighbourFlags::Controller
        };
        if f.sticky {
            msg.header.flags |= NeighbourFlags::Sticky;
        }
        if f.extern_learn {
            msg.header.flags |= NeighbourFlags::ExtLearned;
        }
        msg.header.state = match f.state {
            FdbState::Static => NeighbourState::Noarp,
            FdbState::Dynamic => NeighbourState::Reachable,
            FdbState::Permanent => NeighbourState::Permanent,
        };
        msg.attributes
            .push(NeighbourAttribute::LinkLayerAddress(f.mac.0.to_vec()));
        if let Some(d) = f.dst {
            msg.attributes
                .push(NeighbourAttribute::Destination(neigh_address(d)));
        }
        if let Some(v) = f.vlan {
            msg.attributes.push(NeighbourAttribute::Vlan(v));
        }
        // EXCL for `add`, as iproute2; APPEND adds one more remote to a MAC.
        const NLM_F_APPEND: u16 = 0x800;
        let how = if f.append { NLM_F_APPEND } else { NLM_F_EXCL };
        let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewNeighbour(msg));
        req.header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | how;
        let verb = if f.append { "append" } else { "add" };
        self.ack(req)
            .await
            .map_err(|e| self.err(format!("{verb} FDB entry {} on {}", f.mac, f.port), &e))
    }

    /// Sends one request and waits for its ACK.
    async fn ack(&self, req: NetlinkMessage<RouteNetlinkMessage>) -> Result<(), rtnetlink::Error> {
        let mut handle = self.handle.clone();
        let mut response = handle.request(req)?;
        while let Some(m) = futures::StreamExt::next(&mut response).await {
            if let NetlinkPayload::Error(err) = m.payload {
                return Err(rtnetlink::Error::NetlinkError(err));
            }
        }
        Ok(())
    }

    /// `bridge fdb del MAC dev PORT [dst IP] [vlan N] [self]`; `entry` is (MAC, dst, vlan).
    pub(crate) async fn del_fdb(
        &self,
        port_index: u32,
        port: &str,
        entry: (Mac, Option<IpAddr>, Option<u16>),
        on_self: bool,
    ) -> Result<(), NlError> {
        let (mac, dst, vlan) = entry;
        let mut msg = NeighbourMessage::default();
        msg.header.family = AddressFamily::Bridge;
        msg.header.ifindex = port_index;
        msg.header.flags = if on_self {
            NeighbourFlags::Own
        } else {
            NeighbourFlags::Controller
        };
        msg.attributes
            .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
        if let Some(d) = dst {
            msg.attributes
                .push(NeighbourAttribute::Destination(neigh_address(d)));
        }
        if let Some(v) = vlan {
            msg.attributes.push(NeighbourAttribute::Vlan(v));
        }
        self.handle
            .neighbours()
            .del(msg)
            .execute()
            .await
            .map_err(|e| self.err(format!("delete FDB entry {mac} on {port}"), &e))
    }
}
