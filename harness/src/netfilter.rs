//! Netfilter rules in a node, through the maintained user-space tools: `nft -f` for
//! nftables syntax and `iptables-restore` for iptables-save syntax, run inside the node
//! (`nsexec`). Each ruleset loads atomically. Counters are read back with
//! `nft list ruleset` and `iptables-save -c`.

use std::time::Duration;

use crate::error::{ApplyError, Skip, ToolError};
use crate::nsexec::{self, Finished, Program, Status};
use crate::sandbox::Sandbox;
use crate::scenario::{
    Action, CheckStep, CounterCheck, CounterRef, RuleTool, Rules, RulesStep, Scenario,
};

/// How long a tool may take; they answer in milliseconds.
const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The tools the scenario needs that this machine lacks: a skip, with the package.
pub(crate) fn missing_tools(sc: &Scenario) -> Option<Skip> {
    let mut tools: Vec<RuleTool> = sc
        .nodes
        .iter()
        .flat_map(|n| n.netfilter.iter().map(|r| r.tool))
        .collect();
    // A snapshot of a node with rules lists them with nft, whichever tool loaded them.
    let snapshots = sc
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Snapshot(_)));
    if snapshots && !tools.is_empty() {
        tools.push(RuleTool::Nft);
    }
    for s in &sc.steps {
        match &s.action {
            Action::Rules(RulesStep { rules, .. }) => tools.push(rules.tool),
            Action::Check(CheckStep {
                check: crate::scenario::Check::Counter(CounterCheck { .. }),
                ..
            }) => tools.push(RuleTool::Nft),
            _ => {}
        }
    }
    tools.into_iter().find_map(|t| {
        let prog = t.argv(false)[0];
        // nft's own library does nft's work where it loads (see `nft`).
        let have = nsexec::find_program(prog).is_some()
            || (t == RuleTool::Nft && crate::nftlib::available());
        (!have).then(|| Skip {
            reason: format!(
                "the scenario needs `{prog}`, which is not installed (Debian package {})",
                t.package()
            ),
        })
    })
}

/// Whether a node has rules, so that snapshots show its ruleset.
pub(crate) fn node_has_rules(sc: &Scenario, node: &str) -> bool {
    sc.node(node).is_some_and(|n| !n.netfilter.is_empty())
        || sc
            .steps
            .iter()
            .any(|s| matches!(&s.action, Action::Rules(RulesStep { node: n, .. }) if n == node))
}

/// What a tool run gave, whichever way it ran.
#[derive(Debug)]
struct ToolRun {
    ok: bool,
    /// `exit 1`, for messages.
    status: String,
    stdout: String,
    stderr: String,
}

impl ToolRun {
    /// The run, if it succeeded; else its status and error text.
    fn succeeded(self, tool: &str) -> Result<ToolRun, ToolError> {
        if self.ok {
            return Ok(self);
        }
        Err(ToolError::Failed {
            tool: tool.to_string(),
            status: self.status,
            stderr: self.stderr.trim().to_string(),
        })
    }
}

impl From<Finished> for ToolRun {
    fn from(f: Finished) -> ToolRun {
        ToolRun {
            ok: f.status == Status::Exited(0),
            status: f.status.to_string(),
            stdout: f.stdout.text(),
            stderr: f.stderr.text(),
        }
    }
}

/// nft commands through libnftables when it loads, else through the `nft` program.
fn nft(sb: &Sandbox, node: &str, commands: &str) -> Result<ToolRun, ToolError> {
    nft_as(sb, node, commands, false)
}

