//! Netlink rows become state: each conversion fed messages built as the kernel sends
//! them, and the hand-written parsers fed arbitrary bytes. Also what a request asks for.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    BridgePortState, BridgeStpState, InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoPortData,
    InfoVeth, InfoVxlan, LinkAttribute, LinkInfo, LinkMessage, State,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourCacheInfo, NeighbourFlags, NeighbourMessage,
    NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteMetric, RouteNextHop,
    RouteNextHopFlags, RoutePreference, RouteType,
};
use netlink_packet_route::AddressFamily;

use super::dump::{addr_state, bridge_info, kind_name, link_state, port_info, vxlan_info};
use super::neighbours::neigh_entry;
use super::ops::veth_request;
use super::routes::{blackhole_answer, hop_flags, route_state};
use super::{extack_message, neigh_message, wire, NewLink, PeerEnd};
use crate::scenario::{Mac, OperState, RoutePref};
use crate::testing::random_bytes;

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn route(family: AddressFamily, attrs: Vec<RouteAttribute>) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = family;
    m.header.table = 254;
    m.header.destination_prefix_length = 24;
    m.header.kind = RouteType::Unicast;
    m.attributes = attrs;
    m
}

#[test]
fn a_route_row_keeps_its_destination_gateway_device_and_metric() {
    let m = route(
        AddressFamily::Inet,
        vec![
            RouteAttribute::Destination(RouteAddress::Inet(v4("10.1.0.0"))),
            RouteAttribute::Gateway(RouteAddress::Inet(v4("10.0.0.1"))),
            RouteAttribute::Oif(7),
            RouteAttribute::Priority(100),
            RouteAttribute::PrefSource(RouteAddress::Inet(v4("10.0.0.2"))),
        ],
    );
    let r = route_state(m).unwrap();
    assert_eq!(r.dst.to_string(), "10.1.0.0/24");
    assert_eq!(r.via, Some(IpAddr::V4(v4("10.0.0.1"))));
    assert_eq!((r.oif, r.metric, r.table), (Some(7), Some(100), 254));
    assert_eq!(r.pref_src, Some(IpAddr::V4(v4("10.0.0.2"))));
}

#[test]
fn a_table_above_255_comes_from_its_attribute_not_the_header() {
    let mut m = route(AddressFamily::Inet, vec![RouteAttribute::Table(1000)]);
    m.header.table = 252; // RT_TABLE_COMPAT, as the kernel fills it
    assert_eq!(route_state(m).unwrap().table, 1000);
}

#[test]
fn a_default_route_has_the_zero_address_of_its_family() {
    let mut m = route(AddressFamily::Inet6, vec![]);
    m.header.destination_prefix_length = 0;
    assert_eq!(route_state(m).unwrap().dst.to_string(), "::/0");
    assert!(route_state(route(AddressFamily::Bridge, vec![])).is_none());
}

#[test]
fn the_mtu_metric_is_locked_only_by_its_own_bit() {
    let locked = |lock: u32| {
        let m = route(
            AddressFamily::Inet,
            vec![RouteAttribute::Metrics(vec![
                RouteMetric::Mtu(1400),
                RouteMetric::Lock(lock),
            ])],
        );
        let r = route_state(m).unwrap();
        assert_eq!(r.mtu, Some(1400));
        r.mtu_locked
    };
    assert!(locked(1 << 2));
    assert!(!locked(1 << 3));
}

#[test]
fn a_preference_and_route_flags_are_named_as_iproute2_names_them() {
    let mut m = route(
        AddressFamily::Inet6,
        vec![RouteAttribute::Preference(RoutePreference::High)],
    );
    m.header.flags = RouteFlags::from_bits_retain(1 | 16);
    let r = route_state(m).unwrap();
    assert_eq!(r.pref, Some(RoutePref::High));
    assert_eq!(r.flags, vec!["dead", "linkdown"]);
    assert_eq!(hop_flags(4), vec!["onlink"]);
    assert!(hop_flags(2 | 8).is_empty());
}

#[test]
fn the_paths_of_a_multipath_route_keep_gateway_device_and_weight() {
    let mut hop = RouteNextHop::default();
    hop.interface_index = 3;
    hop.hops = 2;
    hop.flags = RouteNextHopFlags::from_bits_retain(4);
    hop.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(v4("10.0.0.9")))];
    let m = route(
        AddressFamily::Inet,
        vec![RouteAttribute::MultiPath(vec![hop])],
    );
    let r = route_state(m).unwrap();
    assert_eq!(r.hops.len(), 1);
    let h = &r.hops[0];
    assert_eq!(
        (h.via, h.oif, h.weight),
        (Some(IpAddr::V4(v4("10.0.0.9"))), 3, 3)
    );
    assert_eq!(h.flags, vec!["onlink"]);
}

