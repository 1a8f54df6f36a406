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
    pub node: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: i64,
    pub proto: Option<Proto>,
    /// As a step: stop the listener instead of starting it.
    pub stop: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConnect {
    pub from: String,
    pub to: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: i64,
    pub proto: Option<Proto>,
    /// Bytes to send, which must come back.
    #[schemars(range(min = 0, max = 16777216))]
    pub send: Option<i64>,
    pub timeout: Option<String>,
    /// `connected`, `refused`, `timeout`, or an errno name such as `EHOSTUNREACH`.
    pub expect: Option<String>,
    /// The source address (`ADDR` or `ADDR:PORT`, `[V6]:PORT`) the listener must see.
    pub peer: Option<String>,
    pub trace: Option<RawTrace>,
}

/// `trace:` the lines NFLOG rules log in a node while the probe runs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrace {
    pub node: String,
    /// The NFLOG group (default 0).
    #[schemars(range(min = 0, max = 65535))]
    pub group: Option<i64>,
    #[serde(default)]
    pub expect: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExec {
    pub node: String,
    /// The argv, run as it is.
    pub cmd: Option<Vec<RawArg>>,
    /// A shell line, run as `sh -c`.
    pub sh: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    pub background: Option<bool>,
    pub expect: Option<RawExecExpect>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExecExpect {
    pub exit: Option<i64>,
    pub stdout: Option<RawText>,
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
    pub node: String,
    pub nftables: Option<String>,
    pub iptables: Option<String>,
    pub ip6tables: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCounterCheck {
    pub node: String,
    /// The comment of the rule.
    pub rule: Option<String>,
    /// `TABLE CHAIN` of an iptables built-in chain, for its policy counter.
    pub policy: Option<String>,
    pub packets: Option<Scalar>,
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
    pub add: Option<String>,
    pub check: Option<String>,
    pub del: Option<String>,
    pub network: String,
    pub host: Option<String>,
    pub ifname: Option<String>,
    pub id: Option<String>,
    #[serde(default)]
    pub args: BTreeMap<String, Scalar>,
    #[serde(rename = "runtimeConfig", default)]
    pub runtime_config: serde_json::Map<String, serde_json::Value>,
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
    pub msg: Option<RawText>,
}

/// `netavark:` as a step: `setup` or `teardown` naming the container node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetavarkStep {
    pub setup: Option<String>,
    pub teardown: Option<String>,
    pub host: Option<String>,
    /// The network options netavark reads: `networks`, `network_info`,
    /// `port_mappings`; `container_id` and `container_name` default to the node's name.
    pub options: serde_json::Map<String, serde_json::Value>,
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
