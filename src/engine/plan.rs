//! The dry run: render every row's requests, check them, and record the plan — without
//! sending anything.
//!
//! Rows stream through one at a time (memory stays flat whatever the input size); each
//! gets one results line (`planned`, `skipped` or `failed` with the reason) and each
//! request it would send gets one plan line (JSONL: row, step, method, URL, headers, body).
//! Values only a response could give (captures, lookups without a host) are written as
//! `<unknown …>`. Credentials are never part of a plan line.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::duplicates::{self, Duplicates};
use super::error::ExecError;
use super::render::BaseContext;
use super::steps::{Next, Walk};
use crate::catalog::{Method, RateClass};
use crate::failure::RowFailure;
use crate::manifest::{Manifest, StepKind};
use crate::results::{Columns, ResultKind, ResultsWriter, RowResult};
use crate::source::{Row, RowError};

/// What a dry run needs besides the manifest and rows.
#[derive(Debug, Clone)]
pub(super) struct PlanOptions {
    /// Resolved parameters.
    pub params: BTreeMap<String, String>,
    /// `GLADLY_HOST`, used to show full URLs; paths only when absent.
    pub host: Option<String>,
    /// Where the results CSV goes.
    pub results_path: PathBuf,
    /// Where the plan (JSONL) goes.
    pub plan_path: PathBuf,
}

/// Requests a step would send, by method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepCount {
    /// Step name.
    pub step: String,
    /// HTTP method.
    pub method: Method,
    /// How many requests.
    pub count: u64,
}

/// What the dry run found.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanSummary {
    /// Rows read (malformed ones included).
    pub rows: u64,
    /// Rows per result kind.
    pub by_result: BTreeMap<ResultKind, u64>,
    /// Requests per step and method, in step order.
    pub requests: Vec<StepCount>,
    /// Requests in the reports rate class.
    pub report_requests: u64,
    /// Seconds the real run would take at the manifest's rate limit.
    pub estimate_secs: f64,
    /// The first failed rows, for display: row number, input line and why.
    pub failures: Vec<(u64, u64, RowFailure)>,
}

impl PlanSummary {
    /// Requests in total.
    pub(crate) fn total_requests(&self) -> u64 {
        self.requests.iter().map(|c| c.count).sum()
    }

    /// Rows with the given result.
    pub(crate) fn count(&self, kind: ResultKind) -> u64 {
        self.by_result.get(&kind).copied().unwrap_or(0)
    }
}

/// How many failed rows a summary keeps for display.
const SHOWN_FAILURES: usize = 10;

/// Rows handed to a worker at a time: enough that handing over costs little, small enough
/// that the batches in flight (queued, planned, waiting to be written or freed) stay a
/// few megabytes.
const BATCH: usize = 512;

/// What planning one row produced, before it is merged into the files and the summary.
struct Planned {
    result: RowResult,
    /// The row's plan lines, already serialised.
    plan: Vec<u8>,
    /// Index of each step that would send a request.
    requests: Vec<usize>,
    /// Requests in the reports rate class.
    reports: u64,
    /// Why the row failed, when it did.
    failure: Option<RowFailure>,
    /// The resources the row creates with a client-chosen `id`, checked for duplicates in
    /// input order when the row is written.
    creates: Vec<Create>,
    /// The row as templates saw it, kept when it creates something (a shared value, for a
    /// duplicate's message).
    row: Option<minijinja::Value>,
}

/// A create planned for a row, and what the row had planned before it.
struct Create {
    index: usize,
    id: String,
    plan_len: usize,
    requests_len: usize,
    reports: u64,
}

impl Planned {
    /// Fails the row at its first create that an earlier row already made, dropping that
    /// request and the ones after it from the plan.
    fn check_duplicates(&mut self, manifest: &Manifest, base: &BaseContext, dups: &Duplicates) {
        // Nothing of the row is freed here: the batch goes back to its worker for that.
        let Some((create, conflict)) = self.creates.iter().find_map(|create| {
            dups.claim(create.index, &create.id, self.result.row)
                .err()
                .map(|conflict| (create, conflict))
        }) else {
            return;
        };
        let empty = minijinja::Value::default();
        let row = self.row.as_ref().unwrap_or(&empty);
        let failure = duplicates::failure(manifest, base, create.index, &create.id, &conflict, row);
        self.plan.truncate(create.plan_len);
        self.requests.truncate(create.requests_len);
        self.reports = create.reports;
        failure.apply_to(&mut self.result);
        self.failure = Some(failure);
    }
}

