//! The manifest's JSON Schema for editors and `runner schema`: the structure generated
//! from the `raw` types `decode` fills, with every catalog operation's name, path
//! parameters, query parameters and request body added from the catalog.
//!
//! The schema is a second reader of the same rules `validate` applies, never a stricter
//! one: a value written as a template (`"{{ … }}"`) is accepted wherever the rendered
//! value could fit, and `null` wherever a field is not required, as `validate` does.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::raw;
use crate::catalog::{self, Operation, Shape};

/// The manifest format as a JSON Schema (draft 2020-12), pretty-printed.
pub(crate) fn json_schema() -> String {
    let schema = schemars::schema_for!(raw::RawManifest);
    let mut value = serde_json::to_value(&schema).expect("a schema serialises");
    drop_null_types(&mut value);
    value["required"] = json!(["version", "name", "input"]);
    // A job sends requests (`steps`) or converts rows (`outputs`, `aggregates`).
    value["anyOf"] = json!([
        {"required": ["steps"]}, {"required": ["outputs"]}, {"required": ["aggregates"]}
    ]);
    value["$defs"]["Template"] = json!({
        "description": "A template: `{{ expression }}` is rendered for each row, and a value \
                        that is exactly one `{{ … }}` keeps its type (list, number, null).",
        "type": "string",
        "pattern": "\\{\\{|\\{%"
    });
    add_operations(
        &mut value["$defs"]["RawStep"],
        catalog::gladly().operations(),
    );
    let mut text = serde_json::to_string_pretty(&value).expect("a schema serialises");
    text.push('\n');
    text
}

/// Makes `operation` an enum of the catalog's ids and, per operation, describes the
/// `params`, `query` and `body` a step naming it takes.
fn add_operations(step: &mut Value, operations: &[Operation]) {
    let ids: Vec<&str> = operations.iter().map(|op| op.id.as_str()).collect();
    step["properties"]["operation"] = json!({
        "description": "A catalog operation (see `runner ops NAME`) instead of `request`; \
                        editors then complete its `params`, `query` and `body`.",
        "enum": ids,
    });
    let rules: Vec<Value> = operations.iter().map(operation_rule).collect();
    step["allOf"] = Value::Array(rules);
}

/// `if operation == ID then { params, query, body as ID takes them }`.
fn operation_rule(op: &Operation) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut params = Map::new();
    for name in &op.path_params {
        params.insert(
            name.clone(),
            json!({
                "description": format!("Path parameter of `{}` (`{}`).", op.id, op.path),
                "type": "string",
            }),
        );
    }
    properties.insert(
        "params".into(),
        json!({
            "description": format!("Path parameters of `{}`.", op.id),
            "properties": params,
            "required": op.path_params,
            "additionalProperties": false,
        }),
    );
    if !op.path_params.is_empty() {
        required.push("params");
    }
    let mut query = Map::new();
    for q in &op.query {
        let mut schema = json!({
            "description": format!(
                "Query parameter of `{}`: {}{}.",
                op.id,
                describe(&q.shape),
                if q.required { "; required" } else { "" }
            ),
        });
        // Suggested, not enforced: query values are checked by the API.
        if let Shape::String { enum_values, .. } = &q.shape
            && !enum_values.is_empty()
        {
            schema["examples"] = json!(enum_values);
        }
        query.insert(q.name.clone(), schema);
    }
    let query_required: Vec<&str> = op
        .query
        .iter()
        .filter(|q| q.required)
        .map(|q| q.name.as_str())
        .collect();
    if !query_required.is_empty() {
        required.push("query");
    }
    properties.insert(
        "query".into(),
        json!({
            "description": format!("Query parameters of `{}`.", op.id),
            "properties": query,
            "required": query_required,
            "additionalProperties": false,
        }),
    );
    match &op.body {
        None => {
            properties.insert(
                "body".into(),
                json!({ "not": {}, "description": format!("`{}` takes no body.", op.id) }),
            );
        }
        Some(body) => {
            if body.required {
                required.push("body");
            }
            let mut schema = value_schema(&body.shape, false);
            if let Value::Object(map) = &mut schema {
                map.insert(
                    "description".into(),
                    json!(format!("The JSON body `{}` takes.", op.id)),
                );
            }
            properties.insert("body".into(), schema);
        }
    }
    json!({
        "if": { "properties": { "operation": { "const": op.id } }, "required": ["operation"] },
        "then": { "properties": properties, "required": required },
    })
}

