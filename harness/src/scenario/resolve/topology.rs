//! Nodes and interfaces: names, kinds, veth pairs, masters, addresses, MACs.

use super::*;

impl Resolver<'_> {
    pub(super) fn node(
        &mut self,
        node_name: &str,
        raw_node: &RawNode,
        raw: &RawScenario,
        names: &Names,
        macs: &mut BTreeMap<Mac, String>,
    ) -> Node {
        let path = format!("nodes.{node_name}");
        let mut sysctls = Vec::new();
        let ifnames: Vec<&str> = names
            .nodes
            .get(node_name)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for (k, v) in &raw_node.sysctl {
            let kpath = format!("{path}.sysctl.{k}");
            if let Some((msg, hint)) = sysctl_refusal(k, &ifnames, true) {
                self.at_key(&kpath, msg, Some(hint));
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
            name: node_name.into(),
            sysctls,
            interfaces,
            routes: Vec::new(),
            nexthops: Vec::new(),
            neigh: Vec::new(),
            fdb: Vec::new(),
            netfilter: Vec::new(),
            cni: Vec::new(),
        }
    }

    pub(super) fn interface(
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
                format!("invalid interface name `{}`: {why}", ifname.escape_debug()),
                None,
            );
        }
        let local_ifs = &names.nodes[node];
        let kind = self.kind(node, ifname, ipath, ri, raw, names)?;

        self.check_master(node, ifname, ipath, ri, local_ifs);

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

        let mac = self.interface_mac(node, ifname, ipath, ri);
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
        self.check_options(node, ifname, ipath, ri, raw, &kind, local_ifs);
        Some(Interface {
            name: ifname.into(),
            kind,
            mac,
            mtu: ri.mtu,
            up: ri.up.unwrap_or(true),
            master: ri.master.as_deref().map(Into::into),
            addresses,
            dad: ri.dad.unwrap_or(false),
            port,
        })
    }

    /// `port:` only on a bridge's port, `bridge:` only on a bridge.
    #[allow(clippy::too_many_arguments)]
    fn check_options(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        kind: &IfKind,
        local_ifs: &BTreeMap<String, &'static str>,
    ) {
        if let Some(vlans) = ri.port.as_ref().and_then(|p| p.vlans.as_ref()) {
            self.port_vlans(&format!("{ipath}.port.vlans"), node, ri, vlans, raw);
        }
        let master_kind = ri.master.as_ref().and_then(|m| local_ifs.get(m.as_str()));
        if ri.port.is_some() && master_kind.is_none() {
            self.at_key(
                &format!("{ipath}.port"),
                format!("`port:` options on {node}:{ifname}, which has no `master`"),
                Some("port options apply to a bridge port; add `master: BRIDGE`".into()),
            );
        } else if let (Some(_), Some(&k @ ("vrf" | "bond"))) = (&ri.port, master_kind) {
            self.at_key(
                &format!("{ipath}.port"),
                format!("`port:` options on {node}:{ifname}, whose master is a {k}"),
                Some("port options apply to a bridge port".into()),
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
    }

    /// `master` names a bridge of the same node, not the interface itself.
    fn check_master(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        local_ifs: &BTreeMap<String, &'static str>,
    ) {
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
                Some(&k @ ("bridge" | "vrf" | "bond")) if m == ifname => {
                    self.at(&mpath, format!("{k} `{m}` cannot be its own master"), None)
                }
                Some(&"vrf") if local_ifs.get(ifname) == Some(&"vrf") => self.at(
                    &mpath,
                    format!("vrf `{ifname}` cannot be a port of vrf `{m}`"),
                    Some("VRFs do not nest: the kernel refuses to enslave an L3 master device to another".into()),
                ),
                Some(&("bridge" | "vrf" | "bond")) => {}
                Some(k) => self.at(
                    &mpath,
                    format!("master `{m}` is not a bridge, vrf or bond (it is a {k})"),
                    Some("`master` names a bridge, a vrf or a bond of the same node".into()),
                ),
            }
        }
    }

    /// The declared MAC, checked, or the one derived from node and interface names.
    fn interface_mac(&mut self, node: &str, ifname: &str, ipath: &str, ri: &RawInterface) -> Mac {
        match &ri.mac {
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
        }
    }

    /// `bridge:` options, with durations in the kernel's hundredths of a second.
    fn bridge_options(&mut self, ipath: &str, ri: &RawInterface) -> BridgeOptions {
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
            o.vlan_default_pvid = b.vlan_default_pvid;
            if let Some(p) = b.vlan_default_pvid.filter(|p| *p > 4094) {
                self.at(
                    &format!("{ipath}.bridge.vlan_default_pvid"),
                    format!("VLAN id {p} is out of range"),
                    Some("1 to 4094, or 0 for none".into()),
                );
            }
            if let Some(vlans) = &b.vlans {
                let path = format!("{ipath}.bridge.vlans");
                if b.vlan_filtering == Some(true) {
                    self.vlan_list(&path, vlans);
                } else {
                    self.at_key(
                        &path,
                        "the bridge's own VLANs need `vlan_filtering: true`",
                        None,
                    );
                }
                o.vlans = Some(vlans.clone());
            }
        }
        o
    }

    pub(super) fn kind(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<IfKind> {
        let local_ifs = &names.nodes[node];
        let kind_name = local_ifs[ifname];
        for key in misplaced(kind_name, ri) {
            self.at_key(
                &format!("{ipath}.{key}"),
                format!("`{key}` does not apply to {node}:{ifname}, a {kind_name}"),
                None,
            );
        }
        match kind_name {
            "bridge" => Some(IfKind::Bridge(self.bridge_options(ipath, ri))),
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
                        node: node.into(),
                        ifname: parent.as_str().into(),
                    }
                };
                let mode = ri.mode.unwrap_or(MacvlanMode::Bridge);
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
                Some(IfKind::Vxlan(Vxlan {
                    vni,
                    local,
                    remote,
                    dev: ri.dev.as_deref().map(Into::into),
                    dstport: ri.dstport.unwrap_or(4789),
                }))
            }
            "dummy" => Some(IfKind::Dummy),
            "vlan" => self.vlan(node, ifname, ipath, ri, local_ifs),
            "vrf" => self.vrf(node, ifname, ipath, ri),
            "bond" => Some(IfKind::Bond(
                self.bond_options(ifname, ipath, ri, raw, node),
            )),
            _ => self.veth(node, ifname, ipath, ri, raw, names),
        }
    }

    /// A VRF's table: any but the kernel's own (local 255, main 254, default 253) and 0,
    /// which the kernel reads as "none".
    fn vrf(&mut self, node: &str, ifname: &str, ipath: &str, ri: &RawInterface) -> Option<IfKind> {
        match ri.table {
            None => {
                self.at_key(
                    ipath,
                    format!("vrf {node}:{ifname} needs `table`"),
                    Some("the routing table its ports use, such as `table: 10`".into()),
                );
                None
            }
            Some(t @ (0 | 253..=255)) => {
                self.at(
                    &format!("{ipath}.table"),
                    format!("table {t} cannot be a VRF's table"),
                    Some("0 means no table, and 253 to 255 are the kernel's default, main and local tables: pick another, such as 10".into()),
                );
                None
            }
            Some(table) => Some(IfKind::Vrf { table }),
        }
    }

    /// A bond's options: times in whole milliseconds, a primary that is one of its ports.
    fn bond_options(
        &mut self,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        node: &str,
    ) -> BondOptions {
        let b = ri.bond.as_ref();
        let mut ms = |key: &str, v: Option<&String>| {
            let d = self.duration(&format!("{ipath}.bond.{key}"), v?)?;
            match u32::try_from(d.as_millis()) {
                Ok(ms) => Some(ms),
                Err(_) => {
                    self.at(
                        &format!("{ipath}.bond.{key}"),
                        format!("`{key}` is too long"),
                        Some("the kernel takes milliseconds that fit in 32 bits".into()),
                    );
                    None
                }
            }
        };
        let miimon_ms = ms("miimon", b.and_then(|b| b.miimon.as_ref()));
        let updelay_ms = ms("updelay", b.and_then(|b| b.updelay.as_ref()));
        let downdelay_ms = ms("downdelay", b.and_then(|b| b.downdelay.as_ref()));
        for (key, v) in [("updelay", updelay_ms), ("downdelay", downdelay_ms)] {
            let Some(v) = v.filter(|v| *v > 0) else {
                continue;
            };
            match miimon_ms.filter(|m| *m > 0) {
                None => self.at(
                    &format!("{ipath}.bond.{key}"),
                    format!("`{key}` without `miimon`"),
                    Some("the delays count in carrier checks: set `miimon`, such as 100ms".into()),
                ),
                Some(m) if v % m != 0 => self.at(
                    &format!("{ipath}.bond.{key}"),
                    format!("`{key}` {v}ms is not a multiple of miimon {m}ms"),
                    Some("the kernel would round it down silently; write a multiple".into()),
                ),
                Some(_) => {}
            }
        }
        let mode = b.and_then(|b| b.mode).unwrap_or(BondMode::ActiveBackup);
        let primary = b.and_then(|b| b.primary.as_ref()).and_then(|p| {
            let ppath = format!("{ipath}.bond.primary");
            let is_port = raw
                .nodes
                .get(node)
                .and_then(|n| n.interfaces.get(p))
                .is_some_and(|i| i.master.as_deref() == Some(ifname));
            if !is_port {
                self.at(
                    &ppath,
                    format!("primary `{p}` is not a port of bond {node}:{ifname}"),
                    Some(format!(
                        "name an interface of {node} that has `master: {ifname}`"
                    )),
                );
                return None;
            }
            if mode != BondMode::ActiveBackup {
                self.at(
                    &ppath,
                    format!("`primary` applies to active-backup, not {}", mode.name()),
                    None,
                );
            }
            Some(p.as_str().into())
        });
        BondOptions {
            mode,
            miimon_ms,
            updelay_ms,
            downdelay_ms,
            primary,
        }
    }

    /// A list of VLANs: valid ids, each once, one PVID at most.
    fn vlan_list(&mut self, path: &str, vlans: &[PortVlan]) {
        for (k, v) in vlans.iter().enumerate() {
            if !(1..=4094).contains(&v.vid) {
                self.at(
                    &format!("{path}.{k}.vid"),
                    format!("VLAN id {} is out of range", v.vid),
                    Some("802.1Q ids run from 1 to 4094".into()),
                );
            } else if vlans[..k].iter().any(|o| o.vid == v.vid) {
                self.at(
                    &format!("{path}.{k}.vid"),
                    format!("VLAN {} is listed twice", v.vid),
                    None,
                );
            }
        }
        if vlans.iter().filter(|v| v.pvid).count() > 1 {
            self.at_key(
                path,
                "more than one `pvid: true`",
                Some("a port has one PVID: the VLAN its untagged frames join".into()),
            );
        }
    }

    /// A port's VLANs: valid ids, each once, one PVID at most, on a VLAN-aware bridge.
    fn port_vlans(
        &mut self,
        path: &str,
        node: &str,
        ri: &RawInterface,
        vlans: &[PortVlan],
        raw: &RawScenario,
    ) {
        let aware = ri
            .master
            .as_ref()
            .and_then(|m| raw.nodes.get(node)?.interfaces.get(m))
            .and_then(|b| b.bridge.as_ref()?.vlan_filtering)
            == Some(true);
        if !aware {
            self.at_key(
                path,
                "port VLANs need a VLAN-aware master",
                Some("give the master bridge `bridge: { vlan_filtering: true }` (and `requires: [vlan_filtering]`)".into()),
            );
            return;
        }
        self.vlan_list(path, vlans);
    }

    /// An 802.1Q device: on a parent in the same node, which netspec creates first.
    fn vlan(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        local_ifs: &BTreeMap<String, &'static str>,
    ) -> Option<IfKind> {
        let Some(parent) = &ri.parent else {
            self.at_key(
                ipath,
                format!("vlan {node}:{ifname} needs `parent`"),
                Some("name the interface in this node that carries the tagged frames: `parent: eth0`".into()),
            );
            return None;
        };
        let ppath = format!("{ipath}.parent");
        if parent.contains(':') {
            self.at(
                &ppath,
                format!("the parent of vlan {node}:{ifname} must be in {node}"),
                Some("a vlan device sits on an interface of its own node: `parent: eth0`".into()),
            );
            return None;
        }
        match local_ifs.get(parent.as_str()) {
            Some(&("macvlan" | "vxlan" | "vlan")) => {
                self.at(
                    &ppath,
                    format!("vlan {node}:{ifname} on {parent}, itself a stacked device, is not supported"),
                    Some("put the vlan on a veth, a dummy or a bridge".into()),
                );
                return None;
            }
            Some(_) => {}
            None => {
                self.local_if(&ppath, node, parent, local_ifs);
                return None;
            }
        }
        let id = match ri.id {
            Some(id @ 1..=4094) => id,
            Some(id) => {
                self.at(
                    &format!("{ipath}.id"),
                    format!("VLAN id {id} is out of range"),
                    Some("802.1Q ids run from 1 to 4094 (0 and 4095 are reserved)".into()),
                );
                return None;
            }
            None => {
                self.at_key(
                    ipath,
                    format!("vlan {node}:{ifname} needs `id`"),
                    Some("the VLAN id, 1 to 4094".into()),
                );
                return None;
            }
        };
        Some(IfKind::Vlan {
            parent: parent.as_str().into(),
            id,
        })
    }

    /// Both ends of a pair, who names whom, and which end creates it: the cases are
    /// few but each needs its own message.
    pub(super) fn veth(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        ri: &RawInterface,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<IfKind> {
        match &ri.peer {
            Some(p) => self.veth_naming(node, ifname, ipath, p, raw, names),
            None => self.veth_named(node, ifname, ipath, names),
        }
    }

    /// Who names `node:ifname` as their peer.
    fn claimants<'n>(names: &'n Names, me: &str) -> &'n [(String, String)] {
        names
            .claimed_by
            .get(me)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A veth end that names its peer `p`.
    fn veth_naming(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        p: &str,
        raw: &RawScenario,
        names: &Names,
    ) -> Option<IfKind> {
        let me = format!("{node}:{ifname}");
        let claimants = Self::claimants(names, &me);
        let ppath = format!("{ipath}.peer");
        let peer = self.ifref(&ppath, p, names)?;
        if peer.node == node && peer.ifname == ifname {
            self.at(&ppath, format!("{me} cannot be its own peer"), None);
            return None;
        }
        let peer_kind = names.nodes[peer.node.as_str()][peer.ifname.as_str()];
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
            .get(peer.node.as_str())
            .and_then(|n| n.interfaces.get(peer.ifname.as_str()));
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
            let others: Vec<String> = claimants.iter().map(|(n, i)| format!("{n}:{i}")).collect();
            self.at(
                &ppath,
                format!("{me} is named as a peer by {}", others.join(" and ")),
                Some("a veth pair has exactly two ends".into()),
            );
            return None;
        }
        // When both ends name each other, the end that sorts first creates the pair.
        let creates =
            claimants.is_empty() || (node, ifname) < (peer.node.as_str(), peer.ifname.as_str());
        Some(IfKind::Veth { peer, creates })
    }

    /// A veth end that names no peer: exactly one other end must name it.
    fn veth_named(
        &mut self,
        node: &str,
        ifname: &str,
        ipath: &str,
        names: &Names,
    ) -> Option<IfKind> {
        let me = format!("{node}:{ifname}");
        match Self::claimants(names, &me) {
            [(n, i)] => Some(IfKind::Veth {
                peer: IfRef {
                    node: n.into(),
                    ifname: i.into(),
                },
                creates: false,
            }),
            // A peer that names an unknown node was meant for this interface, most
            // likely: its error is the cause, and this one would only follow from it.
            [] if names
                .dangling_peers
                .iter()
                .any(|(n, i)| i == ifname || did_you_mean(n, [node]).is_some()) =>
            {
                None
            }
            [] => {
                self.at_key(ipath, format!("interface {me} has no kind"), Some("give `peer: node:ifname` for a veth pair, or `kind: bridge`, `macvlan` or `vxlan`".into()));
                None
            }
            many => {
                let others: Vec<String> = many.iter().map(|(n, i)| format!("{n}:{i}")).collect();
                self.at_key(
                    ipath,
                    format!("{me} is named as a peer by {}", others.join(" and ")),
                    Some("a veth pair has exactly two ends".into()),
                );
                None
            }
        }
    }

    pub(super) fn local_if(
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

    /// Refuses every reference cycle: a bridge enslaved to a bridge that is enslaved to it,
    /// a macvlan that is (through others) its own parent, a macvlan whose parent is its
    /// own master. Building one would recurse or wait forever.
    pub(super) fn cycles(&mut self, nodes: &[Node]) {
        let mut edges: BTreeMap<IfRef, Vec<(IfRef, &'static str)>> = BTreeMap::new();
        for n in nodes {
            for i in &n.interfaces {
                let me = IfRef {
                    node: n.name.clone(),
                    ifname: i.name.clone(),
                };
                let local = |name: &str| IfRef {
                    node: n.name.clone(),
                    ifname: name.into(),
                };
                // Edges point the way carrier flows from: a bridge from its ports, a
                // macvlan from its parent, a vxlan from its `dev`.
                if let Some(m) = &i.master {
                    edges
                        .entry(local(m))
                        .or_default()
                        .push((me.clone(), "port"));
                }
                let out = edges.entry(me).or_default();
                match &i.kind {
                    IfKind::Macvlan { parent, .. } => out.push((parent.clone(), "parent")),
                    IfKind::Vxlan(Vxlan { dev: Some(d), .. }) => out.push((local(d), "dev")),
                    IfKind::Vlan { parent, .. } => out.push((local(parent), "parent")),
                    _ => {}
                }
            }
        }
        // Iterative depth-first search; `done` holds nodes whose every path was explored.
        let mut done: BTreeSet<IfRef> = BTreeSet::new();
        for start in edges.keys() {
            if done.contains(start) {
                continue;
            }
            let mut path: Vec<(IfRef, usize)> = vec![(start.clone(), 0)];
            while let Some((at, next)) = path.last().cloned() {
                let outs = edges.get(&at).map(Vec::as_slice).unwrap_or_default();
                let Some((to, _)) = outs.get(next) else {
                    done.insert(at);
                    path.pop();
                    continue;
                };
                path.last_mut().expect("not empty").1 += 1;
                if let Some(k) = path.iter().position(|(r, _)| r == to) {
                    let mut chain = String::new();
                    for (r, n) in &path[k..] {
                        let (_, how) = edges[r][n - 1];
                        chain += &format!("{r} -({how})-> ");
                    }
                    chain += &to.to_string();
                    let first = &path[k].0;
                    self.at_key(
                        &format!("nodes.{}.interfaces.{}", first.node, first.ifname),
                        format!("reference cycle: {chain}"),
                        Some("an interface cannot sit, through others, on itself; remove one `master`, `parent` or `dev`".into()),
                    );
                    // One message per cycle: everything on it is explored.
                    for (r, _) in path.drain(k..) {
                        done.insert(r);
                    }
                    continue;
                }
                if !done.contains(to) {
                    path.push((to.clone(), 0));
                }
            }
        }
    }
}

/// The keys given to an interface that belong to another kind.
fn misplaced(k: &str, ri: &RawInterface) -> Vec<&'static str> {
    let mut v = Vec::new();
    if k != "macvlan" && k != "vlan" && ri.parent.is_some() {
        v.push("parent")
    }
    if k != "macvlan" && ri.mode.is_some() {
        v.push("mode")
    }
    if k != "vlan" && ri.id.is_some() {
        v.push("id")
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
    if k != "vrf" && ri.table.is_some() {
        v.push("table")
    }
    if k != "bond" && ri.bond.is_some() {
        v.push("bond")
    }
    v
}
