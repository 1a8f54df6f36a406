//! Listeners, clients, commands and netfilter rules.

use super::*;

/// The most a `connect` may send: enough for any test, small enough to stay fast.
pub(super) const MAX_SEND_BYTES: i64 = 16 * 1024 * 1024;
/// What one UDP datagram carries after netspec's token (65507 is IPv4's limit).
const MAX_UDP_BYTES: u32 = 65507 - 16;
/// The default time a `connect` waits for an answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl Resolver<'_> {
    pub(super) fn port(&mut self, path: &str, port: i64) -> Option<u16> {
        match u16::try_from(port) {
            Ok(p) if p > 0 => Some(p),
            _ => {
                self.at(
                    path,
                    format!("port {port} is out of range"),
                    Some("a port is 1 to 65535".into()),
                );
                None
            }
        }
    }

    pub(super) fn listen(&mut self, path: &str, raw: &RawListen, sc: &Scenario) -> Option<Listen> {
        let node = self.node_ref(&format!("{path}.node"), &raw.node, sc)?;
        let port = self.port(&format!("{path}.port"), raw.port)?;
        Some(Listen {
            node,
            port,
            proto: raw.proto.unwrap_or(Proto::Tcp),
        })
    }

    /// The top-level `listen:` list: each one once.
    pub(super) fn listeners(&mut self, raw: &[RawListen], sc: &Scenario) -> Vec<Listen> {
        let mut out: Vec<Listen> = Vec::new();
        for (i, l) in raw.iter().enumerate() {
            let path = format!("listen.{i}");
            if l.stop.is_some() {
                self.at(
                    &format!("{path}.stop"),
                    "`stop` belongs to a `listen` step",
                    Some("a listener declared here runs for the whole scenario".into()),
                );
                continue;
            }
            if let Some(x) = self.listen(&path, l, sc) {
                if out.contains(&x) {
                    self.at(&path, format!("{x} is declared twice"), None);
                    continue;
                }
                out.push(x);
            }
        }
        out
    }

    pub(super) fn connect(
        &mut self,
        path: &str,
        raw: &RawConnect,
        sc: &Scenario,
    ) -> Option<Connect> {
        let from = self.node_ref(&format!("{path}.from"), &raw.from, sc)?;
        let to = self.target(&format!("{path}.to"), &raw.to, sc, false)?;
        let port = self.port(&format!("{path}.port"), raw.port)?;
        let send = match raw.send {
            None => 0,
            Some(n) if (0..=MAX_SEND_BYTES).contains(&n) => n as u32,
            Some(n) => {
                self.at(
                    &format!("{path}.send"),
                    format!("cannot send {n} bytes"),
                    Some(format!("give 0 to {MAX_SEND_BYTES} bytes")),
                );
                return None;
            }
        };
        let proto = raw.proto.unwrap_or(Proto::Tcp);
        if proto == Proto::Udp && send > MAX_UDP_BYTES {
            self.at(
                &format!("{path}.send"),
                format!("one UDP datagram cannot carry {send} bytes"),
                Some(format!("give at most {MAX_UDP_BYTES} (a datagram's 65507, less netspec's 16-byte token)")),
            );
            return None;
        }
        let timeout = match &raw.timeout {
            Some(t) => self.positive_duration(&format!("{path}.timeout"), t)?,
            None => CONNECT_TIMEOUT,
        };
        let expect = match raw.expect.as_deref() {
            None => Connection::Connected,
            Some(e) => self.connection(&format!("{path}.expect"), e)?,
        };
        let peer = match &raw.peer {
            Some(p) => Some(self.peer(&format!("{path}.peer"), p, sc)?),
            None => None,
        };
        if peer.is_some() && expect != Connection::Connected {
            self.at(
                &format!("{path}.peer"),
                "`peer` needs `expect: connected`",
                Some("only a connection that arrived has a peer to check".into()),
            );
            return None;
        }
        let trace = match &raw.trace {
            Some(t) => Some(self.trace(&format!("{path}.trace"), t, sc)?),
            None => None,
        };
        Some(Connect {
            trace,
            from,
            to,
            to_label: raw.to.clone(),
            port,
            proto,
            send,
            timeout,
            expect,
            peer,
        })
    }

    pub(super) fn trace(&mut self, path: &str, raw: &RawTrace, sc: &Scenario) -> Option<Trace> {
        let node = self.node_ref(&format!("{path}.node"), &raw.node, sc)?;
        let group = match raw.group {
            None => 0,
            Some(g) => match u16::try_from(g) {
                Ok(g) => g,
                Err(_) => {
                    self.at(
                        &format!("{path}.group"),
                        format!("NFLOG group {g} is out of range"),
                        Some("a group is 0 to 65535, as in `-j NFLOG --nflog-group 5`".into()),
                    );
                    return None;
                }
            },
        };
        for (i, line) in raw.expect.iter().enumerate() {
            if line.split_whitespace().next().is_none() {
                self.at(
                    &format!("{path}.expect.{i}"),
                    "an expected trace line has no words",
                    Some(
                        "give words the logged line must have, e.g. `IN=docker0 PHYSIN=veth1`"
                            .into(),
                    ),
                );
                return None;
            }
        }
        Some(Trace {
            node,
            group,
            expect: raw.expect.clone(),
        })
    }

    fn connection(&mut self, path: &str, e: &str) -> Option<Connection> {
        match e {
            "connected" => return Some(Connection::Connected),
            "refused" => return Some(Connection::Refused),
            "timeout" => return Some(Connection::Timeout),
            _ => {}
        }
        if let Some((_, n)) = ERRNO_NAMES.iter().find(|(name, _)| *name == e) {
            return Some(Connection::Errno(*n));
        }
        let words = ["connected", "refused", "timeout"]
            .into_iter()
            .chain(ERRNO_NAMES.iter().map(|(n, _)| *n));
        let hint = did_you_mean(e, words.clone())
            .map(|m| format!("did you mean `{m}`?"))
            .unwrap_or_else(|| {
                "connected, refused, timeout, or any errno name Linux defines (EHOSTUNREACH, ENOPROTOOPT, ...)".into()
            });
        self.at(
            path,
            format!("unknown connection outcome `{e}`"),
            Some(hint),
        );
        None
    }

    /// `ADDR`, `ADDR:PORT`, `[V6]:PORT`, or `node:if` for that interface's address.
    fn peer(&mut self, path: &str, s: &str, sc: &Scenario) -> Option<Peer> {
        let label = s.to_string();
        if let Ok(addr) = s.parse::<IpAddr>() {
            return Some(Peer {
                addr,
                port: None,
                label,
            });
        }
        if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
            if sa.port() == 0 {
                self.at(
                    path,
                    "port 0 is not a peer's port",
                    Some("a port is 1 to 65535".into()),
                );
                return None;
            }
            return Some(Peer {
                addr: sa.ip(),
                port: Some(sa.port()),
                label,
            });
        }
        let is_ref = s.matches(':').count() == 1
            && s.split_once(':').is_some_and(|(n, _)| sc.node(n).is_some());
        if is_ref {
            let addr = self.target(path, s, sc, false)?;
            return Some(Peer {
                addr,
                port: None,
                label,
            });
        }
        self.at(
            path,
            format!("`{s}` is not an address"),
            Some("write 10.0.0.1, 10.0.0.1:40000, [fd00::1]:40000, or node:interface".into()),
        );
        None
    }

    pub(super) fn exec(&mut self, path: &str, raw: &RawExec, sc: &Scenario) -> Option<Exec> {
        let node = self.node_ref(&format!("{path}.node"), &raw.node, sc)?;
        let argv = match (&raw.cmd, &raw.sh) {
            (Some(cmd), None) if !cmd.is_empty() => cmd.iter().map(|a| a.0.clone()).collect(),
            (None, Some(sh)) => vec!["sh".into(), "-c".into(), sh.clone()],
            (Some(_), None) => {
                self.at(
                    &format!("{path}.cmd"),
                    "`cmd` is empty",
                    Some("give the program and its arguments, e.g. [ip, link]".into()),
                );
                return None;
            }
            _ => {
                self.at(
                    path,
                    "an `exec` takes exactly one of `cmd` (a list) or `sh` (a shell line)",
                    None,
                );
                return None;
            }
        };
        for (i, a) in argv.iter().enumerate() {
            if a.contains('\0') {
                let key = if raw.cmd.is_some() {
                    format!("{path}.cmd.{i}")
                } else {
                    format!("{path}.sh")
                };
                self.at(&key, "a command cannot contain a NUL byte", None);
                return None;
            }
        }
        let env = self.exec_env(path, raw)?;
        let background = raw.background.unwrap_or(false);
        let expect = raw.expect.as_ref();
        if background && expect.is_some() {
            self.at(
                &format!("{path}.expect"),
                "a background command has no outcome to expect",
                Some("check what it does with later steps, e.g. a `connect`".into()),
            );
            return None;
        }
        let exit = match expect.and_then(|e| e.exit) {
            None => None,
            Some(c) if (0..=255).contains(&c) => Some(c as i32),
            Some(c) => {
                self.at(
                    &format!("{path}.expect.exit"),
                    format!("exit code {c} is out of range"),
                    Some("an exit code is 0 to 255".into()),
                );
                return None;
            }
        };
        let stdout = match expect.and_then(|e| e.stdout.as_ref()) {
            Some(t) => Some(self.text_match(&format!("{path}.expect.stdout"), t)?),
            None => None,
        };
        let stderr = match expect.and_then(|e| e.stderr.as_ref()) {
            Some(t) => Some(self.text_match(&format!("{path}.expect.stderr"), t)?),
            None => None,
        };
        Some(Exec {
            node,
            argv,
            env,
            background,
            exit,
            stdout,
            stderr,
        })
    }

    /// The variables a command gets besides PATH and NETSPEC_NODE, which are netspec's.
    fn exec_env(&mut self, path: &str, raw: &RawExec) -> Option<Vec<(String, String)>> {
        let mut env = Vec::new();
        for (k, v) in &raw.env {
            let ok_key = !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit());
            if v.0.contains('\0') {
                self.at(
                    &format!("{path}.env.{k}"),
                    format!("the value of the environment variable `{k}` contains a NUL byte"),
                    Some("a C string cannot carry a NUL; remove it from the value".into()),
                );
                return None;
            }
            if !ok_key || k == "PATH" || k == "NETSPEC_NODE" {
                self.at_key(
                    &format!("{path}.env.{k}"),
                    format!("cannot set the environment variable `{k}`"),
                    Some(
                        "names are letters, digits and `_`; PATH and NETSPEC_NODE are netspec's"
                            .into(),
                    ),
                );
                return None;
            }
            env.push((k.clone(), v.0.clone()));
        }
        Some(env)
    }

    pub(super) fn text_match(&mut self, path: &str, t: &RawText) -> Option<TextMatch> {
        match t {
            RawText::Equals(s) => Some(TextMatch::Equals(s.clone())),
            RawText::Contains(s) => Some(TextMatch::Contains(s.clone())),
            RawText::Regex(r) => match regex::RegexBuilder::new(r)
                .multi_line(true)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) => Some(TextMatch::Regex(re)),
                Err(e) => {
                    let text = e.to_string();
                    let last = text.lines().last().unwrap_or_default();
                    let first = last.trim_start_matches("error: ").to_string();
                    self.at(
                        path,
                        format!("invalid regex: {first}"),
                        Some("the syntax is Rust's `regex` crate".into()),
                    );
                    None
                }
            },
        }
    }

    /// A ruleset's text and where its first line sits in the YAML.
    fn rules(&mut self, path: &str, tool: RuleTool, text: &str) -> Option<Rules> {
        let pos = self.spans.value(path);
        if text.trim().is_empty() {
            self.at(path, format!("the {} ruleset is empty", tool.key()), None);
            return None;
        }
        if text.contains('\0') {
            self.at(path, "a ruleset cannot contain a NUL byte", None);
            return None;
        }
        if tool == RuleTool::Nft && nft_include(text) {
            // libnftables reads an included file inside netspec, where no time bound
            // reaches it: `include "/dev/stdin"` would hang the run forever.
            self.at(
                path,
                "an nft ruleset cannot `include` a file",
                Some(
                    "write the rules inline; a scenario's rules come only from the scenario".into(),
                ),
            );
            return None;
        }
        Some(Rules {
            tool,
            text: text.to_string(),
            first_line: first_text_line(self.src, pos, text),
            pos,
        })
    }

    pub(super) fn node_rules(&mut self, name: &str, raw: &RawNode) -> Vec<Rules> {
        let mut out = Vec::new();
        for (tool, text) in [
            (RuleTool::Nft, &raw.nftables),
            (RuleTool::Iptables, &raw.iptables),
            (RuleTool::Ip6tables, &raw.ip6tables),
        ] {
            if let Some(t) = text {
                out.extend(self.rules(&format!("nodes.{name}.{}", tool.key()), tool, t));
            }
        }
        out
    }

    pub(super) fn rules_step(
        &mut self,
        path: &str,
        raw: &RawRulesStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &raw.node, sc)?;
        let given: Vec<_> = [
            (RuleTool::Nft, &raw.nftables),
            (RuleTool::Iptables, &raw.iptables),
            (RuleTool::Ip6tables, &raw.ip6tables),
        ]
        .into_iter()
        .filter_map(|(tool, t)| t.as_ref().map(|t| (tool, t)))
        .collect();
        let [(tool, text)] = given.as_slice() else {
            self.at(
                path,
                "a `netfilter` step takes exactly one of `nftables`, `iptables` or `ip6tables`",
                Some("write each ruleset as its own step".into()),
            );
            return None;
        };
        let rules = self.rules(&format!("{path}.{}", tool.key()), *tool, text)?;
        Some(Action::Rules(RulesStep {
            node,
            rules,
            error: raw.error.clone(),
        }))
    }

    pub(super) fn counter_check(
        &mut self,
        p: &str,
        x: &RawCounterCheck,
        sc: &Scenario,
    ) -> Option<Check> {
        let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
        let what = match (&x.rule, &x.policy) {
            (Some(r), None) if !r.is_empty() => CounterRef::Rule(r.clone()),
            (None, Some(pol)) => {
                let words: Vec<&str> = pol.split_whitespace().collect();
                let [table, chain] = words.as_slice() else {
                    self.at(
                        &format!("{p}.policy"),
                        format!("`{pol}` is not `TABLE CHAIN`"),
                        Some("e.g. `filter FORWARD`".into()),
                    );
                    return None;
                };
                CounterRef::Policy {
                    table: table.to_string(),
                    chain: chain.to_string(),
                }
            }
            _ => {
                self.at(p, "a counter check takes one of `rule` (a rule's comment) or `policy` (`TABLE CHAIN`)", None);
                return None;
            }
        };
        let mut count = |key: &str, v: &Option<Scalar>| match v {
            None => Some(None),
            Some(s) => self.count(&format!("{p}.{key}"), s).map(Some),
        };
        let packets = count("packets", &x.packets)?;
        let bytes = count("bytes", &x.bytes)?;
        if packets.is_none() && bytes.is_none() {
            self.at(p, "a counter check needs `packets` or `bytes`", None);
            return None;
        }
        Some(Check::Counter(CounterCheck {
            node,
            what,
            packets,
            bytes,
        }))
    }
}