/// What a value of `shape` may be in a manifest: the shape itself, a template, and
/// `null` when `nullable`.
fn value_schema(shape: &Shape, nullable: bool) -> Value {
    let strict = match shape {
        Shape::Any => return json!(true),
        Shape::String {
            enum_values,
            max_length,
        } => {
            if enum_values.is_empty() && max_length.is_none() {
                // Any string, templates included.
                return if nullable {
                    json!({ "type": ["string", "null"] })
                } else {
                    json!({ "type": "string" })
                };
            }
            let mut s = json!({ "type": "string" });
            if !enum_values.is_empty() {
                s["enum"] = json!(enum_values);
            }
            if let Some(max) = max_length {
                s["maxLength"] = json!(max);
            }
            s
        }
        Shape::Integer => json!({ "type": "integer" }),
        Shape::Number => json!({ "type": "number" }),
        Shape::Boolean => json!({ "type": "boolean" }),
        Shape::Array(items) => json!({ "type": "array", "items": value_schema(items, false) }),
        Shape::Object { fields, additional } => {
            let mut properties = Map::new();
            for field in fields {
                let mut schema = value_schema(&field.shape, !field.required);
                let description = format!(
                    "{}{}",
                    describe(&field.shape),
                    if field.required { "; required" } else { "" }
                );
                schema = match schema {
                    Value::Object(mut map) => {
                        map.insert("description".into(), json!(description));
                        Value::Object(map)
                    }
                    _ => json!({ "description": description }),
                };
                properties.insert(field.name.clone(), schema);
            }
            let required: Vec<&str> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name.as_str())
                .collect();
            let mut s = json!({ "type": "object", "properties": properties, "required": required });
            if !additional {
                s["additionalProperties"] = json!(false);
            }
            s
        }
    };
    let mut options = vec![strict, json!({ "$ref": "#/$defs/Template" })];
    if nullable {
        options.push(json!({ "type": "null" }));
    }
    json!({ "anyOf": options })
}

/// "string, one of `A`, `B`", "array of object", "string of at most 255 characters".
fn describe(shape: &Shape) -> String {
    match shape {
        Shape::String {
            enum_values,
            max_length,
        } => {
            let mut text = "string".to_owned();
            if !enum_values.is_empty() {
                let values: Vec<String> = enum_values.iter().map(|v| format!("`{v}`")).collect();
                let _ = write!(text, ", one of {}", values.join(", "));
            }
            if let Some(max) = max_length {
                let _ = write!(text, ", at most {max} characters");
            }
            text
        }
        Shape::Array(items) => format!("array of {}", describe(items)),
        other => other.type_name().to_owned(),
    }
}

