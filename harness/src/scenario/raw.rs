//! The serde mirror of the YAML scenario format (design.md §3).
//!
//! Shapes and types only: every value that can be wrong in a way serde cannot see
//! (names, references, CIDRs, MACs, durations) stays a string here and is checked by
//! `resolve`, which can point at it through the span index.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::model::{
    ArpOp, BondMode, Direction, FdbState, MacvlanMode, NeighState, OperState, PortOptions,
    PortState, PortVlan, Reach,
};
use super::raw_services::*;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The default time bound of each step (default 60s).
    pub step_timeout: Option<String>,
    /// Kernel features the scenario needs; without one, it is skipped with the reason.
    #[serde(default)]
    pub requires: Vec<String>,
    pub nodes: BTreeMap<String, RawNode>,
    #[serde(default)]
    pub steps: Vec<RawStep>,
    /// `all`, or a list of `node:if`: record the frames there to a pcapng file.
    pub capture: Option<RawCapture>,
    /// Echo servers started before the steps.
    #[serde(default)]
    pub listen: Vec<RawListen>,
    /// CNI networks by name: a config or conflist written inline as YAML, or
    /// `{file: NAME}` next to the scenario.
    #[serde(default)]
    pub cni: BTreeMap<String, super::raw_services::RawCniNetwork>,
    /// One trial per combination of these values; `${key}` in the file takes the value.
    /// `matrix.rs` reads it before the rest; here it is only let through, and described
    /// in the schema.
    #[allow(dead_code)]
    pub matrix: Option<BTreeMap<String, Vec<Scalar>>>,
}

