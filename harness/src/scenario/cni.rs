//! Container networks driven through their real tools: CNI plugins (the CNI
//! specification's exec protocol) and netavark. The model only; the cni module runs them.

use std::fmt;

use super::model::{NodeName, TextMatch};

/// The CNI specification versions netspec speaks; results of 0.3.x and 0.4.0 have the
/// same shape as 1.0.0's, plus a `version` per IP.
pub const CNI_VERSIONS: &[&str] = &["0.3.0", "0.3.1", "0.4.0", "1.0.0"];

/// A network configuration list (a single config is a list of one plugin).
#[derive(Debug, Clone)]
pub struct CniNetwork {
    pub name: String,
    pub version: String,
    /// Each plugin's own config object, as written (without name, cniVersion,
    /// runtimeConfig or prevResult: the runtime adds those).
    pub plugins: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl CniNetwork {
    /// Every plugin binary the network runs, IPAM plugins included.
    pub fn binaries(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.plugins {
            if let Some(t) = p.get("type").and_then(|t| t.as_str()) {
                out.push(t.to_string());
            }
            if let Some(t) = p
                .get("ipam")
                .and_then(|i| i.get("type"))
                .and_then(|t| t.as_str())
            {
                out.push(t.to_string());
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CniCommand {
    Add,
    Check,
    Del,
}

impl CniCommand {
    pub fn word(self) -> &'static str {
        match self {
            CniCommand::Add => "ADD",
            CniCommand::Check => "CHECK",
            CniCommand::Del => "DEL",
        }
    }
}

/// One attachment of a container to a network: who plays the container, who the host.
#[derive(Debug, Clone, PartialEq)]
pub struct CniAttachment {
    pub network: String,
    /// The node whose namespace is `CNI_NETNS`.
    pub container: NodeName,
    /// The node whose namespace the plugin runs in.
    pub host: NodeName,
    pub ifname: String,
    /// `CNI_CONTAINERID`.
    pub id: String,
    /// `CNI_ARGS`, in order.
    pub args: Vec<(String, String)>,
    /// What the runtime hands to plugins that declare the capability.
    pub runtime_config: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Display for CniAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}:{}", self.network, self.container, self.ifname)
    }
}

/// A `cni:` step.
#[derive(Debug, Clone)]
pub struct CniStep {
    pub command: CniCommand,
    pub attachment: CniAttachment,
    pub expect: CniExpect,
}

/// What a plugin's answer must hold. Lists are whole: the result has exactly these.
#[derive(Debug, Clone, Default)]
pub struct CniExpect {
    /// `10.22.0.2/16 gw 10.22.0.1`, or without ` gw ...`.
    pub ips: Option<Vec<String>>,
    /// `0.0.0.0/0 via 10.22.0.1`, or without ` via ...`.
    pub routes: Option<Vec<String>>,
    /// `cni0`, `eth0 in c1` (in the container's namespace); `*` matches any run of
    /// characters, for the names plugins choose at random.
    pub interfaces: Option<Vec<String>>,
    /// Fields of the result's `dns` that must be equal.
    pub dns: Option<serde_json::Map<String, serde_json::Value>>,
    /// The plugin must fail, with this code and a message like this.
    pub error: Option<CniErrorExpect>,
}

#[derive(Debug, Clone, Default)]
pub struct CniErrorExpect {
    pub code: Option<u64>,
    pub msg: Option<TextMatch>,
}

/// A `netavark:` step: `setup` or `teardown` of one container on its networks.
#[derive(Debug, Clone)]
pub struct NetavarkStep {
    pub setup: bool,
    pub container: NodeName,
    pub host: NodeName,
    /// The JSON netavark reads (`--file -`), as the scenario wrote it.
    pub options: serde_json::Value,
    pub expect: CniExpect,
}
