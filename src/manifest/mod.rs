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
mod schema;
mod validate;
pub(crate) mod yaml;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Span, did_you_mean};

pub(crate) use error::ManifestError;
pub(crate) use model::{
    Action, Aggregate, ApiSource, Column, ColumnValue, InputFormat, Manifest, Measure, Output,
    OutputFormat, PathPart, Request, Rule, Step, StepKind,
};
pub(crate) use schema::json_schema;

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
