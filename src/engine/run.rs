//! The real run: every row's steps against a Gladly org, under one rate limiter, with
//! retries, ordering rules and results written in input order as rows finish.
//!
//! Rows are read on a blocking thread and dispatched in input order; each row runs in its
//! own task once the rows it depends on are done (same `key`: one after another; `after`:
//! the row whose key it names) and a concurrency slot is free. Finished rows go to one
//! writer that keeps input order and flushes every line, so a crash leaves every finished
//! row recorded. A dispatch window bounds how far ahead rows may run, so memory stays flat
//! whatever the input size. With `dry_run`, lookups and GET steps are sent for real and
//! writes are only planned.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use minijinja::Value;
use tokio::sync::{Semaphore, mpsc, watch};

use super::client::{Client, Response, SendError};
use super::duplicates::Duplicates;
use super::error::ExecError;
use super::event::{Event, Listener, RunSummary, Stop};
use super::limiter::Limiter;
use super::plan::{capture_columns, create_plan, key_values, write_plan_line};
use super::render::{BaseContext, RenderedRequest, RowContext};
use super::send::{
    self, Answer, Outgoing, Read, Verdict, Watch, gladly_error, has_client_id, is_id_taken,
    safe_request,
};
use super::steps::{Next, Pending, Walk};
use crate::catalog::Method;
use crate::catalog::RateClass;
use crate::failure::{FailureCode, RowFailure};
use crate::manifest::{Manifest, Step};
use crate::output::{Emitted, Emitter, Sinks};
use crate::policy::retry::{Attempt, RetryPolicy};
use crate::results::ledger::{Continue, Journal, Pick, Recorded};
use crate::results::{Columns, ResultKind, ResultsWriter, RowResult, escape_cell};
use crate::source::{Row, RowError};
use crate::template;

/// How to run.
#[derive(Debug, Clone)]
pub(super) struct RunOptions {
    /// Resolved parameters.
    pub params: BTreeMap<String, String>,
    /// The ledger (a real run, opened by [`crate::results::ledger::open`]) or the plan's
    /// row table (a dry run).
    pub results_path: PathBuf,
    /// Dry run: send lookups and GET steps, plan the writes into this file.
    pub plan_path: Option<PathBuf>,
    /// Retry and backoff rules.
    pub retry: RetryPolicy,
    /// A continued run (`--resume`, `--only-failed`): what the ledger recorded and which
    /// rows run again.
    pub continued: Option<Continued>,
    /// How many rows this run will take, when known (for progress).
    pub total: Option<u64>,
    /// The CSV input's columns (for outputs that copy them all, `*`).
    pub input_columns: Option<Vec<String>>,
    /// Lookup tables already fetched (before opening an input streamed from the API, so
    /// its download never waits on them); `None` fetches them at the start of the run.
    pub lookups: Option<Value>,
}

impl RunOptions {
    /// A fresh run (no resume, no dry run) with the default retry policy.
    pub(super) fn new(params: BTreeMap<String, String>, results_path: PathBuf) -> Self {
        RunOptions {
            params,
            results_path,
            plan_path: None,
            retry: RetryPolicy::default(),
            continued: None,
            total: None,
            input_columns: None,
            lookups: None,
        }
    }
}

/// What an earlier run recorded and how this run continues it.
#[derive(Debug)]
pub(crate) struct Continued {
    /// The ledger's rows.
    pub recorded: Arc<Recorded>,
    /// `--resume` or `--only-failed`.
    pub how: Continue,
    /// `--retry-unknown`: send again the writes whose outcome is unknown.
    pub retry_unknown: bool,
}

impl Clone for Continued {
    fn clone(&self) -> Self {
        Continued {
            recorded: Arc::clone(&self.recorded),
            how: self.how,
            retry_unknown: self.retry_unknown,
        }
    }
}

/// Rows in a row of transit failures (after retries) that mean the API is down.
const OUTAGE_ROWS: u32 = 3;
/// Time without a single answer below 500 (while requests fail) that means the same.
const OUTAGE_SILENCE: Duration = Duration::from_secs(120);

/// Whether the API answers: rows that failed in transit one after another, and when an
/// answer last came.
#[derive(Debug)]
struct Health {
    transit_rows: u32,
    last_answer: Instant,
}

/// Asks a running job to stop taking rows (Ctrl-C); in-flight rows finish and are recorded.
#[derive(Debug, Default)]
pub(crate) struct StopHandle {
    stopping: AtomicBool,
    reason: Mutex<Option<Stop>>,
}

