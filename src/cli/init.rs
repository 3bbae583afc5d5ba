//! `runner init`: a new manifest to edit, either a step for one catalog operation (with
//! its required parameters and body fields, and an input CSV holding the columns it
//! reads) or a copy of a shipped job with its sample input. Never overwrites a file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::Exit;
use crate::catalog::{self, Operation, Shape};
use crate::diagnostic::did_you_mean;

/// Arguments of `runner init`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").args(["operation", "from", "list"]).required(true))]
pub(crate) struct InitArgs {
    /// The manifest to write, e.g. `jobs/close-old.yaml`; refused when it exists.
    #[arg(required_unless_present = "list")]
    file: Option<PathBuf>,
    /// Start from a step for this operation (see `runner ops`).
    #[arg(long, value_name = "OPERATION")]
    operation: Option<String>,
    /// Start from a copy of this shipped job (see `--list`).
    #[arg(long, value_name = "JOB")]
    from: Option<String>,
    /// List the shipped jobs `--from` can copy.
    #[arg(long)]
    list: bool,
}

/// A job shipped with the runner, with its sample input when it reads a CSV.
pub(crate) struct Shipped {
    /// The job's name (its file stem under `jobs/`).
    pub name: &'static str,
    /// The manifest text.
    pub manifest: &'static str,
    /// The sample input: its path as the manifest names it, and its text.
    pub data: Option<(&'static str, &'static str)>,
}

/// Every job under `jobs/`, built in so an installed binary can copy them.
pub(crate) const SHIPPED: &[Shipped] = &[
    Shipped {
        name: "add-and-update-answers",
        manifest: include_str!("../../jobs/add-and-update-answers.yaml"),
        data: Some((
            "data/add-and-update-answers.csv",
            include_str!("../../jobs/data/add-and-update-answers.csv"),
        )),
    },
    Shipped {
        name: "close-conversations",
        manifest: include_str!("../../jobs/close-conversations.yaml"),
        data: Some((
            "data/close-conversations.csv",
            include_str!("../../jobs/data/close-conversations.csv"),
        )),
    },
    Shipped {
        name: "close-tasks",
        manifest: include_str!("../../jobs/close-tasks.yaml"),
        data: Some((
            "data/close-tasks.csv",
            include_str!("../../jobs/data/close-tasks.csv"),
        )),
    },
    Shipped {
        name: "create-customers",
        manifest: include_str!("../../jobs/create-customers.yaml"),
        data: Some((
            "data/create-customers.csv",
            include_str!("../../jobs/data/create-customers.csv"),
        )),
    },
    Shipped {
        name: "create-tasks",
        manifest: include_str!("../../jobs/create-tasks.yaml"),
        data: Some((
            "data/create-tasks.csv",
            include_str!("../../jobs/data/create-tasks.csv"),
        )),
    },
    Shipped {
        name: "create-topics",
        manifest: include_str!("../../jobs/create-topics.yaml"),
        data: Some((
            "data/create-topics.csv",
            include_str!("../../jobs/data/create-topics.csv"),
        )),
    },
    Shipped {
        name: "delete-customers",
        manifest: include_str!("../../jobs/delete-customers.yaml"),
        data: Some((
            "data/delete-customers.csv",
            include_str!("../../jobs/data/delete-customers.csv"),
        )),
    },
    Shipped {
        name: "events-wfm",
        manifest: include_str!("../../jobs/events-wfm.yaml"),
        data: None,
    },
    Shipped {
        name: "export-answers",
        manifest: include_str!("../../jobs/export-answers.yaml"),
        data: Some((
            "data/export-answers.csv",
            include_str!("../../jobs/data/export-answers.csv"),
        )),
    },
    Shipped {
        name: "export-audiences",
        manifest: include_str!("../../jobs/export-audiences.yaml"),
        data: None,
    },
    Shipped {
        name: "export-contacts",
        manifest: include_str!("../../jobs/export-contacts.yaml"),
        data: None,
    },
    Shipped {
        name: "export-conversation",
        manifest: include_str!("../../jobs/export-conversation.yaml"),
        data: None,
    },
    Shipped {
        name: "export-customer-conversations",
        manifest: include_str!("../../jobs/export-customer-conversations.yaml"),
        data: None,
    },
    Shipped {
        name: "export-events",
        manifest: include_str!("../../jobs/export-events.yaml"),
        data: None,
    },
    Shipped {
        name: "export-file",
        manifest: include_str!("../../jobs/export-file.yaml"),
        data: None,
    },
    Shipped {
        name: "export-inboxes",
        manifest: include_str!("../../jobs/export-inboxes.yaml"),
        data: None,
    },
    Shipped {
        name: "export-topics",
        manifest: include_str!("../../jobs/export-topics.yaml"),
        data: None,
    },
    Shipped {
        name: "redact-calls",
        manifest: include_str!("../../jobs/redact-calls.yaml"),
        data: Some((
            "data/redact-calls.csv",
            include_str!("../../jobs/data/redact-calls.csv"),
        )),
    },
    Shipped {
        name: "report-daily-counts",
        manifest: include_str!("../../jobs/report-daily-counts.yaml"),
        data: Some((
            "data/report-daily-counts.csv",
            include_str!("../../jobs/data/report-daily-counts.csv"),
        )),
    },
    Shipped {
        name: "report-work-sessions",
        manifest: include_str!("../../jobs/report-work-sessions.yaml"),
        data: None,
    },
    Shipped {
        name: "update-customers",
        manifest: include_str!("../../jobs/update-customers.yaml"),
        data: Some((
            "data/update-customers.csv",
            include_str!("../../jobs/data/update-customers.csv"),
        )),
    },
    Shipped {
        name: "update-topics",
        manifest: include_str!("../../jobs/update-topics.yaml"),
        data: Some((
            "data/update-topics.csv",
            include_str!("../../jobs/data/update-topics.csv"),
        )),
    },
];

