//! Observations never undercount in silence: a watch counts every frame the kernel
//! delivered however many came between two reads, a tagged frame keeps its 802.1Q tag
//! on receive, and a check on an incomplete count fails. Needs root.

mod common;

use common::{outcome, PAIR};
use netspec::Outcome;

#[test]
fn a_watch_counts_every_frame_between_two_reads() {
    // 12,000 frames sent before the watch is read: more than its socket buffer holds.
    let src = format!(
        "{PAIR}steps:\n  - watch: {{ name: w, at: b:eth0, match: {{ ethertype: 0x88b5 }} }}\n  - send: {{ from: a:eth0, eth: {{ type: 0x88b5 }}, count: 12000 }}\n  - check: {{ frames: {{ watch: w, count: 12000 }} }}\n    within: 2s\n"
    );
    let out = outcome("watch-12000", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
}

#[test]
fn a_flood_cannot_pass_an_upper_bound() {
    // Once counted as 3,641 of 20,000, so that `< 5000` passed.
    let src = format!(
        "{PAIR}steps:\n  - watch: {{ name: w, at: b:eth0, match: {{ ethertype: 0x88b5 }} }}\n  - send: {{ from: a:eth0, eth: {{ type: 0x88b5 }}, count: 20000 }}\n  - check: {{ frames: {{ watch: w, count: \"< 5000\" }} }}\n"
    );
    match outcome("watch-flood", &src) {
        Outcome::Failed(f) => {
            let msg = f.to_string();
            assert!(
                msg.contains("20000 frames at b:eth0") || msg.contains("incomplete"),
                "{msg}"
            );
        }
        other => panic!("must fail, but: {other}"),
    }
}

#[test]
fn a_received_frame_keeps_its_vlan_tag() {
    // The kernel moves a received tag into metadata; the tap puts it back.
    let src = format!(
        "{PAIR}steps:\n  - watch: {{ name: tagged, at: b:eth0, match: {{ vlan: 10, direction: in }} }}\n  - watch: {{ name: outer, at: b:eth0, match: {{ ethertype: 0x8100, direction: in }} }}\n  - watch: {{ name: inner, at: b:eth0, match: {{ ethertype: 0x88b5, direction: in }} }}\n  - watch: {{ name: other, at: b:eth0, match: {{ vlan: 11 }} }}\n  - send: {{ from: a:eth0, eth: {{ type: 0x88b5, vlan: 10 }}, count: 3, seen: [b:eth0] }}\n  - check: {{ frames: {{ watch: tagged, count: 3 }} }}\n  - check: {{ frames: {{ watch: outer, count: 3 }} }}\n  - check: {{ frames: {{ watch: inner, count: 3 }} }}\n  - check: {{ frames: {{ watch: other, count: 0 }} }}\n"
    );
    let out = outcome("vlan-rx", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
    // And a wrong VLAN expectation fails, naming the tag it saw.
    let wrong = src.replace("count: 0 }", "count: 3 }");
    match outcome("vlan-rx-wrong", &wrong) {
        Outcome::Failed(f) => assert!(f.to_string().contains("0 frames at b:eth0"), "{f}"),
        other => panic!("must fail, but: {other}"),
    }
}

#[test]
fn a_tap_on_a_down_interface_sees_nothing_instead_of_failing() {
    // The kernel reports ENETDOWN once on a packet socket bound to a down interface;
    // that was taken for a broken tap, and the step failed with "Network is down".
    let src = format!(
        "{PAIR}steps:\n  - link: {{ down: b:eth0 }}\n  - ping: {{ from: a, to: 10.1.0.2, expect: unreachable, timeout: 200ms, not_seen: [b:eth0] }}\n"
    );
    let out = outcome("tap-down", &src);
    assert!(matches!(out, Outcome::Passed(_)), "{out}");
}