impl StopHandle {
    /// Stops taking new rows for `reason` (the first reason given wins).
    pub(crate) fn stop(&self, reason: Stop) {
        let mut slot = self.reason.lock().expect("stop lock");
        if slot.is_none() {
            *slot = Some(reason);
        }
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// True once a stop was asked for.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// True when not even in-flight rows may send again (credentials refused, the ledger
    /// cannot be written, the API is down); an interrupt or abort lets them finish.
    pub(crate) fn halts_sending(&self) -> bool {
        self.is_stopping()
            && matches!(
                self.reason(),
                Some(Stop::Fatal(_) | Stop::Ledger(_) | Stop::Outage(_))
            )
    }

    /// Why the run was told to stop, if it was.
    pub(crate) fn reason(&self) -> Option<Stop> {
        self.reason.lock().expect("stop lock").clone()
    }
}

/// Counters shared by all rows.
#[derive(Debug, Default)]
struct Stats {
    /// Rows left out of a continued run, per the class the ledger records.
    left: Mutex<BTreeMap<ResultKind, u64>>,
    /// Rows `--only-failed` did not run because the ledger does not know them.
    not_in_ledger: Mutex<Vec<u64>>,
    requests: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    /// A dry run's requests per step index (sent reads and planned writes alike), and
    /// how many of them are in the reports rate class.
    planned: Mutex<Vec<u64>>,
    planned_reports: AtomicU64,
}

/// Everything a row task needs, shared.
struct Shared {
    manifest: Arc<Manifest>,
    client: Client,
    limiter: Limiter,
    base: BaseContext,
    options: RunOptions,
    listener: Arc<dyn Listener>,
    stop: Arc<StopHandle>,
    stats: Stats,
    slots: Arc<Semaphore>,
    /// Formats the records of the job's outputs and aggregates.
    emitter: Option<Arc<Emitter>>,
    /// The write-ahead journal of a real run (none for a dry run).
    journal: Option<Journal>,
    /// The results' column layout (for journal lines).
    columns: Columns,
    /// Whether the API still answers.
    health: Mutex<Health>,
    /// The resources created so far with a client-chosen `id`, to report duplicates.
    duplicates: Duplicates,
}

/// A row's finished record plus its plan lines (dry run), tagged with its dispatch order.
struct Finished {
    seq: u64,
    result: RowResult,
    plan: Vec<u8>,
    /// The row's place in the dispatch window, given back once its line is written.
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// The row's output records and aggregate facts.
    emitted: Option<Emitted>,
}

impl Finished {
    fn of(result: RowResult) -> Self {
        Finished {
            seq: 0,
            result,
            plan: Vec::new(),
            permit: None,
            emitted: None,
        }
    }
}

/// A row's place in the ledger: its key and content fingerprint (cells as written).
#[derive(Debug, Clone, Default)]
struct Identity {
    key: String,
    fingerprint: String,
    /// The key columns' values, for a row whose task died before it could say.
    keys: Vec<String>,
}

/// What one row's walk did that the ledger must know when it ends.
#[derive(Debug, Default)]
struct Sent {
    /// An intent was journaled: the row's outcome goes to the journal too.
    journaled: bool,
    /// The step of a write not safe to repeat that was applied (a later stop or failure
    /// must not make the row look untouched, nor let it be sent again by accident).
    unsafe_applied: Option<String>,
    /// Any write was applied.
    applied: bool,
}

/// Whether a row finished well enough for rows that wait on it (`after`).
type DoneSignal = watch::Sender<Option<bool>>;
type DoneWait = watch::Receiver<Option<bool>>;
/// A row to wait for, and when it must have succeeded, why this row fails if it did not.
type Wait = (DoneWait, Option<String>);

/// Runs `manifest` over `rows` against `client`.
pub(super) async fn run<I>(
    manifest: Arc<Manifest>,
    rows: I,
    client: Client,
    options: RunOptions,
    listener: Arc<dyn Listener>,
    stop: Arc<StopHandle>,
) -> Result<RunSummary, ExecError>
where
    I: Iterator<Item = Result<Row, RowError>> + Send + 'static,
{
    let started = Instant::now();
    let limiter = Limiter::new(manifest.per_second());
    let tables = match options.lookups.clone() {
        Some(tables) => tables,
        None => fetch_lookups(&manifest, &client, &limiter, &options, &stop).await?,
    };
    let writer = open_writer(&manifest, &options)?;
    let columns = writer.columns().clone();
    let journal = if options.plan_path.is_some() {
        None
    } else {
        Some(Journal::open(&options.results_path).map_err(|e| {
            ExecError::Output(format!(
                "cannot write the journal of `{}`: {e}",
                options.results_path.display()
            ))
        })?)
    };
    let plan_file = match &options.plan_path {
        Some(path) => Some(create_plan(path)?),
        None => None,
    };
    let base = BaseContext::new(&manifest, &options.params, Some(tables));
    // A dry run writes no data files: its records would hold placeholders, not data.
    let no_files = manifest.outputs().is_empty() && manifest.aggregates().is_empty();
    let (emitter, sinks) = if no_files || options.plan_path.is_some() {
        (None, None)
    } else {
        let base_value = RowContext::new(&base, serde_json::Map::new()).value();
        let emitter = Emitter::new(
            Arc::clone(&manifest),
            &base_value,
            options.input_columns.as_deref(),
        )
        .map_err(ExecError::Output)?;
        let sinks = Sinks::create(&emitter).map_err(ExecError::Output)?;
        (Some(Arc::new(emitter)), Some(sinks))
    };
    let duplicates = Duplicates::new(&manifest, &options.results_path);
    let shared = Arc::new(Shared {
        emitter: emitter.clone(),
        base,
        slots: Arc::new(Semaphore::new(manifest.concurrency())),
        manifest,
        client,
        limiter,
        options,
        listener,
        stop,
        stats: Stats::default(),
        journal,
        columns,
        health: Mutex::new(Health {
            transit_rows: 0,
            last_answer: Instant::now(),
        }),
        duplicates,
    });
    shared.listener.event(&Event::Started {
        total: shared.options.total,
    });
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Finished>();
    let window = Arc::new(Semaphore::new(window_size(&shared.manifest)));
    let write_task = tokio::spawn(write_results(
        done_rx,
        writer,
        plan_file,
        Arc::clone(&shared.listener),
        emitter.zip(sinks),
        Arc::clone(&shared.stop),
    ));
    dispatch(&shared, rows, &done_tx, &window).await?;
    drop(done_tx);
    let mut summary = write_task
        .await
        .map_err(|e| ExecError::Output(format!("the results writer stopped: {e}")))??;
    summary.left = std::mem::take(&mut *shared.stats.left.lock().expect("stats"));
    summary.resumed = summary.left.values().sum();
    summary.not_in_ledger = std::mem::take(&mut *shared.stats.not_in_ledger.lock().expect("stats"));
    summary.requests = shared.stats.requests.load(Ordering::Relaxed);
    summary.throttled = shared.stats.throttled.load(Ordering::Relaxed);
    summary.retries = shared.stats.retries.load(Ordering::Relaxed);
    if shared.options.plan_path.is_some() {
        let planned = shared.stats.planned.lock().expect("stats");
        let mut counts = super::plan::step_counts(&shared.manifest);
        for (count, n) in counts.iter_mut().zip(planned.iter()) {
            count.count = *n;
        }
        let total = counts.iter().map(|c| c.count).sum();
        let reports = shared.stats.planned_reports.load(Ordering::Relaxed);
        summary.estimate_secs = super::plan::estimate_of(&shared.manifest, total, reports);
        summary.plan_requests = counts;
        summary.per_second = shared.manifest.per_second();
    }
    summary.elapsed = started.elapsed();
    summary
        .results_path
        .clone_from(&shared.options.results_path);
    summary.plan_path.clone_from(&shared.options.plan_path);
    summary.stop = shared.stop.reason();
    Ok(summary)
}

/// How many rows may be dispatched ahead of the oldest unwritten one. Jobs with `after`
/// hold all their rows anyway, and a row may wait for any later one.
fn window_size(manifest: &Manifest) -> usize {
    if manifest.input().after.is_some() {
        Semaphore::MAX_PERMITS
    } else {
        manifest.concurrency() * 16 + 256
    }
}

/// Reads rows in input order and starts a task per row; a continued run leaves out the
/// rows its ledger says are not to run.
async fn dispatch<I>(
    shared: &Arc<Shared>,
    rows: I,
    done_tx: &mpsc::UnboundedSender<Finished>,
    window: &Arc<Semaphore>,
) -> Result<(), ExecError>
where
    I: Iterator<Item = Result<Row, RowError>> + Send + 'static,
{
    let mut source = spawn_reader(rows);
    // Jobs with `after` may depend on a later row, so their rows are read first (these
    // are small reference files such as topic trees); everything else streams.
    let mut graph = if shared.manifest.input().after.is_some() {
        let mut all = Vec::new();
        while let Some(item) = source.recv().await {
            all.push(item);
        }
        Some(Graph::new(shared, all))
    } else {
        None
    };
    let mut last_of_key: HashMap<String, DoneWait> = HashMap::new();
    // 64-bit content hashes, counted: about 20 bytes per row of the input.
    let mut seen: HashMap<u64, u32> = HashMap::new();
    let mut seq = 0;
    loop {
        let item = match &mut graph {
            Some(g) => g.rows.next(),
            None => source.recv().await,
        };
        let Some(item) = item else { break };
        if shared.stop.is_stopping() {
            break;
        }
        let number = match &item {
            Ok(row) => row.number,
            Err(e) => e.number,
        };
        let identity = if shared.journal.is_some() {
            identify(shared, &item, &mut seen)
        } else {
            Identity::default()
        };
        if let Some(continued) = &shared.options.continued {
            let pick = continued.recorded.pick(
                &identity.key,
                &identity.fingerprint,
                continued.how,
                continued.retry_unknown,
            );
            match pick {
                Pick::Run => {}
                Pick::Replace(old) => {
                    // The corrected row's line replaces the old one when the ledger is
                    // compacted.
                    if let Some(journal) = &shared.journal
                        && let Err(e) = journal.drop_line(old)
                    {
                        shared.stop.stop(Stop::Ledger(format!(
                            "cannot write `{}`: {e}",
                            journal.path().display()
                        )));
                        break;
                    }
                }
                Pick::Leave(kind) => {
                    *shared
                        .stats
                        .left
                        .lock()
                        .expect("stats")
                        .entry(kind)
                        .or_default() += 1;
                    continue;
                }
                Pick::NotInLedger => {
                    shared
                        .stats
                        .not_in_ledger
                        .lock()
                        .expect("stats")
                        .push(number);
                    continue;
                }
            }
        }
        let permit = Arc::clone(window)
            .acquire_owned()
            .await
            .expect("the window is never closed");
        let (signal, mut waits) = if let Some(g) = &mut graph {
            g.signals_for(number)
        } else {
            (watch::channel(None).0, Vec::new())
        };
        if let Ok(row) = &item
            && let Some(key) = row_key(shared, row)
            && let Some(previous) = last_of_key.insert(key, signal.subscribe())
        {
            waits.push((previous, None));
        }
        if last_of_key.len() > 4096 {
            last_of_key.retain(|_, w| w.borrow().is_none());
        }
        // A row with nothing to wait for takes its slot here, in input order: taken inside
        // the task, the scheduler's polling order (not the file's) would decide who runs
        // first, and a late first row holds back every results line behind it.
        let slot = if waits.is_empty() {
            Some(
                Arc::clone(&shared.slots)
                    .acquire_owned()
                    .await
                    .expect("slots never close"),
            )
        } else {
            None
        };
        let task_shared = Arc::clone(shared);
        let tx = done_tx.clone();
        let this_seq = seq;
        seq += 1;
        tokio::spawn(async move {
            let finished = run_guarded(task_shared, item, identity, waits, slot).await;
            let _ = signal.send(Some(!finished.result.result.is_failure()));
            let _ = tx.send(Finished {
                seq: this_seq,
                permit: Some(permit),
                ..finished
            });
        });
    }
    Ok(())
}

/// The row's key (`input.key`, else its key columns) and content fingerprint, as the
/// ledger writes them. `seen` counts repeats of the same content.
fn identify(
    shared: &Shared,
    item: &Result<Row, RowError>,
    seen: &mut HashMap<u64, u32>,
) -> Identity {
    let key = match item {
        Ok(row) => match &shared.manifest.input().key {
            Some(_) => row_key(shared, row).unwrap_or_default(),
            None => key_values(&shared.manifest, row).join("\u{1f}"),
        },
        // A line that could not be read is known by its place and text.
        Err(_) => String::new(),
    };
    let fingerprint = crate::results::ledger::row_fingerprint(item, seen);
    Identity {
        key: escape_cell(&key).into_owned(),
        fingerprint,
        keys: match item {
            Ok(row) => key_values(&shared.manifest, row),
            Err(_) => Vec::new(),
        },
    }
}

/// Fault injection for the fault suite, in debug builds only: the row numbered by
/// `RUNNER_FAULT_PANIC_ROW` panics, as a bug would (the code has no known panic left to
/// trigger from a manifest or a file).
#[allow(clippy::manual_assert)] // a panic is the point, not an assertion
fn injected_panic(number: u64) {
    #[cfg(debug_assertions)]
    if std::env::var("RUNNER_FAULT_PANIC_ROW").is_ok_and(|v| v == number.to_string()) {
        panic!("injected panic (RUNNER_FAULT_PANIC_ROW={number})");
    }
    #[cfg(not(debug_assertions))]
    let _ = number;
}

/// Runs a row in a task of its own, so a panic (a bug) fails that row with an internal
/// error instead of losing it and every line after it.
async fn run_guarded(
    shared: Arc<Shared>,
    item: Result<Row, RowError>,
    identity: Identity,
    waits: Vec<Wait>,
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
) -> Finished {
    let (number, line) = match &item {
        Ok(row) => (row.number, row.line),
        Err(e) => (e.number, e.line),
    };
    let sent = Arc::new(Mutex::new(Sent::default()));
    let task = {
        let (shared, identity, sent) = (Arc::clone(&shared), identity.clone(), Arc::clone(&sent));
        tokio::spawn(async move {
            injected_panic(number);
            run_one(&shared, item, identity, waits, slot, &sent).await
        })
    };
    let mut finished = match task.await {
        Ok(finished) => finished,
        Err(e) => {
            let failure = match e.try_into_panic() {
                Ok(panic) => RowFailure::internal(panic.as_ref()),
                Err(e) => RowFailure::internal(&e.to_string()),
            };
            let mut result = RowResult::new(number, line, ResultKind::Failed);
            result.keys = identity.keys;
            result.key = identity.key;
            result.fingerprint = identity.fingerprint;
            failure.apply_to(&mut result);
            Finished::of(result)
        }
    };
    let sent = std::mem::take(
        &mut *sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    // A write that may have been applied is never made to look untouched.
    let kind = finished.result.result;
    if sent.unsafe_applied.is_some() && kind == ResultKind::NotAttempted
        || sent.journaled && finished.result.error_code == FailureCode::Internal.as_str()
    {
        finished.result.result = ResultKind::Unknown;
        "unknown".clone_into(&mut finished.result.outcome);
    } else if let Some(step) = &sent.unsafe_applied
        && matches!(kind, ResultKind::Rejected | ResultKind::Failed)
    {
        // Running the row again would send that write a second time: it is left to the
        // user, like a write whose answer was lost.
        finished.result.result = ResultKind::Unknown;
        finished.result.detail = format!(
            "{}; step `{step}` had already been applied and is not safe to send again: \
             check the row in Gladly, then `--retry-unknown` runs it from its first step",
            finished.result.detail
        );
    } else if sent.applied && finished.result.result == ResultKind::NotAttempted {
        finished.result.result = ResultKind::Failed;
        "failed".clone_into(&mut finished.result.outcome);
    }
    if sent.journaled
        && let Some(journal) = &shared.journal
        && let Err(e) = journal.outcome(shared.columns.record(&finished.result))
    {
        shared.stop.stop(Stop::Ledger(format!(
            "cannot write `{}`: {e}",
            journal.path().display()
        )));
    }
    finished
}

/// The rows of a job with `after`, held in memory, and who waits for whom.
struct Graph {
    rows: std::vec::IntoIter<Result<Row, RowError>>,
    /// Each row's completion signal, created up front so a row can wait for a later one.
    signals: HashMap<u64, DoneSignal>,
    /// Row number → the row it waits for.
    parents: HashMap<u64, u64>,
    /// Rows whose parent chain loops back to them.
    cyclic: HashSet<u64>,
}

impl Graph {
    fn new(shared: &Shared, all: Vec<Result<Row, RowError>>) -> Self {
        let keyed: Vec<(u64, Option<String>, Option<String>)> = all
            .iter()
            .flatten()
            .map(|row| (row.number, row_key(shared, row), row_after(shared, row)))
            .collect();
        let (parents, cyclic) = super::waits(&keyed);
        let signals = all
            .iter()
            .map(|item| match item {
                Ok(row) => row.number,
                Err(e) => e.number,
            })
            .map(|n| (n, watch::channel(None).0))
            .collect();
        Graph {
            rows: all.into_iter(),
            signals,
            parents,
            cyclic,
        }
    }

    /// The row's own signal and the waits it must do first.
    fn signals_for(&mut self, number: u64) -> (DoneSignal, Vec<Wait>) {
        let own = self
            .signals
            .get(&number)
            .cloned()
            .unwrap_or_else(|| watch::channel(None).0);
        let mut waits = Vec::new();
        if self.cyclic.contains(&number) {
            // Waiting would never end: a closed, failed signal fails the row at once.
            let (tx, rx) = watch::channel(Some(false));
            drop(tx);
            waits.push((rx, Some(super::CYCLE.to_owned())));
        } else if let Some(parent) = self.parents.get(&number)
            && let Some(signal) = self.signals.get(parent)
        {
            waits.push((signal.subscribe(), Some(super::parent_failed(*parent))));
        }
        (own, waits)
    }
}

/// Reads the (blocking) row iterator on its own thread into a bounded channel.
fn spawn_reader<I>(rows: I) -> mpsc::Receiver<Result<Row, RowError>>
where
    I: Iterator<Item = Result<Row, RowError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(512);
    tokio::task::spawn_blocking(move || {
        for item in rows {
            if tx.blocking_send(item).is_err() {
                break;
            }
        }
    });
    rx
}

fn row_key(shared: &Shared, row: &Row) -> Option<String> {
    super::key_and_after(&shared.manifest, &shared.base, row).0
}

fn row_after(shared: &Shared, row: &Row) -> Option<String> {
    super::key_and_after(&shared.manifest, &shared.base, row).1
}

/// Waits for the row's dependencies and a slot, then runs it.
async fn run_one(
    shared: &Shared,
    item: Result<Row, RowError>,
    identity: Identity,
    waits: Vec<Wait>,
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    sent: &Mutex<Sent>,
) -> Finished {
    let started = Instant::now();
    let row = match item {
        Ok(row) => row,
        Err(e) => {
            let mut result = RowFailure::unreadable_row(&e);
            result.key = identity.key;
            result.fingerprint = identity.fingerprint;
            return Finished::of(result);
        }
    };
    let mut result = RowResult::new(row.number, row.line, ResultKind::Done);
    result.keys = key_values(&shared.manifest, &row);
    result.key = identity.key;
    result.fingerprint = identity.fingerprint;
    for (mut wait, must_succeed) in waits {
        let waited = wait
            .wait_for(Option::is_some)
            .await
            .map(|state| state.unwrap_or(true));
        // A signal that closed before saying anything belongs to a row that never ran; a
        // dependency cycle gets one closed on purpose.
        let ok = waited.unwrap_or_else(|_| *wait.borrow() == Some(true));
        if let Some(why) = must_succeed.filter(|_| !ok) {
            RowFailure::input(why).apply_to(&mut result);
            return Finished::of(result);
        }
    }
    let _slot = match slot {
        Some(slot) => slot,
        None => Arc::clone(&shared.slots)
            .acquire_owned()
            .await
            .expect("slots never close"),
    };
    tracing::debug!(
        row = row.number,
        waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "row started"
    );
    let mut plan = Vec::new();
    let mut emitted = None;
    if shared.stop.is_stopping() {
        // Rows that had not started when the run was told to stop are left for a resume.
        stopped(&shared.stop, "").apply_to(&mut result);
    } else {
        match run_steps(shared, row, &mut result, &mut plan, sent).await {
            Ok(e) => emitted = e,
            Err(failure) => failure.apply_to(&mut result),
        }
    }
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Finished {
        seq: 0,
        result,
        plan,
        permit: None,
        emitted,
    }
}

/// Runs the steps of one row, filling `result`, then makes its output records when it
/// succeeded. `Err` is a failure before or without a response deciding it (template,
/// payload, network).
async fn run_steps(
    shared: &Shared,
    row: Row,
    result: &mut RowResult,
    plan: &mut Vec<u8>,
    sent: &Mutex<Sent>,
) -> Result<Option<Emitted>, RowFailure> {
    let planning = shared.options.plan_path.is_some();
    let mut walk = Walk::begin(&shared.manifest, &shared.base, row, result, planning)?;
    let outcome = drive(shared, &mut walk, result, plan, sent).await;
    let ctx = walk.finish(result);
    outcome?;
    let Some(emitter) = shared
        .emitter
        .as_ref()
        .filter(|_| result.result == ResultKind::Done)
    else {
        return Ok(None);
    };
    // The row's requests succeeded: a record that cannot be made does not undo them (a
    // failed row would be sent again by `--only-failed`), it is noted on the row.
    match emitter.emit(&ctx.value(), crate::template::RowRef::Map(ctx.row_map())) {
        Ok(emitted) => Ok(Some(emitted)),
        Err(failure) => {
            FailureCode::Output
                .as_str()
                .clone_into(&mut result.error_code);
            result.detail = format!("no output records: {failure}");
            Ok(None)
        }
    }
}

/// Drives the row's walk: each request it names is sent (or, in a dry run, a write is
/// planned), and its answer handed back.
async fn drive<'m>(
    shared: &'m Shared,
    walk: &mut Walk<'m>,
    result: &mut RowResult,
    plan: &mut Vec<u8>,
    sent: &Mutex<Sent>,
) -> Result<(), RowFailure> {
    let planning = shared.options.plan_path.is_some();
    let mut next = walk.next(result)?;
    loop {
        let pending = match next {
            Next::Send(pending) => pending,
            Next::End => return Ok(()),
            Next::Abort => {
                shared.stop.stop(Stop::Aborted {
                    row: result.row,
                    message: result.detail.clone(),
                });
                return Ok(());
            }
        };
        let write = pending.is_write();
        if write
            && let Some(id) = shared
                .duplicates
                .id_of(pending.index, pending.rendered.body.as_ref())
            && let Err(conflict) = shared.duplicates.claim(pending.index, &id, result.row)
        {
            return Err(super::duplicates::failure(
                &shared.manifest,
                &shared.base,
                pending.index,
                &id,
                &conflict,
                &walk.row_value(),
            ));
        }
        if planning {
            let host = shared.client.host();
            let (step, rendered) = (&pending.step.name, &pending.rendered);
            write_plan_line(plan, result.row, step, host, rendered, Some(!write))
                .expect("writing to memory cannot fail");
            {
                let mut planned = shared.stats.planned.lock().expect("stats");
                if planned.len() <= pending.index {
                    planned.resize(pending.index + 1, 0);
                }
                planned[pending.index] += 1;
            }
            if pending.request.operation.rate_class == RateClass::Reports {
                shared.stats.planned_reports.fetch_add(1, Ordering::Relaxed);
            }
            if write {
                next = walk.planned(&pending, result)?;
                continue;
            }
        }
        // A read (a GET, a report `POST`) is always safe to send again.
        let safe = !write || safe_request(&pending.rendered, pending.request.idempotent);
        if write && !planning {
            write_intent(shared, pending.step, result, safe)?;
            sent.lock().expect("sent").journaled = true;
        }
        let (response, attempts, confirmed) = send(shared, result.row, &pending, safe).await?;
        if write && response.status < 300 {
            let mut sent = sent.lock().expect("sent");
            sent.applied = true;
            if !safe && sent.unsafe_applied.is_none() {
                sent.unsafe_applied = Some(pending.step.name.clone());
            }
        }
        next = walk.answered(&pending, &response, attempts, confirmed, result)?;
    }
}