impl Shipped {
    /// The manifest's `description:` line.
    fn description(&self) -> &'static str {
        self.manifest
            .lines()
            .find_map(|line| line.strip_prefix("description:"))
            .map_or("", str::trim)
    }
}

pub(crate) fn run(args: &InitArgs) -> Exit {
    if args.list {
        let width = SHIPPED.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for job in SHIPPED {
            // A closed pipe (`| head`) ends the list quietly.
            if writeln!(out, "{:width$}  {}", job.name, job.description()).is_err() {
                break;
            }
        }
        return Exit::Ok;
    }
    let Some(file) = &args.file else {
        return Exit::Usage;
    };
    let plan = if let Some(id) = &args.operation {
        let Some(op) = catalog::gladly().get(id) else {
            let hint = catalog::gladly()
                .suggest(id)
                .map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"));
            eprintln!("error: no operation `{id}`{hint}; `runner ops` lists them");
            return Exit::Usage;
        };
        from_operation(file, op)
    } else if let Some(name) = &args.from {
        let Some(job) = SHIPPED.iter().find(|s| s.name == name) else {
            let hint = did_you_mean(name, SHIPPED.iter().map(|s| s.name))
                .map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"));
            eprintln!("error: no shipped job `{name}`{hint}; `runner init --list` lists them");
            return Exit::Usage;
        };
        from_shipped(file, job)
    } else {
        return Exit::Usage;
    };
    match write(file, &plan) {
        Ok(written) => {
            for path in &written {
                println!("wrote {}", path.display());
            }
            println!(
                "next: edit it, then `runner validate {0}` and `runner apply {0} --dry-run`",
                file.display()
            );
            Exit::Ok
        }
        Err(message) => {
            eprintln!("error: {message}");
            Exit::Usage
        }
    }
}

/// What `init` writes: the manifest text, and files beside it.
struct Plan {
    manifest: String,
    extra: Vec<Extra>,
}

/// A file written beside the manifest.
struct Extra {
    /// The path, relative to the manifest's folder.
    path: String,
    text: String,
    /// Whether one already there is kept (the schema copy) rather than refused (the input).
    keep_existing: bool,
}

/// Writes the manifest and the files beside it, refusing to replace anything; returns
/// what was written.
fn write(file: &Path, plan: &Plan) -> Result<Vec<PathBuf>, String> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let exists = |path: &Path| path.symlink_metadata().is_ok();
    // Every file is checked before any is written: a refusal leaves nothing half-made.
    let refused = std::iter::once(file.to_path_buf()).chain(
        plan.extra
            .iter()
            .filter(|e| !e.keep_existing)
            .map(|e| dir.join(&e.path)),
    );
    for path in refused {
        if exists(&path) {
            return Err(format!(
                "{} exists; init never overwrites a file (move it away or choose another name)",
                path.display()
            ));
        }
    }
    let create = |path: &Path, text: &str| -> Result<(), String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // `create_new`: a file appearing since the check above is still not replaced.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        std::io::Write::write_all(&mut f, text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    create(file, &plan.manifest)?;
    let mut written = vec![file.to_path_buf()];
    for extra in &plan.extra {
        let path = dir.join(&extra.path);
        if extra.keep_existing && exists(&path) {
            continue;
        }
        create(&path, &extra.text)?;
        written.push(path);
    }
    Ok(written)
}

/// The schema copy written beside a manifest that has no `schemas/` folder above it.
const SCHEMA_FILE: &str = "manifest.schema.json";

