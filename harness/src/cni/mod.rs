//! Container networking through its real tools, driven the way a runtime drives them:
//! CNI plugins over the exec protocol (ADD in order, chained with `prevResult`; CHECK
//! and DEL with the cached result; DEL in reverse), and netavark's `setup`/`teardown`.
//! At teardown, what was attached and not removed is removed, newest first, as a
//! runtime does when a container goes; a removal that fails fails the run.
//!
//! Each tool runs in the host node under netspec's init (see `exec`), so its iptables
//! and nft rules land in that node, and IPAM state lives in the run's private tmpfs.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use serde_json::Value;

mod exec;
mod netavark;
mod verify;

use crate::expect::{self, Verdict};
use crate::sandbox::Sandbox;
use crate::scenario::{CniAttachment, CniCommand, CniExpect, NetavarkStep, Scenario};
use crate::scratch::Scratch;
use crate::state::Aliases;
use crate::tool_answer::{Answer, ToolError, ToolResult};

/// How long a removal at teardown may take.
const TEARDOWN_BOUND: Duration = Duration::from_secs(30);

/// The tools the scenario runs that this machine lacks: a skip, naming the package.
pub(crate) fn missing_tools(sc: &Scenario) -> Option<crate::error::Skip> {
    let netavark = sc
        .steps
        .iter()
        .any(|s| matches!(s.action, crate::scenario::Action::Netavark(_)));
    if netavark && netavark::find_netavark().is_none() {
        return Some(crate::error::Skip {
            reason: "the scenario runs netavark, which is not installed (Debian package netavark, or set NETSPEC_NETAVARK)".into(),
        });
    }
    let used = sc
        .nodes
        .iter()
        .flat_map(|n| n.cni.iter().map(|a| &a.network))
        .chain(sc.steps.iter().filter_map(|s| match &s.action {
            crate::scenario::Action::Cni(c) => Some(&c.attachment.network),
            _ => None,
        }));
    let mut binaries: Vec<String> = Vec::new();
    for name in used {
        if let Some(net) = sc.cni.iter().find(|n| &n.name == name) {
            binaries.extend(net.binaries());
        }
    }
    let missing = binaries
        .into_iter()
        .find(|b| exec::find_plugin(b).is_none())?;
    Some(crate::error::Skip {
        reason: format!(
            "the scenario needs the CNI plugin `{missing}`, not found in {} (Debian package containernetworking-plugins, or set NETSPEC_CNI_PATH)",
            exec::dirs_text(&exec::plugin_dirs())
        ),
    })
}

/// What one command over a network's plugins gave.
struct Invoked {
    reply: Result<Option<Value>, ToolError>,
    stderr: String,
    tool_time: Duration,
}

/// A step that could not be judged: the tool could not even run.
fn broken(expected: &str, e: impl std::fmt::Display) -> Verdict {
    Verdict {
        passed: false,
        expected: expected.to_string(),
        actual: format!("error: {e}"),
    }
}

/// The run's container-networking state.
#[derive(Debug, Default)]
pub(crate) struct Cni {
    scratch: Option<Scratch>,
    /// Successful ADDs not yet deleted, oldest first, with their final result.
    attached: Vec<(CniAttachment, Value)>,
    /// Successful netavark setups not yet torn down, oldest first.
    set_up: Vec<NetavarkStep>,
    aliases: Aliases,
}

impl Cni {
    pub(crate) fn aliases(&self) -> &Aliases {
        &self.aliases
    }

    fn scratch_fd(&mut self) -> Result<RawFd, String> {
        if self.scratch.is_none() {
            let s = Scratch::new().map_err(|e| format!("the run's private folder: {e}"))?;
            self.scratch = Some(s);
        }
        Ok(self.scratch.as_ref().map(Scratch::raw_fd).unwrap_or(-1))
    }

    fn cached(&self, att: &CniAttachment) -> Option<&Value> {
        self.attached
            .iter()
            .rev()
            .find(|(a, _)| same_attachment(a, att))
            .map(|(_, r)| r)
    }