/// The YAML line that holds the first line of a scalar's text, so that a tool's "line N"
/// maps onto the file. A block scalar (`|`) starts on the line after its indicator,
/// blank lines included; the parser's span is at the indicator, or, when the text starts
/// with blank lines, at its first non-blank line, so the indicator is looked for above.
fn first_text_line(src: &str, pos: Pos, text: &str) -> usize {
    let lines: Vec<&str> = src.lines().collect();
    let at = |l: usize| lines.get(l.saturating_sub(1)).copied().unwrap_or_default();
    let rest = at(pos.line)
        .get(pos.col.saturating_sub(1)..)
        .unwrap_or_default();
    if rest.starts_with('|') || rest.starts_with('>') {
        return pos.line + 1;
    }
    let blank = text.lines().take_while(|l| l.trim().is_empty()).count();
    if blank == 0 {
        return pos.line;
    }
    let is_indicator = |l: &str| {
        let code = l.split(" #").next().unwrap_or_default().trim_end();
        let tail = code.trim_end_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
        tail.ends_with('|') || tail.ends_with('>')
    };
    (1..pos.line)
        .rev()
        .take(blank + 1)
        .find(|l| is_indicator(at(*l)))
        .map_or(pos.line.saturating_sub(blank), |l| l + 1)
}

