//! `check` and `snapshot` steps.

use super::*;

impl Resolver<'_> {
    /// `within` or `for` may sit inside the check or beside it in the step.
    pub(super) fn check(
        &mut self,
        path: &str,
        c: &RawCheck,
        step: &RawStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let parent = path.trim_end_matches(".check");
        let mut waits = Vec::new();
        for (inner, outer, key) in [
            (&c.within, &step.within, "within"),
            (&c.hold, &step.hold, "for"),
        ] {
            match (inner, outer) {
                (Some(w), None) => waits.push((key, format!("{path}.{key}"), w)),
                (None, Some(w)) => waits.push((key, format!("{parent}.{key}"), w)),
                (Some(_), Some(_)) => {
                    self.at(
                        &format!("{path}.{key}"),
                        format!("`{key}` is given twice"),
                        Some("keep the one beside `check:`".into()),
                    );
                    return None;
                }
                (None, None) => {}
            }
        }
        let wait = match waits.as_slice() {
            [] => Wait::Now,
            [("within", p, w)] => Wait::Within(self.duration(p, w)?),
            [(_, p, w)] => Wait::For(self.positive_duration(p, w)?),
            [_, (_, p, _)] => {
                self.at(
                    p,
                    "a check takes `within` or `for`, not both",
                    Some(
                        "`within: D`: it comes to hold before D; `for: D`: it holds for all of D"
                            .into(),
                    ),
                );
                return None;
            }
            _ => unreachable!("at most one of each"),
        };
        let n = [
            c.neigh.is_some(),
            c.fdb.is_some(),
            c.route.is_some(),
            c.link.is_some(),
            c.frames.is_some(),
            c.counter.is_some(),
            c.nexthop.is_some(),
            c.vlan.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            self.at(
                path,
                "a check takes exactly one of `neigh`, `fdb`, `route`, `nexthop`, `link`, `vlan`, `frames` or `counter`",
                None,
            );
            return None;
        }
        let check = if let Some(x) = &c.neigh {
            self.neigh_check(&format!("{path}.neigh"), x, sc)?
        } else if let Some(x) = &c.fdb {
            self.fdb_check(&format!("{path}.fdb"), x, sc)?
        } else if let Some(x) = &c.route {
            self.route_check(&format!("{path}.route"), x, sc)?
        } else if let Some(x) = &c.counter {
            self.counter_check(&format!("{path}.counter"), x, sc)?
        } else if let Some(x) = &c.nexthop {
            self.nexthop_check(&format!("{path}.nexthop"), x, sc)?
        } else if let Some(x) = &c.frames {
            self.frames_check(&format!("{path}.frames"), x)?
        } else if let Some(x) = &c.vlan {
            self.vlan_check(&format!("{path}.vlan"), x, sc)?
        } else {
            self.link_check(&format!("{path}.link"), c.link.as_ref()?, sc)?
        };
        Some(Action::Check(CheckStep { check, wait }))
    }

    fn neigh_check(&mut self, p: &str, x: &RawNeighCheck, sc: &Scenario) -> Option<Check> {
        let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
        let to = self.target(&format!("{p}.to"), &x.to, sc, false)?;
        let mac = match &x.mac {
            Some(m) => Some(self.mac_ref(&format!("{p}.mac"), m, sc)?),
            None => None,
        };
        let present = x.present.unwrap_or(true);
        if !present && (mac.is_some() || x.state.is_some()) {
            self.at(
                &format!("{p}.present"),
                "contradictory check: `present: false` with a `mac` or `state`",
                Some("an absent entry has no MAC or state; drop one of them".into()),
            );
            return None;
        }
        let dev = match &x.dev {
            Some(d) => {
                self.node_if(&format!("{p}.dev"), &node, d, sc)?;
                Some(d.as_str().into())
            }
            None => None,
        };
        let proxy = x.proxy.unwrap_or(false);
        if proxy && (mac.is_some() || x.state.is_some()) {
            self.at(p, "a proxy entry has no `mac` or `state`", None);
            return None;
        }
        self.known_flags(
            p,
            x.flags.as_deref(),
            &["router", "extern_learn"],
            "neighbour",
        )?;
        if !present && x.flags.is_some() {
            self.at(
                p,
                "contradictory check: `present: false` with `flags`",
                None,
            );
            return None;
        }
        Some(Check::Neigh(NeighCheck {
            node,
            to,
            mac,
            state: x.state,
            present,
            dev,
            proxy,
            flags: x.flags.clone(),
        }))
    }

    fn fdb_check(&mut self, p: &str, x: &RawFdbCheck, sc: &Scenario) -> Option<Check> {
        let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
        let mac = self.mac_ref(&format!("{p}.mac"), &x.mac, sc)?;
        let nd = sc.node(&node)?;
        if !nd
            .interfaces
            .iter()
            .any(|i| matches!(i.kind, IfKind::Bridge(_) | IfKind::Vxlan(_)))
        {
            self.at(
                &format!("{p}.node"),
                format!("node {node} has no bridge and no vxlan, so no FDB to check"),
                None,
            );
            return None;
        }
        if let Some(port) = &x.port {
            self.node_if(&format!("{p}.port"), &node, port, sc)?;
        }
        let dst = match &x.dst {
            Some(d) => Some(self.ip(&format!("{p}.dst"), d)?),
            None => None,
        };
        self.known_flags(
            p,
            x.flags.as_deref(),
            &["sticky", "extern_learn", "offload", "locked"],
            "FDB",
        )?;
        let present = x.present.unwrap_or(true);
        if !present && x.flags.is_some() {
            self.at(
                p,
                "contradictory check: `present: false` with `flags`",
                None,
            );
            return None;
        }
        if let Some(v) = x.vlan.filter(|v| !(1..=4094).contains(v)) {
            self.at(
                &format!("{p}.vlan"),
                format!("VLAN id {v} is out of range"),
                Some("802.1Q ids run from 1 to 4094".into()),
            );
            return None;
        }
        Some(Check::Fdb(FdbCheck {
            node,
            mac,
            port: x.port.as_deref().map(Into::into),
            present,
            dst,
            flags: x.flags.clone(),
            vlan: x.vlan,
        }))
    }

    fn vlan_check(&mut self, p: &str, x: &RawVlanCheck, sc: &Scenario) -> Option<Check> {
        let (dev, _) = self.vlan_dev(p, &x.dev, x.vid, sc)?;
        let present = x.present.unwrap_or(true);
        if !present && (x.pvid.is_some() || x.untagged.is_some()) {
            self.at(
                &format!("{p}.present"),
                "contradictory check: `present: false` with `pvid` or `untagged`",
                None,
            );
            return None;
        }
        Some(Check::Vlan(VlanCheck {
            dev,
            vid: x.vid,
            pvid: x.pvid,
            untagged: x.untagged,
            present,
        }))
    }

    /// proto, scope, src, metric and flags, each checked against what iproute2 prints.
    fn route_attrs(&mut self, p: &str, x: &RawRouteCheck, sc: &Scenario) -> Option<RouteAttrs> {
        let scope = match x.scope.as_deref() {
            Some(s) => match Scope::parse(s) {
                Some(s) => Some(s),
                None => {
                    let hint = Some(format!("one of: {}", Scope::NAMES.join(", ")));
                    self.at(&format!("{p}.scope"), format!("unknown scope `{s}`"), hint);
                    return None;
                }
            },
            None => None,
        };
        let proto = match x.proto.as_deref() {
            Some(s) => match RouteProto::parse(s) {
                Some(v) => Some(v),
                None => {
                    let hint = Some(
                        "a name iproute2 knows (kernel, boot, static, dhcp, ra, bird, ...) or a number from 0 to 255".into(),
                    );
                    self.at(&format!("{p}.proto"), format!("unknown proto `{s}`"), hint);
                    return None;
                }
            },
            None => None,
        };
        self.known_flags(
            p,
            x.flags.as_deref(),
            &["linkdown", "dead", "onlink"],
            "route",
        )?;
        let src = match &x.src {
            Some(s) => Some(self.ip(&format!("{p}.src"), s)?),
            None => None,
        };
        let hops = match &x.nexthops {
            Some(list) => {
                let node = sc.node(&x.node)?;
                let mut hops = Vec::new();
                for (i, text) in list.iter().enumerate() {
                    hops.push(self.hop(&format!("{p}.nexthops.{i}"), text, node)?);
                }
                Some(hops)
            }
            None => None,
        };
        let pref = match x.pref.as_deref() {
            Some(v) => match RoutePref::parse(v) {
                Some(v) => Some(v),
                None => {
                    self.at(
                        &format!("{p}.pref"),
                        format!("unknown pref `{v}`"),
                        Some("one of: low, medium, high".into()),
                    );
                    return None;
                }
            },
            None => None,
        };
        Some(RouteAttrs {
            nhid: x.nhid,
            pref,
            hops,
            proto,
            scope,
            src,
            metric: x.metric,
            flags: x.flags.clone(),
            mtu: x.mtu,
            lock: x.lock,
        })
    }

    /// `from`, `oif`, `iif`, `mark`, `tos`: for a lookup only.
    fn lookup_opts(
        &mut self,
        p: &str,
        x: &RawRouteCheck,
        node: &str,
        sc: &Scenario,
    ) -> Option<LookupOpts> {
        let from = match &x.from {
            Some(s) => Some(self.ip(&format!("{p}.from"), s)?),
            None => None,
        };
        let mut dev = |key: &str, v: &Option<String>| -> Option<Option<IfName>> {
            let Some(d) = v else { return Some(None) };
            self.node_if(&format!("{p}.{key}"), node, d, sc)?;
            Some(Some(d.as_str().into()))
        };
        let oif = dev("oif", &x.oif)?;
        let iif = dev("iif", &x.iif)?;
        Some(LookupOpts {
            from,
            oif,
            iif,
            mark: x.mark,
            tos: x.tos,
        })
    }

    /// `default`, a prefix (an entry), an address or `node:if` (a lookup).
    fn route_to(
        &mut self,
        p: &str,
        x: &RawRouteCheck,
        via: Option<IpAddr>,
        sc: &Scenario,
    ) -> Option<Cidr> {
        let to = if x.to == "default" {
            Cidr::default_route(via.is_some_and(|v| v.is_ipv6()))
        } else if let Some(c) = Cidr::parse(&x.to) {
            c.network()
        } else if let Ok(a) = x.to.parse::<IpAddr>() {
            Cidr {
                addr: a,
                prefix: if a.is_ipv4() { 32 } else { 128 },
            }
        } else if x.to.contains(':') && !x.to.contains("::") {
            let r = self.sc_ifref(&format!("{p}.to"), &x.to, sc)?;
            let Some(c) = sc.interface(&r).and_then(|i| i.addresses.first()) else {
                self.at(
                    &format!("{p}.to"),
                    format!("{} has no address to stand for", x.to),
                    None,
                );
                return None;
            };
            Cidr {
                addr: c.addr,
                prefix: if c.addr.is_ipv4() { 32 } else { 128 },
            }
        } else {
            self.at(
                &format!("{p}.to"),
                format!("invalid route destination `{}`", x.to),
                Some("write `default` or a prefix such as 10.0.0.0/24 (a table entry), or an address (a lookup, as `ip route get`)".into()),
            );
            return None;
        };
        Some(to)
    }

    fn route_check(&mut self, p: &str, x: &RawRouteCheck, sc: &Scenario) -> Option<Check> {
        let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
        let via = match &x.via {
            Some(v) => Some(self.ip(&format!("{p}.via"), v)?),
            None => None,
        };
        let to = self.route_to(p, x, via, sc)?;
        if let Some(d) = &x.dev {
            self.node_if(&format!("{p}.dev"), &node, d, sc)?;
        }
        let present = x.present.unwrap_or(true);
        if !present && (via.is_some() || x.dev.is_some()) {
            self.at(&format!("{p}.present"), "contradictory check: `present: false` with `via` or `dev`", Some("to check that a route does not go a certain way, check the route it should take".into()));
            return None;
        }
        // A bare address (or node:if) asks the kernel which way it goes, like
        // `ip route get`; `default` or a prefix names a table entry.
        let lookup = x.to != "default" && !x.to.contains('/');
        if lookup && x.table.is_some() {
            self.at(
                &format!("{p}.table"),
                "`table` applies to a route entry, not to a lookup",
                Some("write `to` as a prefix, e.g. 10.0.0.5/32".into()),
            );
            return None;
        }
        let attrs = self.route_attrs(p, x, sc)?;
        let how = self.lookup_opts(p, x, &node, sc)?;
        if !lookup && !how.is_empty() {
            self.at(
                p,
                "`from`, `oif`, `iif`, `mark` and `tos` apply to a lookup, not to a route entry",
                Some("write `to` as an address, as `ip route get` takes it".into()),
            );
            return None;
        }
        if !present && !attrs.is_empty() {
            self.at(
                p,
                "contradictory check: `present: false` with route attributes",
                None,
            );
            return None;
        }
        Some(Check::Route(RouteCheck {
            node,
            to,
            lookup,
            via,
            dev: x.dev.as_deref().map(Into::into),
            table: x.table,
            present,
            attrs: Box::new(attrs),
            how,
        }))
    }

    /// `via A dev X weight W`, one path of a multipath route, as a check names it.
    fn hop(&mut self, p: &str, text: &str, node: &Node) -> Option<Hop> {
        // Checked as the one path of a default route of its family.
        let dst = if text.contains(':') {
            "::/0"
        } else {
            "0.0.0.0/0"
        };
        let line = format!("{dst} nexthop {}", text.trim_start_matches("nexthop "));
        let mut route = self.route(p, &line, node, false)?;
        match route.hops.len() {
            1 => route.hops.pop(),
            _ => {
                self.at(
                    p,
                    format!("`{text}` is not one path"),
                    Some(
                        "write each path as its own item: `via 10.0.1.2 dev eth0 weight 1`".into(),
                    ),
                );
                None
            }
        }
    }

    fn nexthop_check(&mut self, p: &str, x: &RawNexthopCheck, sc: &Scenario) -> Option<Check> {
        let node = self.node_ref(&format!("{p}.node"), &x.node, sc)?;
        let present = x.present.unwrap_or(true);
        let is = match &x.is {
            Some(text) => {
                let line = format!("id {} {text}", x.id.max(1));
                Some(
                    self.nexthop(&format!("{p}.is"), &line, sc.node(&node)?, None)?
                        .kind,
                )
            }
            None => None,
        };
        self.known_flags(
            p,
            x.flags.as_deref(),
            &["linkdown", "dead", "onlink"],
            "nexthop",
        )?;
        if !present && (is.is_some() || x.flags.is_some()) {
            self.at(
                p,
                "contradictory check: `present: false` with `is` or `flags`",
                None,
            );
            return None;
        }
        Some(Check::Nexthop(NexthopCheck {
            node,
            id: x.id,
            present,
            is,
            flags: x.flags.clone(),
        }))
    }

    /// Every flag a check lists is one that `what` entries have.
    fn known_flags(
        &mut self,
        p: &str,
        flags: Option<&[String]>,
        known: &[&str],
        what: &str,
    ) -> Option<()> {
        let Some(f) = flags
            .into_iter()
            .flatten()
            .find(|f| !known.contains(&f.as_str()))
        else {
            return Some(());
        };
        let hint = Some(format!("one of: {}", known.join(", ")));
        self.at(
            &format!("{p}.flags"),
            format!("unknown {what} flag `{f}`"),
            hint,
        );
        None
    }

    fn link_check(&mut self, p: &str, x: &RawLinkCheck, sc: &Scenario) -> Option<Check> {
        let dev = self.sc_ifref(&format!("{p}.dev"), &x.dev, sc)?;
        let present = x.present.unwrap_or(true);
        let asks = x.state.is_some()
            || x.mtu.is_some()
            || x.master.is_some()
            || x.port.is_some()
            || x.active.is_some();
        if !present && asks {
            self.at(
                &format!("{p}.present"),
                "contradictory check: `present: false` with a state",
                None,
            );
            return None;
        }
        if present && !asks {
            self.at(
                p,
                "a link check needs `state`, `port`, `mtu`, `master`, `active` or `present: false`",
                None,
            );
            return None;
        }
        if x.active.is_some()
            && !sc
                .interface(&dev)
                .is_some_and(|i| matches!(i.kind, IfKind::Bond(_)))
        {
            self.at(
                &format!("{p}.active"),
                format!("{dev} is not a bond, so it has no active port"),
                None,
            );
            return None;
        }
        let state = x.state;
        let master = x.master.as_ref().map(|m| {
            if m == "none" {
                None
            } else {
                Some(m.as_str().into())
            }
        });
        let active = x.active.as_ref().map(|m| {
            if m == "none" {
                None
            } else {
                Some(m.as_str().into())
            }
        });
        Some(Check::Link(LinkCheck {
            dev,
            present,
            state,
            port: x.port,
            mtu: x.mtu,
            master,
            active,
        }))
    }

    pub(super) fn snapshot(
        &mut self,
        path: &str,
        s: &RawSnapshot,
        sc: &Scenario,
        labels: &mut BTreeSet<String>,
    ) -> Option<Snapshot> {
        let (label, nodes, only, lpath) = match s {
            RawSnapshot::Label(l) => (l.clone(), None, None, path.to_string()),
            RawSnapshot::Full(f) => (
                f.label.clone(),
                f.nodes.clone(),
                f.only.clone(),
                format!("{path}.label"),
            ),
        };
        if label.is_empty()
            || !label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.at(
                &lpath,
                format!("invalid snapshot label `{label}`"),
                Some("use letters, digits, `-` and `_`; the label names the .snap file".into()),
            );
            return None;
        }
        if label.len() > MAX_LABEL {
            self.at(
                &lpath,
                format!("snapshot label is {} bytes long", label.len()),
                Some(format!(
                    "use at most {MAX_LABEL}; the label names the .snap file"
                )),
            );
            return None;
        }
        if !labels.insert(label.clone()) {
            self.at(
                &lpath,
                format!("duplicate snapshot label `{label}`"),
                Some("each snapshot step of a scenario needs its own label".into()),
            );
            return None;
        }
        for (j, n) in nodes.iter().flatten().enumerate() {
            self.node_ref(&format!("{path}.nodes.{j}"), n, sc)?;
        }
        for (j, o) in only.iter().flatten().enumerate() {
            if !SNAPSHOT_SECTIONS.contains(&o.as_str()) {
                let hint = did_you_mean(o, SNAPSHOT_SECTIONS)
                    .map(|m| {
                        format!(
                            "did you mean `{m}`? valid: {}",
                            SNAPSHOT_SECTIONS.join(", ")
                        )
                    })
                    .or_else(|| Some(format!("valid: {}", SNAPSHOT_SECTIONS.join(", "))));
                self.at(
                    &format!("{path}.only.{j}"),
                    format!("unknown snapshot section `{o}`"),
                    hint,
                );
                return None;
            }
        }
        let nodes = nodes.map(|ns| ns.iter().map(|n| n.as_str().into()).collect());
        Some(Snapshot { label, nodes, only })
    }

    /// The device of a VLAN check or step (a VLAN-aware bridge, which is then `self`,
    /// or a port of one) and a valid VLAN id: the device and whether it is the bridge.
    pub(super) fn vlan_dev(
        &mut self,
        p: &str,
        dev: &str,
        vid: u16,
        sc: &Scenario,
    ) -> Option<(IfRef, bool)> {
        let dev = self.sc_ifref(&format!("{p}.dev"), dev, sc)?;
        let node = sc.node(&dev.node)?;
        let iface = node.interface(&dev.ifname)?;
        let on_self = iface.kind.is_vlan_aware_bridge();
        let port_of_aware = iface
            .master
            .as_ref()
            .and_then(|m| node.interface(m))
            .is_some_and(|m| m.kind.is_vlan_aware_bridge());
        if !on_self && !port_of_aware {
            self.at(
                &format!("{p}.dev"),
                format!("{dev} is neither a VLAN-aware bridge nor a port of one"),
                Some("VLANs belong to a bridge with `bridge: { vlan_filtering: true }` and its ports".into()),
            );
            return None;
        }
        if !(1..=4094).contains(&vid) {
            self.at(
                &format!("{p}.vid"),
                format!("VLAN id {vid} is out of range"),
                Some("802.1Q ids run from 1 to 4094".into()),
            );
            return None;
        }
        Some((dev, on_self))
    }
}