/// What a row's sends tell the run: counts, events, the API's health.
struct RowWatch<'a> {
    shared: &'a Shared,
    row: u64,
    step: &'a str,
}

impl Watch for RowWatch<'_> {
    fn halted(&self) -> bool {
        self.shared.stop.halts_sending()
    }

    fn attempted(&self, answer: Result<&Response, &SendError>, latency: Duration) {
        tracing::debug!(
            row = self.row,
            step = %self.step,
            status = answer.map_or(0, |r| r.status),
            latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            "response"
        );
        self.shared.stats.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(r) = answer
            && r.status < 500
        {
            let mut health = self.shared.health.lock().expect("health");
            health.transit_rows = 0;
            health.last_answer = Instant::now();
        }
    }

    fn retrying(&self, attempt: u32, reason: &str, after: Duration) {
        self.shared.stats.retries.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(row = self.row, step = %self.step, attempt, %reason, retry_in_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX), "retrying");
        self.shared.listener.event(&Event::Retrying {
            row: self.row,
            step: self.step.to_owned(),
            attempt,
            reason: reason.to_owned(),
        });
    }

    fn throttled(&self, wait: Duration) {
        self.shared.stats.throttled.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            row = self.row,
            status = 429,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "throttled"
        );
        self.shared.listener.event(&Event::Throttled { wait });
    }
}

