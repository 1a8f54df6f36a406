//! One name-resolved view of a node's kernel state: links, addresses, routes, neighbours
//! and FDB, gathered over netlink. Netlink types stop here: checks, snapshots and
//! failure reports read this view, so they are pure functions of it and can be tested
//! without root.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::neighbour::{NeighbourFlags, NeighbourState};
use netlink_packet_route::route::RouteType;

use crate::netlink::nexthop::NexthopBody;
use crate::netlink::{self, Nl, NlError};
use crate::netns::Netns;
use crate::scenario::{Cidr, Mac, OperState, RoutePref, RouteProto, Scope};

/// Which parts of a node's state to gather (each costs one dump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sections {
    pub addresses: bool,
    pub routes: bool,
    pub neigh: bool,
    pub fdb: bool,
    /// Bridge VLANs, per port and per bridge (`bridge vlan show`).
    pub vlans: bool,
    /// Policy routing rules (`ip rule show`).
    pub rules: bool,
}

impl Sections {
    pub(crate) const LINKS: Sections = Sections {
        addresses: false,
        routes: false,
        neigh: false,
        fdb: false,
        vlans: false,
        rules: false,
    };
}

/// Links that tools (CNI plugins) named at random, by node: (the kernel's name, the
/// name snapshots show), so that snapshots stay the same from run to run.
#[derive(Debug, Default)]
pub(crate) struct Aliases(Vec<(String, String, String)>);

