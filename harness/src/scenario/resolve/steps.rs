//! Steps: probes, link changes and runtime changes.

use super::*;

impl Resolver<'_> {
    /// Which action a step has (exactly one), then that action's resolver.
    pub(super) fn step(
        &mut self,
        i: usize,
        raw: &RawStep,
        sc: &Scenario,
        labels: &mut BTreeSet<String>,
        step_timeout: Duration,
    ) -> Option<Step> {
        let path = format!("steps.{i}");
        let pos = self.spans.value(&path);
        if !self.waits_belong_to_a_check(&path, raw) {
            return None;
        }
        let action = match actions_of(raw).as_slice() {
            [] => {
                self.at(
                    &path,
                    format!("step {} has no action", i + 1),
                    Some(format!("a step is one of: {}", ACTIONS.join(", "))),
                );
                return None;
            }
            [_] => self.action(&path, raw, sc, labels)?,
            many => {
                self.at(
                    &path,
                    format!("step {} has several actions: {}", i + 1, many.join(", ")),
                    Some("write each action as its own list item".into()),
                );
                return None;
            }
        };
        let timeout = match &raw.timeout {
            Some(t) => self.positive_duration(&format!("{path}.timeout"), t)?,
            None => step_timeout,
        };
        let kernel = match &raw.kernel {
            Some(text) => match crate::scenario::KernelReq::parse(text) {
                Ok(k) => Some(k),
                Err(why) => {
                    self.at(
                        &format!("{path}.kernel"),
                        format!("kernel: {why}"),
                        Some("write `>= 6.12`, `< 6.12`, or both: `>= 6.2, < 6.12`".into()),
                    );
                    return None;
                }
            },
            None => None,
        };
        let requires = raw.requires.clone().unwrap_or_default();
        let unless = raw.unless.clone().unwrap_or_default();
        self.known_features(&format!("{path}.requires"), &requires);
        self.known_features(&format!("{path}.unless"), &unless);
        if let Some(f) = requires.iter().find(|f| unless.contains(f)) {
            self.at(
                &path,
                format!("`{f}` is both required and excluded: the step would never run"),
                None,
            );
            return None;
        }
        Some(Step {
            index: i + 1,
            name: raw.name.clone(),
            pos,
            action,
            timeout,
            kernel,
            requires,
            unless,
        })
    }

    /// `for` and `within` only shape a check.
    fn waits_belong_to_a_check(&mut self, path: &str, raw: &RawStep) -> bool {
        if raw.hold.is_some() && raw.check.is_none() {
            self.at(
                &format!("{path}.for"),
                "`for` applies to a `check` step only",
                Some("`for: 2s` asserts that a check keeps holding for that long".into()),
            );
            return false;
        }
        if raw.within.is_some() && raw.check.is_none() {
            self.at(
                &format!("{path}.within"),
                "`within` applies to a `check` step only",
                Some("to wait for a probe, give it a `timeout`".into()),
            );
            return false;
        }
        true
    }

    /// The step's one action, by its resolver: a dispatch table, one line per kind.
    fn action(
        &mut self,
        path: &str,
        raw: &RawStep,
        sc: &Scenario,
        labels: &mut BTreeSet<String>,
    ) -> Option<Action> {
        Some(if let Some(p) = &raw.ping {
            Action::Ping(self.ping(&format!("{path}.ping"), p, sc)?)
        } else if let Some(list) = &raw.pings {
            self.pings(&format!("{path}.pings"), list, sc)?
        } else if let Some(a) = &raw.arping {
            Action::Arping(self.arping(&format!("{path}.arping"), a, sc)?)
        } else if let Some(l) = &raw.link {
            self.link_step(&format!("{path}.link"), l, sc)?
        } else if let Some(c) = &raw.check {
            self.check(&format!("{path}.check"), c, raw, sc)?
        } else if let Some(s) = &raw.snapshot {
            Action::Snapshot(self.snapshot(&format!("{path}.snapshot"), s, sc, labels)?)
        } else if let Some(a) = &raw.address {
            self.address_step(&format!("{path}.address"), a, sc)?
        } else if let Some(r) = &raw.route {
            self.route_step(&format!("{path}.route"), r, sc)?
        } else if let Some(x) = &raw.sysctl {
            self.sysctl_step(&format!("{path}.sysctl"), x, sc)?
        } else if let Some(n) = &raw.neigh {
            self.neigh_step(&format!("{path}.neigh"), n, sc)?
        } else if let Some(f) = &raw.fdb {
            self.fdb_step(&format!("{path}.fdb"), f, sc)?
        } else if let Some(v) = &raw.vlan {
            self.vlan_step(&format!("{path}.vlan"), v, sc)?
        } else if let Some(n) = &raw.nexthop {
            self.nexthop_step(&format!("{path}.nexthop"), n, sc)?
        } else if let Some(x) = &raw.send {
            Action::Send(self.send(&format!("{path}.send"), x, sc)?)
        } else if let Some(w) = &raw.watch {
            Action::Watch(self.watch(&format!("{path}.watch"), w, sc)?)
        } else if let Some(l) = &raw.listen {
            Action::Listen(ListenStep {
                listen: self.listen(&format!("{path}.listen"), l, sc)?,
                stop: l.stop.unwrap_or(false),
            })
        } else if let Some(c) = &raw.connect {
            Action::Connect(self.connect(&format!("{path}.connect"), c, sc)?)
        } else if let Some(x) = &raw.exec {
            Action::Exec(self.exec(&format!("{path}.exec"), x, sc)?)
        } else if let Some(r) = &raw.netfilter {
            self.rules_step(&format!("{path}.netfilter"), r, sc)?
        } else if let Some(c) = &raw.cni {
            self.cni_step(&format!("{path}.cni"), c, sc)?
        } else if let Some(n) = &raw.netavark {
            self.netavark_step(&format!("{path}.netavark"), n, sc)?
        } else {
            Action::Sleep(self.duration(&format!("{path}.sleep"), raw.sleep.as_deref()?)?)
        })
    }

    pub(super) fn node_ref(&mut self, path: &str, n: &str, sc: &Scenario) -> Option<NodeName> {
        if sc.node(n).is_some() {
            return Some(n.into());
        }
        let hint = did_you_mean(n, sc.nodes.iter().map(|x| x.name.as_str()))
            .map(|m| format!("did you mean `{m}`?"));
        self.at(path, format!("unknown node `{n}`"), hint);
        None
    }

    /// `node:if` against the symbol table.
    pub(super) fn sc_ifref(&mut self, path: &str, s: &str, _sc: &Scenario) -> Option<IfRef> {
        let names = self.names.clone();
        self.ifref(path, s, &names)
    }

    /// An address target: an IP, or `node:if` standing for that interface's first address
    /// (of the given family, when one is required).
    pub(super) fn target(
        &mut self,
        path: &str,
        s: &str,
        sc: &Scenario,
        v4_only: bool,
    ) -> Option<IpAddr> {
        if let Ok(a) = s.parse::<IpAddr>() {
            if v4_only && a.is_ipv6() {
                self.at(
                    path,
                    format!("{a} is an IPv6 address; ARP is IPv4 only"),
                    Some("use ping to test IPv6 neighbour discovery".into()),
                );
                return None;
            }
            return Some(a);
        }
        if !s.contains(':') {
            self.at(
                path,
                format!("`{s}` is neither an IP address nor a node:interface reference"),
                None,
            );
            return None;
        }
        let r = self.sc_ifref(path, s, sc)?;
        let iface = sc.interface(&r)?;
        match iface
            .addresses
            .iter()
            .find(|c| !v4_only || c.addr.is_ipv4())
        {
            Some(c) => Some(c.addr),
            None => {
                self.at(
                    path,
                    format!(
                        "{s} has no {}address to stand for",
                        if v4_only { "IPv4 " } else { "" }
                    ),
                    Some("give the interface `addresses`, or write an IP".into()),
                );
                None
            }
        }
    }

    pub(super) fn mac_ref(&mut self, path: &str, s: &str, sc: &Scenario) -> Option<(Mac, String)> {
        if let Some(m) = Mac::parse(s) {
            return Some((m, s.to_string()));
        }
        if s.matches(':').count() == 1 {
            let r = self.sc_ifref(path, s, sc)?;
            return sc.interface(&r).map(|i| (i.mac, s.to_string()));
        }
        self.at(
            path,
            format!("`{s}` is neither a MAC nor a node:interface reference"),
            Some(
                "write a MAC like 02:00:00:00:00:01, or the interface that owns it, like net2:eth0"
                    .into(),
            ),
        );
        None
    }

    /// An optional MAC: written as one, as `node:if`, or `broadcast`.
    pub(super) fn mac_or_broadcast(
        &mut self,
        path: &str,
        v: Option<&str>,
        sc: &Scenario,
    ) -> Option<Option<Mac>> {
        match v {
            None => Some(None),
            Some("broadcast") => Some(Some(Mac([0xff; 6]))),
            Some(m) => Some(Some(self.mac_ref(path, m, sc)?.0)),
        }
    }

    /// `pings: [...]`: plain pings, sent at once; what a frame crossed is a `ping`'s job.
    fn pings(&mut self, path: &str, list: &[RawPing], sc: &Scenario) -> Option<Action> {
        const MAX: usize = 4096;
        if list.is_empty() || list.len() > MAX {
            self.at(
                path,
                format!("`pings` takes 1 to {MAX} pings, not {}", list.len()),
                None,
            );
            return None;
        }
        let mut out = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let ipath = format!("{path}.{i}");
            let observes = p.seen.is_some()
                || p.not_seen.is_some()
                || p.path.is_some()
                || p.reply_path.is_some()
                || p.trace.is_some();
            if observes {
                self.at(&ipath, "a ping in `pings` takes no `seen`, `not_seen`, `path`, `reply_path` or `trace`", Some("write it as its own `ping` step".into()));
                return None;
            }
            out.push(self.ping(&ipath, p, sc)?);
        }
        Some(Action::Pings(out))
    }

    pub(super) fn ping(&mut self, path: &str, p: &RawPing, sc: &Scenario) -> Option<Ping> {
        let Some(from) = &p.from else {
            self.at(
                path,
                "ping needs `from`",
                Some(format!(
                    "name the node that sends, e.g. `from: {}`",
                    sc.nodes.first().map(|n| n.name.as_str()).unwrap_or("net1")
                )),
            );
            return None;
        };
        let Some(to) = &p.to else {
            self.at(
                path,
                "ping needs `to`",
                Some("an IP address, or node:interface for its first address".into()),
            );
            return None;
        };
        let (from_node, from_if) = if from.contains(':') {
            let r = self.sc_ifref(&format!("{path}.from"), from, sc)?;
            (r.node, Some(r.ifname))
        } else {
            (self.node_ref(&format!("{path}.from"), from, sc)?, None)
        };
        let to_ip = self.target(&format!("{path}.to"), to, sc, false)?;
        let timeout = match &p.timeout {
            Some(t) => self.positive_duration(&format!("{path}.timeout"), t)?,
            None => DEFAULT_PING_TIMEOUT,
        };
        let count = p.count.unwrap_or(1);
        if !(1..=MAX_PING_COUNT).contains(&count) {
            self.at(
                &format!("{path}.count"),
                format!("count {count} is out of range"),
                Some(format!(
                    "send 1 to {MAX_PING_COUNT} echo requests (ICMP sequence numbers are 16 bits)"
                )),
            );
            return None;
        }
        if p.df == Some(true) && to_ip.is_ipv6() {
            self.at(
                &format!("{path}.df"),
                "`df` applies to IPv4 only; IPv6 never fragments in transit",
                None,
            );
            return None;
        }
        if p.reason.is_some() && p.expect != Some(Reach::Unreachable) {
            self.at(
                &format!("{path}.reason"),
                "contradictory expectation: `reason` explains an unreachable verdict",
                Some("add `expect: unreachable`, or drop `reason`".into()),
            );
            return None;
        }
        let trace = match &p.trace {
            Some(t) => Some(self.trace(&format!("{path}.trace"), t, sc)?),
            None => None,
        };
        Some(Ping {
            trace,
            from: from_node,
            from_if,
            to: to_ip,
            to_label: to.clone(),
            count,
            timeout,
            size: p.size.unwrap_or(56),
            df: p.df.unwrap_or(false),
            reason: p.reason.clone(),
            expect: p.expect.unwrap_or(Reach::Reachable),
            observe: self.observe(path, [&p.seen, &p.not_seen, &p.path, &p.reply_path], sc)?,
        })
    }

    pub(super) fn arping(&mut self, path: &str, a: &RawArping, sc: &Scenario) -> Option<Arping> {
        let Some(from) = &a.from else {
            self.at(path, "arping needs `from: node:interface`", None);
            return None;
        };
        let Some(to) = &a.to else {
            self.at(
                path,
                "arping needs `to`",
                Some("an IPv4 address, or node:interface for its first IPv4 address".into()),
            );
            return None;
        };
        let fpath = format!("{path}.from");
        if !from.contains(':') {
            let node = self.node_ref(&fpath, from, sc)?;
            let ifs: Vec<&str> = sc
                .node(&node)
                .map(|n| n.interfaces.iter().map(|i| i.name.as_str()).collect())
                .unwrap_or_default();
            let hint = match ifs.first() {
                Some(i) => format!(
                    "arping sends from an interface; write `{node}:{i}` (node {node} has: {})",
                    ifs.join(", ")
                ),
                None => format!("node {node} has no interface to send from"),
            };
            self.at(
                &fpath,
                format!("arping needs an interface, not just node `{node}`"),
                Some(hint),
            );
            return None;
        }
        let from = self.sc_ifref(&fpath, from, sc)?;
        let to_ip = match self.target(&format!("{path}.to"), to, sc, true)? {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => return None,
        };
        let timeout = match &a.timeout {
            Some(t) => self.positive_duration(&format!("{path}.timeout"), t)?,
            None => DEFAULT_ARPING_TIMEOUT,
        };
        let expect = match &a.expect {
            None | Some(RawArpExpect::Answered) => ArpExpect::Answered,
            Some(RawArpExpect::Unanswered) => ArpExpect::Unanswered,
            Some(RawArpExpect::Mac(m)) => {
                let (mac, label) = self.mac_ref(&format!("{path}.expect.mac"), m, sc)?;
                ArpExpect::Mac(mac, label)
            }
        };
        let observe = self.observe(path, [&a.seen, &a.not_seen, &None, &None], sc)?;
        Some(Arping {
            from,
            to: to_ip,
            timeout,
            expect,
            observe,
        })
    }

    /// `seen`, `not_seen`, `path` and `reply_path`: lists of `node:if`.
    pub(super) fn observe(
        &mut self,
        path: &str,
        lists: [&Option<Vec<String>>; 4],
        sc: &Scenario,
    ) -> Option<Observe> {
        let keys = ["seen", "not_seen", "path", "reply_path"];
        let mut refs: [Option<Vec<IfRef>>; 4] = Default::default();
        for ((key, list), out) in keys.iter().zip(lists).zip(refs.iter_mut()) {
            let Some(list) = list else { continue };
            let mut v: Vec<IfRef> = Vec::new();
            for (j, s) in list.iter().enumerate() {
                let p = format!("{path}.{key}.{j}");
                let r = self.sc_ifref(&p, s, sc)?;
                // A path may cross an interface twice (router on a stick, hairpin), and
                // in and out of one interface are two crossings; a set may not repeat.
                let is_path = key.ends_with("path");
                if !is_path && v.contains(&r) {
                    self.at(&p, format!("{r} is listed twice in `{key}`"), None);
                    return None;
                }
                v.push(r);
            }
            if v.is_empty() {
                self.at(
                    &format!("{path}.{key}"),
                    format!("`{key}` is empty"),
                    Some("list interfaces as node:if, e.g. [sw:swp2, h2:eth0]".into()),
                );
                return None;
            }
            *out = Some(v);
        }
        let [seen, not_seen, req, rep] = refs;
        let (seen, not_seen) = (seen.unwrap_or_default(), not_seen.unwrap_or_default());
        if let Some(both) = seen.iter().find(|r| not_seen.contains(r)) {
            self.at(
                &format!("{path}.not_seen"),
                format!("contradictory expectation: {both} is in `seen` and in `not_seen`"),
                None,
            );
            return None;
        }
        Some(Observe {
            seen,
            not_seen,
            path: req,
            reply_path: rep,
        })
    }

    /// `link: {carrier_off: node:if}` / `{carrier_on: node:if}`.
    fn carrier_step(
        &mut self,
        path: &str,
        l: &RawLinkStep,
        set_keys: bool,
        sc: &Scenario,
    ) -> Option<Action> {
        let others = l.up.is_some() || l.down.is_some() || l.set.is_some() || l.delete.is_some();
        let (key, value, on) = match (&l.carrier_off, &l.carrier_on) {
            (Some(v), None) => ("carrier_off", v, false),
            (None, Some(v)) => ("carrier_on", v, true),
            _ => {
                self.at(
                    path,
                    "a link step takes `carrier_off` or `carrier_on`, not both",
                    None,
                );
                return None;
            }
        };
        if others || set_keys || l.error.is_some() {
            self.at(path, format!("`{key}` stands alone in a link step"), None);
            return None;
        }
        let at = format!("{path}.{key}");
        let dev = self.sc_ifref(&at, value, sc)?;
        let peer = match sc.interface(&dev).map(|i| &i.kind) {
            Some(IfKind::Veth { peer, .. }) => Some(peer.clone()),
            Some(IfKind::Dummy) => None,
            _ => {
                self.at(
                    &at,
                    format!("carrier control needs a veth or a dummy, and {dev} is neither"),
                    Some("netspec takes a veth's carrier away by setting its peer down, and sets a dummy's directly (`ip link set carrier off`)".into()),
                );
                return None;
            }
        };
        Some(Action::Carrier(CarrierStep { dev, peer, on }))
    }

    pub(super) fn link_step(
        &mut self,
        path: &str,
        l: &RawLinkStep,
        sc: &Scenario,
    ) -> Option<Action> {
        let set_keys = l.mtu.is_some()
            || l.mac.is_some()
            || l.master.is_some()
            || l.port.is_some()
            || l.remote.is_some();
        if l.carrier_off.is_some() || l.carrier_on.is_some() {
            return self.carrier_step(path, l, set_keys, sc);
        }
        if let Some(d) = &l.delete {
            if l.up.is_some() || l.down.is_some() || l.set.is_some() || set_keys {
                self.at(path, "`delete` stands alone in a link step", None);
                return None;
            }
            let dev = self.sc_ifref(&format!("{path}.delete"), d, sc)?;
            return Some(Action::Change(ChangeStep {
                change: Change::LinkDelete { dev },
                error: l.error.clone(),
            }));
        }
        match (&l.up, &l.down, &l.set) {
            (Some(u), None, None) if !set_keys && l.error.is_none() => {
                Some(Action::Link(LinkStep {
                    dev: self.sc_ifref(&format!("{path}.up"), u, sc)?,
                    up: true,
                }))
            }
            (None, Some(d), None) if !set_keys && l.error.is_none() => {
                Some(Action::Link(LinkStep {
                    dev: self.sc_ifref(&format!("{path}.down"), d, sc)?,
                    up: false,
                }))
            }
            (None, None, Some(x)) if set_keys => self.link_set(path, x, l, sc),
            _ => {
                self.at(
                    path,
                    "a link step is `up: node:if`, `down: node:if`, or `set: node:if` with `mtu`, `mac`, `master`, `port` or (a vxlan's) `remote`",
                    Some("e.g. `link: { down: host:veth2 }` or `link: { set: sw:swp1, port: { learning: false } }`".into()),
                );
                None
            }
        }
    }

    /// `link: {set: node:if, ...}`: the changes to one link.
    fn link_set(&mut self, path: &str, x: &str, l: &RawLinkStep, sc: &Scenario) -> Option<Action> {
        let dev = self.sc_ifref(&format!("{path}.set"), x, sc)?;
        let mut set = LinkSet {
            mtu: l.mtu,
            port: l.port.clone().unwrap_or_default(),
            ..Default::default()
        };
        if let Some(m) = &l.mac {
            let Some(mac) = Mac::parse(m) else {
                self.at(&format!("{path}.mac"), format!("invalid MAC `{m}`"), None);
                return None;
            };
            set.mac = Some(mac);
        }
        if let Some(m) = &l.master {
            set.master = Some(if m == "none" {
                None
            } else {
                let nd = sc.node(&dev.node)?;
                let bridges = || {
                    nd.interfaces
                        .iter()
                        .filter(|i| matches!(i.kind, IfKind::Bridge(_)))
                        .map(|i| i.name.as_str())
                };
                if !bridges().any(|b| b == m) {
                    let hint = did_you_mean(m, bridges())
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| "write `master: none` to detach".into());
                    self.at(
                        &format!("{path}.master"),
                        format!("master `{m}` is not a bridge of node {}", dev.node),
                        Some(hint),
                    );
                    return None;
                }
                Some(m.as_str().into())
            });
        }
        if let Some(r) = &l.remote {
            if !matches!(sc.interface(&dev)?.kind, IfKind::Vxlan(_)) {
                self.at(
                    &format!("{path}.remote"),
                    format!("`remote` on {dev}, which is not a vxlan"),
                    None,
                );
                return None;
            }
            set.remote = Some(self.ip(&format!("{path}.remote"), r)?);
        }
        Some(Action::Change(ChangeStep {
            change: Change::LinkSet { dev, set },
            error: l.error.clone(),
        }))
    }
}

