//! Every check kind and probe verdict, judged without root, edge cases included.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::observe::Sighting;
use crate::probe::ping::Refusal;
use crate::scenario::{
    Cidr, FdbCheck, FramesCheck, IfName, IfRef, LinkCheck, NeighCheck, NeighState, NexthopCheck,
    OperState, RouteAttrs, RouteCheck, RouteProto, Scope,
};
use crate::state::{FdbKind, FdbRow, Link, Neighbour, RouteEntry, RouteKind};

const SRC: &str = "nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.0.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.0.0.2/24] }
  sw:
    interfaces:
      br0: { kind: bridge }
";

fn sc() -> Scenario {
    crate::scenario::load_str(Path::new("t.yaml"), "t", SRC).unwrap()
}

fn ping_step(expect: Reach, count: u32, reason: Option<&str>) -> Ping {
    Ping {
        from: "a".into(),
        from_if: None,
        to: "10.0.0.2".parse().unwrap(),
        to_label: "b:eth0".into(),
        count,
        timeout: Duration::from_millis(200),
        size: 56,
        df: false,
        expect,
        reason: reason.map(String::from),
        observe: Observe::default(),
        trace: None,
    }
}

fn replies(sent: u32, received: u32) -> PingResult {
    PingResult {
        sent,
        rtts: vec![Duration::from_micros(50); received as usize],
        refusal: None,
        timeout: Duration::from_millis(200),
        cut_short: false,
        id: 7,
    }
}

#[test]
fn reachable_needs_every_reply() {
    let p = ping_step(Reach::Reachable, 3, None);
    assert!(ping(&p, &replies(3, 3)).passed);
    let partial = ping(&p, &replies(3, 2));
    assert!(!partial.passed);
    assert!(
        partial.actual.starts_with("2/3 replies"),
        "{}",
        partial.actual
    );
    assert!(!ping(&p, &replies(3, 0)).passed);
}

#[test]
fn unreachable_needs_silence() {
    let p = ping_step(Reach::Unreachable, 2, None);
    assert!(ping(&p, &replies(2, 0)).passed);
    assert!(
        !ping(&p, &replies(2, 1)).passed,
        "a partial answer is not unreachable"
    );
    assert!(!ping(&p, &replies(2, 2)).passed);
}

#[test]
fn zero_probes_prove_nothing() {
    for expect in [Reach::Reachable, Reach::Unreachable] {
        let v = ping(&ping_step(expect, 1, None), &replies(0, 0));
        assert!(!v.passed, "{expect:?} passed on 0/0 replies");
    }
    // Fewer sent than asked (a count the probe could not send) is no pass either.
    assert!(!ping(&ping_step(Reach::Reachable, 5, None), &replies(1, 1)).passed);
}

#[test]
fn a_reason_must_match_the_kernels_answer() {
    let mut r = replies(1, 0);
    r.refusal = Some(Refusal::Icmp {
        from: "10.0.0.254".parse().unwrap(),
        what: "destination net unreachable".into(),
    });
    let ok = ping(
        &ping_step(Reach::Unreachable, 1, Some("net unreachable")),
        &r,
    );
    assert!(ok.passed, "{ok:?}");
    let wrong = ping(&ping_step(Reach::Unreachable, 1, Some("ENETUNREACH")), &r);
    assert!(!wrong.passed);
    assert!(
        wrong.expected.contains("because: ENETUNREACH"),
        "{}",
        wrong.expected
    );
    assert_eq!(r.answered_by().as_deref(), Some("10.0.0.254"));
}

fn arping_step(expect: ArpExpect) -> Arping {
    Arping {
        from: IfRef {
            node: "a".into(),
            ifname: "eth0".into(),
        },
        to: Ipv4Addr::new(10, 0, 0, 2),
        timeout: Duration::from_millis(200),
        expect,
        observe: Observe::default(),
    }
}

fn arp(answer: Option<Mac>, sent: u32) -> ArpResult {
    ArpResult {
        answer: answer.map(|m| (m, Duration::from_micros(30))),
        sent,
        timeout: Duration::from_millis(200),
        cut_short: false,
        src_mac: Mac([2, 0, 0, 0, 0, 1]),
    }
}

