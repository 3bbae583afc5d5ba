//! `runner ops`: lists the catalog's operations as an aligned table on stdout, or, for one
//! operation named exactly, everything needed to write its step: path and query
//! parameters, rate class, statuses, the body's shape and a minimal step (`--json` for
//! tools).
//!
//! It only formats what [`crate::catalog`] holds; the matching rules live there.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Value, json};

use super::Exit;
use crate::catalog::{self, Operation, Shape};

/// Arguments of `runner ops`.
#[derive(Debug, clap::Args)]
pub(crate) struct OpsArgs {
    /// Only operations whose id, method, path or resource contains this text
    /// (case-insensitive); an operation id given exactly shows that operation in full.
    filter: Option<String>,
    /// Print JSON instead of text (a list, or the one operation).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &OpsArgs) -> Exit {
    let catalog = catalog::gladly();
    let filter = args.filter.as_deref().unwrap_or("");
    let ops = catalog.filter(filter);
    if ops.is_empty() {
        let hint = catalog
            .suggest(filter)
            .map_or_else(String::new, |id| format!(" (did you mean `{id}`?)"));
        // A closed stderr leaves nothing to report to.
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: no operation matches `{filter}`{hint}"
        );
        return Exit::Usage;
    }
    let exact = ops.iter().find(|op| op.id.eq_ignore_ascii_case(filter));
    let text = match (exact, args.json) {
        (Some(op), false) => detail(op),
        (Some(op), true) => json_text(&describe(op)),
        (None, false) => render(&ops),
        (None, true) => json_text(&Value::Array(ops.iter().map(|op| describe(op)).collect())),
    };
    // A closed stdout (`runner ops | head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Exit::Ok
}

fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON serialises");
    text.push('\n');
    text
}

/// One operation as data (the `--json` form).
fn describe(op: &Operation) -> Value {
    json!({
        "id": op.id,
        "method": op.method.as_str(),
        "path": op.path,
        "pathParams": op.path_params,
        "query": op.query.iter().map(|q| json!({
            "name": q.name, "required": q.required, "repeated": q.repeated,
            "type": shape_json(&q.shape),
        })).collect::<Vec<_>>(),
        "rateClass": op.rate_class.as_str(),
        "success": op.success,
        "errors": op.errors,
        "response": op.response.as_str(),
        "writes": op.mutates,
        "body": op.body.as_ref().map(|b| json!({"required": b.required, "shape": shape_json(&b.shape)})),
        "example": example_step(op),
    })
}

/// A shape as JSON: `{"type": …, "enum"?, "maxLength"?, "items"?, "fields"?}`.
fn shape_json(shape: &Shape) -> Value {
    match shape {
        Shape::String {
            enum_values,
            max_length,
        } => {
            let mut out = json!({"type": "string"});
            if !enum_values.is_empty() {
                out["enum"] = json!(enum_values);
            }
            if let Some(max) = max_length {
                out["maxLength"] = json!(max);
            }
            out
        }
        Shape::Array(inner) => json!({"type": "array", "items": shape_json(inner)}),
        Shape::Object { fields, additional } => json!({
            "type": "object",
            "additional": additional,
            "fields": fields.iter().map(|f| json!({
                "name": f.name, "required": f.required, "shape": shape_json(&f.shape),
            })).collect::<Vec<_>>(),
        }),
        other => json!({"type": other.type_name()}),
    }
}

/// The full text view of one operation.
fn detail(op: &Operation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}  ({}, {})",
        op.method, op.path, op.id, op.resource
    );
    if !op.path_params.is_empty() {
        let _ = writeln!(out, "\npath parameters: {}", op.path_params.join(", "));
    }
    if !op.query.is_empty() {
        let _ = writeln!(out, "\nquery:");
        for q in &op.query {
            let _ = writeln!(
                out,
                "  {}{}: {}{}",
                q.name,
                if q.required { " (required)" } else { "" },
                type_text(&q.shape),
                if q.repeated {
                    ", repeated per value"
                } else {
                    ""
                }
            );
        }
    }
    let rate = match (op.rate_class.per_second(), op.rate_class.per_minute()) {
        (Some(n), _) => format!("{n} requests/second for the org"),
        (None, Some(n)) => format!(
            "{n} requests/minute, {} at once",
            op.rate_class.max_concurrent().unwrap_or(1)
        ),
        (None, None) => String::new(),
    };
    let _ = writeln!(out, "\nrate class: {} ({rate})", op.rate_class);
    let errors: Vec<String> = op.errors.iter().map(u16::to_string).collect();
    let _ = writeln!(
        out,
        "success: {} ({}); errors documented: {}",
        op.success,
        op.response.as_str(),
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "{}",
        if op.mutates {
            "writes: yes"
        } else {
            "writes: no (a dry run may send it)"
        }
    );
    match &op.body {
        None => {
            let _ = writeln!(out, "\nbody: none");
        }
        Some(body) => {
            let _ = writeln!(
                out,
                "\nbody{}: {}",
                if body.required {
                    " (required)"
                } else {
                    " (optional)"
                },
                type_text(&body.shape)
            );
            shape_tree(&mut out, &body.shape, 1);
        }
    }
    let _ = writeln!(out, "\nexample step (required fields only):");
    for line in example_yaml(op).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// A shape in a few words: `string (one of A, B; at most 50)`, `array of object`.
