//! The CNI specification's exec protocol, as a runtime speaks it: one process per
//! plugin, the network config on stdin with `name`, `cniVersion`, `runtimeConfig` and
//! `prevResult` added, the `CNI_*` variables, and the result or error on stdout.
//!
//! A plugin runs in the host node, under netspec's init (own PID and mount namespaces,
//! all of /run covered), so it and everything it starts die with it. It reaches the
//! container's namespace and the run's private folder only through descriptors the init
//! holds: `/proc/1/fd/5` and `/proc/1/fd/6`.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::netns::Netns;
use crate::nsexec::{self, Finished, Program, Status};
use crate::scenario::{CniAttachment, CniCommand, CniNetwork};
use crate::tool_answer::ToolError;

/// Where distributions install the plugins, searched in order.
const DEFAULT_PATH: &[&str] = &["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"];

/// The container's namespace and the private folder, as the plugin sees them.
pub(crate) const NETNS_IN_PLUGIN: &str = "/proc/1/fd/5";
pub(crate) const SCRATCH_IN_PLUGIN: &str = "/proc/1/fd/6";

/// The plugin folders: `NETSPEC_CNI_PATH` (the machine owner's, absolute folders only),
/// else the distributions' places. A scenario cannot name one.
pub(crate) fn plugin_dirs() -> Vec<PathBuf> {
    match std::env::var("NETSPEC_CNI_PATH") {
        Ok(v) if !v.is_empty() => v
            .split(':')
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() && !p.components().any(|c| c.as_os_str() == ".."))
            .collect(),
        _ => DEFAULT_PATH.iter().map(PathBuf::from).collect(),
    }
}

/// The plugin binary `ty` in the first folder that has it.
pub(crate) fn find_plugin(ty: &str) -> Option<PathBuf> {
    plugin_dirs()
        .into_iter()
        .map(|d| d.join(ty))
        .find(|p| nsexec::find_program(&p.to_string_lossy()).is_some())
}

/// One plugin's config as the runtime hands it over.
pub(super) fn plugin_config(
    net: &CniNetwork,
    plugin: &Map<String, Value>,
    att: &CniAttachment,
    prev: Option<&Value>,
) -> Value {
    let mut c = plugin.clone();
    c.insert("cniVersion".into(), net.version.clone().into());
    c.insert("name".into(), net.name.clone().into());
    let wanted = plugin.get("capabilities").and_then(|c| c.as_object());
    let rc: Map<String, Value> = att
        .runtime_config
        .iter()
        .filter(|(k, _)| wanted.is_some_and(|w| w.get(*k) == Some(&Value::Bool(true))))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !rc.is_empty() {
        c.insert("runtimeConfig".into(), Value::Object(rc));
    }
    if let Some(ipam) = c.get_mut("ipam").and_then(|i| i.as_object_mut()) {
        if ipam.get("type").and_then(|t| t.as_str()) == Some("host-local") {
            let dir = format!("{SCRATCH_IN_PLUGIN}/host-local");
            ipam.insert("dataDir".into(), dir.into());
        }
    }
    if let Some(p) = prev {
        c.insert("prevResult".into(), p.clone());
    }
    Value::Object(c)
}

/// What one plugin run gave.
pub(super) struct PluginRun {
    pub ty: String,
    pub finished: Finished,
}

impl PluginRun {
    pub(super) fn error(&self) -> Option<ToolError> {
        let f = &self.finished;
        match f.status {
            Status::Exited(0) => None,
            Status::Exited(_) => Some(ToolError::from_output(&f.stdout.text(), &f.stderr.text())),
            other => Some(ToolError {
                code: None,
                msg: format!("plugin `{}` {other}, with everything it started", self.ty),
                details: String::new(),
            }),
        }
    }
}

