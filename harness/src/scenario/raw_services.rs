//! The serde mirror of listeners, clients, commands and netfilter rules. Like `raw.rs`,
//! shapes only: values that can be wrong in ways serde cannot see stay strings or wide
//! integers, and `resolve` checks them where it can point at them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::model::Proto;
use super::raw::Scalar;

/// `listen:` at the top level or as a step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawListen {
    /// The node that listens.
    pub node: String,
    /// The port, 1 to 65535.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i64,
    /// `tcp` (default) or `udp`.
    pub proto: Option<Proto>,
    /// As a step: stop the listener instead of starting it.
    pub stop: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConnect {
    /// The node that connects, or `node:if` to bind to that interface.
    pub from: String,
    /// The address to reach, or `node:if`.
    pub to: String,
    /// The destination port, 1 to 65535.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i64,
    /// `tcp` (default) or `udp`.
    pub proto: Option<Proto>,
    /// Bytes to send, which must come back.
    #[schemars(range(min = 0, max = 16777216))]
    pub send: Option<i64>,
    /// How long to wait, such as `1s`.
    pub timeout: Option<String>,
    /// `connected`, `refused`, `timeout`, or an errno name such as `EHOSTUNREACH`.
    pub expect: Option<String>,
    /// The source address (`ADDR` or `ADDR:PORT`, `[V6]:PORT`) the listener must see.
    pub peer: Option<String>,
    /// Where the connection's packets must be seen, for a NAT or a firewall.
    pub trace: Option<RawTrace>,
}