/// The modeline's schema path and, when no checked-in schema is found above the manifest,
/// the copy to write beside it.
fn schema_location(file: &Path) -> (String, Option<Extra>) {
    let dir = file.parent().unwrap_or(Path::new(""));
    let absolute = std::path::absolute(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .unwrap_or_else(|_| dir.to_path_buf());
    let mut up = String::new();
    for ancestor in normalize(&absolute).ancestors() {
        if ancestor.join("schemas").join(SCHEMA_FILE).is_file() {
            return (format!("{up}schemas/{SCHEMA_FILE}"), None);
        }
        up.push_str("../");
    }
    (
        SCHEMA_FILE.to_owned(),
        Some(Extra {
            path: SCHEMA_FILE.to_owned(),
            text: crate::manifest::json_schema(),
            keep_existing: true,
        }),
    )
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The job's name: the file stem, as a manifest name must be (lowercase letters, digits,
/// `-` and `_`; `My Job.yaml` gives `my-job`).
fn job_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = String::new();
    for c in stem.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches('-');
    if name.is_empty() {
        "new-job".to_owned()
    } else {
        name.to_owned()
    }
}

fn from_shipped(file: &Path, job: &Shipped) -> Plan {
    let (schema, copy) = schema_location(file);
    let body = job
        .manifest
        .strip_prefix("# yaml-language-server: $schema=")
        .and_then(|rest| rest.split_once('\n'))
        .map_or(job.manifest, |(_, rest)| rest);
    let manifest = format!("# yaml-language-server: $schema={schema}\n{body}");
    let mut extra: Vec<Extra> = job
        .data
        .iter()
        .map(|(path, text)| Extra {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
            keep_existing: false,
        })
        .collect();
    extra.extend(copy);
    Plan { manifest, extra }
}

fn from_operation(file: &Path, op: &Operation) -> Plan {
    let (schema, copy) = schema_location(file);
    let name = job_name(file);
    let mut columns: Vec<String> = Vec::new();
    let mut text = String::new();
    let _ = writeln!(text, "# yaml-language-server: $schema={schema}");
    let _ = writeln!(text, "#");
    let _ = writeln!(
        text,
        "# Made by `runner init --operation {}`: {} {}.",
        op.id, op.method, op.path
    );
    let _ = writeln!(
        text,
        "# `runner ops {}` shows every field it takes. The input file's header holds the",
        op.id
    );
    let _ = writeln!(
        text,
        "# columns the step reads; fill in one row per request."
    );
    let _ = writeln!(text, "version: 1");
    let _ = writeln!(text, "name: {}", yaml_string(&name));
    let _ = writeln!(text, "description: {} for each row", op.id);
    if op.mutates {
        let _ = writeln!(text, "destructive: false # true asks before a real run");
    }
    let _ = writeln!(text, "input:\n  csv: data/{name}.csv");
    let results_at = text.len();
    let _ = writeln!(text, "rate_limit: {{ per_second: 5 }}");
    let _ = writeln!(text, "steps:\n  - name: {}", op.id);
    let _ = writeln!(text, "    operation: {}", op.id);
    if !op.path_params.is_empty() {
        let _ = writeln!(text, "    params:");
        for p in &op.path_params {
            let _ = writeln!(text, "      {p}: {}", column(p, &mut columns));
        }
    }
    let required: Vec<_> = op.query.iter().filter(|q| q.required).collect();
    if !required.is_empty() {
        let _ = writeln!(text, "    query:");
        for q in required {
            let value = example(&q.shape, &q.name, &mut columns);
            let _ = write!(text, "      {}:", q.name);
            emit(&mut text, &value, 6);
        }
    }
    if let Some(body) = &op.body {
        let value = example(&body.shape, "body", &mut columns);
        let _ = write!(text, "    body:");
        emit(&mut text, &value, 6);
        if let Shape::Object { fields, .. } = &body.shape {
            let optional: Vec<String> = fields
                .iter()
                .filter(|f| !f.required)
                .map(|f| format!("{} ({})", f.name, f.shape.type_name()))
                .collect();
            if !optional.is_empty() {
                let _ = writeln!(text, "      # optional fields: {}", optional.join(", "));
            }
        }
    }
    let _ = writeln!(text, "    outcome: done");
    // The columns the step reads identify a row in the results, so `--only-failed` can
    // match a corrected row to the one it corrects.
    let mut results = "results:\n  path: results/{{ job.name }}.csv\n".to_owned();
    if !columns.is_empty() {
        let names: Vec<String> = columns.iter().map(|c| yaml_string(c)).collect();
        let _ = writeln!(results, "  columns: [{}]", names.join(", "));
    }
    text.insert_str(results_at, &results);
    let mut header = if columns.is_empty() {
        // A CSV needs a header; this one names a column the step does not read.
        "note".to_owned()
    } else {
        columns
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",")
    };
    header.push('\n');
    let mut extra = vec![Extra {
        path: format!("data/{name}.csv"),
        text: header,
        keep_existing: false,
    }];
    extra.extend(copy);
    Plan {
        manifest: text,
        extra,
    }
}