/// Optional keys are simply absent in a manifest: `null` is not a value worth offering in
/// an editor, so `["string", "null"]` becomes `"string"` and `anyOf [X, null]` becomes X.
fn drop_null_types(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get("anyOf") {
                let kept: Vec<Value> = options
                    .iter()
                    .filter(|o| o.get("type") != Some(&Value::from("null")))
                    .cloned()
                    .collect();
                if kept.len() == 1 {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &kept[0] {
                        for (k, v) in inner {
                            map.insert(k.clone(), v.clone());
                        }
                    }
                } else {
                    map.insert("anyOf".into(), Value::Array(kept));
                }
            }
            map.values_mut().for_each(drop_null_types);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_types),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml;
    use super::json_schema;

    fn as_json(text: &str) -> serde_json::Value {
        yaml::parse(text).unwrap().unwrap().to_json()
    }

    fn validator() -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    /// Validates `text` with the runner itself: `None` when it is accepted, else the first
    /// error message.
    fn runner_says(text: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.yaml");
        std::fs::write(&path, text).unwrap();
        std::fs::write(dir.path().join("rows.csv"), "id,email,status\n").unwrap();
        match super::super::Manifest::load(&path) {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Every shipped job and valid fixture passes the schema editors are given (read as
    /// YAML 1.2, as the runner reads it: `on` is a key, not `true`).
    #[test]
    fn the_schema_accepts_every_shipped_job_and_valid_fixture() {
        let validator = validator();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for dir in ["jobs", "tests/fixtures/valid"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "yaml") {
                    continue;
                }
                let value = as_json(&std::fs::read_to_string(&path).unwrap());
                let errors: Vec<String> = validator
                    .iter_errors(&value)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                checked += 1;
            }
        }
        assert!(checked >= 26, "only {checked} manifests checked");
    }

    const BASE: &str = "version: 1\nname: x\ninput: { csv: rows.csv }\n";

    /// Mistakes `validate` refuses, the schema refuses on its own; the runner is asked too,
    /// so the two cannot drift apart silently.
    #[test]
    fn the_schema_refuses_what_validate_refuses() {
        let validator = validator();
        let step = |body: &str| format!("{BASE}steps:\n  - name: s\n{body}");
        for (what, text, structural) in [
            (
                "no input",
                "version: 1\nname: x\nsteps: []\n".to_owned(),
                true,
            ),
            ("nothing to do", BASE.to_owned(), true),
            (
                "unknown top key",
                format!("{BASE}steps: []\nstpes: []\n"),
                true,
            ),
            (
                "steps not a list",
                format!("{BASE}steps: {{ a: 1 }}\n"),
                true,
            ),
            (
                "unknown step key",
                step("    reqest: GET /api/v1/agents\n"),
                true,
            ),
            (
                "unknown input key",
                "version: 1\nname: x\ninput: { cvs: rows.csv }\nsteps: []\n".to_owned(),
                true,
            ),
            (
                "a misspelled operation",
                step("    operation: createCustomr\n"),
                false,
            ),
            (
                "a misspelled status",
                step(
                    "    operation: patchConversation\n    params: { conversationId: \"{{ row.id }}\" }\n    \
                     body: { status: { value: CLOSD } }\n",
                ),
                false,
            ),
            (
                "an unknown body field",
                step("    operation: createCustomer\n    body: { nmae: x }\n"),
                false,
            ),
            (
                "a body field of the wrong type",
                step("    operation: createCustomer\n    body: { emails: x }\n"),
                false,
            ),
            (
                "a missing path parameter",
                step("    operation: getCustomer\n"),
                false,
            ),
            (
                "an unknown path parameter",
                step("    operation: getCustomer\n    params: { customerID: \"{{ row.id }}\" }\n"),
                false,
            ),
            (
                "a missing required query parameter",
                step("    operation: getEvents\n"),
                false,
            ),
            (
                "an unknown query parameter",
                step("    operation: findCustomers\n    query: { emial: \"{{ row.email }}\" }\n"),
                false,
            ),
            (
                "a body on an operation that takes none",
                step(
                    "    operation: getCustomer\n    params: { customerId: \"{{ row.id }}\" }\n    \
                     body: { a: 1 }\n",
                ),
                false,
            ),
            (
                "a required body left out",
                step("    operation: createCustomer\n"),
                false,
            ),
        ] {
            assert!(
                !validator.is_valid(&as_json(&text)),
                "the schema accepts a manifest with {what}"
            );
            if !structural {
                assert!(
                    runner_says(&text).is_some(),
                    "validate accepts a manifest with {what}, the schema refuses it"
                );
            }
        }
    }

    /// Templates, `null` for optional fields and literal values of the right type pass
    /// both the schema and `validate`.
    #[test]
    fn the_schema_accepts_templates_where_validate_does() {
        let validator = validator();
        let text = format!(
            "{BASE}steps:\n  - name: s\n    operation: patchConversation\n    \
             params: {{ conversationId: \"{{{{ row.id }}}}\" }}\n    \
             body: {{ status: {{ value: \"{{{{ row.status }}}}\" }} }}\n  \
             - name: t\n    operation: createCustomer\n    body:\n      \
             name: \"{{{{ row.email }}}}\"\n      emails: \"{{{{ [row.email] }}}}\"\n      \
             address: null\n      phones: [{{ original: \"555\", type: MOBILE }}]\n"
        );
        let errors: Vec<String> = validator
            .iter_errors(&as_json(&text))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(runner_says(&text), None);
    }

    /// Editors show a description for every key a manifest can hold.
    #[test]
    fn every_manifest_key_has_a_description() {
        fn walk(value: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
            let Some(map) = value.as_object() else { return };
            if let Some(props) = map.get("properties").and_then(|p| p.as_object()) {
                for (key, prop) in props {
                    let described = prop.get("description").is_some()
                        || prop.get("$ref").is_some()
                        || prop.get("not").is_some();
                    if !described && !at.contains("/if") {
                        missing.push(format!("{at}/{key}"));
                    }
                    walk(prop, &format!("{at}/{key}"), missing);
                }
            }
            for (key, child) in map {
                if key != "properties" {
                    match child {
                        serde_json::Value::Array(items) => {
                            for (i, item) in items.iter().enumerate() {
                                walk(item, &format!("{at}/{key}/{i}"), missing);
                            }
                        }
                        other => walk(other, &format!("{at}/{key}"), missing),
                    }
                }
            }
        }
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        let mut missing = Vec::new();
        walk(&schema, "", &mut missing);
        assert!(
            missing.is_empty(),
            "keys without a description: {missing:?}"
        );
        let ops = schema["$defs"]["RawStep"]["properties"]["operation"]["enum"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(ops, crate::catalog::gladly().operations().len());
    }
}
