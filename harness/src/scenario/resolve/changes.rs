//! Runtime change steps: address, route, sysctl, neigh, fdb, and their static entries.

use super::*;

impl Resolver<'_> {
    /// Which of `add`/`del` a change step has, with its value.
    pub(super) fn add_or_del<'v>(
        &mut self,
        path: &str,
        add: &'v Option<String>,
        del: &'v Option<String>,
        example: &str,
    ) -> Option<(&'v str, bool, String)> {
        match (add, del) {
            (Some(x), None) => Some((x, true, format!("{path}.add"))),
            (None, Some(x)) => Some((x, false, format!("{path}.del"))),
            _ => {
                self.at(
                    path,
                    "this step takes exactly one of `add` or `del`",
                    Some(format!("e.g. `{example}`")),
                );
                None
            }
        }
    }

    pub(super) fn address_step(
        &mut self,
        path: &str,
        a: &RawAddressStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let dev = self.sc_ifref(&format!("{path}.dev"), &a.dev, sc)?;
        let (text, add, vpath) = self.add_or_del(
            path,
            &a.add,
            &a.del,
            "address: { add: 10.0.0.5/24, dev: net1:eth0 }",
        )?;
        let Some(cidr) = Cidr::parse(text) else {
            self.at(
                &vpath,
                format!("invalid CIDR `{text}`"),
                Some("write an address with its prefix length, e.g. 10.0.0.1/24".into()),
            );
            return None;
        };
        Some(Action::Change(ChangeStep {
            change: Change::Address { dev, cidr, add },
            error: a.error.clone(),
        }))
    }

    pub(super) fn route_step(
        &mut self,
        path: &str,
        r: &RawRouteStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &r.node, sc)?;
        let (text, add, vpath) = self.add_or_del(
            path,
            &r.add,
            &r.del,
            "route: { node: net1, add: 10.5.0.0/16 via 10.0.0.2 }",
        )?;
        // An earlier step may make the gateway reachable: the kernel judges it.
        let route = self.route(&vpath, text, sc.node(&node)?, false)?;
        Some(Action::Change(ChangeStep {
            change: Change::Route { node, route, add },
            error: r.error.clone(),
        }))
    }

    pub(super) fn nexthop_step(
        &mut self,
        path: &str,
        x: &RawNexthopStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &x.node, sc)?;
        let (text, replace, del) = match (&x.add, &x.replace, x.del) {
            (Some(t), None, None) => (Some(t), false, None),
            (None, Some(t), None) => (Some(t), true, None),
            (None, None, Some(id)) => (None, false, Some(id)),
            _ => {
                self.at(
                    path,
                    "this step takes exactly one of `add`, `replace` or `del`",
                    Some("e.g. `nexthop: { node: r1, add: id 1 via 10.0.1.2 dev eth0 }` or `{ node: r1, del: 1 }`".into()),
                );
                return None;
            }
        };
        let add = match text {
            // Members and gateways may come from earlier steps: the kernel judges them.
            Some(t) => {
                let p = format!("{path}.{}", if replace { "replace" } else { "add" });
                Some(self.nexthop(&p, t, sc.node(&node)?, None)?)
            }
            None => None,
        };
        Some(Action::Change(ChangeStep {
            change: Change::Nexthop {
                node,
                add,
                replace,
                del,
            },
            error: x.error.clone(),
        }))
    }

    pub(super) fn sysctl_step(
        &mut self,
        path: &str,
        x: &RawSysctlStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &x.node, sc)?;
        let ifnames: Vec<&str> = sc
            .node(&node)
            .map(|n| n.interfaces.iter().map(|i| i.name.as_str()).collect())
            .unwrap_or_default();
        if let Some((msg, hint)) = sysctl_refusal(&x.key, &ifnames, false) {
            self.at(&format!("{path}.key"), msg, Some(hint));
            return None;
        }
        let change = Change::Sysctl {
            node,
            key: x.key.clone(),
            value: x.value.0.clone(),
        };
        Some(Action::Change(ChangeStep {
            change,
            error: x.error.clone(),
        }))
    }

    pub(super) fn neigh_step(
        &mut self,
        path: &str,
        n: &RawNeighStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &n.node, sc)?;
        let op = match (&n.add, &n.del, &n.flush) {
            (Some(a), None, None) => {
                NeighOp::Add(self.static_neigh(&format!("{path}.add"), &node, a, sc)?)
            }
            (None, Some(d), None) => {
                let to = self.target(&format!("{path}.del.to"), &d.to, sc, false)?;
                self.node_if(&format!("{path}.del.dev"), &node, &d.dev, sc)?;
                NeighOp::Del {
                    to,
                    dev: d.dev.as_str().into(),
                    proxy: d.proxy.unwrap_or(false),
                }
            }
            (None, None, Some(dev)) => {
                self.node_if(&format!("{path}.flush"), &node, dev, sc)?;
                NeighOp::Flush {
                    dev: dev.as_str().into(),
                }
            }
            _ => {
                self.at(
                    path,
                    "a neigh step takes exactly one of `add`, `del` or `flush`",
                    None,
                );
                return None;
            }
        };
        Some(Action::Change(ChangeStep {
            change: Change::Neigh { node, op },
            error: n.error.clone(),
        }))
    }

    pub(super) fn fdb_step(&mut self, path: &str, f: &RawFdbStep, sc: &Scenario) -> Option<Action> {
        let node = self.node_ref(&format!("{path}.node"), &f.node, sc)?;
        let op = match (&f.add, &f.append, &f.del, &f.flush) {
            (Some(a), None, None, None) => {
                FdbOp::Add(self.static_fdb(&format!("{path}.add"), &node, a, sc, false)?)
            }
            (None, Some(a), None, None) => {
                let mut entry = self.static_fdb(&format!("{path}.append"), &node, a, sc, false)?;
                if entry.dst.is_none() {
                    self.at(&format!("{path}.append"), "`append` adds a remote: it needs `dst`", Some("e.g. `append: { mac: \"00:00:00:00:00:00\", port: vx0, dst: 192.0.2.2 }`".into()));
                    return None;
                }
                entry.append = true;
                FdbOp::Add(entry)
            }
            (None, None, Some(d), None) => {
                let (mac, _) = self.mac_ref(&format!("{path}.del.mac"), &d.mac, sc)?;
                self.node_if(&format!("{path}.del.port"), &node, &d.port, sc)?;
                let dst = match &d.dst {
                    Some(x) => Some(self.ip(&format!("{path}.del.dst"), x)?),
                    None => None,
                };
                let port = sc.node(&node)?.interface(&d.port)?;
                let vxlan = matches!(port.kind, IfKind::Vxlan(_));
                FdbOp::Del {
                    mac,
                    port: d.port.as_str().into(),
                    on_self: vxlan && (dst.is_some() || port.master.is_none()),
                    dst,
                    vlan: self.fdb_vlan(&format!("{path}.del.vlan"), d.vlan)?,
                }
            }
            (None, None, None, Some(port)) => {
                self.node_if(&format!("{path}.flush"), &node, port, sc)?;
                FdbOp::Flush {
                    port: port.as_str().into(),
                }
            }
            _ => {
                self.at(
                    path,
                    "an fdb step takes exactly one of `add`, `append`, `del` or `flush`",
                    None,
                );
                return None;
            }
        };
        Some(Action::Change(ChangeStep {
            change: Change::Fdb { node, op },
            error: f.error.clone(),
        }))
    }

    /// An interface name of `node`, with a did-you-mean.
    pub(super) fn node_if(
        &mut self,
        path: &str,
        node: &str,
        name: &str,
        sc: &Scenario,
    ) -> Option<()> {
        let nd = sc.node(node)?;
        if nd.interface(name).is_some() {
            return Some(());
        }
        let hint = did_you_mean(name, nd.interfaces.iter().map(|i| i.name.as_str()))
            .map(|m| format!("did you mean `{m}`?"));
        self.at(
            path,
            format!("unknown interface `{name}` in node {node}"),
            hint,
        );
        None
    }

    pub(super) fn static_neigh(
        &mut self,
        path: &str,
        node: &str,
        n: &RawStaticNeigh,
        sc: &Scenario,
    ) -> Option<StaticNeigh> {
        let to = self.target(&format!("{path}.to"), &n.to, sc, false)?;
        let proxy = n.proxy.unwrap_or(false);
        let mac = match (&n.mac, proxy) {
            (Some(m), false) => Some(self.mac_ref(&format!("{path}.mac"), m, sc)?.0),
            (None, true) => None,
            (Some(_), true) => {
                self.at(
                    &format!("{path}.mac"),
                    "a proxy entry has no `mac`: the node answers with its own",
                    None,
                );
                return None;
            }
            (None, false) => {
                self.at(
                    path,
                    format!("the entry for {to} needs a `mac`"),
                    Some("or `proxy: true` for a proxy entry".into()),
                );
                return None;
            }
        };
        self.node_if(&format!("{path}.dev"), node, &n.dev, sc)?;
        Some(StaticNeigh {
            to,
            mac,
            dev: n.dev.as_str().into(),
            proxy,
            router: n.router.unwrap_or(false),
            extern_learn: n.extern_learn.unwrap_or(false),
        })
    }

    /// `strict` (the topology) refuses `sticky` without `static`; a runtime step lets the
    /// kernel answer, so that a scenario can assert the kernel's refusal.
    pub(super) fn static_fdb(
        &mut self,
        path: &str,
        node: &str,
        f: &RawStaticFdb,
        sc: &Scenario,
        strict: bool,
    ) -> Option<StaticFdb> {
        let (mac, _) = self.mac_ref(&format!("{path}.mac"), &f.mac, sc)?;
        self.node_if(&format!("{path}.port"), node, &f.port, sc)?;
        let port = sc.node(node)?.interface(&f.port)?;
        let vxlan = matches!(port.kind, IfKind::Vxlan(_));
        let dst = match &f.dst {
            Some(d) if !vxlan => {
                self.at(
                    &format!("{path}.dst"),
                    format!(
                        "`dst` on {node}:{}, which is a {}: only a vxlan has remotes",
                        f.port,
                        port.kind.name()
                    ),
                    Some("put the entry on the vxlan device".into()),
                );
                return None;
            }
            Some(d) => Some(self.ip(&format!("{path}.dst"), d)?),
            None => None,
        };
        if !vxlan && port.master.is_none() {
            self.at(
                &format!("{path}.port"),
                format!(
                    "{node}:{} is neither a bridge port nor a vxlan, so it has no FDB",
                    f.port
                ),
                Some("give it a `master` bridge, or name a port of one".into()),
            );
            return None;
        }
        let on_self = vxlan && (dst.is_some() || port.master.is_none());
        // A vxlan takes only permanent or reachable entries (EINVAL otherwise).
        let state = f.state.unwrap_or(if on_self {
            FdbState::Permanent
        } else {
            FdbState::Static
        });
        if strict && on_self && state == FdbState::Static {
            self.at(
                &format!("{path}.state"),
                "`state: static` on a vxlan's own entry: the kernel refuses it (EINVAL)",
                Some("use `permanent` (the default here) or `dynamic`".into()),
            );
            return None;
        }
        let sticky = f.sticky.unwrap_or(false);
        if strict && sticky && state == FdbState::Permanent {
            self.at(
                &format!("{path}.sticky"),
                "`sticky` with `state: permanent`: the kernel refuses it (EINVAL)",
                Some("use `state: static`".into()),
            );
            return None;
        }
        Some(StaticFdb {
            mac,
            port: f.port.as_str().into(),
            state,
            sticky,
            // As iproute2's `self`: a vxlan's own table holds the remotes.
            on_self,
            dst,
            extern_learn: f.extern_learn.unwrap_or(false),
            append: false,
            vlan: self.fdb_vlan(&format!("{path}.vlan"), f.vlan)?,
        })
    }

    /// An FDB entry's VLAN: Some(None) when none is given, None after an error.
    fn fdb_vlan(&mut self, path: &str, vlan: Option<u16>) -> Option<Option<u16>> {
        match vlan {
            Some(v) if !(1..=4094).contains(&v) => {
                self.at(
                    path,
                    format!("VLAN id {v} is out of range"),
                    Some("802.1Q ids run from 1 to 4094".into()),
                );
                None
            }
            v => Some(v),
        }
    }

    /// `vlan: {add|del: {dev, vid, pvid, untagged}}` on a port of a VLAN-aware bridge,
    /// or on the bridge itself (`self`).
    pub(super) fn vlan_step(
        &mut self,
        path: &str,
        x: &RawVlanStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let (e, add, p) = match (&x.add, &x.del) {
            (Some(e), None) => (e, true, format!("{path}.add")),
            (None, Some(e)) => (e, false, format!("{path}.del")),
            _ => {
                self.at(
                    path,
                    "a vlan step takes exactly one of `add` or `del`",
                    None,
                );
                return None;
            }
        };
        let (dev, on_self) = self.vlan_dev(&p, &e.dev, e.vid, sc)?;
        if !add && (e.pvid.is_some() || e.untagged.is_some()) {
            self.at(
                &p,
                "`pvid` and `untagged` belong to `add`; `del` takes `dev` and `vid`",
                None,
            );
            return None;
        }
        let vlan = PortVlan {
            vid: e.vid,
            pvid: e.pvid.unwrap_or(false),
            untagged: e.untagged.unwrap_or(false),
        };
        Some(Action::Change(ChangeStep {
            change: Change::Vlan {
                dev,
                vlan,
                add,
                on_self,
            },
            error: x.error.clone(),
        }))
    }
}