    /// Runs `command` over the network's plugins, as libcni does: ADD in order, each
    /// given the one before's result; CHECK in order and DEL in reverse, each given
    /// the ADD's. The first failure ends it.
    fn invoke(
        &mut self,
        sb: &Sandbox,
        sc: &Scenario,
        command: CniCommand,
        att: &CniAttachment,
        until: Instant,
    ) -> Result<Invoked, String> {
        let net = sc
            .cni
            .iter()
            .find(|n| n.name == att.network)
            .ok_or_else(|| format!("no CNI network `{}`", att.network))?;
        let held = [sb.ns(&att.container).raw_fd(), self.scratch_fd()?];
        let cached = self.cached(att).cloned();
        let mut order: Vec<_> = net.plugins.iter().collect();
        if command == CniCommand::Del {
            order.reverse();
        }
        let mut prev = cached;
        let mut stderr = String::new();
        let mut tool_time = Duration::ZERO;
        for plugin in order {
            let config = exec::plugin_config(net, plugin, att, prev.as_ref());
            let run = exec::run_plugin(sb.ns(&att.host), att, command, &config, held, until)?;
            tool_time += run.finished.elapsed;
            if run.finished.stderr.total > 0 {
                stderr += &format!(
                    "    {}: {}\n",
                    run.ty,
                    run.finished.stderr.shown(2000).trim_end()
                );
            }
            if let Some(e) = run.error() {
                return Ok(Invoked {
                    reply: Err(e),
                    stderr,
                    tool_time,
                });
            }
            if command == CniCommand::Add {
                match exec::add_result(&run) {
                    Ok(v) => prev = Some(v),
                    Err(e) => {
                        return Ok(Invoked {
                            reply: Err(e),
                            stderr,
                            tool_time,
                        })
                    }
                }
            }
        }
        let out = if command == CniCommand::Add {
            prev
        } else {
            None
        };
        Ok(Invoked {
            reply: Ok(out),
            stderr,
            tool_time,
        })
    }

    /// One command, judged, with the result checked against the kernel.
    pub(crate) async fn run(
        &mut self,
        sb: &Sandbox,
        sc: &Scenario,
        command: CniCommand,
        att: &CniAttachment,
        e: &CniExpect,
        until: Instant,
    ) -> Verdict {
        let what = format!("{} {att}", command.word());
        let Invoked {
            reply,
            stderr,
            tool_time,
        } = match self.invoke(sb, sc, command, att, until) {
            Ok(x) => x,
            Err(err) => return broken(&format!("{what} to run"), err),
        };
        let result = match &reply {
            Ok(Some(v)) => match ToolResult::from_cni(v) {
                Ok(r) => Ok(Some(r)),
                Err(why) => {
                    let msg = format!("the plugin's result is not a CNI result: {why}");
                    return broken(&format!("{what} to answer"), msg);
                }
            },
            Ok(None) => Ok(None),
            Err(e) => Err(e.clone()),
        };
        if let (Ok(Some(r)), CniCommand::Add) = (&result, command) {
            learn_aliases(&mut self.aliases, sc, att, r);
        }
        match (&reply, command) {
            (Ok(Some(v)), CniCommand::Add) => self.attached.push((att.clone(), v.clone())),
            (Ok(_), CniCommand::Del) => {
                if let Some(i) = self
                    .attached
                    .iter()
                    .rposition(|(a, _)| same_attachment(a, att))
                {
                    self.attached.remove(i);
                }
            }
            _ => {}
        }
        let answer =
            match check_kernel(sb, &att.container, &att.host, result, stderr, tool_time).await {
                Ok(a) => a,
                Err(done) => return done,
            };
        expect::cni(&what, e, &answer, &att.container)
    }