#[test]
fn a_blackhole_lookup_stands_for_the_one_address_asked() {
    let r = blackhole_answer(IpAddr::V4(v4("10.9.9.9")));
    assert_eq!(r.dst.to_string(), "10.9.9.9/32");
    assert_eq!(r.kind, RouteType::BlackHole);
    assert!(r.oif.is_none() && r.via.is_none());
}

fn neighbour(family: AddressFamily, attrs: Vec<NeighbourAttribute>) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = family;
    m.header.ifindex = 4;
    m.header.state = NeighbourState::Incomplete;
    m.attributes = attrs;
    m
}

fn cache_info(updated_ticks: u32) -> NeighbourCacheInfo {
    let mut b = Vec::new();
    for v in [0u32, 0, updated_ticks, 1] {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    NeighbourCacheInfo::parse(&b).unwrap()
}

#[test]
fn a_neighbour_row_keeps_its_address_mac_state_and_age() {
    let m = neighbour(
        AddressFamily::Inet,
        vec![
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4("10.0.0.2"))),
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 9]),
            NeighbourAttribute::CacheInfo(cache_info(71)),
        ],
    );
    let e = neigh_entry(&m).unwrap();
    assert_eq!(e.dst, IpAddr::V4(v4("10.0.0.2")));
    assert_eq!(e.mac, Some(Mac([2, 0, 0, 0, 0, 9])));
    assert_eq!((e.index, e.state), (4, NeighbourState::Incomplete));
    // The kernel counts in USER_HZ ticks of 10 ms.
    assert_eq!(e.updated_ago, Some(Duration::from_millis(710)));
}

#[test]
fn a_neighbour_row_without_an_address_or_of_the_bridge_family_is_dropped() {
    assert!(neigh_entry(&neighbour(AddressFamily::Inet, vec![])).is_none());
    let bridge = neighbour(
        AddressFamily::Bridge,
        vec![NeighbourAttribute::Destination(NeighbourAddress::Inet(v4(
            "10.0.0.2",
        )))],
    );
    assert!(neigh_entry(&bridge).is_none());
}

#[test]
fn proxy_and_router_flags_are_read_and_a_short_lladdr_is_no_mac() {
    let mut m = neighbour(
        AddressFamily::Inet6,
        vec![
            NeighbourAttribute::Destination(NeighbourAddress::Inet6("fd00::1".parse().unwrap())),
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0]),
        ],
    );
    m.header.flags = NeighbourFlags::Proxy | NeighbourFlags::Router;
    let e = neigh_entry(&m).unwrap();
    assert!(e.proxy);
    assert_eq!(e.flags, vec!["router"]);
    assert_eq!(e.mac, None);
}

#[test]
fn a_neighbour_request_names_family_interface_and_proxy() {
    let m = neigh_message(9, "fd00::5".parse().unwrap(), true);
    assert_eq!(m.header.family, AddressFamily::Inet6);
    assert_eq!(m.header.ifindex, 9);
    assert!(m.header.flags.contains(NeighbourFlags::Proxy));
    let plain = neigh_message(9, IpAddr::V4(v4("10.0.0.1")), false);
    assert_eq!(plain.header.family, AddressFamily::Inet);
    assert!(!plain.header.flags.contains(NeighbourFlags::Proxy));
}

#[test]
fn a_link_row_becomes_its_name_kind_mac_state_and_port() {
    let mut m = LinkMessage::default();
    m.header.index = 5;
    m.attributes = vec![
        LinkAttribute::IfName("swp1".into()),
        LinkAttribute::Address(vec![2, 0, 0, 0, 0, 1]),
        LinkAttribute::Mtu(1400),
        LinkAttribute::OperState(State::Up),
        LinkAttribute::Controller(3),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::PortData(InfoPortData::BridgePort(vec![
                InfoBridgePort::State(BridgePortState::Forwarding),
                InfoBridgePort::Learning(true),
            ])),
        ]),
    ];
    let l = link_state(m);
    assert_eq!((l.index, l.name.as_str(), l.mtu), (5, "swp1", 1400));
    assert_eq!(l.kind.as_deref(), Some("veth"));
    assert_eq!(l.mac, Some(Mac([2, 0, 0, 0, 0, 1])));
    assert_eq!(l.oper, OperState::Up);
    assert_eq!(l.master, Some(3));
    assert_eq!(l.port_state.as_deref(), Some("forwarding"));
    assert!(l.port_flags.is_empty(), "{:?}", l.port_flags);
}

#[test]
fn port_flags_list_only_what_differs_from_a_new_port() {
    let (state, flags) = port_info(&[
        InfoBridgePort::Learning(false),
        InfoBridgePort::UnicastFlood(true),
        InfoBridgePort::Isolated(true),
        InfoBridgePort::Locked(false),
        InfoBridgePort::HairpinMode(true),
    ]);
    assert_eq!(state, None);
    assert_eq!(flags, vec!["nolearning", "isolated", "hairpin"]);
}