/// Sends a row's request through [`send::exchange`]. Returns the response to judge, the
/// attempts made, and whether a 409 on a retry confirmed an earlier attempt's create.
async fn send(
    shared: &Shared,
    row: u64,
    pending: &Pending<'_>,
    safe: bool,
) -> Result<(Response, u32, bool), RowFailure> {
    let step = &pending.step.name;
    let watch = RowWatch { shared, row, step };
    let outgoing = Outgoing {
        request: &pending.rendered,
        class: pending.request.operation.rate_class,
        safe,
        read: Read::Whole,
    };
    let exchange = send::exchange(
        &shared.client,
        &shared.limiter,
        &shared.options.retry,
        outgoing,
        &watch,
    )
    .await;
    let attempts = exchange.attempts;
    let attempt = exchange.answer.as_ref().map(|a| match a {
        Answer::Whole(r) => r,
        Answer::Streaming(_) => unreachable!("rows read answers whole"),
    });
    let attempt = send::attempt_of(attempt);
    let failure = |code: FailureCode, detail: String| RowFailure {
        step: step.clone(),
        code,
        detail,
        span: None,
    };
    match exchange.verdict {
        Verdict::Accept => {
            let response = exchange
                .answer
                .ok()
                .and_then(Answer::whole)
                .expect("accepted attempts have a response");
            // A create sent again (a retry, or a row the ledger says was in flight when
            // an earlier run ended) finding its own id taken: the first one landed.
            let again = attempts > 1 || shared.options.continued.is_some();
            let confirmed = again && has_client_id(&pending.rendered) && is_id_taken(&response);
            if response.status >= 500 {
                note_transit_failure(shared, &attempt);
            }
            Ok((response, attempts, confirmed))
        }
        Verdict::Halted => Err(stopped(&shared.stop, step)),
        Verdict::Unauthorized(status) => {
            shared.stop.stop(Stop::Fatal(format!(
                "Gladly answered {status} ({}): check GLADLY_USERNAME and GLADLY_API_TOKEN \
                 and that the user has the API User permission",
                if status == 401 {
                    "not authenticated"
                } else {
                    "forbidden"
                }
            )));
            Err(stopped(&shared.stop, step))
        }
        Verdict::GaveUp(reason) => {
            note_transit_failure(shared, &attempt);
            Err(failure(
                FailureCode::Network,
                format!("gave up after {attempts} attempts: {reason}"),
            ))
        }
        Verdict::Unknown(reason) => {
            note_transit_failure(shared, &attempt);
            Err(failure(
                FailureCode::Unknown,
                format!(
                    "outcome unknown — check before re-running ({reason}; the request is \
                     not safe to repeat: give it a client id or mark the step idempotent)"
                ),
            ))
        }
    }
}

