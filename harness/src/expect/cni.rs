//! Verdicts on what a CNI plugin or netavark answered, and on whether the kernel agrees.

use super::Verdict;
use crate::scenario::CniExpect;
use crate::tool_answer::{Answer, ToolResult};

/// `pattern` with `*` matching any run of characters.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Whether every line is matched by its own pattern, and every pattern used once.
fn same_set(patterns: &[String], lines: &[String]) -> bool {
    if patterns.len() != lines.len() {
        return false;
    }
    // Exact names first, so that a `*` does not take a line an exact one needs.
    let mut order: Vec<&String> = patterns.iter().collect();
    order.sort_by_key(|p| p.contains('*'));
    let mut free: Vec<&String> = lines.iter().collect();
    for p in order {
        match free.iter().position(|l| glob(p, l)) {
            Some(i) => {
                free.remove(i);
            }
            None => return false,
        }
    }
    true
}

fn listed(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

/// The fields the expectation names, compared with the result; the mismatches.
fn result_mismatches(e: &CniExpect, r: &ToolResult, container: &str) -> Vec<String> {
    let mut out = Vec::new();
    let fields = [
        ("ips", &e.ips, r.ip_lines()),
        ("routes", &e.routes, r.route_lines()),
        ("interfaces", &e.interfaces, r.interface_lines(container)),
    ];
    for (name, want, got) in fields {
        if let Some(want) = want {
            if !same_set(want, &got) {
                out.push(format!(
                    "{name} {} (expected {})",
                    listed(&got),
                    listed(want)
                ));
            }
        }
    }
    for (k, want) in e.dns.iter().flatten() {
        let got = r.dns.get(k);
        if got != Some(want) {
            let got = got.map_or("nothing".to_string(), |g| g.to_string());
            out.push(format!("dns.{k} {got} (expected {want})"));
        }
    }
    out
}

/// What was expected, in words.
fn expected_text(what: &str, e: &CniExpect) -> String {
    if let Some(err) = &e.error {
        let mut s = format!("{what} fails");
        if let Some(c) = err.code {
            s += &format!(" with code {c}");
        }
        if let Some(m) = &err.msg {
            s += &format!(", message {m}");
        }
        return s;
    }
    let mut s = format!("{what} succeeds");
    for (name, v) in [
        ("ips", &e.ips),
        ("routes", &e.routes),
        ("interfaces", &e.interfaces),
    ] {
        if let Some(v) = v {
            s += &format!(", {name} {}", listed(v));
        }
    }
    if let Some(d) = &e.dns {
        s += &format!(", dns {}", serde_json::Value::Object(d.clone()));
    }
    s
}

/// The verdict on one command: `what` names it (`ADD net c1:eth0`).
pub(crate) fn cni(what: &str, e: &CniExpect, answer: &Answer, container: &str) -> Verdict {
    let expected = expected_text(what, e);
    let (passed, mut actual) = match (&answer.result, &e.error) {
        (Err(got), Some(want)) => {
            let code_ok = want.code.is_none_or(|c| got.code == Some(c));
            let msg_ok = want.msg.as_ref().is_none_or(|m| m.matches(&got.msg));
            (code_ok && msg_ok, format!("failed: {got}"))
        }
        (Err(got), None) => (false, format!("failed: {got}")),
        (Ok(_), Some(_)) => (false, format!("succeeded: {}", answer.said(container))),
        (Ok(r), None) => {
            let bad = r
                .as_ref()
                .map(|r| result_mismatches(e, r, container))
                .unwrap_or_default();
            let mut actual = format!("succeeded: {}", answer.said(container));
            if !bad.is_empty() {
                actual += &format!("; but {}", bad.join("; "));
            }
            (bad.is_empty(), actual)
        }
    };
    let mut passed = passed;
    if !answer.kernel_disagrees.is_empty() {
        passed = false;
        actual += &format!(
            "; the kernel disagrees with the result: {}",
            answer.kernel_disagrees.join("; ")
        );
    }
    actual += &format!(
        "; the tools ran for {:.2} ms",
        answer.tool_time.as_secs_f64() * 1000.0
    );
    if !answer.stderr.is_empty() {
        actual += &format!("\n  stderr:\n{}", answer.stderr);
    }
    Verdict::new(passed, expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{CniErrorExpect, TextMatch};
    use crate::tool_answer::ToolError;

    fn result() -> ToolResult {
        let v = serde_json::json!({
            "interfaces": [{"name": "cni0"}, {"name": "veth1a2b3c4d"}, {"name": "eth0", "sandbox": "/proc/1/fd/5"}],
            "ips": [{"address": "10.22.0.2/16", "gateway": "10.22.0.1", "interface": 2}],
            "routes": [{"dst": "0.0.0.0/0", "gw": "10.22.0.1"}],
            "dns": {"nameservers": ["10.0.0.10"]}
        });
        ToolResult::from_cni(&v).unwrap()
    }

    fn ok() -> Answer {
        Answer {
            result: Ok(Some(result())),
            kernel_disagrees: Vec::new(),
            stderr: String::new(),
            tool_time: std::time::Duration::ZERO,
        }
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("veth*", "veth1a2b3c4d"));
        assert!(glob("*", ""));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("veth*", "cni0"));
        assert!(!glob("eth0", "eth0 in c1"));
    }

    #[test]
    fn a_result_passes_only_when_every_named_field_is_exactly_as_expected() {
        let mut e = CniExpect {
            ips: strings(&["10.22.0.2/16 gw 10.22.0.1"]),
            routes: strings(&["0.0.0.0/0 via 10.22.0.1"]),
            interfaces: strings(&["cni0", "veth*", "eth0 in c1"]),
            ..CniExpect::default()
        };
        assert!(cni("ADD n c1:eth0", &e, &ok(), "c1").passed);
        e.ips = strings(&["10.22.0.3/16 gw 10.22.0.1"]);
        let v = cni("ADD n c1:eth0", &e, &ok(), "c1");
        assert!(!v.passed);
        assert!(
            v.actual
                .contains("ips [10.22.0.2/16 gw 10.22.0.1] (expected [10.22.0.3/16 gw 10.22.0.1])"),
            "{}",
            v.actual
        );
        e.ips = None;
        e.interfaces = strings(&["cni0", "eth0 in c1"]);
        assert!(
            !cni("ADD", &e, &ok(), "c1").passed,
            "a missing interface is a difference"
        );
        e.interfaces = None;
        let mut dns = serde_json::Map::new();
        dns.insert("nameservers".into(), serde_json::json!(["10.0.0.11"]));
        e.dns = Some(dns);
        assert!(!cni("ADD", &e, &ok(), "c1").passed);
    }

    #[test]
    fn an_expected_error_needs_a_failure_with_that_code_and_message() {
        let e = CniExpect {
            error: Some(CniErrorExpect {
                code: Some(11),
                msg: Some(TextMatch::Contains("exists".into())),
            }),
            ..CniExpect::default()
        };
        let failed = |code| Answer {
            result: Err(ToolError {
                code,
                msg: "container veth name provided (eth0) already exists".into(),
                details: String::new(),
            }),
            kernel_disagrees: Vec::new(),
            stderr: String::new(),
            tool_time: std::time::Duration::ZERO,
        };
        assert!(cni("ADD", &e, &failed(Some(11)), "c1").passed);
        assert!(!cni("ADD", &e, &failed(Some(999)), "c1").passed);
        assert!(
            !cni("ADD", &e, &ok(), "c1").passed,
            "a success is not the failure expected"
        );
        let v = cni("ADD", &CniExpect::default(), &failed(Some(11)), "c1");
        assert!(!v.passed);
        assert!(
            v.actual.starts_with("failed: code 11: container veth"),
            "{}",
            v.actual
        );
    }

    #[test]
    fn a_result_the_kernel_does_not_have_fails_even_when_it_matches() {
        let mut a = ok();
        a.kernel_disagrees = vec!["address 10.22.0.2/16 is not on c1:eth0".into()];
        let v = cni("ADD", &CniExpect::default(), &a, "c1");
        assert!(!v.passed);
        assert!(v
            .actual
            .contains("the kernel disagrees with the result: address 10.22.0.2/16"));
    }
}
