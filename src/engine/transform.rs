//! Jobs without steps (exports and reports): every row goes straight to the outputs and
//! aggregates, on every core.
//!
//! A reader thread cuts the rows into batches; worker threads turn each batch into
//! formatted records and aggregate facts; this thread writes them in input order and folds
//! the facts. Nothing is sent per row, so there is no limiter and no results line per row:
//! the results CSV lists only the rows that could not be converted, with their reason.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::error::ExecError;
use super::event::{Event, Listener, RunSummary, Stop};
use super::plan::key_values;
use super::render::{BaseContext, RowContext};
use super::run::StopHandle;
use super::steps::check_required;
use crate::failure::RowFailure;
use crate::manifest::Manifest;
use crate::output::{Emitted, Emitter, Sinks};
use crate::results::{Columns, ResultKind, ResultsWriter, RowResult};
use crate::source::{Packed, Parsed, PartialRow, Projection, Row, RowError, RowErrorKind};
use crate::template::RowRef;

/// Rows per batch handed to a worker ([`crate::source::RowReader::packed`]): large enough
/// that handing batches over costs little, small enough that the batches in flight (two
/// queued per side) keep a run of wide rows within a few megabytes.
pub(super) const BATCH_ROWS: usize = 1024;

/// A converted batch: its records and facts, and the rows that failed.
#[derive(Default)]
struct Converted {
    /// The worker that made it, which also frees it (see [`worker`]).
    worker: usize,
    rows: u64,
    emitted: Emitted,
    failed: Vec<RowResult>,
    /// The input could not be read past this batch (a download that broke off).
    broken: Option<String>,
}

