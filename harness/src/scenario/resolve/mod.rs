//! raw -> Scenario: every name, reference, address and duration is checked here, with
//! positions and did-you-mean hints. Problems are collected, not stopped at, so a user
//! sees all of them at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use super::diag::{did_you_mean, Diagnostic, LoadError};
use super::model::*;
use super::names::*;
use super::raw::*;
use super::raw_services::*;
use super::spans::{Pos, SpanIndex};

mod changes;
mod checks;
mod cni;
mod routes;
mod send;
mod services;
mod steps;
pub(super) use steps::ACTIONS;
mod topology;
mod watch;

/// The kernel's limit for interface names: IFNAMSIZ (16) less the terminating NUL.
pub const IFNAME_MAX: usize = 15;

const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_ARPING_TIMEOUT: Duration = Duration::from_secs(1);
/// Every step is bounded: a hung step fails its trial instead of hanging CI.
pub(crate) const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The shortest timeout a probe or step may have.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// At most this many echo requests per ping step.
pub(crate) const MAX_PING_COUNT: u32 = 10_000;
/// Snapshot labels become file names (`<scenario>@<label>.snap`), which are at most 255 bytes.
const MAX_LABEL: usize = 64;
/// The longest a scenario's name, flattened (`/` as `__`) with its matrix suffix, may be:
/// NAME_MAX (255) less `@`, the longest label and `.pending-snap`.
const MAX_FLAT_NAME: usize = 255 - 1 - MAX_LABEL - ".pending-snap".len();
const SNAPSHOT_SECTIONS: [&str; 9] = [
    "links",
    "addresses",
    "routes",
    "nexthops",
    "rules",
    "neigh",
    "fdb",
    "vlans",
    "netfilter",
];

/// The largest scenario file netspec reads. A real one is a few kilobytes; this bounds
/// the memory and time a runaway or hostile file can cost (loading is linear, but
/// serde and the span index hold the whole document).
pub(crate) const MAX_FILE_BYTES: usize = 4 << 20;

/// Parses and resolves one scenario. `name` is its path under `scenarios/` without extension.
pub fn load_str(file: &Path, name: &str, src: &str) -> Result<Scenario, LoadError> {
    load_variant(file, name, "", src)
}

/// Like `load_str`, for one variant of a matrix: `suffix` (`[key=value]`) follows the name.
fn load_variant(file: &Path, name: &str, suffix: &str, src: &str) -> Result<Scenario, LoadError> {
    let one = |msg: String, hint: &str| LoadError {
        diagnostics: vec![
            Diagnostic::new(file, "", Pos { line: 1, col: 1 }, msg).hint(Some(hint.to_string()))
        ],
    };
    if src.len() > MAX_FILE_BYTES {
        return Err(one(
            format!(
                "the scenario is {} bytes; netspec reads at most {MAX_FILE_BYTES}",
                src.len()
            ),
            "split it into several scenarios",
        ));
    }
    if src.contains('\0') {
        return Err(one(
            "the scenario contains a NUL byte".into(),
            "YAML is text; is this the right file?",
        ));
    }
    // Editors on some systems start UTF-8 files with a byte-order mark; YAML allows it.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    check_depth(file, src)?;
    let raw = parse_raw(file, src)?;
    let spans = SpanIndex::build(src);
    let mut r = Resolver {
        file,
        src,
        spans: &spans,
        errors: Vec::new(),
        names: Rc::default(),
        watches: BTreeMap::new(),
    };
    for (path, pos) in &spans.duplicates {
        let key = path.rsplit('.').next().unwrap_or(path);
        r.err(*pos, format!("duplicate key `{key}`"), Some("a name may appear once in its mapping (YAML would silently keep the last); remove or rename one".into()));
    }
    // With a key written twice, serde kept one of them: what follows would mislead.
    if !r.errors.is_empty() {
        return Err(LoadError {
            diagnostics: r.errors,
        });
    }
    let name_given = raw.name.is_some();
    let mut scenario = r.scenario(name, raw);
    if r.errors.is_empty() {
        r.check_name(&scenario.name, name_given, suffix);
    }
    if r.errors.is_empty() {
        scenario.name.push_str(suffix);
        scenario.variant = suffix.to_string();
        Ok(scenario)
    } else {
        Err(LoadError {
            diagnostics: r.errors,
        })
    }
}