/// Runs the dry run over `rows`, writing the results CSV and the plan file.
///
/// Rows are read on one thread, rendered in batches by one worker per core, and written
/// in input order by the calling thread, so the files are the same as a sequential run's.
pub(super) fn dry_run<I>(
    manifest: &Manifest,
    rows: I,
    options: &PlanOptions,
) -> Result<PlanSummary, ExecError>
where
    I: Iterator<Item = Result<Row, RowError>> + Send,
{
    let captures = capture_columns(manifest);
    let mut results = ResultsWriter::create(
        &options.results_path,
        Columns::new(&manifest.results().columns, &captures),
    )
    .map_err(|e| output_error(&options.results_path, &e))?;
    let mut plan = create_plan(&options.plan_path)?;
    let base = BaseContext::new(manifest, &options.params, None);
    let mut summary = PlanSummary {
        requests: step_counts(manifest),
        ..PlanSummary::default()
    };
    let host = options.host.as_deref().unwrap_or("");
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let duplicates = Duplicates::new(manifest, &options.results_path);
    let creates = &duplicates;
    let mut write = |planned: &mut Planned| -> Result<(), ExecError> {
        planned.check_duplicates(manifest, &base, &duplicates);
        merge(&mut summary, planned);
        plan.write_all(&planned.plan)
            .map_err(|e| output_error(&options.plan_path, &e))?;
        results
            .write_buffered(&planned.result)
            .map_err(|e| output_error(&options.results_path, &e))
    };
    if manifest.input().after.is_some() {
        // Rows wait for one another: planned all at once, as the real run holds them, so
        // a cycle or a row waiting for a rejected one is planned as the run would end it.
        let all: Vec<_> = rows.collect();
        let keyed = keyed_rows(manifest, &base, &all);
        let mut planned = plan_batch(manifest, &base, creates, host, all, workers);
        mark_waits(&mut planned, &keyed);
        planned.iter_mut().try_for_each(&mut write)?;
    } else {
        // Read on one thread, planned by a worker per core, written here in input order
        // while the workers go on with the next batches. A written batch goes back to
        // the worker that planned it to be freed: freed here, it would wait for the
        // allocator's lock while that worker plans.
        std::thread::scope(|scope| {
            let (batches, receive) = std::sync::mpsc::sync_channel::<(u64, Vec<_>)>(workers);
            let (done, finished) =
                std::sync::mpsc::sync_channel::<(u64, usize, Vec<Planned>)>(workers);
            scope.spawn(move || {
                let mut rows = rows;
                for seq in 0.. {
                    let batch: Vec<_> = rows.by_ref().take(BATCH).collect();
                    if batch.is_empty() || batches.send((seq, batch)).is_err() {
                        break;
                    }
                }
            });
            let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
            let mut spent = Vec::new();
            for id in 0..workers {
                let (receive, done) = (std::sync::Arc::clone(&receive), done.clone());
                let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<Planned>>();
                spent.push(spent_tx);
                let base = &base;
                scope.spawn(move || {
                    loop {
                        while let Ok(written) = spent_rx.try_recv() {
                            drop(written);
                        }
                        let next = receive.lock().expect("batch lock").recv();
                        let Ok((seq, batch)) = next else { return };
                        let planned = plan_batch(manifest, base, creates, host, batch, 1);
                        if done.send((seq, id, planned)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done);
            let mut pending = BTreeMap::new();
            let mut next = 0;
            for (seq, id, planned) in finished {
                pending.insert(seq, (id, planned));
                while let Some((id, mut batch)) = pending.remove(&next) {
                    next += 1;
                    batch.iter_mut().try_for_each(&mut write)?;
                    let _ = spent[id].send(batch);
                }
            }
            Ok::<(), ExecError>(())
        })?;
    }
    results
        .flush()
        .map_err(|e| output_error(&options.results_path, &e))?;
    plan.flush()
        .map_err(|e| output_error(&options.plan_path, &e))?;
    summary.estimate_secs = estimate(manifest, &summary);
    Ok(summary)
}

/// Each readable row's number, key and `after`.
fn keyed_rows(
    manifest: &Manifest,
    base: &BaseContext,
    all: &[Result<Row, RowError>],
) -> Vec<(u64, Option<String>, Option<String>)> {
    all.iter()
        .flatten()
        .map(|row| {
            let (key, after) = super::key_and_after(manifest, base, row);
            (row.number, key, after)
        })
        .collect()
}

/// Fails, as the real run would, the rows in an `input.after` cycle and the rows waiting
/// (directly or not) for a row that would not succeed; they send nothing.
fn mark_waits(planned: &mut [Planned], keyed: &[(u64, Option<String>, Option<String>)]) {
    let (parents, cyclic) = super::waits(keyed);
    let index: std::collections::HashMap<u64, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, p)| (p.result.row, i))
        .collect();
    let fail = |planned: &mut Planned, failure: RowFailure| {
        failure.apply_to(&mut planned.result);
        planned.plan.clear();
        planned.requests.clear();
        planned.reports = 0;
        planned.failure = Some(failure);
    };
    for number in &cyclic {
        if let Some(&i) = index.get(number) {
            fail(&mut planned[i], RowFailure::input(super::CYCLE));
        }
    }
    // A failure passes down the chain of waits; each row is decided once (memoised), so
    // a chain of 100,000 rows costs 100,000 steps.
    let mut decided: std::collections::HashMap<u64, bool> = std::collections::HashMap::new();
    let numbers: Vec<u64> = planned.iter().map(|p| p.result.row).collect();
    for number in numbers {
        // Walk up to a row whose fate is known, then settle the walk top-down.
        let mut chain = vec![number];
        let mut ok = loop {
            let at = *chain.last().expect("never empty");
            if let Some(&known) = decided.get(&at) {
                chain.pop();
                break known;
            }
            let Some(&i) = index.get(&at) else {
                break true;
            };
            let own_ok = matches!(
                planned[i].result.result,
                ResultKind::Planned | ResultKind::Skipped
            );
            match parents.get(&at) {
                // Cycles were failed above, so a walk up always ends.
                Some(&parent) if own_ok && !cyclic.contains(&at) => {
                    chain.push(parent);
                }
                _ => {
                    chain.pop();
                    decided.insert(at, own_ok);
                    break own_ok;
                }
            }
        };
        for &at in chain.iter().rev() {
            if !ok
                && let Some(&i) = index.get(&at)
                && planned[i].failure.is_none()
            {
                let parent = parents[&at];
                fail(
                    &mut planned[i],
                    RowFailure::input(super::parent_failed(parent)),
                );
            }
            if let Some(&i) = index.get(&at) {
                ok = planned[i].failure.is_none();
            }
            decided.insert(at, ok);
        }
    }
}

/// Plans a batch on `workers` threads, each taking a contiguous share; returns the rows in
/// input order.
fn plan_batch(
    manifest: &Manifest,
    base: &BaseContext,
    creates: &Duplicates,
    host: &str,
    batch: Vec<Result<Row, RowError>>,
    workers: usize,
) -> Vec<Planned> {
    let plan_one = |item: Result<Row, RowError>| {
        let (number, line) = match &item {
            Ok(row) => (row.number, row.line),
            Err(e) => (e.number, e.line),
        };
        // A bug in one row's rendering fails that row, not the run (nor its other rows).
        let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match item {
            Ok(row) => plan_row(manifest, base, creates, row, host),
            Err(e) => Planned {
                result: RowFailure::unreadable_row(&e),
                plan: Vec::new(),
                requests: Vec::new(),
                reports: 0,
                failure: Some(RowFailure::unreadable(&e)),
                creates: Vec::new(),
                row: None,
            },
        }));
        planned.unwrap_or_else(|panic| {
            let failure = RowFailure::internal(&panic);
            let mut result = RowResult::new(number, line, ResultKind::Failed);
            failure.apply_to(&mut result);
            Planned {
                result,
                plan: Vec::new(),
                requests: Vec::new(),
                reports: 0,
                failure: Some(failure),
                creates: Vec::new(),
                row: None,
            }
        })
    };
    if workers < 2 || batch.len() < 64 {
        return batch.into_iter().map(plan_one).collect();
    }
    let share = batch.len().div_ceil(workers);
    let mut chunks: Vec<Vec<_>> = Vec::new();
    let mut rest = batch.into_iter();
    loop {
        let chunk: Vec<_> = rest.by_ref().take(share).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(|| chunk.into_iter().map(plan_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a planning worker panicked"))
            .collect()
    })
}

fn merge(summary: &mut PlanSummary, planned: &Planned) {
    summary.rows += 1;
    *summary.by_result.entry(planned.result.result).or_default() += 1;
    for &step in &planned.requests {
        summary.requests[step].count += 1;
    }
    summary.report_requests += planned.reports;
    if let Some(failure) = &planned.failure
        && summary.failures.len() < SHOWN_FAILURES
    {
        summary
            .failures
            .push((planned.result.row, planned.result.line, failure.clone()));
    }
}

fn plan_row(
    manifest: &Manifest,
    base: &BaseContext,
    creates: &Duplicates,
    row: Row,
    host: &str,
) -> Planned {
    let mut planned = Planned {
        result: RowResult::new(row.number, row.line, ResultKind::Planned),
        plan: Vec::new(),
        requests: Vec::new(),
        reports: 0,
        failure: None,
        creates: Vec::new(),
        row: None,
    };
    planned.result.keys = key_values(manifest, &row);
    let mut walk = match Walk::begin(manifest, base, row, &mut planned.result, true) {
        Ok(walk) => walk,
        Err(failure) => return failed(planned, failure),
    };
    let mut next = walk.next(&mut planned.result);
    let outcome = loop {
        match next {
            Ok(Next::Send(pending)) => {
                let row = planned.result.row;
                let (step, rendered) = (&pending.step.name, &pending.rendered);
                if let Some(id) = creates.id_of(pending.index, rendered.body.as_ref()) {
                    planned.creates.push(Create {
                        index: pending.index,
                        id,
                        plan_len: planned.plan.len(),
                        requests_len: planned.requests.len(),
                        reports: planned.reports,
                    });
                    if planned.row.is_none() {
                        planned.row = Some(walk.row_value());
                    }
                }
                write_plan_line(&mut planned.plan, row, step, host, rendered, None)
                    .expect("writing to memory cannot fail");
                planned.requests.push(pending.index);
                if pending.request.operation.rate_class == RateClass::Reports {
                    planned.reports += 1;
                }
                next = walk.planned(&pending, &mut planned.result);
            }
            Ok(Next::End | Next::Abort) => break Ok(()),
            Err(failure) => break Err(failure),
        }
    };
    walk.finish(&mut planned.result);
    match outcome {
        Err(failure) => failed(planned, failure),
        Ok(()) => planned,
    }
}

fn failed(mut planned: Planned, failure: RowFailure) -> Planned {
    failure.apply_to(&mut planned.result);
    // Requests of earlier steps stay in the plan: a real run would send them before
    // reaching the step that fails.
    planned.failure = Some(failure);
    planned
}

/// The values of the manifest's key columns for a row.
pub(super) fn key_values(manifest: &Manifest, row: &Row) -> Vec<String> {
    manifest
        .results()
        .columns
        .iter()
        .map(|c| {
            row.values
                .get(c)
                .map(super::render::json_text)
                .unwrap_or_default()
        })
        .collect()
}

/// Captures named with a leading `_` are for later steps and outputs only (a list of
/// items, a whole response): the results CSV leaves them out.
pub(super) fn is_recorded(capture: &str) -> bool {
    !capture.starts_with('_')
}

/// The capture columns of the results CSV: `step.capture` for every recorded capture, in
/// order.
pub(super) fn capture_columns(manifest: &Manifest) -> Vec<String> {
    manifest
        .steps()
        .iter()
        .flat_map(|s| match &s.kind {
            StepKind::Request(r) => r
                .capture
                .iter()
                .filter(|(c, _)| is_recorded(c))
                .map(|(c, _)| format!("{}.{c}", s.name))
                .collect(),
            StepKind::Decide(_) => Vec::new(),
        })
        .collect()
}

pub(super) fn step_counts(manifest: &Manifest) -> Vec<StepCount> {
    manifest
        .steps()
        .iter()
        .map(|s| StepCount {
            step: s.name.clone(),
            method: match &s.kind {
                StepKind::Request(r) => r.method,
                StepKind::Decide(_) => Method::Get,
            },
            count: 0,
        })
        .collect()
}

fn estimate(manifest: &Manifest, summary: &PlanSummary) -> f64 {
    estimate_of(manifest, summary.total_requests(), summary.report_requests)
}

/// Seconds `requests` take at the manifest's rate, `reports` of them at the reports
/// class's rate: the offline and the online dry run both estimate so.
pub(super) fn estimate_of(manifest: &Manifest, requests: u64, reports: u64) -> f64 {
    let default = requests - reports;
    let per_minute = f64::from(RateClass::Reports.per_minute().unwrap_or(10));
    default as f64 / manifest.per_second() + reports as f64 * 60.0 / per_minute
}

/// One line of the plan file.
#[derive(serde::Serialize)]
struct PlanLine<'a> {
    row: u64,
    step: &'a str,
    method: &'a str,
    url: String,
    #[serde(skip_serializing_if = "Headers::is_empty")]
    headers: Headers<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a serde_json::Value>,
    /// Whether the request was really sent (a dry run with a host sends its reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    sent: Option<bool>,
}

