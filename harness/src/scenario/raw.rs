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
    /// The scenario's name; by default its path under `scenarios/` without `.yaml`.
    pub name: Option<String>,
    /// What the scenario shows and why: shown in listings and reports, and kept in its snapshots.
    pub description: Option<String>,
    /// The default time bound of each step (default 60s).
    pub step_timeout: Option<String>,
    /// Kernel features the scenario needs; without one, it is skipped with the reason.
    #[serde(default)]
    pub requires: Vec<String>,
    /// The network namespaces, by name: each a fresh, isolated node.
    pub nodes: BTreeMap<String, RawNode>,
    /// What happens, in order; each step has one action and its expected outcome.
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
    // matrix.rs reads it before the rest; here it is only let through.
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
    /// `net.*` sysctls for the node, such as `net.ipv4.ip_forward: 1`.
    #[serde(default)]
    pub sysctl: BTreeMap<String, Scalar>,
    /// The node's interfaces, by name (at most 15 bytes, no `/`, `:` or whitespace).
    #[serde(default)]
    pub interfaces: BTreeMap<String, RawInterface>,
    /// Routes in iproute2 syntax: `default via 10.0.0.1`, `10.5.0.0/16 dev eth0 table 10`.
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
    /// Rules in ip6tables-save syntax, loaded with `ip6tables-restore`.
    pub ip6tables: Option<String>,
    /// CNI networks this node is attached to as a container, ADDed after the topology
    /// is built and DELeted at teardown, in reverse order.
    #[serde(default)]
    pub cni: Vec<super::raw_services::RawCniAttach>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStaticNeigh {
    /// The neighbour's address.
    pub to: String,
    /// Required, except for a proxy entry.
    pub mac: Option<String>,
    /// The interface of the entry.
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
    /// The MAC, or `node:if`.
    pub mac: String,
    /// The port (or vxlan) of the entry.
    pub port: String,
    /// `static` (the default), `dynamic`, or `permanent` (a local entry, iproute2's default).
    pub state: Option<FdbState>,
    /// The entry does not move to another port.
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
    /// `veth` (default, with `peer`), `bridge`, `macvlan`, `vxlan`, `dummy`, `vlan`, `vrf` or `bond`.
    pub kind: Option<RawKind>,
    /// The other end of a veth pair, as `node:if`.
    pub peer: Option<String>,
    /// The bridge, vrf or bond of this node the interface is a port of.
    pub master: Option<String>,
    /// IPv4 and IPv6 addresses, as CIDRs.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// A fixed MAC; by default one derived from `node:if`.
    pub mac: Option<String>,
    /// The MTU, 68 to 65535.
    pub mtu: Option<u32>,
    /// Set the link up (default true).
    pub up: Option<bool>,
    /// Run IPv6 duplicate address detection for this interface's addresses.
    pub dad: Option<bool>,
    /// The interface a macvlan or vlan sits on.
    // macvlan, vlan
    pub parent: Option<String>,
    /// A vlan device's VLAN id, 1 to 4094.
    pub id: Option<u16>,
    /// A macvlan's mode: `bridge` (default), `private`, `vepa`, `passthru`.
    pub mode: Option<MacvlanMode>,
    /// A vxlan's network identifier.
    // vxlan
    pub vni: Option<u32>,
    /// A vxlan's local address.
    pub local: Option<String>,
    /// A vxlan's default remote VTEP.
    pub remote: Option<String>,
    /// A vxlan's underlay interface, in the same node.
    pub dev: Option<String>,
    /// A vxlan's UDP port (default 4789).
    pub dstport: Option<u16>,
    /// A bridge's options.
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
    /// Run the kernel's STP.
    pub stp: Option<bool>,
    /// How long a learned FDB entry lives unused, such as `300s`.
    pub ageing_time: Option<String>,
    /// With STP, how long a port stays in listening and in learning.
    pub forward_delay: Option<String>,
    /// With STP, the interval between hello BPDUs.
    pub hello_time: Option<String>,
    /// The STP bridge priority, 0 to 65535.
    pub priority: Option<u16>,
    /// IGMP/MLD snooping (the kernel's default: on).
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

/// One step: exactly one action, with an optional name and time bound.
// The loader checks the one action itself, so that its error can name the step's line.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// A name for the step, shown in reports.
    pub name: Option<String>,
    /// Send ICMP echo requests.
    pub ping: Option<RawPing>,
    /// Several pings sent at once, each with its own expectation.
    pub pings: Option<Vec<RawPing>>,
    /// Resolve an IPv4 address with ARP from an interface.
    pub arping: Option<RawArping>,
    /// Set a link up or down, change it, take its carrier, or delete it.
    pub link: Option<RawLinkStep>,
    /// Check the kernel's state: neighbours, FDB, routes, links, VLANs, nexthops, counters, frames.
    pub check: Option<RawCheck>,
    /// Record the nodes' state and compare it with the stored snapshot.
    pub snapshot: Option<RawSnapshot>,
    /// Wait, such as `200ms` (prefer a check with `within`).
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
    /// Run the step only on a kernel that has all these features (the names of the
    /// top-level `requires:`); elsewhere it is reported as not run. For behaviour that a
    /// build option changes.
    pub requires: Option<Vec<String>>,
    /// Run the step only on a kernel that lacks all these features: the other side of
    /// a `requires:` step.
    pub unless: Option<Vec<String>>,
    /// Add or remove an address.
    pub address: Option<RawAddressStep>,
    /// Add or delete a route.
    pub route: Option<RawRouteStep>,
    /// Write a sysctl in a node.
    pub sysctl: Option<RawSysctlStep>,
    /// Add, remove or flush neighbour entries.
    pub neigh: Option<RawNeighStep>,
    /// Add, append, remove or flush FDB entries.
    pub fdb: Option<RawFdbStep>,
    /// Add a VLAN to a bridge port (or VLAN-aware bridge), or remove one.
    pub vlan: Option<RawVlanStep>,
    /// Add, replace or delete a nexthop object.
    pub nexthop: Option<RawNexthopStep>,
    /// Send crafted frames from an interface.
    pub send: Option<RawSend>,
    /// Start counting matching frames at an interface.
    pub watch: Option<RawWatch>,
    /// Start (or stop) an echo server.
    pub listen: Option<RawListen>,
    /// Open a TCP or UDP connection and send through it.
    pub connect: Option<RawConnect>,
    /// Run a command inside a node.
    pub exec: Option<RawExec>,
    /// Add nftables or iptables rules.
    pub netfilter: Option<RawRulesStep>,
    /// Run a CNI plugin chain: ADD, CHECK or DEL.
    pub cni: Option<super::raw_services::RawCniStep>,
    /// Run netavark setup or teardown.
    pub netavark: Option<super::raw_services::RawNetavarkStep>,
}

