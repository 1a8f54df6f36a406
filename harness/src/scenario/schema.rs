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
                    "properties": { "mac": { "type": "string" } },
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
        let one = |key: &str| {
            json_schema!({
                "type": "object",
                "properties": { key: { "type": "string" } },
                "required": [key],
                "additionalProperties": false
            })
        };
        json_schema!({
            "description": "Equal to a text, or `{contains: T}`, or `{regex: R}`.",
            "anyOf": [{ "type": "string" }, one("equals"), one("contains"), one("regex")]
        })
    }
}