impl Aliases {
    pub(crate) fn of(&self, node: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(n, _, _)| n == node)
            .map(|(_, real, shown)| (real.clone(), shown.clone()))
            .collect()
    }

    /// Whether a link is already shown under another name.
    pub(crate) fn knows(&self, real: &str) -> bool {
        self.0.iter().any(|(_, r, _)| r == real)
    }

    pub(crate) fn add(&mut self, node: &str, real: &str, shown: String) {
        self.0.push((node.to_string(), real.to_string(), shown));
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeState {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    pub routes: Vec<RouteEntry>,
    pub neigh: Vec<Neighbour>,
    pub fdb: Vec<FdbRow>,
    /// Filled by `nexthops` when asked for: the dump needs the namespace, not the handle.
    pub nexthops: Vec<NexthopRow>,
    /// Each bridge port's (or VLAN-aware bridge's) VLANs, by name.
    pub vlans: Vec<(String, Vec<crate::scenario::PortVlan>)>,
    /// The rules a namespace is not born with, as `ipv4 1000: from all lookup ...`.
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// The kernel's ifindex: only to name what other dumps give by index.
    pub index: u32,
    pub name: String,
    /// `veth`, `bridge`, ...; None for loopback.
    pub kind: Option<String>,
    pub mac: Option<Mac>,
    pub mtu: u32,
    pub oper: OperState,
    pub master: Option<String>,
    /// A bridge port's state (`forwarding`, ...).
    pub port_state: Option<String>,
    /// A bridge port's flags that differ from the kernel's defaults (`nolearning`, ...).
    pub port_flags: Vec<String>,
    /// A bridge's own settings, as `stp off ageing_time 300s ...`.
    pub bridge: Option<String>,
    /// A vxlan's tunnel (`vni 42 remote ...`) and its `dev`.
    pub vxlan: Option<(String, Option<String>)>,
    pub macvlan_mode: Option<String>,
    pub vrf_table: Option<u32>,
    /// A bond's settings (`mode active-backup miimon 100 ...`), and its active and
    /// primary ports.
    pub bond: Option<(String, Option<String>, Option<String>)>,
    /// A bond port's state: `active` or `backup`.
    pub bond_port: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub dev: String,
    pub cidr: Cidr,
    pub tentative: bool,
    pub dadfailed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RouteKind {
    Unicast,
    Local,
    Broadcast,
    Multicast,
    Anycast,
    Blackhole,
    Unreachable,
    Other,
}

impl RouteKind {
    /// The word iproute2 puts before the destination, if any.
    pub(crate) fn prefix(self) -> Option<&'static str> {
        match self {
            RouteKind::Unicast | RouteKind::Other => None,
            RouteKind::Local => Some("local"),
            RouteKind::Broadcast => Some("broadcast"),
            RouteKind::Multicast => Some("multicast"),
            RouteKind::Anycast => Some("anycast"),
            RouteKind::Blackhole => Some("blackhole"),
            RouteKind::Unreachable => Some("unreachable"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteEntry {
    pub kind: RouteKind,
    pub dst: Cidr,
    pub table: u32,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub proto: RouteProto,
    /// `link` or `host`; None for universe.
    pub scope: Scope,
    pub src: Option<IpAddr>,
    pub metric: Option<u32>,
    /// `dead`, `onlink`, `linkdown`, as iproute2 prints them.
    pub flags: Vec<&'static str>,
    /// The MTU metric (for a lookup: a cached PMTU exception) and its lock.
    pub mtu: Option<u32>,
    pub mtu_locked: bool,
    pub nhid: Option<u32>,
    pub pref: Option<RoutePref>,
    /// The paths of a multipath route, or of a route through a nexthop group.
    pub hops: Vec<Hop>,
}

/// One path of a multipath route, with names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub weight: u16,
    pub flags: Vec<&'static str>,
}

/// A nexthop object, with names: `via 10.0.1.2 dev eth0`, `group 1/2,3`, `blackhole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NexthopRow {
    pub id: u32,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub blackhole: bool,
    pub group: Option<Vec<(u32, u16)>>,
    pub flags: Vec<&'static str>,
}

impl std::fmt::Display for NexthopRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words = Vec::new();
        if let Some(g) = &self.group {
            words.push(format!("group {}", crate::scenario::group_text(g)));
        }
        if self.blackhole {
            words.push("blackhole".into());
        }
        if let Some(v) = &self.via {
            words.push(format!("via {v}"));
        }
        if let Some(d) = &self.dev {
            words.push(format!("dev {d}"));
        }
        words.extend(self.flags.iter().map(|f| f.to_string()));
        f.write_str(&words.join(" "))
    }
}

/// The node's nexthop objects, by id, their devices named after `st`'s links.
pub(crate) fn nexthops(st: &NodeState, ns: &Netns, node: &str) -> Result<Vec<NexthopRow>, NlError> {
    let name = |i: u32| st.name_of(i);
    Ok(crate::netlink::nexthop::dump(ns, node)?
        .into_iter()
        .map(|n| {
            let mut row = NexthopRow {
                id: n.id,
                via: None,
                dev: None,
                blackhole: false,
                group: None,
                flags: n.flags,
            };
            match n.body {
                NexthopBody::Path { via, oif } => {
                    row.via = via;
                    row.dev = oif.map(name);
                }
                NexthopBody::Blackhole => row.blackhole = true,
                NexthopBody::Group(g) => row.group = Some(g),
            }
            row
        })
        .collect())
}

/// A neighbour entry's state, as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NudState {
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
    Noarp,
    Permanent,
    None,
}