/// `watch:` start counting the frames that match a filter at one interface.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWatch {
    /// The watch's name, for `check: {frames}`.
    pub name: String,
    /// The interface, as `node:if`.
    pub at: String,
    /// Which frames to count.
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
    /// The source MAC, or `node:if`.
    pub src: Option<String>,
    /// The destination MAC, or `node:if`.
    pub dst: Option<String>,
    /// Only ARP frames of this operation: `request` or `reply`.
    pub arp: Option<ArpOp>,
    /// `arp`, `icmp`, `icmp6`, `tcp`, `udp` or `ip`.
    pub proto: Option<String>,
    /// The source IP address, or `node:if`.
    pub src_ip: Option<String>,
    /// The destination IP address, or `node:if`.
    pub dst_ip: Option<String>,
    /// The source port of TCP or UDP.
    pub sport: Option<u16>,
    /// The destination port of TCP or UDP.
    pub dport: Option<u16>,
    /// `in`, `out` or both (default): frames received or sent at the interface.
    pub direction: Option<Direction>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFramesCheck {
    /// The `watch` whose count to check.
    pub watch: String,
    pub count: Scalar,
}

/// `send:` a crafted frame.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSend {
    /// The interface that sends, as `node:if`.
    pub from: String,
    /// How many frames.
    pub count: Option<u32>,
    /// The time between frames, such as `10ms`.
    pub interval: Option<String>,
    /// The Ethernet header.
    pub eth: Option<RawEth>,
    /// An ARP frame.
    pub arp: Option<RawArpFrame>,
    /// The IP header.
    pub ip: Option<RawIp>,
    /// An ICMP message.
    pub icmp: Option<RawIcmp>,
    /// A UDP datagram.
    pub udp: Option<RawPorts>,
    /// A TCP segment.
    pub tcp: Option<RawPorts>,
    /// Payload bytes after the L4 header (or after the Ethernet header for a raw ethertype).
    pub payload: Option<u32>,
    /// Interfaces (`node:if`) the frames must cross.
    pub seen: Option<Vec<String>>,
    /// Interfaces (`node:if`) the frames must not cross.
    pub not_seen: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEth {
    /// The source MAC, or `node:if` (default: the sending interface's).
    pub src: Option<String>,
    /// The destination MAC, or `node:if`.
    pub dst: Option<String>,
    /// The EtherType, such as `0x88b5`.
    #[serde(rename = "type")]
    pub ethertype: Option<u16>,
    /// An 802.1Q tag with this VLAN id.
    pub vlan: Option<u16>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArpFrame {
    /// `request` or `reply`.
    pub op: Option<ArpOp>,
    /// `request` (as `arping -U`) or `reply` (as `arping -A`): about the sender's own address.
    pub gratuitous: Option<ArpOp>,
    /// The sender hardware address, a MAC or `node:if` (default: the interface's).
    pub sender_mac: Option<String>,
    /// The sender protocol address (default: the interface's first IPv4 address).
    pub sender_ip: Option<String>,
    /// The target hardware address (default: zeros in a request).
    pub target_mac: Option<String>,
    /// The target protocol address.
    pub target_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIp {
    /// The source address, or `node:if` (default: the sending interface's).
    pub src: Option<String>,
    /// The destination address, or `node:if`.
    pub dst: String,
    /// The TTL or hop limit.
    pub ttl: Option<u8>,
    /// Set the don't-fragment flag (IPv4).
    pub df: Option<bool>,
    /// The DSCP value, 0 to 63.
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
    /// The source port.
    pub sport: Option<u16>,
    /// The destination port.
    pub dport: u16,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAddressStep {
    /// An address to add, as a CIDR.
    pub add: Option<String>,
    /// An address to remove, as a CIDR.
    pub del: Option<String>,
    /// The interface, as `node:if`.
    pub dev: String,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouteStep {
    /// The node.
    pub node: String,
    /// A route to add, in iproute2 syntax.
    pub add: Option<String>,
    /// A route to delete, in iproute2 syntax.
    pub del: Option<String>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

/// `nexthop: {node, add: "id 3 via 10.0.1.2 dev eth0"}` or `{node, del: 3}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNexthopStep {
    /// The node.
    pub node: String,
    /// A nexthop in `ip nexthop add` syntax: `id 1 via 10.0.0.2 dev eth0`.
    pub add: Option<String>,
    /// `ip nexthop replace`: adds, or replaces the nexthop of the same id.
    pub replace: Option<String>,
    /// The id of a nexthop to delete.
    pub del: Option<u32>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSysctlStep {
    /// The node.
    pub node: String,
    /// The sysctl, such as `net.ipv4.ip_forward`.
    pub key: String,
    pub value: Scalar,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighDel {
    /// The address of the entry.
    pub to: String,
    /// The interface of the entry.
    pub dev: String,
    /// Remove a proxy entry.
    pub proxy: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighStep {
    /// The node.
    pub node: String,
    /// An entry to add (`ip neigh add`).
    pub add: Option<RawStaticNeigh>,
    /// An entry to remove (`ip neigh del`).
    pub del: Option<RawNeighDel>,
    /// Flush the entries of this interface.
    pub flush: Option<String>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFdbDel {
    /// The MAC of the entry, or `node:if`.
    pub mac: String,
    /// The port (or vxlan) the entry is on.
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
    /// The node of the bridge or vxlan.
    pub node: String,
    /// An entry to add (`bridge fdb add`).
    pub add: Option<RawStaticFdb>,
    /// `bridge fdb append`: one more `dst` for a MAC on a vxlan port.
    pub append: Option<RawStaticFdb>,
    /// An entry to remove (`bridge fdb del`).
    pub del: Option<RawFdbDel>,
    /// Flush the dynamic entries learned on this port.
    pub flush: Option<String>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPing {
    /// The node that pings, or `node:if` to bind to that interface.
    pub from: Option<String>,
    /// The address to ping, or `node:if`.
    pub to: Option<String>,
    /// How many echo requests, 1 to 10000 (default 1).
    #[schemars(range(min = 1, max = 10000))]
    pub count: Option<u32>,
    /// How long to wait for each reply, such as `200ms` (default 1s).
    pub timeout: Option<String>,
    /// The payload size in bytes.
    pub size: Option<u16>,
    /// Forbid fragmentation (IPv4 DF; IPv6 never fragments in flight).
    pub df: Option<bool>,
    /// `reachable` (default: every request answered) or `unreachable` (none answered).
    pub expect: Option<Reach>,
    /// With `expect: unreachable`: text the verdict must contain, e.g. `EMSGSIZE` or
    /// `fragmentation needed`, so that the right failure is asserted, not just any.
    pub reason: Option<String>,
    /// Interfaces the step's frames must cross / must not cross.
    pub seen: Option<Vec<String>>,
    /// Interfaces (`node:if`) the requests must not cross.
    pub not_seen: Option<Vec<String>>,
    /// The interfaces the first echo request crossed, in order; and its reply's.
    pub path: Option<Vec<String>>,
    /// The interfaces the first reply must cross, in order.
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
    /// The interface that asks, as `node:if`.
    pub from: Option<String>,
    /// The IPv4 address to resolve, or `node:if` for its first one.
    pub to: Option<String>,
    /// How long to wait for an answer, such as `1s`.
    pub timeout: Option<String>,
    /// `answered` (default), `unanswered`, or `{mac}`: who must answer.
    pub expect: Option<RawArpExpect>,
    /// Interfaces (`node:if`) the request must cross.
    pub seen: Option<Vec<String>>,
    /// Interfaces (`node:if`) the request must not cross.
    pub not_seen: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkStep {
    /// Set the link up, as `node:if`, and wait until it carries.
    pub up: Option<String>,
    /// Set the link down, as `node:if`.
    pub down: Option<String>,
    /// `set: node:if` with any of `mtu`, `mac`, `master` (`none` to detach), `port`.
    pub set: Option<String>,
    /// Delete the link (a veth takes its peer with it).
    pub delete: Option<String>,
    /// Take a veth's carrier away (its peer goes down) while it stays up, or give it back.
    pub carrier_off: Option<String>,
    /// Give a veth's or a dummy's carrier back.
    pub carrier_on: Option<String>,
    /// With `set`: the new MTU.
    pub mtu: Option<u32>,
    /// With `set`: the new MAC.
    pub mac: Option<String>,
    /// With `set`: the new master, or `none` to detach.
    pub master: Option<String>,
    /// With `set`: bridge port flags to change.
    pub port: Option<PortOptions>,
    /// A vxlan's default remote, changed as `ip link set dev vx type vxlan remote IP`.
    pub remote: Option<String>,
    /// Text the kernel's refusal must contain; the step then passes only if refused.
    pub error: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    /// An ARP or ND entry.
    pub neigh: Option<RawNeighCheck>,
    /// An FDB entry of a bridge or a vxlan.
    pub fdb: Option<RawFdbCheck>,
    /// A route entry, or where a lookup goes (`ip route get`).
    pub route: Option<RawRouteCheck>,
    /// A link's state, port state, MTU, master or bond port.
    pub link: Option<RawLinkCheck>,
    /// How many frames a `watch` counted.
    pub frames: Option<RawFramesCheck>,
    /// Packets and bytes a netfilter rule or chain policy counted.
    pub counter: Option<RawCounterCheck>,
    /// A nexthop object.
    pub nexthop: Option<RawNexthopCheck>,
    /// A VLAN of a bridge port, or of a VLAN-aware bridge itself.
    pub vlan: Option<RawVlanCheck>,
    /// The check must come to hold within this time, such as `1s`.
    pub within: Option<String>,
    /// The check must hold for all of this time, such as `500ms`.
    #[serde(rename = "for")]
    pub hold: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNeighCheck {
    /// The node whose table to read.
    pub node: String,
    /// The neighbour's address, or `node:if`.
    pub to: String,
    /// The MAC the entry must hold, or `node:if`.
    pub mac: Option<String>,
    /// The entry's state: `reachable` (also stale, delay, probe), `incomplete`, `failed`, `permanent`, `noarp`.
    pub state: Option<NeighState>,
    /// `false`: there must be no such entry.
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
    /// The node of the bridge or vxlan.
    pub node: String,
    /// The MAC, or `node:if`.
    pub mac: String,
    /// The port the entry must be on.
    pub port: Option<String>,
    /// `false`: there must be no such entry.
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
    /// The node.
    pub node: String,
    /// `default`, a prefix (a table entry) or an address or `node:if` (a lookup).
    pub to: String,
    /// The gateway.
    pub via: Option<String>,
    /// The route's output interface.
    pub dev: Option<String>,
    /// The table of the entry (default main).
    pub table: Option<u32>,
    /// `false`: there must be no such route (or the lookup must fail).
    pub present: Option<bool>,
    /// `kernel`, `static`, `boot`, ...
    pub proto: Option<String>,
    /// `link`, `host`, `universe`.
    pub scope: Option<String>,
    /// The preferred source address.
    pub src: Option<String>,
    /// The route's metric.
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
    /// For a lookup: the firewall mark.
    pub mark: Option<u32>,
    /// For a lookup: the TOS byte.
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
    /// The node.
    pub node: String,
    /// The nexthop's id.
    pub id: u32,
    /// `false`: there must be no such nexthop.
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
    /// The link, as `node:if`.
    pub dev: String,
    /// `false`: the link must not exist.
    pub present: Option<bool>,
    /// Its oper state: `up`, `down`, `lowerlayerdown` or `unknown`.
    pub state: Option<OperState>,
    /// The bridge port state.
    pub port: Option<PortState>,
    /// Its MTU.
    pub mtu: Option<u32>,
    /// Its master, or `none`.
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
    /// The snapshot's label: its file is `<scenario>@<label>.snap`.
    pub label: String,
    /// Only these nodes.
    pub nodes: Option<Vec<String>>,
    /// Only these sections: links, addresses, routes, nexthops, rules, neigh, fdb, vlans, netfilter.
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
