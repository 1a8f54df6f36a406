//! Verdicts of `connect`, `exec` and counter checks: pure, like the rest of `expect`.

use std::net::SocketAddr;

use super::Verdict;
use crate::netfilter::Counter;
use crate::nsexec::{Finished, Status};
use crate::probe::connect::Attempt;
use crate::probe::fmt_ms;
use crate::scenario::{Connect, Connection, CounterCheck, Exec, Trace};

/// How much of a command's output a verdict shows.
const SHOWN_CHARS: usize = 2000;

/// The outcome must be the expected one; a connection must also echo its data and
/// come from the expected peer.
pub(crate) fn connect(c: &Connect, a: &Attempt, seen: Option<SocketAddr>) -> Verdict {
    let mut expected = format!(
        "{} {}/{} from {}: {}",
        c.to_label, c.proto, c.port, c.from, c.expect
    );
    if c.send > 0 && c.expect == Connection::Connected {
        expected += &format!(", {} bytes echoed", c.send);
    }
    if let Some(p) = &c.peer {
        let addr = p.addr.to_string();
        expected += &format!(", seen by the listener from {}", p.label);
        if !p.label.starts_with(&addr) && !p.label.starts_with(&format!("[{addr}]")) {
            expected += &format!(" ({addr})");
        }
    }
    // A timeout is the bound running out: say the bound, which does not vary with load.
    let took = match a.outcome {
        Connection::Timeout => c.timeout,
        _ => a.elapsed,
    };
    let mut actual = format!("{} after {}", a.outcome, fmt_ms(took));
    if let Some(l) = a.local.filter(|l| l.port() != 0) {
        actual += &format!(" (from {l})");
    }
    let mut passed = a.outcome == c.expect;
    if a.outcome == Connection::Connected && a.exchanged {
        match &a.echo_problem {
            None if c.send > 0 => actual += &format!(", {} bytes echoed", c.send),
            None => {}
            Some(p) => {
                passed = false;
                actual += &format!(", but {p}");
            }
        }
    }
    if let (Some(p), Connection::Connected) = (&c.peer, a.outcome) {
        match seen {
            Some(s) => {
                actual += &format!(", seen by the listener from {s}");
                passed &= s.ip() == p.addr && p.port.is_none_or(|port| port == s.port());
            }
            None => {
                passed = false;
                actual += ", but no netspec listener saw it (only `listen` records peers)";
            }
        }
    }
    Verdict::new(passed, expected, actual)
}

