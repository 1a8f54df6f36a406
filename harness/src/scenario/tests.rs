//! Loading and resolving, no root needed: good files load, bad ones give a
//! diagnostic with the right position and a hint.

use std::path::Path;

use super::*;

const SEED: &str = include_str!("../../../scenarios/seed/bridge.yaml");

fn load(src: &str) -> Result<Scenario, LoadError> {
    load_str(Path::new("t.yaml"), "t", src)
}

/// The rendered error of a file that must not load.
fn error(src: &str) -> String {
    match load(src) {
        Ok(_) => panic!("loaded, but should have failed:\n{src}"),
        Err(e) => e.to_string(),
    }
}

fn first(src: &str) -> Diagnostic {
    load(src).expect_err("should fail").diagnostics.remove(0)
}

const BASE: &str = "nodes:
  a:
    interfaces:
      v1: { peer: b:v2, addresses: [10.0.0.1/24] }
  b:
    interfaces:
      v2: { addresses: [10.0.0.2/24] }
";

#[test]
fn the_seed_example_loads_as_designed() {
    let sc = load_str(Path::new("scenarios/seed/bridge.yaml"), "seed/bridge", SEED).unwrap();
    assert_eq!(sc.nodes.len(), 3);
    assert_eq!(sc.steps.len(), 10);
    let host = sc.node("host").unwrap();
    assert_eq!(
        host.sysctls,
        [("net.ipv4.ip_forward".to_string(), "1".to_string())]
    );
    let veth1 = host.interface("veth1").unwrap();
    assert_eq!(veth1.master.as_deref(), Some("br00"));
    assert!(
        matches!(&veth1.kind, IfKind::Veth { peer, creates: true } if peer.to_string() == "net1:vethpeer1")
    );
    let peer = sc.node("net1").unwrap().interface("vethpeer1").unwrap();
    assert!(
        matches!(&peer.kind, IfKind::Veth { creates: false, .. }),
        "the listed other end does not create a second pair"
    );
    match &sc.steps[1].action {
        Action::Ping(p) => assert_eq!(
            p.to.to_string(),
            "10.100.0.10",
            "an interface stands for its first address"
        ),
        other => panic!("{other:?}"),
    }
    match &sc.steps[2].action {
        Action::Arping(a) => assert_eq!(
            a.expect,
            ArpExpect::Mac(Mac::derived("net2", "vethpeer2"), "net2:vethpeer2".into())
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (sc.steps[7].pos.line, sc.steps[7].pos.col),
        (34, 5),
        "steps keep their position"
    );
    let route = &sc.node("net1").unwrap().routes[0];
    assert_eq!(
        (route.dst.to_string(), route.via.map(|v| v.to_string())),
        ("0.0.0.0/0".into(), Some("10.100.0.1".into()))
    );
}

#[test]
fn every_seed_scenario_loads() {
    // Where the test runs (a nextest archive may run it from another checkout).
    let harness = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    let root = harness.join("../scenarios");
    for f in [
        "seed/bridge.yaml",
        "seed/veth-pair.yaml",
        "seed/arp.yaml",
        "seed/ipv6.yaml",
    ] {
        let sc = load_file(&root, &root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(sc.name, f.trim_end_matches(".yaml"));
    }
}

#[test]
fn unknown_key_points_at_it_and_suggests_the_right_one() {
    let d = first("nodes:\n  a:\n    interfaces:\n      v1: { pear: b:v2 }\n");
    assert_eq!((d.pos.line, d.pos.col), (4, 13), "{d}");
    assert!(d.message.contains("unknown field `pear`"), "{d}");
    assert!(
        d.hint.as_deref().unwrap().contains("did you mean `peer`?"),
        "{d}"
    );
    let rendered = d.to_string();
    assert!(rendered.contains("--> t.yaml:4:13"), "{rendered}");
    assert!(
        rendered.contains("4 |       v1: { pear: b:v2 }"),
        "{rendered}"
    );
}

#[test]
fn unknown_step_lists_the_valid_ones() {
    let e = error(&format!(
        "{BASE}steps:\n  - pong: {{ from: a, to: 10.0.0.2 }}\n"
    ));
    assert!(
        e.contains("unknown field `pong`") && e.contains("did you mean `ping`?"),
        "{e}"
    );
    assert!(e.contains("t.yaml:9:5"), "{e}");
}

#[test]
fn wrong_type_is_reported_where_it_is() {
    let e = error("nodes:\n  a:\n    interfaces:\n      br: { kind: bridge, mtu: big }\n");
    assert!(
        e.contains("invalid type: string \"big\", expected u32"),
        "{e}"
    );
    assert!(e.contains("t.yaml:4:"), "{e}");
}

#[test]
fn enum_values_are_listed() {
    let e = error(&format!(
        "{BASE}steps:\n  - ping: {{ from: a, to: 10.0.0.2, expect: reachble }}\n"
    ));
    assert!(
        e.contains("did you mean `reachable`?") && e.contains("unreachable"),
        "{e}"
    );
}

#[test]
fn bad_cidr_mac_and_duration() {
    let d = first("nodes:\n  a:\n    interfaces:\n      v1: { peer: b:v2, addresses: [10.0.0.300/24] }\n  b: {}\n");
    assert!(d.message.contains("invalid CIDR `10.0.0.300/24`"), "{d}");
    assert_eq!((d.pos.line, d.pos.col), (4, 37), "{d}");
    let d = first("nodes:\n  a:\n    interfaces:\n      v1: { peer: b:v2, mac: 02:00:00:zz:00:01 }\n  b: {}\n");
    assert!(d.message.contains("invalid MAC"), "{d}");
    let d = first("nodes:\n  a:\n    interfaces:\n      v1: { peer: b:v2, mac: \"03:00:00:00:00:01\" }\n  b: {}\n");
    assert!(d.message.contains("multicast"), "{d}");
    let e = error(&format!("{BASE}steps:\n  - sleep: 2 seconds\n"));
    assert!(
        e.contains("invalid duration `2 seconds`") && e.contains("200ms"),
        "{e}"
    );
}

#[test]
fn dangling_references_suggest_the_nearest_name() {
    let d = first("nodes:\n  net1:\n    interfaces:\n      v1: { peer: nett2:v2 }\n  net2: {}\n");
    assert_eq!(d.message, "unknown node `nett2`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `net2`?"));
    assert_eq!((d.pos.line, d.pos.col), (4, 19));
    let e = error(&format!(
        "{BASE}steps:\n  - ping: {{ from: a, to: b:v3 }}\n"
    ));
    assert!(
        e.contains("unknown interface `v3` in node b") && e.contains("did you mean `b:v2`?"),
        "{e}"
    );
    let e = error(&format!(
        "{BASE}steps:\n  - ping: {{ from: c, to: 10.0.0.2 }}\n"
    ));
    assert!(e.contains("unknown node `c`"), "{e}");
    let e = error(&format!("{BASE}steps:\n  - link: {{ down: a:v9 }}\n"));
    assert!(e.contains("unknown interface `v9` in node a"), "{e}");
}

#[test]
fn interface_names_follow_the_kernel_rules() {
    let e = error("nodes:\n  a:\n    interfaces:\n      averyveryverylong0: { kind: bridge }\n");
    assert!(e.contains("18 bytes; the kernel allows at most 15"), "{e}");
    assert!(e.contains("t.yaml:4:7"), "{e}");
    let e = error("nodes:\n  a:\n    interfaces:\n      \"br/0\": { kind: bridge }\n");
    assert!(
        e.contains("invalid interface name `br/0`") && e.contains("'/'"),
        "{e}"
    );
    let e = error("nodes:\n  a:\n    interfaces:\n      \"br 0\": { kind: bridge }\n");
    assert!(e.contains("invalid interface name `br 0`"), "{e}");
    let e = error("nodes:\n  a:\n    interfaces:\n      \"..\": { kind: bridge }\n");
    assert!(e.contains("`.` and `..`"), "{e}");
}

#[test]
fn duplicate_names_are_rejected() {
    let e = error(
        "nodes:\n  a:\n    interfaces:\n      br0: { kind: bridge }\n      br0: { kind: bridge }\n",
    );
    assert!(e.contains("duplicate") && e.contains("br0"), "{e}");
    let e = error("nodes:\n  a:\n    interfaces:\n      v1: { peer: b:v2 }\n      v3: { peer: b:v2 }\n  b: {}\n");
    assert!(e.contains("a veth pair has exactly two ends"), "{e}");
    let e = error(&format!("{BASE}steps:\n  - snapshot: s\n  - snapshot: s\n"));
    assert!(e.contains("duplicate snapshot label `s`"), "{e}");
}

#[test]
fn master_must_be_a_bridge_vrf_or_bond() {
    let e = error("nodes:\n  a:\n    interfaces:\n      br0: { kind: bridge }\n      v1: { peer: b:v2, master: v3 }\n      v3: { peer: b:v4 }\n  b: {}\n");
    assert!(
        e.contains("master `v3` is not a bridge, vrf or bond (it is a veth)"),
        "{e}"
    );
    let e = error("nodes:\n  a:\n    interfaces:\n      br0: { kind: bridge }\n      v1: { peer: b:v2, master: br1 }\n  b: {}\n");
    assert!(
        e.contains("master `br1` is not an interface of node a")
            && e.contains("did you mean `br0`?"),
        "{e}"
    );
}

#[test]
fn probes_need_a_source() {
    let e = error(&format!("{BASE}steps:\n  - ping: {{ to: 10.0.0.2 }}\n"));
    assert!(
        e.contains("ping needs `from`") && e.contains("t.yaml:9:"),
        "{e}"
    );
    let e = error(&format!(
        "{BASE}steps:\n  - arping: {{ from: a, to: 10.0.0.2 }}\n"
    ));
    assert!(
        e.contains("arping needs an interface, not just node `a`") && e.contains("write `a:v1`"),
        "{e}"
    );
    let e = error(&format!(
        "{BASE}steps:\n  - arping: {{ from: a:v1, to: \"fd00::1\" }}\n"
    ));
    assert!(e.contains("ARP is IPv4 only"), "{e}");
}

#[test]
fn routes_are_checked() {
    let with_route = |r: &str| {
        format!("nodes:\n  a:\n    interfaces:\n      v1: {{ peer: b:v2, addresses: [10.0.0.1/24] }}\n    routes: [\"{r}\"]\n  b: {{}}\n")
    };
    let e = error(&with_route("default via 10.9.0.1"));
    assert!(e.contains("gateway 10.9.0.1 of route `default via 10.9.0.1` is not reachable on any interface of node a"), "{e}");
    let e = error(&with_route("10.5.0.0/16 dev v9"));
    assert!(
        e.contains("unknown interface `v9`") && e.contains("did you mean `v1`?"),
        "{e}"
    );
    let e = error(&with_route("10.5.0.0/16 via"));
    assert!(e.contains("`via` needs a value"), "{e}");
    let e = error(&with_route("10.5.0.0/16 through 10.0.0.2"));
    assert!(e.contains("unknown word `through`"), "{e}");
    let sc = load(&with_route(
        "10.5.0.0/16 via 10.0.0.2 dev v1 metric 10 table 100",
    ))
    .unwrap();
    let r = &sc.node("a").unwrap().routes[0];
    assert_eq!(
        (r.metric, r.table, r.dev.as_deref()),
        (Some(10), Some(100), Some("v1"))
    );
    let sc = load(&with_route("blackhole 10.6.0.0/16")).unwrap();
    assert_eq!(sc.node("a").unwrap().routes[0].kind, RouteType::Blackhole);
}

#[test]
fn contradictory_expectations_are_rejected() {
    let e = error(&format!("{BASE}steps:\n  - check:\n      neigh: {{ node: a, to: 10.0.0.2, present: false, mac: b:v2 }}\n"));
    assert!(e.contains("contradictory check"), "{e}");
    let e = error(&format!("{BASE}steps:\n  - check:\n      route: {{ node: a, to: default, present: false, via: 10.0.0.2 }}\n"));
    assert!(e.contains("contradictory check"), "{e}");
    let e = error(&format!(
        "{BASE}steps:\n  - link: {{ up: a:v1, down: a:v1 }}\n"
    ));
    assert!(
        e.contains("a link step is `up: node:if`, `down: node:if`, or `set: node:if`"),
        "{e}"
    );
    let e = error(&format!(
        "{BASE}steps:\n  - ping: {{ from: a, to: 10.0.0.2 }}\n    sleep: 1s\n"
    ));
    assert!(e.contains("several actions: ping, sleep"), "{e}");
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let d = first("nodes:\n  a: {\n");
    assert!(d.pos.line >= 2, "{d}");
    assert!(d.to_string().starts_with("error: "), "{d}");
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let e = load("nodes:\n  a:\n    interfaces:\n      v1: { peer: x:v2 }\n      br: { kind: bridge, addresses: [10.0.0.1/99] }\n").unwrap_err();
    assert_eq!(e.diagnostics.len(), 2, "{e}");
}

#[test]
fn sysctls_outside_net_are_refused() {
    let e = error("nodes:\n  a:\n    sysctl:\n      kernel.panic: 1\n");
    assert!(e.contains("not per network namespace"), "{e}");
}

#[test]
fn durations_parse() {
    assert_eq!(
        parse_duration("200ms"),
        Some(std::time::Duration::from_millis(200))
    );
    assert_eq!(
        parse_duration("1.5s"),
        Some(std::time::Duration::from_millis(1500))
    );
    assert_eq!(parse_duration("2"), None);
    assert_eq!(parse_duration("-1s"), None);
}

#[test]
fn a_byte_order_mark_loads() {
    let sc = load(&format!("\u{feff}{BASE}")).unwrap();
    assert_eq!(sc.nodes.len(), 2);
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let big = format!("{BASE}steps:\n{}", "  - sleep: 1ms\n".repeat(400_000));
    assert!(big.len() > 4 << 20);
    assert!(
        error(&big).contains("netspec reads at most"),
        "{}",
        error(&big)
    );
}

#[test]
fn a_slash_key_names_an_interface_with_a_dot() {
    let src = "nodes:
  a:
    sysctl:
      net/ipv4/conf/eth0.1/rp_filter: 0
    interfaces:
      eth0.1: { peer: b:eth0 }
  b:
    interfaces:
      eth0: {}
";
    let sc = load(src).unwrap();
    let p = crate::plan::plan(&sc);
    assert!(
        !p.early_sysctls["a"]
            .iter()
            .any(|(k, _)| k.contains("rp_filter")),
        "it names an interface, so it waits for the link"
    );
}

#[test]
fn a_default_name_outside_the_root_is_the_file_name() {
    let name = scenario_name(
        Path::new("/nonexistent/scenarios"),
        Path::new("/tmp/x/y.yaml"),
    );
    assert_eq!(name, "y");
}

#[test]
fn an_address_and_a_mac_name_the_node_and_interface_that_declare_them() {
    let sc = load(SEED).unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(
        sc.address_owner(ip("10.100.0.20")).map(|n| n.as_str()),
        Some("net2")
    );
    assert_eq!(
        sc.address_owner(ip("10.100.0.1")).map(|n| n.as_str()),
        Some("host")
    );
    assert_eq!(sc.address_owner(ip("10.100.0.99")), None);
    let at = IfRef {
        node: "net1".into(),
        ifname: "vethpeer1".into(),
    };
    let mac = sc.interface(&at).unwrap().mac;
    assert_eq!(sc.mac_owner(mac).unwrap().to_string(), "net1:vethpeer1");
    assert_eq!(sc.mac_owner(Mac([2, 0, 0, 0, 0, 0xfe])), None);
}

#[test]
fn route_protocols_scopes_and_preferences_read_as_iproute2_writes_them() {
    assert_eq!(RouteProto::parse("kernel"), Some(RouteProto(2)));
    assert_eq!(RouteProto::parse("bird"), Some(RouteProto(12)));
    assert_eq!(RouteProto::parse("200"), Some(RouteProto(200)));
    assert_eq!(RouteProto::parse("256"), None);
    assert_eq!(RouteProto::parse("Kernel"), None);
    assert_eq!(RouteProto(16).to_string(), "dhcp");
    assert_eq!(RouteProto(77).to_string(), "77");
    assert_eq!(RouteProto::BOOT.to_string(), "boot");
    for name in Scope::NAMES {
        assert_eq!(Scope::parse(name).unwrap().to_string(), name);
    }
    assert_eq!(Scope::from_kernel(253), Scope::Link);
    assert_eq!(Scope::from_kernel(7).to_string(), "7");
    assert_eq!(Scope::parse("global"), None);
    assert_eq!(RoutePref::parse("high"), Some(RoutePref::High));
    assert_eq!(RoutePref::Medium.to_string(), "medium");
    assert_eq!(RoutePref::parse("highest"), None);
}
