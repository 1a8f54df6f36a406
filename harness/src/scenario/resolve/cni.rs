//! CNI networks, attachments and steps, and netavark steps: what netspec hands to a
//! plugin is checked here, so that no scenario can point a plugin at the machine (a
//! dataDir, a plugin path, a CNI_PATH) or smuggle a NUL into its environment.

use std::io::Read;

use serde_json::{Map, Value};

use super::Resolver;
use crate::scenario::cni::CNI_VERSIONS;
use crate::scenario::model::*;
use crate::scenario::names::check_ifname;
use crate::scenario::raw::Scalar;
use crate::scenario::raw_services::{
    RawCniAttach, RawCniExpect, RawCniNetwork, RawCniStep, RawNetavarkStep,
};

/// The largest network file netspec reads.
const FILE_MAX: u64 = 1 << 20;

/// Names as the CNI specification allows them for networks and container IDs.
fn cni_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A plugin's `type`, which becomes a file name in the plugin folders.
fn plugin_type(s: &str) -> bool {
    cni_name(s) && !s.contains("..")
}

/// The attachment's fields, shared by the topology form and the step.
struct AttachFields<'a> {
    network: &'a str,
    host: Option<&'a str>,
    ifname: Option<&'a str>,
    id: Option<&'a str>,
    args: &'a std::collections::BTreeMap<String, Scalar>,
    runtime_config: &'a Map<String, Value>,
}

