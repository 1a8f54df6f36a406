//! scenario.schema.json is the schema `netspec schema` prints today; every scenario
//! validates against it; and the bad files whose mistake a schema can express (an
//! unknown key, a wrong type, a value out of range) fail it. Needs no root.

use std::path::Path;

// Cargo and nextest run a test from its package root, which is the project root here
// (also from a nextest archive unpacked into another checkout).
const ROOT: &str = ".";

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(ROOT).join("scenario.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(file: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Each trial of a file, as JSON: a matrix file's `${key}` may not fit its field until
/// it takes a value.
fn trials_as_json(file: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(file).unwrap();
    netspec::scenario::variant_sources(file, &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(_, src)| {
            serde_norway::from_str(&src).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        })
        .collect()
}

#[test]
fn the_committed_schema_is_current() {
    let committed = std::fs::read_to_string(Path::new(ROOT).join("scenario.schema.json")).unwrap();
    assert!(
        committed == netspec::scenario::schema_json(),
        "scenario.schema.json is stale: run `cargo run -p netspec -- schema > scenario.schema.json`"
    );
}

#[test]
fn every_scenario_validates_and_names_the_schema() {
    let root = Path::new(ROOT).join("scenarios");
    let v = validator();
    let files = netspec::Harness::new(&root).discover();
    assert!(files.len() > 30);
    for f in files {
        for trial in trials_as_json(&f) {
            let errors: Vec<String> = v.iter_errors(&trial).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {}", f.display(), errors.join("; "));
        }
        let first = std::fs::read_to_string(&f).unwrap();
        let depth = f.strip_prefix(ROOT).unwrap().components().count() - 1;
        let want = format!(
            "# yaml-language-server: $schema={}scenario.schema.json",
            "../".repeat(depth)
        );
        assert!(
            first.starts_with(&want),
            "{} does not start with {want:?}",
            f.display()
        );
    }
}

#[test]
fn every_scenario_validates_as_written_matrix_templates_included() {
    // What an editor sees: the file before a matrix fills in its `${key}`s.
    let v = validator();
    for f in netspec::Harness::new(Path::new(ROOT).join("scenarios")).discover() {
        let errors: Vec<String> = v.iter_errors(&as_json(&f)).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {}", f.display(), errors.join("; "));
    }
}

#[test]
fn the_schema_and_the_loader_accept_bare_words_in_argv_and_merge_keys() {
    // `cmd: [true]` is the program `true`; `<<: *anchor` merges a mapping.
    let src = "nodes:\n  a: {}\nsteps:\n  - exec: &e { node: a, cmd: [true] }\n  - exec: { <<: *e, cmd: [echo, 7, 1.5, false] }\n";
    let sc = netspec::load_str(Path::new("merge.yaml"), "merge", src)
        .unwrap_or_else(|e| panic!("the loader refuses it: {e}"));
    let argv: Vec<String> = sc
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            netspec::scenario::Action::Exec(e) => Some(e.argv.join(" ")),
            _ => None,
        })
        .collect();
    assert_eq!(argv, ["true", "echo 7 1.5 false"]);
    let mut value: serde_norway::Value = serde_norway::from_str(src).unwrap();
    value.apply_merge().unwrap();
    let json: serde_json::Value = serde_json::to_value(&value).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the schema refuses it: {}",
        errors.join("; ")
    );
}

#[test]
fn the_schema_rejects_what_it_can_express() {
    let v = validator();
    let bad = [
        "unknown-key",
        "unknown-step",
        "unknown-top-key",
        "unknown-enum-value",
        "wrong-type",
        "connect-proto-unknown",
        "connect-port-range",
        "connect-port-negative",
        "listen-port-zero",
        "ping-count-huge",
        "capture-word",
        "trace-group-range",
        "connect-send-huge",
        // One action per step, and only the `requires:` names netspec knows.
        "step-without-action",
        "two-actions-in-step",
        "unknown-feature",
        // The duration pattern.
        "bad-duration",
    ];
    for name in bad {
        let file = Path::new(ROOT).join(format!("scenarios/invalid/{name}.yaml"));
        assert!(
            !v.is_valid(&as_json(&file)),
            "the schema accepts {name}.yaml"
        );
    }
}

/// Every property of the schema, as `Owner.key`, with whether it (or the definition it
/// refers to) has a description.
fn properties(schema: &serde_json::Value) -> Vec<(String, bool)> {
    fn walk(
        root: &serde_json::Value,
        v: &serde_json::Value,
        owner: &str,
        out: &mut Vec<(String, bool)>,
    ) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                    for (key, p) in props {
                        let described = p.get("description").is_some()
                            || p.get("$ref")
                                .and_then(|r| r.as_str())
                                .and_then(|r| r.rsplit('/').next())
                                .and_then(|d| root["definitions"].get(d))
                                .is_some_and(|d| d.get("description").is_some());
                        out.push((format!("{owner}.{key}"), described));
                    }
                }
                for (k, child) in map {
                    let next = if k == "properties" || k == "definitions" {
                        owner.to_string()
                    } else {
                        k.clone()
                    };
                    walk(root, child, &next, out);
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    walk(root, i, owner, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, "", &mut out);
    out
}

#[test]
fn at_least_95_percent_of_the_properties_are_described_for_users() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("scenario.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let all = properties(&schema);
    let missing: Vec<&String> = all.iter().filter(|(_, d)| !d).map(|(k, _)| k).collect();
    assert!(all.len() > 300, "{} properties", all.len());
    assert!(
        missing.len() * 20 <= all.len(),
        "{} of {} properties have no description: {missing:?}",
        missing.len(),
        all.len()
    );
    // Descriptions are for users: no source files or internals.
    for word in [".rs`", ".rs ", "serde", "resolve`", "netlink type"] {
        assert!(
            !text.contains(word)
                || !text
                    .lines()
                    .any(|l| l.contains("\"description\"") && l.contains(word)),
            "a description mentions {word:?}"
        );
    }
}