/// Request headers written as a JSON object.
struct Headers<'a>(&'a [(String, String)]);

impl Headers<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for Headers<'_> {
    fn serialize<S: serde::Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        out.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

pub(super) fn write_plan_line(
    plan: &mut impl Write,
    row: u64,
    step: &str,
    host: &str,
    request: &super::render::RenderedRequest,
    sent: Option<bool>,
) -> std::io::Result<()> {
    let line = PlanLine {
        row,
        step,
        method: request.method.as_str(),
        url: format!("{host}{}", request.path_and_query),
        headers: Headers(&request.headers),
        body: request.body.as_ref(),
        sent,
    };
    serde_json::to_writer(&mut *plan, &line)?;
    plan.write_all(b"\n")
}

pub(super) fn create_plan(path: &Path) -> Result<BufWriter<File>, ExecError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| output_error(path, &e))?;
    }
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| output_error(path, &e))
}

fn output_error(path: &Path, e: &std::io::Error) -> ExecError {
    ExecError::Output(format!("cannot write `{}`: {e}", path.display()))
}

/// Checks `--set` values against the manifest's params and fills in defaults.
pub(crate) fn resolve_params(
    manifest: &Manifest,
    sets: &[(String, String)],
) -> Result<BTreeMap<String, String>, ExecError> {
    let mut out = BTreeMap::new();
    for (name, value) in sets {
        if !manifest.params().iter().any(|p| &p.name == name) {
            let names: Vec<&str> = manifest.params().iter().map(|p| p.name.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(name, names.iter().copied())
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
            return Err(ExecError::Params(format!(
                "`--set {name}`: the manifest has no param `{name}`{hint}"
            )));
        }
        out.insert(name.clone(), value.clone());
    }
    for param in manifest.params() {
        if out.contains_key(&param.name) {
            continue;
        }
        let Some(default) = &param.default else {
            let meaning = param
                .description
                .as_ref()
                .map(|d| format!(" ({})", d.trim()))
                .unwrap_or_default();
            return Err(ExecError::Params(format!(
                "param `{}`{meaning} is required: add `--set {}=VALUE`",
                param.name, param.name
            )));
        };
        out.insert(param.name.clone(), default.clone());
    }
    Ok(out)
}
