//! Rows of one input that create the same resource. A `POST` that sends a client-chosen
//! `id` names the resource it creates; when a later row of the same run sends the same
//! `id` to the same step, it is a duplicate of the first row in the input, reported as
//! such ("same `email:1` as row 12") and never sent, instead of being answered 409 and
//! taken for a resource an earlier run created. The real run and the dry run both ask.
//!
//! Memory is bounded: the first row of each created `id` is kept by its 64-bit hash in
//! [`Claims`], which spills to temporary files past a few megabytes. The columns a message
//! names are found only for a duplicate, from the duplicate row alone: the cells whose
//! blanking changes the `id` it renders.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use minijinja::Value;

use super::claims::{self, Claims};
use super::render::{BaseContext, RowContext};
use crate::catalog::Method;
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Manifest, StepKind};
use crate::template::BodyTemplate;

/// The `id`s created so far, per step, with the row that sent each first.
#[derive(Debug)]
pub(super) struct Duplicates {
    /// Per step index: whether the step creates with a client-chosen `id`.
    creates: Vec<bool>,
    /// Hash of `(step index, id)` → the first row that sent it.
    claims: Mutex<Claims>,
}

/// Why a create may not be sent.
#[derive(Debug)]
pub(super) enum Conflict {
    /// The earlier row, by its number, that creates the same `id`.
    Earlier(u64),
    /// Whether an earlier row did could not be read back from the temporary files.
    Unknown(std::io::Error),
}

/// Most columns named in a duplicate's message.
const NAMED_COLUMNS: usize = 3;

impl Duplicates {
    /// The check for `manifest`'s creates; claims past the memory bound go to temporary
    /// files beside `results` (on the disk the run writes to, not a RAM-backed `/tmp`).
    pub(super) fn new(manifest: &Manifest, results: &Path) -> Self {
        let dir = match results.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let creates = manifest
            .steps()
            .iter()
            .map(|step| match &step.kind {
                StepKind::Request(r) => {
                    r.method == Method::Post && r.operation.mutates && id_template(r).is_some()
                }
                StepKind::Decide(_) => false,
            })
            .collect();
        Duplicates {
            creates,
            claims: Mutex::new(Claims::new(claims::IN_MEMORY, dir)),
        }
    }

    /// The `id` a write of step `index` creates, when the step creates with a
    /// client-chosen one.
    pub(super) fn id_of(&self, index: usize, body: Option<&serde_json::Value>) -> Option<String> {
        if !self.creates.get(index).copied().unwrap_or(false) {
            return None;
        }
        match body?.get("id")? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Records that `row` creates `id` at step `index`; why it may not, when an earlier
    /// row already did or that cannot be told.
    pub(super) fn claim(&self, index: usize, id: &str, row: u64) -> Result<(), Conflict> {
        let key = BuildHasherDefault::<DefaultHasher>::default().hash_one((index, id));
        let first = self
            .claims
            .lock()
            .expect("claims")
            .claim(key, row)
            .map_err(Conflict::Unknown)?;
        if first == row {
            Ok(())
        } else {
            Err(Conflict::Earlier(first))
        }
    }
}

/// The body's `id` template of a request, when it has one.
fn id_template(request: &crate::manifest::Request) -> Option<&BodyTemplate> {
    match request.body.as_ref()? {
        BodyTemplate::Object(fields) => fields
            .iter()
            .find(|(k, _)| k == "id")
            .map(|(_, t)| t)
            .filter(|t| matches!(t, BodyTemplate::Template(_))),
        _ => None,
    }
}

/// The failure of a row whose create at step `index` may not be sent: it repeats an
/// earlier row's `id`, or whether it does cannot be told. `row` is the row's value as
/// templates see it; a duplicate's message names the cells that make the `id`.
pub(super) fn failure(
    manifest: &Manifest,
    base: &BaseContext,
    index: usize,
    id: &str,
    conflict: &Conflict,
    row: &Value,
) -> RowFailure {
    let step = &manifest.steps()[index];
    let first = match conflict {
        Conflict::Earlier(first) => *first,
        Conflict::Unknown(err) => {
            return RowFailure {
                step: step.name.clone(),
                code: FailureCode::Internal,
                detail: format!(
                    "could not check `id` {id} against earlier rows: reading the duplicate \
                     check's temporary file failed: {err} (not sent)"
                ),
                span: None,
            };
        }
    };
    let columns = determinants(manifest, base, index, id, row);
    let same = match columns.len() {
        0 => "same `id`".to_owned(),
        n if n > NAMED_COLUMNS => format!("same {}, …", columns[..NAMED_COLUMNS].join(", ")),
        _ => format!("same {}", columns.join(", ")),
    };
    RowFailure {
        step: step.name.clone(),
        code: FailureCode::Duplicate,
        detail: format!(
            "{same} as row {first}: both create `id` {id} (a duplicate in the input; not sent)"
        ),
        span: None,
    }
}

/// The row's non-empty cells whose blanking changes the `id` step `index` renders, as
/// `` `column` ``. Cells read only through captures of earlier steps are not found.
fn determinants(
    manifest: &Manifest,
    base: &BaseContext,
    index: usize,
    id: &str,
    row: &Value,
) -> Vec<String> {
    let Some(values) = crate::template::json_map_of(row) else {
        return Vec::new();
    };
    let StepKind::Request(request) = &manifest.steps()[index].kind else {
        return Vec::new();
    };
    let Some(template) = id_template(request) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (column, value) in values {
        if value.as_str().is_some_and(|s| s.trim().is_empty()) || value.is_null() {
            continue;
        }
        let mut blanked = values.clone();
        blanked.insert(column.clone(), serde_json::Value::String(String::new()));
        let mut ctx = RowContext::new(base, blanked);
        if ctx.eval_vars(manifest).is_err() {
            // The id cannot be made without this cell: it makes the id.
            out.push(format!("`{column}`"));
            continue;
        }
        let same = match template.render(&ctx.value()) {
            Ok(Some(serde_json::Value::String(s))) => s == id,
            Ok(Some(serde_json::Value::Number(n))) => n.to_string() == id,
            _ => false,
        };
        if !same {
            out.push(format!("`{column}`"));
        }
    }
    out
}