impl Resolver<'_> {
    /// The top-level `cni:` networks.
    pub(super) fn cni_networks(
        &mut self,
        raw: &std::collections::BTreeMap<String, RawCniNetwork>,
    ) -> Vec<CniNetwork> {
        let mut out = Vec::new();
        for (name, conf) in raw {
            out.extend(self.cni_network(&format!("cni.{name}"), name, conf));
        }
        out
    }

    fn cni_network(&mut self, path: &str, name: &str, raw: &RawCniNetwork) -> Option<CniNetwork> {
        if !cni_name(name) {
            self.at_key(
                path,
                format!("`{name}` is not a CNI network name"),
                Some("letters, digits, `_`, `.` and `-`, starting with a letter or digit".into()),
            );
            return None;
        }
        let conf = match raw.get("file") {
            Some(f) => self.cni_file(&format!("{path}.file"), f, raw.len())?,
            None => raw.clone(),
        };
        // A file's mistakes are in the file: point at its `file:` key.
        let at = |p: &str| {
            if raw.contains_key("file") {
                format!("{path}.file")
            } else {
                format!("{path}.{p}")
            }
        };
        if let Some(n) = conf.get("name") {
            if n.as_str() != Some(name) {
                self.at(
                    &at("name"),
                    format!("the network's `name` is {n}, but it is listed as `{name}`"),
                    Some("leave `name` out: the key under `cni:` is the name".into()),
                );
                return None;
            }
        }
        let version = match conf.get("cniVersion").and_then(|v| v.as_str()) {
            Some(v) if CNI_VERSIONS.contains(&v) => v.to_string(),
            other => {
                self.at(
                    &at("cniVersion"),
                    format!(
                        "unsupported or missing cniVersion {}",
                        other.map_or("(none)".to_string(), |v| format!("`{v}`"))
                    ),
                    Some(format!("write one of {}", CNI_VERSIONS.join(", "))),
                );
                return None;
            }
        };
        let plugins = self.cni_plugins(&at("plugins"), &conf)?;
        for (i, p) in plugins.iter().enumerate() {
            let p_at = if conf.contains_key("plugins") {
                at(&format!("plugins.{i}"))
            } else {
                path.to_string()
            };
            self.cni_plugin(&p_at, p)?;
        }
        Some(CniNetwork {
            name: name.to_string(),
            version,
            plugins,
        })
    }

    /// A list's `plugins`, or a single config as a list of one. `at` is where to point.
    fn cni_plugins(
        &mut self,
        at: &str,
        conf: &Map<String, Value>,
    ) -> Option<Vec<Map<String, Value>>> {
        match conf.get("plugins") {
            Some(Value::Array(list)) if !list.is_empty() => {
                let mut plugins = Vec::new();
                for (i, p) in list.iter().enumerate() {
                    let Some(obj) = p.as_object() else {
                        self.at(&format!("{at}.{i}"), "a plugin is a map", None);
                        return None;
                    };
                    plugins.push(obj.clone());
                }
                Some(plugins)
            }
            Some(_) => {
                self.at(
                    at,
                    "`plugins` is a list of at least one plugin config",
                    None,
                );
                None
            }
            None => {
                let mut single = conf.clone();
                single.remove("name");
                single.remove("cniVersion");
                Some(vec![single])
            }
        }
    }

    /// One plugin's config: a plain binary name, and nothing that is the runtime's to set.
    fn cni_plugin(&mut self, path: &str, p: &Map<String, Value>) -> Option<()> {
        let ty = p.get("type").and_then(|t| t.as_str());
        let Some(ty) = ty.filter(|t| plugin_type(t)) else {
            self.at(
                path,
                format!(
                    "a plugin's `type` must be the plain name of a plugin binary, not {}",
                    p.get("type")
                        .map_or("(none)".to_string(), |t| t.to_string())
                ),
                Some("e.g. `type: bridge`; plugins are found in netspec's CNI folders only".into()),
            );
            return None;
        };
        for key in ["runtimeConfig", "prevResult", "args"] {
            if p.contains_key(key) {
                self.at(
                    path,
                    format!("plugin `{ty}` sets `{key}`, which is the runtime's to set"),
                    Some("give `runtimeConfig` and `args` on the attachment or the step".into()),
                );
                return None;
            }
        }
        let Some(ipam) = p.get("ipam") else {
            return Some(());
        };
        let ipam_type = ipam.get("type").and_then(|t| t.as_str());
        if !ipam_type.is_some_and(plugin_type) {
            self.at(
                &format!("{path}.ipam.type"),
                format!(
                    "the `ipam.type` of plugin `{ty}` must be the plain name of a plugin binary"
                ),
                Some("e.g. `ipam: {type: host-local, ...}`".into()),
            );
            return None;
        }
        if ipam.get("dataDir").is_some() {
            self.at(
                &format!("{path}.ipam.dataDir"),
                format!("plugin `{ty}` sets `ipam.dataDir`: IPAM state stays in the run's private folder"),
                Some("leave `dataDir` out: netspec sets it to a folder that only this run can see".into()),
            );
            return None;
        }
        Some(())
    }

    /// `{file: NAME}`: a config or conflist beside the scenario, never through a symlink.
    fn cni_file(&mut self, path: &str, f: &Value, keys: usize) -> Option<Map<String, Value>> {
        let name = f.as_str().unwrap_or_default();
        let plain = !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && [".conf", ".conflist", ".json"]
                .iter()
                .any(|e| name.ends_with(e));
        if keys != 1 || !plain {
            self.at(
                path,
                format!("`file` must stand alone and name a file beside the scenario, not {f}"),
                Some("e.g. `file: cni0.conflist` (.conf, .conflist or .json, no folders)".into()),
            );
            return None;
        }
        let dir = self.file.parent().unwrap_or(std::path::Path::new("."));
        match read_plain_file(&dir.join(name)) {
            Ok(text) => match serde_json::from_str::<Map<String, Value>>(&text) {
                Ok(m) => Some(m),
                Err(e) => {
                    self.at(path, format!("{name} is not a JSON object: {e}"), None);
                    None
                }
            },
            Err(e) => {
                self.at(path, format!("cannot read {name}: {e}"), None);
                None
            }
        }
    }

    /// A node's `cni:` list: the topology form.
    pub(super) fn cni_attachments(
        &mut self,
        node: &str,
        raw: &[RawCniAttach],
        sc: &Scenario,
    ) -> Vec<CniAttachment> {
        let mut out = Vec::new();
        for (i, a) in raw.iter().enumerate() {
            let fields = AttachFields {
                network: &a.network,
                host: a.host.as_deref(),
                ifname: a.ifname.as_deref(),
                id: a.id.as_deref(),
                args: &a.args,
                runtime_config: &a.runtime_config,
            };
            let path = format!("nodes.{node}.cni.{i}");
            out.extend(self.cni_attachment(&path, &path, node, &fields, sc));
        }
        out
    }

    pub(super) fn cni_step(
        &mut self,
        path: &str,
        raw: &RawCniStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let (command, container) = match (&raw.add, &raw.check, &raw.del) {
            (Some(c), None, None) => (CniCommand::Add, c),
            (None, Some(c), None) => (CniCommand::Check, c),
            (None, None, Some(c)) => (CniCommand::Del, c),
            _ => {
                self.at(
                    path,
                    "a `cni` step takes exactly one of `add`, `check` or `del`, naming the container node",
                    Some("e.g. `cni: {add: c1, network: cni0net}`".into()),
                );
                return None;
            }
        };
        let key = format!("{path}.{}", command.word().to_lowercase());
        let fields = AttachFields {
            network: &raw.network,
            host: raw.host.as_deref(),
            ifname: raw.ifname.as_deref(),
            id: raw.id.as_deref(),
            args: &raw.args,
            runtime_config: &raw.runtime_config,
        };
        let attachment = self.cni_attachment(path, &key, container, &fields, sc)?;
        let version = sc
            .cni
            .iter()
            .find(|n| n.name == raw.network)
            .map(|n| n.version.as_str());
        if command == CniCommand::Check && version.is_some_and(|v| v.starts_with("0.3")) {
            self.at(
                &key,
                "CHECK needs cniVersion 0.4.0 or later",
                Some("the network's plugins would refuse it; use cniVersion 0.4.0 or 1.0.0".into()),
            );
            return None;
        }
        let expect = match &raw.expect {
            Some(e) => self.cni_expect(
                &format!("{path}.expect"),
                e,
                command == CniCommand::Del,
                false,
            )?,
            None => CniExpect::default(),
        };
        Some(Action::Cni(CniStep {
            command,
            attachment,
            expect,
        }))
    }

    /// `key` is where the container node is named.
    fn cni_attachment(
        &mut self,
        path: &str,
        key: &str,
        container: &str,
        f: &AttachFields,
        sc: &Scenario,
    ) -> Option<CniAttachment> {
        if !sc.cni.iter().any(|n| n.name == f.network) {
            let hint = crate::scenario::diag::did_you_mean(
                f.network,
                sc.cni.iter().map(|n| n.name.as_str()),
            )
            .map(|m| format!("did you mean `{m}`?"))
            .or(Some("declare it under the top-level `cni:`".into()));
            self.at(
                &format!("{path}.network"),
                format!("unknown CNI network `{}`", f.network),
                hint,
            );
            return None;
        }
        let container = self.node_ref(key, container, sc)?;
        let host = self.host_node(path, f.host, &container, sc)?;
        let ifname = f.ifname.unwrap_or("eth0");
        if let Err(e) = check_ifname(ifname) {
            self.at(&format!("{path}.ifname"), e, None);
            return None;
        }
        let id = f.id.map_or_else(|| container.to_string(), str::to_string);
        if !cni_name(&id) {
            self.at(
                &format!("{path}.id"),
                format!("`{id}` is not a CNI container ID"),
                Some("letters, digits, `_`, `.` and `-`, starting with a letter or digit".into()),
            );
            return None;
        }
        let args = self.cni_args(path, f.args)?;
        Some(CniAttachment {
            network: f.network.to_string(),
            container,
            host,
            ifname: ifname.to_string(),
            id,
            args,
            runtime_config: f.runtime_config.clone(),
        })
    }

    /// The node the plugin runs in: `host:` or the node named `host`; never the container.
    fn host_node(
        &mut self,
        path: &str,
        host: Option<&str>,
        container: &str,
        sc: &Scenario,
    ) -> Option<NodeName> {
        let host = match host {
            Some(h) => self.node_ref(&format!("{path}.host"), h, sc)?,
            None if sc.node("host").is_some() => "host".into(),
            None => {
                self.at(
                    path,
                    "no node plays the host",
                    Some("name it with `host: NODE`, or call a node `host`".into()),
                );
                return None;
            }
        };
        if *host == *container {
            self.at(
                path,
                format!("`{host}` cannot be both the host and the container"),
                Some("the plugin runs in the host's namespace and sets up the container's".into()),
            );
            return None;
        }
        Some(host)
    }

    /// `CNI_ARGS`: `K=V` pairs joined by `;`, so neither may appear inside one.
    fn cni_args(
        &mut self,
        path: &str,
        args: &std::collections::BTreeMap<String, Scalar>,
    ) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (k, v) in args {
            let bad = |s: &str| s.is_empty() || s.contains([';', '=', '\0']);
            if bad(k) || v.0.contains([';', '=', '\0']) {
                self.at(
                    &format!("{path}.args.{k}"),
                    format!("`{k}` cannot go into CNI_ARGS"),
                    Some(
                        "CNI_ARGS is `K=V;K=V`: keys and values cannot hold `;`, `=` or NUL".into(),
                    ),
                );
                return None;
            }
            out.push((k.clone(), v.0.clone()));
        }
        Some(out)
    }

    pub(super) fn cni_expect(
        &mut self,
        path: &str,
        raw: &RawCniExpect,
        no_result: bool,
        netavark: bool,
    ) -> Option<CniExpect> {
        let has_result = raw.ips.is_some()
            || raw.routes.is_some()
            || raw.interfaces.is_some()
            || raw.dns.is_some();
        if has_result && (no_result || raw.error.is_some()) {
            let why = if raw.error.is_some() {
                "a failed command has no result to check"
            } else {
                "this command returns no result"
            };
            self.at(path, why, Some("expect only `error`, or nothing".into()));
            return None;
        }
        if netavark && (raw.routes.is_some() || raw.dns.is_some()) {
            self.at(
                path,
                "netavark's result has no `routes` or `dns` to check",
                None,
            );
            return None;
        }
        let ips = match &raw.ips {
            Some(list) => Some(self.result_lines(&format!("{path}.ips"), list, "gw")?),
            None => None,
        };
        let routes = match &raw.routes {
            Some(list) => Some(self.result_lines(&format!("{path}.routes"), list, "via")?),
            None => None,
        };
        let error = match &raw.error {
            None => None,
            Some(e) => {
                let code = match e.code {
                    Some(_) if netavark => {
                        self.at(
                            &format!("{path}.error.code"),
                            "netavark's errors have no code",
                            None,
                        );
                        return None;
                    }
                    Some(c) if (0..=i64::from(u32::MAX)).contains(&c) => Some(c as u64),
                    Some(c) => {
                        self.at(
                            &format!("{path}.error.code"),
                            format!("error code {c} is out of range"),
                            None,
                        );
                        return None;
                    }
                    None => None,
                };
                let msg = match &e.msg {
                    Some(t) => Some(self.text_match(&format!("{path}.error.msg"), t)?),
                    None => None,
                };
                Some(CniErrorExpect { code, msg })
            }
        };
        Some(CniExpect {
            ips,
            routes,
            interfaces: raw.interfaces.clone(),
            dns: raw.dns.clone(),
            error,
        })
    }

    /// `CIDR` or `CIDR <word> IP`, checked and written back the way results are shown.
    fn result_lines(&mut self, path: &str, list: &[String], word: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for (i, line) in list.iter().enumerate() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let cidr = parts.first().and_then(|c| Cidr::parse(c));
            let gw = match parts.as_slice() {
                [_] => Some(None),
                [_, w, ip] if *w == word => ip.parse::<std::net::IpAddr>().ok().map(Some),
                _ => None,
            };
            match (cidr, gw) {
                (Some(c), Some(None)) => out.push(c.to_string()),
                (Some(c), Some(Some(g))) => out.push(format!("{c} {word} {g}")),
                _ => {
                    self.at(
                        &format!("{path}.{i}"),
                        format!("`{line}` is not `ADDRESS/PREFIX` or `ADDRESS/PREFIX {word} IP`"),
                        None,
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    pub(super) fn netavark_step(
        &mut self,
        path: &str,
        raw: &RawNetavarkStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let (setup, container, word) = match (&raw.setup, &raw.teardown) {
            (Some(c), None) => (true, c, "setup"),
            (None, Some(c)) => (false, c, "teardown"),
            _ => {
                self.at(
                    path,
                    "a `netavark` step takes exactly one of `setup` or `teardown`, naming the container node",
                    None,
                );
                return None;
            }
        };
        let container = self.node_ref(&format!("{path}.{word}"), container, sc)?;
        let host = self.host_node(path, raw.host.as_deref(), &container, sc)?;
        let mut options = raw.options.clone();
        for key in ["container_id", "container_name"] {
            options
                .entry(key)
                .or_insert_with(|| Value::String(container.to_string()));
        }
        if !options
            .get("container_id")
            .and_then(|v| v.as_str())
            .is_some_and(cni_name)
        {
            self.at(
                &format!("{path}.options"),
                "`container_id` must be a plain name",
                None,
            );
            return None;
        }
        if !options.get("networks").is_some_and(|n| n.is_object())
            || !options.get("network_info").is_some_and(|n| n.is_object())
        {
            self.at(
                &format!("{path}.options"),
                "netavark's options need `networks` and `network_info` maps",
                Some("see `netavark`'s network options: networks.NAME.interface_name, network_info.NAME.driver ...".into()),
            );
            return None;
        }
        let expect = match &raw.expect {
            Some(e) => self.cni_expect(&format!("{path}.expect"), e, !setup, true)?,
            None => CniExpect::default(),
        };
        Some(Action::Netavark(NetavarkStep {
            setup,
            container,
            host,
            options: Value::Object(options),
            expect,
        }))
    }
}

/// A regular file's text, read without following a symlink, at most `FILE_MAX` bytes.
fn read_plain_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() || meta.len() > FILE_MAX {
        return Err(std::io::Error::other(format!(
            "not a regular file of at most {FILE_MAX} bytes"
        )));
    }
    let mut text = String::new();
    f.take(FILE_MAX).read_to_string(&mut text)?;
    Ok(text)
}