/// A row cut short because the run stopped: it is recorded as not attempted (or, when a
/// write of it was applied, as failed or unknown; see [`run_guarded`]).
fn stopped(stop: &StopHandle, step: &str) -> RowFailure {
    let why = match stop.reason() {
        Some(Stop::Interrupted) => "the run was interrupted",
        Some(Stop::Ledger(_)) => "the ledger could not be written",
        Some(Stop::Outage(_)) => "the API stopped answering",
        Some(Stop::Aborted { .. }) => "a rule aborted the run",
        Some(Stop::Fatal(_)) | None => "the run stopped",
    };
    RowFailure {
        step: step.to_owned(),
        code: FailureCode::Stopped,
        detail: format!("{why} before this row finished: `--resume` runs it"),
        span: None,
    }
}

/// Puts the row's intent in the journal before a write is sent: the line it keeps if the
/// run dies before the answer. If the journal cannot be written, nothing is sent.
fn write_intent(
    shared: &Shared,
    step: &Step,
    result: &RowResult,
    safe: bool,
) -> Result<(), RowFailure> {
    let Some(journal) = &shared.journal else {
        return Ok(());
    };
    if shared.stop.halts_sending() {
        return Err(stopped(&shared.stop, &step.name));
    }
    let mut intent = result.clone();
    let failure = RowFailure {
        step: step.name.clone(),
        code: if safe {
            FailureCode::Network
        } else {
            FailureCode::Unknown
        },
        detail: if safe {
            "in flight when the run ended; safe to send again: `--resume` sends it".to_owned()
        } else {
            "sent when the run ended and no answer was recorded: check in Gladly whether it \
             was applied; `--retry-unknown` sends it again"
                .to_owned()
        },
        span: None,
    };
    failure.apply_to(&mut intent);
    journal.intent(shared.columns.record(&intent)).map_err(|e| {
        shared.stop.stop(Stop::Ledger(format!(
            "cannot write `{}`: {e}",
            journal.path().display()
        )));
        stopped(&shared.stop, &step.name)
    })
}

