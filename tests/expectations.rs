//! Every kind of expectation can fail: each scenario in tests/wrong/ has one wrong
//! expectation (its last step), and must fail with a message that names the scenario,
//! the step and its file:line, what was expected and what happened. Needs root.

use std::path::Path;

use netspec::{load_file, run, RunOptions};

/// (file, expected fragment, actual fragment)
const CASES: &[(&str, &str, &str)] = &[
    (
        "ping-reachable",
        "expected: 10.100.0.99 reachable from net1",
        "actual:   0/1 replies; no reply within 200ms",
    ),
    (
        "ping-unreachable",
        "expected: 10.100.0.20 unreachable from net1",
        "actual:   1/1 replies, rtt",
    ),
    (
        "arping-mac",
        "expected: 10.100.0.20 answered by",
        "(net2:eth0)",
    ),
    (
        "arping-unanswered",
        "expected: 10.100.0.1 unanswered",
        "(host:br0)",
    ),
    (
        "neigh-mac",
        "(host:veth2)",
        "actual:   10.100.0.20 dev eth0 lladdr",
    ),
    ("fdb-port", "on port veth2", "dev veth1 master br0"),
    (
        "route-gateway",
        "expected: route default via 10.100.0.2 in net1",
        "actual:   default via 10.100.0.1 dev eth0",
    ),
    (
        "link-down-ping",
        "expected: 10.100.0.20 reachable from net1",
        "no reply within 300ms",
    ),
    (
        "neigh-left-incomplete",
        "no reply within 300ms",
        "note: net1's neighbour entry for 10.100.0.20 on eth0 was left INCOMPLETE by an earlier step",
    ),
    (
        "neigh-left-incomplete-back",
        "no reply within 300ms",
        "note: net2's neighbour entry for 10.100.0.10 on eth0 was left INCOMPLETE by an earlier step",
    ),
    (
        "link-state",
        "expected: host:veth2 state up",
        "(still, after 100ms)",
    ),
    (
        "ping-bound",
        "expected: step 2 to finish within 500ms",
        "actual:   step 2 timed out after 500ms",
    ),
    (
        "arping-bound",
        "expected: step 2 to finish within 300ms",
        "actual:   step 2 timed out after 300ms",
    ),
    (
        "fdb-hold",
        "on port swp1 for 5s",
        "no FDB entry for",
    ),
    ("router-answers", "reachable from h1", "== r\n"),
    (
        "path",
        "expected: the request crossing h1:eth0 -> sw:swp2 -> sw:swp1 -> h2:eth0",
        "actual:   the request crossed h1:eth0 -> sw:swp1 -> sw:swp2 -> h2:eth0",
    ),
    (
        "seen",
        "expected: frames seen at sw:swp2, h3:eth0",
        "actual:   none at h3:eth0",
    ),
    (
        "not-seen",
        "expected: none at h3:eth0",
        "h3:eth0 in  02:15:9e:ed:8a:bc (h1:eth0) > ff:ff:ff:ff:ff:ff, ARP who-has 10.3.0.2",
    ),
    (
        "send-locked",
        "expected: frames seen at h2:eth0",
        "actual:   none at h2:eth0",
    ),
    (
        "frames-count",
        "expected: exactly 2 frames matching watch to-h2 at h2:eth0",
        "actual:   3 frames at h2:eth0, the latest:",
    ),
    (
        "flood-off",
        "expected: frames seen at h2:eth0",
        "actual:   none at h2:eth0",
    ),
    (
        "isolation",
        "expected: frames seen at h2:eth0",
        "actual:   none at h2:eth0",
    ),
    (
        "sticky",
        "on port swp2",
        "dev swp1 master br0 sticky static (still, after 200ms)",
    ),
    (
        "router-class-e",
        "expected: exactly 0 frames matching watch class-e at r:rp2 for 200ms",
        "actual:   5 frames at r:rp2",
    ),
    (
        "ndisc-untracked",
        "expected: router has a neighbour entry for 2001:db8:abcd:12::2 in state stale",
        "actual:   router has no neighbour entry for 2001:db8:abcd:12::2",
    ),
    (
        "garp-accept",
        "expected: h2 has a neighbour entry for 10.15.10.1 with lladdr",
        "actual:   h2 has no neighbour entry for 10.15.10.1",
    ),
    (
        "connect-closed",
        "expected: b:eth0 tcp/81 from a: connected",
        "actual:   refused after",
    ),
    (
        "connect-drop",
        "expected: b:eth0 tcp/81 from a: refused",
        "actual:   timeout after 200.",
    ),
    (
        "connect-peer",
        "seen by the listener from client:eth0 (10.22.1.2)",
        "seen by the listener from 10.22.2.1:",
    ),
    (
        "connect-udp",
        "expected: b:eth0 udp/53 from a: refused",
        "actual:   connected after",
    ),
    (
        "connect-errno",
        "expected: 10.9.0.1 tcp/80 from a: EHOSTUNREACH",
        "actual:   EINVAL after",
    ),
    (
        "counter",
        "expected: rule \"reset-81\" in b counts exactly 2 packets",
        "actual:   1 packets, 60 bytes",
    ),
    (
        "exec-output",
        "stdout containing \"host0\"",
        "stdout:\n    eth0\n    lo",
    ),
    (
        "exec-exit",
        "`sh -c ip link show nosuchlink` in a: exit 0",
        "actual:   exit 1 after",
    ),
    (
        "br-netfilter",
        "expected: c2:eth0 tcp/80 from c1: connected",
        "actual:   timeout after 3",
    ),
    (
        "dnat-peer",
        "seen by the listener from 10.17.0.1",
        "seen by the listener from 10.23.0.2:",
    ),
    (
        "connect-blackhole",
        "expected: 10.200.0.1 tcp/80 from a: connected",
        "actual:   timeout after 200.",
    ),
    (
        "carrier",
        "expected: a:eth0 state up",
        "actual:   a:eth0 state down",
    ),
    (
        "kernel-gated",
        "expected: a:eth0 state up",
        "skip step  2 check link a:eth0: not run: this kernel (",
    ),
    (
        "route-flags",
        "expected: route 10.7.0.0/24 dev eth0 (no flags) in a",
        "actual:   10.7.0.0/24 dev eth0 proto kernel scope link src 10.7.0.1 linkdown",
    ),
    (
        "route-mtu",
        "expected: h1 routes 10.17.1.2 mtu 1500",
        "mtu 1400",
    ),
    (
        "fdb-vxlan-dst",
        "expected: 00:00:00:00:00:00 on port vx dst 192.0.2.21",
        "actual:   00:00:00:00:00:00 dev vx dst 192.0.2.20 self permanent",
    ),
    (
        "fdb-flags",
        "on port p1 (no flags)",
        "dev p1 master br0 extern_learn",
    ),
    (
        "neigh-proxy",
        "expected: h has a proxy entry for 10.0.2.4 dev eth1",
        "actual:   h has no proxy entry for 10.0.2.4 dev eth1",
    ),
    (
        "neigh-flags",
        "expected: h has a neighbour entry for fd00::2 (no flags)",
        "lladdr 02:00:00:00:00:02 permanent router",
    ),
    (
        "pings",
        "expected: 3 pings as each expects",
        "a: expected 10.7.0.2 unreachable from a (no reply); got 1/1 replies",
    ),
    (
        "route-pref",
        "expected: route 2001:db8:9::/64 pref low in a",
        "metric 1024 pref high",
    ),
    (
        "nexthop-group",
        "expected: nexthop 10 group 1/2",
        "actual:   nexthop 10 group 1",
    ),
    (
        "route-multipath",
        "via 10.7.0.3 dev eth0 weight 2 in a",
        "via 10.7.0.3 dev eth0 weight 3",
    ),
    (
        "trace",
        "expected: NFLOG group 5 in host logs\n    PHYSIN=veth2 TYPE=8",
        "raw-pre HOOK=PREROUTING IN=docker0 OUT= PHYSIN=veth1 SRC=10.17.0.2 DST=10.17.0.3 PROTO=ICMP TYPE=8",
    ),
    (
        "route-lookup-blackhole",
        "expected: a routes 10.9.1.1 dev eth0",
        "actual:   a routes 10.9.1.1 (blackhole)",
    ),
    (
        "cni-ips",
        "expected: ADD net c2:eth0 succeeds, ips [10.30.0.2/24 gw 10.30.0.1]",
        "but ips [10.30.0.3/24 gw 10.30.0.1] (expected [10.30.0.2/24 gw 10.30.0.1])",
    ),
    (
        "cni-error",
        "expected: DEL net c1:eth0 fails, message containing \"not found\"",
        "actual:   succeeded: no result",
    ),
    (
        "netavark-ips",
        "expected: netavark setup c1 succeeds, ips [10.88.0.6/16 gw 10.88.0.1], interfaces [eth0 in c1]",
        "but ips [10.88.0.5/16 gw 10.88.0.1] (expected [10.88.0.6/16 gw 10.88.0.1])",
    ),
    (
        "cni-bridge-masquerade",
        "expected: 192.0.2.2 tcp/8080 from c1: connected, seen by the listener from 10.22.0.2",
        "seen by the listener from 192.0.2.1:",
    ),
    (
        "cni-portmap-hairpin",
        "expected: 192.0.2.1 tcp/8080 from web: connected, seen by the listener from 10.23.0.3",
        "seen by the listener from 10.23.0.1:",
    ),
    (
        "cni-check-route-lost",
        "expected: CHECK checked c1:eth0 succeeds",
        "actual:   failed: code 999: Expected Route {Dst:{IP:0.0.0.0 Mask:00000000} GW:<nil>} not found in routing table",
    ),
    (
        "cni-podman-firewall",
        "in host: exit 0, stdout \"2\\n\"",
        "actual:   exit 1 after",
    ),
    (
        "cni-bandwidth-rate",
        "qdisc tbf 1: root rate 5Mbit burst 12500b",
        "    qdisc tbf 1: root rate 2Mbit burst 12500b",
    ),
    (
        "netavark-teardown",
        "podman0 kept\\n\"",
        "    no podman0",
    ),
    (
        "cni-hairpin-nosnat",
        "expected: 192.0.2.1 tcp/9090 from broken: connected",
        "actual:   timeout after 500.000 ms",
    ),
    (
        "cni-host-local-wrap",
        "expected: ADD tiny d:eth0 fails, message containing \"no IP addresses available\"",
        "actual:   succeeded: interfaces [cni0, eth0 in d, veth",
    ),
    (
        "netavark-forward-flushed",
        "stdout \"-N NETAVARK_FORWARD\\n\"",
        "    -A NETAVARK_FORWARD -s 10.88.0.0/16 -j ACCEPT",
    ),
    (
        "netavark-bridge-mac",
        "stdout \"fixed\\n\"",
        "actual:   exit 1 after",
    ),
    (
        "path-twice",
        "expected: the request crossing h1:eth0 -> sw:p1 -> sw:pr -> r:r1 -> sw:pr -> sw:p2",
        "the request crossed h1:eth0 -> sw:p1 -> sw:pr -> r:r1 -> r:r1 -> sw:pr -> sw:p2 -> h2:eth0",
    ),
];

