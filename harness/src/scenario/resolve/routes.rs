//! Routes and nexthop objects in iproute2 syntax.

use super::*;

/// The words of a route after its destination, before they are checked together.
#[derive(Default)]
struct RouteWords {
    via: Option<IpAddr>,
    dev: Option<IfName>,
    metric: Option<u32>,
    table: Option<u32>,
    nhid: Option<u32>,
    onlink: bool,
    pref: Option<RoutePref>,
    hops: Vec<Hop>,
    /// `vrf NAME`: the table of that VRF of the node.
    vrf: Option<String>,
    src: Option<IpAddr>,
}

/// The words of a nexthop line, before they are checked together.
#[derive(Default)]
struct NexthopWords {
    id: Option<u32>,
    via: Option<IpAddr>,
    dev: Option<IfName>,
    group: Option<Vec<(u32, u16)>>,
    onlink: bool,
    blackhole: bool,
    /// `family inet6` (true) or `family inet` (false).
    v6: Option<bool>,
}

impl Resolver<'_> {
    /// A node's nexthop objects, then its routes, which may name them by id.
    pub(super) fn node_routes(
        &mut self,
        name: &str,
        raw_node: &RawNode,
        node: &Node,
    ) -> (Vec<Nexthop>, Vec<Route>) {
        let mut nexthops = Vec::new();
        for (i, text) in raw_node.nexthops.iter().enumerate() {
            let path = format!("nodes.{name}.nexthops.{i}");
            let nh = self.nexthop(&path, text, node, Some(&nexthops));
            nexthops.extend(nh);
        }
        let mut routes = Vec::new();
        for (i, text) in raw_node.routes.iter().enumerate() {
            let path = format!("nodes.{name}.routes.{i}");
            let route = self.route(&path, text, node, true);
            if let Some(id) = route.as_ref().and_then(|r| r.nhid) {
                if !nexthops.iter().any(|n| n.id == id) {
                    self.at(
                        &path,
                        format!(
                            "route `{text}` uses nexthop {id}, which node {name} does not list"
                        ),
                        Some("add it under `nexthops:`, e.g. `id 1 via 10.0.0.2 dev eth0`".into()),
                    );
                }
            }
            routes.extend(route);
        }
        (nexthops, routes)
    }

    /// One line of iproute2 syntax: kind, destination, words, then the checks that
    /// need all of them. Read top to bottom, it is the grammar.
    pub(super) fn route(
        &mut self,
        path: &str,
        text: &str,
        node: &Node,
        check_gateway: bool,
    ) -> Option<Route> {
        let toks: Vec<&str> = text.split_whitespace().collect();
        let (kind, rest) = match toks.first() {
            Some(&"blackhole") => (RouteType::Blackhole, &toks[1..]),
            Some(&"unreachable") => (RouteType::Unreachable, &toks[1..]),
            Some(_) => (RouteType::Unicast, &toks[..]),
            None => return self.route_error(path, "empty route".into()),
        };
        let Some((dst_tok, opts)) = rest.split_first() else {
            return self.route_error(path, format!("route `{text}` has no destination"));
        };
        let mut w = self.route_words(path, text, opts)?;
        if let Some(v) = w.vrf.take() {
            w.table = Some(self.vrf_table(path, text, &v, w.table, node)?);
        }
        let first_via = w.via.or_else(|| w.hops.iter().find_map(|h| h.via));
        let dst = self.route_dst(path, text, dst_tok, first_via)?;
        let single = w.via.is_some() || w.dev.is_some();
        let paths =
            usize::from(single) + usize::from(!w.hops.is_empty()) + usize::from(w.nhid.is_some());
        if kind != RouteType::Unicast && paths > 0 {
            let k = if kind == RouteType::Blackhole {
                "blackhole"
            } else {
                "unreachable"
            };
            return self.route_error(
                path,
                format!("a {k} route takes no `via`, `dev`, `nexthop` or `nhid`"),
            );
        }
        if kind == RouteType::Unicast && paths != 1 {
            return self.route_error(path, match paths {
                0 => format!("route `{text}` needs `via`, `dev`, `nexthop` or `nhid`"),
                _ => format!("route `{text}` mixes `via`/`dev`, `nexthop` and `nhid`: a route has one of them"),
            });
        }
        self.route_extras(path, text, &w, dst)?;
        // The route's one path, or each of its `nexthop`s.
        let one = single.then(|| (w.via, w.dev.clone()));
        let hops = w.hops.iter().map(|h| (h.via, h.dev.clone()));
        for (via, dev) in one.into_iter().chain(hops) {
            if via.is_none() && dev.is_none() {
                return self.route_error(
                    path,
                    format!("a `nexthop` of route `{text}` needs `via` or `dev`"),
                );
            }
            let check = check_gateway && !w.onlink;
            self.route_path(path, text, node, dst, via, dev.as_deref(), check)?;
        }
        Some(Route {
            text: text.to_string(),
            kind,
            dst,
            via: w.via,
            dev: w.dev,
            metric: w.metric,
            table: w.table,
            hops: w.hops,
            nhid: w.nhid,
            onlink: w.onlink,
            pref: w.pref,
            src: w.src,
        })
    }

    /// `vrf NAME` in a route: the table of the node's VRF of that name.
    fn vrf_table(
        &mut self,
        path: &str,
        text: &str,
        vrf: &str,
        table: Option<u32>,
        node: &Node,
    ) -> Option<u32> {
        if table.is_some() {
            return self.route_error(
                path,
                format!(
                    "route `{text}` names both `vrf` and `table`: the VRF's table is its table"
                ),
            );
        }
        match node.interface(vrf).map(|i| &i.kind) {
            Some(IfKind::Vrf { table }) => Some(*table),
            _ => self.route_error(
                path,
                format!(
                    "`vrf {vrf}` in route `{text}`: {} has no VRF of that name",
                    node.name
                ),
            ),
        }
    }

    /// `pref` for IPv6 only, and an `nhid` the kernel could take.
    fn route_extras(&mut self, path: &str, text: &str, w: &RouteWords, dst: Cidr) -> Option<()> {
        if w.pref.is_some() && dst.addr.is_ipv4() {
            return self.route_error::<()>(
                path,
                format!("`pref` in route `{text}`: only IPv6 routes have a preference"),
            );
        }
        if w.src.is_some_and(|s| s.is_ipv4() != dst.addr.is_ipv4()) {
            return self.route_error::<()>(
                path,
                format!("`src` in route `{text}` is not of the destination's family"),
            );
        }
        if w.nhid == Some(0) {
            return self
                .route_error::<()>(path, "nhid 0 is not a nexthop id: ids start at 1".into());
        }
        Some(())
    }

    /// The words after the destination. After `nexthop`, `via`, `dev` and `weight`
    /// belong to that path, as in iproute2, which reads the rest of the line as paths.
    fn route_words(&mut self, path: &str, text: &str, opts: &[&str]) -> Option<RouteWords> {
        let mut w = RouteWords::default();
        let mut it = opts.iter();
        while let Some(&k) = it.next() {
            match k {
                "onlink" => {
                    w.onlink = true;
                    continue;
                }
                "nexthop" => {
                    w.hops.push(Hop {
                        via: None,
                        dev: None,
                        weight: 1,
                    });
                    continue;
                }
                _ => {}
            }
            let Some(&v) = it.next() else {
                return self.route_error(path, format!("`{k}` needs a value in route `{text}`"));
            };
            let in_hop = !w.hops.is_empty();
            match (k, w.hops.last_mut()) {
                ("via", Some(h)) => h.via = Some(self.ip(path, v)?),
                ("dev", Some(h)) => h.dev = Some(IfName::from(v)),
                ("weight", Some(h)) => h.weight = self.weight(path, v)?,
                ("via", None) => w.via = Some(self.ip(path, v)?),
                ("dev", None) => w.dev = Some(IfName::from(v)),
                ("weight", None) => {
                    return self.route_error(path, "`weight` belongs to a `nexthop`".into())
                }
                ("pref", _) if in_hop => {
                    return self.route_error(path, format!("`pref` after a `nexthop` in route `{text}`: write it before the first `nexthop`"));
                }
                ("pref", _) => match RoutePref::parse(v) {
                    Some(p) => w.pref = Some(p),
                    None => {
                        return self
                            .route_error(path, format!("invalid pref `{v}`: low, medium or high"))
                    }
                },
                ("metric" | "table" | "nhid" | "vrf" | "src", _) if in_hop => {
                    return self.route_error(path, format!("`{k}` after a `nexthop` in route `{text}`: write it before the first `nexthop`"));
                }
                ("metric", _) => w.metric = Some(self.route_number(path, k, v)?),
                ("nhid", _) => w.nhid = Some(self.route_number(path, k, v)?),
                ("table", _) => w.table = Some(self.route_table(path, v)?),
                ("vrf", _) => w.vrf = Some(v.to_string()),
                ("src", _) => w.src = Some(self.ip(path, v)?),
                (other, _) => {
                    return self
                        .route_error(path, format!("unknown word `{other}` in route `{text}`"))
                }
            }
        }
        Some(w)
    }

    fn route_number(&mut self, path: &str, key: &str, v: &str) -> Option<u32> {
        match v.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => self.route_error(path, format!("invalid {key} `{v}`")),
        }
    }

    fn weight(&mut self, path: &str, v: &str) -> Option<u16> {
        match v.parse::<u16>() {
            Ok(w) if (1..=256).contains(&w) => Some(w),
            _ => self.route_error(
                path,
                format!("invalid weight `{v}`: the kernel takes 1 to 256"),
            ),
        }
    }

    fn route_table(&mut self, path: &str, v: &str) -> Option<u32> {
        match v {
            "main" => Some(254),
            "local" => Some(255),
            // Table 0 means "unspecified" to the kernel: the route would land in main.
            "0" => self.route_error(
                path,
                "table 0 is not a table: the kernel reads it as \"unspecified\" and uses main"
                    .to_string(),
            ),
            _ => self.route_number(path, "table", v),
        }
    }

    fn route_dst(
        &mut self,
        path: &str,
        text: &str,
        tok: &str,
        via: Option<IpAddr>,
    ) -> Option<Cidr> {
        if tok == "default" {
            Some(Cidr::default_route(via.is_some_and(|v| v.is_ipv6())))
        } else if let Some(c) = Cidr::parse(tok) {
            Some(c.network())
        } else if let Ok(a) = tok.parse::<IpAddr>() {
            Some(Cidr {
                addr: a,
                prefix: if a.is_ipv4() { 32 } else { 128 },
            })
        } else {
            self.route_error(
                path,
                format!("invalid destination `{tok}` in route `{text}`"),
            )
        }
    }

    /// One path of a route: the gateway's family, the device, and (in the topology,
    /// without `onlink`) that the gateway is inside one of the node's subnets.
    #[allow(clippy::too_many_arguments)]
    fn route_path(
        &mut self,
        path: &str,
        text: &str,
        node: &Node,
        dst: Cidr,
        via: Option<IpAddr>,
        dev: Option<&str>,
        check_gateway: bool,
    ) -> Option<()> {
        if let Some(v) = via {
            if v.is_ipv4() != dst.addr.is_ipv4() {
                return self.route_error(
                    path,
                    format!("gateway {v} and destination {dst} are of different families"),
                );
            }
        }
        self.path_dev(path, &format!("route `{text}`"), node, dev)?;
        if let Some(v) = via.filter(|_| check_gateway) {
            self.gateway_on_link(path, &format!("route `{text}`"), node, v, dev)?;
        }
        Some(())
    }

    fn path_dev(&mut self, path: &str, what: &str, node: &Node, dev: Option<&str>) -> Option<()> {
        let Some(d) = dev else { return Some(()) };
        if node.interface(d).is_some() {
            return Some(());
        }
        let hint = did_you_mean(d, node.interfaces.iter().map(|i| i.name.as_str()))
            .map(|m| format!("did you mean `{m}`?"));
        self.at(
            path,
            format!("{what}: unknown interface `{d}` in node {}", node.name),
            hint,
        );
        None
    }

    fn gateway_on_link(
        &mut self,
        path: &str,
        what: &str,
        node: &Node,
        v: IpAddr,
        dev: Option<&str>,
    ) -> Option<()> {
        let link_local_v6 = matches!(v, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80);
        let on_link = node
            .interfaces
            .iter()
            .filter(|i| dev.is_none_or(|d| d == i.name))
            .flat_map(|i| &i.addresses)
            .any(|c| c.contains(v));
        if on_link || link_local_v6 && dev.is_some() {
            return Some(());
        }
        self.at(path, format!("gateway {v} of {what} is not reachable on any interface of node {}", node.name),
            Some("the gateway must be inside the subnet of one of the node's addresses, or the line must say `onlink`".into()));
        None
    }

    /// `id N ...`, as `ip nexthop add` takes it. `known`: the topology's nexthops so far,
    /// which a group's members must be among; None for a runtime step (the kernel judges).
    pub(super) fn nexthop(
        &mut self,
        path: &str,
        text: &str,
        node: &Node,
        known: Option<&[Nexthop]>,
    ) -> Option<Nexthop> {
        let w = self.nexthop_words(path, text)?;
        let Some(id) = w.id else {
            return self.nexthop_error(path, format!("nexthop `{text}` has no `id`"));
        };
        let path_words = w.dev.is_some() || w.via.is_some();
        if usize::from(w.group.is_some()) + usize::from(w.blackhole) + usize::from(path_words) != 1
        {
            return self.nexthop_error(path, format!("nexthop `{text}` needs exactly one of `dev` (with an optional `via`), `blackhole` or `group`"));
        }
        if let (Some(v), Some(v6)) = (w.via, w.v6) {
            if v6 != v.is_ipv6() {
                return self.nexthop_error(
                    path,
                    format!("gateway {v} is not of the family the line names"),
                );
            }
        }
        let v6 = w.v6.unwrap_or(w.via.is_some_and(|v| v.is_ipv6()));
        let kind = if let Some(members) = w.group {
            if w.onlink || w.v6.is_some() {
                return self.nexthop_error(
                    path,
                    "a group takes no `onlink` or `family`: its members have them".into(),
                );
            }
            if let Some(known) = known {
                self.group_members(path, id, &members, known)?;
            }
            NexthopKind::Group(members)
        } else if w.blackhole {
            NexthopKind::Blackhole { v6 }
        } else {
            let what = format!("nexthop `{text}`");
            if w.dev.is_none() && known.is_some() {
                return self.nexthop_error(
                    path,
                    format!("{what} needs `dev`: the kernel wants a device for a gateway"),
                );
            }
            self.path_dev(path, &what, node, w.dev.as_deref())?;
            if let Some(v) = w.via.filter(|_| known.is_some() && !w.onlink) {
                self.gateway_on_link(path, &what, node, v, w.dev.as_deref())?;
            }
            NexthopKind::Path {
                via: w.via,
                dev: w.dev,
                v6,
                onlink: w.onlink,
            }
        };
        if known.is_some_and(|k| k.iter().any(|n| n.id == id)) {
            return self.nexthop_error(
                path,
                format!("nexthop id {id} is used twice in node {}", node.name),
            );
        }
        Some(Nexthop {
            text: text.to_string(),
            id,
            kind,
        })
    }

    fn nexthop_words(&mut self, path: &str, text: &str) -> Option<NexthopWords> {
        let mut w = NexthopWords::default();
        let mut it = text.split_whitespace();
        while let Some(k) = it.next() {
            match k {
                "onlink" => w.onlink = true,
                "blackhole" => w.blackhole = true,
                _ => {
                    let Some(v) = it.next() else {
                        return self.nexthop_error(
                            path,
                            format!("`{k}` needs a value in nexthop `{text}`"),
                        );
                    };
                    match k {
                        "id" => match v.parse::<u32>() {
                            Ok(i) if i > 0 => w.id = Some(i),
                            _ => {
                                return self.nexthop_error(
                                    path,
                                    format!("invalid nexthop id `{v}`: ids are 1 to 4294967295"),
                                )
                            }
                        },
                        "via" => w.via = Some(self.ip(path, v)?),
                        "dev" => w.dev = Some(IfName::from(v)),
                        "group" => w.group = Some(self.group(path, v)?),
                        "family" => {
                            w.v6 = Some(match v {
                                "inet" => false,
                                "inet6" => true,
                                _ => {
                                    return self.nexthop_error(
                                        path,
                                        format!("unknown family `{v}`: write `inet` or `inet6`"),
                                    )
                                }
                            })
                        }
                        other => {
                            return self.nexthop_error(
                                path,
                                format!("unknown word `{other}` in nexthop `{text}`"),
                            )
                        }
                    }
                }
            }
        }
        Some(w)
    }

    /// `1/2,3`: ids, each with an optional weight after a comma.
    fn group(&mut self, path: &str, v: &str) -> Option<Vec<(u32, u16)>> {
        let mut members: Vec<(u32, u16)> = Vec::new();
        for m in v.split('/') {
            let (id, weight) = m.split_once(',').unwrap_or((m, "1"));
            let id = match id.parse::<u32>() {
                Ok(i) if i > 0 => i,
                _ => return self.nexthop_error(path, format!("invalid group member `{m}`")),
            };
            let weight = match weight.parse::<u16>() {
                Ok(w) if (1..=256).contains(&w) => w,
                _ => {
                    return self.nexthop_error(
                        path,
                        format!(
                            "invalid weight `{weight}` in group `{v}`: the kernel takes 1 to 256"
                        ),
                    )
                }
            };
            if members.iter().any(|(i, _)| *i == id) {
                return self.nexthop_error(path, format!("nexthop {id} is twice in group `{v}`"));
            }
            members.push((id, weight));
        }
        Some(members)
    }

    fn group_members(
        &mut self,
        path: &str,
        id: u32,
        members: &[(u32, u16)],
        known: &[Nexthop],
    ) -> Option<()> {
        for (m, _) in members {
            match known.iter().find(|n| n.id == *m) {
                None if *m == id => {
                    return self.nexthop_error(path, format!("group {id} names itself"))
                }
                None => {
                    return self.nexthop_error(
                        path,
                        format!("group {id} names nexthop {m}, which is not listed before it"),
                    )
                }
                Some(Nexthop {
                    kind: NexthopKind::Group(_),
                    ..
                }) => {
                    return self.nexthop_error(
                        path,
                        format!("group {id} names group {m}: the kernel does not nest groups"),
                    );
                }
                Some(_) => {}
            }
        }
        Some(())
    }
}