/// The exit code (0 unless given) and the output, as expected.
pub(crate) fn exec(e: &Exec, f: &Finished) -> Verdict {
    let want_exit = e.exit.unwrap_or(0);
    let mut expected = format!("`{}` in {}: exit {want_exit}", e.argv.join(" "), e.node);
    let mut passed = f.status == Status::Exited(want_exit);
    let mut incomplete = Vec::new();
    for (name, want, got) in [
        ("stdout", &e.stdout, &f.stdout),
        ("stderr", &e.stderr, &f.stderr),
    ] {
        if got.held_open {
            // The bound held, but what the stream would still have said is unknown.
            passed = false;
            incomplete.push(format!(
                "its {name} was still held open by another process after it ended"
            ));
        }
        if let Some(m) = want {
            expected += &format!(", {name} {m}");
            if got.cut() {
                // A match on a prefix may not hold on the whole (`$`, equality).
                passed = false;
                incomplete.push(format!(
                    "its {name} was cut: {} bytes, of which only the first {} were kept, so it cannot be judged",
                    got.total,
                    got.bytes.len()
                ));
            } else {
                passed &= m.matches(&got.text());
            }
        }
    }
    let mut actual = format!("{} after {}", f.status, fmt_ms(f.elapsed));
    for note in incomplete {
        actual += &format!("; {note}");
    }
    for (name, got) in [("stdout", &f.stdout), ("stderr", &f.stderr)] {
        if got.total > 0 {
            actual += &format!("\n  {name}:\n{}", indent(&got.shown(SHOWN_CHARS)));
        }
    }
    Verdict::new(passed, expected, actual)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every counter the check names must hold; a counter that is not there fails.
pub(crate) fn counter(c: &CounterCheck, counters: &[Counter]) -> Verdict {
    let CounterCheck {
        node,
        what,
        packets,
        bytes,
    } = c;
    let mut expected = format!("{what} in {node} counts");
    if let Some(p) = packets {
        expected += &format!(" {p} packets");
    }
    if let Some(b) = bytes {
        expected += &format!(" {b} bytes");
    }
    let found: Vec<&Counter> = counters.iter().filter(|x| x.what == *what).collect();
    match found.as_slice() {
        [] => {
            let names: Vec<String> = counters.iter().map(|x| x.what.to_string()).collect();
            let actual = if names.is_empty() {
                format!("{node} has no named counter (give rules a `comment` and a `counter`)")
            } else {
                format!("{node} has no {what}; it has: {}", names.join(", "))
            };
            Verdict::new(false, expected, actual)
        }
        [x] => Verdict::new(
            packets.is_none_or(|p| p.holds(x.packets)) && bytes.is_none_or(|b| b.holds(x.bytes)),
            expected,
            format!("{} packets, {} bytes", x.packets, x.bytes),
        ),
        many => Verdict::new(
            false,
            expected,
            format!(
                "{} rules share the comment; name each rule once",
                many.len()
            ),
        ),
    }
}

/// Every expected line, in order, among the logged ones (others may come between).
pub(crate) fn trace(t: &Trace, lines: &[String]) -> Verdict {
    let mut expected = format!("NFLOG group {} in {} logs", t.group, t.node);
    if t.expect.is_empty() {
        expected += " anything";
    }
    for e in &t.expect {
        expected += &format!("\n    {e}");
    }
    let mut next = 0;
    let mut matched = 0;
    for want in &t.expect {
        match lines[next..]
            .iter()
            .position(|l| crate::probe::nflog::line_matches(l, want))
        {
            Some(i) => {
                next += i + 1;
                matched += 1;
            }
            None => break,
        }
    }
    let mut actual = format!(
        "{} line{} logged in {}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        t.node
    );
    if lines.is_empty() {
        actual += " (is there an NFLOG rule for this group?)";
    }
    for l in lines {
        actual += &format!("\n    {l}");
    }
    Verdict::new(matched == t.expect.len(), expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Count, CounterRef, Peer, Proto};
    use std::time::Duration;

    fn trace(expect: &[&str]) -> Trace {
        Trace {
            node: "host".into(),
            group: 5,
            expect: expect.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn trace_lines_must_come_in_order() {
        let lines = vec![
            "HOOK=PREROUTING PHYSIN=veth1 TYPE=8".to_string(),
            "HOOK=PREROUTING PHYSIN=veth2 TYPE=0".to_string(),
        ];
        assert!(super::trace(&trace(&["PHYSIN=veth1", "PHYSIN=veth2"]), &lines).passed);
        assert!(!super::trace(&trace(&["PHYSIN=veth2", "PHYSIN=veth1"]), &lines).passed);
        assert!(!super::trace(&trace(&["PHYSIN=veth3"]), &lines).passed);
        assert!(super::trace(&trace(&[]), &lines).passed);
    }

    #[test]
    fn a_counter_must_exist_once_and_hold() {
        let c = CounterCheck {
            node: "r".into(),
            what: CounterRef::Rule("masq".into()),
            packets: Some(Count::Exactly(1)),
            bytes: None,
        };
        let one = Counter {
            what: CounterRef::Rule("masq".into()),
            packets: 1,
            bytes: 60,
        };
        assert!(counter(&c, std::slice::from_ref(&one)).passed);
        assert!(!counter(&c, &[]).passed);
        assert!(!counter(&c, &[one.clone(), one.clone()]).passed);
        let two = Counter { packets: 2, ..one };
        assert!(!counter(&c, &[two]).passed);
    }

    fn attempt(outcome: Connection) -> Attempt {
        Attempt {
            outcome,
            token: [0; 16],
            exchanged: true,
            echo_problem: None,
            local: None,
            elapsed: Duration::from_micros(300),
        }
    }

    fn client(expect: Connection, peer: Option<&str>) -> Connect {
        Connect {
            from: "a".into(),
            to: "10.0.0.2".parse().unwrap(),
            to_label: "b:eth0".into(),
            port: 80,
            proto: Proto::Tcp,
            send: 10,
            timeout: Duration::from_secs(1),
            expect,
            peer: peer.map(|p| Peer {
                addr: p.parse().unwrap(),
                port: None,
                label: p.into(),
            }),
            trace: None,
        }
    }

    #[test]
    fn a_connection_needs_its_outcome_its_echo_and_its_peer() {
        let seen = Some("10.0.0.1:4000".parse().unwrap());
        let c = client(Connection::Connected, Some("10.0.0.1"));
        assert!(connect(&c, &attempt(Connection::Connected), seen).passed);
        assert!(!connect(&c, &attempt(Connection::Refused), seen).passed);
        assert!(!connect(&c, &attempt(Connection::Connected), None).passed);
        let other = Some("10.0.0.9:4000".parse().unwrap());
        assert!(!connect(&c, &attempt(Connection::Connected), other).passed);
        let mut short = attempt(Connection::Connected);
        short.echo_problem = Some("3 of 26 bytes came back".into());
        assert!(!connect(&c, &short, seen).passed);
        let refused = client(Connection::Refused, None);
        assert!(connect(&refused, &attempt(Connection::Refused), None).passed);
        assert!(!connect(&refused, &attempt(Connection::Timeout), None).passed);
    }

    #[test]
    fn a_timeout_is_reported_as_its_bound_however_late_it_was_seen() {
        let mut late = attempt(Connection::Timeout);
        late.elapsed = Duration::from_millis(1234);
        let v = connect(&client(Connection::Refused, None), &late, None);
        assert!(
            v.actual.starts_with("timeout after 1000.000 ms"),
            "{}",
            v.actual
        );
    }
}