/// `"{{ row.NAME }}"`, noting NAME as an input column.
fn column(name: &str, columns: &mut Vec<String>) -> String {
    if !columns.iter().any(|c| c == name) {
        columns.push(name.to_owned());
    }
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("\"{{{{ row.{name} }}}}\"")
    } else {
        format!("\"{{{{ row['{name}'] }}}}\"")
    }
}

/// The smallest value of `shape`: required fields only, strings read from a column named
/// after the field, the first value of an enum.
fn example(shape: &Shape, name: &str, columns: &mut Vec<String>) -> Value {
    match shape {
        Shape::String { enum_values, .. } => match enum_values.first() {
            Some(first) => Value::String(first.clone()),
            None => Value::String(format!("\u{0}{}", column(name, columns))),
        },
        Shape::Integer | Shape::Number => Value::from(1),
        Shape::Boolean => Value::Bool(true),
        Shape::Array(inner) => Value::Array(vec![example(inner, name, columns)]),
        Shape::Object { fields, .. } => Value::Object(
            fields
                .iter()
                .filter(|f| f.required)
                .map(|f| (f.name.clone(), example(&f.shape, &f.name, columns)))
                .collect(),
        ),
        Shape::Any => Value::String(format!("\u{0}{}", column(name, columns))),
    }
}

/// Writes `value` as block YAML after a key (`key:` already written), indented by `indent`.
/// Strings starting with NUL are templates, written as they are (already quoted).
fn emit(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if map.is_empty() => out.push_str(" {}\n"),
        Value::Object(map) => {
            out.push('\n');
            for (key, v) in map {
                let _ = write!(out, "{pad}{}:", yaml_string(key));
                emit(out, v, indent + 2);
            }
        }
        Value::Array(items) if items.is_empty() => out.push_str(" []\n"),
        Value::Array(items) => {
            out.push('\n');
            for item in items {
                let _ = write!(out, "{pad}-");
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key on the dash's line, the rest under it.
                        let mut first = true;
                        for (key, v) in map {
                            if first {
                                let _ = write!(out, " {}:", yaml_string(key));
                                first = false;
                            } else {
                                let _ = write!(out, "{pad}  {}:", yaml_string(key));
                            }
                            emit(out, v, indent + 4);
                        }
                    }
                    other => emit(out, other, indent + 2),
                }
            }
        }
        Value::String(s) => match s.strip_prefix('\u{0}') {
            Some(template) => {
                let _ = writeln!(out, " {template}");
            }
            None => {
                let _ = writeln!(out, " {}", yaml_string(s));
            }
        },
        other => {
            let _ = writeln!(out, " {other}");
        }
    }
}

/// A string as a YAML scalar: plain when it reads back as the same string, else JSON-quoted.
fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

/// A CSV header cell, quoted when it needs to be.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in list is the `jobs/` folder: a job added there is offered by `--from`.
    #[test]
    fn every_job_in_the_jobs_folder_is_shipped() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
        let mut on_disk: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(|e| {
                let path = e.unwrap().path();
                (path.extension()? == "yaml").then(|| job_name(&path))
            })
            .collect();
        on_disk.sort();
        let shipped: Vec<&str> = SHIPPED.iter().map(|s| s.name).collect();
        assert_eq!(shipped, on_disk);
        for job in SHIPPED {
            assert!(
                !job.description().is_empty(),
                "{} has no description",
                job.name
            );
            if let Some((path, _)) = job.data {
                assert!(
                    job.manifest.contains(path),
                    "{} does not read {path}",
                    job.name
                );
            }
        }
    }

    #[test]
    fn job_names_are_valid_manifest_names() {
        assert_eq!(job_name(Path::new("jobs/My Job.yaml")), "my-job");
        assert_eq!(job_name(Path::new("close_old.yaml")), "close_old");
        assert_eq!(job_name(Path::new("jobs/ünï.yaml")), "n");
        assert_eq!(job_name(Path::new("jobs/%%.yaml")), "new-job");
    }

    #[test]
    fn yaml_strings_read_back_as_themselves() {
        assert_eq!(yaml_string("createCustomer"), "createCustomer");
        assert_eq!(yaml_string("on"), "\"on\"");
        assert_eq!(yaml_string("1abc"), "\"1abc\"");
        assert_eq!(yaml_string("a: b"), "\"a: b\"");
    }
}