/// `nft` with JSON output (`nft -j`), for what netspec reads rather than shows.
fn nft_as(sb: &Sandbox, node: &str, commands: &str, json: bool) -> Result<ToolRun, ToolError> {
    match crate::nftlib::run(sb.ns(node), commands, json) {
        Some(Ok(a)) => Ok(ToolRun {
            ok: a.ok,
            status: if a.ok { "ok" } else { "refused" }.into(),
            stdout: a.output,
            stderr: a.error,
        }),
        Some(Err(source)) => Err(ToolError::Start {
            tool: "libnftables".into(),
            source,
        }),
        None => {
            let argv: &[&str] = if json {
                &["nft", "-j", "-f", "-"]
            } else {
                &["nft", "-f", "-"]
            };
            run_tool(sb, node, argv, Some(commands)).map(ToolRun::from)
        }
    }
}

fn run_tool(
    sb: &Sandbox,
    node: &str,
    argv: &[&str],
    stdin: Option<&str>,
) -> Result<Finished, ToolError> {
    let mut p = Program::new(argv);
    p.net_only = true;
    p.stdin = stdin.map(|s| s.as_bytes().to_vec());
    nsexec::run(sb.ns(node), node, &p, TOOL_TIMEOUT).map_err(|source| ToolError::Start {
        tool: argv[0].to_string(),
        source,
    })
}

/// Loads one ruleset (`add`: keep what is loaded already); `file` is the scenario's.
/// Run only by `apply::exec`, for a plan's rules and for a `netfilter` step alike.
pub(crate) fn apply(
    sb: &Sandbox,
    node: &str,
    r: &Rules,
    add: bool,
    file: &std::path::Path,
) -> Result<(), ApplyError> {
    let file = file.display();
    let refused = |line: Option<usize>, message: String| ApplyError::Rules {
        node: node.to_string(),
        at: format!("{file}:{}", line.map_or(r.pos.line, |l| r.yaml_line(l))),
        message,
    };
    let f = match r.tool {
        RuleTool::Nft => nft(sb, node, &r.text),
        _ => run_tool(sb, node, &r.tool.argv(add), Some(&r.text)).map(ToolRun::from),
    }
    .map_err(|e| refused(None, e.to_string()))?;
    if f.ok {
        return Ok(());
    }
    let err = f.stderr;
    let line = quoted_line(&r.text, &err).or_else(|| refused_line(r.tool, &err));
    let mut message = format!("{} ({}):", r.tool.argv(add)[0], f.status);
    for l in err.lines().filter(|l| !l.trim().is_empty()).take(8) {
        message += &format!("\n    {}", without_input_name(l));
    }
    Err(refused(line, message))
}

/// The line of the ruleset that the tool names in its error.
fn refused_line(tool: RuleTool, stderr: &str) -> Option<usize> {
    match tool {
        // `/dev/stdin:4:11-14: Error: ...` from the program, `/proc/self/fd/N:4:...`
        // from the library.
        RuleTool::Nft => stderr.lines().find_map(|l| {
            let mut parts = l.split(':');
            let file = parts.next()?;
            if !(file.starts_with("/dev/stdin") || file.starts_with("/proc/self/fd/")) {
                return None;
            }
            parts.next()?.parse().ok()
        }),
        // `Error occurred at line: 3`
        RuleTool::Iptables | RuleTool::Ip6tables => stderr.lines().find_map(|l| {
            l.strip_prefix("Error occurred at line: ")?
                .trim()
                .parse()
                .ok()
        }),
    }
}

/// iptables-nft finds most errors at COMMIT and names the culprit in quotes
/// (`Chain 'FOO' does not exist`): the one line of the ruleset that has it is the rule.
fn quoted_line(text: &str, stderr: &str) -> Option<usize> {
    let quoted = stderr.split('\'').nth(1).filter(|q| !q.is_empty())?;
    let mut hits = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.split_whitespace().any(|w| w == quoted));
    match (hits.next(), hits.next()) {
        (Some((i, _)), None) => Some(i + 1),
        _ => None,
    }
}

/// `/proc/self/fd/21:4:11-14: Error: ...` reads `line 4:11-14: Error: ...`.
fn without_input_name(l: &str) -> String {
    for input in ["/dev/stdin:", "/proc/self/fd/"] {
        if let Some(rest) = l.strip_prefix(input) {
            let rest = if input.ends_with(':') {
                rest
            } else {
                rest.split_once(':').map_or(rest, |(_, r)| r)
            };
            return format!("line {rest}");
        }
    }
    l.to_string()
}

