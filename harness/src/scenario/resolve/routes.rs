//! Routes in iproute2 syntax.

use super::*;

impl Resolver<'_> {
    /// One line of iproute2 syntax: tokens, then destination, then the checks that
    /// need all of them. Read top to bottom, it is the grammar.
    #[allow(clippy::too_many_lines)]
    pub(super) fn route(
        &mut self,
        path: &str,
        text: &str,
        node: &Node,
        check_gateway: bool,
    ) -> Option<Route> {
        let toks: Vec<&str> = text.split_whitespace().collect();
        let bad = |r: &mut Self, msg: String| r.route_error(path, msg);
        let (kind, rest) = match toks.first() {
            Some(&"blackhole") => (RouteType::Blackhole, &toks[1..]),
            Some(&"unreachable") => (RouteType::Unreachable, &toks[1..]),
            Some(_) => (RouteType::Unicast, &toks[..]),
            None => return bad(self, "empty route".into()),
        };
        let Some((dst_tok, opts)) = rest.split_first() else {
            return bad(self, format!("route `{text}` has no destination"));
        };
        let mut via = None;
        let mut dev = None;
        let mut metric = None;
        let mut table = None;
        let mut it = opts.iter();
        while let Some(k) = it.next() {
            let Some(v) = it.next() else {
                return bad(self, format!("`{k}` needs a value in route `{text}`"));
            };
            match *k {
                "via" => via = Some(self.ip(path, v)?),
                "dev" => dev = Some(IfName::from(*v)),
                "metric" => match v.parse::<u32>() {
                    Ok(m) => metric = Some(m),
                    Err(_) => return bad(self, format!("invalid metric `{v}`")),
                },
                "table" => match *v {
                    "main" => table = Some(254),
                    "local" => table = Some(255),
                    // Table 0 means "unspecified" to the kernel: the route would land in main.
                    "0" => return bad(self, "table 0 is not a table: the kernel reads it as \"unspecified\" and uses main".to_string()),
                    _ => match v.parse::<u32>() {
                        Ok(t) => table = Some(t),
                        Err(_) => return bad(self, format!("invalid table `{v}`")),
                    },
                },
                other => return bad(self, format!("unknown word `{other}` in route `{text}`")),
            }
        }
        let dst = if *dst_tok == "default" {
            Cidr::default_route(via.is_some_and(|v| v.is_ipv6()))
        } else if let Some(c) = Cidr::parse(dst_tok) {
            c.network()
        } else if let Ok(a) = dst_tok.parse::<IpAddr>() {
            Cidr {
                addr: a,
                prefix: if a.is_ipv4() { 32 } else { 128 },
            }
        } else {
            return bad(
                self,
                format!("invalid destination `{dst_tok}` in route `{text}`"),
            );
        };
        if let Some(v) = via {
            if v.is_ipv4() != dst.addr.is_ipv4() {
                return bad(
                    self,
                    format!("gateway {v} and destination {dst} are of different families"),
                );
            }
        }
        if kind != RouteType::Unicast && (via.is_some() || dev.is_some()) {
            return bad(
                self,
                format!(
                    "a {} route takes no `via` or `dev`",
                    if kind == RouteType::Blackhole {
                        "blackhole"
                    } else {
                        "unreachable"
                    }
                ),
            );
        }
        if kind == RouteType::Unicast && via.is_none() && dev.is_none() {
            return bad(self, format!("route `{text}` needs `via` or `dev`"));
        }
        if let Some(d) = &dev {
            if node.interface(d).is_none() {
                let hint = did_you_mean(d, node.interfaces.iter().map(|i| i.name.as_str()))
                    .map(|m| format!("did you mean `{m}`?"));
                self.at(
                    path,
                    format!(
                        "route `{text}`: unknown interface `{d}` in node {}",
                        node.name
                    ),
                    hint,
                );
                return None;
            }
        }
        if let Some(v) = via.filter(|_| check_gateway) {
            let link_local_v6 = matches!(v, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80);
            let on_link = node
                .interfaces
                .iter()
                .filter(|i| dev.as_deref().is_none_or(|d| d == i.name))
                .flat_map(|i| &i.addresses)
                .any(|c| c.contains(v));
            if !(on_link || link_local_v6 && dev.is_some()) {
                self.at(path, format!("gateway {v} of route `{text}` is not reachable on any interface of node {}", node.name),
                    Some("the gateway must be inside the subnet of one of the node's addresses".into()));
                return None;
            }
        }
        Some(Route {
            text: text.to_string(),
            kind,
            dst,
            via,
            dev,
            metric,
            table,
        })
    }
}