/// Converts every row of `batches` into the manifest's outputs and aggregates.
///
/// # Errors
/// When an output or the results file cannot be written, or an output cannot be resolved.
pub(super) fn transform<I>(
    manifest: &Arc<Manifest>,
    batches: I,
    base: &BaseContext,
    input_columns: Option<&[String]>,
    results_path: &Path,
    listener: &dyn Listener,
    stop: &StopHandle,
) -> Result<RunSummary, ExecError>
where
    I: Iterator<Item = Packed> + Send,
{
    let started = Instant::now();
    let base_value = RowContext::new(base, serde_json::Map::new()).value();
    let emitter = Emitter::new(Arc::clone(manifest), &base_value, input_columns)
        .map_err(ExecError::Output)?;
    let mut sinks = Sinks::create(&emitter).map_err(ExecError::Output)?;
    let keys = &manifest.results().columns;
    let mut results =
        ResultsWriter::create(results_path, Columns::new(keys, &[])).map_err(|e| {
            ExecError::Output(format!("cannot write `{}`: {e}", results_path.display()))
        })?;
    let output = |e: std::io::Error| {
        ExecError::Output(format!("cannot write `{}`: {e}", results_path.display()))
    };
    let projection = projection(manifest, &emitter);
    let projection = projection.as_ref();
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let mut summary = RunSummary::default();
    listener.event(&Event::Started { total: None });
    std::thread::scope(|scope| -> Result<(), ExecError> {
        let (batch_tx, batch_rx) = sync_channel::<(u64, Packed)>(workers);
        let (done_tx, done_rx) = sync_channel::<(u64, Converted)>(workers);
        scope.spawn(move || {
            for (seq, batch) in (0..).zip(batches) {
                if stop.is_stopping() || batch_tx.send((seq, batch)).is_err() {
                    return;
                }
            }
        });
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let mut spent = Vec::new();
        for id in 0..workers {
            let rx = Arc::clone(&batch_rx);
            let tx = done_tx.clone();
            let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Emitted>();
            spent.push(spent_tx);
            let emitter = &emitter;
            scope.spawn(move || {
                let channels = Channels {
                    id,
                    rx: &rx,
                    tx: &tx,
                    spent: &spent_rx,
                };
                worker(&channels, manifest, base, emitter, projection);
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, Converted> = BTreeMap::new();
        let mut next = 0;
        let mut last_flush = Instant::now();
        for (seq, converted) in done_rx {
            pending.insert(seq, converted);
            while let Some(batch) = pending.remove(&next) {
                next += 1;
                sinks
                    .write(&batch.emitted, &emitter)
                    .map_err(ExecError::Output)?;
                // Freed by the worker that allocated it: a free from this thread would
                // wait for the allocator's lock while that worker allocates.
                let _ = spent[batch.worker].send(batch.emitted);
                summary.rows += batch.rows;
                let failed = batch.failed.len() as u64;
                *summary.by_result.entry(ResultKind::Done).or_default() += batch.rows - failed;
                for result in batch.failed {
                    results.write(&result).map_err(output)?;
                    if summary.failures.len() < 20 {
                        let what = if result.step.is_empty() {
                            result.detail.clone()
                        } else {
                            format!("{}: {}", result.step, result.detail)
                        };
                        summary.failures.push((result.row, result.line, what));
                    }
                    *summary.by_result.entry(result.result).or_default() += 1;
                    listener.event(&Event::RowFinished {
                        row: result.row,
                        result: result.result,
                        outcome: result.outcome.clone(),
                    });
                }
                listener.event(&Event::RowsConverted { rows: summary.rows });
                if let Some(why) = batch.broken {
                    stop.stop(Stop::Fatal(format!(
                        "the input could not be read to its end ({why}); the files hold the \
                         rows before it"
                    )));
                }
            }
            if last_flush.elapsed().as_millis() > 500 {
                sinks.flush().map_err(ExecError::Output)?;
                last_flush = Instant::now();
            }
        }
        Ok(())
    })?;
    let done = summary.count(ResultKind::Done);
    if done > 0 {
        summary.by_outcome.insert("done".into(), done);
    }
    for kind in ResultKind::ALL.into_iter().filter(|k| k.is_failure()) {
        let n = summary.count(kind);
        if n > 0 {
            summary.by_outcome.insert(kind.as_str().into(), n);
        }
    }
    // Aggregates over part of the rows would look complete: a stopped run leaves them out.
    let stopped = stop.reason().is_some();
    let written = sinks
        .finish(&emitter, !stopped)
        .map_err(ExecError::Output)?;
    results.flush().map_err(output)?;
    summary.elapsed = started.elapsed();
    summary.results_path = results_path.to_path_buf();
    summary.stop = stop.reason();
    summary.written = written.into_iter().map(|w| (w.path, w.records)).collect();
    summary.export = true;
    Ok(summary)
}

/// What of each JSON row the run reads, when that is known before reading: the outputs'
/// and aggregates' paths. Runs with key or required columns, or `vars`, read whole rows.
fn projection(manifest: &Manifest, emitter: &Emitter) -> Option<Arc<Projection>> {
    if !manifest.vars().is_empty()
        || !manifest.results().columns.is_empty()
        || !manifest.input().require.is_empty()
    {
        return None;
    }
    let paths = emitter.row_paths()?;
    let projection = Projection::new(&paths);
    tracing::debug!(?paths, "rows read in part");
    (!projection.is_whole()).then(|| Arc::new(projection))
}

/// A worker's channels: batches in, converted batches out, and its spent batches back.
struct Channels<'a> {
    id: usize,
    rx: &'a Mutex<Receiver<(u64, Packed)>>,
    tx: &'a std::sync::mpsc::SyncSender<(u64, Converted)>,
    spent: &'a Receiver<Emitted>,
}

fn worker(
    channels: &Channels<'_>,
    manifest: &Manifest,
    base: &BaseContext,
    emitter: &Emitter,
    projection: Option<&Arc<Projection>>,
) {
    let Channels { id, rx, tx, spent } = *channels;
    let shared = base.shared();
    let scope = Scope {
        manifest,
        base,
        shared: &shared,
        emitter,
    };
    loop {
        // The batches written since the last one, freed here where they were made.
        while let Ok(done) = spent.try_recv() {
            drop(done);
        }
        let next = rx.lock().expect("batch lock").recv();
        let Ok((seq, batch)) = next else { return };
        let mut converted = Converted {
            worker: id,
            ..Converted::default()
        };
        let mut take = |item: Result<Parsed, RowError>| {
            converted.rows += 1;
            if let Err(e) = &item
                && matches!(e.kind, RowErrorKind::Io(_))
            {
                converted.broken = Some(e.to_string());
            }
            let done = match item {
                Ok(Parsed::Partial(row)) => convert_partial(&scope, row, &mut converted.emitted),
                Ok(Parsed::Full(row)) => convert(&scope, Ok(row), &mut converted.emitted),
                Err(e) => convert(&scope, Err(e), &mut converted.emitted),
            };
            if let Err(failed) = done {
                converted.failed.push(*failed);
            }
        };
        match projection {
            Some(p) => batch.rows_partial(p).for_each(&mut take),
            None => batch.rows().for_each(|item| take(item.map(Parsed::Full))),
        }
        if tx.send((seq, converted)).is_err() {
            return;
        }
    }
}

/// What a worker needs for every row.
struct Scope<'a> {
    manifest: &'a Manifest,
    base: &'a BaseContext,
    shared: &'a Arc<BTreeMap<String, minijinja::Value>>,
    emitter: &'a Emitter,
}

/// [`convert`] for a row read in part. Native evaluation reads its slots; should a
/// template need the engine, the row is parsed whole for it then ([`PartialScope`]).
fn convert_partial(
    scope: &Scope<'_>,
    row: PartialRow,
    out: &mut Emitted,
) -> Result<(), Box<RowResult>> {
    let Scope {
        shared, emitter, ..
    } = *scope;
    let (number, line) = (row.number, row.line);
    let fail = |failure: RowFailure| {
        let mut result = RowResult::new(number, line, ResultKind::Rejected);
        failure.apply_to(&mut result);
        Box::new(result)
    };
    if !emitter.needs_context() {
        return emitter
            .emit_into(&minijinja::Value::UNDEFINED, RowRef::Partial(&row), out)
            .map_err(fail);
    }
    let ctx = minijinja::Value::from_object(PartialScope {
        base: Arc::clone(shared),
        row,
        full: std::sync::OnceLock::new(),
    });
    let scope = ctx
        .downcast_object_ref::<PartialScope>()
        .expect("made just above");
    emitter
        .emit_into(&ctx, RowRef::Partial(&scope.row), out)
        .map_err(fail)
}

/// The template context of a row read in part: the shared entries, and `row`, made
/// whole from the row's line the first time a template reads it (native evaluation reads
/// the row's slots and seldom needs it).
#[derive(Debug)]
struct PartialScope {
    base: Arc<BTreeMap<String, minijinja::Value>>,
    row: PartialRow,
    full: std::sync::OnceLock<minijinja::Value>,
}

impl PartialScope {
    fn full(&self) -> &minijinja::Value {
        self.full.get_or_init(|| {
            use crate::template::Partial as _;
            crate::template::from_json_map(self.row.to_map())
        })
    }
}

impl minijinja::value::Object for PartialScope {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        match key.as_str()? {
            "row" => Some(self.full().clone()),
            name => self.base.get(name).cloned(),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::ObjectExt as _;
        self.mapped_enumerator(|this| {
            Box::new(
                std::iter::once(minijinja::Value::from("row"))
                    .chain(this.base.keys().map(|k| minijinja::Value::from(k.as_str()))),
            )
        })
    }
}

/// Appends one row's records to `out`, or returns the results line saying why it could
/// not be converted.
fn convert(
    scope: &Scope<'_>,
    item: Result<Row, RowError>,
    out: &mut Emitted,
) -> Result<(), Box<RowResult>> {
    let Scope {
        manifest,
        base,
        shared,
        emitter,
    } = *scope;
    let row = item.map_err(|e| Box::new(RowFailure::unreadable_row(&e)))?;
    let (number, line) = (row.number, row.line);
    let keys = key_values(manifest, &row);
    let fail = |failure: RowFailure| {
        let mut result = RowResult::new(number, line, ResultKind::Rejected);
        result.keys.clone_from(&keys);
        failure.apply_to(&mut result);
        Box::new(result)
    };
    check_required(manifest, &row).map_err(fail)?;
    if !manifest.vars().is_empty() {
        let mut ctx = RowContext::new(base, row.values);
        ctx.eval_vars(manifest).map_err(fail)?;
        return emitter
            .emit_into(&ctx.value(), RowRef::Map(ctx.row_map()), out)
            .map_err(fail);
    }
    let row = crate::template::from_json_map(row.values);
    let map = crate::template::json_map_of(&row).expect("made from a map");
    if !emitter.needs_context() {
        return emitter
            .emit_into(&minijinja::Value::UNDEFINED, RowRef::Map(map), out)
            .map_err(fail);
    }
    let ctx = BaseContext::row_scope(shared, row.clone());
    emitter.emit_into(&ctx, RowRef::Map(map), out).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::template::Template;

    /// The template engine, taking over a row read in part, sees the whole row: values
    /// at paths that were not read, and the row's own key order.
    #[test]
    fn the_engine_sees_a_partial_row_whole() {
        let line = br#"{"type":"A","n":3,"content":{"agentId":"a1","skipped":{"deep":[1,2]}}}"#;
        let projection = Arc::new(Projection::new(&[vec!["type".to_owned()]]));
        let slots = projection.parse_slots(line).unwrap().unwrap();
        let text = (Arc::new(line.to_vec()), 0..line.len());
        let row = PartialRow::new(1, 1, projection, slots, text);
        let base = BTreeMap::from([("params".to_owned(), minijinja::Value::from(7))]);
        let ctx = minijinja::Value::from_object(PartialScope {
            base: Arc::new(base),
            row,
            full: std::sync::OnceLock::new(),
        });
        let eval = |src: &str| {
            let t = Template::compile(src, Span::new(1, 1, 1)).unwrap();
            crate::template::to_json(&t.eval(&ctx).unwrap())
        };
        assert_eq!(eval("{{ row.n == 3 and row.type }}"), "A");
        assert_eq!(eval("{{ row.content.skipped.deep[1] }}"), 2);
        assert_eq!(
            eval("{{ row | list }}"),
            serde_json::json!(["type", "n", "content"])
        );
        assert_eq!(eval("{{ row.missing is undefined }}"), true);
        assert_eq!(eval("{{ params }}"), 7);
    }
}
