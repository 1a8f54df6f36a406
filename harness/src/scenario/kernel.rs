//! `kernel:` on a step: the kernel versions whose behaviour the step describes. Where
//! kernels differ without a feature to probe, a scenario writes one step per
//! behaviour, each with its versions; the step that does not apply is reported as
//! skipped, with the running kernel, never as a pass.

use std::fmt;

/// A kernel version, as `uname -r` begins: 6.1.0-57-amd64 is 6.1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelVersion(pub u32, pub u32, pub u32);

impl KernelVersion {
    /// The version from a release string such as `6.12.117+deb12-amd64`.
    pub fn parse(release: &str) -> Option<Self> {
        let numeric: String = release
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(KernelVersion(major, minor, patch))
    }

    /// The running kernel's (`uname -r`).
    pub fn running() -> Option<Self> {
        Self::parse(&running_release())
    }
}

/// `uname -r` of the running kernel.
pub fn running_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// `>= 6.12`, `< 6.12`, or both joined by a comma.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelReq {
    /// Inclusive.
    pub from: Option<KernelVersion>,
    /// Exclusive.
    pub below: Option<KernelVersion>,
    /// As written, for messages.
    pub text: String,
}

impl KernelReq {
    /// Parses what a scenario wrote; the error says what is allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut req = KernelReq {
            from: None,
            below: None,
            text: text.trim().to_string(),
        };
        for clause in text.split(',') {
            let clause = clause.trim();
            let (slot, rest) = if let Some(v) = clause.strip_prefix(">=") {
                (&mut req.from, v)
            } else if let Some(v) = clause.strip_prefix('<') {
                (&mut req.below, v)
            } else {
                return Err(format!("`{clause}` is not `>= VERSION` or `< VERSION`"));
            };
            let rest = rest.trim();
            let v = KernelVersion::parse(rest)
                .filter(|_| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| format!("`{rest}` is not a kernel version such as 6.12"))?;
            if slot.replace(v).is_some() {
                return Err(format!("`{text}` gives the same bound twice"));
            }
        }
        if let (Some(a), Some(b)) = (req.from, req.below) {
            if a >= b {
                return Err(format!("`{text}` holds for no kernel"));
            }
        }
        Ok(req)
    }

    pub fn holds(&self, v: KernelVersion) -> bool {
        self.from.is_none_or(|f| v >= f) && self.below.is_none_or(|b| v < b)
    }

    /// Whether a step with this requirement runs on `running` (from
    /// [`KernelVersion::running`]): a kernel whose version is unknown runs none.
    pub fn admits(&self, running: Option<KernelVersion>) -> bool {
        running.is_some_and(|v| self.holds(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_distribution_release_strings() {
        assert_eq!(
            KernelVersion::parse("6.1.0-57-amd64"),
            Some(KernelVersion(6, 1, 0))
        );
        assert_eq!(
            KernelVersion::parse("6.12.117+deb12-amd64"),
            Some(KernelVersion(6, 12, 117))
        );
        assert_eq!(KernelVersion::parse("6.18"), Some(KernelVersion(6, 18, 0)));
        assert_eq!(KernelVersion::parse("x"), None);
        assert_eq!(KernelVersion::parse("6"), None);
        assert_eq!(KernelVersion::parse("99999999999.1"), None);
    }

    #[test]
    fn a_range_holds_from_its_lower_bound_to_below_its_upper() {
        let r = KernelReq::parse(">= 6.2, < 6.12").unwrap();
        assert!(!r.holds(KernelVersion(6, 1, 200)));
        assert!(r.holds(KernelVersion(6, 2, 0)));
        assert!(r.holds(KernelVersion(6, 11, 9)));
        assert!(!r.holds(KernelVersion(6, 12, 0)));
        assert!(KernelReq::parse("< 6.12")
            .unwrap()
            .holds(KernelVersion(5, 4, 0)));
        assert!(!r.admits(None), "an unknown version runs no gated step");
        assert!(r.admits(Some(KernelVersion(6, 5, 0))));
    }

    #[test]
    fn what_is_not_a_bound_is_refused_with_the_reason() {
        for (bad, says) in [
            ("6.12", "is not `>= VERSION`"),
            ("> 6.12", "is not `>= VERSION`"),
            (">= six", "is not a kernel version"),
            (">= 6.12-rc1", "is not a kernel version"),
            (">= 6.1, >= 6.2", "same bound twice"),
            (">= 6.12, < 6.1", "holds for no kernel"),
            ("", "is not `>= VERSION`"),
        ] {
            let err = KernelReq::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }
}
