//! Machine-readable results of `netspec run`: JSON Lines and JUnit XML. Both say
//! "skipped", with the reason, for a skip.
//!
//! The JSON Lines follow `docs/output.schema.json`; every object has `version`
//! (`JSON_VERSION`) and `type`: a `start` object when a scenario begins, one `step`
//! object per step (with its `file`, `line` and `column`), one `scenario` object when it
//! ends, where `message` is the failure report, the skip reason or the load error
//! (empty for a pass), and a `summary` object at the end of the run.

use std::path::PathBuf;
use std::time::Duration;

use crate::report::Outcome;

/// One scenario as run from the command line.
#[derive(Debug)]
pub struct ScenarioResult {
    pub name: String,
    pub file: PathBuf,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// The version of the JSON Lines' contract: raised when a field changes meaning or
/// goes away (adding a field does not raise it).
pub const JSON_VERSION: u32 = 1;

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl ScenarioResult {
    pub fn verdict(&self) -> &'static str {
        match self.outcome {
            Outcome::Passed(_) => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
            Outcome::Invalid(_) => "invalid",
            Outcome::Refused(_) => "refused",
        }
    }

    fn message(&self) -> String {
        match &self.outcome {
            Outcome::Passed(_) => String::new(),
            Outcome::Skipped(s) => s.reason.clone(),
            other => other.to_string(),
        }
    }

    /// JSON Lines: each step, then the scenario.
    pub fn json_lines(&self) -> Vec<String> {
        let file = self.file.display().to_string();
        let step = |s: &crate::report::StepOutcome,
                    verdict: &'static str,
                    expected: &str,
                    actual: &str| {
            line(&StepLine {
                actual,
                column: s.col,
                duration_ms: ms(s.elapsed),
                expected,
                file: &file,
                kind: s.kind,
                line: s.line,
                scenario: &self.name,
                step: s.index,
                title: &s.title,
                r#type: "step",
                verdict,
                version: JSON_VERSION,
            })
        };
        let mut out = Vec::new();
        let (steps, failed_at) = match &self.outcome {
            Outcome::Passed(r) => (r.steps.as_slice(), None),
            Outcome::Failed(f) => (f.before.as_slice(), f.step.as_ref().map(|s| (s, f))),
            _ => (&[][..], None),
        };
        for s in steps {
            let verdict = if s.skipped {
                "skipped"
            } else if s.passed {
                "passed"
            } else {
                "failed"
            };
            out.push(step(s, verdict, &s.expected, &s.detail));
        }
        if let Some((at, f)) = failed_at {
            let s = crate::report::StepOutcome {
                index: at.index,
                kind: at.kind,
                title: at.title.clone(),
                passed: false,
                skipped: false,
                expected: String::new(),
                detail: String::new(),
                elapsed: at.elapsed,
                line: at.line,
                col: at.col,
            };
            out.push(step(&s, "failed", &f.expected, &f.actual));
        }
        let message = self.message();
        let kernel = crate::scenario::running_release();
        out.push(line(&ScenarioLine {
            duration_ms: ms(self.elapsed),
            file: &file,
            kernel: &kernel,
            message: &message,
            scenario: &self.name,
            steps: out.len(),
            r#type: "scenario",
            verdict: self.verdict(),
            version: JSON_VERSION,
        }));
        out
    }

    /// The line that says a scenario has begun.
    pub fn start_line(name: &str, file: &std::path::Path) -> String {
        line(&serde_json::json!({
            "type": "start",
            "version": JSON_VERSION,
            "scenario": name,
            "file": file.display().to_string(),
        }))
    }
}

/// The run's last line: how many scenarios passed, failed (invalid and refused ones
/// included) and were skipped.
pub fn summary_line(results: &[ScenarioResult], elapsed: Duration) -> String {
    let count = |v: &str| results.iter().filter(|r| r.verdict() == v).count();
    let (passed, skipped) = (count("passed"), count("skipped"));
    line(&serde_json::json!({
        "type": "summary",
        "version": JSON_VERSION,
        "scenarios": results.len(),
        "passed": passed,
        "failed": results.len() - passed - skipped,
        "skipped": skipped,
        "duration_ms": ms(elapsed),
    }))
}