#[test]
fn every_wrong_expectation_fails_with_a_clear_message() {
    if let Some(why) = netspec::missing_privileges() {
        panic!("{why}");
    }
    let dir = Path::new("tests/wrong");
    let mut problems = Vec::new();
    for (name, expected, actual) in CASES {
        let file = dir.join(format!("{name}.yaml"));
        let src = std::fs::read_to_string(&file).unwrap();
        let sc = load_file(dir, &file).unwrap_or_else(|e| panic!("{e}"));
        // The wrong expectation is the last step.
        let last = sc.steps.last().unwrap();
        let line = src
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("  - "))
            .last()
            .unwrap()
            .0
            + 1;
        assert_eq!(last.pos.line, line);
        let msg = match run(&sc, &RunOptions::default()) {
            netspec::Outcome::Failed(f) => f.to_string(),
            other => {
                problems.push(format!(
                    "{name}: did not fail, but its last expectation is wrong: {other}"
                ));
                continue;
            }
        };
        let wanted = [
            format!("scenario {name} failed at step {}", last.index),
            format!("--> tests/wrong/{name}.yaml:{line}:"),
            expected.to_string(),
            actual.to_string(),
        ];
        for w in wanted {
            if !msg.contains(&w) {
                problems.push(format!("{name}: message lacks {w:?}:\n{msg}\n"));
            }
        }
        if last.index > 1 && !msg.contains("steps before it:\n  ok   step  1") {
            problems.push(format!(
                "{name}: message lacks the steps before it:\n{msg}\n"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