/// One counter, as read from the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counter {
    pub what: CounterRef,
    pub packets: u64,
    pub bytes: u64,
}

/// Every named counter of a node: nft rules with a comment and a `counter`, and
/// iptables rules with `-m comment` plus built-in chain policies.
/// A rule is looked for in nft first; a chain policy only in iptables.
pub(crate) fn counters(
    sb: &Sandbox,
    node: &str,
    want: &CounterRef,
) -> Result<Vec<Counter>, ToolError> {
    let mut out = Vec::new();
    if matches!(want, CounterRef::Rule(_)) {
        let listed = nft_as(sb, node, "list ruleset", true)?.succeeded("nft list ruleset")?;
        out.extend(nft_counters(&listed.stdout)?);
        if out.iter().any(|c| c.what == *want) {
            return Ok(out);
        }
    }
    for save in ["iptables-save", "ip6tables-save"] {
        if nsexec::find_program(save).is_none() {
            continue;
        }
        // A save that fails is an error, not a table without counters.
        let f = ToolRun::from(run_tool(sb, node, &[save, "-c"], None)?).succeeded(save)?;
        out.extend(iptables_counters(&f.stdout));
    }
    Ok(out)
}

/// The counters of named rules, from `nft -j list ruleset`: each rule with a comment
/// and a `counter` statement. Read from JSON, so a comment's text is never taken for a
/// counter (`comment "counter packets 5 bytes 9"` on a rule without one).
fn nft_counters(json: &str) -> Result<Vec<Counter>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Listing {
        nftables: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        rule: Option<Rule>,
    }
    #[derive(serde::Deserialize)]
    struct Rule {
        comment: Option<String>,
        #[serde(default)]
        expr: Vec<Statement>,
    }
    #[derive(serde::Deserialize)]
    struct Statement {
        counter: Option<Counted>,
    }
    #[derive(serde::Deserialize)]
    struct Counted {
        packets: u64,
        bytes: u64,
    }
    if json.trim().is_empty() {
        // `nft -j` lists an empty ruleset as nothing at all.
        return Ok(Vec::new());
    }
    let listing: Listing = serde_json::from_str(json)?;
    Ok(listing
        .nftables
        .into_iter()
        .filter_map(|i| i.rule)
        .filter_map(|r| {
            let c = r.expr.into_iter().find_map(|s| s.counter)?;
            Some(Counter {
                what: CounterRef::Rule(r.comment?),
                packets: c.packets,
                bytes: c.bytes,
            })
        })
        .collect())
}

/// `*nat`, `:FORWARD DROP [1:84]`, `[3:252] -A INPUT ... --comment web ...`.
fn iptables_counters(text: &str) -> Vec<Counter> {
    let mut table = String::new();
    let mut out = Vec::new();
    let pair = |s: &str| -> Option<(u64, u64)> {
        let (p, b) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split_once(':')?;
        Some((p.parse().ok()?, b.parse().ok()?))
    };
    for l in text.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t.trim().to_string();
        } else if let Some(rest) = l.strip_prefix(':') {
            let w: Vec<&str> = rest.split_whitespace().collect();
            if let ([chain, policy, c], Some((packets, bytes))) =
                (w.as_slice(), w.get(2).and_then(|c| pair(c)))
            {
                if *policy != "-" && c.starts_with('[') {
                    out.push(Counter {
                        what: CounterRef::Policy {
                            table: table.clone(),
                            chain: chain.to_string(),
                        },
                        packets,
                        bytes,
                    });
                }
            }
        } else if l.starts_with('[') {
            let w: Vec<&str> = l.split_whitespace().collect();
            let comment = w
                .windows(2)
                .find(|x| x[0] == "--comment")
                .map(|x| x[1].trim_matches('"').to_string());
            if let (Some(c), Some((packets, bytes))) = (comment, w.first().and_then(|c| pair(c))) {
                out.push(Counter {
                    what: CounterRef::Rule(c),
                    packets,
                    bytes,
                });
            }
        }
    }
    out
}