impl Resolver<'_> {
    /// A scenario's name becomes a report folder and, flattened (`/` as `__`) with its
    /// matrix suffix, the start of each snapshot's file name
    /// (`<name>@<label>.pending-snap`), which must fit NAME_MAX (255 bytes).
    fn check_name(&mut self, name: &str, name_given: bool, suffix: &str) {
        if let Err(why) = check_scenario_name(name) {
            let hint = "a name is a relative path of letters, digits, `-`, `_` and `.`, e.g. `bridge/flooding`; it names the report folder";
            let msg = format!("invalid scenario name `{}`: {why}", name.escape_debug());
            if name_given {
                self.at("name", msg, Some(hint.into()));
            } else {
                self.err(Pos { line: 1, col: 1 }, msg, Some(hint.into()));
            }
            return;
        }
        let flat = name.replace('/', "__").len() + suffix.len();
        if flat > MAX_FLAT_NAME {
            let msg = format!(
                "the trial's name `{name}{suffix}` makes file names of {flat} bytes; at most {MAX_FLAT_NAME} fit beside a snapshot label"
            );
            let hint = Some("shorten the matrix keys or values, or the scenario's name".into());
            if suffix.is_empty() {
                self.err(Pos { line: 1, col: 1 }, msg, hint);
            } else {
                self.at("matrix", msg, hint);
            }
        }
    }
}

/// The deepest nesting of flow collections (`[`, `{`) a scenario may have. Parsing
/// deeper nesting grows faster than the text; no scenario needs more than a few.
const MAX_DEPTH: usize = 64;

/// Refuses flow nesting past MAX_DEPTH, before any YAML parser sees the text.
fn check_depth(file: &Path, src: &str) -> Result<(), LoadError> {
    match too_deep(src) {
        None => Ok(()),
        Some(at) => Err(LoadError {
            diagnostics: vec![Diagnostic::new(
                file,
                "",
                at,
                format!("the YAML nests more than {MAX_DEPTH} levels deep here"),
            )
            .hint(Some(
                "no scenario needs that; is this the right file?".into(),
            ))],
        }),
    }
}

/// Where flow nesting first goes past MAX_DEPTH, if it does: `[` and `{` counted outside
/// quoted strings and comments, in one pass over the text.
fn too_deep(src: &str) -> Option<Pos> {
    let mut depth = 0usize;
    for (i, line) in src.lines().enumerate() {
        let mut quote = None;
        let mut prev = ' ';
        for (j, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q && prev != '\\' => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(Pos {
                            line: i + 1,
                            col: j + 1,
                        });
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    None
}

/// Reads and resolves a scenario file; `root` is the `scenarios/` directory it is named
/// under. A file with a `matrix:` has several trials: see `load_variants`.
pub fn load_file(root: &Path, file: &Path) -> Result<Scenario, LoadError> {
    let mut all = load_variants(root, file)?;
    if all.len() == 1 {
        return Ok(all.remove(0));
    }
    Err(LoadError {
        diagnostics: vec![Diagnostic::new(
            file,
            "",
            Pos { line: 1, col: 1 },
            format!("this file has a matrix of {} trials", all.len()),
        )
        .hint(Some("load it with load_variants".into()))],
    })
}

/// Every trial of a scenario file: one, or one per combination of its `matrix:`.
pub fn load_variants(root: &Path, file: &Path) -> Result<Vec<Scenario>, LoadError> {
    let name = scenario_name(root, file);
    let src = read_scenario(file)?;
    let src = src.strip_prefix('\u{feff}').unwrap_or(&src);
    check_depth(file, src)?;
    super::matrix::expand(file, src)?
        .into_iter()
        .map(|v| load_variant(file, &name, &v.suffix, &v.src))
        .collect()
}

/// A scenario file's text, refused past MAX_FILE_BYTES without reading it all.
fn read_scenario(file: &Path) -> Result<String, LoadError> {
    let cannot = |e: std::io::Error| LoadError {
        diagnostics: vec![Diagnostic::new(
            file,
            "",
            Pos { line: 1, col: 1 },
            format!("cannot read scenario: {e}"),
        )],
    };
    // Read at most one byte past the limit, so a huge file costs nothing to refuse.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(file).map_err(cannot)?,
            MAX_FILE_BYTES as u64 + 1,
        ),
        &mut bytes,
    )
    .map_err(cannot)?;
    if bytes.len() > MAX_FILE_BYTES {
        // load_str refuses it with the size; a shorter text keeps the message exact.
        bytes.truncate(MAX_FILE_BYTES + 1);
    }
    String::from_utf8(bytes).map_err(|e| LoadError {
        diagnostics: vec![Diagnostic::new(
            file,
            "",
            Pos { line: 1, col: 1 },
            format!("cannot read scenario: it is not UTF-8 text ({e})"),
        )],
    })
}

