//! Rows of one input that create the same resource. A `POST` that sends a client-chosen
//! `id` names the resource it creates; when a later row of the same run sends the same
//! `id` to the same step, it is a duplicate of the first row in the input, reported as
//! such ("same `email:1` as row 12") and never sent, instead of being answered 409 and
//! taken for a resource an earlier run created. The real run and the dry run both ask.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::catalog::Method;
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Manifest, StepKind};

/// The `id`s sent so far, per step, with the row that sent each first.
#[derive(Debug, Default)]
pub(super) struct Duplicates {
    /// Per step index: whether the step creates with a client-chosen `id`.
    creates: Vec<bool>,
    /// `(step index, id)` → the first row that sent it, and that row's cells.
    claims: Mutex<HashMap<(usize, String), Claim>>,
}

#[derive(Debug)]
struct Claim {
    row: u64,
    /// The row's non-empty cells, to name the ones a duplicate shares.
    cells: Vec<(String, String)>,
}

/// Most cells named in a duplicate's message.
const NAMED_CELLS: usize = 3;

impl Duplicates {
    pub(super) fn new(manifest: &Manifest) -> Self {
        let creates = manifest
            .steps()
            .iter()
            .map(|step| match &step.kind {
                StepKind::Request(r) => r.method == Method::Post && r.operation.mutates,
                StepKind::Decide(_) => false,
            })
            .collect();
        Duplicates {
            creates,
            claims: Mutex::new(HashMap::new()),
        }
    }

    /// The `id` a write of step `index` creates, when the step creates with a
    /// client-chosen one.
    pub(super) fn id_of(&self, index: usize, body: Option<&Value>) -> Option<String> {
        if !self.creates.get(index).copied().unwrap_or(false) {
            return None;
        }
        body.and_then(|b| b.get("id")).and_then(id_text)
    }

    /// Records that `row` creates `id` at step `index`; a failure when an earlier row of
    /// this input already did.
    pub(super) fn claim(
        &self,
        index: usize,
        step: &str,
        id: &str,
        row: u64,
        values: &Map<String, Value>,
    ) -> Result<(), RowFailure> {
        let mut claims = self.claims.lock().expect("claims");
        let first = claims
            .entry((index, id.to_owned()))
            .or_insert_with(|| Claim {
                row,
                cells: values
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), cell(v)?)))
                    .collect(),
            });
        if first.row == row {
            return Ok(());
        }
        let shared: Vec<String> = first
            .cells
            .iter()
            .filter(|(k, v)| values.get(k).and_then(cell).as_deref() == Some(v.as_str()))
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        let same = match shared.len() {
            0 => "same `id`".to_owned(),
            n if n == first.cells.len() && n == values.len() => "same content".to_owned(),
            n if n > NAMED_CELLS => format!("same {}, …", shared[..NAMED_CELLS].join(", ")),
            _ => format!("same {}", shared.join(", ")),
        };
        Err(RowFailure {
            step: step.to_owned(),
            code: FailureCode::Duplicate,
            detail: format!(
                "{same} as row {}: both create `id` {id} (a duplicate in the input; not sent)",
                first.row
            ),
            span: None,
        })
    }
}

/// An `id` as text: a string, or a number written as one.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A cell as text, `None` when blank.
fn cell(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
