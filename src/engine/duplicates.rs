//! Rows of one input that create the same resource. A `POST` that sends a client-chosen
//! `id` names the resource it creates; when a later row of the same run sends the same
//! `id` to the same step, it is a duplicate of the first row in the input, reported as
//! such ("same `email:1` as row 12") and never sent, instead of being answered 409 and
//! taken for a resource an earlier run created. The real run and the dry run both ask.
//!
//! Memory is one 64-bit hash and one row number per created `id`. The columns a message
//! names are found only for a duplicate, from the duplicate row alone: the cells whose
//! blanking changes the `id` it renders.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Mutex;

use minijinja::Value;

use super::render::{BaseContext, RowContext};
use crate::catalog::Method;
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Manifest, StepKind};
use crate::template::BodyTemplate;

/// The `id`s created so far, per step, with the row that sent each first.
#[derive(Debug, Default)]
pub(super) struct Duplicates {
    /// Per step index: whether the step creates with a client-chosen `id`.
    creates: Vec<bool>,
    /// Hash of `(step index, id)` → the first row that sent it: 12 bytes a claim, a
    /// million creates in under 30 MB.
    claims: Mutex<Claims>,
}

#[derive(Debug, Default)]
struct Claims {
    /// The row, or `u32::MAX` for a row past it (then in `far`); in [`SHARDS`] tables by
    /// the hash's top byte, so that growing one copies a small table, not all claims
    /// (one table would briefly need half as much again as it holds).
    near: Vec<HashMap<[u32; 2], u32, BuildHasherDefault<Prehashed>>>,
    far: HashMap<[u32; 2], u64, BuildHasherDefault<Prehashed>>,
}

const SHARDS: usize = 256;

/// Keys are hashes already: taken as they are instead of being hashed again.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_usize(&mut self, _length_prefix: usize) {}
}

/// Most columns named in a duplicate's message.
const NAMED_COLUMNS: usize = 3;

impl Duplicates {
    pub(super) fn new(manifest: &Manifest) -> Self {
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
            claims: Mutex::default(),
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

    /// Records that `row` creates `id` at step `index`; the earlier row that already did,
    /// if one did.
    pub(super) fn claim(&self, index: usize, id: &str, row: u64) -> Result<(), u64> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one((index, id));
        #[allow(clippy::cast_possible_truncation)] // the two halves of the hash
        let key = [hash as u32, (hash >> 32) as u32];
        let mut claims = self.claims.lock().expect("claims");
        if claims.near.is_empty() {
            claims.near.resize_with(SHARDS, HashMap::default);
        }
        let near = u32::try_from(row).unwrap_or(u32::MAX);
        let shard = usize::try_from(hash >> 56).unwrap_or_default();
        let first = match *claims.near[shard].entry(key).or_insert(near) {
            u32::MAX => *claims.far.entry(key).or_insert(row),
            first => u64::from(first),
        };
        if first == row { Ok(()) } else { Err(first) }
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

/// The failure of a row whose create at step `index` repeats row `first`'s `id`. `row` is
/// the row's value as templates see it; the message names the cells that make the `id`.
pub(super) fn failure(
    manifest: &Manifest,
    base: &BaseContext,
    index: usize,
    id: &str,
    first: u64,
    row: &Value,
) -> RowFailure {
    let step = &manifest.steps()[index];
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