/// `scenarios/seed/bridge.yaml` -> `seed/bridge`.
pub fn scenario_name(root: &Path, file: &Path) -> String {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (root, file) = (canon(root), canon(file));
    // Outside `root`, the file's own name: a name must never be an absolute path.
    let rel = match file.strip_prefix(&root) {
        Ok(rel) => rel.with_extension(""),
        Err(_) => PathBuf::from(file.file_stem().unwrap_or_default()),
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./").to_string()
}

/// The raw scenario. YAML merge keys (`<<: *anchor`) are applied first when the file
/// has any: serde reads a mapping's keys as written, so without the merge a `<<` would be
/// an unknown field. Errors in a merged document carry the position serde reports for
/// the merged value, where it has one.
fn parse_raw(file: &Path, src: &str) -> Result<RawScenario, LoadError> {
    let fail = |e: serde_norway::Error| LoadError {
        diagnostics: vec![serde_diagnostic(file, src, &e)],
    };
    let first = serde_norway::from_str::<RawScenario>(src);
    let has_merge = matches!(&first, Err(e) if e.to_string().contains("unknown field `<<`"));
    if !has_merge {
        return first.map_err(fail);
    }
    let mut value: serde_norway::Value = serde_norway::from_str(src).map_err(fail)?;
    value.apply_merge().map_err(fail)?;
    serde_norway::from_value(value).map_err(fail)
}

fn serde_diagnostic(file: &Path, src: &str, e: &serde_norway::Error) -> Diagnostic {
    let pos = e
        .location()
        .map(|l| Pos {
            line: l.line(),
            col: l.column(),
        })
        .unwrap_or(Pos { line: 1, col: 1 });
    // The position is shown in the frame; drop serde's own " at line X column Y".
    let msg = strip_position(&e.to_string());
    let line = src.lines().nth(pos.line.saturating_sub(1)).unwrap_or("");
    let hint = serde_hint(&msg)
        .or_else(|| {
            msg.contains("quoted scalar")
                .then(|| "a quote opened earlier is never closed".to_string())
        })
        .or_else(|| {
            line.starts_with(|c: char| c.is_whitespace() && c != ' ')
                .then(|| "indent with spaces: YAML does not allow tabs for indentation".to_string())
        });
    Diagnostic::new(file, src, pos, msg).hint(hint)
}

/// Removes every " at line N column M" from a message.
fn strip_position(msg: &str) -> String {
    let mut out = msg.to_string();
    while let Some(i) = out.find(" at line ") {
        let rest = &out[i + " at line ".len()..];
        let Some(col) = rest.find(" column ") else {
            break;
        };
        let after = &rest[col + " column ".len()..];
        let digits = after.chars().take_while(|c| c.is_ascii_digit()).count();
        let end = i + " at line ".len() + col + " column ".len() + digits;
        out.replace_range(i..end, "");
    }
    out
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a did-you-mean hint.
fn serde_hint(msg: &str) -> Option<String> {
    let what = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| msg.find(p).map(|i| (i + p.len(), *p)))?;
    let rest = &msg[what.0..];
    let wrong = &rest[..rest.find('`')?];
    let expected: Vec<&str> = rest
        .split('`')
        .skip(2)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    if expected.is_empty() {
        return None;
    }
    let valid = expected.join(", ");
    Some(match did_you_mean(wrong, expected.iter().copied()) {
        Some(m) => format!("did you mean `{m}`? valid here: {valid}"),
        None => format!("valid here: {valid}"),
    })
}

struct Resolver<'a> {
    file: &'a Path,
    src: &'a str,
    spans: &'a SpanIndex,
    errors: Vec<Diagnostic>,
    /// The symbol table, built once by pass one and shared by every resolver after it.
    names: Rc<Names>,
    /// The watches started by the steps resolved so far, by name.
    watches: BTreeMap<String, IfRef>,
}

