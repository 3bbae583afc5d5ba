//! `runner validate`: checks manifests (and, when their input file exists, its header)
//! and prints every problem found.

use std::path::PathBuf;

use serde_json::json;

use super::{Exit, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::manifest::{InputFormat, Manifest};
use crate::source;

/// Arguments of `runner validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Manifest files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// How results are printed on stdout: `json` prints one object for scripts (every
    /// problem with its position) and nothing on stderr.
    #[arg(long, value_enum, default_value = "text", value_name = "FORMAT")]
    output: super::OutputFormat,
}

pub(crate) fn run(args: &ValidateArgs) -> Exit {
    let json = args.output == super::OutputFormat::Json;
    let mut exit = Exit::Ok;
    let mut reports = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let loaded = match Manifest::load(file) {
            Ok(loaded) => loaded,
            Err(e) => {
                if json {
                    reports.push(json!({
                        "file": name, "ok": false, "problems": problems_json(&e.diagnostics),
                    }));
                } else {
                    report::manifest_error(&e);
                }
                exit = Exit::Invalid;
                continue;
            }
        };
        let problems = header_problems(&loaded.manifest);
        let m = &loaded.manifest;
        if json {
            let mut all = loaded.warnings.clone();
            all.extend(problems.iter().cloned());
            reports.push(json!({
                "file": name,
                "ok": problems.is_empty(),
                "job": m.name(),
                "steps": m.steps().len(),
                "outputs": m.outputs().len(),
                "aggregates": m.aggregates().len(),
                "problems": problems_json(&all),
            }));
            if !problems.is_empty() {
                exit = Exit::Invalid;
            }
            continue;
        }
        report::diagnostics(&name, &loaded.text, &loaded.warnings);
        if problems.is_empty() {
            let count =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            let mut parts = vec![m.name().to_owned(), count(m.steps().len(), "step")];
            if !m.outputs().is_empty() {
                parts.push(count(m.outputs().len(), "output"));
            }
            if !m.aggregates().is_empty() {
                parts.push(count(m.aggregates().len(), "aggregate"));
            }
            println!("ok: {name} ({})", parts.join(", "));
        } else {
            report::diagnostics(&name, &loaded.text, &problems);
            eprintln!(
                "error: `{name}` does not fit its input: {} problem(s)",
                problems.len()
            );
            exit = Exit::Invalid;
        }
    }
    if json {
        println!("{}", json!({ "ok": exit == Exit::Ok, "files": reports }));
    }
    exit
}

/// Diagnostics as JSON: severity, message, position, label and notes.
fn problems_json(list: &[Diagnostic]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|d| {
            json!({
                "severity": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "message": d.message,
                "line": d.span.map(|s| s.line),
                "column": d.span.map(|s| s.column),
                "label": d.label,
                "notes": d.notes,
            })
        })
        .collect()
}

/// Checks the input header when the input is a CSV file that exists; JSON inputs have no
/// header to check before reading rows.
fn header_problems(manifest: &Manifest) -> Vec<Diagnostic> {
    let input = manifest.input();
    let InputFormat::Csv { delimiter } = input.format else {
        return Vec::new();
    };
    match source::open(&input.path, source::Format::Csv { delimiter }) {
        Ok(reader) => reader
            .columns()
            .map(|c| manifest.check_columns(&input.path, c))
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}