impl NudState {
    pub(crate) fn name(self) -> &'static str {
        match self {
            NudState::Incomplete => "incomplete",
            NudState::Reachable => "reachable",
            NudState::Stale => "stale",
            NudState::Delay => "delay",
            NudState::Probe => "probe",
            NudState::Failed => "failed",
            NudState::Noarp => "noarp",
            NudState::Permanent => "permanent",
            NudState::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Neighbour {
    pub dst: IpAddr,
    pub dev: String,
    pub mac: Option<Mac>,
    pub state: NudState,
    pub proxy: bool,
    /// `router`, `extern_learn`.
    pub flags: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdbKind {
    /// Learned, or added as `dynamic`.
    Dynamic,
    /// `static` (NUD_NOARP).
    Static,
    /// `permanent` (local), iproute2's default for `bridge fdb add`.
    Permanent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FdbRow {
    pub mac: Mac,
    /// The port (or the device itself, for `self` entries).
    pub port: String,
    /// The bridge, for entries it owns (`master`).
    pub master: Option<String>,
    pub kind: FdbKind,
    /// A vxlan entry's remote VTEP.
    pub dst: Option<IpAddr>,
    /// `sticky`, `extern_learn`, `offload`, `locked`, as `bridge fdb` prints them.
    pub flags: Vec<&'static str>,
    /// The entry's VLAN, on a VLAN-aware bridge.
    pub vlan: Option<u16>,
}

/// A dump's result when `want`, without asking the kernel otherwise.
async fn wanted<T>(
    want: bool,
    dump: impl std::future::Future<Output = Result<T, NlError>>,
) -> Result<Option<T>, NlError> {
    Ok(if want { Some(dump.await?) } else { None })
}

impl NodeState {
    /// Dumps the links and the asked-for sections of one node.
    pub(crate) async fn gather(nl: &Nl, want: Sections) -> Result<NodeState, NlError> {
        // Every dump at once: they share the node's socket, and one wake of the
        // runtime serves them all.
        let (raw_links, addresses, vlans, rules, routes, neigh, fdb) = futures::try_join!(
            nl.links(),
            wanted(want.addresses, nl.addresses()),
            wanted(want.vlans, nl.bridge_vlans()),
            wanted(want.rules, nl.rules()),
            wanted(want.routes, nl.routes()),
            wanted(want.neigh, nl.neighbours()),
            wanted(want.fdb, nl.fdb()),
        )?;
        let names: HashMap<u32, String> = raw_links
            .iter()
            .map(|l| (l.index, l.name.clone()))
            .collect();
        let name = |i: u32| names.get(&i).cloned().unwrap_or_else(|| format!("if{i}"));
        let links = raw_links.iter().map(|l| link(l, &name)).collect();
        let mut st = NodeState {
            links,
            ..NodeState::default()
        };
        if let Some(addresses) = addresses {
            st.addresses = addresses
                .into_iter()
                .map(|a| Address {
                    dev: name(a.index),
                    cidr: a.cidr,
                    tentative: a.tentative,
                    dadfailed: a.dadfailed,
                })
                .collect();
        }
        if let Some(vlans) = vlans {
            st.vlans = vlans.into_iter().map(|(i, v)| (name(i), v)).collect();
            st.vlans.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if let Some(rules) = rules {
            st.rules = rules;
        }
        if let Some(routes) = routes {
            st.routes = routes.into_iter().map(|r| route_entry(r, &name)).collect();
        }
        if let Some(neigh) = neigh {
            st.neigh = neigh.into_iter().map(|e| neighbour(e, &name)).collect();
        }
        if let Some(fdb) = fdb {
            st.fdb = fdb
                .into_iter()
                .map(|e| FdbRow {
                    mac: e.mac,
                    port: name(e.index),
                    master: e.master.map(name),
                    kind: match e.state {
                        NeighbourState::Permanent => FdbKind::Permanent,
                        NeighbourState::Noarp => FdbKind::Static,
                        _ => FdbKind::Dynamic,
                    },
                    dst: e.dst,
                    vlan: e.vlan,
                    flags: [
                        (e.flags.contains(NeighbourFlags::Sticky), "sticky"),
                        (e.flags.contains(NeighbourFlags::ExtLearned), "extern_learn"),
                        (e.flags.contains(NeighbourFlags::Offloaded), "offload"),
                        (e.locked, "locked"),
                    ]
                    .into_iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, n)| n)
                    .collect(),
                })
                .collect();
        }
        Ok(st)
    }

    pub(crate) fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The name of the link with this ifindex (`if7` for one the dump did not have).
    pub(crate) fn name_of(&self, index: u32) -> String {
        self.links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| format!("if{index}"))
    }

    /// The entries of the forwarding tables: a bridge's (`master`) and a vxlan's own
    /// (`self`), without a bridge port's `self` entries for its own addresses.
    /// Shows each link a tool named at random by a stable alias, without its random
    /// MAC or the FDB entries that only hold that MAC: a snapshot must not change from
    /// run to run.
    pub(crate) fn disguise(&mut self, aliases: &[(String, String)]) {
        for (real, shown) in aliases {
            let Some(link) = self.links.iter_mut().find(|l| &l.name == real) else {
                continue;
            };
            let own = link.mac.take();
            link.name = shown.clone();
            self.fdb
                .retain(|e| !(&e.port == real && Some(e.mac) == own));
            let renamed = |d: &mut String| {
                if d == real {
                    *d = shown.clone();
                }
            };
            self.fdb.iter_mut().for_each(|e| renamed(&mut e.port));
            self.addresses.iter_mut().for_each(|a| renamed(&mut a.dev));
            self.neigh.iter_mut().for_each(|n| renamed(&mut n.dev));
            self.routes
                .iter_mut()
                .filter_map(|r| r.dev.as_mut())
                .for_each(renamed);
            self.links
                .iter_mut()
                .filter_map(|l| l.master.as_mut())
                .for_each(renamed);
        }
    }

    pub(crate) fn fdb_entries(&self) -> impl Iterator<Item = &FdbRow> {
        self.fdb.iter().filter(|e| {
            e.master.is_some()
                || self
                    .link(&e.port)
                    .is_some_and(|l| l.kind.as_deref() == Some("vxlan"))
        })
    }
}

/// The kernel's answer to `ip route get ADDR`, with names.
pub(crate) async fn route_lookup(
    nl: &Nl,
    dst: IpAddr,
    how: &netlink::Lookup,
) -> Result<Option<RouteEntry>, NlError> {
    let Some(r) = nl.route_lookup(dst, how).await? else {
        return Ok(None);
    };
    let names = link_names(nl).await?;
    let name = |i: u32| names.get(&i).cloned().unwrap_or_else(|| format!("if{i}"));
    Ok(Some(route_entry(r, &name)))
}

/// The node's interface names by index.
async fn link_names(nl: &Nl) -> Result<HashMap<u32, String>, NlError> {
    Ok(nl
        .links()
        .await?
        .into_iter()
        .map(|l| (l.index, l.name))
        .collect())
}

fn link(l: &netlink::LinkState, name: &impl Fn(u32) -> String) -> Link {
    Link {
        index: l.index,
        name: l.name.clone(),
        kind: l.kind.clone(),
        mac: l.mac,
        mtu: l.mtu,
        oper: l.oper,
        master: l.master.map(name),
        port_state: l.port_state.clone(),
        port_flags: l.port_flags.clone(),
        bridge: l.bridge.clone(),
        vxlan: l.vxlan.clone().map(|(v, d)| (v, d.map(name))),
        macvlan_mode: l.macvlan_mode.clone(),
        vrf_table: l.vrf_table,
        bond: l
            .bond
            .as_ref()
            .map(|b| (b.settings.clone(), b.active.map(name), b.primary.map(name))),
        bond_port: l.bond_port,
    }
}

fn route_entry(r: netlink::RouteState, name: &impl Fn(u32) -> String) -> RouteEntry {
    RouteEntry {
        flags: r.flags.clone(),
        mtu: r.mtu,
        mtu_locked: r.mtu_locked,
        kind: match r.kind {
            RouteType::Unicast => RouteKind::Unicast,
            RouteType::Local => RouteKind::Local,
            RouteType::Broadcast => RouteKind::Broadcast,
            RouteType::Multicast => RouteKind::Multicast,
            RouteType::Anycast => RouteKind::Anycast,
            RouteType::BlackHole => RouteKind::Blackhole,
            RouteType::Unreachable => RouteKind::Unreachable,
            _ => RouteKind::Other,
        },
        dst: r.dst,
        table: r.table,
        via: r.via,
        dev: r.oif.map(name),
        proto: RouteProto(r.protocol.into()),
        scope: Scope::from_kernel(r.scope.into()),
        src: r.pref_src,
        metric: r.metric,
        nhid: r.nhid,
        pref: r.pref,
        hops: r
            .hops
            .into_iter()
            .map(|h| Hop {
                via: h.via,
                dev: Some(h.oif).filter(|i| *i != 0).map(name),
                weight: h.weight,
                flags: h.flags,
            })
            .collect(),
    }
}

fn neighbour(e: netlink::NeighEntry, name: &impl Fn(u32) -> String) -> Neighbour {
    Neighbour {
        dst: e.dst,
        dev: name(e.index),
        mac: e.mac,
        state: nud(e.state),
        proxy: e.proxy,
        flags: e.flags,
    }
}

/// `ip neigh get [proxy] ADDR dev DEV`, with names: the node's links, and in `neigh`
/// the one entry the kernel gave, if any.
pub(crate) async fn neigh_get(
    nl: &Nl,
    index: u32,
    to: IpAddr,
    proxy: bool,
) -> Result<NodeState, NlError> {
    let mut st = NodeState::gather(nl, Sections::LINKS).await?;
    let found = nl.neigh_get(index, to, proxy).await?;
    st.neigh = found
        .into_iter()
        .map(|e| neighbour(e, &|i| st.name_of(i)))
        .collect();
    Ok(st)
}

fn nud(s: NeighbourState) -> NudState {
    match s {
        NeighbourState::Incomplete => NudState::Incomplete,
        NeighbourState::Reachable => NudState::Reachable,
        NeighbourState::Stale => NudState::Stale,
        NeighbourState::Delay => NudState::Delay,
        NeighbourState::Probe => NudState::Probe,
        NeighbourState::Failed => NudState::Failed,
        NeighbourState::Noarp => NudState::Noarp,
        NeighbourState::Permanent => NudState::Permanent,
        _ => NudState::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::route::{RouteProtocol, RouteScope};

    fn names(i: u32) -> String {
        format!("if{i}")
    }

    fn row() -> netlink::RouteState {
        netlink::RouteState {
            dst: Cidr::parse("10.1.0.0/24").unwrap(),
            table: 254,
            via: None,
            oif: Some(3),
            kind: RouteType::Unicast,
            protocol: RouteProtocol::Boot,
            metric: None,
            pref_src: None,
            scope: RouteScope::Link,
            flags: vec![],
            mtu: None,
            mtu_locked: false,
            nhid: None,
            pref: None,
            hops: vec![],
        }
    }

    #[test]
    fn a_route_row_is_named_as_iproute2_prints_it() {
        let r = route_entry(row(), &names);
        assert_eq!(r.dev.as_deref(), Some("if3"));
        assert_eq!(r.proto, RouteProto::BOOT);
        assert_eq!(r.scope, Scope::Link);
        assert_eq!(r.kind, RouteKind::Unicast);
        let mut other = row();
        other.protocol = RouteProtocol::Static;
        other.kind = RouteType::BlackHole;
        other.scope = RouteScope::Universe;
        let r = route_entry(other, &names);
        assert_eq!(
            (r.proto.to_string().as_str(), r.scope, r.kind),
            ("static", Scope::Universe, RouteKind::Blackhole)
        );
    }

    #[test]
    fn a_multipath_hop_without_a_device_names_none() {
        let mut r = row();
        r.hops = vec![
            netlink::HopState {
                via: Some("10.0.0.1".parse().unwrap()),
                oif: 0,
                weight: 1,
                flags: vec![],
            },
            netlink::HopState {
                via: None,
                oif: 4,
                weight: 2,
                flags: vec!["onlink"],
            },
        ];
        let e = route_entry(r, &names);
        assert_eq!(e.hops[0].dev, None);
        assert_eq!(e.hops[1].dev.as_deref(), Some("if4"));
        assert_eq!(e.hops[1].weight, 2);
    }

    #[test]
    fn every_kernel_neighbour_state_has_its_name() {
        let pairs = [
            (NeighbourState::Incomplete, NudState::Incomplete),
            (NeighbourState::Reachable, NudState::Reachable),
            (NeighbourState::Stale, NudState::Stale),
            (NeighbourState::Delay, NudState::Delay),
            (NeighbourState::Probe, NudState::Probe),
            (NeighbourState::Failed, NudState::Failed),
            (NeighbourState::Noarp, NudState::Noarp),
            (NeighbourState::Permanent, NudState::Permanent),
            (NeighbourState::None, NudState::None),
        ];
        for (k, n) in pairs {
            assert_eq!(nud(k), n, "{k:?}");
        }
    }
}