/// `trace:` the lines NFLOG rules log in a node while the probe runs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrace {
    /// The node that watches.
    pub node: String,
    /// The NFLOG group (default 0).
    #[schemars(range(min = 0, max = 65535))]
    pub group: Option<i64>,
    /// What the node must see: the connection's addresses and ports.
    #[serde(default)]
    pub expect: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExec {
    /// The node to run in.
    pub node: String,
    /// The argv, run as it is.
    pub cmd: Option<Vec<RawArg>>,
    /// A shell line, run as `sh -c`.
    pub sh: Option<String>,
    /// Environment variables for the command.
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    /// Start it and go on; it is killed with its node.
    pub background: Option<bool>,
    /// What it must do: exit status (default 0), stdout, stderr.
    pub expect: Option<RawExecExpect>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExecExpect {
    /// The exit status, 0 to 255.
    pub exit: Option<i64>,
    /// What standard output must be, contain or match.
    pub stdout: Option<RawText>,
    /// What standard error must be, contain or match.
    pub stderr: Option<RawText>,
}

/// `"text"` (equal), or `{contains: T}`, `{regex: R}`, `{equals: T}`.
#[derive(Debug)]
pub(crate) enum RawText {
    Equals(String),
    Contains(String),
    Regex(String),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawTextMap {
    equals: Option<String>,
    contains: Option<String>,
    regex: Option<String>,
}

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text, or one of `{equals: T}`, `{contains: T}`, `{regex: R}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawText, E> {
                Ok(RawText::Equals(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawText, A::Error> {
                let m = RawTextMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match (m.equals, m.contains, m.regex) {
                    (Some(t), None, None) => Ok(RawText::Equals(t)),
                    (None, Some(t), None) => Ok(RawText::Contains(t)),
                    (None, None, Some(r)) => Ok(RawText::Regex(r)),
                    _ => Err(de::Error::custom(
                        "give exactly one of `equals`, `contains` or `regex`",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `netfilter:` as a step: rules added to a node at runtime.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRulesStep {
    /// The node.
    pub node: String,
    /// A ruleset in nft syntax, added to what is loaded.
    pub nftables: Option<String>,
    /// Rules in iptables-restore syntax, added to what is loaded.
    pub iptables: Option<String>,
    /// Rules in ip6tables-restore syntax, added to what is loaded.
    pub ip6tables: Option<String>,
    /// Text the tool's or the kernel's refusal must contain.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCounterCheck {
    /// The node whose netfilter counters to read.
    pub node: String,
    /// The comment of the rule.
    pub rule: Option<String>,
    /// `TABLE CHAIN` of an iptables built-in chain, for its policy counter.
    pub policy: Option<String>,
    /// The packets counted: a number, or a comparison such as `">= 1"`.
    pub packets: Option<Scalar>,
    /// The bytes counted: a number, or a comparison such as `">= 100"`.
    pub bytes: Option<Scalar>,
}

/// A network's config (`{type: ..., ...}`), or list (`{plugins: [...]}`), written in
/// YAML as the JSON the plugins read; or `{file: NAME}`, a `.conf`/`.conflist` next to
/// the scenario.
pub(crate) type RawCniNetwork = serde_json::Map<String, serde_json::Value>;

/// Where and how a container is attached: the topology form under a node's `cni:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCniAttach {
    /// A network under the scenario's top-level `cni:`.
    pub network: String,
    /// The node that plays the host: the plugin runs in its namespace (default: `host`).
    pub host: Option<String>,
    /// `CNI_IFNAME`, the interface in the container (default: eth0).
    pub ifname: Option<String>,
    /// `CNI_CONTAINERID` (default: the container node's name).
    pub id: Option<String>,
    /// `CNI_ARGS`, as `KEY: value`.
    #[serde(default)]
    pub args: BTreeMap<String, Scalar>,
    /// Given to each plugin whose `capabilities` ask for the key (`portMappings`,
    /// `ipRanges`, `bandwidth`, `mac`, ...).
    #[serde(rename = "runtimeConfig", default)]
    pub runtime_config: serde_json::Map<String, serde_json::Value>,
}

// The fields of `RawCniAttach` again: serde's `flatten` cannot be combined with
// `deny_unknown_fields`; the resolver reads both through one `AttachFields`.
/// `cni:` as a step: one of `add`, `check`, `del` naming the container node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCniStep {
    /// ADD this node (a container) to the network.
    pub add: Option<String>,
    /// CHECK this node's attachment (CNI 0.4.0 and later).
    pub check: Option<String>,
    /// DEL this node's attachment.
    pub del: Option<String>,
    /// The network's name under `cni:`.
    pub network: String,
    /// The node that plays the host, where the plugins run (default: `host`).
    pub host: Option<String>,
    /// The interface name inside the container (default: `eth0`).
    pub ifname: Option<String>,
    /// The container id (default: the node's name).
    pub id: Option<String>,
    /// CNI_ARGS, as `KEY=VALUE` pairs.
    #[serde(default)]
    pub args: BTreeMap<String, Scalar>,
    /// Runtime configuration, given to plugins whose `capabilities` ask for it.
    #[serde(rename = "runtimeConfig", default)]
    pub runtime_config: serde_json::Map<String, serde_json::Value>,
    /// What the plugins must answer: addresses, routes, interfaces, DNS or an error.
    pub expect: Option<RawCniExpect>,
}

/// What the result must hold; lists are compared whole, in any order.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCniExpect {
    /// `10.22.0.2/16 gw 10.22.0.1` (or without the gateway, when the result has none).
    pub ips: Option<Vec<String>>,
    /// `0.0.0.0/0 via 10.22.0.1`, or `0.0.0.0/0`.
    pub routes: Option<Vec<String>>,
    /// `cni0`, `eth0 in c1`, `veth*`: `*` matches any run of characters.
    pub interfaces: Option<Vec<String>>,
    /// Fields of the result's `dns`, each equal.
    pub dns: Option<serde_json::Map<String, serde_json::Value>>,
    /// The tool must fail like this.
    pub error: Option<RawCniError>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCniError {
    /// The CNI error code (netavark has none).
    pub code: Option<i64>,
    /// Text the plugin's error message must contain.
    pub msg: Option<RawText>,
}

/// `netavark:` as a step: `setup` or `teardown` naming the container node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetavarkStep {
    /// netavark setup: the container node and its network options.
    pub setup: Option<String>,
    /// netavark teardown of a container set up before.
    pub teardown: Option<String>,
    /// The node that plays the host, where netavark runs (default: `host`).
    pub host: Option<String>,
    /// The network options netavark reads: `networks`, `network_info`,
    /// `port_mappings`; `container_id` and `container_name` default to the node's name.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// What netavark must answer: its status block, or an error.
    pub expect: Option<RawCniExpect>,
}

/// One word of an argv. YAML reads `true`, `7` or `1.5` unquoted as a boolean or a
/// number; as an argument each is the word as written (`cmd: [true]` runs `true`).
#[derive(Debug, Clone)]
pub(crate) struct RawArg(pub String);

impl<'de> serde::Deserialize<'de> for RawArg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawArg;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a word: a string, a number or a boolean")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawArg, E> {
                Ok(RawArg(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawArg, E> {
                Ok(RawArg(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawArg, E> {
                Ok(RawArg(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawArg, E> {
                Ok(RawArg(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawArg, E> {
                Ok(RawArg(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for RawArg {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Arg".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One argument: a string, or a number or boolean taken as written.",
            "type": ["string", "number", "boolean"]
        })
    }
}