/// A row failed in transit after every retry: when rows keep failing so, or nothing has
/// answered for a while, the API is down and the run stops instead of failing every row.
fn note_transit_failure(shared: &Shared, attempt: &Attempt) {
    let transport = match attempt {
        Attempt::Status { status, .. } => *status >= 500,
        Attempt::Timeout | Attempt::Connection | Attempt::NotSent => true,
    };
    if !transport {
        return;
    }
    let mut health = shared.health.lock().expect("health");
    health.transit_rows += 1;
    let silent = health.last_answer.elapsed();
    if health.transit_rows >= OUTAGE_ROWS || silent >= OUTAGE_SILENCE {
        shared.stop.stop(Stop::Outage(format!(
            "{} rows in a row failed in transit after every retry, and nothing has answered \
             for {} s",
            health.transit_rows,
            silent.as_secs()
        )));
    }
}

/// Fetches every lookup once, before the first row; a failure stops the run.
///
/// # Errors
/// When a lookup cannot be fetched or does not answer a list.
pub(super) async fn fetch_lookups(
    manifest: &Manifest,
    client: &Client,
    limiter: &Limiter,
    options: &RunOptions,
    stop: &StopHandle,
) -> Result<Value, ExecError> {
    let mut tables = BTreeMap::new();
    let base = BaseContext::new(
        manifest,
        &options.params,
        Some(Value::from(BTreeMap::<String, Value>::new())),
    );
    for lookup in manifest.lookups() {
        if let Some(when) = &lookup.when {
            let ctx = RowContext::new(&base, serde_json::Map::new()).value();
            let wanted = when.is_true(&ctx).map_err(|e| {
                ExecError::Lookup(format!("lookup `{}` when: {}", lookup.name, e.reason()))
            })?;
            if !wanted {
                tracing::info!(lookup = %lookup.name, "lookup not needed (`when` is false)");
                tables.insert(
                    lookup.name.clone(),
                    Value::from(BTreeMap::<String, Value>::new()),
                );
                continue;
            }
        }
        let path = match &lookup.export {
            Some((job, file)) => {
                let ctx = RowContext::new(&base, serde_json::Map::new()).value();
                super::fetch::export_path(job, file, &ctx, Some(client), limiter, &options.retry)
                    .await?
            }
            None => lookup.path.clone(),
        };
        let rendered = RenderedRequest {
            method: Method::Get,
            path_and_query: path,
            headers: Vec::new(),
            body: None,
        };
        // An export file can be large: read as it arrives, with no limit on the whole transfer.
        let read = if lookup.export.is_some() {
            Read::Large
        } else {
            Read::Whole
        };
        let response = send::read(client, limiter, &options.retry, &rendered, read).await;
        let response = match response {
            Ok(r) if r.status < 300 => r,
            Ok(r) => {
                if matches!(r.status, 401 | 403) {
                    stop.stop(Stop::Fatal(format!(
                        "Gladly answered {} to lookup `{}`",
                        r.status, lookup.name
                    )));
                }
                let (_, detail) = gladly_error(&r);
                return Err(ExecError::Lookup(format!(
                    "lookup `{}` (GET {}) answered {}: {detail}",
                    lookup.name, rendered.path_and_query, r.status
                )));
            }
            Err(e) => {
                return Err(ExecError::Lookup(format!(
                    "lookup `{}` (GET {}) failed: {e}",
                    lookup.name, rendered.path_and_query
                )));
            }
        };
        let serde_json::Value::Array(items) = &response.body else {
            return Err(ExecError::Lookup(format!(
                "lookup `{}` (GET {}) did not answer a list",
                lookup.name, rendered.path_and_query
            )));
        };
        let mut table = BTreeMap::new();
        for item in items {
            let mut ctx = base.clone_entries();
            ctx.insert("item".to_owned(), template::from_json(item));
            let key = lookup
                .key
                .render(&Value::from(ctx))
                .map_err(|e| ExecError::Lookup(format!("lookup `{}` key: {e}", lookup.name)))?;
            table
                .entry(key)
                .or_insert_with(|| template::from_json(item));
        }
        tracing::info!(lookup = %lookup.name, items = table.len(), "lookup loaded");
        tables.insert(lookup.name.clone(), Value::from(table));
    }
    Ok(Value::from(tables))
}