/// An ADD's result: the JSON object the plugin printed, whole.
pub(super) fn add_result(run: &PluginRun) -> Result<Value, ToolError> {
    let out = &run.finished.stdout;
    let fail = |msg: String| ToolError {
        code: None,
        msg,
        details: String::new(),
    };
    if out.cut() {
        return Err(fail(format!(
            "plugin `{}` printed {} bytes, of which only the first {} were kept: its result cannot be judged",
            run.ty,
            out.total,
            out.bytes.len()
        )));
    }
    match serde_json::from_str::<Value>(&out.text()) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(fail(format!(
            "plugin `{}` succeeded but printed no JSON result: {:?}",
            run.ty,
            out.shown(300)
        ))),
    }
}

/// Runs one plugin in `host` for `att`, within `until`.
pub(super) fn run_plugin(
    host: &Netns,
    att: &CniAttachment,
    command: CniCommand,
    config: &Value,
    held: [std::os::fd::RawFd; 2],
    until: Instant,
) -> Result<PluginRun, String> {
    let ty = config
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_string();
    let path = find_plugin(&ty).ok_or_else(|| {
        format!(
            "CNI plugin `{ty}` not found in {}",
            dirs_text(&plugin_dirs())
        )
    })?;
    let mut env = vec![
        ("CNI_COMMAND".to_string(), command.word().to_string()),
        ("CNI_CONTAINERID".into(), att.id.clone()),
        ("CNI_NETNS".into(), NETNS_IN_PLUGIN.into()),
        ("CNI_IFNAME".into(), att.ifname.clone()),
        ("CNI_PATH".into(), dirs_text(&plugin_dirs())),
    ];
    if !att.args.is_empty() {
        let args: Vec<String> = att.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.push(("CNI_ARGS".into(), args.join(";")));
    }
    let p = Program {
        argv: vec![path.to_string_lossy().into_owned()],
        env,
        stdin: Some(config.to_string().into_bytes()),
        net_only: false,
        held_fds: held.to_vec(),
        hide_run: true,
    };
    let running = nsexec::start(host, &att.host, &p)
        .map_err(|e| format!("could not start plugin `{ty}`: {e}"))?;
    Ok(PluginRun {
        ty,
        finished: running.wait(until),
    })
}

pub(crate) fn dirs_text(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> CniNetwork {
        let plugins: Vec<Map<String, Value>> = serde_json::from_str(
            r#"[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.22.0.0/16"}},
                {"type":"portmap","capabilities":{"portMappings":true}}]"#,
        )
        .unwrap();
        CniNetwork {
            name: "n".into(),
            version: "1.0.0".into(),
            plugins,
        }
    }

    fn att() -> CniAttachment {
        let mut rc = Map::new();
        rc.insert(
            "portMappings".into(),
            serde_json::json!([{"hostPort": 8080}]),
        );
        rc.insert("bandwidth".into(), serde_json::json!({"ingressRate": 1}));
        CniAttachment {
            network: "n".into(),
            container: "c1".into(),
            host: "host".into(),
            ifname: "eth0".into(),
            id: "c1".into(),
            args: Vec::new(),
            runtime_config: rc,
        }
    }

    #[test]
    fn the_runtime_adds_name_version_datadir_and_only_the_asked_for_runtime_config() {
        let n = net();
        let c = plugin_config(&n, &n.plugins[0], &att(), None);
        assert_eq!(c["name"], "n");
        assert_eq!(c["cniVersion"], "1.0.0");
        assert_eq!(c["ipam"]["dataDir"], "/proc/1/fd/6/host-local");
        assert!(c.get("runtimeConfig").is_none(), "{c}");
        assert!(c.get("prevResult").is_none());
        let prev = serde_json::json!({"ips": []});
        let c = plugin_config(&n, &n.plugins[1], &att(), Some(&prev));
        assert_eq!(c["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);
        assert!(c["runtimeConfig"].get("bandwidth").is_none(), "{c}");
        assert_eq!(c["prevResult"], prev);
    }
}
