//! Manifests: YAML text in, a validated [`Manifest`] out, with every problem reported at once.
//!
//! `yaml` reads the text into positioned nodes, `decode` fills the `raw` structs (shape
//! errors), and `validate` (with `request`) checks meaning — names, templates, the catalog —
//! and is the only constructor of [`Manifest`]. Nothing here reads input rows or sends
//! requests; [`Manifest::check_columns`] checks a header once the caller has opened the input.

mod decode;
mod error;
mod model;
mod outputs;
pub(crate) mod raw;
mod request;
mod validate;
pub(crate) mod yaml;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Span, did_you_mean};

pub(crate) use error::ManifestError;
pub(crate) use model::{
    Action, Aggregate, ApiSource, Column, ColumnValue, InputFormat, Manifest, Measure, Output,
    OutputFormat, PathPart, Request, Rule, Step, StepKind,
};

/// A manifest that passed validation, with any warnings found on the way.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The validated manifest.
    pub manifest: Manifest,
    /// Problems that do not stop the job.
    pub warnings: Vec<Diagnostic>,
    /// The manifest text (for rendering warnings and later column checks).
    pub text: String,
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub(crate) fn load(path: &Path) -> Result<Loaded, ManifestError> {
        let fail = |message: String| ManifestError::single(path, String::new(), message);
        // Only a regular file: a FIFO would wait for a writer, a device never end.
        let meta =
            std::fs::metadata(path).map_err(|e| fail(format!("cannot read manifest: {e}")))?;
        if !meta.is_file() {
            return Err(fail("the manifest is not a regular file".to_owned()));
        }
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(fail(format!(
                "the manifest is {} bytes, over the limit of {MAX_MANIFEST_BYTES} (1 MiB): \
                 a job is a page of YAML; data belongs in its input file",
                meta.len()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read manifest: {e}")))?;
        let text = text_of(&bytes).map_err(|(span, message)| {
            let mut d = Diagnostic::error(message, span);
            d.label = Some("save the manifest as UTF-8".to_owned());
            // UTF-16 text shown as UTF-8 is noise; Latin-1 shows its line readably enough.
            let shown = if bytes.get(1) == Some(&0)
                || bytes.first() == Some(&0)
                || bytes.starts_with(&[0xFE, 0xFF])
                || bytes.starts_with(&[0xFF, 0xFE])
            {
                String::new()
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            ManifestError::new(path, shown, vec![d])
        })?;
        Manifest::parse(path, &text)
    }

    /// Validates manifest `text` as if read from `path` (relative paths resolve against its
    /// folder).
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Loaded, ManifestError> {
        let root = match yaml::parse(text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(ManifestError::single(
                    path,
                    text.to_owned(),
                    "the manifest is empty",
                ));
            }
            Err(e) => {
                let mut d = Diagnostic::error(format!("invalid YAML: {}", e.message), Some(e.span));
                d.label = yaml::hint(&e.message).map(str::to_owned);
                return Err(ManifestError::new(path, text.to_owned(), vec![d]));
            }
        };
        let mut decoder = decode::Decoder::default();
        let raw = decoder.manifest(&root);
        let mut validator = validate::Validator::new(&raw, path);
        validator.spoiled = std::mem::take(&mut decoder.spoiled);
        let (manifest, validator) = validator.run(path, text);
        let mut diagnostics = decoder.diagnostics;
        diagnostics.extend(validator.diagnostics);
        match manifest {
            Some(mut manifest) if diagnostics.is_empty() => {
                manifest.row_refs = validator.row_refs;
                manifest.require_spans = raw
                    .input
                    .as_ref()
                    .map(|i| {
                        i.require
                            .iter()
                            .map(|r| (r.value.clone(), r.span))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Loaded {
                    manifest,
                    warnings: validator.warnings,
                    text: text.to_owned(),
                })
            }
            _ => Err(ManifestError::new(path, text.to_owned(), diagnostics)),
        }
    }

    /// Checks an input's header against the manifest: required columns must be present and
    /// every `row.NAME` a template reads must be a column. Returns the problems found.
    pub(crate) fn check_columns(&self, file: &Path, header: &[String]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let file = file.display();
        // One header column that splits into wanted columns on another character: the
        // file uses another delimiter than the manifest says.
        if let [only] = header {
            let wanted = |name: &str| {
                self.require_spans.iter().any(|(c, _)| c == name)
                    || self.row_refs.iter().any(|(c, _)| c == name)
            };
            for (delimiter, written) in [(';', ";"), ('\t', "\\t"), ('|', "|"), (',', ",")] {
                if only.contains(delimiter) && only.split(delimiter).any(wanted) {
                    let span = self.require_spans.first().map(|(_, s)| *s);
                    let mut d = Diagnostic::error(
                        format!(
                            "`{file}` looks separated by `{written}`, not by the manifest's \
                             delimiter: its header reads as one column"
                        ),
                        span,
                    );
                    d.notes.push(format!(
                        "set `delimiter: \"{written}\"` under `input` (or pass a file separated \
                         the way the manifest says)"
                    ));
                    return vec![d];
                }
            }
        }
        for (column, span) in &self.require_spans {
            if !header.contains(column) {
                let hint = did_you_mean(column, header.iter().map(String::as_str));
                let mut d = Diagnostic::error(
                    format!("required column `{column}` is not in the header of `{file}`"),
                    Some(*span),
                );
                if let Some(h) = hint {
                    d.label = Some(format!("the file has `{h}`"));
                }
                out.push(d);
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for (column, span) in &self.row_refs {
            if header.contains(column) || seen.contains(&column.as_str()) {
                continue;
            }
            seen.push(column);
            let hint = did_you_mean(column, header.iter().map(String::as_str));
            let mut d = Diagnostic::error(
                format!("`row.{column}` is not a column of `{file}`"),
                Some(*span),
            );
            d.label = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None => format!("columns: {}", header.join(", ")),
            });
            out.push(d);
        }
        out
    }
}

/// The manifest format as a JSON Schema (draft 2020-12), for editors and `runner schema`.
pub(crate) fn json_schema() -> String {
    let schema = schemars::schema_for!(raw::RawManifest);
    let mut value = serde_json::to_value(&schema).expect("a schema serialises");
    drop_null_types(&mut value);
    value["required"] = serde_json::json!(["version", "name", "input"]);
    // A job sends requests (`steps`) or converts rows (`outputs`, `aggregates`).
    value["anyOf"] = serde_json::json!([
        {"required": ["steps"]}, {"required": ["outputs"]}, {"required": ["aggregates"]}
    ]);
    let mut text = serde_json::to_string_pretty(&value).expect("a schema serialises");
    text.push('\n');
    text
}

/// Optional keys are simply absent in a manifest: `null` is not a value worth offering in
/// an editor, so `["string", "null"]` becomes `"string"` and `anyOf [X, null]` becomes X.
fn drop_null_types(value: &mut serde_json::Value) {
    use serde_json::Value;
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

/// The largest manifest read.
pub(crate) const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// The UTF-8 text of a manifest; otherwise where its first byte that is not UTF-8 stands.
fn text_of(bytes: &[u8]) -> Result<String, (Option<Span>, String)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err((
            Some(Span::new(1, 1, 2)),
            "the manifest is UTF-16 text; manifests are UTF-8".to_owned(),
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.split(|b| *b == b'\n').count();
            let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            Err((
                Some(Span::new(line, column, 1)),
                format!(
                    "the manifest is not UTF-8: byte 0x{:02X} at line {line}, column {column} \
                     (Latin-1 or Windows-1252 text?)",
                    bytes[e.valid_up_to()]
                ),
            ))
        }
    }
}

#[cfg(test)]
mod schema_tests {
    use super::{json_schema, yaml};

    fn as_json(text: &str) -> serde_json::Value {
        yaml::parse(text).unwrap().unwrap().to_json()
    }

    /// Every shipped job and valid fixture passes the schema editors are given (read as
    /// YAML 1.2, as the runner reads it: `on` is a key, not `true`).
    #[test]
    fn the_schema_accepts_every_shipped_job_and_valid_fixture() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
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
        assert!(checked >= 20, "only {checked} manifests checked");
    }

    /// Structural mistakes `validate` refuses, the schema refuses too.
    #[test]
    fn the_schema_refuses_structural_mistakes() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let base = "version: 1\nname: x\ninput: { csv: rows.csv }\n";
        for (what, text) in [
            ("no input", "version: 1\nname: x\nsteps: []\n".to_owned()),
            ("nothing to do", base.to_owned()),
            ("unknown top key", format!("{base}steps: []\nstpes: []\n")),
            ("steps not a list", format!("{base}steps: {{ a: 1 }}\n")),
            (
                "unknown step key",
                format!("{base}steps:\n  - name: s\n    reqest: GET /api/v1/agents\n"),
            ),
            (
                "unknown input key",
                "version: 1\nname: x\ninput: { cvs: rows.csv }\nsteps: []\n".to_owned(),
            ),
        ] {
            assert!(
                !validator.is_valid(&as_json(&text)),
                "the schema accepts a manifest with {what}"
            );
        }
    }
}