/// What pass one learns: every interface, declared or implied as a veth peer. Built
/// once: looking names up in it costs a map lookup, so resolving stays linear in the
/// size of the file.
#[derive(Default)]
struct Names {
    /// node -> ifname -> kind name ("veth", "bridge", ...)
    nodes: BTreeMap<String, BTreeMap<String, &'static str>>,
    /// `node:if` -> the interfaces whose `peer` names it.
    claimed_by: HashMap<String, Vec<(String, String)>>,
    /// `peer` references whose node does not exist, as (node, ifname).
    dangling_peers: Vec<(String, String)>,
}

impl Names {
    fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }
}

impl<'a> Resolver<'a> {
    fn err(&mut self, pos: Pos, msg: impl Into<String>, hint: Option<String>) {
        let d = Diagnostic::new(self.file, self.src, pos, msg).hint(hint);
        self.errors.push(d);
    }

    fn at(&mut self, path: &str, msg: impl Into<String>, hint: Option<String>) {
        let pos = self.spans.value(path);
        self.err(pos, msg, hint);
    }

    fn at_key(&mut self, path: &str, msg: impl Into<String>, hint: Option<String>) {
        let pos = self.spans.key(path);
        self.err(pos, msg, hint);
    }

    // scenario() and names() are the skeleton; the rest live beside this file.
    fn scenario(&mut self, default_name: &str, raw: RawScenario) -> Scenario {
        let names = Rc::new(self.names(&raw));
        self.names = names.clone();
        let mut nodes = Vec::new();
        let mut macs: BTreeMap<Mac, String> = BTreeMap::new();
        for (node_name, raw_node) in &raw.nodes {
            nodes.push(self.node(node_name, raw_node, &raw, &names, &mut macs));
        }
        self.cycles(&nodes);
        let mut scenario = Scenario {
            name: raw.name.clone().unwrap_or_else(|| default_name.to_string()),
            file: self.file.to_path_buf(),
            description: raw.description.clone(),
            requires: raw.requires.clone(),
            nodes,
            steps: Vec::new(),
            capture: Vec::new(),
            listen: Vec::new(),
            variant: String::new(),
            cni: Vec::new(),
            step_timeout: DEFAULT_STEP_TIMEOUT,
        };
        // Routes and steps refer to interfaces: with a broken topology they would only
        // add errors that follow from the first ones (and a load with errors is refused).
        if !self.errors.is_empty() {
            return scenario;
        }
        self.requires(&raw.requires);
        let before = self.errors.len();
        scenario.cni = self.cni_networks(&raw.cni);
        // Attachments and steps name the networks: a broken one would only add errors.
        if self.errors.len() > before {
            return scenario;
        }
        for (ni, (name, raw_node)) in raw.nodes.iter().enumerate() {
            let (nexthops, routes) = self.node_routes(name, raw_node, &scenario.nodes[ni]);
            let mut neigh = Vec::new();
            for (i, n) in raw_node.neigh.iter().enumerate() {
                let path = format!("nodes.{name}.neigh.{i}");
                neigh.extend(self.static_neigh(&path, name, n, &scenario));
            }
            let mut fdb = Vec::new();
            for (i, f) in raw_node.fdb.iter().enumerate() {
                let path = format!("nodes.{name}.fdb.{i}");
                fdb.extend(self.static_fdb(&path, name, f, &scenario, true));
            }
            let netfilter = self.node_rules(name, raw_node);
            let cni = self.cni_attachments(name, &raw_node.cni, &scenario);
            let node = &mut scenario.nodes[ni];
            node.cni = cni;
            node.netfilter = netfilter;
            node.routes = routes;
            node.nexthops = nexthops;
            node.neigh = neigh;
            node.fdb = fdb;
        }
        scenario.listen = self.listeners(&raw.listen, &scenario);
        let mut labels = BTreeSet::new();
        scenario.step_timeout = match &raw.step_timeout {
            Some(t) => self.positive_duration("step_timeout", t),
            None => None,
        }
        .unwrap_or(DEFAULT_STEP_TIMEOUT);
        for (i, step) in raw.steps.iter().enumerate() {
            let timeout = scenario.step_timeout;
            if let Some(s) = self.step(i, step, &scenario, &mut labels, timeout) {
                scenario.steps.push(s);
            }
        }
        if let Some(c) = &raw.capture {
            scenario.capture = self.capture(c, &scenario).unwrap_or_default();
        }
        scenario
    }

