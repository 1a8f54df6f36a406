//! Expectations turned around: a scenario whose step N expects the opposite of what it
//! did. A scenario that passes must fail at step N once that step is flipped; if it
//! passes anyway, the step's expectation could not fail, and asserted nothing.
//! `tests/mutants.rs` runs every flippable step of the ported selftests this way.

use crate::scenario::{
    Action, ArpExpect, ChangeStep, Check, CheckStep, CniErrorExpect, CniExpect, Connection, Count,
    CounterCheck, FdbCheck, FramesCheck, LinkCheck, NeighCheck, NexthopCheck, Ping, Reach,
    RouteCheck, Scenario, Step, VlanCheck, Wait,
};

/// The scenario with step `index` (1-based) flipped and the steps after it dropped, or
/// None when that step expects nothing that can be turned around (a snapshot, a sleep,
/// a link going down).
pub fn flip_step(sc: &Scenario, index: usize) -> Option<Scenario> {
    let step = sc.steps.iter().find(|s| s.index == index)?;
    let flipped = flip(step)?;
    let mut out = sc.clone();
    out.steps.retain(|s| s.index < index);
    out.steps.push(flipped);
    Some(out)
}

/// The step expecting the opposite outcome, if it has an expectation to turn around.
pub fn flip(step: &Step) -> Option<Step> {
    let action = match &step.action {
        Action::Ping(p) => Action::Ping(flip_ping(p)),
        Action::Pings(list) => Action::Pings(list.iter().map(flip_ping).collect()),
        Action::Arping(a) => {
            let mut a = a.clone();
            a.expect = match a.expect {
                ArpExpect::Unanswered => ArpExpect::Answered,
                _ => ArpExpect::Unanswered,
            };
            Action::Arping(a)
        }
        Action::Send(s) if !(s.observe.seen.is_empty() && s.observe.not_seen.is_empty()) => {
            let mut s = s.clone();
            std::mem::swap(&mut s.observe.seen, &mut s.observe.not_seen);
            Action::Send(s)
        }
        Action::Change(ChangeStep { change, error }) => Action::Change(ChangeStep {
            change: change.clone(),
            // Refused with any message, or accepted.
            error: match error {
                Some(_) => None,
                None => Some(String::new()),
            },
        }),
        // Not (it comes to hold within D) is (its opposite holds for all of D), and back.
        Action::Check(CheckStep { check, wait }) => Action::Check(CheckStep {
            check: flip_check(check)?,
            wait: match *wait {
                Wait::Now => Wait::Now,
                Wait::Within(d) => Wait::For(d),
                Wait::For(d) => Wait::Within(d),
            },
        }),
        Action::Connect(c) => {
            let mut c = c.clone();
            c.expect = match c.expect {
                Connection::Connected => Connection::Refused,
                _ => Connection::Connected,
            };
            c.peer = None;
            Action::Connect(c)
        }
        Action::Exec(x) if !x.background => {
            let mut x = x.clone();
            x.exit = Some(match x.exit.unwrap_or(0) {
                0 => 1,
                _ => 0,
            });
            Action::Exec(x)
        }
        // Success becomes any failure, and an expected failure becomes success.
        Action::Cni(c) => {
            let mut c = c.clone();
            c.expect = flip_tool(&c.expect);
            Action::Cni(c)
        }
        Action::Netavark(n) => {
            let mut n = n.clone();
            n.expect = flip_tool(&n.expect);
            Action::Netavark(n)
        }
        _ => return None,
    };
    Some(Step {
        action,
        ..step.clone()
    })
}

fn flip_tool(e: &CniExpect) -> CniExpect {
    match e.error {
        Some(_) => CniExpect::default(),
        None => CniExpect {
            error: Some(CniErrorExpect::default()),
            ..CniExpect::default()
        },
    }
}

/// Reachable becomes unreachable and back; a reason belongs to the old expectation.
fn flip_ping(p: &Ping) -> Ping {
    Ping {
        expect: match p.expect {
            Reach::Reachable => Reach::Unreachable,
            Reach::Unreachable => Reach::Reachable,
        },
        reason: None,
        ..p.clone()
    }
}

fn flip_check(c: &Check) -> Option<Check> {
    let mut c = c.clone();
    match &mut c {
        Check::Neigh(NeighCheck { present, .. })
        | Check::Fdb(FdbCheck { present, .. })
        | Check::Route(RouteCheck { present, .. })
        | Check::Nexthop(NexthopCheck { present, .. })
        | Check::Link(LinkCheck { present, .. })
        | Check::Vlan(VlanCheck { present, .. }) => *present = !*present,
        Check::Frames(FramesCheck { count, .. }) => *count = negate(*count)?,
        Check::Counter(CounterCheck { packets, bytes, .. }) => {
            if let Some(p) = packets {
                *p = negate(*p)?;
            } else if let Some(b) = bytes {
                *b = negate(*b)?;
            } else {
                return None;
            }
        }
    }
    Some(c)
}

/// A count that the observed number cannot satisfy if it satisfied `c`; None for
/// `at least 0`, which every number satisfies.
fn negate(c: Count) -> Option<Count> {
    Some(match c {
        Count::Exactly(0) => Count::AtLeast(1),
        Count::Exactly(n) | Count::AtLeast(n) if n > 0 => Count::AtMost(n - 1),
        Count::AtLeast(_) => return None,
        Count::AtMost(n) => Count::AtLeast(n + 1),
        Count::Exactly(_) => unreachable!("0 is matched above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_turn_into_their_complement() {
        assert_eq!(negate(Count::Exactly(0)), Some(Count::AtLeast(1)));
        assert_eq!(negate(Count::Exactly(5)), Some(Count::AtMost(4)));
        assert_eq!(negate(Count::AtLeast(1)), Some(Count::AtMost(0)));
        assert_eq!(negate(Count::AtLeast(0)), None);
        assert_eq!(negate(Count::AtMost(2)), Some(Count::AtLeast(3)));
    }

    #[test]
    fn a_step_turns_around_and_the_rest_is_dropped() {
        let src = "
nodes:
  a:
    interfaces:
      eth0: { peer: b:eth0, addresses: [10.0.0.1/24] }
  b:
    interfaces:
      eth0: { addresses: [10.0.0.2/24] }
steps:
  - ping: { from: a, to: 10.0.0.2 }
  - snapshot: s
  - check:
      route: { node: a, to: 10.0.0.0/24 }
  - ping: { from: a, to: 10.0.0.9, expect: unreachable }
";
        let sc = crate::scenario::load_str("m.yaml".as_ref(), "m", src).unwrap();
        assert!(flip_step(&sc, 2).is_none(), "a snapshot has no expectation");
        let m = flip_step(&sc, 3).unwrap();
        assert_eq!(m.steps.len(), 3);
        assert!(matches!(
            &m.steps[2].action,
            Action::Check(CheckStep {
                check: Check::Route(RouteCheck { present: false, .. }),
                ..
            })
        ));
        let m = flip_step(&sc, 1).unwrap();
        assert!(matches!(&m.steps[0].action, Action::Ping(p) if p.expect == Reach::Unreachable));
    }
}
