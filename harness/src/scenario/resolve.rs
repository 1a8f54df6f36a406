//! raw -> Scenario: every name, reference, address and duration is checked here, with
//! positions and did-you-mean hints. Problems are collected, not stopped at, so a user
//! sees all of them at once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::diag::{did_you_mean, Diagnostic, LoadError};
use super::model::*;
use super::raw::*;
use super::spans::{Pos, SpanIndex};

/// The kernel's limit for interface names: IFNAMSIZ (16) less the terminating NUL.
pub const IFNAME_MAX: usize = 15;

const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_ARPING_TIMEOUT: Duration = Duration::from_secs(1);
/// Every step is bounded: a hung step fails its trial instead of hanging CI.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(60);
const SNAPSHOT_SECTIONS: [&str; 5] = ["links", "addresses", "routes", "neigh", "fdb"];

/// Parses and resolves one scenario. `name` is its path under `scenarios/` without extension.
pub fn load_str(file: &Path, name: &str, src: &str) -> Result<Scenario, LoadError> {
    let raw: RawScenario = serde_norway::from_str(src).map_err(|e| LoadError {
        diagnostics: vec![serde_diagnostic(file, src, &e)],
    })?;
    let spans = SpanIndex::build(src);
    let mut r = Resolver {
        file,
        src,
        spans: &spans,
        errors: Vec::new(),
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
    let scenario = r.scenario(name, raw);
    if r.errors.is_empty() {
        Ok(scenario)
    } else {
        Err(LoadError {
            diagnostics: r.errors,
        })
    }
}

/// Reads and resolves a scenario file; `root` is the `scenarios/` directory it is named under.
pub fn load_file(root: &Path, file: &Path) -> Result<Scenario, LoadError> {
    let name = scenario_name(root, file);
    let src = std::fs::read_to_string(file).map_err(|e| LoadError {
        diagnostics: vec![Diagnostic::new(
            file,
            "",
            Pos { line: 1, col: 1 },
            format!("cannot read scenario: {e}"),
        )],
    })?;
    load_str(file, &name, &src)
}

/// `scenarios/seed/bridge.yaml` -> `seed/bridge`.
pub fn scenario_name(root: &Path, file: &Path) -> String {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (root, file) = (canon(root), canon(file));
    let rel = file.strip_prefix(&root).unwrap_or(&file);
    let s = rel.with_extension("").to_string_lossy().replace('\\', "/");
    s.trim_start_matches("./").to_string()
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
}

/// What pass one learns: every interface, declared or implied as a veth peer.
#[derive(Default)]
struct Names {
    /// node -> ifname -> kind name ("veth", "bridge", ...)
    nodes: BTreeMap<String, BTreeMap<String, &'static str>>,
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

    fn scenario(&mut self, default_name: &str, raw: RawScenario) -> Scenario {
        let names = self.names(&raw);
        let mut nodes = Vec::new();
        let mut macs: BTreeMap<Mac, String> = BTreeMap::new();
        for (node_name, raw_node) in &raw.nodes {
            nodes.push(self.node(node_name, raw_node, &raw, &names, &mut macs));
        }
        // Routes and steps refer to interfaces: with a broken topology they would only
        // add errors that follow from the first ones.
        if !self.errors.is_empty() {
            return Scenario {
                name: String::new(),
                file: self.file.to_path_buf(),
                description: None,
                requires: Vec::new(),
                nodes,
                steps: Vec::new(),
            };
        }
        let mut scenario = Scenario {
            name: raw.name.clone().unwrap_or_else(|| default_name.to_string()),
            file: self.file.to_path_buf(),
            description: raw.description.clone(),
            requires: raw.requires.clone(),
            nodes,
            steps: Vec::new(),
        };
        for (i, f) in raw.requires.iter().enumerate() {
            if !crate::features::KNOWN.contains(&f.as_str()) {
                let hint = did_you_mean(f, crate::features::KNOWN.iter().copied())
                    .map(|m| {
                        format!(
                            "did you mean `{m}`? known: {}",
                            crate::features::KNOWN.join(", ")
                        )
                    })
                    .unwrap_or_else(|| format!("known: {}", crate::features::KNOWN.join(", ")));
                self.at(
                    &format!("requires.{i}"),
                    format!("unknown kernel feature `{f}`"),
                    Some(hint),
                );
            }
        }
        for (ni, (name, raw_node)) in raw.nodes.iter().enumerate() {
            let mut routes = Vec::new();
            for (i, text) in raw_node.routes.iter().enumerate() {
                let path = format!("nodes.{name}.routes.{i}");
                routes.extend(self.route(&path, text, &scenario.nodes[ni], true));
            }
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
            let node = &mut scenario.nodes[ni];
            node.routes = routes;
            node.neigh = neigh;
            node.fdb = fdb;
        }
        let mut labels = BTreeSet::new();
        let step_timeout = match &raw.step_timeout {
            Some(t) => self
                .duration("step_timeout", t)
                .unwrap_or(DEFAULT_STEP_TIMEOUT),
            None => DEFAULT_STEP_TIMEOUT,
        };
        for (i, step) in raw.steps.iter().enumerate() {
            if let Some(s) = self.step(i, step, &scenario, &mut labels, step_timeout) {
                scenario.steps.push(s);
            }
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
                if let Some(ifs) = names.nodes.get_mut(pn) {
                    if !(pn == node && pi == ifname) {
                        ifs.entry(pi.to_string()).or_insert("veth");
                    }
                }
            }
        }
        names
    }

    fn node(
        &mut self,
        node_name: &str,
        raw_node: &RawNode,
        raw: &RawScenario,
        names: &Names,
        macs: &mut BTreeMap<Mac, String>,
    ) -> Node {
        let path = format!("nodes.{node_name}");
        let mut sysctls = Vec::new();
        for (k, v) in &raw_node.sysctl {
            let kpath = format!("{path}.sysctl.{k}");
            if !valid_sysctl_key(k) {
                self.at_key(
                    &kpath,
                    format!("invalid sysctl `{k}`"),
                    Some("write it as `sysctl -w` does, e.g. net.ipv4.ip_forward".into()),
                );
            } else if !k.starts_with("net.") {
                self.at_key(
                    &kpath,
                    format!("sysctl `{k}` is not per network namespace"),
                    Some(
                        "only net.* sysctls can be set in a node; others would change the host"
                            .into(),
                    ),
                );
            }
            sysctls.push((k.clone(), v.0.clone()));
        }

        // Declared interfaces, then implied veth peers.
        let mut interfaces = Vec::new();
        let declared: BTreeMap<&str, &RawInterface> = raw_node
            .interfaces
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        let empty = RawInterface::default();
        for ifname in names
            .nodes
            .get(node_name)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            let ipath = format!("{path}.interfaces.{ifname}");
            let ri = declared.get(ifname.as_str()).copied().unwrap_or(&empty);
            if let Some(i) = self.interface(node_name, ifname, &ipath, ri, raw, names) {
                if let Some(other) = macs.insert(i.mac, format!("{node_name}:{ifname}")) {
                    self.at(
                        &format!("{ipath}.mac"),
                        format!(
                            "MAC {} of {node_name}:{ifname} is also used by {other}",
                            i.mac
                        ),
                        Some("give one of them a different `mac`".into()),
                    );
                }
                interfaces.push(i);
            }
        }

        Node {
            name: node_name.to_string(),
            sysctls,
            interfaces,
            routes: Vec::new(),
            neigh: Vec::new(),
            fdb: Vec::new(),
        }
    }

    fn interface(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<Interface> {
        if let Err(why) = check_ifname(ifname) {
            self.at_key(
                ipath,
                format!("invalid interface name `{ifname}`: {why}"),
                None,
            );
        }
        let local_ifs = &names.nodes[node];
        let kind = self.kind(node, ifname, ipath, ri, raw, names)?;

        if let Some(m) = &ri.master {
            let mpath = format!("{ipath}.master");
            match local_ifs.get(m.as_str()) {
                None => {
                    let hint = did_you_mean(
                        m,
                        local_ifs
                            .iter()
                            .filter(|(_, k)| **k == "bridge")
                            .map(|(n, _)| n.as_str()),
                    )
                    .map(|s| format!("did you mean `{s}`?"));
                    self.at(
                        &mpath,
                        format!("master `{m}` is not an interface of node {node}"),
                        hint,
                    )
                }
                Some(&"bridge") if m == ifname => self.at(
                    &mpath,
                    format!("bridge `{m}` cannot be its own master"),
                    None,
                ),
                Some(&"bridge") => {}
                Some(k) => self.at(
                    &mpath,
                    format!("master `{m}` is not a bridge (it is a {k})"),
                    Some("`master` names a bridge of the same node (`kind: bridge`)".into()),
                ),
            }
        }

        let mut addresses = Vec::new();
        for (j, a) in ri.addresses.iter().enumerate() {
            match Cidr::parse(a) {
                Some(c) => {
                    if addresses.contains(&c) {
                        self.at(
                            &format!("{ipath}.addresses.{j}"),
                            format!("duplicate address {c}"),
                            None,
                        );
                    }
                    addresses.push(c)
                }
                None => self.at(
                    &format!("{ipath}.addresses.{j}"),
                    format!("invalid CIDR `{a}`"),
                    Some(
                        "write an address with its prefix length, e.g. 10.0.0.1/24 or fd00::1/64"
                            .into(),
                    ),
                ),
            }
        }

        let mac = match &ri.mac {
            None => Mac::derived(node, ifname),
            Some(s) => match Mac::parse(s) {
                Some(m) if m.0[0] & 1 == 1 => {
                    self.at(
                        &format!("{ipath}.mac"),
                        format!("MAC `{s}` is a multicast address"),
                        Some("the first byte must be even, e.g. 02:00:00:00:00:01".into()),
                    );
                    m
                }
                Some(m) if m.0 == [0; 6] => {
                    self.at(
                        &format!("{ipath}.mac"),
                        "MAC 00:00:00:00:00:00 is not valid for an interface",
                        None,
                    );
                    m
                }
                Some(m) => m,
                None => {
                    self.at(
                        &format!("{ipath}.mac"),
                        format!("invalid MAC `{s}`"),
                        Some(
                            "write six hex bytes separated by colons, e.g. 02:00:00:00:00:01"
                                .into(),
                        ),
                    );
                    Mac::derived(node, ifname)
                }
            },
        };
        if let Some(mtu) = ri.mtu {
            if !(68..=65535).contains(&mtu) {
                self.at(
                    &format!("{ipath}.mtu"),
                    format!("mtu {mtu} is out of range"),
                    Some("the kernel accepts 68 to 65535 for these links".into()),
                );
            }
        }
        let port = ri.port.clone().unwrap_or_default();
        if ri.port.is_some() && ri.master.is_none() {
            self.at_key(
                &format!("{ipath}.port"),
                format!("`port:` options on {node}:{ifname}, which has no `master`"),
                Some("port options apply to a bridge port; add `master: BRIDGE`".into()),
            );
        }
        if ri.bridge.is_some() && !matches!(kind, IfKind::Bridge(_)) {
            self.at_key(
                &format!("{ipath}.bridge"),
                format!(
                    "`bridge:` options on {node}:{ifname}, which is a {}",
                    kind.name()
                ),
                Some("`bridge:` belongs to an interface with `kind: bridge`".into()),
            );
        }
        Some(Interface {
            name: ifname.to_string(),
            kind,
            mac,
            mtu: ri.mtu,
            up: ri.up.unwrap_or(true),
            master: ri.master.clone(),
            addresses,
            dad: ri.dad.unwrap_or(false),
            port,
        })
    }

    fn kind(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<IfKind> {
        let local_ifs = &names.nodes[node];
        let misplaced = |k: &str, ri: &RawInterface| -> Vec<&'static str> {
            let mut v = Vec::new();
            if k != "macvlan" {
                if ri.parent.is_some() {
                    v.push("parent")
                }
                if ri.mode.is_some() {
                    v.push("mode")
                }
            }
            if k != "vxlan" {
                if ri.vni.is_some() {
                    v.push("vni")
                }
                if ri.local.is_some() {
                    v.push("local")
                }
                if ri.remote.is_some() {
                    v.push("remote")
                }
                if ri.dev.is_some() {
                    v.push("dev")
                }
                if ri.dstport.is_some() {
                    v.push("dstport")
                }
            }
            if k != "veth" && ri.peer.is_some() {
                v.push("peer")
            }
            v
        };
        let kind_name = local_ifs[ifname];
        for key in misplaced(kind_name, ri) {
            self.at_key(
                &format!("{ipath}.{key}"),
                format!("`{key}` does not apply to {node}:{ifname}, a {kind_name}"),
                None,
            );
        }
        match kind_name {
            "bridge" => {
                let mut o = BridgeOptions::default();
                if let Some(b) = &ri.bridge {
                    o.stp = b.stp;
                    o.ageing_time_cs = b
                        .ageing_time
                        .as_ref()
                        .and_then(|d| self.duration(&format!("{ipath}.bridge.ageing_time"), d))
                        .map(centis);
                    o.forward_delay_cs = b
                        .forward_delay
                        .as_ref()
                        .and_then(|d| self.duration(&format!("{ipath}.bridge.forward_delay"), d))
                        .map(centis);
                    o.hello_time_cs = b
                        .hello_time
                        .as_ref()
                        .and_then(|d| self.duration(&format!("{ipath}.bridge.hello_time"), d))
                        .map(centis);
                    o.priority = b.priority;
                    o.mcast_snooping = b.mcast_snooping;
                    o.vlan_filtering = b.vlan_filtering;
                }
                Some(IfKind::Bridge(o))
            }
            "macvlan" => {
                let Some(parent) = &ri.parent else {
                    self.at_key(
                        ipath,
                        format!("macvlan {node}:{ifname} needs `parent`"),
                        Some("name the interface it sits on: `eth0` in this node, or `node:eth0` in another".into()),
                    );
                    return None;
                };
                let parent = if parent.contains(':') {
                    self.ifref(&format!("{ipath}.parent"), parent, names)?
                } else {
                    self.local_if(&format!("{ipath}.parent"), node, parent, local_ifs);
                    IfRef {
                        node: node.to_string(),
                        ifname: parent.clone(),
                    }
                };
                let mode = match ri.mode.unwrap_or(RawMacvlanMode::Bridge) {
                    RawMacvlanMode::Private => MacvlanMode::Private,
                    RawMacvlanMode::Vepa => MacvlanMode::Vepa,
                    RawMacvlanMode::Bridge => MacvlanMode::Bridge,
                    RawMacvlanMode::Passthru => MacvlanMode::Passthru,
                };
                Some(IfKind::Macvlan { parent, mode })
            }
            "vxlan" => {
                let Some(vni) = ri.vni else {
                    self.at_key(ipath, format!("vxlan {node}:{ifname} needs `vni`"), None);
                    return None;
                };
                let local = ri
                    .local
                    .as_ref()
                    .and_then(|a| self.ip(&format!("{ipath}.local"), a));
                let remote = ri
                    .remote
                    .as_ref()
                    .and_then(|a| self.ip(&format!("{ipath}.remote"), a));
                if let Some(d) = &ri.dev {
                    self.local_if(&format!("{ipath}.dev"), node, d, local_ifs);
                }
                Some(IfKind::Vxlan {
                    vni,
                    local,
                    remote,
                    dev: ri.dev.clone(),
                    dstport: ri.dstport.unwrap_or(4789),
                })
            }
            _ => self.veth(node, ifname, ipath, ri, raw, names),
        }
    }

    fn veth(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<IfKind> {
        // Who names this interface as their peer?
        let me = format!("{node}:{ifname}");
        let claimants: Vec<(String, String)> = raw
            .nodes
            .iter()
            .flat_map(|(n, rn)| rn.interfaces.iter().map(move |(i, ri)| (n, i, ri)))
            .filter(|(_, _, ri)| ri.peer.as_deref() == Some(me.as_str()))
            .map(|(n, i, _)| (n.clone(), i.clone()))
            .collect();
        match &ri.peer {
            Some(p) => {
                let ppath = format!("{ipath}.peer");
                let peer = self.ifref(&ppath, p, names)?;
                if peer.node == node && peer.ifname == ifname {
                    self.at(&ppath, format!("{me} cannot be its own peer"), None);
                    return None;
                }
                let peer_kind = names.nodes[&peer.node][&peer.ifname];
                if peer_kind != "veth" {
                    self.at(
                        &ppath,
                        format!("peer {p} is a {peer_kind}, not a veth"),
                        None,
                    );
                    return None;
                }
                // If the other end names a peer too, it must name us.
                let other = raw
                    .nodes
                    .get(&peer.node)
                    .and_then(|n| n.interfaces.get(&peer.ifname));
                if let Some(op) = other.and_then(|o| o.peer.as_ref()) {
                    if op != &me {
                        self.at(
                            &ppath,
                            format!("{p} is already the peer of {op}"),
                            Some("a veth pair has exactly two ends".into()),
                        );
                        return None;
                    }
                }
                if claimants.len() > 1
                    || claimants
                        .iter()
                        .any(|c| c.0 != peer.node || c.1 != peer.ifname)
                {
                    let others: Vec<String> =
                        claimants.iter().map(|(n, i)| format!("{n}:{i}")).collect();
                    self.at(
                        &ppath,
                        format!("{me} is named as a peer by {}", others.join(" and ")),
                        Some("a veth pair has exactly two ends".into()),
                    );
                    return None;
                }
                // When both ends name each other, the end that sorts first creates the pair.
                let creates = claimants.is_empty()
                    || (node, ifname) < (peer.node.as_str(), peer.ifname.as_str());
                Some(IfKind::Veth { peer, creates })
            }
            None => match claimants.as_slice() {
                [(n, i)] => Some(IfKind::Veth {
                    peer: IfRef {
                        node: n.clone(),
                        ifname: i.clone(),
                    },
                    creates: false,
                }),
                [] => {
                    self.at_key(ipath, format!("interface {me} has no kind"), Some("give `peer: node:ifname` for a veth pair, or `kind: bridge`, `macvlan` or `vxlan`".into()));
                    None
                }
                many => {
                    let others: Vec<String> =
                        many.iter().map(|(n, i)| format!("{n}:{i}")).collect();
                    self.at_key(
                        ipath,
                        format!("{me} is named as a peer by {}", others.join(" and ")),
                        Some("a veth pair has exactly two ends".into()),
                    );
                    None
                }
            },
        }
    }

    fn local_if(
        &mut self,
        path: &str,
        node: &str,
        name: &str,
        local_ifs: &BTreeMap<String, &'static str>,
    ) {
        if !local_ifs.contains_key(name) {
            let hint = did_you_mean(name, local_ifs.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"));
            self.at(
                path,
                format!("unknown interface `{name}` in node {node}"),
                hint,
            );
        }
    }

    /// Resolves `node:ifname` against pass one's names.
    fn ifref(&mut self, path: &str, s: &str, names: &Names) -> Option<IfRef> {
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
            node: n.to_string(),
            ifname: i.to_string(),
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

    fn route_error(&mut self, path: &str, msg: String) -> Option<Route> {
        self.at(path, msg, Some("forms: `default via A`, `P via A`, `P dev IF`, `P via A dev IF`, `blackhole P`, `unreachable P`, with optional `metric N`, `table N`".into()));
        None
    }

    fn route(&mut self, path: &str, text: &str, node: &Node, check_gateway: bool) -> Option<Route> {
        let toks: Vec<&str> = text.split_whitespace().collect();
        let bad = |r: &mut Self, msg: String| r.route_error(path, msg);
        let (kind, rest) = match toks.first() {
            Some(&"blackhole") => (RouteType::Blackhole, &toks[1..]),
            Some(&"unreachable") => (RouteType::Unreachable, &toks[1..]),
            Some(_) => (RouteType::Unicast, &toks[..]),
            None => return bad(self, "empty route".into()),
        };
        let Some((dst_tok, opts)) = rest.split_first() else {
            return bad(self, format!("route `{text}` has no destination"));
        };
        let mut via = None;
        let mut dev = None;
        let mut metric = None;
        let mut table = None;
        let mut it = opts.iter();
        while let Some(k) = it.next() {
            let Some(v) = it.next() else {
                return bad(self, format!("`{k}` needs a value in route `{text}`"));
            };
            match *k {
                "via" => via = Some(self.ip(path, v)?),
                "dev" => dev = Some(v.to_string()),
                "metric" => match v.parse::<u32>() {
                    Ok(m) => metric = Some(m),
                    Err(_) => return bad(self, format!("invalid metric `{v}`")),
                },
                "table" => match *v {
                    "main" => table = Some(254),
                    "local" => table = Some(255),
                    _ => match v.parse::<u32>() {
                        Ok(t) => table = Some(t),
                        Err(_) => return bad(self, format!("invalid table `{v}`")),
                    },
                },
                other => return bad(self, format!("unknown word `{other}` in route `{text}`")),
            }
        }
        let dst = if *dst_tok == "default" {
            let v6 = via.map(|v| v.is_ipv6()).unwrap_or(false);
            Cidr {
                addr: if v6 {
                    IpAddr::from([0u16; 8])
                } else {
                    IpAddr::from([0u8; 4])
                },
                prefix: 0,
            }
        } else if let Some(c) = Cidr::parse(dst_tok) {
            c.network()
        } else if let Ok(a) = dst_tok.parse::<IpAddr>() {
            Cidr {
                addr: a,
                prefix: if a.is_ipv4() { 32 } else { 128 },
            }
        } else {
            return bad(
                self,
                format!("invalid destination `{dst_tok}` in route `{text}`"),
            );
        };
        if let Some(v) = via {
            if v.is_ipv4() != dst.addr.is_ipv4() {
                return bad(
                    self,
                    format!("gateway {v} and destination {dst} are of different families"),
                );
            }
        }
        if kind != RouteType::Unicast && (via.is_some() || dev.is_some()) {
            return bad(
                self,
                format!(
                    "a {} route takes no `via` or `dev`",
                    if kind == RouteType::Blackhole {
                        "blackhole"
                    } else {
                        "unreachable"
                    }
                ),
            );
        }
        if kind == RouteType::Unicast && via.is_none() && dev.is_none() {
            return bad(self, format!("route `{text}` needs `via` or `dev`"));
        }
        if let Some(d) = &dev {
            if node.interface(d).is_none() {
                let hint = did_you_mean(d, node.interfaces.iter().map(|i| i.name.as_str()))
                    .map(|m| format!("did you mean `{m}`?"));
                self.at(
                    path,
                    format!(
                        "route `{text}`: unknown interface `{d}` in node {}",
                        node.name
                    ),
                    hint,
                );
                return None;
            }
        }
        if let Some(v) = via.filter(|_| check_gateway) {
            let link_local_v6 = matches!(v, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80);
            let on_link = node
                .interfaces
                .iter()
                .filter(|i| dev.as_deref().is_none_or(|d| d == i.name))
                .flat_map(|i| &i.addresses)
                .any(|c| c.contains(v));
            if !(on_link || link_local_v6 && dev.is_some()) {
                self.at(path, format!("gateway {v} of route `{text}` is not reachable on any interface of node {}", node.name),
                    Some("the gateway must be inside the subnet of one of the node's addresses".into()));
                return None;
            }
        }
        Some(Route {
            text: text.to_string(),
            kind,
            dst,
            via,
            dev,
            metric,
            table,
        })
    }

    fn step(
        &mut self,
        i: usize,
        raw: &RawStep,
        sc: &Scenario,
        labels: &mut BTreeSet<String>,
        step_timeout: Duration,
    ) -> Option<Step> {
        let path = format!("steps.{i}");
        let pos = self.spans.value(&path);
        let mut actions = Vec::new();
        if raw.ping.is_some() {
            actions.push("ping")
        }
        if raw.arping.is_some() {
            actions.push("arping")
        }
        if raw.link.is_some() {
            actions.push("link")
        }
        if raw.check.is_some() {
            actions.push("check")
        }
        if raw.snapshot.is_some() {
            actions.push("snapshot")
        }
        if raw.sleep.is_some() {
            actions.push("sleep")
        }
        for (set, name) in [
            (raw.address.is_some(), "address"),
            (raw.route.is_some(), "route"),
            (raw.sysctl.is_some(), "sysctl"),
            (raw.neigh.is_some(), "neigh"),
            (raw.fdb.is_some(), "fdb"),
        ] {
            if set {
                actions.push(name)
            }
        }
        if raw.within.is_some() && raw.check.is_none() {
            self.at(
                &format!("{path}.within"),
                "`within` applies to a `check` step only",
                Some("to wait for a probe, give it a `timeout`".into()),
            );
            return None;
        }
        let action = match actions.as_slice() {
            [] => {
                self.at(
                    &path,
                    format!("step {} has no action", i + 1),
                    Some("a step is one of: ping, arping, link, check, snapshot, sleep, address, route, sysctl, neigh, fdb".into()),
                );
                return None;
            }
            [_] => {
                if let Some(p) = &raw.ping {
                    Action::Ping(self.ping(&format!("{path}.ping"), p, sc)?)
                } else if let Some(a) = &raw.arping {
                    Action::Arping(self.arping(&format!("{path}.arping"), a, sc)?)
                } else if let Some(l) = &raw.link {
                    self.link_step(&format!("{path}.link"), l, sc)?
                } else if let Some(c) = &raw.check {
                    self.check(&format!("{path}.check"), c, raw.within.as_deref(), sc)?
                } else if let Some(s) = &raw.snapshot {
                    Action::Snapshot(self.snapshot(&format!("{path}.snapshot"), s, sc, labels)?)
                } else if let Some(a) = &raw.address {
                    self.address_step(&format!("{path}.address"), a, sc)?
                } else if let Some(r) = &raw.route {
                    self.route_step(&format!("{path}.route"), r, sc)?
                } else if let Some(x) = &raw.sysctl {
                    self.sysctl_step(&format!("{path}.sysctl"), x, sc)?
                } else if let Some(n) = &raw.neigh {
                    self.neigh_step(&format!("{path}.neigh"), n, sc)?
                } else if let Some(f) = &raw.fdb {
                    self.fdb_step(&format!("{path}.fdb"), f, sc)?
                } else {
                    Action::Sleep(self.duration(&format!("{path}.sleep"), raw.sleep.as_deref()?)?)
                }
            }
            many => {
                self.at(
                    &path,
                    format!("step {} has several actions: {}", i + 1, many.join(", ")),
                    Some("write each action as its own list item".into()),
                );
                return None;
            }
        };
        let timeout = match &raw.timeout {
            Some(t) => self.duration(&format!("{path}.timeout"), t)?,
            None => step_timeout,
        };
        Some(Step {
            index: i + 1,
            name: raw.name.clone(),
            pos,
            action,
            timeout,
        })
    }

    fn node_ref(&mut self, path: &str, n: &str, sc: &Scenario) -> Option<String> {
        if sc.node(n).is_some() {
            return Some(n.to_string());
        }
        let hint = did_you_mean(n, sc.nodes.iter().map(|x| x.name.as_str()))
            .map(|m| format!("did you mean `{m}`?"));
        self.at(path, format!("unknown node `{n}`"), hint);
        None
    }

    fn sc_ifref(&mut self, path: &str, s: &str, sc: &Scenario) -> Option<IfRef> {
        let names = Names {
            nodes: sc
                .nodes
                .iter()
                .map(|n| {
                    (
                        n.name.clone(),
                        n.interfaces
                            .iter()
                            .map(|i| (i.name.clone(), i.kind.name()))
                            .collect(),
                    )
                })
                .collect(),
        };
        self.ifref(path, s, &names)
    }

    /// An address target: an IP, or `node:if` standing for that interface's first address
    /// (of the given family, when one is required).
    fn target(&mut self, path: &str, s: &str, sc: &Scenario, v4_only: bool) -> Option<IpAddr> {
        if let Ok(a) = s.parse::<IpAddr>() {
            if v4_only && a.is_ipv6() {
                self.at(
                    path,
                    format!("{a} is an IPv6 address; ARP is IPv4 only"),
                    Some("use ping to test IPv6 neighbour discovery".into()),
                );
                return None;
            }
            return Some(a);
        }
        if !s.contains(':') {
            self.at(
                path,
                format!("`{s}` is neither an IP address nor a node:interface reference"),
                None,
            );
            return None;
        }
        let r = self.sc_ifref(path, s, sc)?;
        let iface = sc.interface(&r)?;
        match iface
            .addresses
            .iter()
            .find(|c| !v4_only || c.addr.is_ipv4())
        {
            Some(c) => Some(c.addr),
            None => {
                self.at(
                    path,
                    format!(
                        "{s} has no {}address to stand for",
                        if v4_only { "IPv4 " } else { "" }
                    ),
                    Some("give the interface `addresses`, or write an IP".into()),
                );
                None
            }
        }
    }

    fn mac_ref(&mut self, path: &str, s: &str, sc: &Scenario) -> Option<(Mac, String)> {
        if let Some(m) = Mac::parse(s) {
            return Some((m, s.to_string()));
        }
        if s.matches(':').count() == 1 {
            let r = self.sc_ifref(path, s, sc)?;
            return sc.interface(&r).map(|i| (i.mac, s.to_string()));
        }
        self.at(
            path,
            format!("`{s}` is neither a MAC nor a node:interface reference"),
            Some(
                "write a MAC like 02:00:00:00:00:01, or the interface that owns it, like net2:eth0"
                    .into(),
            ),
        );
        None
    }

    fn ping(&mut self, path: &str, p: &RawPing, sc: &Scenario) -> Option<Ping> {
        let Some(from) = &p.from else {
            self.at(
                path,
                "ping needs `from`",
                Some(format!(
                    "name the node that sends, e.g. `from: {}`",
                    sc.nodes.first().map(|n| n.name.as_str()).unwrap_or("net1")
                )),
            );
            return None;
        };
        let Some(to) = &p.to else {
            self.at(
                path,
                "ping needs `to`",
                Some("an IP address, or node:interface for its first address".into()),
            );
            return None;
        };
        let (from_node, from_if) = if from.contains(':') {
            let r = self.sc_ifref(&format!("{path}.from"), from, sc)?;
            (r.node, Some(r.ifname))
        } else {
            (self.node_ref(&format!("{path}.from"), from, sc)?, None)
        };
        let to_ip = self.target(&format!("{path}.to"), to, sc, false)?;
        let timeout = match &p.timeout {
            Some(t) => self.duration(&format!("{path}.timeout"), t)?,
            None => DEFAULT_PING_TIMEOUT,
        };
        let count = p.count.unwrap_or(1);
        if count == 0 {
            self.at(&format!("{path}.count"), "count must be at least 1", None);
            return None;
        }
        if p.df == Some(true) && to_ip.is_ipv6() {
            self.at(
                &format!("{path}.df"),
                "`df` applies to IPv4 only; IPv6 never fragments in transit",
                None,
            );
            return None;
        }
        if p.reason.is_some() && p.expect != Some(RawReach::Unreachable) {
            self.at(
                &format!("{path}.reason"),
                "contradictory expectation: `reason` explains an unreachable verdict",
                Some("add `expect: unreachable`, or drop `reason`".into()),
            );
            return None;
        }
        Some(Ping {
            from: from_node,
            from_if,
            to: to_ip,
            to_label: to.clone(),
            count,
            timeout,
            size: p.size.unwrap_or(56),
            df: p.df.unwrap_or(false),
            reason: p.reason.clone(),
            expect: match p.expect.unwrap_or(RawReach::Reachable) {
                RawReach::Reachable => Reach::Reachable,
                RawReach::Unreachable => Reach::Unreachable,
            },
        })
    }

    fn arping(&mut self, path: &str, a: &RawArping, sc: &Scenario) -> Option<Arping> {
        let Some(from) = &a.from else {
            self.at(path, "arping needs `from: node:interface`", None);
            return None;
        };
        let Some(to) = &a.to else {
            self.at(
                path,
                "arping needs `to`",
                Some("an IPv4 address, or node:interface for its first IPv4 address".into()),
            );
            return None;
        };
        let fpath = format!("{path}.from");
        if !from.contains(':') {
            let node = self.node_ref(&fpath, from, sc)?;
            let ifs: Vec<&str> = sc
                .node(&node)
                .map(|n| n.interfaces.iter().map(|i| i.name.as_str()).collect())
                .unwrap_or_default();
            let hint = match ifs.first() {
                Some(i) => format!(
                    "arping sends from an interface; write `{node}:{i}` (node {node} has: {})",
                    ifs.join(", ")
                ),
                None => format!("node {node} has no interface to send from"),
            };
            self.at(
                &fpath,
                format!("arping needs an interface, not just node `{node}`"),
                Some(hint),
            );
            return None;
        }
        let from = self.sc_ifref(&fpath, from, sc)?;
        let to_ip = match self.target(&format!("{path}.to"), to, sc, true)? {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => return None,
        };
        let timeout = match &a.timeout {
            Some(t) => self.duration(&format!("{path}.timeout"), t)?,
            None => DEFAULT_ARPING_TIMEOUT,
        };
        let expect = match &a.expect {
            None | Some(RawArpExpect::Answered) => ArpExpect::Answered,
            Some(RawArpExpect::Unanswered) => ArpExpect::Unanswered,
            Some(RawArpExpect::Mac(m)) => {
                let (mac, label) = self.mac_ref(&format!("{path}.expect.mac"), m, sc)?;
                ArpExpect::Mac(mac, label)
            }
        };
        Some(Arping {
            from,
            to: to_ip,
            timeout,
            expect,
        })
    }

    fn link_step(&mut self, path: &str, l: &RawLinkStep, sc: &Scenario) -> Option<Action> {
        let set_keys = l.mtu.is_some() || l.mac.is_some() || l.master.is_some() || l.port.is_some();
        if let Some(d) = &l.delete {
            if l.up.is_some() || l.down.is_some() || l.set.is_some() || set_keys {
                self.at(path, "`delete` stands alone in a link step", None);
                return None;
            }
            let dev = self.sc_ifref(&format!("{path}.delete"), d, sc)?;
            return Some(Action::Change {
                change: Change::LinkDelete { dev },
                error: l.error.clone(),
            });
        }
        match (&l.up, &l.down, &l.set) {
            (Some(u), None, None) if !set_keys && l.error.is_none() => Some(Action::Link {
                dev: self.sc_ifref(&format!("{path}.up"), u, sc)?,
                up: true,
            }),
            (None, Some(d), None) if !set_keys && l.error.is_none() => Some(Action::Link {
                dev: self.sc_ifref(&format!("{path}.down"), d, sc)?,
                up: false,
            }),
            (None, None, Some(x)) if set_keys => {
                let dev = self.sc_ifref(&format!("{path}.set"), x, sc)?;
                let mut set = LinkSet {
                    mtu: l.mtu,
                    ..Default::default()
                };
                if let Some(m) = &l.mac {
                    let Some(mac) = Mac::parse(m) else {
                        self.at(&format!("{path}.mac"), format!("invalid MAC `{m}`"), None);
                        return None;
                    };
                    set.mac = Some(mac);
                }
                if let Some(m) = &l.master {
                    set.master = Some(if m == "none" {
                        None
                    } else {
                        let nd = sc.node(&dev.node)?;
                        let bridges = || {
                            nd.interfaces
                                .iter()
                                .filter(|i| matches!(i.kind, IfKind::Bridge(_)))
                                .map(|i| i.name.as_str())
                        };
                        if !bridges().any(|b| b == m) {
                            let hint = did_you_mean(m, bridges())
                                .map(|s| format!("did you mean `{s}`?"))
                                .unwrap_or_else(|| "write `master: none` to detach".into());
                            self.at(
                                &format!("{path}.master"),
                                format!("master `{m}` is not a bridge of node {}", dev.node),
                                Some(hint),
                            );
                            return None;
                        }
                        Some(m.clone())
                    });
                }
                set.port = l.port.clone().unwrap_or_default();
                Some(Action::Change {
                    change: Change::LinkSet { dev, set },
                    error: l.error.clone(),
                })
            }
            _ => {
                self.at(
                    path,
                    "a link step is `up: node:if`, `down: node:if`, or `set: node:if` with `mtu`, `mac`, `master` or `port`",
                    Some("e.g. `link: { down: host:veth2 }` or `link: { set: sw:swp1, port: { learning: false } }`".into()),
                );
                None
            }
        }
    }

    /// Which of `add`/`del` a change step has, with its value.
    fn add_or_del<'v>(
        &mut self,
        path: &str,
        add: &'v Option<String>,
        del: &'v Option<String>,
        example: &str,
    ) -> Option<(&'v str, bool, String)> {
        match (add, del) {
            (Some(x), None) => Some((x, true, format!("{path}.add"))),
            (None, Some(x)) => Some((x, false, format!("{path}.del"))),
            _ => {
                self.at(
                    path,
                    "this step takes exactly one of `add` or `del`",
                    Some(format!("e.g. `{example}`")),
                );
                None
            }
        }
    }

    fn address_step(&mut self, path: &str, a: &RawAddressStep, sc: &Scenario) -> Option<Action> {
        let dev = self.sc_ifref(&format!("{path}.dev"), &a.dev, sc)?;
        let (text, add, vpath) = self.add_or_del(
            path,
            &a.add,
            &a.del,
            "address: { add: 10.0.0.5/24, dev: net1:eth0 }",
        )?;
        let Some(cidr) = Cidr::parse(text) else {
            self.at(
                &vpath,
                format!("invalid CIDR `{text}`"),
                Some("write an address with its prefix length, e.g. 10.0.0.1/24".into()),
            );
            return None;
        };
        Some(Action::Change {
            change: Change::Address { dev, cidr, add },
            error: a.error.clone(),
        })
    }

    fn route_step(&mut self, path: &str, r: &RawRouteStep, sc: &Scenario) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &r.node, sc)?;
        let (text, add, vpath) = self.add_or_del(
            path,
            &r.add,
            &r.del,
            "route: { node: net1, add: 10.5.0.0/16 via 10.0.0.2 }",
        )?;
        // An earlier step may make the gateway reachable: the kernel judges it.
        let route = self.route(&vpath, text, sc.node(&node)?, false)?;
        Some(Action::Change {
            change: Change::Route { node, route, add },
            error: r.error.clone(),
        })
    }

    fn sysctl_step(&mut self, path: &str, x: &RawSysctlStep, sc: &Scenario) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &x.node, sc)?;
        if !valid_sysctl_key(&x.key) || !x.key.starts_with("net.") {
            self.at(
                &format!("{path}.key"),
                format!("invalid sysctl `{}`", x.key),
                Some("only net.* sysctls can be set in a node".into()),
            );
            return None;
        }
        let change = Change::Sysctl {
            node,
            key: x.key.clone(),
            value: x.value.0.clone(),
        };
        Some(Action::Change {
            change,
            error: x.error.clone(),
        })
    }

    fn neigh_step(&mut self, path: &str, n: &RawNeighStep, sc: &Scenario) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &n.node, sc)?;
        let op = match (&n.add, &n.del, &n.flush) {
            (Some(a), None, None) => {
                NeighOp::Add(self.static_neigh(&format!("{path}.add"), &node, a, sc)?)
            }
            (None, Some(d), None) => {
                let to = self.target(&format!("{path}.del.to"), &d.to, sc, false)?;
                self.node_if(&format!("{path}.del.dev"), &node, &d.dev, sc)?;
                NeighOp::Del {
                    to,
                    dev: d.dev.clone(),
                }
            }
            (None, None, Some(dev)) => {
                self.node_if(&format!("{path}.flush"), &node, dev, sc)?;
                NeighOp::Flush { dev: dev.clone() }
            }
            _ => {
                self.at(
                    path,
                    "a neigh step takes exactly one of `add`, `del` or `flush`",
                    None,
                );
                return None;
            }
        };
        Some(Action::Change {
            change: Change::Neigh { node, op },
            error: n.error.clone(),
        })
    }

    fn fdb_step(&mut self, path: &str, f: &RawFdbStep, sc: &Scenario) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &f.node, sc)?;
        let op = match (&f.add, &f.del, &f.flush) {
            (Some(a), None, None) => {
                FdbOp::Add(self.static_fdb(&format!("{path}.add"), &node, a, sc, false)?)
            }
            (None, Some(d), None) => {
                let (mac, _) = self.mac_ref(&format!("{path}.del.mac"), &d.mac, sc)?;
                self.node_if(&format!("{path}.del.port"), &node, &d.port, sc)?;
                FdbOp::Del {
                    mac,
                    port: d.port.clone(),
                }
            }
            (None, None, Some(port)) => {
                self.node_if(&format!("{path}.flush"), &node, port, sc)?;
                FdbOp::Flush { port: port.clone() }
            }
            _ => {
                self.at(
                    path,
                    "an fdb step takes exactly one of `add`, `del` or `flush`",
                    None,
                );
                return None;
            }
        };
        Some(Action::Change {
            change: Change::Fdb { node, op },
            error: f.error.clone(),
        })
    }

    /// An interface name of `node`, with a did-you-mean.
    fn node_if(&mut self, path: &str, node: &str, name: &str, sc: &Scenario) -> Option<()> {
        let nd = sc.node(node)?;
        if nd.interface(name).is_some() {
            return Some(());
        }
        let hint = did_you_mean(name, nd.interfaces.iter().map(|i| i.name.as_str()))
            .map(|m| format!("did you mean `{m}`?"));
        self.at(
            path,
            format!("unknown interface `{name}` in node {node}"),
            hint,
        );
        None
    }

    fn static_neigh(
        &mut self,
        path: &str,
        node: &str,
        n: &RawStaticNeigh,
        sc: &Scenario,
    ) -> Option<StaticNeigh> {
        let to = self.target(&format!("{path}.to"), &n.to, sc, false)?;
        let (mac, _) = self.mac_ref(&format!("{path}.mac"), &n.mac, sc)?;
        self.node_if(&format!("{path}.dev"), node, &n.dev, sc)?;
        Some(StaticNeigh {
            to,
            mac,
            dev: n.dev.clone(),
        })
    }

    /// `strict` (the topology) refuses `sticky` without `static`; a runtime step lets the
    /// kernel answer, so that a scenario can assert the kernel's refusal.
    fn static_fdb(
        &mut self,
        path: &str,
        node: &str,
        f: &RawStaticFdb,
        sc: &Scenario,
        strict: bool,
    ) -> Option<StaticFdb> {
        let (mac, _) = self.mac_ref(&format!("{path}.mac"), &f.mac, sc)?;
        self.node_if(&format!("{path}.port"), node, &f.port, sc)?;
        let state = match f.state.unwrap_or(RawFdbState::Static) {
            RawFdbState::Static => FdbState::Static,
            RawFdbState::Dynamic => FdbState::Dynamic,
            RawFdbState::Permanent => FdbState::Permanent,
        };
        let sticky = f.sticky.unwrap_or(false);
        if strict && sticky && state == FdbState::Permanent {
            self.at(
                &format!("{path}.sticky"),
                "`sticky` with `state: permanent`: the kernel refuses it (EINVAL)",
                Some("use `state: static`".into()),
            );
            return None;
        }
        Some(StaticFdb {
            mac,
            port: f.port.clone(),
            state,
            sticky,
        })
    }

    /// `within` may sit inside the check or beside it in the step.
    fn check(
        &mut self,
        path: &str,
        c: &RawCheck,
        step_within: Option<&str>,
        sc: &Scenario,
    ) -> Option<Action> {
        let within = match (&c.within, step_within) {
            (Some(_), Some(_)) => {
                self.at(
                    &format!("{path}.within"),
                    "`within` is given twice",
                    Some("keep the one beside `check:`".into()),
                );
                return None;
            }
            (Some(w), None) => Some(self.duration(&format!("{path}.within"), w)?),
            (None, Some(w)) => {
                let parent = path.trim_end_matches(".check");
                Some(self.duration(&format!("{parent}.within"), w)?)
            }
            (None, None) => None,
        };
        let n = [
            c.neigh.is_some(),
            c.fdb.is_some(),
            c.route.is_some(),
            c.link.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            self.at(
                path,
                "a check takes exactly one of `neigh`, `fdb`, `route` or `link`",
                None,
            );
            return None;
        }
        let check = if let Some(x) = &c.neigh {
            let p = format!("{path}.neigh");
            let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
            let to = self.target(&format!("{p}.to"), &x.to, sc, false)?;
            let mac = match &x.mac {
                Some(m) => Some(self.mac_ref(&format!("{p}.mac"), m, sc)?),
                None => None,
            };
            let present = x.present.unwrap_or(true);
            if !present && (mac.is_some() || x.state.is_some()) {
                self.at(
                    &format!("{p}.present"),
                    "contradictory check: `present: false` with a `mac` or `state`",
                    Some("an absent entry has no MAC or state; drop one of them".into()),
                );
                return None;
            }
            let state = x.state.map(|s| match s {
                RawNeighState::Reachable => NeighState::Reachable,
                RawNeighState::Stale => NeighState::Stale,
                RawNeighState::Delay => NeighState::Delay,
                RawNeighState::Probe => NeighState::Probe,
                RawNeighState::Incomplete => NeighState::Incomplete,
                RawNeighState::Failed => NeighState::Failed,
                RawNeighState::Permanent => NeighState::Permanent,
                RawNeighState::Noarp => NeighState::Noarp,
            });
            Check::Neigh {
                node,
                to,
                mac,
                state,
                present,
            }
        } else if let Some(x) = &c.fdb {
            let p = format!("{path}.fdb");
            let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
            let mac = self.mac_ref(&format!("{p}.mac"), &x.mac, sc)?;
            let nd = sc.node(&node)?;
            if !nd
                .interfaces
                .iter()
                .any(|i| matches!(i.kind, IfKind::Bridge(_)))
            {
                self.at(
                    &format!("{p}.node"),
                    format!("node {node} has no bridge, so no FDB to check"),
                    None,
                );
                return None;
            }
            if let Some(port) = &x.port {
                if nd.interface(port).is_none() {
                    let hint = did_you_mean(port, nd.interfaces.iter().map(|i| i.name.as_str()))
                        .map(|m| format!("did you mean `{m}`?"));
                    self.at(
                        &format!("{p}.port"),
                        format!("unknown interface `{port}` in node {node}"),
                        hint,
                    );
                    return None;
                }
            }
            Check::Fdb {
                node,
                mac,
                port: x.port.clone(),
                present: x.present.unwrap_or(true),
            }
        } else if let Some(x) = &c.route {
            let p = format!("{path}.route");
            let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
            let via = match &x.via {
                Some(v) => Some(self.ip(&format!("{p}.via"), v)?),
                None => None,
            };
            let to = if x.to == "default" {
                let v6 = via.is_some_and(|v| v.is_ipv6());
                Cidr {
                    addr: if v6 {
                        IpAddr::from([0u16; 8])
                    } else {
                        IpAddr::from([0u8; 4])
                    },
                    prefix: 0,
                }
            } else if let Some(c) = Cidr::parse(&x.to) {
                c.network()
            } else if let Ok(a) = x.to.parse::<IpAddr>() {
                Cidr {
                    addr: a,
                    prefix: if a.is_ipv4() { 32 } else { 128 },
                }
            } else if x.to.contains(':') && !x.to.contains("::") {
                let r = self.sc_ifref(&format!("{p}.to"), &x.to, sc)?;
                let Some(c) = sc.interface(&r).and_then(|i| i.addresses.first()) else {
                    self.at(
                        &format!("{p}.to"),
                        format!("{} has no address to stand for", x.to),
                        None,
                    );
                    return None;
                };
                Cidr {
                    addr: c.addr,
                    prefix: if c.addr.is_ipv4() { 32 } else { 128 },
                }
            } else {
                self.at(
                    &format!("{p}.to"),
                    format!("invalid route destination `{}`", x.to),
                    Some("write `default` or a prefix such as 10.0.0.0/24 (a table entry), or an address (a lookup, as `ip route get`)".into()),
                );
                return None;
            };
            if let Some(d) = &x.dev {
                let nd = sc.node(&node)?;
                if nd.interface(d).is_none() {
                    let hint = did_you_mean(d, nd.interfaces.iter().map(|i| i.name.as_str()))
                        .map(|m| format!("did you mean `{m}`?"));
                    self.at(
                        &format!("{p}.dev"),
                        format!("unknown interface `{d}` in node {node}"),
                        hint,
                    );
                    return None;
                }
            }
            let present = x.present.unwrap_or(true);
            if !present && (via.is_some() || x.dev.is_some()) {
                self.at(&format!("{p}.present"), "contradictory check: `present: false` with `via` or `dev`", Some("to check that a route does not go a certain way, check the route it should take".into()));
                return None;
            }
            // A bare address (or node:if) asks the kernel which way it goes, like
            // `ip route get`; `default` or a prefix names a table entry.
            let lookup = x.to != "default" && !x.to.contains('/');
            if lookup && x.table.is_some() {
                self.at(
                    &format!("{p}.table"),
                    "`table` applies to a route entry, not to a lookup",
                    Some("write `to` as a prefix, e.g. 10.0.0.5/32".into()),
                );
                return None;
            }
            Check::Route {
                node,
                to,
                lookup,
                via,
                dev: x.dev.clone(),
                table: x.table,
                present,
            }
        } else {
            let x = c.link.as_ref()?;
            let p = format!("{path}.link");
            let dev = self.sc_ifref(&format!("{p}.dev"), &x.dev, sc)?;
            let present = x.present.unwrap_or(true);
            if !present
                && (x.state.is_some() || x.mtu.is_some() || x.master.is_some() || x.port.is_some())
            {
                self.at(
                    &format!("{p}.present"),
                    "contradictory check: `present: false` with a state",
                    None,
                );
                return None;
            }
            if present
                && x.state.is_none()
                && x.mtu.is_none()
                && x.master.is_none()
                && x.port.is_none()
            {
                self.at(
                    &p,
                    "a link check needs `state`, `port`, `mtu`, `master` or `present: false`",
                    None,
                );
                return None;
            }
            let state = x.state.map(|s| match s {
                RawOperState::Up => OperState::Up,
                RawOperState::Down => OperState::Down,
                RawOperState::Lowerlayerdown => OperState::LowerLayerDown,
                RawOperState::Unknown => OperState::Unknown,
            });
            let master = x
                .master
                .as_ref()
                .map(|m| if m == "none" { None } else { Some(m.clone()) });
            Check::Link {
                dev,
                present,
                state,
                port: x.port.map(|p| format!("{p:?}").to_lowercase()),
                mtu: x.mtu,
                master,
            }
        };
        Some(Action::Check { check, within })
    }

    fn snapshot(
        &mut self,
        path: &str,
        s: &RawSnapshot,
        sc: &Scenario,
        labels: &mut BTreeSet<String>,
    ) -> Option<Snapshot> {
        let (label, nodes, only, lpath) = match s {
            RawSnapshot::Label(l) => (l.clone(), None, None, path.to_string()),
            RawSnapshot::Full(f) => (
                f.label.clone(),
                f.nodes.clone(),
                f.only.clone(),
                format!("{path}.label"),
            ),
        };
        if label.is_empty()
            || !label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.at(
                &lpath,
                format!("invalid snapshot label `{label}`"),
                Some("use letters, digits, `-` and `_`; the label names the .snap file".into()),
            );
            return None;
        }
        if !labels.insert(label.clone()) {
            self.at(
                &lpath,
                format!("duplicate snapshot label `{label}`"),
                Some("each snapshot step of a scenario needs its own label".into()),
            );
            return None;
        }
        for (j, n) in nodes.iter().flatten().enumerate() {
            self.node_ref(&format!("{path}.nodes.{j}"), n, sc)?;
        }
        for (j, o) in only.iter().flatten().enumerate() {
            if !SNAPSHOT_SECTIONS.contains(&o.as_str()) {
                let hint = did_you_mean(o, SNAPSHOT_SECTIONS)
                    .map(|m| {
                        format!(
                            "did you mean `{m}`? valid: {}",
                            SNAPSHOT_SECTIONS.join(", ")
                        )
                    })
                    .or_else(|| Some(format!("valid: {}", SNAPSHOT_SECTIONS.join(", "))));
                self.at(
                    &format!("{path}.only.{j}"),
                    format!("unknown snapshot section `{o}`"),
                    hint,
                );
                return None;
            }
        }
        Some(Snapshot { label, nodes, only })
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

fn check_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > IFNAME_MAX {
        return Err(format!(
            "it is {} bytes; the kernel allows at most {IFNAME_MAX} (IFNAMSIZ - 1)",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err("the kernel rejects `.` and `..`".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| *c == '/' || *c == ':' || c.is_whitespace())
    {
        return Err(format!("it contains {c:?}; the kernel rejects `/` and whitespace, and `:` separates node from interface"));
    }
    if name == "lo" {
        return Err("`lo` exists in every node already".into());
    }
    Ok(())
}

fn check_node_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 32 {
        return Err("use 1 to 32 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("use letters, digits, `-` and `_`".into());
    }
    Ok(())
}

fn valid_sysctl_key(k: &str) -> bool {
    !k.is_empty()
        && !k.contains("..")
        && !k.starts_with('.')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}