    /// Pass one: node names, interface names and kinds, veth peers.
    fn names(&mut self, raw: &RawScenario) -> Names {
        let mut names = Names::default();
        if raw.nodes.is_empty() {
            self.at("nodes", "a scenario needs at least one node", None);
        }
        for (node, n) in &raw.nodes {
            let path = format!("nodes.{node}");
            if let Err(why) = check_node_name(node) {
                self.at_key(&path, format!("invalid node name `{node}`: {why}"), None);
            }
            let ifs = names.nodes.entry(node.clone()).or_default();
            for (ifname, i) in &n.interfaces {
                let kind = match (i.kind, &i.peer) {
                    (Some(RawKind::Bridge), _) => "bridge",
                    (Some(RawKind::Macvlan), _) => "macvlan",
                    (Some(RawKind::Vxlan), _) => "vxlan",
                    (Some(RawKind::Dummy), _) => "dummy",
                    (Some(RawKind::Vlan), _) => "vlan",
                    (Some(RawKind::Vrf), _) => "vrf",
                    (Some(RawKind::Bond), _) => "bond",
                    _ => "veth",
                };
                ifs.insert(ifname.clone(), kind);
            }
        }
        // Veth peers named only from the other side exist too.
        for (node, n) in &raw.nodes {
            for (ifname, i) in &n.interfaces {
                let Some(peer) = &i.peer else { continue };
                let Some((pn, pi)) = peer.split_once(':') else {
                    continue;
                };
                names
                    .claimed_by
                    .entry(peer.clone())
                    .or_default()
                    .push((node.clone(), ifname.clone()));
                match names.nodes.get_mut(pn) {
                    Some(ifs) if !(pn == node && pi == ifname) => {
                        ifs.entry(pi.to_string()).or_insert("veth");
                    }
                    Some(_) => {}
                    None => names.dangling_peers.push((pn.to_string(), pi.to_string())),
                }
            }
        }
        names
    }

