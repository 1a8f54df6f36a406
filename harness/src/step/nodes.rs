//! Steps that run things inside nodes: listeners, clients, commands and rules.

use std::time::Instant;

use super::{timed_out, Done};
use crate::apply;
use crate::expect;
use crate::nsexec::{self, Program};
use crate::plan::Op;
use crate::probe::{connect, nflog};
use crate::sandbox::Sandbox;
use crate::scenario::{Connect, Exec, Listen, Rules, Scenario, Step, Trace};
use crate::servers::Servers;

pub(super) fn listen(sb: &Sandbox, servers: &mut Servers, l: &Listen, stop: bool) -> Done {
    if stop {
        return match servers.stop_listening(l) {
            Ok(()) => Done::ok(format!("{l} stopped")),
            Err(e) => Done::broken(&format!("a listener on {l} to stop"), e),
        };
    }
    match servers.listen(sb.ns(&l.node), l) {
        Ok(()) => Done::ok(format!("{l} listening")),
        Err(e) => Done::broken(&format!("a listener on {l}"), e),
    }
}

pub(super) fn connect(
    sb: &Sandbox,
    servers: &Servers,
    step: &Step,
    c: &Connect,
    until: Instant,
) -> Done {
    let a = match connect::connect(sb.ns(&c.from), c, until) {
        Ok(a) => a,
        Err(e) => return Done::broken("a socket in the client node", e),
    };
    // The client's deadline is the step's when that is the sooner.
    if Instant::now() >= until && a.outcome != c.expect {
        return Done::judged(timed_out(step, a.outcome.to_string()));
    }
    Done::judged(expect::connect(c, &a, servers.seen(&a.token)))
}

pub(super) fn exec(sb: &Sandbox, servers: &mut Servers, e: &Exec, until: Instant) -> Done {
    let p = Program {
        argv: e.argv.clone(),
        env: e.env.clone(),
        ..Program::default()
    };
    let what = format!("`{}` in {}", e.argv.join(" "), e.node);
    let running = match nsexec::start(sb.ns(&e.node), &e.node, &p) {
        Ok(r) => r,
        Err(err) => return Done::broken(&format!("{what} to start"), err),
    };
    if !e.background {
        return Done::judged(expect::exec(e, &running.wait(until)));
    }
    if running.has_exited() {
        let f = running.wait(until);
        return Done::broken(
            &format!("{what} to keep running in the background"),
            format!(
                "it ended at once: {}, stderr: {}",
                f.status,
                f.stderr.shown(500)
            ),
        );
    }
    servers.keep_running(what.clone(), running);
    Done::ok(format!("{what} runs in the background"))
}

pub(super) async fn rules(
    sb: &Sandbox,
    sc: &Scenario,
    node: &str,
    r: &Rules,
    error: Option<&str>,
) -> Done {
    let op = Op::Rules {
        node: node.into(),
        rules: r.clone(),
        add: true,
        file: sc.file.clone(),
    };
    let refusal = apply::exec(sb, &op).await.err().map(|e| e.to_string());
    Done::judged(expect::change(error, refusal.as_deref()))
}

/// Runs `probe` with an NFLOG tap open on the trace's node, then, if the probe passed,
/// judges the logged lines: each expected one must appear, in order.
pub(super) async fn traced(sb: &Sandbox, t: Option<&Trace>, probe: impl FnOnce() -> Done) -> Done {
    let Some(t) = t else {
        return probe();
    };
    let tap = match nflog::open(sb.ns(&t.node), t.group) {
        Ok(tap) => tap,
        Err(e) => return Done::broken(&format!("an NFLOG tap in {}", t.node), e),
    };
    let mut done = probe();
    if !done.verdict.passed {
        return done;
    }
    let drained = match tap.drain() {
        Ok(l) => l,
        Err(e) => return Done::broken(&format!("the NFLOG lines of {}", t.node), e),
    };
    let logged = drained.logged;
    let names = match sb.nl(&t.node).links().await {
        Ok(links) => links.into_iter().map(|l| (l.index, l.name)).collect(),
        Err(e) => return Done::broken("a link dump", e),
    };
    let lines: Vec<String> = logged.iter().map(|l| nflog::describe(l, &names)).collect();
    let mut v = expect::trace(t, &lines);
    if v.passed && drained.overflowed {
        v = expect::incomplete(
            v,
            format!(
                "the NFLOG socket of {} overflowed (ENOBUFS), so some logged packets are missing",
                t.node
            ),
        );
    }
    if !v.passed {
        return Done::judged(v);
    }
    done.verdict.actual += &format!("; {}", v.actual);
    done
}
