//! The JSON Schema of the scenario format, generated from the raw types (`raw.rs`), so
//! that editors complete and check keys. The few raw types that deserialize by hand
//! (a value that may be a word or a map) describe themselves here.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::raw::{RawArpExpect, RawCapture, RawScenario, RawSnapshot, RawSnapshotFull, Scalar};
use super::raw_services::RawText;

/// The schema, as pretty JSON with a final newline: what `netspec schema` prints and
/// what `scenario.schema.json` holds.
pub fn schema_json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<RawScenario>();
    schema.insert("title".into(), "netspec scenario".into());
    loader_rules(&mut schema);
    if let Some(defs) = schema.get_mut("definitions") {
        durations(defs);
    }
    if let Some(props) = schema.get_mut("properties") {
        durations(props);
    }
    if let Some(defs) = schema.get_mut("definitions") {
        templates(defs);
    }
    if let Some(props) = schema.get_mut("properties") {
        templates(props);
    }
    if let Some(defs) = schema
        .get_mut("definitions")
        .and_then(|d| d.as_object_mut())
    {
        defs.insert(
            "Template".into(),
            serde_json::json!({
                "description": "A value a `matrix:` gives: `${key}`, written in quotes.",
                "type": "string",
                "pattern": "\\$\\{[^}]+\\}"
            }),
        );
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// What the loader refuses and JSON Schema can say too, so that an editor flags it:
/// a `requires:` name netspec does not know, and a step with no action or several.
fn loader_rules(schema: &mut Schema) {
    if let Some(items) = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("requires"))
        .and_then(|r| r.get_mut("items"))
    {
        *items = serde_json::json!({ "enum": super::FEATURES });
    }
    let Some(step) = schema
        .get_mut("definitions")
        .and_then(|d| d.get_mut("RawStep"))
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    // Exactly one action: each alternative requires one action key, and two present
    // would match two alternatives, which `oneOf` refuses.
    let actions: Vec<serde_json::Value> = super::resolve::ACTIONS
        .iter()
        .map(|a| serde_json::json!({ "required": [a] }))
        .collect();
    step.insert("oneOf".into(), serde_json::Value::Array(actions));
}

/// The fields that take a duration, by name, in every object of the format.
const DURATION_KEYS: [&str; 12] = [
    "step_timeout",
    "timeout",
    "within",
    "for",
    "sleep",
    "interval",
    "ageing_time",
    "forward_delay",
    "hello_time",
    "miimon",
    "updelay",
    "downdelay",
];

/// A duration as the loader reads it (`200ms`, `1.5s`, `2m`, `1min`), or a matrix's
/// `${key}`.
const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*(ms|s|m|min)\s*$|\$\{[^}]+\}";

/// Gives every duration field the loader's pattern, so that an editor flags `2 sec`.
fn durations(v: &mut serde_json::Value) {
    let Some(map) = v.as_object_mut() else {
        if let Some(items) = v.as_array_mut() {
            items.iter_mut().for_each(durations);
        }
        return;
    };
    if let Some(props) = map.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for (name, field) in props.iter_mut() {
            let is_string = field.get("type").is_some_and(|t| {
                t == "string"
                    || t.as_array()
                        .is_some_and(|a| a.iter().any(|x| x == "string"))
            });
            if DURATION_KEYS.contains(&name.as_str()) && is_string {
                if let Some(f) = field.as_object_mut() {
                    f.insert("pattern".into(), DURATION_PATTERN.into());
                }
            }
        }
    }
    for child in map.values_mut() {
        durations(child);
    }
}

/// Lets every field whose values are numbers, booleans or a list of words also take a
/// `${key}` of a `matrix:`, so that a matrix file validates in an editor as it is
/// written (the loader checks each trial's values once they are substituted).
fn templates(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let typed = |t: &serde_json::Value| match t {
                serde_json::Value::String(t) => {
                    t != "string" && t != "object" && t != "array" && t != "null"
                }
                serde_json::Value::Array(ts) => {
                    ts.iter()
                        .any(|t| matches!(t.as_str(), Some("integer" | "number" | "boolean")))
                        && !ts.iter().any(|t| t == "string")
                }
                _ => false,
            };
            let wrap = map.contains_key("enum") || map.get("type").is_some_and(typed);
            for (k, child) in map.iter_mut() {
                if k != "enum" && k != "const" && k != "required" && k != "examples" {
                    templates(child);
                }
            }
            if wrap {
                let description = map.remove("description");
                let original = serde_json::Value::Object(std::mem::take(map));
                map.insert(
                    "anyOf".into(),
                    serde_json::json!([original, { "$ref": "#/definitions/Template" }]),
                );
                if let Some(d) = description {
                    map.insert("description".into(), d);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(templates),
        _ => {}
    }
}

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number, a boolean (written as 1 or 0) or a string.",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl JsonSchema for RawCapture {
    fn schema_name() -> Cow<'static, str> {
        "Capture".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`all`, or a list of node:interface.",
            "anyOf": [
                { "const": "all" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

impl JsonSchema for RawSnapshot {
    fn schema_name() -> Cow<'static, str> {
        "Snapshot".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let full = generator.subschema_for::<RawSnapshotFull>();
        json_schema!({
            "description": "A label, or `{label, nodes, only}`.",
            "anyOf": [{ "type": "string" }, full]
        })
    }
}

impl JsonSchema for RawArpExpect {
    fn schema_name() -> Cow<'static, str> {
        "ArpExpect".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`answered`, `unanswered`, or `{mac: MAC or node:if}`.",
            "anyOf": [
                { "enum": ["answered", "unanswered"] },
                {
                    "type": "object",
                    "properties": { "mac": { "type": "string", "description": "The MAC that must answer, or `node:if`." } },
                    "required": ["mac"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl JsonSchema for RawText {
    fn schema_name() -> Cow<'static, str> {
        "TextMatch".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = |key: &str, description: &str| {
            json_schema!({
                "type": "object",
                "properties": { key: { "type": "string", "description": description } },
                "required": [key],
                "additionalProperties": false
            })
        };
        json_schema!({
            "description": "Equal to a text, or `{contains: T}`, or `{regex: R}`.",
            "anyOf": [
                { "type": "string" },
                one("equals", "The whole text."),
                one("contains", "A part of the text."),
                one("regex", "A regular expression the text must match (Rust regex syntax).")
            ]
        })
    }
}
