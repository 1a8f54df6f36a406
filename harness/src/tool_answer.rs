//! What a CNI plugin or netavark answered, read into one shape: CNI results (0.3.x,
//! 0.4.0, 1.0.0) and netavark's status block both become interfaces, IPs, routes and
//! DNS. The cni module runs the tools; expect judges their answers.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::scenario::Cidr;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolResult {
    pub interfaces: Vec<ResultIface>,
    pub ips: Vec<ResultIp>,
    pub routes: Vec<ResultRoute>,
    pub dns: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResultIface {
    pub name: String,
    pub mac: Option<String>,
    /// In the container's namespace (a non-empty `sandbox`), else the host's.
    pub in_container: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResultIp {
    pub cidr: Cidr,
    pub gateway: Option<IpAddr>,
    /// An index into `interfaces`.
    pub interface: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResultRoute {
    pub dst: Cidr,
    pub gw: Option<IpAddr>,
}

/// A plugin's error, from its stdout (`code`, `msg`, `details`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolError {
    pub code: Option<u64>,
    pub msg: String,
    pub details: String,
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = self.code {
            write!(f, "code {c}: ")?;
        }
        f.write_str(&self.msg)?;
        if !self.details.is_empty() {
            write!(f, " ({})", self.details)?;
        }
        Ok(())
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

fn ip(v: &Value, key: &str) -> Result<Option<IpAddr>, String> {
    match text(v, key) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("`{key}` {s:?} is not an IP address")),
    }
}

fn cidr(v: &Value, key: &str) -> Result<Cidr, String> {
    let s = text(v, key).ok_or_else(|| format!("an entry has no `{key}`"))?;
    Cidr::parse(s).ok_or_else(|| format!("`{key}` {s:?} is not ADDRESS/PREFIX"))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// `CIDR`, or `CIDR WORD IP` when there is an IP.
fn with(cidr: Cidr, word: &str, ip: Option<IpAddr>) -> String {
    match ip {
        Some(g) => format!("{cidr} {word} {g}"),
        None => cidr.to_string(),
    }
}

fn sorted(lines: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = lines.collect();
    v.sort();
    v
}

impl ToolResult {
    /// A CNI result object.
    pub(crate) fn from_cni(v: &Value) -> Result<ToolResult, String> {
        if !v.is_object() {
            return Err("the result is not a JSON object".into());
        }
        let mut r = ToolResult::default();
        for i in list(v, "interfaces") {
            r.interfaces.push(ResultIface {
                name: text(i, "name").unwrap_or_default().to_string(),
                mac: text(i, "mac").map(str::to_lowercase),
                in_container: text(i, "sandbox").is_some_and(|s| !s.is_empty()),
            });
        }
        for x in list(v, "ips") {
            let interface = match x.get("interface").and_then(|n| n.as_u64()) {
                Some(n) if (n as usize) < r.interfaces.len() => Some(n as usize),
                Some(n) => return Err(format!("an IP names interface {n}, which is not listed")),
                None => None,
            };
            r.ips.push(ResultIp {
                cidr: cidr(x, "address")?,
                gateway: ip(x, "gateway")?,
                interface,
            });
        }
        for x in list(v, "routes") {
            r.routes.push(ResultRoute {
                dst: cidr(x, "dst")?,
                gw: ip(x, "gw")?,
            });
        }
        if let Some(d) = v.get("dns").and_then(|d| d.as_object()) {
            r.dns = d.clone();
        }
        Ok(r)
    }

    /// netavark's answer: per network, `interfaces.NAME.{mac_address, subnets}`.
    pub(crate) fn from_netavark(v: &Value) -> Result<ToolResult, String> {
        let nets = v
            .as_object()
            .ok_or("netavark's answer is not a JSON object")?;
        let mut r = ToolResult::default();
        for status in nets.values() {
            let ifaces = status.get("interfaces").and_then(|i| i.as_object());
            for (name, iface) in ifaces.into_iter().flatten() {
                r.interfaces.push(ResultIface {
                    name: name.clone(),
                    mac: text(iface, "mac_address").map(str::to_lowercase),
                    in_container: true,
                });
                let index = r.interfaces.len() - 1;
                for s in list(iface, "subnets") {
                    r.ips.push(ResultIp {
                        cidr: cidr(s, "ipnet")?,
                        gateway: ip(s, "gateway")?,
                        interface: Some(index),
                    });
                }
            }
        }
        Ok(r)
    }

    /// `10.22.0.2/16 gw 10.22.0.1`, sorted.
    pub(crate) fn ip_lines(&self) -> Vec<String> {
        sorted(self.ips.iter().map(|i| with(i.cidr, "gw", i.gateway)))
    }

    /// `0.0.0.0/0 via 10.22.0.1`, sorted.
    pub(crate) fn route_lines(&self) -> Vec<String> {
        sorted(self.routes.iter().map(|r| with(r.dst, "via", r.gw)))
    }

    /// `eth0 in c1` for the container's, the bare name for the host's; sorted.
    pub(crate) fn interface_lines(&self, container: &str) -> Vec<String> {
        sorted(self.interfaces.iter().map(|i| match i.in_container {
            true => format!("{} in {container}", i.name),
            false => i.name.clone(),
        }))
    }

    /// One line for reports.
    pub(crate) fn summary(&self, container: &str) -> String {
        let mut parts = vec![
            format!(
                "interfaces [{}]",
                self.interface_lines(container).join(", ")
            ),
            format!("ips [{}]", self.ip_lines().join(", ")),
        ];
        if !self.routes.is_empty() {
            parts.push(format!("routes [{}]", self.route_lines().join(", ")));
        }
        if !self.dns.is_empty() {
            parts.push(format!("dns {}", Value::Object(self.dns.clone())));
        }
        parts.join("; ")
    }
}

impl ToolError {
    /// A CNI error object, or whatever the plugin printed instead.
    pub(crate) fn from_output(stdout: &str, stderr: &str) -> ToolError {
        if let Ok(v) = serde_json::from_str::<Value>(stdout) {
            // netavark says `{"error": ...}`.
            if let Some(msg) = text(&v, "msg").or_else(|| text(&v, "error")) {
                return ToolError {
                    code: v.get("code").and_then(|c| c.as_u64()),
                    msg: msg.to_string(),
                    details: text(&v, "details").unwrap_or_default().to_string(),
                };
            }
        }
        let said = if stdout.trim().is_empty() {
            stderr
        } else {
            stdout
        };
        ToolError {
            code: None,
            msg: said.trim().to_string(),
            details: String::new(),
        }
    }
}

/// What a command answered, and what the kernel says about it.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// A result (ADD, setup), nothing (CHECK, DEL, teardown), or the tool's error.
    pub result: Result<Option<ToolResult>, ToolError>,
    /// What the result claims that the kernel does not have.
    pub kernel_disagrees: Vec<String>,
    /// The tools' stderr, labelled, for the report.
    pub stderr: String,
    /// How long the tools' processes ran, from start to exit, all plugins together.
    pub tool_time: Duration,
}