fn open_writer(manifest: &Manifest, options: &RunOptions) -> Result<ResultsWriter, ExecError> {
    let captures = capture_columns(manifest);
    let columns = Columns::new(&manifest.results().columns, &captures);
    let path = &options.results_path;
    // A continued ledger keeps its lines (compacted when the run ends); everything else
    // starts its file (a new ledger was checked free by `ledger::open`).
    let writer = if options.continued.is_some() {
        ResultsWriter::append(path, columns)
    } else {
        ResultsWriter::create(path, columns)
    };
    writer.map_err(|e| ExecError::Output(format!("cannot write `{}`: {e}", path.display())))
}

/// Writes finished rows in dispatch (input) order, one flushed line each.
async fn write_results(
    mut finished: mpsc::UnboundedReceiver<Finished>,
    mut writer: ResultsWriter,
    mut plan: Option<std::io::BufWriter<std::fs::File>>,
    listener: Arc<dyn Listener>,
    mut outputs: Option<(Arc<Emitter>, Sinks)>,
    stop: Arc<StopHandle>,
) -> Result<RunSummary, ExecError> {
    let mut pending: BTreeMap<u64, Finished> = BTreeMap::new();
    let mut next = 0;
    let mut summary = RunSummary::default();
    // Once a line cannot be written, nothing more is sent (the stop) and nothing more is
    // written here; the rows still in flight end and go to the journal.
    let mut broken = false;
    while let Some(done) = finished.recv().await {
        pending.insert(done.seq, done);
        while let Some(done) = pending.remove(&next) {
            next += 1;
            if broken {
                continue;
            }
            let written = (|| -> Result<(), String> {
                if let Some(plan) = &mut plan {
                    plan.write_all(&done.plan).map_err(|e| e.to_string())?;
                    plan.flush().map_err(|e| e.to_string())?;
                }
                if let (Some((emitter, sinks)), Some(emitted)) = (&mut outputs, &done.emitted) {
                    sinks.write(emitted, emitter)?;
                    sinks.flush()?;
                }
                writer.write(&done.result).map_err(|e| e.to_string())
            })();
            if let Err(e) = written {
                broken = true;
                stop.stop(Stop::Ledger(format!("cannot write the results: {e}")));
                continue;
            }
            if done.result.result.is_failure() && summary.failures.len() < 10 {
                let r = &done.result;
                let what = if r.step.is_empty() {
                    r.detail.clone()
                } else {
                    format!("step `{}`: {}", r.step, r.detail)
                };
                summary.failures.push((r.row, r.line, what));
            }
            summary.rows += 1;
            *summary.by_result.entry(done.result.result).or_default() += 1;
            *summary
                .by_outcome
                .entry(done.result.outcome.clone())
                .or_default() += 1;
            listener.event(&Event::RowFinished {
                row: done.result.row,
                result: done.result.result,
                outcome: done.result.outcome.clone(),
            });
            drop(done.permit);
        }
    }
    if let Some((emitter, sinks)) = outputs.filter(|_| !broken) {
        // Aggregates over part of the rows would look complete: a stopped run leaves them out.
        let complete = stop.reason().is_none();
        summary.written = sinks
            .finish(&emitter, complete)
            .map_err(ExecError::Output)?
            .into_iter()
            .map(|w| (w.path, w.records))
            .collect();
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::client::Credentials;
    use crate::engine::event::Silent;
    use crate::sandbox::{self, SandboxOptions};

    /// Runs `manifest` (YAML) over `csv` against a fresh sandbox; returns the results CSV.
    async fn run_against_sandbox(manifest: &str, csv: &str) -> String {
        let org = sandbox::start(SandboxOptions::unlimited()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.yaml");
        let manifest = Manifest::parse(&path, manifest).unwrap().manifest;
        let rows = crate::source::from_reader(
            "rows.csv",
            Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
            crate::source::Format::Csv { delimiter: b',' },
        )
        .unwrap();
        let credentials = Credentials::new(&org.base_url(), org.username(), org.token()).unwrap();
        let client = Client::new(credentials, Duration::from_secs(10)).unwrap();
        let results_path = dir.path().join("out.csv");
        let options = RunOptions::new(BTreeMap::new(), results_path.clone());
        run(
            Arc::new(manifest),
            rows,
            client,
            options,
            Arc::new(Silent),
            Arc::new(StopHandle::default()),
        )
        .await
        .unwrap();
        org.shutdown().await;
        std::fs::read_to_string(results_path).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_ended_early_keep_their_captures_and_a_plain_detail() {
        let results = run_against_sandbox(
            r#"
version: 1
name: t
input: { csv: rows.csv, require: [email] }
steps:
  - name: find
    operation: findCustomers
    query: { email: "{{ row.email }}" }
    capture:
      id: "{{ response.body[0].id if response.body else '' }}"
      name: "{{ response.body[0].name }}"
  - name: stop
    when: "{{ find.id }}"
    action: skip
    message: found
"#,
            "email\nada@example.com\nnobody@example.com\n",
        )
        .await;
        let refused = run_against_sandbox(
            r#"
version: 1
name: t
input: { csv: rows.csv, require: [id] }
steps:
  - name: delete
    operation: deleteCustomer
    params: { customerId: "{{ row.id }}" }
    on:
      400: { action: fail, outcome: refused, message: "no: {{ response.body.errors[0].detail }}" }
"#,
            "id\nGfkFIKfgRoQ85jUsrlJqIQ\n",
        )
        .await;
        assert!(
            refused
                .lines()
                .nth(1)
                .unwrap()
                .contains(",rejected,refused,delete,400,1,")
                && refused.contains(",invalid_state,no: customer has an OPEN"),
            "Gladly's code is kept when a rule words the detail: {refused}"
        );
        let lines: Vec<&str> = results.lines().collect();
        assert!(lines[0].contains(",detail,find.id,find.name"), "{results}");
        assert!(
            lines[1].contains(",skipped,skipped,stop,200,")
                && lines[1].contains(",found,GfkFIKfgRoQ85jUsrlJqIQ,Ada Lovelace"),
            "the skipped row records what `find` captured: {results}"
        );
        assert!(
            lines[2].contains(",rejected,rejected,find,200,1,")
                && lines[2].contains(",capture,capture `name`: "),
            "the step is in its column, not repeated in the detail: {results}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_row_waiting_for_a_failed_row_or_a_cycle_says_which() {
        let results = run_against_sandbox(
            r#"
version: 1
name: t
input: { csv: rows.csv, require: [id], key: "{{ row.id }}", after: "{{ row.parentId }}" }
steps:
  - name: create
    operation: addTopic
    body: { id: "{{ row.id }}", name: "{{ row.name }}", parentId: "{{ row.parentId or omit }}" }
"#,
            "id,name,parentId\nchild1,Child,taken1\ntaken1,Returns,\nloop1,Loop 1,loop2\nloop2,Loop 2,loop1\n",
        )
        .await;
        let lines: Vec<&str> = results.lines().collect();
        assert!(
            lines[1].contains(
                ",input,\"row 2, which this row waits for (`input.after`), did not succeed\""
            ),
            "{results}"
        );
        assert!(
            lines[2].contains(",rejected,rejected,create,409,"),
            "{results}"
        );
        for line in &lines[3..] {
            assert!(line.contains("wait for each other in a cycle"), "{results}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_request_is_not_labelled_with_the_steps_success_outcome() {
        let results = run_against_sandbox(
            r#"
version: 1
name: t
input: { csv: rows.csv, require: [id] }
steps:
  - name: redact
    operation: redactContent
    params: { itemId: "{{ row.id }}" }
    outcome: redacted
    message: never shown for a failure
"#,
            "id
qLtrdkwSjP_W5OjOAUFQwQ
AD5W0T8JGjH7ER0hRbrC-A
NoSuchItem
",
        )
        .await;
        let lines: Vec<&str> = results.lines().collect();
        assert!(lines[1].contains(",done,redacted,redact,201,"), "{results}");
        assert!(
            lines[2].contains(",rejected,rejected,redact,400,1,")
                && lines[2]
                    .contains(",invalid,id: items of type [CONVERSATION_NOTE] cannot be redacted"),
            "a refused note is not `redacted`: {results}"
        );
        assert!(
            lines[3].contains(",rejected,rejected,redact,404,1,"),
            "{results}"
        );
    }
}