/// Whether an nft ruleset has an `include` statement: the word `include` starting a
/// statement (at a line's start, or after `;`, `{` or `}`), outside a comment.
pub(super) fn nft_include(text: &str) -> bool {
    text.lines().any(|line| {
        let code = line.split('#').next().unwrap_or_default();
        code.split([';', '{', '}'])
            .any(|stmt| stmt.split_whitespace().next() == Some("include"))
    })
}

#[cfg(test)]
mod include_tests {
    use super::{first_text_line, nft_include, Pos};

    #[test]
    fn a_ruleset_line_maps_onto_the_yaml_line_blank_lines_included() {
        let src = "nodes:\n  a:\n    nftables: |\n\n      table inet f {\n        bogus\n      }\n";
        let text = "\ntable inet f {\n  bogus\n}\n";
        // At the indicator, or at the first non-blank line: line 1 of the text is 4.
        assert_eq!(first_text_line(src, Pos { line: 3, col: 15 }, text), 4);
        assert_eq!(first_text_line(src, Pos { line: 5, col: 7 }, text), 4);
        let one = "nodes:\n  b:\n    nftables: \"table inet f { bogus }\"\n";
        assert_eq!(
            first_text_line(one, Pos { line: 3, col: 15 }, "table inet f { bogus }"),
            3
        );
    }

    #[test]
    fn an_include_is_found_wherever_a_statement_starts() {
        for yes in [
            "include \"/dev/zero\"",
            "  include \"x\"",
            "table t { chain c { }; include \"/dev/stdin\" }",
            "table t {\n}\ninclude \"/etc/nftables.conf\"",
        ] {
            assert!(nft_include(yes), "{yes}");
        }
        for no in [
            "# include \"x\"",
            "table t { chain c { comment \"includes\"; } }",
            "table inet filter { chain input { type filter hook input priority 0; } }",
        ] {
            assert!(!nft_include(no), "{no}");
        }
    }
}