// Fields in alphabetical order: the order the lines have always had.
/// One step's line.
#[derive(serde::Serialize)]
struct StepLine<'a> {
    actual: &'a str,
    column: usize,
    duration_ms: f64,
    expected: &'a str,
    file: &'a str,
    kind: &'a str,
    line: usize,
    scenario: &'a str,
    step: usize,
    title: &'a str,
    r#type: &'static str,
    verdict: &'static str,
    version: u32,
}

/// One scenario's line, after its steps'.
#[derive(serde::Serialize)]
struct ScenarioLine<'a> {
    duration_ms: f64,
    file: &'a str,
    /// `uname -r` of the kernel that gave the verdict.
    kernel: &'a str,
    message: &'a str,
    scenario: &'a str,
    steps: usize,
    r#type: &'static str,
    verdict: &'static str,
    version: u32,
}

/// One JSON object: strings and numbers only, so serializing cannot fail.
fn line(l: &impl serde::Serialize) -> String {
    serde_json::to_string(l).unwrap_or_default()
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// One `<testsuite>` with a `<testcase>` per scenario.
pub fn junit(suite: &str, results: &[ScenarioResult]) -> String {
    let count = |v: &str| results.iter().filter(|r| r.verdict() == v).count();
    let total: Duration = results.iter().map(|r| r.elapsed).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x += &format!(
        "<testsuites name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"{3}\" skipped=\"{4}\" time=\"{5:.3}\">\n  <testsuite name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"{3}\" skipped=\"{4}\" time=\"{5:.3}\">\n",
        xml(suite),
        results.len(),
        count("failed"),
        count("invalid") + count("refused"),
        count("skipped"),
        total.as_secs_f64()
    );
    // The kernel that gave every verdict in the suite.
    x += &format!(
        "    <properties>\n      <property name=\"kernel\" value=\"{}\"/>\n    </properties>\n",
        xml(&crate::scenario::running_release())
    );
    for r in results {
        let (class, name) = r.name.rsplit_once('/').unwrap_or(("", &r.name));
        x += &format!(
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            xml(class),
            xml(name),
            xml(&r.file.display().to_string()),
            r.elapsed.as_secs_f64()
        );
        let msg = r.message();
        let first = msg.lines().next().unwrap_or_default();
        x += &match r.verdict() {
            "passed" => "/>\n".to_string(),
            "skipped" => format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(first)
            ),
            "failed" => format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(first),
                xml(&msg)
            ),
            _ => format!(
                ">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                xml(first),
                xml(&msg)
            ),
        };
    }
    x + "  </testsuite>\n</testsuites>\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Skip;

    #[test]
    fn a_skip_is_reported_as_skipped_with_its_reason() {
        let r = ScenarioResult {
            name: "kernel/vlan".into(),
            file: "scenarios/kernel/vlan.yaml".into(),
            outcome: Outcome::Skipped(Skip {
                reason: "the kernel lacks vlan: <Operation not supported>".into(),
            }),
            elapsed: Duration::from_millis(3),
        };
        let lines = r.json_lines();
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["verdict"], "skipped");
        assert_eq!(
            v["message"],
            "the kernel lacks vlan: <Operation not supported>"
        );
        let x = junit("netspec", std::slice::from_ref(&r));
        assert!(x.contains("skipped=\"1\""), "{x}");
        assert!(
            x.contains(
                "<skipped message=\"the kernel lacks vlan: &lt;Operation not supported&gt;\"/>"
            ),
            "{x}"
        );
        assert!(x.contains("classname=\"kernel\" name=\"vlan\""), "{x}");
    }

    #[test]
    fn xml_escapes_what_it_must_and_drops_what_it_cannot_carry() {
        assert_eq!(
            xml("a<b>&\"'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{fffd}\n"
        );
    }
}