fn type_text(shape: &Shape) -> String {
    match shape {
        Shape::String {
            enum_values,
            max_length,
        } => {
            let mut notes = Vec::new();
            if !enum_values.is_empty() {
                notes.push(format!("one of {}", enum_values.join(", ")));
            }
            if let Some(max) = max_length {
                notes.push(format!("at most {max} characters"));
            }
            if notes.is_empty() {
                "string".to_owned()
            } else {
                format!("string ({})", notes.join("; "))
            }
        }
        Shape::Array(inner) => format!("array of {}", type_text(inner)),
        other => other.type_name().to_owned(),
    }
}

/// The fields of an object shape (and of objects inside it), indented.
fn shape_tree(out: &mut String, shape: &Shape, depth: usize) {
    let inner = match shape {
        Shape::Array(inner) => inner.as_ref(),
        other => other,
    };
    let Shape::Object { fields, additional } = inner else {
        return;
    };
    let pad = "  ".repeat(depth);
    for field in fields {
        let _ = writeln!(
            out,
            "{pad}{}{}: {}",
            field.name,
            if field.required { " (required)" } else { "" },
            type_text(&field.shape)
        );
        shape_tree(out, &field.shape, depth + 1);
    }
    if *additional {
        let _ = writeln!(out, "{pad}(other keys allowed)");
    }
}

/// A value for a shape in an example: required fields only, placeholders for text.
fn example_value(shape: &Shape, name: &str) -> Value {
    match shape {
        Shape::String { enum_values, .. } => match enum_values.first() {
            Some(first) => json!(first),
            None => json!(format!("{{{{ row.{name} }}}}")),
        },
        Shape::Integer | Shape::Number => json!(1),
        Shape::Boolean => json!(true),
        Shape::Array(inner) => json!([example_value(inner, name)]),
        Shape::Object { fields, .. } => Value::Object(
            fields
                .iter()
                .filter(|f| f.required)
                .map(|f| (f.name.clone(), example_value(&f.shape, &f.name)))
                .collect(),
        ),
        Shape::Any => json!(format!("{{{{ row.{name} }}}}")),
    }
}

/// A minimal step for the operation, as data.
fn example_step(op: &Operation) -> Value {
    let mut step = json!({"name": op.id, "operation": op.id});
    if !op.path_params.is_empty() {
        step["params"] = Value::Object(
            op.path_params
                .iter()
                .map(|p| (p.clone(), json!(format!("{{{{ row.{p} }}}}"))))
                .collect(),
        );
    }
    let required: serde_json::Map<String, Value> = op
        .query
        .iter()
        .filter(|q| q.required)
        .map(|q| (q.name.clone(), example_value(&q.shape, &q.name)))
        .collect();
    if !required.is_empty() {
        step["query"] = Value::Object(required);
    }
    if let Some(body) = &op.body {
        step["body"] = example_value(&body.shape, "value");
    }
    step
}

/// The example step as manifest YAML (flow mappings keep it short and valid).
fn example_yaml(op: &Operation) -> String {
    let step = example_step(op);
    let mut out = String::from("steps:\n");
    let _ = writeln!(
        out,
        "  - name: {}",
        step["name"].as_str().unwrap_or_default()
    );
    let _ = writeln!(out, "    operation: {}", op.id);
    for key in ["params", "query", "body"] {
        if let Some(value) = step.get(key) {
            let _ = writeln!(out, "    {key}: {value}");
        }
    }
    out
}

/// The table: a header, one line per operation, then the count.
fn render(ops: &[&Operation]) -> String {
    let mut rows = vec![[
        "METHOD".to_owned(),
        "PATH".to_owned(),
        "OPERATION".to_owned(),
        "RATE".to_owned(),
        "SUCCESS".to_owned(),
    ]];
    rows.extend(ops.iter().map(|op| {
        [
            op.method.to_string(),
            op.path.clone(),
            op.id.clone(),
            op.rate_class.to_string(),
            op.success.to_string(),
        ]
    }));
    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let noun = if ops.len() == 1 {
        "operation"
    } else {
        "operations"
    };
    let _ = writeln!(out, "{} {noun}", ops.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_aligned_table_with_a_count() {
        let ops = catalog::gladly().filter("/api/v1/reports");
        let table = render(&ops);
        assert_eq!(
            table,
            "METHOD  PATH                                 OPERATION                  RATE     SUCCESS\n\
             POST    /api/v1/reports                      generateReport             reports  200\n\
             POST    /api/v1/reports/work-session-events  generateWorkSessionReport  reports  200\n\
             2 operations\n"
        );
    }

    #[test]
    fn lists_every_operation_without_a_filter() {
        let ops = catalog::gladly().filter("");
        let table = render(&ops);
        assert_eq!(table.lines().count(), 82);
        assert!(table.ends_with("80 operations\n"));
        assert_eq!(render(&ops[..1]).lines().last(), Some("1 operation"));
    }
}