/// Every action a step can be; a step has exactly one.
pub(crate) const ACTIONS: [&str; 22] = [
    "ping",
    "pings",
    "arping",
    "link",
    "check",
    "snapshot",
    "sleep",
    "address",
    "route",
    "sysctl",
    "neigh",
    "fdb",
    "vlan",
    "nexthop",
    "send",
    "watch",
    "listen",
    "connect",
    "exec",
    "netfilter",
    "cni",
    "netavark",
];

/// The actions a raw step names: exactly one is valid.
fn actions_of(raw: &RawStep) -> Vec<&'static str> {
    let set = [
        raw.ping.is_some(),
        raw.pings.is_some(),
        raw.arping.is_some(),
        raw.link.is_some(),
        raw.check.is_some(),
        raw.snapshot.is_some(),
        raw.sleep.is_some(),
        raw.address.is_some(),
        raw.route.is_some(),
        raw.sysctl.is_some(),
        raw.neigh.is_some(),
        raw.fdb.is_some(),
        raw.vlan.is_some(),
        raw.nexthop.is_some(),
        raw.send.is_some(),
        raw.watch.is_some(),
        raw.listen.is_some(),
        raw.connect.is_some(),
        raw.exec.is_some(),
        raw.netfilter.is_some(),
        raw.cni.is_some(),
        raw.netavark.is_some(),
    ];
    ACTIONS
        .iter()
        .zip(set)
        .filter_map(|(name, on)| on.then_some(*name))
        .collect()
}