    /// The topology's attachments, node by node, each within `bound`: each must
    /// succeed and match the kernel.
    pub(crate) async fn attach_topology(
        &mut self,
        sb: &Sandbox,
        sc: &Scenario,
        bound: Duration,
    ) -> Result<(), (String, String)> {
        for n in &sc.nodes {
            for att in &n.cni {
                let until = Instant::now() + bound;
                let done = self
                    .run(sb, sc, CniCommand::Add, att, &CniExpect::default(), until)
                    .await;
                if !done.passed {
                    return Err((done.expected, done.actual));
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn netavark(
        &mut self,
        sb: &Sandbox,
        n: &NetavarkStep,
        until: Instant,
    ) -> Verdict {
        let what = format!(
            "netavark {} {}",
            if n.setup { "setup" } else { "teardown" },
            n.container
        );
        let fd = match self.scratch_fd() {
            Ok(fd) => fd,
            Err(e) => return broken(&format!("{what} to run"), e),
        };
        let started = Instant::now();
        let (result, stderr) = match netavark::run(sb, n, fd, until) {
            Ok(x) => x,
            Err(e) => return broken(&format!("{what} to run"), e),
        };
        let tool_time = started.elapsed();
        if result.is_ok() {
            if n.setup {
                self.set_up.push(n.clone());
            } else if let Some(i) = self.set_up.iter().rposition(|s| s.container == n.container) {
                self.set_up.remove(i);
            }
        }
        let answer = match check_kernel(sb, &n.container, &n.host, result, stderr, tool_time).await
        {
            Ok(a) => a,
            Err(done) => return done,
        };
        expect::cni(&what, &n.expect, &answer, &n.container)
    }

    /// Removes what is still attached, newest first; what failed, one line each.
    pub(crate) fn teardown(&mut self, sb: &Sandbox, sc: &Scenario) -> Vec<String> {
        let mut errors = Vec::new();
        while let Some(n) = self.set_up.pop() {
            let down = NetavarkStep { setup: false, ..n };
            let until = Instant::now() + TEARDOWN_BOUND;
            let fd = self.scratch_fd().unwrap_or(-1);
            match netavark::run(sb, &down, fd, until) {
                Ok((Ok(_), _)) => {}
                Ok((Err(e), _)) => errors.push(format!(
                    "netavark teardown of {} at the end failed: {e}",
                    down.container
                )),
                Err(e) => errors.push(format!(
                    "netavark teardown of {} at the end: {e}",
                    down.container
                )),
            }
        }
        while let Some((att, _)) = self.attached.last().cloned() {
            let until = Instant::now() + TEARDOWN_BOUND;
            match self.invoke(sb, sc, CniCommand::Del, &att, until) {
                Ok(Invoked { reply: Ok(_), .. }) => {}
                Ok(Invoked { reply: Err(e), .. }) => {
                    errors.push(format!("DEL {att} at teardown failed: {e}"))
                }
                Err(e) => errors.push(format!("DEL {att} at teardown: {e}")),
            }
            self.attached.pop();
        }
        errors
    }
}

/// Gives each host-side veth of a result that the scenario did not declare a stable
/// name for snapshots: `veth(c1:eth0)`, the container interface it leads to.
fn learn_aliases(aliases: &mut Aliases, sc: &Scenario, att: &CniAttachment, r: &ToolResult) {
    let declared = |name: &str| {
        sc.node(&att.host)
            .is_some_and(|n| n.interface(name).is_some())
    };
    let container_side = r
        .interfaces
        .iter()
        .any(|i| i.in_container && i.name == att.ifname);
    for i in r.interfaces.iter().filter(|i| !i.in_container) {
        let veth = i.name.starts_with("veth");
        if veth && container_side && !declared(&i.name) && !aliases.knows(&i.name) {
            let shown = format!("veth({}:{})", att.container, att.ifname);
            aliases.add(&att.host, &i.name, shown);
        }
    }
}

/// The answer, with what its result claims that the kernel does not have.
async fn check_kernel(
    sb: &Sandbox,
    container: &str,
    host: &str,
    result: Result<Option<ToolResult>, ToolError>,
    stderr: String,
    tool_time: Duration,
) -> Result<Answer, Verdict> {
    let kernel_disagrees = match &result {
        Ok(Some(r)) => verify::differences(sb, container, host, r)
            .await
            .map_err(|e| broken("a state dump to check the result against", e))?,
        _ => Vec::new(),
    };
    Ok(Answer {
        result,
        kernel_disagrees,
        stderr,
        tool_time,
    })
}

/// Whether two attachments are the same container interface on the same network.
fn same_attachment(a: &CniAttachment, b: &CniAttachment) -> bool {
    a.network == b.network && a.container == b.container && a.ifname == b.ifname
}