#[test]
fn a_bridge_reads_in_a_fixed_order_and_hides_ageing_under_stp() {
    let off = bridge_info(&[
        InfoBridge::Priority(100),
        InfoBridge::AgeingTime(30000),
        InfoBridge::StpState(BridgeStpState::Disabled),
        InfoBridge::ForwardDelay(150),
    ]);
    assert_eq!(
        off,
        "stp off ageing_time 300s forward_delay 1500ms priority 100"
    );
    let on = bridge_info(&[
        InfoBridge::AgeingTime(30000),
        InfoBridge::StpState(BridgeStpState::KernelStp),
    ]);
    assert_eq!(on, "stp on");
}

#[test]
fn a_vxlan_reads_as_iproute2_prints_it_with_its_device() {
    let (text, dev) = vxlan_info(&[
        InfoVxlan::Id(42),
        InfoVxlan::Port(4789),
        InfoVxlan::Group(v4("10.0.0.2")),
        InfoVxlan::Local(v4("10.0.0.1")),
        InfoVxlan::Link(6),
    ]);
    assert_eq!(text, "vni 42 remote 10.0.0.2 local 10.0.0.1 dstport 4789");
    assert_eq!(dev, Some(6));
}

#[test]
fn kinds_are_named_in_lower_case() {
    assert_eq!(kind_name(&InfoKind::Bridge), "bridge");
    assert_eq!(kind_name(&InfoKind::MacVlan), "macvlan");
    assert_eq!(kind_name(&InfoKind::Dummy), "dummy");
}

#[test]
fn an_address_row_prefers_the_local_address_and_reads_dad_flags() {
    let mut m = AddressMessage::default();
    m.header.index = 2;
    m.header.prefix_len = 24;
    m.attributes = vec![
        AddressAttribute::Address(IpAddr::V4(v4("10.0.0.9"))),
        AddressAttribute::Local(IpAddr::V4(v4("10.0.0.1"))),
        AddressAttribute::Flags(AddressFlags::Tentative),
    ];
    let a = addr_state(m).unwrap();
    assert_eq!(a.cidr.to_string(), "10.0.0.1/24");
    assert!(a.tentative && !a.dadfailed);
    assert!(addr_state(AddressMessage::default()).is_none());
}

#[test]
fn the_kernels_error_text_is_read_from_the_extended_ack() {
    let mut payload = vec![0u8; 16]; // the echoed request header
    payload.extend(wire::attr(
        1,
        b"sticky and permanent are mutually exclusive\0",
    ));
    assert_eq!(
        extack_message(&payload).as_deref(),
        Some("sticky and permanent are mutually exclusive")
    );
    let mut other = vec![0u8; 16];
    other.extend(wire::attr(2, b"offset"));
    assert_eq!(extack_message(&other), None);
    assert_eq!(extack_message(&[0; 10]), None);
}

/// Messages and attributes from a socket are input: any bytes end the walk cleanly,
/// and every slice handed out lies inside the buffer.
#[test]
fn no_bytes_make_the_netlink_readers_panic_or_overrun() {
    for b in random_bytes(19, 5000, 96) {
        for (_, _, payload) in wire::messages(&b) {
            assert!(payload.len() + 16 <= b.len());
        }
        let mut seen = 0;
        for (_, v) in wire::attrs(&b) {
            seen += v.len() + 4;
            assert!(seen <= b.len());
        }
        let _ = extack_message(&b);
    }
}

/// Both ends of a veth ask for one queue each way: without that, the kernel cuts the
/// real number down after registering each end, waiting for an RCU grace period under
/// rtnl (BENCHMARKS.md: explore went 6-31 % faster without those waits).
#[test]
fn a_veth_request_asks_one_queue_each_way_on_both_ends() {
    let one_queue = |attrs: &[LinkAttribute]| {
        attrs.contains(&LinkAttribute::NumTxQueues(1))
            && attrs.contains(&LinkAttribute::NumRxQueues(1))
    };
    let m = veth_request(
        &NewLink::new(7, "veth1", Mac([2, 0, 0, 0, 0, 7]), None),
        &PeerEnd {
            link: NewLink::new(8, "vethpeer1", Mac([2, 0, 0, 0, 0, 8]), None),
            node: "net1",
            netns: 3,
        },
    );
    assert!(one_queue(&m.attributes), "{:?}", m.attributes);
    let peer = m
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))) => Some(p),
                _ => None,
            }),
            _ => None,
        })
        .expect("the request carries its peer");
    assert!(one_queue(&peer.attributes), "{:?}", peer.attributes);
    assert!(peer
        .attributes
        .contains(&LinkAttribute::IfName("vethpeer1".into())));
}
