//! Verdicts of `connect`, `exec` and counter checks: pure, like the rest of `expect`.

use std::net::SocketAddr;

use super::Verdict;
use crate::netfilter::Counter;
use crate::nsexec::{Finished, Status};
use crate::probe::connect::Attempt;
use crate::probe::fmt_ms;
use crate::scenario::{Check, Connect, Connection, Exec};

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
    let mut actual = format!("{} after {}", a.outcome, fmt_ms(a.elapsed));
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
    for (name, want, got) in [
        ("stdout", &e.stdout, &f.stdout),
        ("stderr", &e.stderr, &f.stderr),
    ] {
        if let Some(m) = want {
            expected += &format!(", {name} {m}");
            passed &= m.matches(&got.text());
        }
    }
    let mut actual = format!("{} after {}", f.status, fmt_ms(f.elapsed));
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
pub(crate) fn counter(c: &Check, counters: &[Counter]) -> Verdict {
    let Check::Counter {
        node,
        what,
        packets,
        bytes,
    } = c
    else {
        unreachable!("called for counter checks")
    };
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