/// `capture: all` or `capture: [node:if, ...]`, hand-written like `RawSnapshot`.
#[derive(Debug)]
pub(crate) enum RawCapture {
    Word(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for RawCapture {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCapture;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`all`, or a list of node:interface")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCapture, E> {
                Ok(RawCapture::Word(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawCapture, A::Error> {
                Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawCapture::List)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    #[serde(default)]
    pub sysctl: BTreeMap<String, Scalar>,
    #[serde(default)]
    pub interfaces: BTreeMap<String, RawInterface>,
    #[serde(default)]
    pub routes: Vec<String>,
    /// Nexthop objects in `ip nexthop add` syntax: `id 1 via 10.0.1.2 dev eth0`,
    /// `id 10 group 1/2,3`; a group's members come before it.
    #[serde(default)]
    pub nexthops: Vec<String>,
    /// Permanent ARP/ND entries.
    #[serde(default)]
    pub neigh: Vec<RawStaticNeigh>,
    /// Static bridge FDB entries.
    #[serde(default)]
    pub fdb: Vec<RawStaticFdb>,
    /// A ruleset in nft syntax, loaded with `nft -f`.
    pub nftables: Option<String>,
    /// Rules in iptables-save syntax, loaded with `iptables-restore`.
    pub iptables: Option<String>,
    pub ip6tables: Option<String>,
    /// CNI networks this node is attached to as a container, ADDed after the topology
    /// is built and DELeted at teardown, in reverse order.
    #[serde(default)]
    pub cni: Vec<super::raw_services::RawCniAttach>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStaticNeigh {
    pub to: String,
    /// Required, except for a proxy entry.
    pub mac: Option<String>,
    pub dev: String,
    /// A proxy entry: the node answers for `to` on `dev` (`ip neigh add proxy`).
    pub proxy: Option<bool>,
    /// The neighbour is a router (NTF_ROUTER, IPv6).
    pub router: Option<bool>,
    /// Mark it as learned by a controller (NTF_EXT_LEARNED).
    pub extern_learn: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStaticFdb {
    pub mac: String,
    pub port: String,
    /// `static` (the default), `dynamic`, or `permanent` (a local entry, iproute2's default).
    pub state: Option<FdbState>,
    pub sticky: Option<bool>,
    /// On a vxlan port: the remote VTEP (`bridge fdb add MAC dev vx0 dst IP`).
    pub dst: Option<String>,
    /// Mark it as learned by a controller (NTF_EXT_LEARNED).
    pub extern_learn: Option<bool>,
    /// The entry's VLAN, on a port of a VLAN-aware bridge.
    pub vlan: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawKind {
    Veth,
    Bridge,
    Macvlan,
    Vxlan,
    /// A device with carrier and nothing behind it (`ip link add NAME type dummy`).
    Dummy,
    /// An 802.1Q device on `parent` with VLAN `id` (`ip link add link P NAME type vlan id N`).
    Vlan,
    /// A VRF: an L3 domain whose ports route through its own `table`
    /// (`ip link add NAME type vrf table N`).
    Vrf,
    /// A bond: its ports name it as their `master` (`ip link add NAME type bond mode M`).
    Bond,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInterface {
    pub kind: Option<RawKind>,
    pub peer: Option<String>,
    pub master: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub up: Option<bool>,
    /// Run IPv6 duplicate address detection for this interface's addresses.
    pub dad: Option<bool>,
    // macvlan, vlan
    pub parent: Option<String>,
    /// A vlan device's VLAN id, 1 to 4094.
    pub id: Option<u16>,
    pub mode: Option<MacvlanMode>,
    // vxlan
    pub vni: Option<u32>,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub dev: Option<String>,
    pub dstport: Option<u16>,
    pub bridge: Option<RawBridgeOptions>,
    /// A VRF's routing table, 1 to 2^32-1 except the kernel's own 253 to 255.
    pub table: Option<u32>,
    /// A bond's options.
    pub bond: Option<RawBondOptions>,
    /// Bridge port options, on an interface whose `master` is a bridge.
    pub port: Option<PortOptions>,
}

/// How a bond picks the port a frame leaves by, and notices a port that failed.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBondOptions {
    /// `active-backup` (the default here), `balance-rr`, `balance-xor`, `broadcast`,
    /// `802.3ad`, `balance-tlb` or `balance-alb`.
    pub mode: Option<BondMode>,
    /// How often the bond looks at its ports' carrier, such as `100ms`; without it a
    /// port that loses its carrier is not noticed.
    pub miimon: Option<String>,
    /// How long a port must carry before the bond uses it again, such as `200ms`: a
    /// multiple of `miimon`.
    pub updelay: Option<String>,
    /// How long a port may lose its carrier before the bond stops using it.
    pub downdelay: Option<String>,
    /// In active-backup: the port preferred whenever it carries.
    pub primary: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBridgeOptions {
    pub stp: Option<bool>,
    pub ageing_time: Option<String>,
    pub forward_delay: Option<String>,
    pub hello_time: Option<String>,
    pub priority: Option<u16>,
    pub mcast_snooping: Option<bool>,
    /// Filter by VLAN (802.1Q bridge): ports carry only the VLANs they are given.
    pub vlan_filtering: Option<bool>,
    /// The VLAN a new port joins untagged, as its PVID (1 unless set; 0: none).
    pub vlan_default_pvid: Option<u16>,
    /// The bridge's own VLANs, as `bridge vlan add dev BRIDGE vid N self` sets them: the
    /// VLANs the bridge itself (its addresses) takes part in. The default VLAN 1 goes
    /// unless it is listed.
    pub vlans: Option<Vec<PortVlan>>,
}

/// One list entry under `steps:`. Exactly one action key must be set; `resolve` checks it,
/// so the error can name the step's line.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub name: Option<String>,
    pub ping: Option<RawPing>,
    /// Several pings sent at once, each with its own expectation.
    pub pings: Option<Vec<RawPing>>,
    pub arping: Option<RawArping>,
    pub link: Option<RawLinkStep>,
    pub check: Option<RawCheck>,
    pub snapshot: Option<RawSnapshot>,
    pub sleep: Option<String>,
    /// For `check`: poll until it holds, for at most this long.
    pub within: Option<String>,
    /// For `check`: it must hold for this whole window.
    #[serde(rename = "for")]
    pub hold: Option<String>,
    /// The longest the step may take (default: the scenario's `step_timeout`).
    pub timeout: Option<String>,
    /// The kernel versions this step describes, such as `>= 6.12` or `>= 6.2, < 6.12`:
    /// where kernels behave differently, write one step per behaviour. On any other
    /// kernel the step is skipped, and the report says so.
    pub kernel: Option<String>,
    pub address: Option<RawAddressStep>,
    pub route: Option<RawRouteStep>,
    pub sysctl: Option<RawSysctlStep>,
    pub neigh: Option<RawNeighStep>,
    pub fdb: Option<RawFdbStep>,
    /// Add a VLAN to a bridge port (or VLAN-aware bridge), or remove one.
    pub vlan: Option<RawVlanStep>,
    pub nexthop: Option<RawNexthopStep>,
    pub send: Option<RawSend>,
    pub watch: Option<RawWatch>,
    pub listen: Option<RawListen>,
    pub connect: Option<RawConnect>,
    pub exec: Option<RawExec>,
    pub netfilter: Option<RawRulesStep>,
    pub cni: Option<super::raw_services::RawCniStep>,
    pub netavark: Option<super::raw_services::RawNetavarkStep>,
}

/// `watch:` start counting the frames that match a filter at one interface.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWatch {
    pub name: String,
    pub at: String,
    #[serde(rename = "match", default)]
    pub filter: RawFilter,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    /// The frame's ethertype: the outer one (0x8100 for any 802.1Q-tagged frame) or
    /// the one after the tag.
    pub ethertype: Option<u16>,
    /// The 802.1Q VLAN id the frame is tagged with (1-4094).
    #[schemars(range(min = 0, max = 4095))]
    pub vlan: Option<u16>,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub arp: Option<ArpOp>,
    pub proto: Option<String>,
    pub src_ip: Option<String>,
    pub dst_ip: Option<String>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub direction: Option<Direction>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFramesCheck {
    pub watch: String,
    pub count: Scalar,
}

/// `send:` a crafted frame.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSend {
    pub from: String,
    pub count: Option<u32>,
    pub interval: Option<String>,
    pub eth: Option<RawEth>,
    pub arp: Option<RawArpFrame>,
    pub ip: Option<RawIp>,
    pub icmp: Option<RawIcmp>,
    pub udp: Option<RawPorts>,
    pub tcp: Option<RawPorts>,
    /// Payload bytes after the L4 header (or after the Ethernet header for a raw ethertype).
    pub payload: Option<u32>,
    pub seen: Option<Vec<String>>,
    pub not_seen: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEth {
    pub src: Option<String>,
    pub dst: Option<String>,
    #[serde(rename = "type")]
    pub ethertype: Option<u16>,
    pub vlan: Option<u16>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArpFrame {
    pub op: Option<ArpOp>,
    /// `request` (as `arping -U`) or `reply` (as `arping -A`): about the sender's own address.
    pub gratuitous: Option<ArpOp>,
    pub sender_mac: Option<String>,
    pub sender_ip: Option<String>,
    pub target_mac: Option<String>,
    pub target_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIp {
    pub src: Option<String>,
    pub dst: String,
    pub ttl: Option<u8>,
    pub df: Option<bool>,
    pub dscp: Option<u8>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIcmp {
    /// Only `echo` (a request) today.
    pub echo: Option<bool>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPorts {
    pub sport: Option<u16>,
    pub dport: u16,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAddressStep {
    pub add: Option<String>,
    pub del: Option<String>,
    pub dev: String,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteStep {
    pub node: String,
    pub add: Option<String>,
    pub del: Option<String>,
    pub error: Option<String>,
}

/// `nexthop: {node, add: "id 3 via 10.0.1.2 dev eth0"}` or `{node, del: 3}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNexthopStep {
    pub node: String,
    pub add: Option<String>,
    /// `ip nexthop replace`: adds, or replaces the nexthop of the same id.
    pub replace: Option<String>,
    pub del: Option<u32>,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSysctlStep {
    pub node: String,
    pub key: String,
    pub value: Scalar,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighDel {
    pub to: String,
    pub dev: String,
    pub proxy: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighStep {
    pub node: String,
    pub add: Option<RawStaticNeigh>,
    pub del: Option<RawNeighDel>,
    /// Flush the entries of this interface.
    pub flush: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFdbDel {
    pub mac: String,
    pub port: String,
    /// On a vxlan port: delete only this remote of the MAC.
    pub dst: Option<String>,
    /// The entry's VLAN, on a port of a VLAN-aware bridge.
    pub vlan: Option<u16>,
}

/// `bridge vlan add|del dev PORT vid N [pvid] [untagged]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVlanStep {
    /// The VLAN to add; on a VLAN the port has, its flags change.
    pub add: Option<RawVlanEntry>,
    /// The VLAN to remove.
    pub del: Option<RawVlanEntry>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

/// One VLAN of a port.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVlanEntry {
    /// The bridge port, or the VLAN-aware bridge itself, as `node:if`.
    pub dev: String,
    /// The VLAN id, 1 to 4094.
    pub vid: u16,
    /// Untagged frames arriving on the port join this VLAN.
    pub pvid: Option<bool>,
    /// Frames of this VLAN leave the port without a tag.
    pub untagged: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFdbStep {
    pub node: String,
    pub add: Option<RawStaticFdb>,
    /// `bridge fdb append`: one more `dst` for a MAC on a vxlan port.
    pub append: Option<RawStaticFdb>,
    pub del: Option<RawFdbDel>,
    /// Flush the dynamic entries learned on this port.
    pub flush: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPing {
    pub from: Option<String>,
    pub to: Option<String>,
    #[schemars(range(min = 1, max = 10000))]
    pub count: Option<u32>,
    pub timeout: Option<String>,
    pub size: Option<u16>,
    pub df: Option<bool>,
    pub expect: Option<Reach>,
    /// With `expect: unreachable`: text the verdict must contain, e.g. `EMSGSIZE` or
    /// `fragmentation needed`, so that the right failure is asserted, not just any.
    pub reason: Option<String>,
    /// Interfaces the step's frames must cross / must not cross.
    pub seen: Option<Vec<String>>,
    pub not_seen: Option<Vec<String>>,
    /// The interfaces the first echo request crossed, in order; and its reply's.
    pub path: Option<Vec<String>>,
    pub reply_path: Option<Vec<String>>,
    /// The lines NFLOG rules log in a node meanwhile.
    pub trace: Option<RawTrace>,
}

/// `expect: {mac: X}`, `expect: answered` or `expect: unanswered`.
#[derive(Debug)]
pub(crate) enum RawArpExpect {
    Mac(String),
    Answered,
    Unanswered,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawArpMac {
    mac: String,
}

impl<'de> Deserialize<'de> for RawArpExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawArpExpect;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`{mac: MAC or node:if}`, `answered` or `unanswered`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawArpExpect, E> {
                match v {
                    "answered" => Ok(RawArpExpect::Answered),
                    "unanswered" => Ok(RawArpExpect::Unanswered),
                    other => Err(E::unknown_variant(
                        other,
                        &["answered", "unanswered", "mac"],
                    )),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawArpExpect, A::Error> {
                RawArpMac::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| RawArpExpect::Mac(m.mac))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArping {
    pub from: Option<String>,
    pub to: Option<String>,
    pub timeout: Option<String>,
    pub expect: Option<RawArpExpect>,
    pub seen: Option<Vec<String>>,
    pub not_seen: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkStep {
    pub up: Option<String>,
    pub down: Option<String>,
    /// `set: node:if` with any of `mtu`, `mac`, `master` (`none` to detach), `port`.
    pub set: Option<String>,
    /// Delete the link (a veth takes its peer with it).
    pub delete: Option<String>,
    /// Take a veth's carrier away (its peer goes down) while it stays up, or give it back.
    pub carrier_off: Option<String>,
    pub carrier_on: Option<String>,
    pub mtu: Option<u32>,
    pub mac: Option<String>,
    pub master: Option<String>,
    /// Already typed: every flag is a plain bool, nothing to resolve.
    pub port: Option<PortOptions>,
    /// A vxlan's default remote, changed as `ip link set dev vx type vxlan remote IP`.
    pub remote: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub neigh: Option<RawNeighCheck>,
    pub fdb: Option<RawFdbCheck>,
    pub route: Option<RawRouteCheck>,
    pub link: Option<RawLinkCheck>,
    pub frames: Option<RawFramesCheck>,
    pub counter: Option<RawCounterCheck>,
    pub nexthop: Option<RawNexthopCheck>,
    /// A VLAN of a bridge port, or of a VLAN-aware bridge itself.
    pub vlan: Option<RawVlanCheck>,
    pub within: Option<String>,
    #[serde(rename = "for")]
    pub hold: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighCheck {
    pub node: String,
    pub to: String,
    pub mac: Option<String>,
    pub state: Option<NeighState>,
    pub present: Option<bool>,
    /// Ask for this one entry, as `ip neigh get ADDR dev DEV`.
    pub dev: Option<String>,
    /// A proxy entry.
    pub proxy: Option<bool>,
    /// Exactly these flags: `router`, `extern_learn`; `[]` for none.
    pub flags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFdbCheck {
    pub node: String,
    pub mac: String,
    pub port: Option<String>,
    pub present: Option<bool>,
    /// The remote VTEP of a vxlan entry.
    pub dst: Option<String>,
    /// Exactly these flags: `sticky`, `extern_learn`, `offload`, `locked`; `[]` for none.
    pub flags: Option<Vec<String>>,
    /// The entry's VLAN, on a VLAN-aware bridge.
    pub vlan: Option<u16>,
}

/// Whether a bridge port (or a VLAN-aware bridge itself) is in a VLAN, and how.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVlanCheck {
    /// The port, or the bridge, as `node:if`.
    pub dev: String,
    /// The VLAN id, 1 to 4094.
    pub vid: u16,
    /// Whether it is the port's PVID, the VLAN its untagged frames join.
    pub pvid: Option<bool>,
    /// Whether its frames leave the port without a tag.
    pub untagged: Option<bool>,
    /// `false`: the port is not in that VLAN.
    pub present: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteCheck {
    pub node: String,
    pub to: String,
    pub via: Option<String>,
    pub dev: Option<String>,
    pub table: Option<u32>,
    pub present: Option<bool>,
    /// `kernel`, `static`, `boot`, ...
    pub proto: Option<String>,
    /// `link`, `host`, `universe`.
    pub scope: Option<String>,
    pub src: Option<String>,
    pub metric: Option<u32>,
    /// Exactly these next-hop flags: `linkdown`, `dead`, `onlink`; `[]` for none.
    pub flags: Option<Vec<String>>,
    /// The MTU metric, e.g. a lookup's cached PMTU exception.
    pub mtu: Option<u32>,
    /// Whether that MTU is locked.
    pub lock: Option<bool>,
    /// For a lookup (`ip route get`): the source address.
    pub from: Option<String>,
    /// For a lookup: the output interface (of `node`).
    pub oif: Option<String>,
    /// For a lookup: the input interface (of `node`), as for a forwarded packet.
    pub iif: Option<String>,
    pub mark: Option<u32>,
    pub tos: Option<u8>,
    /// The nexthop object the route uses.
    pub nhid: Option<u32>,
    /// An IPv6 route's preference: `low`, `medium` or `high`.
    pub pref: Option<String>,
    /// Exactly these paths, in the kernel's order: `via A dev X weight W` each.
    pub nexthops: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNexthopCheck {
    pub node: String,
    pub id: u32,
    pub present: Option<bool>,
    /// What it is, as `ip nexthop` prints it: `via A dev X`, `dev X`, `blackhole`,
    /// `group 1/2,3`.
    pub is: Option<String>,
    /// Exactly these flags: `dead`, `linkdown`, `onlink`; `[]` for none.
    pub flags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkCheck {
    pub dev: String,
    pub present: Option<bool>,
    pub state: Option<OperState>,
    /// The bridge port state.
    pub port: Option<PortState>,
    pub mtu: Option<u32>,
    pub master: Option<String>,
    /// A bond's active port (in active-backup: the one it sends through), or `none`.
    pub active: Option<String>,
}

/// `snapshot: label` or `snapshot: {label, nodes, only}`. Hand-written instead of
/// `serde(untagged)`, which would hide the real error behind "did not match any variant".
#[derive(Debug)]
pub(crate) enum RawSnapshot {
    Label(String),
    Full(RawSnapshotFull),
}

impl<'de> Deserialize<'de> for RawSnapshot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSnapshot;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a label, or a map with `label`, `nodes` and `only`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSnapshot, E> {
                Ok(RawSnapshot::Label(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawSnapshot, A::Error> {
                RawSnapshotFull::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawSnapshot::Full)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshotFull {
    pub label: String,
    pub nodes: Option<Vec<String>>,
    pub only: Option<Vec<String>>,
}

/// A sysctl value: YAML may write it as a number, a boolean or a string.
#[derive(Debug, Clone)]
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(if v { "1" } else { "0" }.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