/// A node's ruleset for snapshots: `nft list ruleset` (through libnftables where it
/// loads, as rules are loaded), without the tools' notes.
pub(crate) fn ruleset(sb: &Sandbox, node: &str) -> Result<String, ToolError> {
    let f = nft(sb, node, "list ruleset")?.succeeded("nft list ruleset")?;
    Ok(f.stdout
        .lines()
        .filter(|l| !l.trim_start().starts_with("# Warning:"))
        .map(|l| l.replace('\t', "  "))
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nft_counters_by_comment_from_json() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "inet", "name": "t", "handle": 1}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 2,
              "comment": "web", "expr": [{"match": {"op": "==", "left": {"payload":
              {"protocol": "tcp", "field": "dport"}}, "right": 80}},
              {"counter": {"packets": 3, "bytes": 180}}, {"drop": null}]}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 3,
              "expr": [{"counter": {"packets": 1, "bytes": 2}}]}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 4,
              "comment": "counter packets 5 bytes 9", "expr": [{"drop": null}]}}]}"#;
        assert_eq!(
            nft_counters(json).unwrap(),
            vec![Counter {
                what: CounterRef::Rule("web".into()),
                packets: 3,
                bytes: 180
            }],
            "no counter without a comment, and no counter read from a comment's words"
        );
        assert!(nft_counters("table inet t {").is_err());
        assert_eq!(nft_counters(" \n").unwrap(), vec![]);
    }

    #[test]
    fn reads_iptables_counters_and_policies() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [1:84]\n:DOCKER - [0:0]\n[2:120] -A INPUT -p tcp -m comment --comment web -j ACCEPT\n[5:9] -A INPUT -j ACCEPT\nCOMMIT\n";
        let c = iptables_counters(text);
        assert!(c.contains(&Counter {
            what: CounterRef::Policy {
                table: "filter".into(),
                chain: "FORWARD".into()
            },
            packets: 1,
            bytes: 84
        }));
        assert!(c.contains(&Counter {
            what: CounterRef::Rule("web".into()),
            packets: 2,
            bytes: 120
        }));
        // INPUT and FORWARD policies and the commented rule; not DOCKER (no policy).
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn finds_the_rule_a_quoted_name_points_at() {
        let text = "*filter\n-A INPUT -j FOO\nCOMMIT\n";
        let err = "iptables-restore v1.8.9 (nf_tables): Chain 'FOO' does not exist\nError occurred at line: 3\n";
        assert_eq!(quoted_line(text, err), Some(2));
        assert_eq!(quoted_line("-A X -j FOO\n-A Y -j FOO\n", err), None);
    }

    #[test]
    fn finds_the_refused_line() {
        assert_eq!(
            refused_line(RuleTool::Nft, "/dev/stdin:4:11-14: Error: syntax error"),
            Some(4)
        );
        assert_eq!(
            refused_line(RuleTool::Iptables, "iptables-restore v1.8.9 (nf_tables): Chain 'FOO' does not exist\nError occurred at line: 3\n"),
            Some(3)
        );
    }

    #[test]
    fn a_tool_that_failed_is_an_error_with_its_status_and_text() {
        let run = |ok| ToolRun {
            ok,
            status: if ok { "exit 0" } else { "exit 1" }.into(),
            stdout: "x".into(),
            stderr: "iptables-save: Permission denied\n".into(),
        };
        assert_eq!(run(true).succeeded("iptables-save").unwrap().stdout, "x");
        let e = run(false).succeeded("iptables-save").unwrap_err();
        assert_eq!(
            e.to_string(),
            "iptables-save (exit 1): iptables-save: Permission denied"
        );
    }
}
