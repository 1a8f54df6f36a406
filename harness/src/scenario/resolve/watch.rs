//! `watch:` steps and `check: {frames}`: counting frames that match a filter.

use super::*;

impl Resolver<'_> {
    pub(super) fn watch(&mut self, path: &str, w: &RawWatch, sc: &Scenario) -> Option<Watch> {
        let name_ok = !w.name.is_empty()
            && w.name.len() <= 64
            && w.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            self.at(
                &format!("{path}.name"),
                format!("invalid watch name `{}`", w.name.escape_debug()),
                Some("use 1 to 64 letters, digits, `-` and `_`".into()),
            );
            return None;
        }
        if self.watches.contains_key(&w.name) {
            self.at(
                &format!("{path}.name"),
                format!("a watch named `{}` was started before", w.name),
                Some("give each watch its own name".into()),
            );
            return None;
        }
        let at = self.sc_ifref(&format!("{path}.at"), &w.at, sc)?;
        let filter = self.filter(&format!("{path}.match"), &w.filter, sc)?;
        self.watches.insert(w.name.clone(), at.clone());
        Some(Watch {
            name: w.name.clone(),
            at,
            filter,
        })
    }

    fn filter(&mut self, p: &str, f: &RawFilter, sc: &Scenario) -> Option<FrameFilter> {
        let ip = |r: &mut Self, key: &str, v: &Option<String>| -> Option<Option<IpAddr>> {
            match v {
                None => Some(None),
                Some(a) => Some(Some(r.target(&format!("{p}.{key}"), a, sc, false)?)),
            }
        };
        let proto = match f.proto.as_deref() {
            None => None,
            Some("icmp") => Some(1),
            Some("tcp") => Some(6),
            Some("udp") => Some(17),
            Some("icmpv6") => Some(58),
            Some(n) => match n.parse::<u8>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.at(
                        &format!("{p}.proto"),
                        format!("unknown protocol `{n}`"),
                        Some("icmp, icmpv6, tcp, udp, or a protocol number".into()),
                    );
                    return None;
                }
            },
        };
        if let Some(v) = f.vlan.filter(|v| *v > 4095) {
            self.at(
                &format!("{p}.vlan"),
                format!("VLAN id {v} does not fit 12 bits"),
                Some("a VLAN id is 0-4095".into()),
            );
            return None;
        }
        Some(FrameFilter {
            ethertype: f.ethertype,
            vlan: f.vlan,
            src: self.mac_or_broadcast(&format!("{p}.src"), f.src.as_deref(), sc)?,
            dst: self.mac_or_broadcast(&format!("{p}.dst"), f.dst.as_deref(), sc)?,
            arp: f.arp,
            proto,
            src_ip: ip(self, "src_ip", &f.src_ip)?,
            dst_ip: ip(self, "dst_ip", &f.dst_ip)?,
            sport: f.sport,
            dport: f.dport,
            direction: f.direction,
        })
    }

    pub(super) fn frames_check(&mut self, p: &str, x: &RawFramesCheck) -> Option<Check> {
        let Some(at) = self.watches.get(&x.watch).cloned() else {
            let hint = did_you_mean(&x.watch, self.watches.keys().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"))
                .unwrap_or_else(|| "start it with a `watch:` step before this one".into());
            self.at(
                &format!("{p}.watch"),
                format!("no watch named `{}` was started before this step", x.watch),
                Some(hint),
            );
            return None;
        };
        let count = self.count(&format!("{p}.count"), &x.count)?;
        Some(Check::Frames(FramesCheck {
            watch: x.watch.clone(),
            at,
            count,
        }))
    }
}

impl Resolver<'_> {
    /// A count as frames and counter checks take it, or an error at `path`.
    pub(super) fn count(&mut self, path: &str, s: &Scalar) -> Option<Count> {
        let c = parse_count(&s.0);
        if c.is_none() {
            self.at(
                path,
                format!("invalid count `{}`", s.0),
                Some("a number (`3`), or a bound: `>= 1`, `> 0`, `<= 2`, `< 3`".into()),
            );
        }
        c
    }
}

/// `3`, `>= 1`, `> 0`, `<= 2`, `< 3`.
fn parse_count(s: &str) -> Option<Count> {
    let s = s.trim();
    let num = |t: &str| t.trim().parse::<u64>().ok();
    if let Some(r) = s.strip_prefix(">=") {
        Some(Count::AtLeast(num(r)?))
    } else if let Some(r) = s.strip_prefix("<=") {
        Some(Count::AtMost(num(r)?))
    } else if let Some(r) = s.strip_prefix('>') {
        Some(Count::AtLeast(num(r)?.checked_add(1)?))
    } else if let Some(r) = s.strip_prefix('<') {
        Some(Count::AtMost(num(r)?.checked_sub(1)?))
    } else {
        Some(Count::Exactly(num(s)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact_or_bounded() {
        assert_eq!(parse_count("3"), Some(Count::Exactly(3)));
        assert_eq!(parse_count(">= 1"), Some(Count::AtLeast(1)));
        assert_eq!(parse_count("> 0"), Some(Count::AtLeast(1)));
        assert_eq!(parse_count("<=2"), Some(Count::AtMost(2)));
        assert_eq!(parse_count("< 3"), Some(Count::AtMost(2)));
        for bad in ["< 0", "-1", "about 3", "", ">", "99999999999999999999"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
        assert!(Count::AtMost(0).holds(0) && !Count::AtMost(0).holds(1));
    }
}