impl Answer {
    pub(crate) fn said(&self, container: &str) -> String {
        match &self.result {
            Ok(Some(r)) => r.summary(container),
            Ok(None) => "no result".into(),
            Err(e) => e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cni_1_0_result_reads_into_lines() {
        let v: Value = serde_json::from_str(
            r#"{"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"AA:bb:cc:dd:ee:ff"},
            {"name":"eth0","mac":"02:00:00:00:00:01","sandbox":"/proc/1/fd/5"}],
            "ips":[{"address":"10.22.0.2/16","gateway":"10.22.0.1","interface":1}],
            "routes":[{"dst":"0.0.0.0/0","gw":"10.22.0.1"},{"dst":"10.9.0.0/16"}],
            "dns":{"nameservers":["10.0.0.10"]}}"#,
        )
        .unwrap();
        let r = ToolResult::from_cni(&v).unwrap();
        assert_eq!(r.ip_lines(), vec!["10.22.0.2/16 gw 10.22.0.1"]);
        assert_eq!(
            r.route_lines(),
            vec!["0.0.0.0/0 via 10.22.0.1", "10.9.0.0/16"]
        );
        assert_eq!(r.interface_lines("c1"), vec!["cni0", "eth0 in c1"]);
        assert_eq!(r.interfaces[0].mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(r.ips[0].interface, Some(1));
    }

    #[test]
    fn a_result_that_names_a_missing_interface_or_a_bad_address_is_refused() {
        let v: Value =
            serde_json::from_str(r#"{"ips":[{"address":"10.0.0.2/24","interface":3}]}"#).unwrap();
        assert!(ToolResult::from_cni(&v)
            .unwrap_err()
            .contains("interface 3"));
        let v: Value = serde_json::from_str(r#"{"ips":[{"address":"10.0.0.2"}]}"#).unwrap();
        assert!(ToolResult::from_cni(&v)
            .unwrap_err()
            .contains("ADDRESS/PREFIX"));
        assert!(ToolResult::from_cni(&Value::Null).is_err());
    }

    #[test]
    fn netavarks_status_block_reads_into_the_same_lines() {
        let v: Value = serde_json::from_str(
            r#"{"podman":{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{"eth0":
            {"mac_address":"02:00:00:00:00:02","subnets":[{"ipnet":"10.88.0.2/16","gateway":"10.88.0.1"}]}}}}"#,
        )
        .unwrap();
        let r = ToolResult::from_netavark(&v).unwrap();
        assert_eq!(r.ip_lines(), vec!["10.88.0.2/16 gw 10.88.0.1"]);
        assert_eq!(r.interface_lines("c1"), vec!["eth0 in c1"]);
    }

    #[test]
    fn an_error_is_the_cni_error_object_or_what_the_plugin_printed() {
        let e = ToolError::from_output(r#"{"code":7,"msg":"bad","details":"why"}"#, "");
        assert_eq!(e.code, Some(7));
        assert_eq!(e.to_string(), "code 7: bad (why)");
        let e = ToolError::from_output("", "panic: boom\n");
        assert_eq!((e.code, e.msg.as_str()), (None, "panic: boom"));
    }
}