#[test]
fn arping_verdicts() {
    let sc = sc();
    let b = sc
        .interface(&IfRef {
            node: "b".into(),
            ifname: "eth0".into(),
        })
        .unwrap()
        .mac;
    let other = Mac([2, 0, 0, 0, 0, 0x99]);
    let by_b = arping(
        &arping_step(ArpExpect::Mac(b, "b:eth0".into())),
        &arp(Some(b), 1),
        &sc,
    );
    assert!(by_b.passed);
    assert!(
        by_b.actual.ends_with("(b:eth0)"),
        "owner annotated: {}",
        by_b.actual
    );
    let wrong = arping(
        &arping_step(ArpExpect::Mac(b, "b:eth0".into())),
        &arp(Some(other), 1),
        &sc,
    );
    assert!(!wrong.passed);
    assert!(arping(&arping_step(ArpExpect::Answered), &arp(Some(other), 1), &sc).passed);
    assert!(!arping(&arping_step(ArpExpect::Answered), &arp(None, 3), &sc).passed);
    assert!(arping(&arping_step(ArpExpect::Unanswered), &arp(None, 3), &sc).passed);
    assert!(!arping(&arping_step(ArpExpect::Unanswered), &arp(Some(b), 1), &sc).passed);
    assert!(
        !arping(&arping_step(ArpExpect::Unanswered), &arp(None, 0), &sc).passed,
        "silence without a request proves nothing"
    );
}

#[test]
fn change_verdicts() {
    assert!(change(None, None).passed);
    assert!(
        !change(Some("Invalid argument"), None).passed,
        "accepted, refusal expected"
    );
    assert!(
        !change(None, Some("File exists")).passed,
        "refused, acceptance expected"
    );
    assert!(
        change(
            Some("File exists"),
            Some("failed: File exists (os error 17)")
        )
        .passed
    );
    assert!(!change(Some("EINVAL"), Some("File exists")).passed);
}

fn link(name: &str, oper: OperState, master: Option<&str>) -> Link {
    Link {
        index: 0,
        name: name.into(),
        kind: Some("veth".into()),
        mac: None,
        mtu: 1500,
        oper,
        master: master.map(String::from),
        port_state: master.map(|_| "forwarding".to_string()),
        port_flags: Vec::new(),
        bridge: None,
        vxlan: None,
        macvlan_mode: None,
        vrf_table: None,
        bond: None,
        bond_port: None,
    }
}

fn node(st: NodeState) -> Observation {
    Observation::Node(st)
}

