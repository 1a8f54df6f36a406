//! Steps that run things inside nodes: listeners, clients, commands and rules.

use std::time::Instant;

use super::{timed_out, Done};
use crate::expect;
use crate::netfilter;
use crate::nsexec::{self, Program};
use crate::probe::connect;
use crate::sandbox::Sandbox;
use crate::scenario::{Connect, Exec, Listen, Rules, Scenario, Step};
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
        stdin: None,
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

pub(super) fn rules(
    sb: &Sandbox,
    sc: &Scenario,
    node: &str,
    r: &Rules,
    error: Option<&str>,
) -> Done {
    let refusal = netfilter::apply(sb, node, r, true, sc)
        .err()
        .map(|e| e.to_string());
    Done::judged(expect::change(error, refusal.as_deref()))
}