    /// Resolves `node:ifname` against pass one's names.
    fn ifref(&mut self, path: &str, s: &str, names: &Names) -> Option<IfRef> {
        if let Some((addr, zone)) = s.split_once('%') {
            // `fe80::1%eth0` would otherwise read as node `fe80`.
            if addr.parse::<std::net::Ipv6Addr>().is_ok() {
                self.at(
                    path,
                    format!("`{s}` is a scoped IPv6 address; netspec does not take a `%zone`"),
                    Some(format!(
                        "a link-local address needs its interface: write `{addr}` and send from node:{zone} (the probe binds to that interface), or name the interface as node:{zone}"
                    )),
                );
                return None;
            }
        }
        let Some((n, i)) = s.split_once(':') else {
            let hint = names
                .nodes
                .get(s)
                .and_then(|ifs| ifs.keys().next())
                .map(|i| format!("write it as node:interface, e.g. {s}:{i}"))
                .or_else(|| Some("write it as node:interface, e.g. net1:eth0".into()));
            self.at(
                path,
                format!("`{s}` is not a node:interface reference"),
                hint,
            );
            return None;
        };
        let Some(ifs) = names.nodes.get(n) else {
            let hint = did_you_mean(n, names.node_names()).map(|m| format!("did you mean `{m}`?"));
            self.at(path, format!("unknown node `{n}`"), hint);
            return None;
        };
        if !ifs.contains_key(i) {
            let hint = did_you_mean(i, ifs.keys().map(String::as_str))
                .map(|m| format!("did you mean `{n}:{m}`?"))
                .or_else(|| {
                    (!ifs.is_empty()).then(|| {
                        format!(
                            "node {n} has: {}",
                            ifs.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    })
                });
            self.at(path, format!("unknown interface `{i}` in node {n}"), hint);
            return None;
        }
        Some(IfRef {
            node: n.into(),
            ifname: i.into(),
        })
    }

    fn ip(&mut self, path: &str, s: &str) -> Option<IpAddr> {
        match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.at(
                    path,
                    format!("invalid IP address `{s}`"),
                    Some("write it without a prefix length, e.g. 10.0.0.1 or fd00::1".into()),
                );
                None
            }
        }
    }

    fn duration(&mut self, path: &str, s: &str) -> Option<Duration> {
        match parse_duration(s) {
            Some(d) => Some(d),
            None => {
                self.at(
                    path,
                    format!("invalid duration `{s}`"),
                    Some("write a number with a unit: 200ms, 2s, 1.5s, 1m".into()),
                );
                None
            }
        }
    }

    /// Every feature in `requires:` must be one netspec knows how to probe.
    fn requires(&mut self, requires: &[String]) {
        self.known_features("requires", requires);
    }

    /// Every feature a list at `path` names must be one netspec knows how to probe.
    pub(super) fn known_features(&mut self, path: &str, features: &[String]) {
        for (i, f) in features.iter().enumerate() {
            if !super::FEATURES.contains(&f.as_str()) {
                let hint = did_you_mean(f, super::FEATURES.iter().copied())
                    .map(|m| format!("did you mean `{m}`? known: {}", super::FEATURES.join(", ")))
                    .unwrap_or_else(|| format!("known: {}", super::FEATURES.join(", ")));
                self.at(
                    &format!("{path}.{i}"),
                    format!("unknown kernel feature `{f}`"),
                    Some(hint),
                );
            }
        }
    }

    /// `capture: all` (every declared interface) or a list of `node:if`.
    fn capture(&mut self, c: &RawCapture, sc: &Scenario) -> Option<Vec<IfRef>> {
        match c {
            RawCapture::Word(w) if w == "all" => Some(sc.interface_refs().collect()),
            RawCapture::Word(w) => {
                self.at(
                    "capture",
                    format!("`capture: {w}` is not a form netspec knows"),
                    Some(
                        "write `capture: all`, or a list such as `capture: [sw:swp1, h2:eth0]`"
                            .into(),
                    ),
                );
                None
            }
            RawCapture::List(list) => {
                let mut v: Vec<IfRef> = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let r = self.sc_ifref(&format!("capture.{i}"), s, sc)?;
                    if !v.contains(&r) {
                        v.push(r);
                    }
                }
                if v.is_empty() {
                    self.at(
                        "capture",
                        "`capture` is empty",
                        Some("write `capture: all`, or list interfaces".into()),
                    );
                    return None;
                }
                Some(v)
            }
        }
    }

    /// A duration that must be above zero: a zero bound would decide before anything
    /// could happen.
    fn positive_duration(&mut self, path: &str, s: &str) -> Option<Duration> {
        let d = self.duration(path, s)?;
        if d < MIN_TIMEOUT {
            self.at(
                path,
                format!("`{s}` is too short"),
                Some(format!("give at least {}ms", MIN_TIMEOUT.as_millis())),
            );
            return None;
        }
        Some(d)
    }

    fn route_error<T>(&mut self, path: &str, msg: String) -> Option<T> {
        self.at(path, msg, Some("forms: `default via A`, `P via A`, `P dev IF`, `P via A dev IF`, `P nhid N`, `P nexthop via A dev IF weight W nexthop ...`, `blackhole P`, `unreachable P`, with optional `onlink`, `metric N`, `table N` before any `nexthop`".into()));
        None
    }

    fn nexthop_error<T>(&mut self, path: &str, msg: String) -> Option<T> {
        self.at(path, msg, Some("forms: `id N via A dev IF [onlink]`, `id N dev IF [family inet6]`, `id N blackhole [family inet6]`, `id N group A/B,W/...` (W: weight 1-256)".into()));
        None
    }
}

fn centis(d: Duration) -> u32 {
    (d.as_millis() / 10) as u32
}

/// `200ms`, `2s`, `1.5s`, `1m`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    (0.0..86_400.0)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}