#[test]
fn proxy_entries_and_neighbour_flags() {
    let sc = sc();
    let to: IpAddr = "10.0.0.9".parse().unwrap();
    let st = NodeState {
        neigh: vec![
            Neighbour {
                dst: to,
                dev: "eth0".into(),
                mac: None,
                state: NudState::None,
                proxy: true,
                flags: vec![],
            },
            Neighbour {
                dst: to,
                dev: "eth1".into(),
                mac: Some(Mac([2, 0, 0, 0, 0, 9])),
                state: NudState::Permanent,
                proxy: false,
                flags: vec!["router"],
            },
        ],
        ..NodeState::default()
    };
    let check = |proxy, dev: Option<&str>, flags: Option<Vec<String>>, present| {
        Check::Neigh(NeighCheck {
            node: "a".into(),
            to,
            mac: None,
            state: None,
            present,
            dev: dev.map(IfName::from),
            proxy,
            flags,
        })
    };
    assert!(check_passes(
        &check(true, Some("eth0"), None, true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&check(true, Some("eth1"), None, true), st.clone(), &sc),
        "no proxy on eth1"
    );
    assert!(
        !check_passes(&check(true, None, None, false), st.clone(), &sc),
        "the proxy entry exists"
    );
    assert!(check_passes(
        &check(false, None, Some(vec!["router".into()]), true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&check(false, None, Some(vec![]), true), st.clone(), &sc),
        "it is a router"
    );
    assert!(
        !check_passes(&check(false, Some("eth0"), None, true), st, &sc),
        "eth0 has only the proxy"
    );
}

#[test]
fn neigh_checks() {
    let sc = sc();
    let to: IpAddr = "10.0.0.2".parse().unwrap();
    let mac = Mac([2, 0, 0, 0, 0, 2]);
    let entry = |state| NodeState {
        neigh: vec![Neighbour {
            dst: to,
            dev: "eth0".into(),
            mac: Some(mac),
            state,
            proxy: false,
            flags: vec![],
        }],
        ..NodeState::default()
    };
    let check = |mac: Option<Mac>, state: Option<NeighState>, present: bool| {
        Check::Neigh(NeighCheck {
            node: "a".into(),
            to,
            mac: mac.map(|m| (m, m.to_string())),
            state,
            present,
            dev: None,
            proxy: false,
            flags: None,
        })
    };
    assert!(check_passes(
        &check(Some(mac), None, true),
        entry(NudState::Reachable),
        &sc
    ));
    assert!(!check_passes(
        &check(Some(Mac([2, 0, 0, 0, 0, 3])), None, true),
        entry(NudState::Reachable),
        &sc
    ));
    assert!(check_passes(
        &check(None, Some(NeighState::Stale), true),
        entry(NudState::Stale),
        &sc
    ));
    assert!(!check_passes(
        &check(None, Some(NeighState::Reachable), true),
        entry(NudState::Failed),
        &sc
    ));
    assert!(
        !check_passes(&check(None, None, true), entry(NudState::None), &sc),
        "NUD_NONE is no entry"
    );
    assert!(check_passes(
        &check(None, None, false),
        NodeState::default(),
        &sc
    ));
    assert!(!check_passes(
        &check(None, None, false),
        entry(NudState::Failed),
        &sc
    ));
}

fn check_passes(c: &Check, st: NodeState, sc: &Scenario) -> bool {
    check(c, &node(st), sc).passed
}

#[test]
fn fdb_checks() {
    let sc = sc();
    let mac = Mac([2, 0, 0, 0, 0, 7]);
    let st = NodeState {
        fdb: vec![
            FdbRow {
                mac,
                port: "veth1".into(),
                master: Some("br0".into()),
                kind: FdbKind::Dynamic,
                dst: None,
                flags: vec![],
                vlan: None,
            },
            // A `self` entry of the port is not the bridge's.
            FdbRow {
                mac: Mac([2, 0, 0, 0, 0, 8]),
                port: "veth2".into(),
                master: None,
                kind: FdbKind::Permanent,
                dst: None,
                flags: vec![],
                vlan: None,
            },
        ],
        ..NodeState::default()
    };
    let c = |m: Mac, port: Option<&str>, present: bool| {
        Check::Fdb(FdbCheck {
            node: "sw".into(),
            mac: (m, "x".into()),
            port: port.map(IfName::from),
            present,
            dst: None,
            flags: None,
            vlan: None,
        })
    };
    assert!(check_passes(&c(mac, Some("veth1"), true), st.clone(), &sc));
    let wrong_port = check(&c(mac, Some("veth2"), true), &node(st.clone()), &sc);
    assert!(!wrong_port.passed);
    assert!(
        wrong_port.actual.contains("dev veth1 master br0"),
        "{}",
        wrong_port.actual
    );
    assert!(check_passes(&c(mac, Some("veth2"), false), st.clone(), &sc));
    assert!(!check_passes(&c(mac, None, false), st.clone(), &sc));
    assert!(
        !check_passes(&c(Mac([2, 0, 0, 0, 0, 8]), None, true), st, &sc),
        "self entries do not count"
    );
}

fn route(dst: &str, via: Option<&str>, dev: &str, table: u32) -> RouteEntry {
    RouteEntry {
        flags: Vec::new(),
        mtu: None,
        mtu_locked: false,
        kind: RouteKind::Unicast,
        dst: Cidr::parse(dst).unwrap(),
        table,
        via: via.map(|v| v.parse().unwrap()),
        dev: Some(dev.into()),
        proto: RouteProto(4),
        scope: Scope::Universe,
        src: None,
        metric: None,
        nhid: None,
        pref: None,
        hops: Vec::new(),
    }
}

/// A route through group 7 (two paths), and group 7 itself.
fn multipath_state() -> NodeState {
    use crate::state::{Hop as HopRow, NexthopRow};
    let mut r = route("10.9.0.0/24", None, "eth0", 254);
    r.dev = None;
    r.nhid = Some(7);
    r.hops = vec![
        HopRow {
            via: Some("10.0.0.1".parse().unwrap()),
            dev: Some("eth0".into()),
            weight: 1,
            flags: vec![],
        },
        HopRow {
            via: None,
            dev: Some("eth0".into()),
            weight: 3,
            flags: vec![],
        },
    ];
    NodeState {
        routes: vec![r],
        nexthops: vec![NexthopRow {
            id: 7,
            via: None,
            dev: None,
            blackhole: false,
            group: Some(vec![(1, 1), (2, 3)]),
            flags: vec![],
        }],
        ..NodeState::default()
    }
}

#[test]
fn multipath_route_checks() {
    use crate::scenario::Hop;
    let sc = sc();
    let st = multipath_state();
    let hop = |via: Option<&str>, w| Hop {
        via: via.map(|v| v.parse().unwrap()),
        dev: Some("eth0".into()),
        weight: w,
    };
    let route_check = |nhid, hops| {
        Check::Route(RouteCheck {
            node: "a".into(),
            to: Cidr::parse("10.9.0.0/24").unwrap(),
            lookup: false,
            via: None,
            dev: None,
            table: None,
            present: true,
            attrs: Box::new(RouteAttrs {
                nhid,
                hops: Some(hops),
                ..RouteAttrs::default()
            }),
            how: Default::default(),
        })
    };
    let good = vec![hop(Some("10.0.0.1"), 1), hop(None, 3)];
    assert!(check_passes(
        &route_check(Some(7), good.clone()),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&route_check(Some(8), good.clone()), st.clone(), &sc),
        "another nhid"
    );
    assert!(
        !check_passes(
            &route_check(Some(7), vec![hop(Some("10.0.0.1"), 1), hop(None, 2)]),
            st.clone(),
            &sc
        ),
        "another weight"
    );
    assert!(
        !check_passes(
            &route_check(Some(7), vec![hop(Some("10.0.0.1"), 1)]),
            st.clone(),
            &sc
        ),
        "a path missing"
    );
}

#[test]
fn nexthop_checks() {
    use crate::scenario::NexthopKind;
    let sc = sc();
    let st = multipath_state();
    let nh = |is, present| {
        Check::Nexthop(NexthopCheck {
            node: "a".into(),
            id: 7,
            present,
            is,
            flags: None,
        })
    };
    assert!(check_passes(
        &nh(Some(NexthopKind::Group(vec![(1, 1), (2, 3)])), true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(
            &nh(Some(NexthopKind::Group(vec![(1, 1), (2, 1)])), true),
            st.clone(),
            &sc
        ),
        "weights differ"
    );
    assert!(!check_passes(
        &nh(Some(NexthopKind::Blackhole { v6: false }), true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&nh(None, false), st.clone(), &sc),
        "it exists"
    );
}

#[test]
fn route_entry_checks() {
    let sc = sc();
    let st = NodeState {
        routes: vec![
            route("0.0.0.0/0", Some("10.0.0.1"), "eth0", 254),
            route("10.9.0.0/16", Some("10.0.0.3"), "eth0", 100),
        ],
        ..NodeState::default()
    };
    let c = |to: &str, via: Option<&str>, table: Option<u32>, present: bool| {
        Check::Route(RouteCheck {
            attrs: Default::default(),
            how: Default::default(),
            node: "a".into(),
            to: Cidr::parse(to).unwrap(),
            lookup: false,
            via: via.map(|v| v.parse().unwrap()),
            dev: None,
            table,
            present,
        })
    };
    assert!(check_passes(
        &c("0.0.0.0/0", Some("10.0.0.1"), None, true),
        st.clone(),
        &sc
    ));
    assert!(!check_passes(
        &c("0.0.0.0/0", Some("10.0.0.2"), None, true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&c("10.9.0.0/16", None, None, true), st.clone(), &sc),
        "it is in table 100, not main"
    );
    assert!(check_passes(
        &c("10.9.0.0/16", None, Some(100), true),
        st.clone(),
        &sc
    ));
    assert!(check_passes(
        &c("10.8.0.0/16", None, None, false),
        st.clone(),
        &sc
    ));
    assert!(!check_passes(&c("0.0.0.0/0", None, None, false), st, &sc));
}

#[test]
fn route_lookup_checks() {
    let sc = sc();
    let c = |via: Option<&str>, present: bool| {
        Check::Route(RouteCheck {
            attrs: Default::default(),
            how: Default::default(),
            node: "a".into(),
            to: Cidr::parse("10.9.1.1/32").unwrap(),
            lookup: true,
            via: via.map(|v| v.parse().unwrap()),
            dev: Some("eth0".into()),
            table: None,
            present,
        })
    };
    let found = Observation::Lookup(Some(route("10.9.0.0/16", Some("10.0.0.3"), "eth0", 254)));
    assert!(check(&c(Some("10.0.0.3"), true), &found, &sc).passed);
    assert!(!check(&c(Some("10.0.0.4"), true), &found, &sc).passed);
    assert!(!check(&c(None, false), &found, &sc).passed);
    let none = Observation::Lookup(None);
    assert!(!check(&c(None, true), &none, &sc).passed);
    let absent = Check::Route(RouteCheck {
        attrs: Default::default(),
        how: Default::default(),
        node: "a".into(),
        to: Cidr::parse("10.9.1.1/32").unwrap(),
        lookup: true,
        via: None,
        dev: None,
        table: None,
        present: false,
    });
    assert!(check(&absent, &none, &sc).passed);
    let mut blackhole = route("10.9.0.0/16", None, "lo", 254);
    blackhole.kind = RouteKind::Blackhole;
    let v = check(&c(None, true), &Observation::Lookup(Some(blackhole)), &sc);
    assert!(v.actual.contains("(blackhole)"), "{}", v.actual);
}

#[test]
fn link_checks() {
    let sc = sc();
    let st = NodeState {
        links: vec![link("veth1", OperState::Up, Some("br0"))],
        ..NodeState::default()
    };
    let dev = IfRef {
        node: "sw".into(),
        ifname: "veth1".into(),
    };
    let c = |state: Option<OperState>, master: Option<Option<&str>>, present: bool| {
        Check::Link(LinkCheck {
            dev: dev.clone(),
            present,
            state,
            port: None,
            mtu: None,
            master: master.map(|m| m.map(IfName::from)),
            active: None,
        })
    };
    assert!(check_passes(
        &c(Some(OperState::Up), None, true),
        st.clone(),
        &sc
    ));
    let down = check(
        &c(Some(OperState::Down), None, true),
        &node(st.clone()),
        &sc,
    );
    assert!(!down.passed);
    assert_eq!(down.expected, "sw:veth1 state down");
    assert!(check_passes(
        &c(None, Some(Some("br0")), true),
        st.clone(),
        &sc
    ));
    assert!(
        !check_passes(&c(None, Some(None), true), st.clone(), &sc),
        "it has a master"
    );
    assert!(
        !check_passes(&c(None, None, false), st.clone(), &sc),
        "it exists"
    );
    assert!(check_passes(
        &c(None, None, false),
        NodeState::default(),
        &sc
    ));
    let mtu = Check::Link(LinkCheck {
        dev: dev.clone(),
        present: true,
        state: None,
        port: Some(crate::scenario::PortState::Blocking),
        mtu: Some(1400),
        master: None,
        active: None,
    });
    let v = check(&mtu, &node(st), &sc);
    assert!(!v.passed);
    assert!(
        v.actual.contains("port forwarding mtu 1500"),
        "{}",
        v.actual
    );
}

#[test]
fn a_check_judged_on_the_wrong_observation_fails() {
    let sc = sc();
    let c = Check::Link(LinkCheck {
        dev: IfRef {
            node: "a".into(),
            ifname: "eth0".into(),
        },
        present: false,
        state: None,
        port: None,
        mtu: None,
        master: None,
        active: None,
    });
    assert!(!check(&c, &Observation::Lookup(None), &sc).passed);
}

fn r(s: &str) -> IfRef {
    let (node, ifname) = s.split_once(':').unwrap();
    IfRef {
        node: node.into(),
        ifname: ifname.into(),
    }
}

fn sighting(at: &str, reply: bool, seq: u16) -> Sighting {
    Sighting {
        at: r(at),
        reply,
        seq,
        outgoing: false,
        line: "frame".into(),
    }
}

#[test]
fn seen_and_not_seen() {
    let frames = [sighting("sw:swp1", false, 1), sighting("sw:swp2", true, 1)];
    let o = |seen: &[&str], not_seen: &[&str]| Observe {
        seen: seen.iter().map(|s| r(s)).collect(),
        not_seen: not_seen.iter().map(|s| r(s)).collect(),
        ..Observe::default()
    };
    assert!(observed(&o(&["sw:swp1", "sw:swp2"], &["h3:eth0"]), &frames).passed);
    let missing = observed(&o(&["h3:eth0"], &[]), &frames);
    assert!(!missing.passed);
    assert_eq!(missing.actual.lines().next(), Some("none at h3:eth0"));
    assert!(
        missing.actual.contains("sw:swp1 in  frame"),
        "{}",
        missing.actual
    );
    assert!(
        !observed(&o(&[], &["sw:swp2"]), &frames).passed,
        "a reply counts too"
    );
    assert!(
        !observed(&o(&["sw:swp1"], &[]), &[]).passed,
        "nothing seen is no pass"
    );
}

#[test]
fn paths_follow_the_first_request_and_its_reply() {
    let frames = [
        sighting("h1:eth0", false, 1),
        sighting("sw:swp1", false, 1),
        sighting("sw:swp2", false, 1),
        sighting("h2:eth0", false, 1),
        sighting("h2:eth0", true, 1),
        sighting("sw:swp2", true, 1),
        // A second request does not make the path longer.
        sighting("h1:eth0", false, 2),
    ];
    let path = |req: &[&str], rep: Option<&[&str]>| Observe {
        path: Some(req.iter().map(|s| r(s)).collect()),
        reply_path: rep.map(|v| v.iter().map(|s| r(s)).collect()),
        ..Observe::default()
    };
    let good = ["h1:eth0", "sw:swp1", "sw:swp2", "h2:eth0"];
    assert!(observed(&path(&good, None), &frames).passed);
    assert!(observed(&path(&good, Some(&["h2:eth0", "sw:swp2"])), &frames).passed);
    let swapped = observed(
        &path(&["h1:eth0", "sw:swp2", "sw:swp1", "h2:eth0"], None),
        &frames,
    );
    assert!(!swapped.passed);
    assert!(swapped
        .actual
        .starts_with("the request crossed h1:eth0 -> sw:swp1 -> sw:swp2 -> h2:eth0"));
    assert!(
        !observed(&path(&good[..3], None), &frames).passed,
        "a shorter path is wrong too"
    );
    let none = observed(&path(&good, None), &[]);
    assert!(
        none.actual.starts_with("the request crossed nowhere"),
        "{}",
        none.actual
    );
}

#[test]
fn route_attributes_must_all_hold_and_flags_exactly() {
    let mut r = route("10.7.0.0/24", None, "eth0", 254);
    r.proto = RouteProto::parse("kernel").unwrap();
    r.scope = Scope::Link;
    r.flags = vec!["linkdown"];
    let st = NodeState {
        routes: vec![r],
        ..Default::default()
    };
    let check = |attrs: RouteAttrs| RouteCheck {
        node: "a".into(),
        to: Cidr::parse("10.7.0.0/24").unwrap(),
        lookup: false,
        via: None,
        dev: None,
        table: None,
        present: true,
        attrs: Box::new(attrs),
        how: Default::default(),
    };
    let flags = |f: &[&str]| Some(f.iter().map(|s| s.to_string()).collect());
    let holds = |a: RouteAttrs| route_entry(&check(a), &st).passed;
    assert!(holds(RouteAttrs {
        flags: flags(&["linkdown"]),
        ..Default::default()
    }));
    assert!(
        !holds(RouteAttrs {
            flags: flags(&[]),
            ..Default::default()
        }),
        "[] means none"
    );
    assert!(holds(RouteAttrs {
        proto: RouteProto::parse("kernel"),
        scope: Some(Scope::Link),
        ..Default::default()
    }));
    assert!(!holds(RouteAttrs {
        proto: RouteProto::parse("static"),
        ..Default::default()
    }));
    assert!(
        !holds(RouteAttrs {
            proto: RouteProto::parse("200"),
            ..Default::default()
        }),
        "a number is a protocol too"
    );
    assert!(!holds(RouteAttrs {
        metric: Some(5),
        ..Default::default()
    }));
    let v = route_entry(
        &check(RouteAttrs {
            flags: flags(&[]),
            ..Default::default()
        }),
        &st,
    );
    assert!(
        v.actual.contains("proto kernel scope link linkdown"),
        "{}",
        v.actual
    );
}

#[test]
fn a_watch_that_lost_frames_never_passes() {
    use crate::scenario::Count;
    use crate::watches::Tally;
    let c = Check::Frames(FramesCheck {
        watch: "w".into(),
        at: IfRef {
            node: "b".into(),
            ifname: "eth0".into(),
        },
        count: Count::AtMost(5000),
    });
    let whole = Tally {
        count: 3641,
        recent: Vec::new(),
        lost: None,
    };
    assert!(check(&c, &Observation::Frames(whole.clone()), &sc()).passed);
    let lost = Tally {
        lost: Some("16359 at b:eth0".into()),
        ..whole
    };
    let v = check(&c, &Observation::Frames(lost), &sc());
    assert!(!v.passed, "a lower bound cannot pass an upper bound");
    assert!(
        v.actual
            .contains("incomplete: the kernel dropped 16359 at b:eth0"),
        "{}",
        v.actual
    );
}

#[test]
fn a_note_explains_a_verdict_without_changing_it() {
    let v = Verdict::new(false, "e".into(), "0/1 replies".into());
    let n = noted(v.clone(), &["an old entry".into()]);
    assert!(!n.passed);
    assert_eq!(n.actual, "0/1 replies\n  note: an old entry");
    assert_eq!(noted(v.clone(), &[]), v);
}

#[test]
fn pings_at_once_fail_on_any_one_and_name_it() {
    let list = [
        ping_step(Reach::Reachable, 1, None),
        ping_step(Reach::Unreachable, 1, None),
    ];
    let ok = pings(&list, &[replies(1, 1), replies(1, 0)]);
    assert!(ok.passed, "{}", ok.actual);
    assert!(
        ok.actual
            .starts_with("2 of 2 as expected; slowest reply 0.050 ms"),
        "{}",
        ok.actual
    );
    let bad = pings(&list, &[replies(1, 0), replies(1, 0)]);
    assert!(!bad.passed);
    assert!(
        bad.actual
            .starts_with("1 of 2 not as expected:\n    a: expected 10.0.0.2 reachable"),
        "{}",
        bad.actual
    );
}

#[test]
fn a_step_out_of_time_never_passes_and_says_what_it_saw() {
    let v = timed_out(3, Duration::from_millis(500), "");
    assert!(!v.passed);
    assert_eq!(v.expected, "step 3 to finish within 500ms");
    assert_eq!(v.actual, "step 3 timed out after 500ms");
    let v = timed_out(3, Duration::from_secs(2), "0/1 replies");
    assert_eq!(v.actual, "step 3 timed out after 2s (0/1 replies)");
}

#[test]
fn where_frames_went_is_judged_only_after_the_probe_passed() {
    let failed = Verdict::new(false, "e".into(), "0/1 replies".into());
    let o = Observe {
        path: Some(Vec::new()),
        ..Observe::default()
    };
    assert_eq!(with_observed(failed.clone(), &o, &[]), failed);
    let passed = Verdict::new(true, "e".into(), "1/1 replies".into());
    assert_eq!(
        with_observed(passed.clone(), &Observe::default(), &[]),
        passed,
        "nothing observed, nothing added"
    );
}

#[test]
fn a_bond_check_names_the_active_port_it_found() {
    let sc = sc();
    let mut bond = link("bond0", OperState::Up, None);
    bond.kind = Some("bond".into());
    bond.bond = Some((
        "mode active-backup miimon 100".into(),
        Some("eth1".into()),
        None,
    ));
    let st = NodeState {
        links: vec![bond],
        ..NodeState::default()
    };
    let c = |active: Option<&str>| {
        Check::Link(LinkCheck {
            dev: IfRef {
                node: "a".into(),
                ifname: "bond0".into(),
            },
            present: true,
            state: None,
            port: None,
            mtu: None,
            master: None,
            active: Some(active.map(IfName::from)),
        })
    };
    assert!(check_passes(&c(Some("eth1")), st.clone(), &sc));
    let wrong = check(&c(Some("eth0")), &node(st.clone()), &sc);
    assert!(!wrong.passed);
    assert_eq!(wrong.expected, "a:bond0 active eth0");
    assert!(wrong.actual.contains("active eth1"), "{}", wrong.actual);
    assert!(!check_passes(&c(None), st, &sc), "it has an active port");
}

#[test]
fn a_vlan_check_compares_membership_and_flags() {
    use crate::scenario::{PortVlan, VlanCheck};
    let sc = sc();
    let st = NodeState {
        vlans: vec![(
            "swp1".into(),
            vec![
                PortVlan {
                    vid: 1,
                    pvid: true,
                    untagged: true,
                },
                PortVlan {
                    vid: 10,
                    pvid: false,
                    untagged: false,
                },
            ],
        )],
        ..NodeState::default()
    };
    let c = |vid: u16, pvid: Option<bool>, present: bool| {
        Check::Vlan(VlanCheck {
            dev: IfRef {
                node: "sw".into(),
                ifname: "swp1".into(),
            },
            vid,
            pvid,
            untagged: None,
            present,
        })
    };
    assert!(check_passes(&c(1, Some(true), true), st.clone(), &sc));
    assert!(check_passes(&c(10, Some(false), true), st.clone(), &sc));
    assert!(check_passes(&c(20, None, false), st.clone(), &sc));
    let wrong = check(&c(10, Some(true), true), &node(st.clone()), &sc);
    assert!(!wrong.passed);
    assert_eq!(wrong.expected, "sw:swp1 in VLAN 10 pvid");
    assert_eq!(wrong.actual, "sw:swp1 VLANs: 1 pvid untagged, 10");
    assert!(
        !check_passes(&c(1, None, false), st, &sc),
        "it is in VLAN 1"
    );
    let none = check(&c(1, None, true), &node(NodeState::default()), &sc);
    assert!(!none.passed);
    assert_eq!(none.actual, "sw:swp1 is in no VLAN");
}

#[test]
fn a_link_change_the_link_does_not_show_is_named() {
    use crate::scenario::LinkSet;
    let mut vx = link("vx", OperState::Unknown, None);
    vx.vxlan = Some(("vni 2000 remote 192.0.2.20 dstport 4789".into(), None));
    let set = |remote: &str, mtu: Option<u32>| LinkSet {
        mtu,
        mac: None,
        master: Some(None),
        port: Default::default(),
        remote: Some(remote.parse().unwrap()),
    };
    assert_eq!(
        link_set_missing(&set("192.0.2.20", Some(1500)), Some(&vx)),
        None
    );
    assert_eq!(
        link_set_missing(&set("192.0.2.30", Some(1400)), Some(&vx)).as_deref(),
        Some("mtu 1400 (it has 1500), remote 192.0.2.30 (it has `vni 2000 remote 192.0.2.20 dstport 4789`)")
    );
    let mut port = link("swp1", OperState::Up, Some("br0"));
    port.mtu = 1500;
    let detach = LinkSet {
        mtu: None,
        mac: None,
        master: Some(None),
        port: Default::default(),
        remote: None,
    };
    assert_eq!(
        link_set_missing(&detach, Some(&port)).as_deref(),
        Some("master none (it has br0)")
    );
    assert_eq!(
        link_set_missing(&detach, None).as_deref(),
        Some("the link is gone")
    );
}
